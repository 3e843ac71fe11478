// The production baseline a security-minded platform team asks for first: who read which secret and
// when (resource logs of the vault, the blob service and the control plane, sent to the stack's Log
// Analytics workspace), secrets and keys that expire and keys that rotate, and a cluster built as
// Microsoft's AKS baseline builds one (the Azure Policy add-on, Defender for Containers, a tainted
// system pool, an autoscaled user pool, zones). Each rule is named after the industry rule it
// answers: an Azure Policy built-in (by its definition id) and, where one exists, Checkov's check.
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as keyvault from "@pulumi/azure-native/keyvault";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { idNames, ofType, refersTo } from "../lib/graph";
import { TYPES } from "../lib/types";
import { field, list, sameText, strings, text, whenKnown } from "../lib/values";

/** The category groups that include every audit category of a resource (Azure Monitor, diagnostic settings). */
const AUDIT_GROUPS = ["audit", "allLogs"];

/** The enabled log categories (and category groups) a diagnostic setting sends. */
function enabledLogs(setting: PolicyResource): { categories: string[]; groups: string[] } {
    const enabled = list(field(setting.props, "logs")).filter((entry) => field(entry, "enabled") === true);
    return {
        categories: enabled.flatMap((entry) => strings([field(entry, "category")])),
        groups: enabled.flatMap((entry) => strings([field(entry, "categoryGroup")])),
    };
}

/** Whether a setting sends `category`, by name or through a group that holds every category. */
function sends(setting: PolicyResource, category: string): boolean {
    const { categories, groups } = enabledLogs(setting);
    return categories.some((c) => sameText(c, category)) || groups.some((g) => AUDIT_GROUPS.some((a) => sameText(a, g)));
}

/** The diagnostic settings of `target` that send to a Log Analytics workspace of the stack; `nameKey` is its name input. */
export function settingsToWorkspace(resources: readonly PolicyResource[], target: PolicyResource, nameKey: string): PolicyResource[] {
    const workspaces = ofType(resources, TYPES.logAnalyticsWorkspace);
    return ofType(resources, TYPES.diagnosticSetting).filter(
        (setting) =>
            refersTo(setting, "resourceUri", target, () => idNames(text(field(setting.props, "resourceUri")), target, nameKey)) &&
            workspaces.some((workspace) => refersTo(setting, "workspaceId", workspace, () => idNames(text(field(setting.props, "workspaceId")), workspace, "workspaceName"))),
    );
}

/** A stack rule: every resource of `type` has a setting to the workspace that sends each of `categories`. */
function logsRule(name: string, description: string, type: string, nameKey: string, what: string, categories: readonly string[]): StackValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        validateStack: (args, reportViolation) => {
            for (const target of ofType(args.resources, type)) {
                const settings = settingsToWorkspace(args.resources, target, nameKey);
                const missing = categories.filter((category) => !settings.some((setting) => sends(setting, category)));
                if (settings.length === 0) {
                    reportViolation(`This ${what} has no diagnostic setting sending its logs to the stack's Log Analytics workspace.`, target.urn);
                } else if (missing.length > 0) {
                    reportViolation(`This ${what}'s diagnostic settings do not send ${missing.join(", ")} to the workspace.`, target.urn);
                }
            }
        },
    };
}

/** Who read which secret, when and from where: the vault's AuditEvent log. */
export const keyVaultResourceLogs = logsRule(
    "keyvault-resource-logs",
    "Key Vaults send their AuditEvent log (every data-plane request: who read which secret, when, from where, allowed or not) to the stack's Log Analytics workspace through a diagnostic setting. Azure Policy 'Resource logs in Key Vault should be enabled' (cf820ca0-f99e-4f3e-84fb-66e913812d21); Microsoft cloud security benchmark LT-3. No direct Checkov equivalent for diagnostic settings.",
    TYPES.vault,
    "vaultName",
    "vault",
    ["AuditEvent"],
);

/** Every blob read, write and delete on record. */
export const blobResourceLogs = logsRule(
    "storage-blob-resource-logs",
    "Blob services send StorageRead, StorageWrite and StorageDelete to the stack's Log Analytics workspace through a diagnostic setting on `<account>/blobServices/default`. Azure Policy 'Configure diagnostic settings for Blob Services to Log Analytics workspace' (b4fe1a3b-0715-4c6c-a5ea-ffc33cf823cb); Microsoft cloud security benchmark LT-3. No direct Checkov equivalent for diagnostic settings.",
    TYPES.blobServiceProperties,
    "blobServicesName",
    "blob service",
    ["StorageRead", "StorageWrite", "StorageDelete"],
);

