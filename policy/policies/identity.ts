// Workload identity policies: how the Secrets Store CSI driver authenticates, what a Workload ID
// federated credential trusts, where pod identities are bound (the add-on's entries, the
// open-source aad-pod-identity's objects and chart) and that the binding label is guarded.
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as k8s from "@pulumi/kubernetes";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { ofType, refersTo } from "../lib/graph";
import { isReservedNamespace, namespaceOf, workloadPods } from "../lib/k8s";
import { isAadPodIdentityChart, runsPodIdentity } from "../lib/modes";
import { TYPES } from "../lib/types";
import { field, isDict, list, sameText, strings, text } from "../lib/values";

/** The audience Microsoft Entra ID accepts for Workload ID token exchange. */
const WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange";
/** A Kubernetes service account subject: `system:serviceaccount:<namespace>:<name>`, no wildcards. */
const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;
/** ARM id of a user-assigned managed identity. */
const USER_ASSIGNED_IDENTITY_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;
/** The label pods carry to claim a pod identity. */
const BINDING_LABEL = "aadpodidbinding";

/** The CSI driver fetches Key Vault objects as the pod, never as the node. */
export const secretProviderClassPodIdentity: ResourceValidationPolicy = {
    name: "secret-provider-class-pod-identity",
    description:
        'Azure SecretProviderClasses authenticate as the mounting pod (usePodIdentity "true", or a Workload ID clientID) and never with the node\'s kubelet identity (useVMManagedIdentity "true" or userAssignedIdentityID), which every pod on the node could borrow; they name their vault and tenant (tenantID; tenantId is the deprecated spelling, Azure/secrets-store-csi-driver-provider-azure pkg/provider/types). No direct Checkov equivalent; Azure security baseline for AKS IM-3.',
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== TYPES.secretProviderClass) {
            args.notApplicable("not a SecretProviderClass");
        }
        if (text(field(args.props, "spec", "provider")) !== "azure") {
            args.notApplicable("not an Azure Key Vault SecretProviderClass");
        }
        const parameters = field(args.props, "spec", "parameters");
        const parameter = (name: string): string => text(field(parameters, name)) ?? "";
        if (sameText(parameter("useVMManagedIdentity"), "true") || parameter("userAssignedIdentityID") !== "") {
            reportViolation("The class authenticates with the node's managed identity; use the pod's identity instead.");
        }
        if (!sameText(parameter("usePodIdentity"), "true") && parameter("clientID") === "") {
            reportViolation('Set usePodIdentity: "true" (pod identity) or clientID (Workload ID).');
        }
        for (const name of ["keyvaultName", "tenantID"]) {
            if (parameter(name) === "") {
                reportViolation(`Set spec.parameters.${name}.`);
            }
        }
        if (parameter("tenantId") !== "") {
            reportViolation("spec.parameters.tenantId is the deprecated spelling; use tenantID.");
        }
    },
};

/** A federated credential trusts exactly one service account of the cluster's issuer. */
export const federatedCredentialScoped: ResourceValidationPolicy = {
    name: "federated-credential-scoped",
    description:
        "Workload ID federated identity credentials trust one service account (subject system:serviceaccount:<namespace>:<name>, no wildcard, not in default or kube-*), only the token-exchange audience api://AzureADTokenExchange, and an HTTPS issuer. No direct Checkov equivalent (CKV_AZURE_249 applies the same idea to GitHub Actions subjects); Azure security baseline for AKS IM-3.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(managedidentity.FederatedIdentityCredential, (credential, _args, reportViolation) => {
        const audiences = credential.audiences ?? [];
        if (audiences.length !== 1 || audiences[0] !== WORKLOAD_IDENTITY_AUDIENCE) {
            reportViolation(`audiences is ${JSON.stringify(audiences)}; it must be exactly ["${WORKLOAD_IDENTITY_AUDIENCE}"].`);
        }
        const subject = SERVICE_ACCOUNT_SUBJECT.exec(credential.subject ?? "");
        if (subject === null) {
            reportViolation(`subject ${credential.subject ?? "(unset)"} does not name a single service account.`);
        } else if (isReservedNamespace(subject[1])) {
            reportViolation(`subject trusts a service account in namespace ${subject[1]}.`);
        }
        if (!/^https:\/\//.test(credential.issuer ?? "")) {
            reportViolation(`issuer ${credential.issuer ?? "(unset)"} is not an HTTPS URL.`);
        }
    }),
};

