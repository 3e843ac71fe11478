// The only place that reads Pulumi config. Everything the stack needs is read here once, validated,
// and handed to the components as one typed object. Bad input stops the run before any resource is
// registered, with one line that names the key, the value and what is allowed.
import * as pulumi from "@pulumi/pulumi";
import { AKS_OLDEST_MINOR, AKS_SUPPORTED_MINORS, AZURE_REGIONS, CATALOG_DATE, compareMinors, isRetired, retiringSeries, ZONE_REGIONS } from "./azureCatalog";
import * as ipaddr from "ipaddr.js";
import { z } from "zod";
import { DEFAULT_IDENTITY_MODE, IDENTITY_MODE_CATALOG, IDENTITY_MODES, IDENTITY_TYPES, modesAllowing } from "./identityModes";
import type { IdentityMode, IdentityType } from "./identityModes";

/** The project name, which is also the namespace of the project's config keys. */
export const PROJECT = "aks-identity-vault";

export { IDENTITY_MODES, IDENTITY_TYPES } from "./identityModes";
export type { IdentityMode, IdentityType } from "./identityModes";

/**
 * The name of the canary: a Key Vault secret and a blob container that no identity is granted, which
 * every bound verification Job tries to read (and the container to write) and must be refused.
 */
export const CANARY_NAME = "canary";

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
const VERIFICATION_RUN_PATTERN = /^([a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?)?$/;

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

/** Azure CNI (without overlay) gives every node this many pod addresses plus its own. */
export const MAX_PODS_PER_NODE = 30;
/** Azure keeps the first four and the last address of every subnet. */
const AZURE_RESERVED_PER_SUBNET = 5;
/** Node-image upgrades add one surge node to each pool while it rolls (`maxSurge: "1"`). */
export const UPGRADE_SURGE_NODES = 1;
const MAX_NODE_COUNT = 100;
/** The zones of a region with availability zones, as AKS names them (uksouth has all three). */
export const AVAILABILITY_ZONES = ["1", "2", "3"] as const;
/** A Log Analytics workspace's retention on the PerGB2018 tier (operationalinsights Workspace, retentionInDays). */
const MIN_LOG_RETENTION_DAYS = 30;
const MAX_LOG_RETENTION_DAYS = 730;
/** The longest retention a flow log's storage policy takes (Network Watcher docs, vnet-flow-logs-overview). */
const MAX_FLOW_LOG_RETENTION_DAYS = 365;
/** Ten years: longer lifetimes are not a lifecycle. */
const MAX_LIFETIME_DAYS = 3650;
/** When a key's rotation policy rotates it and notifies, in days before the version expires. */
export const KEY_ROTATE_BEFORE_EXPIRY_DAYS = 30;
export const KEY_NOTIFY_BEFORE_EXPIRY_DAYS = 37;
/**
 * The shortest key lifetime the policy allows: Key Vault needs the rotation at least 7 days after
 * creation ("the minimum value is seven days from creation"), so the notification, the earlier of the
 * two, comes at least 7 days after creation too.
 */
export const MIN_KEY_LIFETIME_DAYS = KEY_NOTIFY_BEFORE_EXPIRY_DAYS + 7;
const MAX_WORKLOADS = 100;

/** The tags the stack sets itself: on every resource, and on some one of these two. */
export const STACK_TAG_NAMES = ["project", "stack", "managed-by"] as const;
const RESOURCE_TAG_NAMES = ["workload", "purpose"] as const;
/**
 * The fewest tags a resource the stack tags may carry: Private DNS zones and Key Vault keys and secrets
 * take 15 (Azure Resource Manager docs, tag-resources; Key Vault docs, about-keys-details), less the
 * stack's own, at most five on one resource.
 */
export const MAX_USER_TAGS = 15 - STACK_TAG_NAMES.length - RESOURCE_TAG_NAMES.length;
/** A tag name every resource the stack tags accepts: storage accounts take names of 128; DNS zones no special characters, spaces or a leading digit. */
const TAG_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
const MAX_TAG_VALUE_LENGTH = 256;

/** Azure's smallest IPv4 subnet (virtual network FAQ: "The smallest supported IPv4 subnet is /29"). */
export const SMALLEST_SUBNET_PREFIX = 29;
/**
 * The largest service range Kubernetes accepts: kube-apiserver refuses more than 20 host bits
 * ("for 32-bit addresses, the mask must be >= 12", cmd/kube-apiserver/app/options/validation.go).
 */
export const LARGEST_SERVICE_CIDR_PREFIX = 12;
/**
 * Ranges AKS keeps for itself: "AKS clusters can't use 169.254.0.0/16, 172.30.0.0/16, 172.31.0.0/16,
 * or 192.0.2.0/24 for the Kubernetes service address range, pod address range, or cluster virtual
 * network address range" (AKS docs, configure-kubenet and the Azure CNI overview).
 */
export const AKS_RESERVED_RANGES = ["169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24"] as const;
/**
 * Ranges Azure refuses in a virtual network (virtual network FAQ): multicast, broadcast, loopback,
 * link-local and the platform's DNS address.
 */
export const VNET_FORBIDDEN_RANGES = ["224.0.0.0/4", "255.255.255.255/32", "127.0.0.0/8", "169.254.0.0/16", "168.63.129.16/32"] as const;
/**
 * Namespaces the cluster already has or that AKS, its add-ons or this stack create for themselves: a
 * workload's own Namespace resource would collide with them. Kubernetes creates default and the
 * kube-* ones; AKS's Calico runs its operator in tigera-operator and Calico in calico-system; the
 * Azure Policy add-on uses gatekeeper-system, application routing app-routing-system, the Istio
 * add-on aks-istio-system, `az aks command invoke` aks-command (AKS docs, managed-namespaces and
 * core-aks-concepts); this stack installs aad-pod-identity in aad-pod-identity and plays another
 * tenant of the cluster from aiv-impostor.
 */
/** The namespace from which the stack plays another tenant of the cluster (components/impostorProof.ts). */
export const IMPOSTOR_NAMESPACE = "aiv-impostor";

export const RESERVED_NAMESPACES = [
    "default",
    "aad-pod-identity",
    IMPOSTOR_NAMESPACE,
    "calico-system",
    "tigera-operator",
    "gatekeeper-system",
    "app-routing-system",
    "aks-istio-system",
    "istio-system",
    "aks-command",
] as const;
/**
 * The longest base name (`aiv-<stack>`) whose derived names Azure accepts: it is the cluster's DNS
 * prefix, at most 54 characters (the AKS API's rule, as terraform-provider-azurerm validates it), and
 * `aks-<base>` is the cluster's name, at most 63 (Azure's resource naming rules).
 */
export const MAX_BASE_NAME_LENGTH = 54;
/** The workload names whose identity (`id-<base>-<name>`) would be one of the cluster's own identities. */
export const CLUSTER_IDENTITY_SUFFIXES = ["aks", "aks-kubelet"] as const;
/** The service account the demo's unbound Job runs as, in the workload's namespace. Exported for testing. */
export function unboundServiceAccountName(workloadName: string): string {
    return `${workloadName}-unbound`;
}

/**
 * A configuration problem. It extends RunError so that `pulumi up` prints only the message: one
 * line, no stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

/** Renders a config value for an error message, cut short when long. */
export function showValue(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function fail(key: string, value: unknown, allowed: string): never {
    const what = value === undefined ? `Missing config ${key}` : `Invalid config ${key} = ${showValue(value)}`;
    throw new ConfigError(`${what}: ${allowed}.`);
}

function projectKey(key: string): string {
    return `${PROJECT}:${key}`;
}

// ---------------------------------------------------------------------------------------------
// Address maths, on ipaddr.js. Exported for testing.

/** Parses an IPv4 CIDR written as four decimal parts with no host bits set, or returns undefined. */
export function parseIpv4Cidr(cidr: string): [ipaddr.IPv4, number] | undefined {
    if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(cidr)) {
        return undefined;
    }
    const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
    if (ipaddr.IPv4.networkAddressFromCIDR(cidr).toString() !== address.toString()) {
        return undefined;
    }
    return [address, prefix];
}

function requireCidr(cidr: string): [ipaddr.IPv4, number] {
    const parsed = parseIpv4Cidr(cidr);
    if (parsed === undefined) {
        throw new Error(`not a canonical IPv4 CIDR: ${cidr}`);
    }
    return parsed;
}

/** True when every address of `inner` lies in `outer`. Both must be canonical IPv4 CIDRs. */
export function cidrContains(outer: string, inner: string): boolean {
    const [outerAddress, outerPrefix] = requireCidr(outer);
    const [innerAddress, innerPrefix] = requireCidr(inner);
    return innerPrefix >= outerPrefix && innerAddress.match(outerAddress, outerPrefix);
}

/** True when two canonical IPv4 CIDRs share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
    return cidrContains(a, b) || cidrContains(b, a);
}

/** The address `offset` places after the network address of a canonical IPv4 CIDR. */
export function cidrHost(cidr: string, offset: number): string {
    const [address] = requireCidr(cidr);
    const value = address.toByteArray().reduce((acc, byte) => acc * 256 + byte, 0) + offset;
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Number of addresses in a canonical IPv4 CIDR. */
export function cidrSize(cidr: string): number {
    return 2 ** (32 - requireCidr(cidr)[1]);
}

/** How many nodes fit in an Azure CNI subnet, keeping room for one surge node during upgrades. */
/** How many nodes, surge nodes included, an Azure CNI subnet holds. Exported for testing. */
export function subnetNodeCapacity(cidr: string, maxPodsPerNode = MAX_PODS_PER_NODE): number {
    const usable = cidrSize(cidr) - AZURE_RESERVED_PER_SUBNET;
    return Math.max(0, Math.floor(usable / (maxPodsPerNode + 1)));
}

/**
 * The most nodes the cluster's pools can have at once: each at its largest (the user pool at the
 * autoscaler's maximum) plus its surge node. Traditional Azure CNI reserves every node's pod addresses
 * when the node is created. Exported for testing.
 */
export function poolsNodesAtMost(cluster: { nodeCount: number; userPool: { maxCount: number } }): number {
    return cluster.nodeCount + UPGRADE_SURGE_NODES + cluster.userPool.maxCount + UPGRADE_SURGE_NODES;
}

// ---------------------------------------------------------------------------------------------
// Names. Exported for testing.

/** Kubernetes namespace names: RFC 1123 labels. */
export const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Workload names: they become blob container, identity and secret names. */
export const WORKLOAD_NAME_PATTERN = /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/;
/** Kubernetes service account names: RFC 1123 subdomains. */
export const SERVICE_ACCOUNT_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kubernetes label values. */
export const LABEL_VALUE_PATTERN = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** The parts of a container image reference. */
export interface ImageReference {
    /** Registry host with its optional port (`myregistry.example.com:5000`); absent for Docker Hub's short names. */
    domain?: string;
    /** Repository path below the registry (`mirror/node`). */
    path: string;
    tag?: string;
    /** `algorithm:hex`, such as `sha256:…`. */
    digest?: string;
}

// The reference grammar of the distribution project (github.com/distribution/reference, which
// containerd and the kubelet parse image names with): a domain is a host with an optional port.
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const IMAGE_REFERENCE = new RegExp(
    `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);
/** The longest name (domain and path) the grammar allows. */
const IMAGE_NAME_MAX_LENGTH = 255;
/** Digest algorithms registered by the OCI image specification, with their hex lengths. */
const DIGEST_HEX_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

/**
 * Parses a container image reference (`[domain[:port]/]path[:tag][@digest]`), or returns undefined
 * when it is not one. A first component is the registry only when a path follows it. Exported for
 * testing.
 */
export function parseImageReference(reference: string): ImageReference | undefined {
    const match = IMAGE_REFERENCE.exec(reference);
    if (match === null) {
        return undefined;
    }
    const [, domain, path, tag, digest] = match;
    const name = domain === undefined ? path : `${domain}/${path}`;
    if (name.length > IMAGE_NAME_MAX_LENGTH) {
        return undefined;
    }
    if (digest !== undefined) {
        const [algorithm, hex] = digest.split(":");
        if (DIGEST_HEX_LENGTHS[algorithm] !== hex.length || hex !== hex.toLowerCase()) {
            return undefined;
        }
    }
    return {
        ...(domain === undefined ? {} : { domain }),
        path,
        ...(tag === undefined ? {} : { tag }),
        ...(digest === undefined ? {} : { digest }),
    };
}

/** True when a reference names one image for good: a digest, or a tag other than `latest`. Exported for testing. */
export function isPinnedImageReference(reference: ImageReference | undefined): boolean {
    return reference !== undefined && (reference.digest !== undefined || (reference.tag !== undefined && reference.tag !== "latest"));
}

/** Derives the lower-case resource name prefix from the stack name: `dev` becomes `aiv-dev`. */
export function baseNameForStack(stack: string): string {
    const cleaned = stack
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "");
    if (cleaned === "") {
        throw new ConfigError(`Invalid stack name ${showValue(stack)}: it must contain at least one letter or digit.`);
    }
    const baseName = `aiv-${cleaned}`;
    if (baseName.length > MAX_BASE_NAME_LENGTH) {
        throw new ConfigError(
            `Invalid stack name ${showValue(stack)}: the names derived from it would be too long for Azure (the cluster's DNS prefix ${baseName} is ${baseName.length} characters, at most ${MAX_BASE_NAME_LENGTH}); use a stack name of at most ${MAX_BASE_NAME_LENGTH - 4} letters, digits and hyphens.`,
        );
    }
    return baseName;
}

// ---------------------------------------------------------------------------------------------
// The schema: every key of the project, declared once. The typed values, the list of known keys,
// the defaults, Pulumi.yaml's `config:` block and the docs' configuration reference come from it
// (`npm run generate` writes the last two; a test fails when they are stale).

/** One config key: everything about it. */
export interface KeyDeclaration<T> {
    /** How Pulumi.yaml declares it; `objectList` for a list of objects and `object` for a map, which Pulumi.yaml cannot declare (they are set in the stack file). */
    type: "string" | "integer" | "boolean" | "stringList" | "objectList" | "object";
    /** The value when the key is unset. */
    default: T;
    /** One sentence: what the key decides. */
    description: string;
    /** What is allowed, in words, for the configuration reference. */
    allowed: string;
    /** The fields of each object, for an `objectList`: what each is and allows. */
    fields?: Readonly<Record<string, string>>;
    /**
     * Validates a set value (the engine's string, or for lists the parsed JSON) and returns the typed
     * value; each message says what is allowed. Built on each parse (once per program run), so that
     * every test that parses config runs the code of the schemas it checks.
     */
    schema: () => z.ZodType<T>;
}

/** A declaration, with its value type inferred from its default. */
function declare<T>(declaration: KeyDeclaration<T>): KeyDeclaration<T> {
    return declaration;
}

const cidrSchema = () => z.string().refine((v) => parseIpv4Cidr(v) !== undefined, "must be an IPv4 CIDR such as 10.76.0.0/22 with no host bits set");

const wholeNumber = (min: number, max: number) =>
    z
        .string()
        .trim()
        .regex(/^-?\d+$/, `must be a whole number from ${min} to ${max}`)
        .transform(Number)
        .pipe(z.number().min(min, `must be a whole number from ${min} to ${max}`).max(max, `must be a whole number from ${min} to ${max}`));

const booleanSchema = () => z.enum(["true", "false"], "must be true or false").transform((v) => v === "true");

/** A string field; says "required" when it is missing rather than zod's type message. */
const textField = (what: string) => z.string({ error: (issue) => (issue.input === undefined ? `required: ${what}` : `must be a string: ${what}`) });

/** One of `values`, named in the message. */
const oneOf = <T extends string>(values: readonly [T, ...T[]]) => z.enum(values, `must be one of ${values.join(", ")}`);

/** `a, b or c`. */
function listOr(values: readonly string[]): string {
    return values.length < 2 ? values.join("") : `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;
}

/** The fields of a workload, as config takes them. */
const WORKLOAD_FIELDS = {
    name: "3-24 lower-case letters, digits and single hyphens; it names the blob container, the identity and the Key Vault secret. Required.",
    namespace: "the Kubernetes namespace the workload runs in: a namespace name, not `default`, `kube-*` or one AKS, its add-ons or this stack create. Required.",
    bindingSelector: "the `aadpodidbinding` label value pods carry in the pod-identity modes; defaults to `name`.",
    serviceAccount: "the service account the workload's pods run as; defaults to `<name>-workload` (not `default`, not `<name>-unbound`).",
    syncSecret:
        "`true` mirrors the workload's secret into a Kubernetes Secret (in etcd, readable by whoever may get Secrets in the namespace), and needs `etcdEncryption` true; defaults to `false`: the secret stays in Key Vault and reaches pods as a mounted file only.",
    identityType: `\`managedIdentity\` (the default) or \`servicePrincipal\`, which only identityMode ${listOr(modesAllowing("servicePrincipal"))} supports.`,
} as const;

/** The project's config keys, each with its declaration. */
const DECLARATIONS = {
    identityMode: declare<IdentityMode>({
        type: "string",
        default: DEFAULT_IDENTITY_MODE,
        description: `How pods get their Azure identity: ${listOr(IDENTITY_MODES)}.`,
        allowed: IDENTITY_MODES.map((m) => `\`${m}\`: ${IDENTITY_MODE_CATALOG[m].summary}`).join("; ") + " (see docs/identity-modes.md).",
        schema: () => oneOf(IDENTITY_MODES),
    }),
    keyVaultAuthorization: declare<KeyVaultAuthorization>({
        type: "string",
        default: "rbac",
        description: "How the Key Vault authorizes workloads: rbac (role assignments per secret) or accessPolicy.",
        allowed: "`rbac` (role assignments scoped to each secret and key) or `accessPolicy` (one vault access policy per workload).",
        schema: () => oneOf(KEY_VAULT_AUTHORIZATIONS),
    }),
    vnetAddressSpace: declare({
        type: "string",
        default: "10.76.0.0/21",
        description: "Address space of the virtual network (IPv4 CIDR).",
        allowed: "An IPv4 CIDR with no host bits set, clear of the ranges Azure refuses in a VNet and of those AKS reserves.",
        schema: cidrSchema,
    }),
    aksSubnetPrefix: declare({
        type: "string",
        // A /22 holds 32 nodes: room for a team's first edits (a third system node, a larger user pool,
        // each pool's surge node) under traditional Azure CNI, which reserves every node's pod addresses.
        default: "10.76.4.0/22",
        description: "Subnet for AKS nodes and pods (Azure CNI); inside vnetAddressSpace.",
        allowed: `Inside the VNet, /${SMALLEST_SUBNET_PREFIX} or larger; holds nodes and pods (Azure CNI: ${MAX_PODS_PER_NODE + 1} addresses per node).`,
        schema: cidrSchema,
    }),
    privateEndpointSubnetPrefix: declare({
        type: "string",
        default: "10.76.2.0/26",
        description: "Subnet for the Key Vault and Storage private endpoints; inside vnetAddressSpace, apart from the AKS subnet.",
        allowed: `Inside the VNet, /${SMALLEST_SUBNET_PREFIX} or larger, not overlapping the AKS subnet.`,
        schema: cidrSchema,
    }),
    apiServerSubnetPrefix: declare({
        type: "string",
        default: "10.76.3.0/28",
        description: "Subnet the AKS API server joins (API Server VNet Integration) when apiServerAccess is private or etcdEncryption is on; inside vnetAddressSpace, apart from the other subnets.",
        allowed: `Inside the VNet, /${API_SERVER_SUBNET_MIN_PREFIX} or larger, not overlapping the AKS or the endpoint subnet.`,
        schema: cidrSchema,
    }),
    firewallSubnetPrefix: declare({
        type: "string",
        default: "10.76.0.0/26",
        description: "Subnet of the stack's Azure Firewall (AzureFirewallSubnet) when egress is firewall; inside vnetAddressSpace, apart from the other subnets.",
        allowed: `Inside the VNet, /${FIREWALL_SUBNET_MIN_PREFIX} or larger, not overlapping the other subnets.`,
        schema: cidrSchema,
    }),
    apiServerAccess: declare<ApiServerAccess>({
        type: "string",
        default: "public",
        description:
            "Where the AKS API server listens: public (a public address; limit it with apiServerAuthorizedIpRanges) or private (API Server VNet Integration with public access off; pulumi up must then run from inside the VNet, docs/operations.md).",
        allowed:
            "`public` or `private`. `private` takes no apiServerAuthorizedIpRanges. Moving a cluster from `public` to `private` turns VNet Integration on for good, reimages the nodes and asks for `az aks stop` and `az aks start` right after; `private` to `public` turns only public access back on.",
        schema: () => oneOf(API_SERVER_ACCESS_MODES),
    }),
    egress: declare<Egress>({
        type: "string",
        default: "loadBalancer",
        description:
            "How the nodes reach the internet: loadBalancer (AKS's load balancer, to anywhere), natGateway (a NAT gateway on the AKS subnet, to anywhere) or firewall (the stack's Azure Firewall, which admits only what AKS, the identity mode and the verifier need).",
        allowed:
            "`loadBalancer`, `natGateway` or `firewall` (docs/operations.md says which a production stack should choose, docs/cost.md what each costs). Chosen when the cluster is created: azure-native replaces a cluster whose outbound type changes, which its protection refuses; move an existing cluster with `az aks update --outbound-type` first (docs/operations.md).",
        schema: () => oneOf(EGRESS_MODES),
    }),
    networkWatcher: declare({
        type: "string",
        default: "",
        description:
            "The region's Network Watcher, which holds the VNet's flow log, as `<resource group>/<name>`; empty names the one Azure enables itself (NetworkWatcherRG/NetworkWatcher_<region>).",
        allowed: "Empty, or a resource group name and a Network Watcher name joined by `/` (a subscription has one Network Watcher per region).",
        schema: () => z.string().regex(/^([-\w._()]{1,90}\/[-\w._]{1,80})?$/, "must be empty or <resource group>/<name>, such as NetworkWatcherRG/NetworkWatcher_uksouth"),
    }),
    runnerVnetId: declare({
        type: "string",
        default: "",
        description:
            "ARM id of the VNet where the runners that deploy a private stack run (a hub, or a VNet of GitHub-hosted runners with Azure private networking): the stack peers it with its own and links the private API server's DNS zone to it, so that pulumi up reaches the API server from there (docs/operations.md).",
        allowed: `Empty, or the ARM id of a virtual network in the stack's subscription whose address space does not overlap vnetAddressSpace; only with apiServerAccess \`private\`.`,
        schema: () =>
            z
                .string()
                .regex(
                    /^(\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w._()]{1,90}\/providers\/Microsoft\.Network\/virtualNetworks\/[-\w._]{2,64})?$/,
                    "must be empty or a virtual network's ARM id, /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<name>",
                ),
    }),
    flowLogRetentionDays: declare({
        type: "integer",
        default: 30,
        description: "Days the VNet's flow logs stay in their storage account (traffic analytics keeps its own copy in the workspace).",
        allowed: `Whole days from 1 to ${MAX_FLOW_LOG_RETENTION_DAYS}: the retention policy Network Watcher applies to the flow logs' storage account.`,
        schema: () => wholeNumber(1, MAX_FLOW_LOG_RETENTION_DAYS),
    }),
    nodeCount: declare({
        type: "integer",
        default: 2,
        description: "Number of nodes in the AKS system pool, which runs only critical add-ons (at least 1; bounded by the AKS subnet's size).",
        allowed: `1 to ${MAX_NODE_COUNT}; with the user pool at its maximum and a surge node each, no more than the AKS subnet holds (32 nodes in a /22, the default).`,
        schema: () => wholeNumber(1, MAX_NODE_COUNT),
    }),
    nodeVmSize: declare({
        type: "string",
        default: "Standard_D4ds_v5",
        description: "VM size of the AKS system pool's nodes (not B-series or Av1; at least 4 vCPUs recommended).",
        allowed:
            "An Azure VM size (`Standard_...`) for the system pool: not B-series or Av1 (AKS does not support them there), not of a series Azure has retired, at least 2 vCPUs; the plan warns below the 4 vCPUs Microsoft asks for and of a series Azure will retire.",
        schema: () =>
            z
                .string()
                .regex(/^Standard_[A-Za-z0-9_-]+$/, "must be an Azure VM size such as Standard_D4ds_v5")
                .refine((v) => !isUnsupportedSystemPoolSize(v), "is a B-series or Av1 size, which AKS does not support for system node pools; use a size such as Standard_D4ds_v5")
                .refine((v) => (vmSizeVcpus(v) ?? 2) >= 2, "has fewer than 2 vCPUs, which AKS does not use for system node pools; use a size such as Standard_D4ds_v5"),
    }),
    userNodeCountMin: declare({
        type: "integer",
        default: 2,
        description: "Fewest nodes the cluster autoscaler keeps in the user pool, where the workloads run.",
        allowed: `1 to ${MAX_NODE_COUNT}, at most userNodeCountMax.`,
        schema: () => wholeNumber(1, MAX_NODE_COUNT),
    }),
    userNodeCountMax: declare({
        type: "integer",
        default: 4,
        description: "Most nodes the cluster autoscaler may give the user pool; the AKS subnet must hold them with both pools' surge nodes.",
        allowed: `userNodeCountMin to ${MAX_NODE_COUNT}; with the system pool and a surge node each, no more than the AKS subnet holds (32 nodes in a /22, the default).`,
        schema: () => wholeNumber(1, MAX_NODE_COUNT),
    }),
    userNodeVmSize: declare({
        type: "string",
        default: "Standard_D4ds_v5",
        description: "VM size of the user pool's nodes.",
        allowed: "An Azure VM size (`Standard_...`) with at least 2 vCPUs, not of a series Azure has retired; the plan warns of a series Azure will retire.",
        schema: () =>
            z
                .string()
                .regex(/^Standard_[A-Za-z0-9_-]+$/, "must be an Azure VM size such as Standard_D4ds_v5")
                .refine((v) => (vmSizeVcpus(v) ?? 2) >= 2, "has fewer than 2 vCPUs; use a size such as Standard_D4ds_v5"),
    }),
    availabilityZones: declare<string[]>({
        type: "stringList",
        default: [...AVAILABILITY_ZONES],
        description: "Availability zones both node pools spread over (uksouth has 1, 2 and 3); empty, and by default, in a region without zones. Fixed when a pool is created.",
        allowed: `Distinct zones among ${AVAILABILITY_ZONES.map((z) => `\`${z}\``).join(", ")}, or empty; empty in a region without availability zones (Microsoft's regions list, azureCatalog.ts), which is also its default there.`,
        schema: () => z.array(oneOf(AVAILABILITY_ZONES), 'must be a JSON list of zones such as ["1","2","3"]').refine((zones) => new Set(zones).size === zones.length, "must not name a zone twice"),
    }),
    etcdEncryption: declare({
        type: "boolean",
        default: false,
        description:
            "Encrypt etcd with a key of the stack's in its private vault (AKS KMS), the API server joining the VNet in apiServerSubnetPrefix (API Server VNet Integration, which AKS requires for a private vault). Needed by any workload that sets syncSecret.",
        allowed:
            "`true` or `false`. Turning it on for an existing cluster turns VNet Integration on for good, reimages the nodes and asks for `az aks stop` and `az aks start` right after; once on, keep it on (AKS cannot take VNet Integration back, and the key stays needed). See docs/operations.md.",
        schema: booleanSchema,
    }),
    clusterTier: declare<ClusterTier>({
        type: "string",
        default: "Standard",
        description: "AKS pricing tier: Standard (an uptime SLA and more API server capacity, billed per cluster hour) for production, Free for a stack that can do without.",
        allowed: "`Free` or `Standard`; AKS changes the tier of a running cluster in place.",
        schema: () => oneOf(CLUSTER_TIERS),
    }),
    kubernetesVersion: declare({
        type: "string",
        default: "",
        description:
            "Kubernetes minor version of the control plane and the pools (`1.33`), whose patches AKS then applies (the `patch` upgrade channel); empty lets the `stable` channel choose the version and keep it current.",
        allowed:
            "Empty, or MAJOR.MINOR of a version AKS supports in the region (`az aks get-versions`), not older than the oldest AKS still serves (azureCatalog.ts); not a patch version, which the channel would move past. AKS refuses a downgrade and a skip of more than one minor version.",
        schema: () => z.string().regex(/^(\d+\.\d+)?$/, "must be empty or a minor version such as 1.33"),
    }),
    defender: declare({
        type: "boolean",
        default: true,
        description: "Run Microsoft Defender for Containers' sensor on the cluster, reporting to the stack's Log Analytics workspace (the plan warns when off).",
        allowed: "`true` or `false`; the subscription's Defender for Containers plan must be on for it to report (docs/operations.md).",
        schema: booleanSchema,
    }),
    logRetentionDays: declare({
        type: "integer",
        default: 30,
        description: "Days the Log Analytics workspace keeps the stack's audit logs and metrics.",
        allowed: `${MIN_LOG_RETENTION_DAYS} to ${MAX_LOG_RETENTION_DAYS} (the workspace's interactive retention; the first 31 days are included in the ingestion price).`,
        schema: () => wholeNumber(MIN_LOG_RETENTION_DAYS, MAX_LOG_RETENTION_DAYS),
    }),
    fullKubeAudit: declare({
        type: "boolean",
        default: false,
        description: "Also send AKS's full kube-audit log (every read too) besides kube-audit-admin; it costs much more to ingest.",
        allowed: "`true` or `false`.",
        schema: booleanSchema,
    }),
    secretLifetimeDays: declare({
        type: "integer",
        default: 365,
        description: "Days from its creation until each demo secret expires (Key Vault still serves an expired secret; policies and alerts flag it).",
        allowed: `1 to ${MAX_LIFETIME_DAYS} days from the secret's creation, which the stack's state keeps.`,
        schema: () => wholeNumber(1, MAX_LIFETIME_DAYS),
    }),
    keyLifetimeDays: declare({
        type: "integer",
        default: 365,
        description: `Days each version of a demo key lives; Key Vault rotates it ${KEY_ROTATE_BEFORE_EXPIRY_DAYS} days before it expires and notifies ${KEY_NOTIFY_BEFORE_EXPIRY_DAYS} days before.`,
        allowed: `${MIN_KEY_LIFETIME_DAYS} to ${MAX_LIFETIME_DAYS}: a rotation policy's expiry must be at least 28 days, and its rotation at least 7 days after creation.`,
        schema: () => wholeNumber(MIN_KEY_LIFETIME_DAYS, MAX_LIFETIME_DAYS),
    }),
    tags: declare<Record<string, string>>({
        type: "object",
        default: {},
        description: "Your own tags (cost centre, owner, data class), which every taggable resource of the stack carries besides the stack's own (project, stack, managed-by).",
        allowed: `Up to ${MAX_USER_TAGS} names, each mapped to a string: a name is 1-128 letters, digits, '-' and '_', starting with a letter, differs from the others in more than case, and is none of the stack's own (${[...STACK_TAG_NAMES, ...RESOURCE_TAG_NAMES].join(", ")}); a value is at most ${MAX_TAG_VALUE_LENGTH} characters. These are the limits of the strictest resources tagged (Private DNS zones, Key Vault keys and secrets: 15 tags; storage accounts: names of 128). Existing Key Vault keys keep the tags they were created with (the plan warns).`,
        schema: () =>
            z
                .record(
                    z.string(),
                    z.string("must be a string").max(MAX_TAG_VALUE_LENGTH, `must be at most ${MAX_TAG_VALUE_LENGTH} characters`),
                    'must be a JSON object of tag names to values, such as {"costCentre":"cc-1234"}',
                )
                .superRefine((tags, context) => {
                    for (const name of Object.keys(tags).filter((n) => !TAG_NAME_PATTERN.test(n))) {
                        context.addIssue({ code: "custom", path: [name], message: "must be a tag name of 1-128 letters, digits, '-' and '_', starting with a letter" });
                    }
                })
                .refine((tags) => Object.keys(tags).length <= MAX_USER_TAGS, `must hold at most ${MAX_USER_TAGS} tags: the strictest resources tagged take 15, of which the stack sets up to 5`),
    }),
    workloads: declare<WorkloadEntry[]>({
        type: "objectList",
        default: [{ name: "alpha", namespace: "alpha" }],
        description: "The application teams' slices of the stack: each gets an identity, a namespace, a blob container and a Key Vault secret and key.",
        allowed: `1 to ${MAX_WORKLOADS} objects; names, namespaces and binding selectors are unique.`,
        fields: WORKLOAD_FIELDS,
        schema: () => {
            const namespaceSchema = textField("the workload's Kubernetes namespace name")
                .max(63, "must be at most 63 characters")
                .regex(NAMESPACE_PATTERN, "must be a Kubernetes namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit")
                .refine((v) => v !== "default" && !v.startsWith("kube-"), "must not be 'default' or a 'kube-' namespace: workloads get a namespace of their own")
                .refine(
                    (v) => !(RESERVED_NAMESPACES as readonly string[]).includes(v),
                    `must not be a namespace AKS, its add-ons or this stack create for themselves (${RESERVED_NAMESPACES.filter((n) => n !== "default").join(", ")})`,
                );
            const workloadSchema = z.strictObject(
                {
                    name: textField("3-24 lower-case letters, digits and single hyphens").regex(
                        WORKLOAD_NAME_PATTERN,
                        "must be 3-24 lower-case letters, digits and single hyphens, starting with a letter and ending with a letter or digit",
                    ),
                    namespace: namespaceSchema,
                    bindingSelector: textField("a Kubernetes label value")
                        .max(63, "must be at most 63 characters")
                        .regex(LABEL_VALUE_PATTERN, "must be a Kubernetes label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit")
                        .min(1, "must not be empty")
                        .optional(),
                    serviceAccount: textField("a Kubernetes service account name")
                        .max(253, "must be at most 253 characters")
                        .regex(SERVICE_ACCOUNT_PATTERN, "must be a Kubernetes service account name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit")
                        .optional(),
                    identityType: oneOf(IDENTITY_TYPES).optional(),
                    syncSecret: z.boolean("must be true or false").optional(),
                },
                {
                    error: (issue) =>
                        issue.code === "unrecognized_keys"
                            ? `unknown field(s) ${issue.keys.join(", ")}; allowed: ${Object.keys(WORKLOAD_FIELDS).join(", ")}`
                            : "must be an object with name and namespace",
                },
            );
            return z
                .array(workloadSchema, "must be a JSON list of objects with name and namespace")
                .min(1, "must list at least one workload")
                .max(MAX_WORKLOADS, `must list at most ${MAX_WORKLOADS} workloads`);
        },
    }),
    apiServerAuthorizedIpRanges: declare<string[]>({
        type: "stringList",
        default: [],
        description: "IPv4 CIDRs allowed to reach the AKS API server; empty admits any address (the plan warns).",
        allowed: "IPv4 CIDRs, at most 200; `0.0.0.0/0` is refused. Empty admits any address. Empty with apiServerAccess `private`.",
        schema: () =>
            z
                .array(
                    z
                        .string("must be a string")
                        .refine((v) => parseIpv4Cidr(v) !== undefined, "must be an IPv4 CIDR such as 203.0.113.0/24 with no host bits set")
                        .refine((v) => v !== "0.0.0.0/0", "0.0.0.0/0 admits everyone; leave the list empty to say so explicitly"),
                    "must be a JSON list of CIDR strings",
                )
                .max(200, "AKS accepts at most 200 ranges"),
    }),
    serviceCidr: declare({
        type: "string",
        default: "10.0.0.0/16",
        description: "Kubernetes service address range (/24 or larger); must not overlap the VNet. The cluster DNS service takes its tenth address.",
        allowed: `A /24 to /${LARGEST_SERVICE_CIDR_PREFIX} IPv4 CIDR, not overlapping the VNet or the ranges AKS reserves; the DNS service takes its tenth address.`,
        schema: () =>
            cidrSchema()
                .refine((v) => (parseIpv4Cidr(v)?.[1] ?? 0) <= 24, "must be an IPv4 CIDR of at least /24 such as 10.0.0.0/16")
                .refine(
                    (v) => (parseIpv4Cidr(v)?.[1] ?? 0) >= LARGEST_SERVICE_CIDR_PREFIX,
                    `must be no larger than /${LARGEST_SERVICE_CIDR_PREFIX}: Kubernetes refuses service ranges of more than 20 host bits`,
                ),
    }),
    deployerPrincipalType: declare<PrincipalType>({
        type: "string",
        default: "User",
        description: "Kind of Entra principal that runs pulumi up and is made cluster admin through Azure RBAC: User, ServicePrincipal or Group.",
        allowed: `${listOr(PRINCIPAL_TYPES.map((t) => `\`${t}\``))}: who runs \`pulumi up\` (made cluster admin through Azure RBAC).`,
        schema: () => oneOf(PRINCIPAL_TYPES),
    }),
    deployerObjectId: declare({
        type: "string",
        default: "",
        description:
            "Object id of the Entra principal made cluster admin through Azure RBAC; empty makes it whoever runs pulumi up. Required with deployerPrincipalType Group: a group has an id of its own, which the caller's is not.",
        allowed: "Empty, or an Entra object id (a GUID).",
        schema: () => z.string().regex(/^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$/, "must be empty or an Entra object id (a GUID)"),
    }),
    demo: declare({
        type: "boolean",
        default: true,
        description:
            "Give each workload a demo secret and key in the vault, mounted through a SecretProviderClass, and prove the wiring inside `pulumi up` with the verification and impostor Jobs (and the canary they are refused); false for a stack that should carry no demo secrets and run no Jobs.",
        allowed:
            "`true` or `false`. With `false` each workload keeps its identity, namespace, binding, network policies, blob container and grants, and the vault holds none of the stack's secrets or keys: the team adds its own (with `rbac`, and the grants on them). `syncSecret` needs `true`.",
        schema: booleanSchema,
    }),
    verifierImage: declare({
        type: "string",
        // The tag names the release; the digest (the tag's multi-platform index) makes it one image for good.
        default: "node:22.14.0-alpine3.21@sha256:9bef0ef1e268f60627da9ba7d7605e8831d5b56ad07487d24d1aa386336d1944",
        description: "Official Node.js image that runs the verification Jobs, pinned by digest (mirror it to your registry if the cluster cannot pull from Docker Hub).",
        allowed: "An image reference pinned to a version tag or digest (`latest` is refused); a registry may carry a port.",
        schema: () =>
            z
                .string()
                .refine((v) => parseImageReference(v) !== undefined, "must be an image reference such as node:22.14.0-alpine3.21 or myregistry.example.com:5000/mirror/node:22.14.0-alpine3.21")
                .refine((v) => isPinnedImageReference(parseImageReference(v)), "must be pinned to a version tag or digest, not latest"),
    }),
    verificationRun: declare({
        type: "string",
        default: "",
        description:
            "Names a round of verification: set a new value (a date, a build number) to give the verification Jobs new names, so that `pulumi up` replaces them and they run again; empty leaves the Jobs as they are.",
        allowed: "Empty, or 1-20 lower-case letters, digits and hyphens, starting and ending with a letter or digit (it ends the Jobs' names).",
        schema: () => z.string().regex(VERIFICATION_RUN_PATTERN, "must be empty or 1-20 lower-case letters, digits and hyphens, starting and ending with a letter or digit"),
    }),
    protectStatefulResources: declare({
        type: "boolean",
        default: true,
        description: "Protect the stateful resources (the resource group, storage account, containers, vault, secrets, keys, the cluster and its identities) from deletion and replacement.",
        allowed: "`true` or `false`; turn it off only for a stack meant to be destroyed.",
        schema: booleanSchema,
    }),
};

