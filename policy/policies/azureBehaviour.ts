// How Azure and Kubernetes behave, as rules over the plan's resource graph: what a first `pulumi up`
// meets that no security benchmark asks about, but that fails the deployment when the program gets
// it wrong. Each description names its source; docs/azure-behaviour.md lists them with the rest.
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { roleGuid } from "../lib/arm";
import { idNames, linkedThrough, ofType, privateEndpointsFor, refersTo, waitsFor } from "../lib/graph";
import { namespaceOf, selectorMatches, workloadPods } from "../lib/k8s";
import { TYPES } from "../lib/types";
import { isAadPodIdentityChart } from "../lib/modes";
import { field, isDict, list, sameText, strings, text, whenKnown } from "../lib/values";

/** Where NMI listens, and so where its DNAT of the metadata endpoint sends a pod's token request. */
const NMI_ADDRESS = "127.0.0.1";
const NMI_PORT = 2579;
const MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830";
const AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";
/** Azure's rule for a federated identity credential's name (Microsoft.ManagedIdentity REST spec). */
const FEDERATED_CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;

/** The IPv4 address as a 32-bit number, or undefined. */
function ipv4(address: string): number | undefined {
    const parts = address.split(".");
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
        return undefined;
    }
    return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** True when an IPv4 CIDR (or address) contains `address`. Exported for testing. */
export function cidrHolds(cidr: string, address: string): boolean {
    const [base, bits = "32"] = cidr.split("/");
    const network = ipv4(base);
    const host = ipv4(address);
    const prefix = Number(bits);
    if (network === undefined || host === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
        return false;
    }
    const size = 2 ** (32 - prefix);
    return Math.floor(network / size) === Math.floor(host / size);
}

/** True when one egress rule of a NetworkPolicy admits TCP to `address`:`port`. Exported for testing. */
export function egressRuleAdmits(rule: unknown, address: string, port: number): boolean {
    const ports = list(field(rule, "ports"));
    const portOk =
        ports.length === 0 ||
        ports.some((p) => {
            const protocol = text(field(p, "protocol")) ?? "TCP";
            const number: unknown = field(p, "port");
            const end: unknown = field(p, "endPort");
            const inRange = number === undefined || number === port || (typeof number === "number" && typeof end === "number" && number <= port && port <= end);
            return protocol === "TCP" && inRange;
        });
    const peers = list(field(rule, "to"));
    const peerOk =
        peers.length === 0 ||
        peers.some((peer) => {
            const block = field(peer, "ipBlock");
            const cidr = text(field(block, "cidr"));
            return cidr !== undefined && cidrHolds(cidr, address) && !strings(field(block, "except")).some((e) => cidrHolds(e, address));
        });
    return portOk && peerOk;
}

/** Pods that claim a pod identity reach NMI where its redirect of the metadata endpoint lands. */
export const podIdentityEgressReachesNmi: StackValidationPolicy = {
    name: "pod-identity-egress-reaches-nmi",
    description:
        "Where NetworkPolicies restrict the egress of pods that claim a pod identity (label aadpodidbinding), they admit TCP 2579 on 127.0.0.1: NMI, the open-source project's and the AKS add-on's, listens there and DNATs pod traffic for 169.254.169.254:80 to it, and Calico applies a pod's egress policy to the address after that DNAT, so a rule for the metadata address never matches. No direct Checkov equivalent. Source: Azure/aad-pod-identity cmd/nmi/main.go (defaultNmiHost, defaultNmiPort) and pkg/nmi/iptables/iptables.go; aad-pod-identity troubleshooting, 'Token requests calls fail with i/o timeout'.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const policies = ofType(args.resources, TYPES.networkPolicy);
        for (const resource of args.resources) {
            const pods = workloadPods(resource.type, resource.props);
            if (pods === undefined || pods.labels.aadpodidbinding === undefined) {
                continue;
            }
            const restricting = policies.filter(
                (p) =>
                    namespaceOf(p.props) === pods.namespace &&
                    selectorMatches(field(p.props, "spec", "podSelector"), pods.labels) &&
                    (strings(field(p.props, "spec", "policyTypes")).includes("Egress") || field(p.props, "spec", "egress") !== undefined),
            );
            const admitted = restricting.some((p) => list(field(p.props, "spec", "egress")).some((rule) => egressRuleAdmits(rule, NMI_ADDRESS, NMI_PORT)));
            if (restricting.length > 0 && !admitted) {
                reportViolation(
                    `The egress of these pods (aadpodidbinding=${pods.labels.aadpodidbinding}, namespace ${pods.namespace}) does not admit TCP ${NMI_PORT} on ${NMI_ADDRESS}, where NMI receives their token requests: they would time out.`,
                    resource.urn,
                );
            }
        }
    },
};

