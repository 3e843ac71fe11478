// Typical create times per resource type, the figures `npm run graph` schedules the deploy with.
// They are estimates for one `pulumi up` in a quiet Azure region, not measurements of this stack:
// each entry says where its figure comes from. The graph lists every type of a plan that has no
// entry here (it falls back to DEFAULT_DURATION), and tests/graph.test.ts fails when a type of any
// identity mode is missing, so a new resource cannot silently be timed by the fallback.

/** The modelled create time of one resource type. */
export interface TypeDuration {
    /** Seconds from the engine starting the create until the resource is ready for its dependents. */
    seconds: number;
    /** One line: where the figure comes from, or the reasoning behind it. */
    source: string;
    /**
     * An input of the resource that states its own duration in seconds (a wait's length), which the
     * graph takes over `seconds` when the plan has it.
     */
    secondsInput?: string;
}

/** The AKS cluster type. */
export const MANAGED_CLUSTER_TYPE = "azure-native:containerservice:ManagedCluster";

/** What a type without an entry is assumed to take: one ARM PUT and its polling. */
export const DEFAULT_DURATION: TypeDuration = {
    seconds: 60,
    source: "fallback for a type without an entry: one ARM PUT with its long-running-operation polling",
};

const K8S_OBJECT = "a Kubernetes API object: one request, ready as soon as the API server stores it";