export type ConfigKey = keyof typeof DECLARATIONS;
/** The typed value of each key. */
export type ConfigValues = { [K in ConfigKey]: (typeof DECLARATIONS)[K]["default"] };
/** The schema: each key's declaration, typed by its key. */
export const CONFIG_SCHEMA: { readonly [K in ConfigKey]: KeyDeclaration<ConfigValues[K]> } = DECLARATIONS;
/** Every key the project reads from its own config namespace, in the schema's order. */
// Object.keys types its result as string[]; these are exactly the schema's own keys.
export const CONFIG_KEYS = Object.keys(DECLARATIONS) as ConfigKey[];
/** The value of each key when it is unset. */
// Object.fromEntries loses the pairing of each key with its type, which the schema gives.
export const DEFAULTS = Object.fromEntries(CONFIG_KEYS.map((key) => [key, CONFIG_SCHEMA[key].default])) as ConfigValues;

/** Config as the Pulumi engine hands it over: every value a string, lists and objects as JSON. */
export type RawConfig = Partial<Record<ConfigKey, string>>;

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
    let current = value;
    for (const segment of path) {
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        current = (current as Record<PropertyKey, unknown>)[segment];
    }
    return current;
}

function describePath(key: string, path: readonly PropertyKey[]): string {
    return path.reduce<string>((acc, segment) => (typeof segment === "number" ? `${acc}[${segment}]` : `${acc}.${String(segment)}`), projectKey(key));
}