/** The role assignments of `role` that grant `principal` on `scope`, by their inputs' sources. */
function grants(resources: readonly PolicyResource[], role: string, principal: PolicyResource, scope: PolicyResource): PolicyResource[] {
    return ofType(resources, TYPES.roleAssignment).filter(
        (a) =>
            roleGuid(text(field(a.props, "roleDefinitionId")) ?? "") === role &&
            refersTo(a, "principalId", principal, () => false) &&
            refersTo(a, "scope", scope, () => idNames(text(field(a.props, "scope")), scope, "resourceName")),
    );
}

/** The user-assigned identities a cluster runs as (its control plane), by its `identity` input. */
function controlPlaneIdentities(resources: readonly PolicyResource[], cluster: PolicyResource): PolicyResource[] {
    const ids = strings(field(cluster.props, "identity", "userAssignedIdentities"));
    return ofType(resources, TYPES.userAssignedIdentity).filter((identity) => refersTo(cluster, "identity", identity, () => ids.some((id) => idNames(id, identity, "resourceName"))));
}

/**
 * The user-assigned identities an entry of a PodIdentities resource may hand out: those its
 * `identity.resourceId` names, among the identities the `identities` input was computed from when
 * Pulumi recorded them; every one of those when the id is not known yet (a preview), so that a check
 * over them all covers the entry.
 */
function entryIdentities(resources: readonly PolicyResource[], podIdentities: PolicyResource, entry: unknown): PolicyResource[] {
    const linked = linkedThrough(podIdentities, "identities", TYPES.userAssignedIdentity);
    const resourceId = whenKnown(() => text(field(entry, "identity", "resourceId")));
    const named = (linked.length > 0 ? linked : ofType(resources, TYPES.userAssignedIdentity)).filter((i) => idNames(resourceId, i, "resourceName"));
    return named.length > 0 ? named : linked;
}

/** In add-on mode, the cluster's own identity may assign each pod identity, and the update waits for that grant. */
export const addOnPodIdentityControlPlaneOperator: StackValidationPolicy = {
    name: "addon-pod-identity-control-plane-operator",
    description:
        "Every pod identity attached to the AKS add-on (an entry of the PodIdentities resource) has a Managed Identity Operator grant on its user-assigned identity to the cluster's control-plane identity, and the write waits for that grant: the add-on assigns the identity to the nodes as the cluster identity, and az aks pod-identity add grants exactly this before it adds the entry, then waits 30 s. No direct Checkov equivalent. Source: Azure/azure-cli-extensions src/aks-preview/azext_aks_preview/_podidentity.py (_ensure_managed_identity_operator_permission); AKS docs, use-azure-ad-pod-identity.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const depends = waitsFor(args.resources);
        const clusters = ofType(args.resources, TYPES.managedCluster);
        for (const podIdentities of ofType(args.resources, TYPES.podIdentities)) {
            const clusterName = text(field(podIdentities.props, "clusterName"));
            const cluster = clusters.find((c) => refersTo(podIdentities, "clusterName", c, () => sameText(text(field(c.props, "resourceName")), clusterName)));
            const identitiesInput = field(podIdentities.props, "identities");
            const entries = isDict(identitiesInput) ? Object.entries(identitiesInput) : [];
            for (const [key, entry] of entries) {
                const identities = entryIdentities(args.resources, podIdentities, entry);
                if (identities.length === 0 || cluster === undefined) {
                    reportViolation(`The stack does not declare the user-assigned identity and cluster of pod identity ${key}, so their grant cannot be checked.`, podIdentities.urn);
                    continue;
                }
                const controlPlane = controlPlaneIdentities(args.resources, cluster);
                const operators = identities.map((identity) => controlPlane.flatMap((principal) => grants(args.resources, MANAGED_IDENTITY_OPERATOR, principal, identity)));
                if (operators.some((found) => found.length === 0)) {
                    reportViolation(
                        `No Managed Identity Operator grant to the cluster's control-plane identity on the user-assigned identity of pod identity ${key}: the add-on cannot assign it to the nodes.`,
                        podIdentities.urn,
                    );
                } else if (operators.some((found) => !found.some((grant) => depends(podIdentities).has(grant)))) {
                    reportViolation(
                        `The write of pod identity ${key} does not wait for the control plane's Managed Identity Operator grant, so the cluster update can run before the grant exists.`,
                        podIdentities.urn,
                    );
                }
            }
        }
    },
};

