// The AKS cluster: Azure CNI in the AKS subnet, Entra ID with Azure RBAC and no local accounts, the
// identity machinery of the stack's identity mode (its driver says which), the Key Vault provider for
// the Secrets Store CSI driver, and a Kubernetes provider that logs in through Entra.
import { createHash } from "crypto";
import * as fs from "fs";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as privatedns from "@pulumi/azure-native/privatedns";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse, stringify } from "yaml";
import type { ApiServerAccess, ClusterTier, Egress, KeyVaultAuthorization, PrincipalType } from "../config";
import { isRetired, retiringSeries } from "../azureCatalog";
import { MAX_PODS_PER_NODE, vmSizeVcpus } from "../config";
import type { AccessCheck } from "./clusterAccess";
import { PlacementArgs } from "./common";
import { attachDiagnostics, DiagnosticCategories, DiagnosticsArgs } from "./diagnostics";
import { identityModeDriver } from "./modes";
import type { IdentityMode } from "./modes";
import { grantRole } from "./roles";
import { ClusterAccessWait, ROLE_PROPAGATION_SECONDS, RolePropagationDelay } from "./waits";

/** The settings of the cluster resource that come from config: they decide its inputs. */
export interface ClusterSpec {
    /** Nodes in the system pool. */
    nodeCount: number;
    /** VM size of the nodes. */
    nodeVmSize: string;
    /** Availability zones of the system pool (and the user pool); empty in a region without zones. */
    availabilityZones: string[];
    /** Microsoft Defender for Containers' sensor on, reporting to the stack's workspace. */
    defender: boolean;
    /** The AKS pricing tier. */
    tier: ClusterTier;
    /** The Kubernetes minor version (`1.33`), kept on its patches; empty lets the `stable` upgrade channel choose. */
    kubernetesVersion: string;
    /** CIDRs allowed to reach a public API server; empty admits any address, with a warning. */
    apiServerAuthorizedIpRanges: string[];
    /** `public`, or `private`: API Server VNet Integration with public access off. */
    apiServerAccess: ApiServerAccess;
    /** How the nodes reach the internet; it decides the cluster's `outboundType`. */
    egress: Egress;
    /** Kubernetes service range, apart from the VNet. */
    serviceCidr: string;
    /** The cluster DNS service's address inside `serviceCidr`. */
    dnsServiceIp: string;
    /** The identity mode, whose driver says which identity machinery the cluster runs. */
    identityMode: IdentityMode;
    /** How often the CSI driver re-reads Key Vault objects. */
    secretRotationPollInterval: string;
}

/** What the cluster needs to encrypt etcd with a key in the stack's private vault (legacy AKS KMS). */
export interface EtcdEncryptionArgs {
    /** The key's versioned identifier (`https://<vault>.vault.azure.net/keys/<name>/<version>`). */
    keyId: pulumi.Input<string>;
    /** The key's ARM id: the scope of the control plane's encrypt and decrypt grant. */
    keyResourceId: pulumi.Input<string>;
    vaultId: pulumi.Input<string>;
    vaultName: pulumi.Input<string>;
    /** How the vault authorizes: a role on the key, or an access policy (vault-wide, keys only). */
    authorization: KeyVaultAuthorization;
    /** The vault's last write: an access policy waits for it (Key Vault takes one write at a time). */
    afterVaultWrites: pulumi.Resource;
    /** The API server's own subnet, delegated to AKS: a private vault is reached only from there. */
    apiServerSubnetId: pulumi.Input<string>;
}