function check<S extends z.ZodType>(key: ConfigKey, schema: S, value: unknown): z.output<S> {
    const result = schema.safeParse(value);
    if (!result.success) {
        const issue = result.error.issues[0];
        fail(describePath(key, issue.path), valueAt(value, issue.path), issue.message);
    }
    return result.data;
}

function parseJson(key: ConfigKey, text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return fail(projectKey(key), text, "must be valid JSON");
    }
}

/**
 * Validates raw config and returns the typed configuration, or throws a ConfigError whose message
 * is one line naming the key, the value and what is allowed. Pure: exported for testing.
 */
export function parseConfig(raw: RawConfig, context: { stack: string; location: string | undefined }): StackConfig {
    const location = context.location;
    if (location === undefined || location === "") {
        throw new ConfigError("Missing config azure-native:location: set an Azure region, for example `pulumi config set azure-native:location uksouth`.");
    }
    if (!/^[a-z][a-z0-9]+$/.test(location)) {
        fail("azure-native:location", location, "must be an Azure region name such as uksouth (lower case, no spaces)");
    }
    if (!AZURE_REGIONS.includes(location)) {
        fail(
            "azure-native:location",
            location,
            `must be a region of Azure's public cloud such as uksouth, westeurope or eastus2 (Microsoft's list as read on ${CATALOG_DATE}; \`az account list-locations -o table\` shows yours)`,
        );
    }
    const baseName = baseNameForStack(context.stack);
    /** The key's value: its default when unset, else the set value (parsed as JSON for lists) validated by its schema. */
    const read = <K extends ConfigKey>(key: K): ConfigValues[K] => {
        const declaration: KeyDeclaration<ConfigValues[K]> = CONFIG_SCHEMA[key];
        const text = raw[key];
        if (text === undefined) {
            return declaration.default;
        }
        const value = declaration.type === "stringList" || declaration.type === "objectList" || declaration.type === "object" ? parseJson(key, text) : text;
        return check(key, declaration.schema(), value);
    };

    const identityMode = read("identityMode");
    const keyVaultAuthorization = read("keyVaultAuthorization");
    const network: NetworkConfig = {
        vnetAddressSpace: read("vnetAddressSpace"),
        aksSubnetPrefix: read("aksSubnetPrefix"),
        privateEndpointSubnetPrefix: read("privateEndpointSubnetPrefix"),
        apiServerSubnetPrefix: read("apiServerSubnetPrefix"),
        firewallSubnetPrefix: read("firewallSubnetPrefix"),
        flowLogRetentionDays: read("flowLogRetentionDays"),
        networkWatcher: networkWatcherOf(read("networkWatcher"), location),
        runnerVnetId: read("runnerVnetId"),
    };
    const nodeCount = read("nodeCount");
    const nodeVmSize = read("nodeVmSize");
    const userPool = { minCount: read("userNodeCountMin"), maxCount: read("userNodeCountMax"), vmSize: read("userNodeVmSize") };
    // A region without zones takes none by default; zones named there are refused (AKS answers
    // AvailabilityZoneNotSupported).
    const regionHasZones = ZONE_REGIONS.includes(location);
    const availabilityZones = raw.availabilityZones === undefined && !regionHasZones ? [] : [...read("availabilityZones")];
    if (availabilityZones.length > 0 && !regionHasZones) {
        fail(projectKey("availabilityZones"), availabilityZones, `must be [] in ${location}, which has no availability zones (Microsoft's regions list), so AKS refuses them`);
    }
    for (const [key, size] of [
        ["nodeVmSize", nodeVmSize],
        ["userNodeVmSize", userPool.vmSize],
    ] as const) {
        const series = retiringSeries(size);
        if (series !== undefined && isRetired(series)) {
            fail(projectKey(key), size, `is of the ${series.series} series, which Azure retired on ${series.retires} and no longer provisions; use a current size such as Standard_D4ds_v5`);
        }
    }
    const defender = read("defender");
    const tier = read("clusterTier");
    const kubernetesVersion = read("kubernetesVersion");
    if (kubernetesVersion !== "" && compareMinors(kubernetesVersion, AKS_OLDEST_MINOR) < 0) {
        fail(
            projectKey("kubernetesVersion"),
            kubernetesVersion,
            `is a minor AKS no longer supports (on ${CATALOG_DATE} it supports ${AKS_SUPPORTED_MINORS.join(", ")}, and ${AKS_OLDEST_MINOR} only on the way up); use ${AKS_OLDEST_MINOR} or later, one minor at a time, or leave it empty for the stable channel`,
        );
    }
    const logging = { retentionDays: read("logRetentionDays"), fullKubeAudit: read("fullKubeAudit") };
    const lifecycle = { secretLifetimeDays: read("secretLifetimeDays"), keyLifetimeDays: read("keyLifetimeDays") };
    const apiServerAuthorizedIpRanges = [...read("apiServerAuthorizedIpRanges")];
    const apiServerAccess = read("apiServerAccess");
    const egress = read("egress");
    if (apiServerAccess === "private" && apiServerAuthorizedIpRanges.length > 0) {
        fail(
            projectKey("apiServerAuthorizedIpRanges"),
            apiServerAuthorizedIpRanges,
            'must be empty with apiServerAccess private: authorized ranges limit a public address, which a private API server does not have (AKS docs, api-server-authorized-ip-ranges: "You can\'t use this feature with private clusters")',
        );
    }
    const serviceCidr = read("serviceCidr");
    const deployerPrincipalType = read("deployerPrincipalType");
    const deployerObjectId = read("deployerObjectId");
    if (deployerPrincipalType === "Group" && deployerObjectId === "") {
        fail(
            projectKey("deployerPrincipalType"),
            deployerPrincipalType,
            "needs deployerObjectId: the group's own object id, since the role would otherwise go to the caller's id as if it were a group's (pulumi config set deployerObjectId <group object id>)",
        );
    }
    const demoEnabled = read("demo");
    const verifierImage = read("verifierImage");
    const verificationRun = read("verificationRun");
    const protectStatefulResources = read("protectStatefulResources");
    const workloadEntries = read("workloads");
    const userTags = read("tags");
    checkUserTags(userTags);
    const etcdEncryption = read("etcdEncryption");

    checkReservedRanges("vnetAddressSpace", network.vnetAddressSpace, VNET_FORBIDDEN_RANGES, "Azure does not allow in a virtual network");
    checkReservedRanges("vnetAddressSpace", network.vnetAddressSpace, AKS_RESERVED_RANGES, "AKS reserves");
    checkSubnets(network, { apiServer: etcdEncryption || apiServerAccess === "private", firewall: egress === "firewall" });
    if (network.runnerVnetId !== "" && apiServerAccess !== "private") {
        fail(
            projectKey("runnerVnetId"),
            network.runnerVnetId,
            "serves a private API server, which runners reach through the peering; with apiServerAccess public they reach it over the internet (set apiServerAccess private, or leave runnerVnetId empty)",
        );
    }
    checkReservedRanges("serviceCidr", serviceCidr, AKS_RESERVED_RANGES, "AKS reserves");
    if (cidrsOverlap(serviceCidr, network.vnetAddressSpace)) {
        fail(projectKey("serviceCidr"), serviceCidr, `must not overlap vnetAddressSpace ${network.vnetAddressSpace}: Kubernetes service addresses must not be routable in the VNet`);
    }
    if (userPool.minCount > userPool.maxCount) {
        fail(projectKey("userNodeCountMin"), userPool.minCount, `must be at most userNodeCountMax ${userPool.maxCount}`);
    }
    const capacity = subnetNodeCapacity(network.aksSubnetPrefix);
    const needed = poolsNodesAtMost({ nodeCount, userPool });
    if (needed > capacity) {
        fail(
            projectKey("aksSubnetPrefix"),
            network.aksSubnetPrefix,
            `holds ${capacity} nodes (Azure CNI takes ${MAX_PODS_PER_NODE + 1} addresses per node), but the pools can reach ${needed}: nodeCount ${nodeCount} and userNodeCountMax ${userPool.maxCount}, each pool with ${UPGRADE_SURGE_NODES} surge node; use a larger aksSubnetPrefix or fewer nodes`,
        );
    }

    const workloads = workloadEntries.map((w) => ({
        name: w.name,
        namespace: w.namespace,
        bindingSelector: w.bindingSelector ?? w.name,
        serviceAccount: w.serviceAccount ?? `${w.name}-workload`,
        identityType: w.identityType ?? "managedIdentity",
        syncSecret: w.syncSecret ?? false,
    }));
    workloads.forEach((w, index) => {
        if (!modesAllowing(w.identityType).includes(identityMode)) {
            const supporting = modesAllowing(w.identityType);
            fail(describePath("workloads", [index, "identityType"]), w.identityType, `needs identityMode ${supporting.join(" or ")} (identityMode is ${identityMode}); use managedIdentity`);
        }
    });
    checkUnique(workloads, "name");
    checkUnique(workloads, "namespace");
    checkUnique(workloads, "bindingSelector");
    workloads.forEach((w, index) => checkStackNames(w, index, baseName));
    workloads.forEach((w, index) => {
        if (w.syncSecret && !demoEnabled) {
            fail(describePath("workloads", [index, "syncSecret"]), true, "needs demo true: it mirrors the workload's demo secret, which demo false leaves out (pulumi config set demo true)");
        }
        if (w.syncSecret && !etcdEncryption) {
            fail(
                describePath("workloads", [index, "syncSecret"]),
                true,
                "needs etcdEncryption true: the mirrored Kubernetes Secret sits in etcd, which must then be encrypted with the stack's key (pulumi config set etcdEncryption true)",
            );
        }
    });

    return {
        stack: context.stack,
        location,
        baseName,
        identityMode,
        keyVaultAuthorization,
        network,
        cluster: {
            nodeCount,
            nodeVmSize,
            userPool,
            availabilityZones,
            defender,
            tier,
            kubernetesVersion,
            apiServerAuthorizedIpRanges,
            apiServerAccess,
            egress,
            serviceCidr,
            dnsServiceIp: cidrHost(serviceCidr, 10),
            deployerPrincipalType,
            deployerObjectId,
        },
        demo: { enabled: demoEnabled, verifierImage, verificationRun },
        logging,
        lifecycle,
        workloads,
        etcdEncryption,
        protectStatefulResources,
        tags: { ...userTags, project: PROJECT, stack: context.stack, "managed-by": "pulumi" },
    };
}