/** Every Kubernetes object waits, through the graph, until the deployer's cluster-admin grant applies. */
export const kubernetesWaitsForClusterAdmin: StackValidationPolicy = {
    name: "k8s-waits-for-effective-cluster-admin",
    description:
        "On a cluster with Azure RBAC for Kubernetes, every Kubernetes resource waits (through its dependencies or its provider's) for a ClusterAccessWait that itself waits for the deployer's Azure Kubernetes Service RBAC Cluster Admin grant: a new role assignment takes minutes to be honoured by the API server, which refuses the deployer with 403 until then. No direct Checkov equivalent. Source: AKS docs, manage-azure-rbac ('New role assignments can take up to five minutes to propagate'); Azure/AKS#4232; Azure/azure-cli#22510.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const azureRbac = ofType(args.resources, TYPES.managedCluster).filter((c) => field(c.props, "aadProfile", "enableAzureRBAC") === true);
        if (azureRbac.length === 0) {
            args.notApplicable("no cluster authorizes with Azure RBAC");
        }
        const depends = waitsFor(args.resources);
        const effective = ofType(args.resources, TYPES.clusterAccessWait).filter((wait) =>
            [...depends(wait)].some(
                (r) => r.type === TYPES.roleAssignment && roleGuid(text(field(r.props, "roleDefinitionId")) ?? "") === AKS_RBAC_CLUSTER_ADMIN && azureRbac.some((c) => depends(r).has(c)),
            ),
        );
        for (const resource of args.resources) {
            if (!resource.type.startsWith("kubernetes:")) {
                continue;
            }
            if (!effective.some((wait) => depends(resource).has(wait))) {
                reportViolation(
                    "This Kubernetes resource does not wait for an access review that shows the deployer's cluster-admin grant applies; its first call can be refused with 403.",
                    resource.urn,
                );
            }
        }
    },
};

/** The resources that write to a vault: its private endpoints, secrets, keys and access policies. */
function vaultWrites(resources: readonly PolicyResource[], vault: PolicyResource): PolicyResource[] {
    const name = text(field(vault.props, "vaultName"));
    const children = [TYPES.secret, TYPES.key, TYPES.accessPolicy].flatMap((type) =>
        ofType(resources, type).filter((r) => refersTo(r, "vaultName", vault, () => sameText(text(field(r.props, "vaultName")), name))),
    );
    return [...privateEndpointsFor(resources, vault, "vaultName", "vault"), ...children];
}

/** Two writes to one vault never run at once. */
export const keyVaultWritesOrdered: StackValidationPolicy = {
    name: "keyvault-writes-ordered",
    description:
        "Every two writes to one Key Vault (its private endpoints' connections, secrets, keys and access policies) are ordered: one waits for the other through the graph. Key Vault refuses a write that overlaps another on the same vault with ConflictError ('serialize the operations so that only one operation is performed on the Key Vault at a time'), which azure-native does not retry. No direct Checkov equivalent. Source: pulumi/pulumi-azure-native#1013; hashicorp/terraform-provider-azurerm#32095 and #32261 (private endpoints racing vault operations).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const depends = waitsFor(args.resources);
        for (const vault of ofType(args.resources, TYPES.vault)) {
            const writes = vaultWrites(args.resources, vault);
            for (const [i, a] of writes.entries()) {
                for (const b of writes.slice(i + 1)) {
                    if (!depends(a).has(b) && !depends(b).has(a)) {
                        reportViolation(`${b.name} and ${a.name} write to this vault and neither waits for the other: Key Vault would refuse one with ConflictError.`, vault.urn);
                    }
                }
            }
        }
    },
};