/** The API server's writes and its authorization decisions on record. */
export const aksResourceLogs = logsRule(
    "aks-resource-logs",
    "AKS clusters send kube-audit-admin (every write to the API server) and guard (Entra ID and Azure RBAC decisions) to the stack's Log Analytics workspace through a diagnostic setting. Azure Policy 'Resource logs in Azure Kubernetes Service should be enabled' (245fc9df-fa96-4414-9a0b-3738c2f7341c); the AKS baseline (mspnp/aks-baseline). No direct Checkov equivalent (CKV_AZURE_4 checks the monitoring agent instead).",
    TYPES.managedCluster,
    "resourceName",
    "cluster",
    ["kube-audit-admin", "guard"],
);

/**
 * Whether what `read` returns is known to be missing: undefined, empty or not a positive number where
 * one is wanted. A value not known yet during a preview (see `whenKnown`) is not.
 */
function knownMissing(read: () => unknown, wanted: "number" | "string"): boolean {
    return (
        whenKnown(() => {
            const value = read();
            return wanted === "number" ? !(typeof value === "number" && value > 0) : !(typeof value === "string" && value !== "");
        }) === true
    );
}

/** Secrets expire. */
export const keyVaultSecretExpiration: ResourceValidationPolicy = {
    name: "keyvault-secret-expiration",
    description:
        "Key Vault secrets set properties.attributes.expires, so a secret that outlives its purpose shows as expired. Checkov CKV_AZURE_41; Azure Policy 'Key Vault secrets should have an expiration date' (98728c90-32c7-4049-8429-847dc0f4fe37).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Secret, (secret, _args, reportViolation) => {
        if (knownMissing(() => secret.properties.attributes?.expires, "number")) {
            reportViolation("Set properties.attributes.expires (seconds since the epoch, from a time kept in state).");
        }
    }),
};

/** Keys expire. */
export const keyVaultKeyExpiration: ResourceValidationPolicy = {
    name: "keyvault-key-expiration",
    description:
        "Key Vault keys set properties.attributes.expires, except the key the cluster encrypts etcd with (tagged purpose: etcd-encryption), which must never expire: an expired KMS key stops the API server from decrypting secrets (AKS docs, kms-observability), and aks-etcd-key-in-use requires it to be the cluster's. Checkov CKV_AZURE_40; Azure Policy 'Key Vault keys should have an expiration date' (152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Key, (key, args, reportViolation) => {
        if (isEtcdKey(key.tags)) {
            args.notApplicable("the cluster's etcd encryption key, which must never expire");
        }
        if (knownMissing(() => key.properties.attributes?.expires, "number")) {
            reportViolation("Set properties.attributes.expires (seconds since the epoch, from a time kept in state).");
        }
    }),
};

/** Keys rotate before they expire, and say so before they do. */
export const keyVaultKeyRotationPolicy: ResourceValidationPolicy = {
    name: "keyvault-key-rotation-policy",
    description:
        "Key Vault keys carry a rotation policy with an expiry time for new versions and a rotate action (and at most one notify action), so Key Vault replaces each version before it expires. Azure Policy 'Keys should have a rotation policy ensuring that their rotation is scheduled within the specified number of days after creation' (d8cf8476-a2ec-4916-896e-992351803c44); Key Vault docs, how-to-configure-key-rotation. No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Key, (key, args, reportViolation) => {
        if (isEtcdKey(key.tags)) {
            args.notApplicable("the cluster's etcd encryption key: legacy KMS names one key version, so a new version is a change of the cluster's keyId");
        }
        const policy = key.properties.rotationPolicy;
        const actions = list(field(policy, "lifetimeActions")).map((action) => text(field(action, "action", "type"))?.toLowerCase());
        if (policy === undefined) {
            reportViolation("Set properties.rotationPolicy: an expiryTime and a rotate action.");
            return;
        }
        if (text(field(policy, "attributes", "expiryTime")) === undefined) {
            reportViolation("Set properties.rotationPolicy.attributes.expiryTime (ISO 8601, at least P28D).");
        }
        if (actions.filter((a) => a === "rotate").length !== 1 || actions.filter((a) => a === "notify").length > 1) {
            reportViolation("Give properties.rotationPolicy.lifetimeActions exactly one rotate action and at most one notify action.");
        }
    }),
};

