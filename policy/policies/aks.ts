// AKS policies: Entra ID with Azure RBAC and no local accounts, Azure CNI with a network policy
// engine, API server exposure, upgrade channels, the Key Vault secrets provider, node addresses,
// the cluster's identities, pod identity's network requirements and the cluster's protection.
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as k8s from "@pulumi/kubernetes";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { isAadPodIdentityChart } from "../lib/modes";
import { field, isDict, sameText, text } from "../lib/values";

/** Cluster upgrade channels that keep Kubernetes patched. */
const UPGRADE_CHANNELS: ReadonlySet<string> = new Set(["rapid", "stable", "patch", "node-image"]);
/** Node OS channels that keep the node image or its security patches current. */
const NODE_OS_CHANNELS: ReadonlySet<string> = new Set(["nodeimage", "securitypatch"]);
/** The Helm chart of the open-source aad-pod-identity. */

/** The add-on profile stored under `name`, whatever the key's casing. */
function addonProfile(profiles: Record<string, unknown> | undefined, name: string): unknown {
    const key = Object.keys(profiles ?? {}).find((k) => sameText(k, name));
    return key === undefined ? undefined : profiles?.[key];
}

/** People sign in with Entra ID and Azure RBAC authorizes them. */
export const aksEntraAzureRbac: ResourceValidationPolicy = {
    name: "aks-entra-azure-rbac",
    description:
        "AKS clusters enable Kubernetes RBAC, AKS-managed Microsoft Entra integration and Azure RBAC for Kubernetes authorization (enableRBAC, aadProfile.managed, aadProfile.enableAzureRBAC). Checkov CKV_AZURE_5; Azure security baseline for AKS IM-1 (centralized identity) and PA-7.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        if (cluster.enableRBAC !== true) {
            reportViolation("Set enableRBAC to true.");
        }
        if (cluster.aadProfile?.managed !== true || cluster.aadProfile.enableAzureRBAC !== true) {
            reportViolation("Set aadProfile.managed and aadProfile.enableAzureRBAC to true.");
        }
    }),
};

/** No static cluster-admin credential exists. */
export const aksLocalAccountsDisabled: ResourceValidationPolicy = {
    name: "aks-local-accounts-disabled",
    description:
        "AKS clusters disable local accounts, so no static cluster-admin kubeconfig bypasses Entra ID. Checkov CKV_AZURE_141; Azure security baseline for AKS IM-1 (local authentication methods).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        if (cluster.disableLocalAccounts !== true) {
            reportViolation("Set disableLocalAccounts to true.");
        }
    }),
};

/** A network policy engine enforces NetworkPolicy objects. */
export const aksNetworkPolicy: ResourceValidationPolicy = {
    name: "aks-network-policy",
    description:
        "AKS clusters run a network policy engine (networkProfile.networkPolicy calico, azure or cilium), without which NetworkPolicy objects are ignored. Checkov CKV_AZURE_7; Azure security baseline for AKS NS-1.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        const engine = cluster.networkProfile?.networkPolicy;
        if (engine === undefined || sameText(engine, "none")) {
            reportViolation(`networkProfile.networkPolicy is ${engine ?? "unset"}; choose calico, azure or cilium.`);
        }
    }),
};

/** Pods get VNet addresses from Azure CNI. */
export const aksAzureCni: ResourceValidationPolicy = {
    name: "aks-azure-cni",
    description:
        "AKS clusters use the Azure CNI network plugin (networkProfile.networkPlugin azure): pods get VNet addresses that NSGs and private endpoints see, and pod identity's NMI cannot be bypassed as it can on kubenet. Checkov CKV2_AZURE_29.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        if (!sameText(cluster.networkProfile?.networkPlugin, "azure")) {
            reportViolation(`networkProfile.networkPlugin is ${cluster.networkProfile?.networkPlugin ?? "unset (kubenet)"}; set it to azure.`);
        }
    }),
};

/** The API server is private or limited to known ranges. */
export const aksApiServerAccess: ResourceValidationPolicy = {
    name: "aks-api-server-access-restricted",
    description:
        "AKS API servers are private (apiServerAccessProfile.enablePrivateCluster) or limited to authorized IP ranges none of which is 0.0.0.0/0. Advisory: the stack must stay deployable from outside the VNet (a laptop or a hosted pipeline), and its apiServerAuthorizedIpRanges config defaults to empty (Entra ID still authenticates every request; the plan warns). Checkov CKV_AZURE_6 and CKV_AZURE_115; Azure security baseline for AKS NS-2.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        const access = cluster.apiServerAccessProfile;
        if (access?.enablePrivateCluster === true || sameText(cluster.publicNetworkAccess, "Disabled")) {
            return;
        }
        const ranges = access?.authorizedIPRanges ?? [];
        if (ranges.length === 0) {
            reportViolation("The API server accepts connections from any address: set apiServerAuthorizedIpRanges or make the cluster private.");
        } else if (ranges.some((r) => /\/0$/.test(r.trim()))) {
            reportViolation(`apiServerAccessProfile.authorizedIPRanges ${JSON.stringify(ranges)} admits every address.`);
        }
    }),
};