export interface AksClusterArgs extends PlacementArgs, Omit<ClusterSpec, "secretRotationPollInterval"> {
    subscriptionId: pulumi.Input<string>;
    tenantId: pulumi.Input<string>;
    /** Subnet for nodes and (Azure CNI) pods. */
    subnetId: pulumi.Input<string>;
    /** Whoever runs `pulumi up`: made "Azure Kubernetes Service RBAC Cluster Admin" on the cluster. */
    admin: { objectId: pulumi.Input<string>; principalType: PrincipalType };
    /** Protect the cluster and its two identities from deletion and replacement. Defaults to true. */
    protect?: boolean;
    /** How often the CSI driver re-reads Key Vault objects. Defaults to "2m". */
    secretRotationPollInterval?: string;
    /**
     * Seconds the cluster's creation waits after its control-plane identity's grants are written, which
     * Azure applies only later and offers no way to ask about. Defaults to {@link ROLE_PROPAGATION_SECONDS}.
     */
    rolePropagationSeconds?: number;
    /**
     * What the deployer must be allowed to do in the cluster before the Kubernetes provider makes its
     * first call. Defaults to {@link DEPLOYER_ACCESS_CHECKS}.
     */
    deployerAccessChecks?: AccessCheck[];
    /** How long to wait for the deployer's cluster-admin grant to apply. Defaults to {@link DEPLOYER_ACCESS_BUDGET_SECONDS}. */
    deployerAccessBudgetSeconds?: number;
    /** The user pool, where workloads run, between these node counts under the cluster autoscaler. */
    userPool: { minCount: number; maxCount: number; vmSize: string };
    /** Where the control plane's logs and metrics go, and the workspace Defender reports to. */
    diagnostics: DiagnosticsArgs;
    /** Also send the full `kube-audit` log (reads too), which costs much more than `kube-audit-admin`. */
    fullKubeAudit: boolean;
    /** Encrypt etcd with a key of the stack's (when a workload mirrors its secret into etcd). Defaults to none. */
    etcdEncryption?: EtcdEncryptionArgs;
    /**
     * The API server's own subnet, delegated to AKS: API Server VNet Integration, which a private API
     * server and etcd encryption with a private vault both need. Defaults to none.
     */
    apiServerSubnetId?: pulumi.Input<string>;
    /**
     * The nodes' way out, complete: with a firewall, its rules and the default route to it. AKS checks
     * the outbound path while it provisions nodes, so the cluster is created after these.
     */
    egressPath?: pulumi.Resource[];
    /**
     * With a private API server, the runners' VNet (peered with the stack's by `peerings`): the cluster
     * links its API server's private DNS zone to it, and the wait for the deployer's access (the first
     * call to the API server) comes after both. Defaults to none.
     */
    runners?: { vnetId: pulumi.Input<string>; peerings: pulumi.Resource[] };
}

/**
 * The private DNS zone AKS keeps a private API server's name in: its FQDN without the first label
 * (AKS docs, private-clusters: the `system` zone, created in the node resource group). Exported for testing.
 */
export function privateZoneOf(privateFqdn: string): string {
    const dot = privateFqdn.indexOf(".");
    if (dot < 0) {
        throw new Error(`not a private API server name: ${privateFqdn}`);
    }
    return privateFqdn.slice(dot + 1);
}

/**
 * The cluster's `outboundType` for the stack's egress: AKS's load balancer; the stack's NAT gateway
 * on the AKS subnet (`userAssignedNATGateway`: "managedNATGateway" is for AKS-made VNets); or the
 * route table that sends the default route to the firewall (`userDefinedRouting`). Exported for testing.
 */
export function outboundTypeFor(egress: Egress): containerservice.OutboundType {
    switch (egress) {
        case "loadBalancer":
            return containerservice.OutboundType.LoadBalancer;
        case "natGateway":
            return containerservice.OutboundType.UserAssignedNATGateway;
        case "firewall":
            return containerservice.OutboundType.UserDefinedRouting;
    }
}

/**
 * The plan's warning when etcd is encrypted with the stack's key: what turning it on does to a
 * cluster that ran without it. Exported for testing.
 */
export const ETCD_ENCRYPTION_WARNING =
    "etcdEncryption is on: etcd is encrypted with the stack's key (AKS KMS) in the private vault, which needs API Server VNet Integration. On a cluster created without them: the update turns VNet Integration on for good and reimages the nodes, and Microsoft asks for `az aks stop` then `az aks start` right after it; then re-encrypt the Secrets already in etcd with `kubectl get secrets -A -o json | kubectl replace -f -` (docs/operations.md).";

/**
 * The system pool's taint: only pods that tolerate it (AKS's own critical add-ons) run there, and
 * workloads go to the user pool (AKS docs, use-system-pools).
 */
export const SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule";

/** The workloads' node pool, the cluster's second: `agentPoolProfiles[1]`. */
export const USER_POOL_NAME = "user";

/**
 * What later updates of the cluster leave as they are, and why (docs/azure-behaviour.md rows 74-79):
 * - the pod identities, which their own resource writes (PodIdentities) and a refresh reads back;
 * - each pool's zones, fixed when the pool is created (AKS docs, availability-zones);
 * - the user pool's node count, which the cluster autoscaler owns: after a refresh it is the count AKS
 *   has, which an update sends back unchanged, as `az aks update` does;
 * - each pool's version (`orchestratorVersion`), which the upgrade channels move; and the cluster's
 *   `kubernetesVersion` when no minor is pinned, since the stable channel then chooses it.
 * Both pools are the cluster's own (`agentPoolProfiles`), so a refresh reads back no pool the program
 * does not declare: azure-native copies a pool it finds beyond the declared ones into the inputs,
 * and Pulumi cannot ignore a list element that only one side has.
 * Exported for testing.
 */