/** One subnet of the VNet as config checks it: its key and prefix, the smallest it may be, and why. */
interface SubnetCheck {
    key: ConfigKey;
    prefix: string;
    smallest: number;
    /** Why it may be no smaller. */
    why: string;
    /** What follows "must lie inside vnetAddressSpace ...", if anything. */
    insideNote?: string;
}

/**
 * The VNet's subnets, in order: each at least as large as it must be, inside the VNet, and apart
 * from the ones before it. The API server's and the firewall's join them only when the stack uses them.
 */
function checkSubnets(network: NetworkConfig, uses: { apiServer: boolean; firewall: boolean }): void {
    const azureSmallest = { smallest: SMALLEST_SUBNET_PREFIX, why: `Azure's smallest IPv4 subnet is /${SMALLEST_SUBNET_PREFIX}` };
    const subnets: SubnetCheck[] = [
        { key: "aksSubnetPrefix", prefix: network.aksSubnetPrefix, ...azureSmallest },
        { key: "privateEndpointSubnetPrefix", prefix: network.privateEndpointSubnetPrefix, ...azureSmallest },
        ...(uses.apiServer
            ? [
                  {
                      key: "apiServerSubnetPrefix" as const,
                      prefix: network.apiServerSubnetPrefix,
                      smallest: API_SERVER_SUBNET_MIN_PREFIX,
                      why: `AKS's API Server VNet Integration needs at least a /${API_SERVER_SUBNET_MIN_PREFIX}`,
                      insideNote: " (the API server joins the VNet: apiServerAccess is private or etcdEncryption is on)",
                  },
              ]
            : []),
        ...(uses.firewall
            ? [
                  {
                      key: "firewallSubnetPrefix" as const,
                      prefix: network.firewallSubnetPrefix,
                      smallest: FIREWALL_SUBNET_MIN_PREFIX,
                      why: `Azure Firewall's subnet must be at least a /${FIREWALL_SUBNET_MIN_PREFIX}`,
                      insideNote: " (egress is firewall)",
                  },
              ]
            : []),
    ];
    subnets.forEach((subnet, index) => {
        if (requireCidr(subnet.prefix)[1] > subnet.smallest) {
            fail(projectKey(subnet.key), subnet.prefix, `must be a /${subnet.smallest} or larger: ${subnet.why}`);
        }
        if (!cidrContains(network.vnetAddressSpace, subnet.prefix)) {
            fail(projectKey(subnet.key), subnet.prefix, `must lie inside vnetAddressSpace ${network.vnetAddressSpace}${subnet.insideNote ?? ""}`);
        }
        for (const earlier of subnets.slice(0, index)) {
            if (cidrsOverlap(subnet.prefix, earlier.prefix)) {
                fail(projectKey(subnet.key), subnet.prefix, `must not overlap ${earlier.key} ${earlier.prefix}`);
            }
        }
    });
}