/** Kubernetes itself is upgraded automatically. */
export const aksUpgradeChannel: ResourceValidationPolicy = {
    name: "aks-upgrade-channel",
    description:
        "AKS clusters choose an automatic upgrade channel (autoUpgradeProfile.upgradeChannel rapid, stable, patch or node-image, not none). Checkov CKV_AZURE_171; Azure security baseline for AKS PV-6 (remediate vulnerabilities).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        const channel = cluster.autoUpgradeProfile?.upgradeChannel;
        if (!UPGRADE_CHANNELS.has((channel ?? "").toLowerCase())) {
            reportViolation(`autoUpgradeProfile.upgradeChannel is ${channel ?? "unset"}; choose stable (or rapid, patch, node-image).`);
        }
    }),
};

/** Node images receive OS security updates. */
export const aksNodeOsUpgradeChannel: ResourceValidationPolicy = {
    name: "aks-node-os-upgrade-channel",
    description:
        "AKS clusters keep node operating systems patched (autoUpgradeProfile.nodeOSUpgradeChannel NodeImage or SecurityPatch, not None or Unmanaged). No direct Checkov equivalent; Azure security baseline for AKS PV-6.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        const channel = cluster.autoUpgradeProfile?.nodeOSUpgradeChannel;
        if (!NODE_OS_CHANNELS.has((channel ?? "").toLowerCase())) {
            reportViolation(`autoUpgradeProfile.nodeOSUpgradeChannel is ${channel ?? "unset"}; choose NodeImage or SecurityPatch.`);
        }
    }),
};

/** Pods mount Key Vault objects through the CSI driver, which follows rotations. */
export const aksSecretsProviderRotation: ResourceValidationPolicy = {
    name: "aks-keyvault-secrets-provider-rotation",
    description:
        'AKS clusters enable the Azure Key Vault provider for the Secrets Store CSI driver with secret rotation (addonProfiles.azureKeyvaultSecretsProvider enabled, config.enableSecretRotation "true"), so workloads read secrets from the vault instead of from static Kubernetes Secrets. Checkov CKV_AZURE_172; Azure security baseline for AKS IM-8 (restrict the exposure of credentials and secrets).',
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        const profile = addonProfile(cluster.addonProfiles, "azureKeyvaultSecretsProvider");
        if (field(profile, "enabled") !== true) {
            reportViolation("Enable addonProfiles.azureKeyvaultSecretsProvider.");
        } else if (!sameText(text(field(profile, "config", "enableSecretRotation")), "true")) {
            reportViolation('Set addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation to "true".');
        }
    }),
};

/** Nodes have no public addresses. */
export const aksNoNodePublicIp: ResourceValidationPolicy = {
    name: "aks-no-node-public-ip",
    description: "AKS node pools never give nodes public IP addresses (enableNodePublicIP). Checkov CKV_AZURE_143; Azure security baseline for AKS NS-2.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
            for (const pool of cluster.agentPoolProfiles ?? []) {
                if (pool.enableNodePublicIP === true) {
                    reportViolation(`Node pool ${pool.name} gives nodes public IP addresses.`);
                }
            }
        }),
        validateResourceOfType(containerservice.AgentPool, (pool, _args, reportViolation) => {
            if (pool.enableNodePublicIP === true) {
                reportViolation("The node pool gives nodes public IP addresses.");
            }
        }),
    ],
};

/** Pod identity never runs where its interception can be bypassed. */
export const aksPodIdentityNotOnKubenet: ResourceValidationPolicy = {
    name: "aks-pod-identity-not-on-kubenet",
    description:
        "Pod identity (the AKS add-on or the open-source aad-pod-identity) never runs on kubenet: there a pod with NET_RAW can spoof ARP and take tokens meant for other pods, so podIdentityProfile needs networkPlugin azure and allowNetworkPluginKubenet false, and the aad-pod-identity chart's nmi.allowNetworkPluginKubenet stays false. No direct Checkov equivalent; AKS pod-managed identity documentation (kubenet requires an explicit opt-in because of this risk).",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
            if (cluster.podIdentityProfile?.allowNetworkPluginKubenet === true) {
                reportViolation("Set podIdentityProfile.allowNetworkPluginKubenet to false.");
            }
            if (cluster.podIdentityProfile?.enabled === true && !sameText(cluster.networkProfile?.networkPlugin, "azure")) {
                reportViolation("The pod-identity add-on is enabled on a cluster that does not use Azure CNI.");
            }
        }),
        validateResourceOfType(k8s.helm.v3.Release, (release, args, reportViolation) => {
            if (!isAadPodIdentityChart(release.chart)) {
                args.notApplicable("not the aad-pod-identity chart");
            }
            const allowKubenet = field(release.values, "nmi", "allowNetworkPluginKubenet");
            if (allowKubenet === true || allowKubenet === "true") {
                reportViolation("Set values.nmi.allowNetworkPluginKubenet to false.");
            }
        }),
    ],
};