/** Add-on pod identities bind a managed identity to one workload namespace and selector. */
export const podIdentityAttachmentScoped: ResourceValidationPolicy = {
    name: "pod-identity-attachment-scoped",
    description:
        "Each pod identity attached to the AKS add-on (an entry of the stack's PodIdentities dynamic resource) binds a user-assigned managed identity to a workload namespace (not default or kube-*) and a non-empty binding selector. No direct Checkov equivalent; Azure security baseline for AKS IM-3.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== TYPES.podIdentities) {
            args.notApplicable("not the add-on's pod identities");
        }
        const identities = field(args.props, "identities");
        for (const [key, entry] of Object.entries(isDict(identities) ? identities : {})) {
            const namespace = text(field(entry, "namespace")) ?? "";
            if (namespace === "" || isReservedNamespace(namespace)) {
                reportViolation(`Pod identity ${key} is bound in namespace ${namespace || "(unset)"}.`);
            }
            if ((text(field(entry, "bindingSelector")) ?? "") === "") {
                reportViolation(`Set the bindingSelector of pod identity ${key}.`);
            }
            if (!USER_ASSIGNED_IDENTITY_ID.test(text(field(entry, "identity", "resourceId")) ?? "")) {
                reportViolation(`The identity.resourceId of pod identity ${key} is not a user-assigned managed identity.`);
            }
        }
    },
};

/** The open-source aad-pod-identity's objects live in the workload's namespace. */
export const aadPodIdentityObjectsNamespaced: ResourceValidationPolicy = {
    name: "aad-pod-identity-objects-namespaced",
    description:
        "AzureIdentity and AzureIdentityBinding objects live in a workload namespace (not default or kube-*) and bindings name a non-empty selector; with forceNamespaced, MIC honours them only for pods of that namespace. No direct Checkov equivalent; Azure security baseline for AKS IM-3.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== TYPES.azureIdentity && args.type !== TYPES.azureIdentityBinding) {
            args.notApplicable("not an aad-pod-identity object");
        }
        const namespace = text(field(args.props, "metadata", "namespace")) ?? "";
        if (namespace === "" || isReservedNamespace(namespace)) {
            reportViolation(`The object is in namespace ${namespace || "(unset)"}.`);
        }
        if (args.type === TYPES.azureIdentityBinding && (text(field(args.props, "spec", "selector")) ?? "") === "") {
            reportViolation("Set spec.selector.");
        }
    },
};

/** The aad-pod-identity chart matches identities to pods of their own namespace only. */
export const aadPodIdentityForceNamespaced: ResourceValidationPolicy = {
    name: "aad-pod-identity-force-namespaced",
    description:
        'The open-source aad-pod-identity chart is installed with forceNamespaced "true", so an AzureIdentityBinding in one namespace can never hand its identity to a pod in another. No direct Checkov equivalent; Azure security baseline for AKS IM-3.',
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.helm.v3.Release, (release, args, reportViolation) => {
        if (!isAadPodIdentityChart(release.chart)) {
            args.notApplicable("not the aad-pod-identity chart");
        }
        const forced = field(release.values, "forceNamespaced");
        if (forced !== true && forced !== "true") {
            reportViolation('Set values.forceNamespaced to "true".');
        }
    }),
};

/** The admission policies that deny: failurePolicy Fail (the default), and bound with validationActions Deny. */
function denyingPolicies(resources: readonly PolicyResource[]): PolicyResource[] {
    const bindings = ofType(resources, TYPES.validatingAdmissionPolicyBinding).filter((b) => strings(field(b.props, "spec", "validationActions")).includes("Deny"));
    return ofType(resources, TYPES.validatingAdmissionPolicy).filter((policy) => {
        const failClosed = (text(field(policy.props, "spec", "failurePolicy")) ?? "Fail") === "Fail";
        const name = text(field(policy.props, "metadata", "name"));
        const bound = bindings.some((b) => refersTo(b, "spec", policy, () => name !== undefined && text(field(b.props, "spec", "policyName")) === name));
        return failClosed && bound;
    });
}