/**
 * The Network Watcher a flow log goes under: the one named, or the one Azure enables in each region of a
 * subscription, `NetworkWatcher_<region>` in `NetworkWatcherRG` (Network Watcher FAQ). Exported for testing.
 */
export function networkWatcherOf(value: string, location: string): { resourceGroupName: string; name: string } {
    const [resourceGroupName, name] = value === "" ? ["NetworkWatcherRG", `NetworkWatcher_${location}`] : value.split("/");
    return { resourceGroupName, name };
}

/** Refuses tag names that are the stack's own or that differ from another only in case (Azure compares tag names so). */
function checkUserTags(tags: Readonly<Record<string, string>>): void {
    const reserved = new Set<string>([...STACK_TAG_NAMES, ...RESOURCE_TAG_NAMES]);
    const seen = new Map<string, string>();
    for (const name of Object.keys(tags)) {
        if (reserved.has(name.toLowerCase())) {
            fail(describePath("tags", [name]), tags[name], `is a tag the stack sets itself (${[...reserved].join(", ")}); choose another name`);
        }
        const earlier = seen.get(name.toLowerCase());
        if (earlier !== undefined) {
            fail(describePath("tags", [name]), tags[name], `has the name of tag ${earlier} but for case, and Azure compares tag names without case; keep one`);
        }
        seen.set(name.toLowerCase(), name);
    }
}

