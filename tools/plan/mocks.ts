// Pulumi mocks shared by the unit tests and the offline plan (`npm run plan`). They answer like Azure
// would: ARM ids built from the inputs, GUID-shaped client, principal and tenant ids, endpoint URLs.
// Every value is derived from the resource's name and inputs, so two runs are identical. A resource
// type or invoke without a mock fails loudly instead of being faked.
import { createHash } from "crypto";
import type * as pulumi from "@pulumi/pulumi";

type Inputs = Record<string, unknown>;
type State = Record<string, unknown>;

/** Deterministic GUID (version-4 shaped) from a seed string. */
export function guidFrom(seed: string): string {
    const hex = createHash("sha256").update(seed).digest("hex");
    const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Deterministic string of `length` characters drawn from `alphabet`. */
function charsFrom(seed: string, length: number, alphabet: string): string {
    let out = "";
    let counter = 0;
    while (out.length < length) {
        const digest = createHash("sha256").update(`${seed}:${counter++}`).digest();
        for (const byte of digest) {
            if (out.length < length) {
                out += alphabet[byte % alphabet.length];
            }
        }
    }
    return out;
}

export const MOCK_SUBSCRIPTION_ID = guidFrom("subscription");
export const MOCK_TENANT_ID = guidFrom("tenant");
/** When the plan's timestamps were created: 2026-01-01T00:00:00Z. */
export const MOCK_CREATED_UNIX = 1_767_225_600;
/** The version AKS's stable channel picks for a cluster that names none. */
export const MOCK_STABLE_KUBERNETES_VERSION = "1.36.2";
/**
 * The firewall's private address, as Azure gives it: the first AzureFirewallSubnet leaves free, the
 * fourth after its network address in the default 10.76.0.0/26.
 */
export const MOCK_FIREWALL_PRIVATE_IP = "10.76.0.4";
/** The principal running `pulumi up` (a user or a pipeline's service principal). */
export const MOCK_DEPLOYER = { clientId: guidFrom("deployer-client"), objectId: guidFrom("deployer-object") };

function str(inputs: Inputs, key: string, fallback: string): string {
    const value = inputs[key];
    return typeof value === "string" && value !== "" ? value : fallback;
}

function resourceGroupId(inputs: Inputs): string {
    return `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/${str(inputs, "resourceGroupName", "rg")}`;
}

function provider(inputs: Inputs, namespace: string): string {
    return `${resourceGroupId(inputs)}/providers/${namespace}`;
}

interface AzureMock {
    /** Input holding the Azure name; the Pulumi name is used when it is absent. */
    nameKey: string;
    /** ARM id of the resource. */
    id: (inputs: Inputs, name: string) => string;
    /** Outputs Azure computes, beyond the inputs, id and name. */
    outputs?: (inputs: Inputs, name: string, urnSeed: string) => State;
}

/** A cluster asked for with public access off. */
function isPrivate(inputs: Inputs): boolean {
    const access = inputs.apiServerAccessProfile as State | undefined;
    return access?.enablePrivateCluster === true;
}

const azure: Record<string, AzureMock> = {
    "azure-native:resources:ResourceGroup": {
        nameKey: "resourceGroupName",
        id: (_i, name) => `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/${name}`,
    },
    "azure-native:network:VirtualNetwork": {
        nameKey: "virtualNetworkName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/virtualNetworks/${name}`,
    },
    "azure-native:network:Subnet": {
        nameKey: "subnetName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/virtualNetworks/${str(i, "virtualNetworkName", "vnet")}/subnets/${name}`,
    },
    "azure-native:network:NetworkSecurityGroup": {
        nameKey: "networkSecurityGroupName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/networkSecurityGroups/${name}`,
    },
    "azure-native:network:PublicIPAddress": {
        nameKey: "publicIpAddressName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/publicIPAddresses/${name}`,
        // An address from the documentation range (RFC 5737), one per resource.
        outputs: (_i, _name, seed) => ({ ipAddress: `203.0.113.${(createHash("sha256").update(seed).digest()[0] % 250) + 1}` }),
    },
    "azure-native:network:NatGateway": {
        nameKey: "natGatewayName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/natGateways/${name}`,
    },
    "azure-native:network:RouteTable": {
        nameKey: "routeTableName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/routeTables/${name}`,
    },
    "azure-native:network:Route": {
        nameKey: "routeName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/routeTables/${str(i, "routeTableName", "rt")}/routes/${name}`,
    },
    "azure-native:network:FirewallPolicy": {
        nameKey: "firewallPolicyName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/firewallPolicies/${name}`,
    },
    "azure-native:network:FirewallPolicyRuleCollectionGroup": {
        nameKey: "ruleCollectionGroupName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/firewallPolicies/${str(i, "firewallPolicyName", "policy")}/ruleCollectionGroups/${name}`,
    },
    "azure-native:network:AzureFirewall": {
        nameKey: "azureFirewallName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/azureFirewalls/${name}`,
        // Azure gives the firewall the first address its subnet leaves free: the fifth (Azure keeps four).
        outputs: (i) => ({
            ipConfigurations: ((i.ipConfigurations as State[] | undefined) ?? []).map((c, index) => (index === 0 ? { ...c, privateIPAddress: MOCK_FIREWALL_PRIVATE_IP } : c)),
        }),
    },
    "azure-native:network:FlowLog": {
        nameKey: "flowLogName",
        id: (i, name) =>
            `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/${str(i, "resourceGroupName", "rg")}/providers/Microsoft.Network/networkWatchers/${str(i, "networkWatcherName", "nw")}/flowLogs/${name}`,
    },
    "azure-native:network:VirtualNetworkPeering": {
        nameKey: "virtualNetworkPeeringName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/virtualNetworks/${str(i, "virtualNetworkName", "vnet")}/virtualNetworkPeerings/${name}`,
    },
    "azure-native:network:PrivateEndpoint": {
        nameKey: "privateEndpointName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/privateEndpoints/${name}`,
    },
    "azure-native:network:PrivateDnsZoneGroup": {
        nameKey: "privateDnsZoneGroupName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/privateEndpoints/${str(i, "privateEndpointName", "pe")}/privateDnsZoneGroups/${name}`,
    },
    "azure-native:privatedns:PrivateZone": {
        nameKey: "privateZoneName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/privateDnsZones/${name}`,
    },
    "azure-native:privatedns:VirtualNetworkLink": {
        nameKey: "virtualNetworkLinkName",
        id: (i, name) => `${provider(i, "Microsoft.Network")}/privateDnsZones/${str(i, "privateZoneName", "zone")}/virtualNetworkLinks/${name}`,
    },
    "azure-native:managedidentity:UserAssignedIdentity": {
        nameKey: "resourceName",
        id: (i, name) => `${provider(i, "Microsoft.ManagedIdentity")}/userAssignedIdentities/${name}`,
        outputs: (_i, _name, seed) => ({
            clientId: guidFrom(`${seed}:client`),
            principalId: guidFrom(`${seed}:principal`),
            tenantId: MOCK_TENANT_ID,
        }),
    },
    "azure-native:storage:StorageAccount": {
        nameKey: "accountName",
        id: (i, name) => `${provider(i, "Microsoft.Storage")}/storageAccounts/${name}`,
        outputs: (_i, name) => ({
            primaryEndpoints: { blob: `https://${name}.blob.core.windows.net/`, dfs: `https://${name}.dfs.core.windows.net/` },
        }),
    },
    "azure-native:storage:BlobServiceProperties": {
        nameKey: "blobServicesName",
        id: (i, name) => `${provider(i, "Microsoft.Storage")}/storageAccounts/${str(i, "accountName", "account")}/blobServices/${name}`,
    },
    "azure-native:storage:BlobContainer": {
        nameKey: "containerName",
        id: (i, name) => `${provider(i, "Microsoft.Storage")}/storageAccounts/${str(i, "accountName", "account")}/blobServices/default/containers/${name}`,
    },
    "azure-native:keyvault:Vault": {
        nameKey: "vaultName",
        id: (i, name) => `${provider(i, "Microsoft.KeyVault")}/vaults/${name}`,
        outputs: (i, name) => ({
            properties: { ...((i.properties as State | undefined) ?? {}), vaultUri: `https://${name}.vault.azure.net/` },
        }),
    },
    "azure-native:keyvault:Secret": {
        nameKey: "secretName",
        id: (i, name) => `${provider(i, "Microsoft.KeyVault")}/vaults/${str(i, "vaultName", "vault")}/secrets/${name}`,
        outputs: (i, name) => ({
            properties: {
                ...((i.properties as State | undefined) ?? {}),
                secretUri: `https://${str(i, "vaultName", "vault")}.vault.azure.net/secrets/${name}`,
            },
        }),
    },
    "azure-native:keyvault:Key": {
        nameKey: "keyName",
        id: (i, name) => `${provider(i, "Microsoft.KeyVault")}/vaults/${str(i, "vaultName", "vault")}/keys/${name}`,
        outputs: (i, name, seed) => ({
            keyUri: `https://${str(i, "vaultName", "vault")}.vault.azure.net/keys/${name}`,
            keyUriWithVersion: `https://${str(i, "vaultName", "vault")}.vault.azure.net/keys/${name}/${guidFrom(`${seed}:version`).replace(/-/g, "")}`,
        }),
    },
    "azure-native:operationalinsights:Workspace": {
        nameKey: "workspaceName",
        id: (i, name) => `${provider(i, "Microsoft.OperationalInsights")}/workspaces/${name}`,
        outputs: (_i, _name, seed) => ({ customerId: guidFrom(`${seed}:customer`) }),
    },
    "azure-native:monitor:DiagnosticSetting": {
        nameKey: "name",
        id: (i, name) => `${str(i, "resourceUri", "/")}/providers/Microsoft.Insights/diagnosticSettings/${name}`,
    },
    "azure-native:containerservice:AgentPool": {
        nameKey: "agentPoolName",
        id: (i, name) => `${provider(i, "Microsoft.ContainerService")}/managedClusters/${str(i, "resourceName", "aks")}/agentPools/${name}`,
    },
    "azure-native:containerservice:ManagedCluster": {
        nameKey: "resourceName",
        id: (i, name) => `${provider(i, "Microsoft.ContainerService")}/managedClusters/${name}`,
        outputs: (i, name, seed) => {
            const oidc = i.oidcIssuerProfile as { enabled?: boolean } | undefined;
            // AKS answers with the version it chose: the stable channel's when none was named, an alias
            // (`1.35`) as it was sent; each pool with the patch it runs.
            const kubernetesVersion = str(i, "kubernetesVersion", MOCK_STABLE_KUBERNETES_VERSION);
            const poolVersion = /^\d+\.\d+$/.test(kubernetesVersion) ? `${kubernetesVersion}.4` : kubernetesVersion;
            const pools = Array.isArray(i.agentPoolProfiles) ? (i.agentPoolProfiles as State[]) : [];
            return {
                kubernetesVersion,
                agentPoolProfiles: pools.map((pool) => ({ ...pool, orchestratorVersion: poolVersion })),
                // A private API server's name is in the private zone AKS makes; it has no public one
                // unless asked for (enablePrivateClusterPublicFQDN).
                ...(isPrivate(i)
                    ? { privateFQDN: `${str(i, "dnsPrefix", name)}-${charsFrom(seed, 8, LOWER_ALNUM)}.${guidFrom(`${seed}:zone`)}.private.${str(i, "location", "uksouth")}.azmk8s.io` }
                    : {}),
                ...(isPrivate(i) && (i.apiServerAccessProfile as State).enablePrivateClusterPublicFQDN !== true
                    ? {}
                    : { fqdn: `${str(i, "dnsPrefix", name)}-${charsFrom(seed, 8, LOWER_ALNUM)}.hcp.${str(i, "location", "uksouth")}.azmk8s.io` }),
                nodeResourceGroup: str(i, "nodeResourceGroup", `MC_${str(i, "resourceGroupName", "rg")}_${name}`),
                oidcIssuerProfile: oidc?.enabled
                    ? { enabled: true, issuerURL: `https://${str(i, "location", "uksouth")}.oic.prod-aks.azure.com/${MOCK_TENANT_ID}/${guidFrom(`${seed}:issuer`)}/` }
                    : { enabled: false },
            };
        },
    },
    "azure-native:managedidentity:FederatedIdentityCredential": {
        nameKey: "federatedIdentityCredentialResourceName",
        id: (i, name) => `${provider(i, "Microsoft.ManagedIdentity")}/userAssignedIdentities/${str(i, "resourceName", "identity")}/federatedIdentityCredentials/${name}`,
    },
    "azure-native:keyvault:AccessPolicy": {
        nameKey: "vaultName",
        id: (i) => `${provider(i, "Microsoft.KeyVault")}/vaults/${str(i, "vaultName", "vault")}/accessPolicy`,
    },
    "azure-native:authorization:RoleAssignment": {
        nameKey: "roleAssignmentName",
        id: (i, name) => `${str(i, "scope", "/")}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    },
    "azure-native:authorization:PolicyAssignment": {
        nameKey: "policyAssignmentName",
        id: (i, name) => `${str(i, "scope", "/")}/providers/Microsoft.Authorization/policyAssignments/${name}`,
    },
    "azure-native:authorization:RoleDefinition": {
        nameKey: "roleDefinitionId",
        id: (i, name) => `${str(i, "scope", "/")}/providers/Microsoft.Authorization/roleDefinitions/${name}`,
    },
};

/** Types whose Azure name Pulumi generates when the program leaves it out (auto-naming). */
const AUTONAMED_AS_GUID = new Set(["azure-native:authorization:RoleAssignment", "azure-native:authorization:RoleDefinition"]);

/** The Entra ID kubeconfig AKS returns for `format: exec` (kubelogin, device-code login). */
export function userKubeconfig(cluster: string): string {
    const server = `https://${cluster}-dns-00000000.hcp.uksouth.azmk8s.io:443`;
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: ${cluster}`,
        "  cluster:",
        "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
        `    server: ${server}`,
        "contexts:",
        `- name: ${cluster}`,
        "  context:",
        `    cluster: ${cluster}`,
        `    user: clusterUser_${cluster}`,
        `current-context: ${cluster}`,
        "users:",
        `- name: clusterUser_${cluster}`,
        "  user:",
        "    exec:",
        "      apiVersion: client.authentication.k8s.io/v1beta1",
        "      command: kubelogin",
        "      args:",
        "      - get-token",
        "      - --login",
        "      - devicecode",
        "      - --server-id",
        "      - 6dae42f8-4368-4678-94ff-3960e28e3630",
        "      - --client-id",
        "      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a",
        "      - --tenant-id",
        `      - ${MOCK_TENANT_ID}`,
        "      - --environment",
        "      - AzurePublicCloud",
        "      env: null",
        "      interactiveMode: IfAvailable",
        "      provideClusterInfo: false",
        "",
    ].join("\n");
}

export class AzureMocks implements pulumi.runtime.Mocks {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: State } {
        if (!args.custom) {
            return { id: undefined, state: {} };
        }
        const inputs = args.inputs as Inputs;
        const seed = `${args.type}::${args.name}`;
        if (args.type === "random:index/randomString:RandomString") {
            const length = typeof inputs.length === "number" ? inputs.length : 16;
            return { id: args.name, state: { ...inputs, result: charsFrom(seed, length, LOWER_ALNUM) } };
        }
        if (args.type === "random:index/randomPassword:RandomPassword") {
            const length = typeof inputs.length === "number" ? inputs.length : 16;
            return { id: "none", state: { ...inputs, result: charsFrom(seed, length, `${LOWER_ALNUM}ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.~`) } };
        }
        if (args.type === "azuread:index/application:Application") {
            return { id: `/applications/${guidFrom(`${seed}:object`)}`, state: { ...inputs, clientId: guidFrom(`${seed}:client`), objectId: guidFrom(`${seed}:object`) } };
        }
        if (args.type === "azuread:index/servicePrincipal:ServicePrincipal") {
            return { id: `/servicePrincipals/${guidFrom(`${seed}:object`)}`, state: { ...inputs, objectId: guidFrom(`${seed}:object`) } };
        }
        if (args.type === "azuread:index/applicationPassword:ApplicationPassword") {
            return { id: `${String(inputs.applicationId)}/password/${guidFrom(seed)}`, state: { ...inputs, keyId: guidFrom(seed), value: charsFrom(seed, 40, `${LOWER_ALNUM}~._-`) } };
        }
        if (args.type === "kubernetes:helm.sh/v3:Release") {
            return { id: `${str(inputs, "namespace", "default")}/${str(inputs, "name", args.name)}`, state: { ...inputs, status: { status: "deployed", version: 1 } } };
        }
        if (args.type === "pulumi:providers:kubernetes") {
            return { id: guidFrom(seed), state: { ...inputs } };
        }
        if (args.type.startsWith("kubernetes:")) {
            // The Kubernetes provider's id is namespace/name (or name for cluster-scoped objects).
            const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
            const objectName = str(metadata, "name", args.name);
            const namespace = typeof metadata.namespace === "string" ? `${metadata.namespace}/` : "";
            return { id: `${namespace}${objectName}`, state: { ...inputs, metadata: { ...metadata, name: objectName } } };
        }
        if (args.type === "pulumi-nodejs:dynamic:PodIdentities") {
            // The provider's id is the cluster's ARM id, then `/podIdentities`.
            const cluster = `/subscriptions/${str(inputs, "subscriptionId", MOCK_SUBSCRIPTION_ID)}/resourceGroups/${str(inputs, "resourceGroupName", "rg")}/providers/Microsoft.ContainerService/managedClusters/${str(inputs, "clusterName", "aks")}`;
            return { id: `${cluster}/podIdentities`, state: { ...inputs } };
        }
        if (args.type === "pulumi-nodejs:dynamic:Timestamp") {
            // A fixed moment, so that every plan's expiry dates are the same.
            const unix = MOCK_CREATED_UNIX;
            const rfc3339 = new Date(unix * 1000).toISOString().replace(".000Z", "Z");
            return { id: `${str(inputs, "purpose", args.name)}@${rfc3339}`, state: { ...inputs, rfc3339, unix } };
        }
        if (args.type === "pulumi-nodejs:dynamic:CreationRecord") {
            return { id: str(inputs, "of", args.name), state: { ...inputs } };
        }
        if (args.type === "pulumi-nodejs:dynamic:RolePropagationDelay") {
            return { id: `role-propagation-${guidFrom(seed)}`, state: { ...inputs } };
        }
        if (args.type === "pulumi-nodejs:dynamic:ClusterAccessWait") {
            // The provider keeps the API server it asked, never the kubeconfig.
            const { kubeconfig, ...rest } = inputs;
            const server = /server: (\S+)/.exec(typeof kubeconfig === "string" ? kubeconfig : "")?.[1] ?? "https://aks.example:443";
            return { id: `${server}#access-${guidFrom(seed)}`, state: { ...rest, server } };
        }
        const mock = azure[args.type];
        if (mock === undefined) {
            throw new Error(`No mock for resource type ${args.type} (${args.name}): add one to tools/plan/mocks.ts`);
        }
        const fallbackName = AUTONAMED_AS_GUID.has(args.type) ? guidFrom(seed) : args.name;
        const name = str(inputs, mock.nameKey, fallbackName);
        const id = mock.id(inputs, name);
        return { id, state: { ...inputs, name, ...(mock.outputs?.(inputs, name, seed) ?? {}) } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        switch (args.token) {
            case "azure-native:containerservice:listManagedClusterUserCredentials":
                return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(userKubeconfig(String(args.inputs.resourceName))).toString("base64") }] };
            case "azure-native:authorization:getClientConfig":
                return { clientId: MOCK_DEPLOYER.clientId, objectId: MOCK_DEPLOYER.objectId, subscriptionId: MOCK_SUBSCRIPTION_ID, tenantId: MOCK_TENANT_ID };
            default:
                throw new Error(`No mock for invoke ${args.token}: add one to tools/plan/mocks.ts`);
        }
    }
}