/** The denying admission policies that guard one binding selector. */
function guardsFor(resources: readonly PolicyResource[], selector: string): PolicyResource[] {
    const literal = `'${selector.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
    return denyingPolicies(resources).filter((policy) =>
        list(field(policy.props, "spec", "validations")).some((v) => {
            const expression = text(field(v, "expression")) ?? "";
            return expression.includes(BINDING_LABEL) && expression.includes(literal);
        }),
    );
}

/** Only the workload's own pods may carry its binding label. */
export const aadPodIdBindingLabelGuarded: StackValidationPolicy = {
    name: "aadpodidbinding-label-guarded",
    description:
        "Wherever the stack's pods carry an aadpodidbinding label, a ValidatingAdmissionPolicy (failurePolicy Fail) that checks that selector is bound with validationActions Deny, so no other pod can claim the identity by setting the label (Azure/aad-pod-identity#106). No direct Checkov equivalent; Azure security baseline for AKS IM-3.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const resource of args.resources) {
            const pods = workloadPods(resource.type, resource.props);
            const selector = pods?.labels[BINDING_LABEL];
            if (selector !== undefined && guardsFor(args.resources, selector).length === 0) {
                reportViolation(`No Deny-bound ValidatingAdmissionPolicy guards the label ${BINDING_LABEL}=${selector} (pods in namespace ${namespaceOf(resource.props)}).`, resource.urn);
            }
        }
    },
};

/** The aad-pod-identity API group, whose objects decide which pod gets which identity. */
const AAD_POD_IDENTITY_GROUP = "aadpodidentity.k8s.io";
/** Its writable kinds, which a guard must cover (or cover with `*`). */
const AAD_POD_IDENTITY_KINDS = ["azureidentities", "azureidentitybindings", "azurepodidentityexceptions", "azureassignedidentities"];

/** True when a policy's rules cover create and update of every writable kind of the group. */
function coversAadPodIdentityWrites(policy: PolicyResource): boolean {
    const rules = list(field(policy.props, "spec", "matchConstraints", "resourceRules"));
    return AAD_POD_IDENTITY_KINDS.every((kind) =>
        ["CREATE", "UPDATE"].every((operation) =>
            rules.some((rule) => {
                const groups = strings(field(rule, "apiGroups"));
                const operations = strings(field(rule, "operations"));
                const kinds = strings(field(rule, "resources"));
                return (
                    (groups.includes(AAD_POD_IDENTITY_GROUP) || groups.includes("*")) && (operations.includes(operation) || operations.includes("*")) && (kinds.includes(kind) || kinds.includes("*"))
                );
            }),
        ),
    );
}

/** Only the stack's own aad-pod-identity objects are admitted, whoever writes them. */
export const aadPodIdentityObjectsGuarded: StackValidationPolicy = {
    name: "aadpodidentity-objects-guarded",
    description:
        "Wherever pod identity runs (the AKS add-on or the open-source chart), a ValidatingAdmissionPolicy (failurePolicy Fail) bound with validationActions Deny covers create and update of every kind of aadpodidentity.k8s.io (AzureIdentity, AzureIdentityBinding, AzurePodIdentityException, AzureAssignedIdentity) and names each workload namespace with its binding selector, so a tenant who may write those objects in a namespace can neither point one at another workload's identity nor let pods past NMI with an exception (NMI serves any AzureIdentity and binding it finds; Azure/aad-pod-identity pkg/nmi). No direct Checkov equivalent; Azure security baseline for AKS IM-3.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        if (!runsPodIdentity(args.resources)) {
            return;
        }
        const guards = denyingPolicies(args.resources).filter(coversAadPodIdentityWrites);
        if (guards.length === 0) {
            reportViolation(`No Deny-bound ValidatingAdmissionPolicy (failurePolicy Fail) covers create and update of ${AAD_POD_IDENTITY_KINDS.join(", ")} in ${AAD_POD_IDENTITY_GROUP}.`);
            return;
        }
        const said = guards.map((g) => JSON.stringify(field(g.props, "spec", "variables") ?? null)).join("\n");
        for (const namespace of ofType(args.resources, TYPES.namespace)) {
            const name = text(field(namespace.props, "metadata", "name"));
            const workload = text(field(namespace.props, "metadata", "labels", "aks-identity-vault/workload"));
            if (name !== undefined && workload !== undefined && !said.includes(`'${name}': {`)) {
                reportViolation(`The aad-pod-identity guard does not name workload namespace ${name}, so objects there are not held to its workload's identity.`, namespace.urn);
            }
        }
    },
};

/** The workload identity policies of the pack. */
export const identityPolicies = [
    secretProviderClassPodIdentity,
    federatedCredentialScoped,
    podIdentityAttachmentScoped,
    aadPodIdentityObjectsNamespaced,
    aadPodIdentityForceNamespaced,
    aadPodIdBindingLabelGuarded,
    aadPodIdentityObjectsGuarded,
];