/** Refuses a range that overlaps one of `reserved`, which `who` keeps for itself. */
function checkReservedRanges(key: ConfigKey, cidr: string, reserved: readonly string[], who: string): void {
    const clash = reserved.find((range) => cidrsOverlap(cidr, range));
    if (clash !== undefined) {
        fail(projectKey(key), cidr, `must not overlap ${clash}, which ${who}`);
    }
}

/** Refuses a workload whose names would be names the stack derives for itself. */
function checkStackNames(workload: WorkloadConfig, index: number, baseName: string): void {
    if (workload.name === CANARY_NAME) {
        fail(describePath("workloads", [index, "name"]), workload.name, "is the canary's name: its container and secret are granted to nobody; choose another name");
    }
    if ((CLUSTER_IDENTITY_SUFFIXES as readonly string[]).includes(workload.name)) {
        fail(describePath("workloads", [index, "name"]), workload.name, `its identity id-${baseName}-${workload.name} would be one of the cluster's own identities; choose another name`);
    }
    if (workload.serviceAccount === "default") {
        fail(
            describePath("workloads", [index, "serviceAccount"]),
            workload.serviceAccount,
            "is the account Kubernetes creates in every namespace, which every pod without an account of its own runs as; give the workload an account of its own",
        );
    }
    if (workload.serviceAccount === unboundServiceAccountName(workload.name)) {
        fail(describePath("workloads", [index, "serviceAccount"]), workload.serviceAccount, "is the account of the workload's unbound verification Job; choose another name");
    }
}