/** The control plane and kubelet run as user-assigned identities created (and granted) first. */
export const aksUserAssignedIdentities: ResourceValidationPolicy = {
    name: "aks-user-assigned-identities",
    description:
        "AKS clusters run their control plane and kubelet as user-assigned managed identities (identity.type UserAssigned and identityProfile.kubeletidentity), created and granted their narrow roles before the cluster, never as service principals with secrets. No direct Checkov equivalent; Azure security baseline for AKS IM-3 (managed application identities).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        if (!sameText(cluster.identity?.type, "UserAssigned")) {
            reportViolation(`identity.type is ${cluster.identity?.type ?? "unset"}; use UserAssigned.`);
        }
        const kubelet = cluster.identityProfile?.kubeletidentity;
        if (!isDict(kubelet) || (kubelet.resourceId ?? "") === "") {
            reportViolation("Set identityProfile.kubeletidentity to a user-assigned identity.");
        }
        if (cluster.servicePrincipalProfile !== undefined) {
            reportViolation("Remove servicePrincipalProfile.");
        }
    }),
};

/** The cluster cannot be deleted or replaced by an unreviewed update. */
export const aksProtected: ResourceValidationPolicy = {
    name: "aks-cluster-protected",
    description:
        "AKS clusters are registered with Pulumi's protect option, so no update deletes or replaces them without an explicit unprotect. No direct Checkov equivalent; Microsoft cloud security benchmark BR-2 (protect recovery).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (_cluster, args, reportViolation) => {
        if (!args.opts.protect) {
            reportViolation("Register the cluster with protect: true.");
        }
    }),
};

/** Workload ID requires the cluster's OIDC issuer. */
export const aksWorkloadIdentityIssuer: ResourceValidationPolicy = {
    name: "aks-workload-identity-oidc-issuer",
    description:
        "AKS clusters that enable Microsoft Entra Workload ID (securityProfile.workloadIdentity) also enable the OIDC issuer that federated credentials trust. No direct Checkov equivalent; Azure security baseline for AKS IM-3.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        if (cluster.securityProfile?.workloadIdentity?.enabled === true && cluster.oidcIssuerProfile?.enabled !== true) {
            reportViolation("Workload identity is enabled but oidcIssuerProfile.enabled is not true.");
        }
    }),
};

/** Pods get Azure identities through Workload ID, not the retired pod identity. */
export const aksWorkloadIdentityPreferred: ResourceValidationPolicy = {
    name: "aks-workload-identity-preferred",
    description:
        "Pods obtain Azure identities through Microsoft Entra Workload ID: the AKS pod-identity add-on is deprecated (support ended September 2025) and the open-source aad-pod-identity was archived in 2023. Advisory: identityMode podIdentityAddon and podIdentityOss deliberately keep both running until workloads migrate. No direct Checkov equivalent; Azure security baseline for AKS IM-3.",
    enforcementLevel: "advisory",
    validateResource: [
        validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
            if (cluster.podIdentityProfile?.enabled === true) {
                reportViolation("The deprecated pod-identity add-on is enabled; move workloads to Workload ID.");
            }
        }),
        validateResourceOfType(k8s.helm.v3.Release, (release, args, reportViolation) => {
            if (!isAadPodIdentityChart(release.chart)) {
                args.notApplicable("not the aad-pod-identity chart");
            }
            reportViolation("The archived open-source aad-pod-identity is installed; move workloads to Workload ID.");
        }),
    ],
};

/** The AKS policies of the pack. */
export const aksPolicies = [
    aksEntraAzureRbac,
    aksLocalAccountsDisabled,
    aksNetworkPolicy,
    aksAzureCni,
    aksApiServerAccess,
    aksUpgradeChannel,
    aksNodeOsUpgradeChannel,
    aksSecretsProviderRotation,
    aksNoNodePublicIp,
    aksPodIdentityNotOnKubenet,
    aksUserAssignedIdentities,
    aksProtected,
    aksWorkloadIdentityIssuer,
    aksWorkloadIdentityPreferred,
];
