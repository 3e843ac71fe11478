// Built-in Azure role definitions this stack grants, and the one way it grants them.
import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";

/**
 * Built-in role definition ids: the same GUIDs in every tenant. Owner, Contributor and Virtual
 * Machine Contributor are deliberately absent: this stack never grants them.
 */
export const BUILT_IN_ROLES = {
    storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
    /** Reads metadata and public key material; never secret values. */
    keyVaultReader: "21090545-7ca7-4776-b22c-e363652d74d2",
    networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
    managedIdentityOperator: "f1a07417-d97a-45cb-824c-7a7467783830",
    /** Encrypt and decrypt with a key (data plane). */
    keyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
    /** Manages a vault (management plane), with no data access in an RBAC vault. */
    keyVaultContributor: "f25e0fa2-a7c8-4377-a976-54943a77a395",
    aksRbacClusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
} as const;
export type BuiltInRole = keyof typeof BUILT_IN_ROLES;

/** The subscription-qualified id ARM expects in a role assignment. Exported for testing. */
export function roleDefinitionId(subscriptionId: string, role: BuiltInRole): string {
    return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLES[role]}`;
}

export interface RoleGrant {
    /** Object id of the principal: a managed identity's service principal unless `principalType` says otherwise. */
    principalId: pulumi.Input<string>;
    /** Defaults to `ServicePrincipal`, which every managed identity is. */
    principalType?: "User" | "ServicePrincipal" | "Group";
    /** A built-in role, or the ARM id of a custom role definition. */
    role: BuiltInRole | { definitionId: pulumi.Input<string> };
    /** The narrowest ARM id that carries the access: a container, a secret, an identity. */
    scope: pulumi.Input<string>;
    subscriptionId: pulumi.Input<string>;
    /** Why the grant exists, shown in the Azure portal. */
    description: string;
}

/**
 * Grants a built-in or custom role. `principalType` is always set: without it, ARM may not yet see a
 * just-created identity and answers PrincipalNotFound.
 */
export function grantRole(name: string, grant: RoleGrant, opts: pulumi.CustomResourceOptions): authorization.RoleAssignment {
    const role = grant.role;
    const definitionId = typeof role === "string" ? pulumi.output(grant.subscriptionId).apply((sub) => roleDefinitionId(sub, role)) : role.definitionId;
    return new authorization.RoleAssignment(
        name,
        {
            principalId: grant.principalId,
            principalType: grant.principalType ?? authorization.PrincipalType.ServicePrincipal,
            roleDefinitionId: definitionId,
            scope: grant.scope,
            description: grant.description,
        },
        opts,
    );
}