/** Azure VM sizes AKS does not support for system node pools: B-series and the first A series. Exported for testing. */
export function isUnsupportedSystemPoolSize(vmSize: string): boolean {
    return /^Standard_B/i.test(vmSize) || /^Standard_A\d+$/i.test(vmSize);
}

/**
 * The vCPUs an Azure VM size's name states (`Standard_D4ds_v5`: 4; a constrained-core size such as
 * `Standard_E8-2ds_v5`: 2), or undefined when the name does not follow the pattern. Exported for testing.
 */
export function vmSizeVcpus(vmSize: string): number | undefined {
    const match = /^Standard_[A-Za-z]+(\d+)(?:-(\d+))?/.exec(vmSize);
    if (match === null) {
        return undefined;
    }
    return Number(match[2] ?? match[1]);
}

function checkUnique(workloads: WorkloadConfig[], field: "name" | "namespace" | "bindingSelector"): void {
    const seen = new Map<string, number>();
    workloads.forEach((w, index) => {
        const first = seen.get(w[field]);
        if (first !== undefined) {
            fail(describePath("workloads", [index, field]), w[field], `workloads[${first}] already uses it; each workload needs its own ${field}`);
        }
        seen.set(w[field], index);
    });
}

/**
 * Config namespaces the program reads, besides its own: the providers whose default instance it uses
 * (azure-native, azuread, random), Pulumi's own (`pulumi:tags` and the like), and `e2e`, where the
 * real-cloud test marks the stacks it creates. The Kubernetes provider is always given explicitly, so
 * `kubernetes:` keys would be ignored.
 */