export function clusterIgnoreChanges(kubernetesVersion: string): string[] {
    return [
        "podIdentityProfile.userAssignedIdentities",
        "podIdentityProfile.userAssignedIdentityExceptions",
        "agentPoolProfiles[0].availabilityZones",
        "agentPoolProfiles[1].availabilityZones",
        "agentPoolProfiles[1].count",
        "agentPoolProfiles[0].orchestratorVersion",
        "agentPoolProfiles[1].orchestratorVersion",
        ...(kubernetesVersion === "" ? ["kubernetesVersion"] : []),
    ];
}

/** The label AKS puts on every node of a user pool, which pods select to run there (AKS docs, use-system-pools). */
export const USER_POOL_NODE_SELECTOR: Readonly<Record<string, string>> = { "kubernetes.azure.com/mode": "user" };

/**
 * The control plane's logs the stack keeps: `kube-audit-admin` (every write to the API server; the
 * audit log without its gets and lists, which are most of `kube-audit`'s volume and cost), `guard`
 * (Entra ID and Azure RBAC decisions), the controller manager's and the autoscaler's, as the AKS
 * baseline keeps them (mspnp/aks-baseline); `kube-audit` too when asked. In resource-specific tables
 * (AKSAudit, AKSAuditAdmin, AKSControlPlane). Exported for testing.
 */
export function clusterDiagnostics(fullKubeAudit: boolean): DiagnosticCategories {
    return {
        logs: ["kube-audit-admin", "guard", "kube-controller-manager", "cluster-autoscaler", ...(fullKubeAudit ? ["kube-audit"] : [])],
        metrics: ["AllMetrics"],
        destinationType: "Dedicated",
    };
}

/**
 * The built-in initiative "Kubernetes cluster pod security restricted standards for Linux-based
 * workloads" (Azure/azure-policy built-in-policies/policySetDefinitions/Kubernetes/PSPRestrictedStandard.json):
 * no privileged containers, no privilege escalation, no host network, PID or IPC, only allowed
 * capabilities, volume types, user and group ids and seccomp profiles.
 */
export const POD_SECURITY_RESTRICTED_INITIATIVE = "/providers/Microsoft.Authorization/policySetDefinitions/42b8ef37-b724-4e24-bbc8-7a7708edfe00";

/**
 * Namespaces the initiative leaves alone: Microsoft's recommendation and the initiative's default
 * (kube-system, gatekeeper-system, azure-arc, azure-extensions-usage-system; Azure Policy docs,
 * policy-for-kubernetes), the namespaces where AKS runs Calico with host networking (calico-system,
 * tigera-operator), and those the identity mode runs privileged (aad-pod-identity's NMI).
 * Exported for testing.
 */
export function podSecurityExcludedNamespaces(privileged: readonly string[]): string[] {
    return ["kube-system", "gatekeeper-system", "azure-arc", "azure-extensions-usage-system", "calico-system", "tigera-operator", ...privileged];
}

/** What Microsoft asks of a system node pool's VM size: "at least 4 vCPUs and 4 GB of memory" (AKS docs, use-system-pools). */
export const SYSTEM_POOL_MIN_VCPUS = 4;

/**
 * The plan's warnings for pool sizes of a series Azure retires later (config refuses those already
 * retired): a pool cannot change its size, so moving off one takes a new pool. Exported for testing.
 */
export function retiringSizeWarnings(sizes: Readonly<Record<string, string>>): string[] {
    return Object.entries(sizes).flatMap(([key, size]) => {
        const series = retiringSeries(size);
        return series === undefined || isRetired(series)
            ? []
            : [
                  `${key} ${size} is of the ${series.series} series, which Azure retires on ${series.retires}; a pool keeps its VM size, so moving off it takes a new pool. Choose a current size such as Standard_D4ds_v5 for a new stack.`,
              ];
    });
}

/** The first thing the stack does in the cluster: create a namespace (cluster-scoped). */
export const DEPLOYER_ACCESS_CHECKS: AccessCheck[] = [{ verb: "create", group: "", resource: "namespaces" }];

/**
 * How long the deployer's grant may take to apply: three times Microsoft's "up to five minutes" for
 * Azure RBAC for Kubernetes (AKS docs, manage-azure-rbac), which Azure/AKS#4232 shows is sometimes
 * exceeded.
 */
export const DEPLOYER_ACCESS_BUDGET_SECONDS = 900;