/** Gatekeeper with Azure Policy's definitions runs in the cluster. */
export const aksAzurePolicyAddon: ResourceValidationPolicy = {
    name: "aks-azure-policy-addon",
    description:
        "AKS clusters enable the Azure Policy add-on (addonProfiles.azurepolicy), which enforces and reports Azure Policy's Kubernetes definitions. Checkov CKV_AZURE_116; Azure Policy 'Azure Policy Add-on for Kubernetes service (AKS) should be installed and enabled on your clusters' (0a15ec92-a229-4763-bb14-0ea34a568f8d).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        if (field(cluster.addonProfiles, "azurepolicy", "enabled") !== true) {
            reportViolation("Set addonProfiles.azurepolicy.enabled to true.");
        }
    }),
};

/** The Defender profile is a stated choice. */
export const aksDefenderProfileStated: ResourceValidationPolicy = {
    name: "aks-defender-profile-stated",
    description:
        "AKS clusters state their Microsoft Defender for Containers profile: securityProfile.defender with securityMonitoring enabled and the workspace it reports to, or explicitly disabled (the defender config switch); a cluster that leaves it out is an oversight, not a choice. Azure Policy 'Azure Kubernetes Service clusters should have Defender profile enabled' (a1840de2-8088-4ea8-b153-b4c723e9cb01); aks-defender-enabled says when it is off. No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        const defender = cluster.securityProfile?.defender;
        const enabled = defender?.securityMonitoring?.enabled;
        if (typeof enabled !== "boolean") {
            reportViolation("Set securityProfile.defender.securityMonitoring.enabled explicitly (true, with logAnalyticsWorkspaceResourceId).");
        } else if (enabled && knownMissing(() => defender?.logAnalyticsWorkspaceResourceId, "string")) {
            reportViolation("Set securityProfile.defender.logAnalyticsWorkspaceResourceId: the workspace Defender reports to.");
        }
    }),
};

/** Defender watches the cluster. */
export const aksDefenderEnabled: ResourceValidationPolicy = {
    name: "aks-defender-enabled",
    description:
        "AKS clusters run Microsoft Defender for Containers' sensor (runtime threat detection reported to the workspace). Azure Policy 'Azure Kubernetes Service clusters should have Defender profile enabled' (a1840de2-8088-4ea8-b153-b4c723e9cb01). Advisory: the defender config switch turns it off on purpose, for a cluster another tool watches; aks-defender-profile-stated makes the choice explicit. No direct Checkov equivalent.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        if (cluster.securityProfile?.defender?.securityMonitoring?.enabled !== true) {
            reportViolation("Microsoft Defender for Containers is off: set defender to true unless another tool watches the cluster.");
        }
    }),
};

/** The taint that keeps workloads off the system pool (AKS docs, use-system-pools). */
const SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule";

/** Only AKS's critical add-ons run on the system pool. */
export const aksSystemPoolTainted: ResourceValidationPolicy = {
    name: "aks-system-pool-tainted",
    description: `Every system-mode node pool of an AKS cluster is tainted ${SYSTEM_POOL_TAINT}, so only AKS's critical add-ons run there and workloads go to user pools. Checkov CKV_AZURE_232; AKS docs, use-system-pools.`,
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
            for (const pool of cluster.agentPoolProfiles ?? []) {
                if (sameText(pool.mode, "System") && !(pool.nodeTaints ?? []).includes(SYSTEM_POOL_TAINT)) {
                    reportViolation(`Agent pool ${pool.name} is a system pool without the taint ${SYSTEM_POOL_TAINT}.`);
                }
            }
        }),
        validateResourceOfType(containerservice.AgentPool, (pool, _args, reportViolation) => {
            if (sameText(pool.mode, "System") && !(pool.nodeTaints ?? []).includes(SYSTEM_POOL_TAINT)) {
                reportViolation(`This system pool lacks the taint ${SYSTEM_POOL_TAINT}.`);
            }
        }),
    ],
};

/** The agent pools of `cluster` the stack declares as resources of their own. */
function agentPoolsOf(resources: readonly PolicyResource[], cluster: PolicyResource): PolicyResource[] {
    return ofType(resources, TYPES.agentPool).filter((pool) =>
        refersTo(pool, "resourceName", cluster, () => sameText(text(field(pool.props, "resourceName")), text(field(cluster.props, "resourceName")))),
    );
}