export const CONFIG_NAMESPACES = [PROJECT, "azure-native", "azuread", "random", "pulumi", "e2e"] as const;

/**
 * Refuses, with one line, a config key the program would silently ignore: an unknown key of the
 * project, a key of the project set under another namespace, or a namespace the program does not
 * read. Exported for testing.
 */
export function checkConfigKeys(fullKeys: readonly string[]): void {
    const known = new Set<string>(CONFIG_KEYS);
    for (const fullKey of fullKeys) {
        const colon = fullKey.indexOf(":");
        const namespace = colon < 0 ? "" : fullKey.slice(0, colon);
        const key = fullKey.slice(colon + 1);
        if (namespace === PROJECT) {
            if (!known.has(key)) {
                throw new ConfigError(`Unknown config key ${fullKey}: known keys are ${CONFIG_KEYS.join(", ")}.`);
            }
        } else if (known.has(key) && namespace !== "pulumi") {
            // Pulumi's own keys (`pulumi:tags`, the stack's tags in Pulumi Cloud) are Pulumi's, even where a name is also the project's.
            throw new ConfigError(`Config key ${fullKey} is ignored: ${key} is this project's key, set it as ${PROJECT}:${key} (pulumi config set ${key} <value>).`);
        } else if (!(CONFIG_NAMESPACES as readonly string[]).includes(namespace)) {
            throw new ConfigError(`Config key ${fullKey} is ignored: this program reads the namespaces ${CONFIG_NAMESPACES.join(", ")} only.`);
        }
    }
}

/**
 * Reads the stack's config from Pulumi once and validates it. A key it would ignore (an unknown key
 * of the project, one of its keys under another namespace, a namespace it does not read) is refused.
 */
export function loadConfig(): StackConfig {
    checkConfigKeys(Object.keys(pulumi.runtime.allConfig()));
    const config = new pulumi.Config(PROJECT);
    const raw: RawConfig = {};
    for (const key of CONFIG_KEYS) {
        const value = config.get(key);
        if (value !== undefined) {
            raw[key] = value;
        }
    }
    return parseConfig(raw, { stack: pulumi.getStack(), location: new pulumi.Config("azure-native").get("location") });
}
