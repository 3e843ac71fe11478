// Role assignment policies: who a grant is for, which roles are never granted, how wide a scope may
// be, and that data-plane roles name a single container, secret, key or certificate.
import * as authorization from "@pulumi/azure-native/authorization";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { DATA_ROLES, PRIVILEGED_ROLES, dataItemOf, roleGuid, scopeLevel } from "../lib/arm";

/** Every assignment says what kind of principal it grants to. */
export const roleAssignmentPrincipalType: ResourceValidationPolicy = {
    name: "role-assignment-principal-type",
    description:
        "Role assignments set principalType (User, Group or ServicePrincipal): ARM then skips a directory lookup that fails with PrincipalNotFound for a just-created managed identity, and reviewers see who is granted. No direct Checkov equivalent; Microsoft cloud security benchmark PA-7.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, _args, reportViolation) => {
        if ((assignment.principalType ?? "") === "") {
            reportViolation("Set principalType.");
        }
    }),
};

/** Owner, Contributor and User Access Administrator are never granted. */
export const roleAssignmentNoPrivilegedRoles: ResourceValidationPolicy = {
    name: "role-assignment-no-privileged-roles",
    description:
        "Role assignments never grant Owner, Contributor or User Access Administrator; each grant names the narrow built-in role its holder needs. No direct Checkov equivalent (CKV_AZURE_39 covers custom owner roles); Azure security baseline for AKS / Microsoft cloud security benchmark PA-1 and PA-7.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, _args, reportViolation) => {
        const role = PRIVILEGED_ROLES.get(roleGuid(assignment.roleDefinitionId ?? ""));
        if (role !== undefined) {
            reportViolation(`The assignment grants ${role}; grant a narrower built-in role.`);
        }
    }),
};

/** Virtual Machine Contributor's role definition: the same GUID in every tenant. */
const VIRTUAL_MACHINE_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c";

/** Nobody gets Virtual Machine Contributor: run-command and extensions on every node. */
export const roleAssignmentNoVirtualMachineContributor: ResourceValidationPolicy = {
    name: "role-assignment-no-vm-contributor",
    description:
        "Role assignments never grant Virtual Machine Contributor, which includes run-command, extensions, disks and network interfaces on every VM and scale set in its scope: whoever holds it on the node resource group runs code as root on every node. aad-pod-identity's MIC gets a custom role of the scale-set read and write it uses instead. No direct Checkov equivalent; Microsoft cloud security benchmark PA-7 (least privilege).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, _args, reportViolation) => {
        if (roleGuid(assignment.roleDefinitionId ?? "") === VIRTUAL_MACHINE_CONTRIBUTOR) {
            reportViolation("The assignment grants Virtual Machine Contributor; grant a custom role of the actions the holder uses.");
        }
    }),
};

/** No grant reaches a whole subscription, management group or tenant. */
export const roleAssignmentNoBroadScope: ResourceValidationPolicy = {
    name: "role-assignment-no-broad-scope",
    description: "Role assignments are never scoped to the tenant root, a management group or a subscription. No direct Checkov equivalent; Microsoft cloud security benchmark PA-7 (least privilege).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, _args, reportViolation) => {
        const level = scopeLevel(assignment.scope ?? "");
        if (level === "root" || level === "managementGroup" || level === "subscription") {
            reportViolation(`The assignment is scoped to a ${level} (${assignment.scope || "/"}); scope it to the resource that carries the access.`);
        }
    }),
};

/** Data-plane roles are granted on one container, secret, key or certificate. */
export const roleAssignmentDataRoleItemScope: ResourceValidationPolicy = {
    name: "role-assignment-data-role-item-scope",
    description:
        "Blob and Key Vault data-plane roles (Storage Blob Data *, Key Vault Secrets/Crypto/Certificate *, Key Vault Reader) are scoped to a single blob container, secret, key or certificate, never to an account, a vault or anything wider. No direct Checkov equivalent; Microsoft cloud security benchmark PA-7 and DP-6.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, _args, reportViolation) => {
        const role = DATA_ROLES.get(roleGuid(assignment.roleDefinitionId ?? ""));
        if (role === undefined) {
            return;
        }
        const item = dataItemOf(assignment.scope ?? "");
        if (item === undefined || !role.items.includes(item)) {
            reportViolation(`${role.name} is scoped to ${assignment.scope}; scope it to a single ${role.items.join(" or ")}.`);
        }
    }),
};

/** Grants name a resource, not a whole resource group. */
export const roleAssignmentResourceScope: ResourceValidationPolicy = {
    name: "role-assignment-resource-scope",
    description:
        "Role assignments are scoped to a single resource rather than a resource group. Advisory: with identityMode=podIdentityOss the open-source aad-pod-identity's MIC needs Virtual Machine Contributor on the AKS node resource group to assign identities to the node scale sets, and the stack grants it there deliberately. No direct Checkov equivalent; Microsoft cloud security benchmark PA-7.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, _args, reportViolation) => {
        if (scopeLevel(assignment.scope ?? "") === "resourceGroup") {
            reportViolation(`The assignment is scoped to the resource group ${assignment.scope}.`);
        }
    }),
};

/** The role assignment policies of the pack. */
export const rolePolicies = [
    roleAssignmentPrincipalType,
    roleAssignmentNoPrivilegedRoles,
    roleAssignmentNoVirtualMachineContributor,
    roleAssignmentNoBroadScope,
    roleAssignmentDataRoleItemScope,
    roleAssignmentResourceScope,
];
