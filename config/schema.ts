// The schema: every key of the project, declared once, with its default, what it allows and the zod
// schema that checks a set value.
import { z } from "zod";
import { DEFAULT_IDENTITY_MODE, IDENTITY_MODE_CATALOG, IDENTITY_MODES, IDENTITY_TYPES, modesAllowing } from "../identityModes";
import type { IdentityMode } from "../identityModes";
import { isUnsupportedSystemPoolSize, vmSizeVcpus } from "./cluster";
import { describePath, fail, projectKey } from "./errors";
import {
    API_SERVER_ACCESS_MODES,
    API_SERVER_SUBNET_MIN_PREFIX,
    CLUSTER_TIERS,
    EGRESS_MODES,
    FIREWALL_SUBNET_MIN_PREFIX,
    KEY_VAULT_AUTHORIZATIONS,
    PRINCIPAL_TYPES,
    VERIFICATION_RUN_PATTERN,
} from "./types";
import {
    AVAILABILITY_ZONES,
    KEY_NOTIFY_BEFORE_EXPIRY_DAYS,
    KEY_ROTATE_BEFORE_EXPIRY_DAYS,
    MAX_FLOW_LOG_RETENTION_DAYS,
    MAX_LIFETIME_DAYS,
    MAX_LOG_RETENTION_DAYS,
    MAX_NODE_COUNT,
    MAX_PODS_PER_NODE,
    MAX_WORKLOADS,
    MIN_KEY_LIFETIME_DAYS,
    MIN_LOG_RETENTION_DAYS,
} from "./limits";
import { LABEL_VALUE_PATTERN, NAMESPACE_PATTERN, RESERVED_NAMESPACES, SERVICE_ACCOUNT_PATTERN, WORKLOAD_NAME_PATTERN, isPinnedImageReference, parseImageReference } from "./names";
import { LARGEST_SERVICE_CIDR_PREFIX, SMALLEST_SUBNET_PREFIX, parseIpv4Cidr } from "./network";
import { MAX_TAG_VALUE_LENGTH, MAX_USER_TAGS, RESOURCE_TAG_NAMES, STACK_TAG_NAMES, TAG_NAME_PATTERN } from "./tags";
import type { ApiServerAccess, ClusterTier, Egress, KeyVaultAuthorization, PrincipalType, WorkloadEntry } from "./types";

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
export function listOr(values: readonly string[]): string {
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

export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
    let current = value;
    for (const segment of path) {
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        current = (current as Record<PropertyKey, unknown>)[segment];
    }
    return current;
}

export function check<S extends z.ZodType>(key: ConfigKey, schema: S, value: unknown): z.output<S> {
    const result = schema.safeParse(value);
    if (!result.success) {
        const issue = result.error.issues[0];
        fail(describePath(key, issue.path), valueAt(value, issue.path), issue.message);
    }
    return result.data;
}

export function parseJson(key: ConfigKey, text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return fail(projectKey(key), text, "must be valid JSON");
    }
}