/** Workloads have a pool of their own, which the cluster autoscaler sizes. */
export const aksUserPoolAutoscaled: StackValidationPolicy = {
    name: "aks-user-pool-autoscaled",
    description:
        "Every AKS cluster has a user-mode node pool for workloads (one of its agentPoolProfiles or an agent pool of its own) with the cluster autoscaler on and minCount no greater than maxCount, as Microsoft's AKS baseline separates system and user pools (mspnp/aks-baseline; AKS docs, use-system-pools and cluster-autoscaler). No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const cluster of ofType(args.resources, TYPES.managedCluster)) {
            const pools = [...list(field(cluster.props, "agentPoolProfiles")), ...agentPoolsOf(args.resources, cluster).map((pool) => pool.props)];
            const scaled = pools.filter((pool) => {
                const min: unknown = field(pool, "minCount");
                const max: unknown = field(pool, "maxCount");
                return sameText(text(field(pool, "mode")), "User") && field(pool, "enableAutoScaling") === true && typeof min === "number" && typeof max === "number" && min <= max;
            });
            if (scaled.length === 0) {
                reportViolation("This cluster has no autoscaled user pool: add a node pool with mode User, enableAutoScaling and minCount <= maxCount.", cluster.urn);
            }
        }
    },
};

/** Both pools spread over the same zones. */
export const aksZoneRedundant: StackValidationPolicy = {
    name: "aks-zone-redundant",
    description:
        "Every node pool of an AKS cluster (its inline system pool and its agent pools) spreads over at least two availability zones, the same for every pool. Azure Policy 'Azure Kubernetes Service Clusters should be zone redundant' (2dec5f47-bc40-40d1-8c7d-a39d9d6808d1, preview); AKS docs, availability-zones. Advisory: a region without zones takes availabilityZones [] on purpose, and zones are fixed when a pool is created. No direct Checkov equivalent.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        for (const cluster of ofType(args.resources, TYPES.managedCluster)) {
            const pools = [
                ...list(field(cluster.props, "agentPoolProfiles")).map((pool) => ({ name: text(field(pool, "name")) ?? "?", zones: strings(field(pool, "availabilityZones")) })),
                ...agentPoolsOf(args.resources, cluster).map((pool) => ({ name: text(field(pool.props, "agentPoolName")) ?? pool.name, zones: strings(field(pool.props, "availabilityZones")) })),
            ];
            const single = pools.filter((pool) => pool.zones.length < 2);
            if (single.length > 0) {
                reportViolation(`Node pools ${single.map((p) => p.name).join(", ")} are in fewer than two availability zones.`, cluster.urn);
            }
            const shapes = new Set(pools.map((pool) => [...pool.zones].sort().join(",")));
            if (single.length === 0 && shapes.size > 1) {
                reportViolation("The cluster's node pools are in different availability zones; give them the same.", cluster.urn);
            }
        }
    },
};

/** The production-baseline policies, in the order the pack lists them. */
/** The tag that marks the key the cluster encrypts etcd with (components/secureKeyVault.ts). */
const ETCD_KEY_PURPOSE = "etcd-encryption";

/** True when a key's tags mark it as the etcd encryption key. */
function isEtcdKey(tags: unknown): boolean {
    return text(field(tags, "purpose")) === ETCD_KEY_PURPOSE;
}

/** The etcd key is the cluster's, and a cluster whose workloads mirror secrets into etcd encrypts it. */
export const aksEtcdEncryptedWhenSecretsSync: StackValidationPolicy = {
    name: "aks-etcd-encrypted-when-secrets-sync",
    description:
        "When a SecretProviderClass mirrors a secret into a Kubernetes Secret (secretObjects), every AKS cluster encrypts etcd with a key of the stack's (securityProfile.azureKeyVaultKms enabled, with keyId, keyVaultNetworkAccess Private and keyVaultResourceId, which a vault with public access off needs) through API Server VNet Integration (apiServerAccessProfile.enableVnetIntegration with its subnet), as AKS requires for a private vault; and a key tagged purpose: etcd-encryption, which carries no expiry, is the key a cluster names. AKS docs, use-kms-etcd-encryption; Azure Policy 'Azure Kubernetes Service Clusters should enable Key Management Service (KMS)' (dbbdc317-9734-4dd8-9074-993b29c69008). No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const clusters = ofType(args.resources, TYPES.managedCluster);
        const syncing = ofType(args.resources, TYPES.secretProviderClass).filter((spc) => list(field(spc.props, "spec", "secretObjects")).length > 0);
        if (syncing.length > 0) {
            for (const cluster of clusters) {
                const kms = field(cluster.props, "securityProfile", "azureKeyVaultKms");
                const missing = [
                    ...(field(kms, "enabled") === true ? [] : ["securityProfile.azureKeyVaultKms.enabled"]),
                    ...(knownMissing(() => field(kms, "keyId"), "string") ? ["its keyId"] : []),
                    ...(sameText(text(field(kms, "keyVaultNetworkAccess")), "Private") ? [] : ["keyVaultNetworkAccess Private"]),
                    ...(knownMissing(() => field(kms, "keyVaultResourceId"), "string") ? ["its keyVaultResourceId"] : []),
                    ...(field(cluster.props, "apiServerAccessProfile", "enableVnetIntegration") === true && !knownMissing(() => field(cluster.props, "apiServerAccessProfile", "subnetId"), "string")
                        ? []
                        : ["apiServerAccessProfile.enableVnetIntegration with its subnetId"]),
                ];
                if (missing.length > 0) {
                    reportViolation(`Workloads mirror secrets into etcd (${syncing.map((s) => s.name).join(", ")}), but the cluster lacks ${missing.join(", ")}.`, cluster.urn);
                }
            }
        }
        for (const key of ofType(args.resources, TYPES.key).filter((k) => isEtcdKey(field(k.props, "tags")))) {
            const named = clusters.some((cluster) => refersTo(cluster, "securityProfile", key, () => false));
            if (!named) {
                reportViolation("This key never expires, as only the cluster's etcd encryption key may: no cluster's securityProfile.azureKeyVaultKms names it.", key.urn);
            }
        }
    },
};