/** The azure-native version that sends the cluster's PUT: a new one may send it differently. */
const AZURE_NATIVE_VERSION: string = (JSON.parse(fs.readFileSync(require.resolve("@pulumi/azure-native/package.json"), "utf8")) as { version: string }).version;

/** JSON with every object's keys in order, so equal inputs give equal text. */
function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(canonicalJson).join(",")}]`;
    }
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    return JSON.stringify(value) ?? "null";
}

/**
 * A short digest of everything the cluster's PUT sends: its resolved inputs and the provider's
 * version. It changes whenever Pulumi would update the cluster resource (a PUT that sends no pod
 * identities: AKS then drops them), and pod-identity attachments take it as an input so that they
 * write their entries again after such an update. Exported for testing.
 */
export function clusterRevision(inputs: unknown, providerVersion: string): string {
    return createHash("sha256")
        .update(`${providerVersion}\n${canonicalJson(inputs)}`)
        .digest("hex")
        .slice(0, 16);
}

/**
 * The API server's access profile: its authorized ranges, and with etcd encryption its own subnet
 * (API Server VNet Integration, which a private vault requires: "KMS only supports API Server VNet
 * Integration for private key vault", AKS docs, use-kms-etcd-encryption). Exported for testing.
 */
export function apiServerAccessProfile<T>(authorizedIpRanges: string[], subnetId: T | undefined, access: ApiServerAccess = "public") {
    const ranges = authorizedIpRanges.length > 0 ? { authorizedIPRanges: authorizedIpRanges } : {};
    const integration = subnetId === undefined ? {} : { enableVnetIntegration: true, subnetId };
    // Private: public access off, the API server's name in a private DNS zone AKS makes and links to
    // the VNet ("system"), and no public name for it either.
    const privateAccess = access === "private" ? { enablePrivateCluster: true, privateDNSZone: "system", enablePrivateClusterPublicFQDN: false } : {};
    const profile = { ...ranges, ...integration, ...privateAccess };
    return Object.keys(profile).length > 0 ? profile : undefined;
}

/** The kubelogin arguments of a user kubeconfig, switched to reuse the Azure CLI's login. */
function azureCliArgs(args: string[]): string[] {
    const serverId = args[args.indexOf("--server-id") + 1];
    if (!args.includes("--server-id") || serverId === undefined) {
        throw new Error("the cluster's kubeconfig has no kubelogin --server-id argument");
    }
    return ["get-token", "--login", "azurecli", "--server-id", serverId];
}

/**
 * Rewrites the Entra ID kubeconfig AKS returns (`format: exec`, kubelogin with device-code login)
 * to log in with the Azure CLI's credentials, as `kubelogin convert-kubeconfig -l azurecli` does,
 * so that `pulumi up` runs unattended wherever `az login` was done. Exported for testing.
 */
export function kubeconfigForAzureCli(kubeconfig: string): string {
    const doc = parse(kubeconfig) as { users?: Array<{ user?: { exec?: { command?: string; args?: string[] } } }> };
    for (const entry of doc.users ?? []) {
        const exec = entry.user?.exec;
        if (exec?.command === "kubelogin" && exec.args !== undefined) {
            exec.args = azureCliArgs(exec.args);
        }
    }
    return stringify(doc);
}

export class AksCluster extends pulumi.ComponentResource {
    public readonly clusterName: pulumi.Output<string>;
    public readonly clusterId: pulumi.Output<string>;
    /** Object id of the control-plane identity, which the pod-identity add-on assigns workload identities as. */
    public readonly controlPlaneObjectId: pulumi.Output<string>;
    /** The identity of the nodes' kubelet, which the open-source aad-pod-identity assigns workload identities as. */
    public readonly kubeletIdentity: { resourceId: pulumi.Output<string>; clientId: pulumi.Output<string>; objectId: pulumi.Output<string> };
    /** Resource group AKS creates for the nodes. */
    public readonly nodeResourceGroup: pulumi.Output<string>;
    /** The cluster's OIDC issuer, which federated identity credentials trust. */
    public readonly oidcIssuerUrl: pulumi.Output<string>;
    /** The API server's public name; empty when it has none (apiServerAccess private). */
    public readonly apiServerFqdn: pulumi.Output<string>;
    /** See {@link clusterRevision}. */
    public readonly revision: pulumi.Output<string>;
    /** Kubernetes provider for the cluster, authenticating through Entra ID (kubelogin, Azure CLI). */
    public readonly provider: k8s.Provider;
    /**
     * The cluster's writes after its creation (none: both pools are created with it). AKS runs one
     * operation on a cluster at a time, so a later write to the cluster waits for them.
     */
    public readonly writes: pulumi.Resource[];
    /** What workloads' pods select to run on the user pool. */
    public readonly workloadNodeSelector: Readonly<Record<string, string>> = USER_POOL_NODE_SELECTOR;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:aks:AksCluster", name, {}, opts);
        const spec: ClusterSpec = {
            nodeCount: args.nodeCount,
            nodeVmSize: args.nodeVmSize,
            availabilityZones: args.availabilityZones,
            defender: args.defender,
            tier: args.tier,
            kubernetesVersion: args.kubernetesVersion,
            apiServerAuthorizedIpRanges: args.apiServerAuthorizedIpRanges,
            apiServerAccess: args.apiServerAccess,
            egress: args.egress,
            serviceCidr: args.serviceCidr,
            dnsServiceIp: args.dnsServiceIp,
            identityMode: args.identityMode,
            secretRotationPollInterval: args.secretRotationPollInterval ?? "2m",
        };
        const kms = args.etcdEncryption;
        if (kms !== undefined) {
            pulumi.log.warn(ETCD_ENCRYPTION_WARNING, this);
        }
        if (spec.apiServerAccess === "public" && spec.apiServerAuthorizedIpRanges.length === 0) {
            pulumi.log.warn(
                "apiServerAuthorizedIpRanges is empty: the AKS API server accepts connections from any address (Entra ID still authenticates every request). Set it to your operators' and pipelines' egress ranges.",
                this,
            );
        }

        const vcpus = vmSizeVcpus(spec.nodeVmSize);
        if (vcpus !== undefined && vcpus < SYSTEM_POOL_MIN_VCPUS) {
            pulumi.log.warn(
                `nodeVmSize ${spec.nodeVmSize} has ${vcpus} vCPUs; Microsoft asks for at least ${SYSTEM_POOL_MIN_VCPUS} in a system node pool (AKS docs, use-system-pools). Consider Standard_D4ds_v5.`,
                this,
            );
        }

        if (!spec.defender) {
            pulumi.log.warn(
                "defender is false: Microsoft Defender for Containers does not watch the cluster (no runtime threat detection, no findings in the workspace). Set defender to true unless another tool covers it.",
                this,
            );
        }

        const mode = identityModeDriver(spec.identityMode);
        if (mode.warning !== undefined) {
            pulumi.log.warn(mode.warning, this);
        }
        for (const warning of retiringSizeWarnings({ nodeVmSize: spec.nodeVmSize, userNodeVmSize: args.userPool.vmSize })) {
            pulumi.log.warn(warning, this);
        }

        // Both identities exist, with their role assignments, before the cluster does.
        const controlPlane = new managedidentity.UserAssignedIdentity(
            `${name}-control-plane-identity`,
            { resourceName: `id-${args.baseName}-aks`, resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
            { parent: this, protect: args.protect ?? true },
        );
        const kubelet = new managedidentity.UserAssignedIdentity(
            `${name}-kubelet-identity`,
            { resourceName: `id-${args.baseName}-aks-kubelet`, resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
            { parent: this, protect: args.protect ?? true },
        );
        const controlPlaneGrants = [
            grantRole(
                `${name}-control-plane-kubelet-operator`,
                {
                    principalId: controlPlane.principalId,
                    role: "managedIdentityOperator",
                    scope: kubelet.id,
                    subscriptionId: args.subscriptionId,
                    description: "The AKS control plane assigns the kubelet identity to the nodes.",
                },
                { parent: this },
            ),
            grantRole(
                `${name}-control-plane-subnet`,
                {
                    principalId: controlPlane.principalId,
                    role: "networkContributor",
                    scope: args.subnetId,
                    subscriptionId: args.subscriptionId,
                    description: "The AKS control plane joins nodes and load balancers to its own subnet only.",
                },
                { parent: this },
            ),
        ];

        // With the API server in the VNet (private, or etcd encrypted by a key in the private vault), the
        // control plane joins it to its subnet: Network Contributor there (AKS docs,
        // api-server-vnet-integration: "Lack of permissions at the API server subnet can cause a
        // provisioning failure"). With etcd encrypted, it also encrypts and decrypts with the key and
        // creates the private link AKS keeps to the vault: "Key Vault Crypto User" (or an access policy
        // of encrypt and decrypt) and, "for private key vaults, the Key Vault Contributor role ... to
        // create a private link" (AKS docs, use-kms-etcd-encryption).
        const apiServerSubnetId = args.apiServerSubnetId ?? kms?.apiServerSubnetId;
        const kmsGrants: pulumi.CustomResource[] = [];
        if (apiServerSubnetId !== undefined) {
            kmsGrants.push(
                grantRole(
                    `${name}-control-plane-api-server-subnet`,
                    {
                        principalId: controlPlane.principalId,
                        role: "networkContributor",
                        scope: apiServerSubnetId,
                        subscriptionId: args.subscriptionId,
                        description: "The AKS control plane joins the API server to its own subnet.",
                    },
                    { parent: this },
                ),
            );
        }
        if (kms !== undefined) {
            kmsGrants.push(
                grantRole(
                    `${name}-control-plane-vault-link`,
                    {
                        principalId: controlPlane.principalId,
                        role: "keyVaultContributor",
                        scope: kms.vaultId,
                        subscriptionId: args.subscriptionId,
                        description: "AKS creates its private link to the vault that holds the etcd encryption key.",
                    },
                    { parent: this },
                ),
                kms.authorization === "rbac"
                    ? grantRole(
                          `${name}-control-plane-etcd-key`,
                          {
                              principalId: controlPlane.principalId,
                              role: "keyVaultCryptoUser",
                              scope: kms.keyResourceId,
                              subscriptionId: args.subscriptionId,
                              description: "The AKS control plane encrypts etcd with this key only.",
                          },
                          { parent: this },
                      )
                    : new keyvault.AccessPolicy(
                          `${name}-control-plane-etcd-key`,
                          {
                              vaultName: kms.vaultName,
                              resourceGroupName: args.resourceGroupName,
                              policy: { tenantId: args.tenantId, objectId: controlPlane.principalId, permissions: { keys: [keyvault.KeyPermissions.Encrypt, keyvault.KeyPermissions.Decrypt] } },
                          },
                          { parent: this, dependsOn: [kms.afterVaultWrites] },
                      ),
            );
        }

        // Azure applies the grants some time after they are written; AKS uses them while it creates
        // the cluster (joining the subnet, assigning the kubelet identity to the nodes).
        const controlPlanePropagation = new RolePropagationDelay(
            `${name}-control-plane-propagation`,
            {
                seconds: args.rolePropagationSeconds ?? ROLE_PROPAGATION_SECONDS,
                reason:
                    kms === undefined
                        ? apiServerSubnetId === undefined
                            ? "AKS uses the control-plane identity's grants on the kubelet identity and the subnet while it creates the cluster; Azure applies new grants later and cannot be asked when (Azure/azure-cli#22510)."
                            : "AKS uses the control-plane identity's grants on the kubelet identity and the subnets while it creates or updates the cluster; Azure applies new grants later and cannot be asked when (Azure/azure-cli#22510)."
                        : "AKS uses the control-plane identity's grants on the kubelet identity, the subnets, the vault and the etcd key while it creates or updates the cluster; Azure applies new grants later and cannot be asked when (Azure/azure-cli#22510).",
                grants: [...controlPlaneGrants, ...kmsGrants].map((g) => g.id),
            },
            { parent: this, dependsOn: [...controlPlaneGrants, ...kmsGrants] },
        );

        const clusterArgs: containerservice.ManagedClusterArgs = {
            resourceName: `aks-${args.baseName}`,
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            dnsPrefix: args.baseName,
            nodeResourceGroup: pulumi.interpolate`${args.resourceGroupName}-aks-nodes`,
            sku: { name: containerservice.ManagedClusterSKUName.Base, tier: spec.tier },
            // Empty: the stable upgrade channel picks the version and keeps it current. A minor version
            // (an alias AKS resolves to its latest patch) is kept there by the patch channel.
            kubernetesVersion: spec.kubernetesVersion === "" ? undefined : spec.kubernetesVersion,
            identity: { type: containerservice.ResourceIdentityType.UserAssigned, userAssignedIdentities: [controlPlane.id] },
            identityProfile: { kubeletidentity: { resourceId: kubelet.id, clientId: kubelet.clientId, objectId: kubelet.principalId } },
            enableRBAC: true,
            aadProfile: { managed: true, enableAzureRBAC: true, tenantID: args.tenantId },
            disableLocalAccounts: true,
            autoUpgradeProfile: {
                // A pinned minor version takes only its patches; otherwise the stable channel moves it on.
                upgradeChannel: spec.kubernetesVersion === "" ? containerservice.UpgradeChannel.Stable : containerservice.UpgradeChannel.Patch,
                nodeOSUpgradeChannel: containerservice.NodeOSUpgradeChannel.NodeImage,
            },
            apiServerAccessProfile: apiServerAccessProfile(spec.apiServerAuthorizedIpRanges, apiServerSubnetId, spec.apiServerAccess),
            networkProfile: {
                networkPlugin: containerservice.NetworkPlugin.Azure,
                networkPolicy: containerservice.NetworkPolicy.Calico,
                serviceCidr: spec.serviceCidr,
                dnsServiceIP: spec.dnsServiceIp,
                loadBalancerSku: containerservice.LoadBalancerSku.Standard,
                outboundType: outboundTypeFor(spec.egress),
            },
            agentPoolProfiles: [
                {
                    name: "system",
                    mode: containerservice.AgentPoolMode.System,
                    type: containerservice.AgentPoolType.VirtualMachineScaleSets,
                    osType: containerservice.OSType.Linux,
                    count: spec.nodeCount,
                    vmSize: spec.nodeVmSize,
                    vnetSubnetID: args.subnetId,
                    // The subnet-size check in config.ts assumes exactly this many pods per node
                    // and one surge node.
                    maxPods: MAX_PODS_PER_NODE,
                    upgradeSettings: { maxSurge: "1" },
                    enableNodePublicIP: false,
                    nodeTaints: [SYSTEM_POOL_TAINT],
                    availabilityZones: spec.availabilityZones.length > 0 ? spec.availabilityZones : undefined,
                    tags: args.tags,
                },
                {
                    // The workloads' pool, which the cluster autoscaler sizes within the bounds.
                    name: USER_POOL_NAME,
                    mode: containerservice.AgentPoolMode.User,
                    type: containerservice.AgentPoolType.VirtualMachineScaleSets,
                    osType: containerservice.OSType.Linux,
                    vmSize: args.userPool.vmSize,
                    vnetSubnetID: args.subnetId,
                    // The subnet-size check in config.ts counts this pool at its maximum with one surge node.
                    maxPods: MAX_PODS_PER_NODE,
                    enableAutoScaling: true,
                    minCount: args.userPool.minCount,
                    maxCount: args.userPool.maxCount,
                    // Sent when the cluster is created; afterwards the autoscaler owns it (ignoreChanges).
                    count: args.userPool.minCount,
                    availabilityZones: spec.availabilityZones.length > 0 ? spec.availabilityZones : undefined,
                    upgradeSettings: { maxSurge: "1" },
                    enableNodePublicIP: false,
                    tags: args.tags,
                },
            ],
            // Identities are refused in the request that creates the cluster; the add-on's driver
            // attaches them afterwards (PodIdentities).
            podIdentityProfile: { enabled: mode.cluster.podIdentityAddon, allowNetworkPluginKubenet: false },
            addonProfiles: {
                azureKeyvaultSecretsProvider: {
                    enabled: true,
                    config: { enableSecretRotation: "true", rotationPollInterval: spec.secretRotationPollInterval },
                },
                // Gatekeeper with Azure Policy's definitions, reporting compliance to Azure Policy.
                azurepolicy: { enabled: true },
            },
            // The OIDC issuer stays on in every mode: AKS cannot turn it off again, so a switch
            // back from Workload ID must not try to.
            oidcIssuerProfile: { enabled: true },
            securityProfile: {
                imageCleaner: { enabled: true, intervalHours: 48 },
                workloadIdentity: { enabled: mode.cluster.workloadIdentity },
                defender: spec.defender ? { logAnalyticsWorkspaceResourceId: args.diagnostics.workspaceId, securityMonitoring: { enabled: true } } : { securityMonitoring: { enabled: false } },
                // A private vault: AKS reaches it through its own private link, from the API server's subnet.
                azureKeyVaultKms:
                    kms === undefined ? undefined : { enabled: true, keyId: kms.keyId, keyVaultNetworkAccess: containerservice.KeyVaultNetworkAccessTypes.Private, keyVaultResourceId: kms.vaultId },
            },
            tags: args.tags,
        };
        const cluster = new containerservice.ManagedCluster(`${name}-cluster`, clusterArgs, {
            parent: this,
            dependsOn: [controlPlanePropagation, ...(args.egressPath ?? [])],
            protect: args.protect ?? true,
            ignoreChanges: clusterIgnoreChanges(spec.kubernetesVersion),
        });

        attachDiagnostics(`${name}-cluster`, cluster.id, clusterDiagnostics(args.fullKubeAudit), args.diagnostics, this);
        this.writes = [];

        // The Azure Policy add-on enforces the restricted pod security initiative on the cluster: it
        // denies what the restricted standard refuses, outside AKS's and the mode's own namespaces.
        new authorization.PolicyAssignment(
            `${name}-pod-security`,
            {
                policyAssignmentName: "aiv-pod-security-restricted",
                displayName: "Kubernetes pod security restricted standards (aks-identity-vault)",
                description: "Denies pods that the Kubernetes restricted pod security standard refuses, outside AKS's and the identity mode's own namespaces.",
                scope: cluster.id,
                policyDefinitionId: POD_SECURITY_RESTRICTED_INITIATIVE,
                enforcementMode: authorization.EnforcementMode.Default,
                parameters: {
                    effect: { value: "Deny" },
                    excludedNamespaces: { value: podSecurityExcludedNamespaces(mode.privilegedNamespaces) },
                },
            },
            { parent: this },
        );

        const deployerAdmin = grantRole(
            `${name}-deployer-admin`,
            {
                principalId: args.admin.objectId,
                principalType: args.admin.principalType,
                role: "aksRbacClusterAdmin",
                scope: cluster.id,
                subscriptionId: args.subscriptionId,
                description: "Whoever runs pulumi up manages the cluster's Kubernetes objects through Azure RBAC.",
            },
            { parent: this },
        );

        const credentials = containerservice.listManagedClusterUserCredentialsOutput({ resourceGroupName: args.resourceGroupName, resourceName: cluster.name, format: "exec" }, { parent: this });
        const kubeconfig = pulumi.secret(
            credentials.kubeconfigs.apply((configs) => {
                const first = configs[0];
                if (first === undefined) {
                    throw new Error("AKS returned no user kubeconfig");
                }
                return kubeconfigForAzureCli(Buffer.from(first.value, "base64").toString("utf8"));
            }),
        );
        // The deployer's grant is honoured by the API server minutes after it is written; until then
        // every Kubernetes call is refused with 403. The provider waits until it is.
        // The runners' VNet resolves the private API server's name once AKS's zone is linked to it.
        const runnerReach: pulumi.Resource[] = [];
        if (args.runners !== undefined && spec.apiServerAccess === "private") {
            const zone = cluster.privateFQDN.apply((fqdn) => privateZoneOf(fqdn ?? ""));
            runnerReach.push(
                new privatedns.VirtualNetworkLink(
                    `${name}-runner-dns-link`,
                    {
                        virtualNetworkLinkName: `runners-${args.baseName}`,
                        privateZoneName: zone,
                        resourceGroupName: cluster.nodeResourceGroup.apply((rg) => rg ?? ""),
                        location: "global",
                        virtualNetwork: { id: args.runners.vnetId },
                        registrationEnabled: false,
                        tags: args.tags,
                    },
                    { parent: this },
                ),
                ...args.runners.peerings,
            );
        }
        const deployerAccess = new ClusterAccessWait(
            `${name}-deployer-access`,
            {
                kubeconfig,
                checks: args.deployerAccessChecks ?? DEPLOYER_ACCESS_CHECKS,
                grants: [deployerAdmin.id],
                budgetSeconds: args.deployerAccessBudgetSeconds ?? DEPLOYER_ACCESS_BUDGET_SECONDS,
            },
            { parent: this, additionalSecretOutputs: ["kubeconfig"], dependsOn: runnerReach },
        );
        // Pods other than AKS's critical add-ons run only on the user pool, which AKS creates with the
        // cluster; the Kubernetes objects wait for the deployer's access.
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig, enableServerSideApply: true }, { parent: this, dependsOn: [deployerAccess] });

        this.clusterName = cluster.name;
        this.clusterId = cluster.id;
        this.controlPlaneObjectId = controlPlane.principalId;
        this.kubeletIdentity = { resourceId: kubelet.id, clientId: kubelet.clientId, objectId: kubelet.principalId };
        this.nodeResourceGroup = cluster.nodeResourceGroup.apply((rg) => rg ?? "");
        this.oidcIssuerUrl = cluster.oidcIssuerProfile.apply((profile) => profile?.issuerURL ?? "");
        this.apiServerFqdn = cluster.fqdn.apply((fqdn) => fqdn ?? "");
        // Every input of the cluster's PUT, and the provider that sends it.
        this.revision = pulumi.output(clusterArgs).apply((inputs) => clusterRevision(inputs, AZURE_NATIVE_VERSION));
        this.registerOutputs({
            clusterName: this.clusterName,
            clusterId: this.clusterId,
            kubeletIdentity: this.kubeletIdentity,
            nodeResourceGroup: this.nodeResourceGroup,
            oidcIssuerUrl: this.oidcIssuerUrl,
            revision: this.revision,
        });
    }
}