/** Typical create time by Pulumi resource type. */
export const DURATIONS: Readonly<Record<string, TypeDuration>> = {
    // Azure Resource Manager: resource group, network, private DNS.
    "azure-native:resources:ResourceGroup": { seconds: 5, source: "a synchronous ARM PUT, a few seconds" },
    "azure-native:network:VirtualNetwork": { seconds: 10, source: "network resources provision in seconds (ARM async operation, ~5-15 s)" },
    "azure-native:network:Subnet": { seconds: 10, source: "~5-15 s; Azure runs one subnet operation per VNet at a time, hence the program's subnet ordering" },
    "azure-native:network:NetworkSecurityGroup": { seconds: 10, source: "~5-15 s, like other network resources" },
    "azure-native:network:PublicIPAddress": { seconds: 10, source: "~5-15 s, like other network resources" },
    "azure-native:network:NatGateway": { seconds: 30, source: "~20-40 s: a NAT gateway and its public address association" },
    "azure-native:network:RouteTable": { seconds: 10, source: "~5-15 s, like other network resources" },
    "azure-native:network:Route": { seconds: 10, source: "~5-15 s: one route written into its table" },
    "azure-native:network:FirewallPolicy": { seconds: 30, source: "~20-40 s: a policy with no firewall attached yet" },
    "azure-native:network:FirewallPolicyRuleCollectionGroup": {
        seconds: 60,
        source: "~1 min before a firewall uses the policy; once one does, each update takes 'three to five minutes on average, and parallel updates aren't supported' (Azure Firewall docs, known issues)",
    },
    "azure-native:network:AzureFirewall": {
        seconds: 600,
        source: "~10 min: a long-running create of the firewall's instances ('a few minutes', Azure Firewall docs; 5-20 min in published deployments), the slowest step before the cluster in egress firewall",
    },
    "azure-native:network:FlowLog": { seconds: 60, source: "~1 min: Network Watcher validates the target and the storage account, then enables traffic analytics" },
    "azure-native:network:PrivateEndpoint": { seconds: 90, source: "~1-2 min: provisions a NIC in the subnet and the Private Link connection" },
    "azure-native:network:PrivateDnsZoneGroup": { seconds: 30, source: "~20-40 s: updates the endpoint and writes its A records into the zone" },
    "azure-native:privatedns:PrivateZone": { seconds: 60, source: "~1 min: private DNS zones are global resources created through a long-running operation" },
    "azure-native:privatedns:VirtualNetworkLink": { seconds: 45, source: "~30-60 s per link" },
    // Identities and grants.
    "azure-native:managedidentity:UserAssignedIdentity": { seconds: 10, source: "~10 s: an identity and its Entra service principal" },
    "azure-native:managedidentity:FederatedIdentityCredential": {
        seconds: 10,
        source: "~10 s to create; Entra may take a minute more to honour it, which the verification Jobs absorb",
    },
    "azure-native:authorization:PolicyAssignment": {
        seconds: 10,
        source: "a control-plane write like a role assignment's; the add-on picks the assignment up within 15-20 minutes (Azure Policy docs, use-azure-policy), which nothing waits for",
    },
    "azure-native:authorization:RoleDefinition": {
        seconds: 10,
        source: "a control-plane write like a role assignment's; a custom role is usable in assignments once it propagates, which the grant that names it waits through",
    },
    "azure-native:authorization:RoleAssignment": {
        seconds: 10,
        source: "5-11 s in a published `pulumi up` log (baoduy/drunk-azure-pulumi-articles, az-01-shared); propagation (Microsoft: up to 10 min) is waited for by RolePropagationDelay and ClusterAccessWait where AKS needs it, and absorbed by the verification Jobs' retries on the data planes",
    },
    "azuread:index/application:Application": { seconds: 15, source: "~10-20 s: Microsoft Graph create, the provider then waits for replication" },
    "azuread:index/servicePrincipal:ServicePrincipal": { seconds: 15, source: "~10-20 s: Microsoft Graph create, the provider then waits for replication" },
    "azuread:index/applicationPassword:ApplicationPassword": { seconds: 10, source: "~5-10 s: one Graph call, then the provider's consistency wait" },
    // Key Vault and Storage.
    "azure-native:keyvault:Vault": { seconds: 70, source: "71 s in a published `pulumi up` log (baoduy/drunk-azure-pulumi-articles, az-01-shared)" },
    "azure-native:keyvault:Secret": {
        seconds: 3,
        source: "1-3 s in a published `pulumi up` log (baoduy/drunk-azure-pulumi-articles, az-01-shared): one synchronous ARM PUT (Secrets_CreateOrUpdate answers 200/201, no long-running operation); one write to the vault at a time",
    },
    "azure-native:keyvault:Key": {
        seconds: 3,
        source: "like a secret: one synchronous ARM PUT (Keys_CreateIfNotExist answers 200, no long-running operation), the key generated inside it; one write to the vault at a time",
    },
    "azure-native:keyvault:AccessPolicy": {
        seconds: 3,
        source: "like a secret: one synchronous ARM PUT (Vaults_UpdateAccessPolicy answers 200/201); one write to the vault at a time",
    },
    "azure-native:storage:StorageAccount": { seconds: 30, source: "~20-40 s: StorageV2 account create (long-running operation)" },
    "azure-native:storage:BlobServiceProperties": { seconds: 5, source: "a synchronous ARM PUT on the account's blob service" },
    "azure-native:storage:BlobContainer": { seconds: 5, source: "a synchronous ARM PUT" },
    // Logs.
    "azure-native:operationalinsights:Workspace": {
        seconds: 45,
        source: "~30-60 s: Workspaces_CreateOrUpdate is a long-running ARM operation (REST spec: 200/201 with polling); an estimate, not a measurement",
    },
    "azure-native:monitor:DiagnosticSetting": {
        seconds: 5,
        source: "a synchronous ARM PUT (DiagnosticSettings_CreateOrUpdate answers 200, no long-running operation), written to Azure Monitor rather than to the resource",
    },
    "pulumi-nodejs:dynamic:Timestamp": { seconds: 0, source: "reads the clock inside the engine; nothing in Azure" },
    "pulumi-nodejs:dynamic:CreationRecord": { seconds: 0, source: "keeps its inputs in state inside the engine; nothing in Azure" },
    // The cluster and what changes it.
    [MANAGED_CLUSTER_TYPE]: {
        seconds: 480,
        source: "~6-10 min: AKS create per Microsoft's AKS quickstarts and common experience (its node pools, created side by side, Azure CNI, add-ons)",
    },
    "pulumi-nodejs:dynamic:PodIdentities": {
        seconds: 240,
        source: "~3-5 min: one managed-cluster update (what `az aks pod-identity add` does), however many entries it writes",
    },
    // Waits for Azure to apply grants.
    "pulumi-nodejs:dynamic:RolePropagationDelay": {
        seconds: 30,
        source: "the delay the resource states (`seconds`; 30 s is what `az aks pod-identity add` waits after its grant, azure-cli-extensions aks-preview _podidentity.py)",
        secondsInput: "seconds",
    },
    "pulumi-nodejs:dynamic:ClusterAccessWait": {
        seconds: 300,
        source: "Microsoft: new role assignments 'can take up to five minutes to propagate' to Azure RBAC for Kubernetes (AKS docs, manage-azure-rbac); the wait ends as soon as an access review allows, and gives up after its budget",
    },
    // Kubernetes.
    "kubernetes:core/v1:Namespace": { seconds: 2, source: K8S_OBJECT },
    "kubernetes:core/v1:ServiceAccount": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:core/v1:ConfigMap": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:core/v1:Secret": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:rbac.authorization.k8s.io/v1:Role": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:aadpodidentity.k8s.io/v1:AzurePodIdentityException": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentityBinding": { seconds: 1, source: K8S_OBJECT },
    "kubernetes:batch/v1:Job": {
        seconds: 180,
        source: "~2-4 min: Pulumi waits for completion: image pull, the identity reaching the node or token exchange, role propagation",
    },
    "kubernetes:helm.sh/v3:Release": { seconds: 60, source: "~1 min: installs the chart and waits for MIC and NMI to roll out" },
    // Random values are computed by the provider, with no cloud call.
    "random:index/randomString:RandomString": { seconds: 0, source: "computed locally by the random provider" },
    "random:index/randomPassword:RandomPassword": { seconds: 0, source: "computed locally by the random provider" },
};

/** The duration of `type`, and whether it came from the table rather than the fallback. */
export function durationOf(type: string, table: Readonly<Record<string, TypeDuration>> = DURATIONS): { duration: TypeDuration; known: boolean } {
    const entry = Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
    return entry === undefined ? { duration: DEFAULT_DURATION, known: false } : { duration: entry, known: true };
}
