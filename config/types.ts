// The typed configuration the components receive, and the choices it names.
import type { IdentityMode, IdentityType } from "../identityModes";

export const KEY_VAULT_AUTHORIZATIONS = ["rbac", "accessPolicy"] as const;
/** How the Key Vault authorizes data-plane access: Azure RBAC or vault access policies. */
export type KeyVaultAuthorization = (typeof KEY_VAULT_AUTHORIZATIONS)[number];

/** One application team's slice of the stack. */
export interface WorkloadConfig {
    /** Short name: the identity, the blob container and the Key Vault secret are named after it. */
    name: string;
    /** The Kubernetes namespace the workload runs in. */
    namespace: string;
    /** The value pods carry in the `aadpodidbinding` label to claim the identity. Defaults to `name`. */
    bindingSelector: string;
    /** The service account the workload's pods run as. Defaults to `<name>-workload`. */
    serviceAccount: string;
    /** Defaults to `managedIdentity`; `servicePrincipal` needs identityMode `podIdentityOss`. */
    identityType: IdentityType;
    /**
     * Mirror the workload's secret into a Kubernetes Secret (the CSI driver's `secretObjects`), where it
     * sits in etcd, which `etcdEncryption` must then encrypt with the stack's key. Defaults to false:
     * the secret stays in Key Vault and reaches pods only as a mounted file.
     */
    syncSecret: boolean;
}

/** A workload as config takes it: the optional fields are filled in by `parseConfig`. */
export interface WorkloadEntry {
    name: string;
    namespace: string;
    bindingSelector?: string;
    serviceAccount?: string;
    identityType?: IdentityType;
    syncSecret?: boolean;
}

export interface NetworkConfig {
    vnetAddressSpace: string;
    aksSubnetPrefix: string;
    privateEndpointSubnetPrefix: string;
    /** The API server's own subnet, used when the API server is private or etcd is encrypted with the stack's key. */
    apiServerSubnetPrefix: string;
    /** Azure Firewall's subnet (`AzureFirewallSubnet`), used when egress goes through the firewall. */
    firewallSubnetPrefix: string;
    /** Days the VNet's flow logs stay in their storage account. */
    flowLogRetentionDays: number;
    /** The region's Network Watcher, which holds the VNet's flow log. */
    networkWatcher: { resourceGroupName: string; name: string };
    /** The VNet of the runners that deploy a private stack, peered with the stack's; empty for none. */
    runnerVnetId: string;
}

/** The smallest subnet AKS's API Server VNet Integration accepts: a /28 (AKS docs, api-server-vnet-integration). */
export const API_SERVER_SUBNET_MIN_PREFIX = 28;
/** The smallest `AzureFirewallSubnet`: a /26 (Azure Firewall FAQ). */
export const FIREWALL_SUBNET_MIN_PREFIX = 26;

export const API_SERVER_ACCESS_MODES = ["public", "private"] as const;
/**
 * Where the API server listens: `public` (a public address, optionally limited to authorized ranges)
 * or `private` (API Server VNet Integration with public access off: an address in the VNet only).
 */
export type ApiServerAccess = (typeof API_SERVER_ACCESS_MODES)[number];

export const EGRESS_MODES = ["loadBalancer", "natGateway", "firewall"] as const;
/**
 * How the nodes reach the internet: through the cluster's load balancer (`loadBalancer`), a NAT
 * gateway on the AKS subnet (`natGateway`), or the stack's Azure Firewall, which admits only what AKS,
 * the identity mode and the verifier need (`firewall`).
 */
export type Egress = (typeof EGRESS_MODES)[number];

export const PRINCIPAL_TYPES = ["User", "ServicePrincipal", "Group"] as const;

export const CLUSTER_TIERS = ["Free", "Standard"] as const;
/** The AKS pricing tier (AKS docs, free-standard-pricing-tiers). */
export type ClusterTier = (typeof CLUSTER_TIERS)[number];
/** What kind of Entra principal runs `pulumi up`. */
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

export interface ClusterConfig {
    /** Nodes of the system pool, which runs only critical add-ons (tainted `CriticalAddonsOnly`). */
    nodeCount: number;
    nodeVmSize: string;
    /** The user pool, where workloads run: the cluster autoscaler keeps it between these counts. */
    userPool: { minCount: number; maxCount: number; vmSize: string };
    /** Availability zones both pools spread over; empty in a region without zones. */
    availabilityZones: string[];
    /** Microsoft Defender for Containers' sensor, reporting to the stack's workspace. */
    defender: boolean;
    /** The AKS pricing tier: `Free` (no uptime SLA) or `Standard` (an SLA, for production). */
    tier: ClusterTier;
    /** The Kubernetes minor version to create or upgrade to (`1.33`); empty follows the `stable` upgrade channel. */
    kubernetesVersion: string;
    /** CIDRs allowed to reach a public API server. Empty means reachable from anywhere (warned). */
    apiServerAuthorizedIpRanges: string[];
    /** Whether the API server has a public address (`public`) or only one in the VNet (`private`). */
    apiServerAccess: ApiServerAccess;
    /** How the nodes reach the internet. */
    egress: Egress;
    /** Kubernetes service address range; must not overlap the VNet. */
    serviceCidr: string;
    /** The cluster DNS service's address: the tenth address of `serviceCidr`. */
    dnsServiceIp: string;
    /** Principal type of whoever runs `pulumi up`, who is made cluster admin through Azure RBAC. */
    deployerPrincipalType: PrincipalType;
    /** The Entra object made cluster admin: `deployerObjectId`, or (empty) whoever runs `pulumi up`. */
    deployerObjectId: string;
}

/** Where the stack's logs go, and what they hold. */
export interface LoggingConfig {
    /** Days the Log Analytics workspace keeps its data (30 to 730). */
    retentionDays: number;
    /** Also send AKS's full `kube-audit` log (reads included) besides `kube-audit-admin`. */
    fullKubeAudit: boolean;
}

/** How long the demo secrets and keys live. */
export interface LifecycleConfig {
    /** Days from its creation until a demo secret expires. */
    secretLifetimeDays: number;
    /** Days each version of a demo key lives; Key Vault rotates it before they end. */
    keyLifetimeDays: number;
}

export interface DemoConfig {
    /**
     * The demo at all: each workload's secret and key in the vault, the SecretProviderClass that mounts
     * them, the canary, and the verification and impostor Jobs. Off, a stack carries none of them.
     */
    enabled: boolean;
    /** Image of the verification Jobs: an official Node.js image, pinned. */
    verifierImage: string;
    /** Names this round of verification: a new value gives the Jobs new names, so `pulumi up` runs them again. Empty by default. */
    verificationRun: string;
}

/** What `verificationRun` may be: it ends the Jobs' names, which Kubernetes keeps to 63 characters. */
export const VERIFICATION_RUN_PATTERN = /^([a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?)?$/;

/** The whole validated configuration of one stack. */
export interface StackConfig {
    stack: string;
    location: string;
    /** Lower-case prefix of resource names, derived from the stack name (`aiv-dev`). */
    baseName: string;
    identityMode: IdentityMode;
    keyVaultAuthorization: KeyVaultAuthorization;
    network: NetworkConfig;
    cluster: ClusterConfig;
    demo: DemoConfig;
    logging: LoggingConfig;
    lifecycle: LifecycleConfig;
    workloads: WorkloadConfig[];
    /** etcd encrypted with the stack's key (AKS KMS) through the API server's own subnet; a workload that syncs needs it. */
    etcdEncryption: boolean;
    protectStatefulResources: boolean;
    /** Tags put on every Azure resource that takes them. */
    tags: Record<string, string>;
}