/** The built-in pod security initiatives for Linux workloads: restricted, and baseline (Azure/azure-policy policySetDefinitions/Kubernetes). */
const POD_SECURITY_INITIATIVES = ["42b8ef37-b724-4e24-bbc8-7a7708edfe00", "a8640138-9b0a-4a28-b8cb-1666c838647d"];

/** The Azure Policy add-on enforces a pod security initiative on every cluster. */
export const aksPodSecurityEnforced: StackValidationPolicy = {
    name: "aks-pod-security-enforced",
    description:
        "Every AKS cluster has a policy assignment, scoped to it, of a built-in Kubernetes pod security initiative (restricted 42b8ef37-b724-4e24-bbc8-7a7708edfe00 or baseline a8640138-9b0a-4a28-b8cb-1666c838647d) with effect Deny and enforcement on, whose excluded namespaces include none the stack runs workloads in: the Azure Policy add-on is on to enforce something. Azure Policy built-in initiatives 'Kubernetes cluster pod security restricted/baseline standards for Linux-based workloads'; Checkov CKV_AZURE_116 asks only for the add-on.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const assignments = ofType(args.resources, "azure-native:authorization:PolicyAssignment");
        const workloadNamespaces = ofType(args.resources, TYPES.namespace)
            .filter((ns) => text(field(ns.props, "metadata", "labels", "aks-identity-vault/workload")) !== undefined)
            .map((ns) => text(field(ns.props, "metadata", "name")) ?? "");
        for (const cluster of ofType(args.resources, TYPES.managedCluster)) {
            const enforcing = assignments.filter((a) => {
                const definition = (text(field(a.props, "policyDefinitionId")) ?? "").toLowerCase();
                const scoped = refersTo(a, "scope", cluster, () => idNames(text(field(a.props, "scope")), cluster, "resourceName"));
                const deny = sameText(text(field(a.props, "parameters", "effect", "value")), "deny");
                const enforced = (text(field(a.props, "enforcementMode")) ?? "Default") === "Default";
                return scoped && deny && enforced && POD_SECURITY_INITIATIVES.some((id) => definition.endsWith(`/policysetdefinitions/${id}`));
            });
            if (enforcing.length === 0) {
                reportViolation("No pod security initiative is assigned to this cluster with effect Deny and enforcement on.", cluster.urn);
                continue;
            }
            for (const a of enforcing) {
                const excluded = strings(field(a.props, "parameters", "excludedNamespaces", "value"));
                const spared = workloadNamespaces.filter((ns) => excluded.includes(ns));
                if (spared.length > 0) {
                    reportViolation(`The pod security assignment excludes workload namespace(s) ${spared.join(", ")}.`, a.urn);
                }
            }
        }
    },
};

export const baselinePolicies = [
    keyVaultResourceLogs,
    blobResourceLogs,
    aksResourceLogs,
    keyVaultSecretExpiration,
    keyVaultKeyExpiration,
    keyVaultKeyRotationPolicy,
    aksAzurePolicyAddon,
    aksPodSecurityEnforced,
    aksEtcdEncryptedWhenSecretsSync,
    aksDefenderProfileStated,
    aksDefenderEnabled,
    aksSystemPoolTainted,
    aksUserPoolAutoscaled,
    aksZoneRedundant,
];