/** The identity modes the stack's clusters run. */
function clusterModes(resources: readonly PolicyResource[]): { podIdentity: boolean; workloadIdentity: boolean } {
    const clusters = ofType(resources, TYPES.managedCluster);
    const addOn = clusters.some((c) => field(c.props, "podIdentityProfile", "enabled") === true);
    const oss = ofType(resources, TYPES.helmRelease).some((r) => isAadPodIdentityChart(text(field(r.props, "chart"))));
    const workloadIdentity = clusters.some((c) => field(c.props, "securityProfile", "workloadIdentity", "enabled") === true);
    return { podIdentity: addOn || oss, workloadIdentity };
}

/** The SecretProviderClass names the identity the way the cluster's mode hands it out. */
export const secretProviderClassIdentityMatchesMode: StackValidationPolicy = {
    name: "secret-provider-class-identity-matches-mode",
    description:
        "Each Azure SecretProviderClass uses exactly one identity mode, and one the cluster runs: usePodIdentity \"true\" only where pod identity runs (the AKS add-on or the aad-pod-identity chart), clientID only where Workload ID is enabled and a federated identity credential of the stack trusts that identity; the provider refuses more than one mode at a time and a mount fails in a mode the cluster does not run. No direct Checkov equivalent. Source: Azure/secrets-store-csi-driver-provider-azure pkg/provider/types and provider.go ('only one identity mode can be enabled at a time').",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const modes = clusterModes(args.resources);
        const credentials = ofType(args.resources, TYPES.federatedIdentityCredential);
        for (const spc of ofType(args.resources, TYPES.secretProviderClass)) {
            if (text(field(spc.props, "spec", "provider")) !== "azure") {
                continue;
            }
            const parameters = field(spc.props, "spec", "parameters");
            const podIdentity = sameText(text(field(parameters, "usePodIdentity")), "true");
            const clientId = text(field(parameters, "clientID")) ?? "";
            if (podIdentity && clientId !== "") {
                reportViolation("The class sets both usePodIdentity and clientID; the provider takes one identity mode.", spc.urn);
            } else if (podIdentity && !modes.podIdentity) {
                reportViolation("The class uses pod identity, which no cluster of the stack runs.", spc.urn);
            } else if (clientId !== "" && !modes.workloadIdentity) {
                reportViolation("The class names a Workload ID client, but no cluster of the stack enables Workload ID.", spc.urn);
            } else if (clientId !== "") {
                const identities = ofType(args.resources, TYPES.userAssignedIdentity).filter((i) => refersTo(spc, "spec", i, () => false));
                const trusted = credentials.some((c) =>
                    identities.some((i) => refersTo(c, "resourceName", i, () => sameText(text(field(c.props, "resourceName")), text(field(i.props, "resourceName"))))),
                );
                if (!trusted) {
                    reportViolation("No federated identity credential of the stack trusts the identity this class names: the token exchange would be refused.", spc.urn);
                }
            } else if (!podIdentity) {
                reportViolation('The class names no identity: set usePodIdentity "true" or clientID.', spc.urn);
            }
        }
    },
};

/** Federated credential names are ones Azure accepts. */
export const federatedCredentialNameValid: ResourceValidationPolicy = {
    name: "federated-credential-name-valid",
    description:
        "Federated identity credentials have a name Azure accepts: 3-120 letters, digits, '-' and '_', starting with a letter or digit (a service account name's dots are not allowed). No direct Checkov equivalent. Source: azure-rest-api-specs Microsoft.ManagedIdentity (federatedIdentityCredentialResourceName pattern ^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$); Microsoft Entra docs, workload identity federation considerations.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(managedidentity.FederatedIdentityCredential, (credential, _args, reportViolation) => {
        const name = credential.federatedIdentityCredentialResourceName ?? "";
        if (!FEDERATED_CREDENTIAL_NAME.test(name)) {
            reportViolation(`The name ${JSON.stringify(name)} is not 3-120 letters, digits, '-' and '_' starting with a letter or digit.`);
        }
    }),
};

/** The Azure-behaviour policies of the pack. */
export const azureBehaviourPolicies = [
    podIdentityEgressReachesNmi,
    addOnPodIdentityControlPlaneOperator,
    kubernetesWaitsForClusterAdmin,
    keyVaultWritesOrdered,
    secretProviderClassIdentityMatchesMode,
    federatedCredentialNameValid,
];
