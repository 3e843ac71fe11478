// The policy pack in policy/: every policy passes a compliant resource (or stack) and fails a
// non-compliant one, evaluated by the same offline logic `npm run policy` uses; the offline
// evaluation builds the analyzer's arguments faithfully; and the real plans of all six
// configurations meet every mandatory policy.
import type { Policies, PolicyResource, ResourceValidationPolicy } from "@pulumi/policy";
import { azureName, endpointConnections, endpointSubnet as subnetOfEndpoint, idNames, idNamesSubnet, linkedThrough, ofType, privateEndpointsFor, refersTo, waitsFor } from "../policy/lib/graph";
import { field, firstText, isDict, list, sameText, stringMap, strings, text, whenKnown } from "../policy/lib/values";
import {
    NETWORK_PLAN_CONFIGURATIONS,
    PLAN_CONFIGURATIONS,
    evaluatePlan,
    formatViolation,
    isResourcePolicy,
    isStackPolicy,
    resourceValidationArgs,
    summaryLine,
    validateResourceStep,
    validateStackSteps,
} from "../tools/policyOffline";
import { armName, DATA_ROLES, dataItemOf, PRIVATE_DNS_ZONE_BY_GROUP, PRIVILEGED_ROLES, roleGuid, scopeLevel } from "../policy/lib/arm";
import {
    containersOf,
    effectiveRunAsNonRoot,
    effectiveRunAsUser,
    effectiveSeccompType,
    imageReference,
    isNamespacedKubernetesType,
    isPinnedImage,
    isReservedNamespace,
    namespaceOf,
    RESTRICTED_VOLUME_TYPES,
    selectorMatches,
    volumeTypes,
    workloadPods,
} from "../policy/lib/k8s";
import { isAadPodIdentityChart, runsPodIdentity } from "../policy/lib/modes";
import { admitsInternet, isNonPublicCidr } from "../policy/lib/net";
import { policies } from "../policy/policies";
import { azureBehaviourPolicies, cidrHolds, egressRuleAdmits } from "../policy/policies/azureBehaviour";
import type { PreviewStep } from "../tools/plan/types";
import { urnName } from "../tools/plan/urn";
import { planRuns } from "../tools/policyCheck";
import { planFor } from "./support";
import { IDENTITY_MODES, KEY_VAULT_AUTHORIZATIONS } from "../config";

// ---------------------------------------------------------------------------------------------
// Fixtures: small resources shaped like the plan's steps, and a way to vary them.

type Json = string | number | boolean | null | Json[] | JsonObject;
interface JsonObject {
    [key: string]: Json | undefined;
}

/** A resource before it becomes a plan step. */
interface Fixture {
    type: string;
    name: string;
    inputs: JsonObject;
    protect?: boolean;
    /** Property name to the fixtures it was computed from. */
    deps?: Record<string, Fixture[]>;
    /** Fixtures it waits for through dependsOn. */
    dependsOn?: Fixture[];
    /** Its explicit provider. */
    provider?: Fixture;
}

function isJsonObject(value: Json | undefined): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `base` with `patch` merged in; an undefined value removes the key, arrays are replaced. */
function merge(base: JsonObject, patch: JsonObject): JsonObject {
    const out: JsonObject = { ...base };
    for (const [key, value] of Object.entries(patch)) {
        const current = out[key];
        if (value === undefined) {
            delete out[key];
        } else {
            out[key] = isJsonObject(value) && isJsonObject(current) ? merge(current, value) : value;
        }
    }
    return out;
}

/** A variant of a fixture: patched inputs, and optionally other options. */
function vary(base: Fixture, patch: JsonObject, options: Partial<Omit<Fixture, "inputs">> = {}): Fixture {
    return { ...base, ...options, inputs: merge(base.inputs, patch) };
}

function urnOf(fixture: Fixture): string {
    return `urn:pulumi:test::aks-identity-vault::${fixture.type}::${fixture.name}`;
}

/** The plan step of a fixture. */
function stepOf(fixture: Fixture): PreviewStep {
    const propertyDependencies = Object.fromEntries(Object.entries(fixture.deps ?? {}).map(([key, deps]) => [key, deps.map(urnOf)]));
    return {
        op: "create",
        urn: urnOf(fixture),
        newState: {
            type: fixture.type,
            custom: true,
            parent: "",
            provider: fixture.provider === undefined ? "" : `${urnOf(fixture.provider)}::04da6b54-80e4-46f7-96ec-b56ff0331ba9`,
            inputs: fixture.inputs,
            dependencies: [...new Set([...Object.values(propertyDependencies).flat(), ...(fixture.dependsOn ?? []).map(urnOf)])],
            propertyDependencies,
            protect: fixture.protect ?? false,
            retainOnDelete: false,
            deleteBeforeReplace: false,
            ignoreChanges: [],
            aliases: [],
        },
    };
}

const SUB = "/subscriptions/11111111-1111-1111-1111-111111111111";
const RG = `${SUB}/resourceGroups/rg-aiv-test`;
const TENANT = "22222222-2222-2222-2222-222222222222";
const PRINCIPAL = "33333333-3333-3333-3333-333333333333";
const VNET = `${RG}/providers/Microsoft.Network/virtualNetworks/vnet-aiv-test`;
const VAULT_ID = `${RG}/providers/Microsoft.KeyVault/vaults/kv-aiv-test-abc123`;
const ACCOUNT_ID = `${RG}/providers/Microsoft.Storage/storageAccounts/staivtestabc123`;
const WORKSPACE_ID = `${RG}/providers/Microsoft.OperationalInsights/workspaces/log-aiv-test`;
const IDENTITY_ID = `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-test-alpha`;
const ZONE_ID = (zone: string) => `${RG}/providers/Microsoft.Network/privateDnsZones/${zone}`;
const ROLE = (guid: string) => `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const ROLES = {
    owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
    userAccessAdministrator: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    secretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
    blobContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
    vmContributor: "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
    managedIdentityOperator: "f1a07417-d97a-45cb-824c-7a7467783830",
    clusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    keyVaultContributor: "f25e0fa2-a7c8-4377-a976-54943a77a395",
    keyVaultReader: "21090545-7ca7-4776-b22c-e363652d74d2",
};
const T = {
    resourceGroup: "azure-native:resources:ResourceGroup",
    vault: "azure-native:keyvault:Vault",
    accessPolicy: "azure-native:keyvault:AccessPolicy",
    secret: "azure-native:keyvault:Secret",
    key: "azure-native:keyvault:Key",
    account: "azure-native:storage:StorageAccount",
    blobService: "azure-native:storage:BlobServiceProperties",
    container: "azure-native:storage:BlobContainer",
    zone: "azure-native:privatedns:PrivateZone",
    link: "azure-native:privatedns:VirtualNetworkLink",
    nsg: "azure-native:network:NetworkSecurityGroup",
    rule: "azure-native:network:SecurityRule",
    subnet: "azure-native:network:Subnet",
    endpoint: "azure-native:network:PrivateEndpoint",
    zoneGroup: "azure-native:network:PrivateDnsZoneGroup",
    role: "azure-native:authorization:RoleAssignment",
    cluster: "azure-native:containerservice:ManagedCluster",
    agentPool: "azure-native:containerservice:AgentPool",
    workspace: "azure-native:operationalinsights:Workspace",
    diagnosticSetting: "azure-native:monitor:DiagnosticSetting",
    federation: "azure-native:managedidentity:FederatedIdentityCredential",
    namespace: "kubernetes:core/v1:Namespace",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    configMap: "kubernetes:core/v1:ConfigMap",
    pod: "kubernetes:core/v1:Pod",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    deployment: "kubernetes:apps/v1:Deployment",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    release: "kubernetes:helm.sh/v3:Release",
    admissionPolicy: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    admissionBinding: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    secretProviderClass: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    azureIdentity: "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity",
    azureIdentityBinding: "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentityBinding",
    podIdentities: "pulumi-nodejs:dynamic:PodIdentities",
    delay: "pulumi-nodejs:dynamic:RolePropagationDelay",
    accessWait: "pulumi-nodejs:dynamic:ClusterAccessWait",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    k8sProvider: "pulumi:providers:kubernetes",
};

const resourceGroup: Fixture = { type: T.resourceGroup, name: "stack", protect: true, inputs: { resourceGroupName: "rg-aiv-test", location: "uksouth" } };
const vault: Fixture = {
    type: T.vault,
    name: "keyvault-vault",
    protect: true,
    inputs: {
        vaultName: "kv-aiv-test-abc123",
        resourceGroupName: "rg-aiv-test",
        location: "uksouth",
        properties: {
            tenantId: TENANT,
            sku: { family: "A", name: "standard" },
            enableRbacAuthorization: true,
            enableSoftDelete: true,
            softDeleteRetentionInDays: 90,
            enablePurgeProtection: true,
            publicNetworkAccess: "Disabled",
            networkAcls: { defaultAction: "Deny", bypass: "None" },
            enabledForDeployment: false,
            enabledForDiskEncryption: false,
            enabledForTemplateDeployment: false,
        },
    },
};
/** The vault with its properties left out, as a plan shows them when they are not known yet. */
const vaultWithoutProperties: Fixture = vary(vault, { properties: undefined });
const accessPolicy: Fixture = {
    type: T.accessPolicy,
    name: "keyvault-alpha-access-policy",
    inputs: {
        vaultName: "kv-aiv-test-abc123",
        resourceGroupName: "rg-aiv-test",
        policy: { objectId: PRINCIPAL, tenantId: TENANT, permissions: { secrets: ["get"], keys: ["get"] } },
    },
};
const secret: Fixture = {
    type: T.secret,
    name: "keyvault-alpha-secret",
    protect: true,
    inputs: {
        secretName: "alpha-demo",
        vaultName: "kv-aiv-test-abc123",
        resourceGroupName: "rg-aiv-test",
        properties: { value: "[secret]", contentType: "text/plain", attributes: { expires: 1_798_761_600 } },
    },
};
const key: Fixture = {
    type: T.key,
    name: "keyvault-alpha-key",
    protect: true,
    inputs: {
        keyName: "alpha-demo-key",
        vaultName: "kv-aiv-test-abc123",
        resourceGroupName: "rg-aiv-test",
        properties: {
            kty: "RSA",
            keySize: 3072,
            keyOps: ["sign", "verify"],
            attributes: { expires: 1_798_761_600 },
            rotationPolicy: {
                attributes: { expiryTime: "P365D" },
                lifetimeActions: [
                    { trigger: { timeBeforeExpiry: "P30D" }, action: { type: "rotate" } },
                    { trigger: { timeBeforeExpiry: "P37D" }, action: { type: "notify" } },
                ],
            },
        },
    },
};
const rotateAction: JsonObject = { trigger: { timeBeforeExpiry: "P30D" }, action: { type: "rotate" } };
const notifyAction: JsonObject = { trigger: { timeBeforeExpiry: "P37D" }, action: { type: "notify" } };
const account: Fixture = {
    type: T.account,
    name: "storage-account",
    protect: true,
    inputs: {
        accountName: "staivtestabc123",
        resourceGroupName: "rg-aiv-test",
        kind: "StorageV2",
        sku: { name: "Standard_ZRS" },
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: "TLS1_2",
        allowBlobPublicAccess: false,
        publicNetworkAccess: "Disabled",
        networkRuleSet: { defaultAction: "Deny", bypass: "None" },
        allowSharedKeyAccess: false,
        allowCrossTenantReplication: false,
        encryption: { keySource: "Microsoft.Storage", requireInfrastructureEncryption: true },
    },
};
const blobService: Fixture = {
    type: T.blobService,
    name: "storage-blob-service",
    deps: { accountName: [account] },
    inputs: {
        accountName: "staivtestabc123",
        resourceGroupName: "rg-aiv-test",
        blobServicesName: "default",
        isVersioningEnabled: true,
        deleteRetentionPolicy: { enabled: true, days: 30 },
        containerDeleteRetentionPolicy: { enabled: true, days: 30 },
    },
};
const container: Fixture = {
    type: T.container,
    name: "storage-alpha-container",
    protect: true,
    deps: { accountName: [account] },
    inputs: { accountName: "staivtestabc123", resourceGroupName: "rg-aiv-test", containerName: "alpha", publicAccess: "None" },
};
const vaultZone: Fixture = { type: T.zone, name: "dns-vault-zone", inputs: { privateZoneName: "privatelink.vaultcore.azure.net", resourceGroupName: "rg-aiv-test", location: "global" } };
const blobZone: Fixture = { type: T.zone, name: "dns-blob-zone", inputs: { privateZoneName: "privatelink.blob.core.windows.net", resourceGroupName: "rg-aiv-test", location: "global" } };
const vaultLink: Fixture = {
    type: T.link,
    name: "dns-vault-link",
    deps: { privateZoneName: [vaultZone] },
    inputs: {
        privateZoneName: "privatelink.vaultcore.azure.net",
        resourceGroupName: "rg-aiv-test",
        location: "global",
        virtualNetwork: { id: VNET },
        registrationEnabled: false,
        virtualNetworkLinkName: "link-aiv-test",
    },
};
const aksNsg: Fixture = { type: T.nsg, name: "network-aks-nsg", inputs: { networkSecurityGroupName: "nsg-aiv-test-aks", resourceGroupName: "rg-aiv-test" } };
const httpsFromAks = {
    name: "allow-https-from-aks",
    priority: 100,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: "10.76.1.0/24",
    sourcePortRange: "*",
    destinationAddressPrefix: "10.76.2.0/26",
    destinationPortRange: "443",
};
const denyInbound = { ...httpsFromAks, name: "deny-other-inbound", priority: 4096, access: "Deny", protocol: "*", sourceAddressPrefix: "*", destinationAddressPrefix: "*", destinationPortRange: "*" };
const endpointNsg: Fixture = {
    type: T.nsg,
    name: "network-endpoints-nsg",
    inputs: { networkSecurityGroupName: "nsg-aiv-test-endpoints", resourceGroupName: "rg-aiv-test", securityRules: [httpsFromAks, denyInbound] },
};
const aksSubnet: Fixture = {
    type: T.subnet,
    name: "network-aks-subnet",
    deps: { networkSecurityGroup: [aksNsg] },
    inputs: {
        subnetName: "snet-aks",
        virtualNetworkName: "vnet-aiv-test",
        resourceGroupName: "rg-aiv-test",
        addressPrefix: "10.76.1.0/24",
        networkSecurityGroup: { id: `${RG}/providers/Microsoft.Network/networkSecurityGroups/nsg-aiv-test-aks` },
        privateEndpointNetworkPolicies: "Disabled",
    },
};
const endpointSubnet: Fixture = {
    type: T.subnet,
    name: "network-endpoints-subnet",
    deps: { networkSecurityGroup: [endpointNsg] },
    inputs: {
        subnetName: "snet-endpoints",
        virtualNetworkName: "vnet-aiv-test",
        resourceGroupName: "rg-aiv-test",
        addressPrefix: "10.76.2.0/26",
        networkSecurityGroup: { id: `${RG}/providers/Microsoft.Network/networkSecurityGroups/nsg-aiv-test-endpoints` },
        privateEndpointNetworkPolicies: "Enabled",
    },
};
const endpointFor = (name: string, target: Fixture, targetId: string, group: string, subnet: Fixture): Fixture => ({
    type: T.endpoint,
    name,
    deps: { subnet: [subnet], privateLinkServiceConnections: [target], privateEndpointName: [target] },
    inputs: {
        privateEndpointName: `pe-${group}`,
        resourceGroupName: "rg-aiv-test",
        subnet: { id: `${VNET}/subnets/${String(subnet.inputs.subnetName)}` },
        privateLinkServiceConnections: [{ name: `pe-${group}`, privateLinkServiceId: targetId, groupIds: [group] }],
    },
});
const zoneGroupFor = (name: string, endpoint: Fixture, zone: Fixture, group: string): Fixture => ({
    type: T.zoneGroup,
    name,
    deps: { privateEndpointName: [endpoint], privateDnsZoneConfigs: [zone] },
    inputs: {
        privateDnsZoneGroupName: "default",
        privateEndpointName: String(endpoint.inputs.privateEndpointName),
        resourceGroupName: "rg-aiv-test",
        privateDnsZoneConfigs: [{ name: group, privateDnsZoneId: ZONE_ID(String(zone.inputs.privateZoneName)) }],
    },
});
const vaultEndpoint = endpointFor("keyvault-vault-endpoint", vault, VAULT_ID, "vault", endpointSubnet);
const blobEndpoint = endpointFor("storage-blob-endpoint", account, ACCOUNT_ID, "blob", endpointSubnet);
const vaultZoneGroup = zoneGroupFor("keyvault-vault-endpoint-dns", vaultEndpoint, vaultZone, "vault");
const blobZoneGroup = zoneGroupFor("storage-blob-endpoint-dns", blobEndpoint, blobZone, "blob");
const secretsUser: Fixture = {
    type: T.role,
    name: "keyvault-alpha-secrets-user",
    inputs: { principalId: PRINCIPAL, principalType: "ServicePrincipal", roleDefinitionId: ROLE(ROLES.secretsUser), scope: `${VAULT_ID}/secrets/alpha-demo` },
};
const cluster: Fixture = {
    type: T.cluster,
    name: "aks-cluster",
    protect: true,
    deps: { agentPoolProfiles: [aksSubnet] },
    inputs: {
        resourceName: "aks-aiv-test",
        resourceGroupName: "rg-aiv-test",
        enableRBAC: true,
        aadProfile: { managed: true, enableAzureRBAC: true, tenantID: TENANT },
        disableLocalAccounts: true,
        identity: { type: "UserAssigned", userAssignedIdentities: [`${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-test-aks`] },
        identityProfile: { kubeletidentity: { resourceId: `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-test-aks-kubelet`, clientId: PRINCIPAL, objectId: PRINCIPAL } },
        autoUpgradeProfile: { upgradeChannel: "stable", nodeOSUpgradeChannel: "NodeImage" },
        apiServerAccessProfile: { authorizedIPRanges: ["203.0.113.0/24"] },
        networkProfile: { networkPlugin: "azure", networkPolicy: "calico", serviceCidr: "10.0.0.0/16", dnsServiceIP: "10.0.0.10" },
        agentPoolProfiles: [
            {
                name: "system",
                mode: "System",
                count: 2,
                vmSize: "Standard_DS2_v2",
                vnetSubnetID: `${VNET}/subnets/snet-aks`,
                enableNodePublicIP: false,
                nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"],
                availabilityZones: ["1", "2", "3"],
            },
        ],
        podIdentityProfile: { enabled: true, allowNetworkPluginKubenet: false },
        addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } }, azurepolicy: { enabled: true } },
        oidcIssuerProfile: { enabled: true },
        securityProfile: { workloadIdentity: { enabled: false }, defender: { logAnalyticsWorkspaceResourceId: WORKSPACE_ID, securityMonitoring: { enabled: true } } },
    },
};
const workspace: Fixture = {
    type: T.workspace,
    name: "logs-workspace",
    protect: true,
    inputs: { workspaceName: "log-aiv-test", resourceGroupName: "rg-aiv-test", location: "uksouth", sku: { name: "PerGB2018" }, retentionInDays: 30 },
};
/** A diagnostic setting of `target` (by `deps`) to the workspace, sending `logs`. */
const diagnostics = (name: string, target: Fixture, uri: string, logs: Json[]): Fixture => ({
    type: T.diagnosticSetting,
    name,
    deps: { resourceUri: [target], workspaceId: [workspace] },
    inputs: { name: "send-to-log-analytics", resourceUri: uri, workspaceId: WORKSPACE_ID, logs, metrics: [{ category: "AllMetrics", enabled: true }] },
});
const categories = (...names: string[]): Json[] => names.map((category) => ({ category, enabled: true }));
const vaultDiagnostics = diagnostics("keyvault-vault-diagnostics", vault, VAULT_ID, categories("AuditEvent"));
const blobDiagnostics = diagnostics("storage-blob-diagnostics", blobService, `${ACCOUNT_ID}/blobServices/default`, categories("StorageRead", "StorageWrite", "StorageDelete"));
const clusterDiagnostics = diagnostics("aks-cluster-diagnostics", cluster, `${RG}/providers/Microsoft.ContainerService/managedClusters/aks-aiv-test`, categories("kube-audit-admin", "guard"));
const userPool: Fixture = {
    type: T.agentPool,
    name: "aks-user-pool",
    deps: { resourceName: [cluster] },
    inputs: {
        agentPoolName: "user",
        resourceGroupName: "rg-aiv-test",
        resourceName: "aks-aiv-test",
        mode: "User",
        vmSize: "Standard_D4ds_v5",
        enableAutoScaling: true,
        minCount: 2,
        maxCount: 4,
        count: 2,
        availabilityZones: ["1", "2", "3"],
    },
};
/** What the baseline's stack rules read: the logged resources, their settings, the workspace, the user pool. */
const baselineStack: Fixture[] = [workspace, vault, vaultDiagnostics, account, blobService, blobDiagnostics, cluster, clusterDiagnostics, userPool];
/** `baselineStack` with fixtures replaced (same type and name) or removed. */
function baselineWith(replacements: Fixture[], removed: Fixture[] = []): Fixture[] {
    const key = (f: Fixture) => `${f.type}::${f.name}`;
    const replaced = new Map(replacements.map((f) => [key(f), f]));
    const dropped = new Set(removed.map(key));
    return [...baselineStack.filter((f) => !dropped.has(key(f))).map((f) => replaced.get(key(f)) ?? f), ...replacements.filter((f) => !baselineStack.some((g) => key(g) === key(f)))];
}
const restrictedLabels = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
};
const namespace: Fixture = { type: T.namespace, name: "alpha-namespace", inputs: { apiVersion: "v1", kind: "Namespace", metadata: { name: "alpha", labels: restrictedLabels } } };
const serviceAccount: Fixture = {
    type: T.serviceAccount,
    name: "alpha-service-account",
    inputs: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "alpha-workload", namespace: "alpha" }, automountServiceAccountToken: false },
};
const mainContainer: JsonObject = {
    name: "main",
    image: "node:22.14.0-alpine3.21",
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "128Mi" } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
};
const podSpec: JsonObject = {
    serviceAccountName: "alpha-workload",
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
    containers: [mainContainer],
    volumes: [
        { name: "verifier", configMap: { name: "verifier-script" } },
        { name: "secrets-store", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: "alpha-keyvault" } } },
    ],
};
const podLabels = { "app.kubernetes.io/part-of": "aks-identity-vault-demo", "aks-identity-vault/workload": "alpha", aadpodidbinding: "alpha" };
const pod: Fixture = {
    type: T.pod,
    name: "alpha-inspector",
    inputs: { apiVersion: "v1", kind: "Pod", metadata: { name: "alpha-secrets-inspector", namespace: "alpha", labels: podLabels }, spec: podSpec },
};
const job: Fixture = {
    type: T.job,
    name: "alpha-verify-bound",
    inputs: {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "alpha-verify-bound", namespace: "alpha" },
        spec: { backoffLimit: 0, template: { metadata: { labels: podLabels }, spec: { ...podSpec, restartPolicy: "Never" } } },
    },
};
const deployment: Fixture = {
    type: T.deployment,
    name: "alpha-deployment",
    inputs: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "alpha", namespace: "alpha" },
        spec: { selector: { matchLabels: podLabels }, template: { metadata: { labels: podLabels }, spec: podSpec } },
    },
};
const cronJob: Fixture = {
    type: T.cronJob,
    name: "alpha-cron",
    inputs: {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: "alpha", namespace: "alpha" },
        spec: { schedule: "@daily", jobTemplate: { spec: { template: { metadata: { labels: podLabels }, spec: podSpec } } } },
    },
};
const networkPolicy: Fixture = {
    type: T.networkPolicy,
    name: "alpha-network-policy",
    inputs: {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "demo-egress", namespace: "alpha" },
        spec: {
            podSelector: { matchLabels: { "app.kubernetes.io/part-of": "aks-identity-vault-demo", "aks-identity-vault/workload": "alpha" } },
            policyTypes: ["Ingress", "Egress"],
            ingress: [],
            egress: [
                {
                    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                    ports: [{ protocol: "UDP", port: 53 }],
                },
                { to: [{ ipBlock: { cidr: "10.76.2.0/26" } }], ports: [{ protocol: "TCP", port: 443 }] },
                { to: [{ ipBlock: { cidr: "127.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 2579 }] },
            ],
        },
    },
};
/** The label guard's check: only alpha's own service account in namespace alpha may carry the label. */
const labelGuardValidation: JsonObject = {
    expression:
        "!(has(object.metadata.labels) && 'aadpodidbinding' in object.metadata.labels && object.metadata.labels['aadpodidbinding'] == 'alpha') || (request.namespace == 'alpha' && object.spec.serviceAccountName == 'alpha-workload')",
};
const labelGuard: Fixture = {
    type: T.admissionPolicy,
    name: "alpha-label-guard",
    inputs: {
        metadata: { name: "aadpodidbinding-guard-alpha" },
        spec: {
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] }] },
            validations: [labelGuardValidation],
        },
    },
};
const labelGuardBinding: Fixture = {
    type: T.admissionBinding,
    name: "alpha-label-guard-binding",
    deps: { spec: [labelGuard] },
    inputs: { metadata: { name: "aadpodidbinding-guard-alpha" }, spec: { policyName: "aadpodidbinding-guard-alpha", validationActions: ["Deny"] } },
};
const secretProviderClass: Fixture = {
    type: T.secretProviderClass,
    name: "alpha-secret-provider",
    inputs: {
        apiVersion: "secrets-store.csi.x-k8s.io/v1",
        kind: "SecretProviderClass",
        metadata: { name: "alpha-keyvault", namespace: "alpha" },
        spec: { provider: "azure", parameters: { usePodIdentity: "true", useVMManagedIdentity: "false", keyvaultName: "kv-aiv-test-abc123", tenantID: TENANT, objects: "array: []" } },
    },
};
const release: Fixture = {
    type: T.release,
    name: "aad-pod-identity-release",
    inputs: {
        name: "aad-pod-identity",
        chart: "https://raw.githubusercontent.com/Azure/aad-pod-identity/d17ea6a41aed5284fda895d6d48f50cc5f9f175f/charts/aad-pod-identity-4.1.18.tgz",
        version: "4.1.18",
        namespace: "aad-pod-identity",
        values: { forceNamespaced: "true", nmi: { allowNetworkPluginKubenet: false } },
    },
};
const otherRelease = vary(release, { name: "ingress", chart: "ingress-nginx", namespace: "ingress", values: {} }, { name: "ingress-release" });
const azureIdentity: Fixture = {
    type: T.azureIdentity,
    name: "alpha-azure-identity",
    inputs: { apiVersion: "aadpodidentity.k8s.io/v1", kind: "AzureIdentity", metadata: { name: "alpha", namespace: "alpha" }, spec: { type: 0, resourceID: IDENTITY_ID, clientID: PRINCIPAL } },
};
const azureIdentityBinding: Fixture = {
    type: T.azureIdentityBinding,
    name: "alpha-azure-identity-binding",
    inputs: { apiVersion: "aadpodidentity.k8s.io/v1", kind: "AzureIdentityBinding", metadata: { name: "alpha-binding", namespace: "alpha" }, spec: { azureIdentity: "alpha", selector: "alpha" } },
};
const podIdentities: Fixture = {
    type: T.podIdentities,
    name: "aks-pod-identities",
    inputs: {
        __provider: "[dynamic provider]",
        clusterName: "aks-aiv-test",
        identities: { "alpha/alpha": { name: "alpha", namespace: "alpha", bindingSelector: "alpha", identity: { resourceId: IDENTITY_ID, clientId: PRINCIPAL, objectId: PRINCIPAL } } },
    },
};
const federation: Fixture = {
    type: T.federation,
    name: "alpha-federation",
    inputs: {
        resourceName: "id-aiv-test-alpha",
        resourceGroupName: "rg-aiv-test",
        federatedIdentityCredentialResourceName: "alpha-alpha-workload",
        issuer: "https://uksouth.oic.prod-aks.azure.com/tenant/cluster/",
        subject: "system:serviceaccount:alpha:alpha-workload",
        audiences: ["api://AzureADTokenExchange"],
    },
};

// The graph the Azure-behaviour policies read: who is granted what, and what waits for which grant.
const userIdentity = (name: string, resourceName: string): Fixture => ({ type: T.identity, name, inputs: { resourceName, resourceGroupName: "rg-aiv-test" } });
const controlPlaneIdentity = userIdentity("aks-control-plane-identity", "id-aiv-test-aks");
const kubeletIdentity = userIdentity("aks-kubelet-identity", "id-aiv-test-aks-kubelet");
const workloadIdentity = userIdentity("alpha-identity", "id-aiv-test-alpha");
const grantOf = (name: string, role: string, principal: Fixture, scope: Fixture, scopeId: string): Fixture => ({
    type: T.role,
    name,
    deps: { principalId: [principal], scope: [scope] },
    inputs: { principalId: PRINCIPAL, principalType: "ServicePrincipal", roleDefinitionId: ROLE(role), scope: scopeId },
});
const behaviourCluster: Fixture = { ...cluster, deps: { ...cluster.deps, identity: [controlPlaneIdentity] } };
const controlPlaneOperator = grantOf("alpha-control-plane-operator", ROLES.managedIdentityOperator, controlPlaneIdentity, workloadIdentity, IDENTITY_ID);
const operatorPropagation: Fixture = { type: T.delay, name: "alpha-operator-propagation", deps: { grants: [controlPlaneOperator] }, inputs: { seconds: 30, reason: "test", grants: ["[unknown]"] } };
const waitingPodIdentities: Fixture = { ...podIdentities, deps: { identities: [workloadIdentity], clusterName: [behaviourCluster] }, dependsOn: [operatorPropagation] };
/** The write while the identity's id is not known yet (a preview), computed from `identities`. */
const previewPodIdentities = (identities: Fixture[]): Fixture => ({
    ...vary(waitingPodIdentities, { identities: { "alpha/alpha": { identity: { resourceId: "[unknown]" } } } }),
    deps: { identities, clusterName: [behaviourCluster] },
});
const deployerAdmin: Fixture = {
    type: T.role,
    name: "aks-deployer-admin",
    deps: { scope: [behaviourCluster] },
    inputs: { principalId: PRINCIPAL, principalType: "User", roleDefinitionId: ROLE(ROLES.clusterAdmin), scope: `${RG}/providers/Microsoft.ContainerService/managedClusters/aks-aiv-test` },
};
const deployerAccess: Fixture = {
    type: T.accessWait,
    name: "aks-deployer-access",
    deps: { grants: [deployerAdmin], kubeconfig: [behaviourCluster] },
    inputs: { kubeconfig: "[secret]", checks: [{ verb: "create", group: "", resource: "namespaces" }], grants: ["[unknown]"], budgetSeconds: 900 },
};
const k8sProvider: Fixture = { type: T.k8sProvider, name: "aks-k8s", deps: { kubeconfig: [behaviourCluster] }, dependsOn: [deployerAccess], inputs: { kubeconfig: "[secret]" } };
const viaProvider = (fixture: Fixture, provider = k8sProvider): Fixture => ({ ...fixture, provider });
/** A stack whose cluster, grants, waits and Kubernetes objects are wired as Azure needs them. */
const behaviourStack: Fixture[] = [
    controlPlaneIdentity,
    kubeletIdentity,
    workloadIdentity,
    behaviourCluster,
    controlPlaneOperator,
    operatorPropagation,
    waitingPodIdentities,
    deployerAdmin,
    deployerAccess,
    k8sProvider,
    viaProvider(namespace),
    viaProvider(pod),
    viaProvider(networkPolicy),
    viaProvider(secretProviderClass),
];
/** `behaviourStack` with fixtures replaced (same type and name) or added. */
function behaviourWith(replacements: Fixture[], removed: Fixture[] = []): Fixture[] {
    const key = (f: Fixture) => `${f.type}::${f.name}`;
    const replaced = new Map(replacements.map((f) => [key(f), f]));
    const dropped = new Set(removed.map(key));
    const kept = behaviourStack.filter((f) => !dropped.has(key(f))).map((f) => replaced.get(key(f)) ?? f);
    return [...kept, ...replacements.filter((f) => !behaviourStack.some((g) => key(g) === key(f)))];
}
/** A Key Vault's writes, chained one after another as the stack declares them. */
const chainedSecret: Fixture = { ...secret, deps: { vaultName: [vault] }, dependsOn: [vaultEndpoint] };
const chainedKey: Fixture = { ...key, deps: { vaultName: [vault] }, dependsOn: [chainedSecret] };
const chainedPolicy: Fixture = { ...accessPolicy, deps: { vaultName: [vault] }, dependsOn: [chainedKey] };
const vaultChain: Fixture[] = [vault, endpointSubnet, vaultEndpoint, chainedSecret, chainedKey, chainedPolicy];
/** A network policy of the demo's shape whose egress rules are `egress`. */
const egressPolicy = (egress: Json[], name = "alpha-network-policy"): Fixture => ({ ...networkPolicy, name, inputs: merge(networkPolicy.inputs, { spec: { egress } }) });
const dnsAndEndpoints = (networkPolicy.inputs.spec as JsonObject).egress as Json[];
const wiCluster: Fixture = vary(behaviourCluster, { podIdentityProfile: { enabled: false }, securityProfile: { workloadIdentity: { enabled: true } } });
const wiClass: Fixture = { ...vary(secretProviderClass, { spec: { parameters: { usePodIdentity: "false", clientID: PRINCIPAL } } }), deps: { spec: [workloadIdentity] } };
const wiFederation: Fixture = { ...federation, deps: { resourceName: [workloadIdentity] } };

/** The canary, granted to nobody, and a workload's own grant beside it. */
const canarySecret: Fixture = { ...secret, name: "keyvault-canary-secret", deps: { vaultName: [vault] }, inputs: merge(secret.inputs, { secretName: "canary" }) };
const canaryContainer: Fixture = { ...container, name: "storage-canary-container", inputs: merge(container.inputs, { containerName: "canary" }) };
const ownSecretGrant = grantOf("keyvault-alpha-secrets-user", ROLES.secretsUser, workloadIdentity, secret, `${VAULT_ID}/secrets/alpha-demo`);
const canaryStack: Fixture[] = [vault, account, secret, container, canarySecret, canaryContainer, workloadIdentity, ownSecretGrant];
/** A bound verification Job's pod spec with `env`. */
const boundJobWith = (env: Json[]): Fixture => vary(job, { spec: { template: { spec: { containers: [merge(mainContainer, { env })] } } } });
const boundEnv: Json[] = [
    { name: "VERIFY_MODE", value: "bound" },
    { name: "CANARY_SECRET_NAME", value: "canary" },
    { name: "CANARY_CONTAINER", value: "canary" },
    { name: "KEYVAULT_AUTHORIZATION", value: "rbac" },
    { name: "PRIVATE_ENDPOINT_SUBNET", value: "10.76.2.0/26" },
];
/** The workload's SecretProviderClass when it syncs its secret into a Kubernetes Secret. */
const syncingClass: Fixture = vary(secretProviderClass, { spec: { secretObjects: [{ secretName: "alpha-demo", type: "Opaque", data: [{ objectName: "alpha-demo", key: "value" }] }] } });
/** A bound Job that mounts the mirrored Secret and is told where its file is. */
const syncedBoundJob: Fixture = vary(job, {
    spec: {
        template: {
            spec: {
                containers: [merge(mainContainer, { env: [...boundEnv, { name: "SYNCED_SECRET_FILE", value: "/mnt/synced-secret/value" }] })],
                volumes: [...(podSpec.volumes as Json[]), { name: "synced-secret", secret: { secretName: "alpha-demo" } }],
            },
        },
    },
});
/** A namespace's default deny: every pod, both directions, nothing allowed. */
const defaultDeny: Fixture = {
    type: T.networkPolicy,
    name: "alpha-default-deny",
    inputs: {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "default-deny", namespace: "alpha" },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [], egress: [] },
    },
};
/** The guard on aad-pod-identity's objects, naming workload namespace alpha. */
const crdGuard: Fixture = {
    type: T.admissionPolicy,
    name: "aks-pod-identity-guard-policy",
    inputs: {
        metadata: { name: "aadpodidentity-guard" },
        spec: {
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: [{ apiGroups: ["aadpodidentity.k8s.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["*"] }] },
            variables: [{ name: "workloads", expression: "{'alpha': {'selector': 'alpha', 'type': '0', 'clientID': 'c', 'resourceID': 'r'}}" }],
            validations: [{ expression: "true" }],
        },
    },
};
const crdGuardBinding: Fixture = {
    type: T.admissionBinding,
    name: "aks-pod-identity-guard-binding",
    deps: { spec: [crdGuard] },
    inputs: { metadata: { name: "aadpodidentity-guard" }, spec: { policyName: "aadpodidentity-guard", validationActions: ["Deny"] } },
};
/** An impostor verification Job in its own namespace, trying `checks` against namespace alpha. */
const impostorJob = (checks: string, namespace = "aiv-impostor", target = "alpha"): Fixture =>
    vary(
        job,
        {
            metadata: { name: "alpha-verify-impostor", namespace },
            spec: {
                template: {
                    spec: {
                        containers: [
                            merge(mainContainer, {
                                env: [
                                    { name: "VERIFY_MODE", value: "impostor" },
                                    { name: "TARGET_NAMESPACE", value: target },
                                    { name: "IMPOSTOR_CHECKS", value: checks },
                                ],
                            }),
                        ],
                    },
                },
            },
        },
        { name: "impostor-alpha" },
    );
/** The restricted pod security initiative, denying, assigned to the cluster. */
const podSecurityAssignment: Fixture = {
    type: "azure-native:authorization:PolicyAssignment",
    name: "aks-pod-security",
    deps: { scope: [cluster] },
    inputs: {
        policyAssignmentName: "aiv-pod-security-restricted",
        scope: `${RG}/providers/Microsoft.ContainerService/managedClusters/aks-aiv-test`,
        policyDefinitionId: "/providers/Microsoft.Authorization/policySetDefinitions/42b8ef37-b724-4e24-bbc8-7a7708edfe00",
        enforcementMode: "Default",
        parameters: { effect: { value: "Deny" }, excludedNamespaces: { value: ["kube-system", "gatekeeper-system"] } },
    },
};
/** The key the cluster encrypts etcd with: no expiry, no rotation policy, tagged as such. */
const etcdKey: Fixture = {
    type: T.key,
    name: "keyvault-etcd-key",
    protect: true,
    inputs: {
        keyName: "aks-etcd-encryption",
        vaultName: "kv-aiv-test-abc123",
        resourceGroupName: "rg-aiv-test",
        properties: { kty: "RSA", keySize: 2048, keyOps: ["encrypt", "decrypt"] },
        tags: { purpose: "etcd-encryption" },
    },
};
/** The cluster, encrypting etcd with that key through its own subnet. */
const kmsCluster: Fixture = {
    ...vary(cluster, {
        apiServerAccessProfile: { enableVnetIntegration: true, subnetId: `${RG}/providers/Microsoft.Network/virtualNetworks/vnet-aiv-test/subnets/snet-apiserver` },
        securityProfile: {
            azureKeyVaultKms: { enabled: true, keyId: "https://kv-aiv-test-abc123.vault.azure.net/keys/aks-etcd-encryption/0123abcd", keyVaultNetworkAccess: "Private", keyVaultResourceId: VAULT_ID },
        },
    }),
    deps: { ...cluster.deps, securityProfile: [etcdKey, vault] },
};
/** The workload namespace as the stack creates it, labelled with its workload. */
const workloadNamespace: Fixture = vary(namespace, { metadata: { labels: { "aks-identity-vault/workload": "alpha" } } });

/** A small stack that meets every stack policy. */
const goodStack: Fixture[] = [
    resourceGroup,
    vault,
    secret,
    key,
    account,
    blobService,
    container,
    vaultZone,
    blobZone,
    aksNsg,
    endpointNsg,
    aksSubnet,
    endpointSubnet,
    vaultEndpoint,
    vaultZoneGroup,
    blobEndpoint,
    blobZoneGroup,
    cluster,
    namespace,
    serviceAccount,
    pod,
    job,
    networkPolicy,
    labelGuard,
    labelGuardBinding,
];

/** `goodStack` with fixtures replaced (same type and name) or removed. */
function stackWith(replacements: Fixture[], removed: Fixture[] = []): Fixture[] {
    return variantOf(goodStack, replacements, removed);
}

/** `base` with fixtures replaced (same type and name), added, or removed. */
function variantOf(base: readonly Fixture[], replacements: Fixture[], removed: Fixture[]): Fixture[] {
    const key = (f: Fixture) => `${f.type}::${f.name}`;
    const replaced = new Map(replacements.map((f) => [key(f), f]));
    const dropped = new Set(removed.map(key));
    const kept = base.filter((f) => !dropped.has(key(f))).map((f) => replaced.get(key(f)) ?? f);
    return [...kept, ...replacements.filter((f) => !base.some((g) => key(g) === key(f)))];
}

/** Drops the recorded dependencies of fixtures, leaving only literal names and ids to match on. */
function withoutDependencies(fixtures: Fixture[]): Fixture[] {
    return fixtures.map((f) => ({ ...f, deps: {} }));
}

/** The firewall's stack: the AKS subnet's route table and default route, the firewall, its rules and logs, a cluster behind it. */
const FIREWALL_IP = "10.76.0.4";
const routeTable: Fixture = {
    type: "azure-native:network:RouteTable",
    name: "network-aks-routes",
    inputs: { routeTableName: "rt-aiv-test-aks", resourceGroupName: "rg-aiv-test", disableBgpRoutePropagation: true },
};
const routedAksSubnet: Fixture = vary(
    aksSubnet,
    { routeTable: { id: `${RG}/providers/Microsoft.Network/routeTables/rt-aiv-test-aks` } },
    { deps: { networkSecurityGroup: [aksNsg], routeTable: [routeTable] } },
);
const firewallRules: Fixture = {
    type: "azure-native:network:FirewallPolicyRuleCollectionGroup",
    name: "egress-rules",
    inputs: {
        ruleCollectionGroupName: "aks-egress",
        firewallPolicyName: "afwp-aiv-test",
        resourceGroupName: "rg-aiv-test",
        priority: 200,
        ruleCollections: [
            {
                ruleCollectionType: "FirewallPolicyFilterRuleCollection",
                name: "aks-application",
                priority: 200,
                action: { type: "Allow" },
                rules: [
                    { ruleType: "ApplicationRule", name: "aks-required", sourceAddresses: ["10.76.4.0/22"], fqdnTags: ["AzureKubernetesService"], protocols: [{ protocolType: "Https", port: 443 }] },
                    {
                        ruleType: "NetworkRule",
                        name: "aks-tunnel-udp",
                        sourceAddresses: ["10.76.4.0/22"],
                        destinationAddresses: ["AzureCloud.uksouth"],
                        ipProtocols: ["UDP"],
                        destinationPorts: ["1194"],
                    },
                ],
            },
        ],
    },
};
const firewall: Fixture = {
    type: "azure-native:network:AzureFirewall",
    name: "egress-firewall",
    dependsOn: [firewallRules],
    inputs: {
        azureFirewallName: "afw-aiv-test",
        resourceGroupName: "rg-aiv-test",
        sku: { name: "AZFW_VNet", tier: "Standard" },
        ipConfigurations: [{ name: "egress", subnet: { id: `${VNET}/subnets/AzureFirewallSubnet` }, privateIPAddress: FIREWALL_IP }],
    },
};
const defaultRoute: Fixture = {
    type: "azure-native:network:Route",
    name: "egress-default-route",
    deps: { routeTableName: [routeTable], nextHopIpAddress: [firewall] },
    inputs: {
        routeName: "default-to-firewall",
        routeTableName: "rt-aiv-test-aks",
        resourceGroupName: "rg-aiv-test",
        addressPrefix: "0.0.0.0/0",
        nextHopType: "VirtualAppliance",
        nextHopIpAddress: FIREWALL_IP,
    },
};
const firewalledCluster: Fixture = vary(
    cluster,
    { networkProfile: { outboundType: "userDefinedRouting" } },
    { deps: { agentPoolProfiles: [routedAksSubnet] }, dependsOn: [defaultRoute, firewallRules] },
);
const firewallDiagnostics: Fixture = {
    ...diagnostics("egress-firewall-diagnostics", firewall, `${RG}/providers/Microsoft.Network/azureFirewalls/afw-aiv-test`, categories("AZFWApplicationRule", "AZFWNetworkRule")),
};
const dedicatedFirewallDiagnostics = vary(firewallDiagnostics, { logAnalyticsDestinationType: "Dedicated" });
const firewallStack: Fixture[] = [aksNsg, routeTable, routedAksSubnet, firewallRules, firewall, defaultRoute, firewalledCluster, workspace, dedicatedFirewallDiagnostics];
/** `firewallStack` with fixtures replaced (same type and name) or removed. */
function firewallStackWith(replacements: Fixture[], removed: Fixture[] = []): Fixture[] {
    return variantOf(firewallStack, replacements, removed);
}
const privateCluster = vary(cluster, {
    apiServerAccessProfile: {
        authorizedIPRanges: undefined,
        enablePrivateCluster: true,
        enableVnetIntegration: true,
        subnetId: `${VNET}/subnets/snet-apiserver`,
        privateDNSZone: "system",
        enablePrivateClusterPublicFQDN: false,
    },
});
/** The VNet, its flow log and the flow logs' account. */
const vnet: Fixture = {
    type: "azure-native:network:VirtualNetwork",
    name: "network-vnet",
    protect: true,
    inputs: { virtualNetworkName: "vnet-aiv-test", resourceGroupName: "rg-aiv-test", addressSpace: { addressPrefixes: ["10.76.0.0/21"] } },
};
const FLOW_ACCOUNT_ID = `${RG}/providers/Microsoft.Storage/storageAccounts/stflaivtestabc123`;
const flowAccount: Fixture = vary(
    account,
    {
        accountName: "stflaivtestabc123",
        publicNetworkAccess: "Enabled",
        networkRuleSet: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [], virtualNetworkRules: [] },
        tags: { purpose: "flow-logs" },
    },
    { name: "flow-logs-account" },
);
const flowLog: Fixture = {
    type: "azure-native:network:FlowLog",
    name: "flow-logs-vnet",
    deps: { targetResourceId: [vnet], storageId: [flowAccount], flowAnalyticsConfiguration: [workspace] },
    inputs: {
        flowLogName: "fl-aiv-test-vnet",
        networkWatcherName: "NetworkWatcher_uksouth",
        resourceGroupName: "NetworkWatcherRG",
        targetResourceId: VNET,
        storageId: FLOW_ACCOUNT_ID,
        enabled: true,
        format: { type: "JSON", version: 2 },
        retentionPolicy: { enabled: true, days: 30 },
        flowAnalyticsConfiguration: { networkWatcherFlowAnalyticsConfiguration: { enabled: true, workspaceResourceId: WORKSPACE_ID, workspaceRegion: "uksouth", trafficAnalyticsInterval: 60 } },
    },
};
const flowLogStack: Fixture[] = [vnet, flowAccount, flowLog, workspace];
/** The same at a first preview: the account's name, and so its id, not known yet. */
const flowLogStackBeforeDeployment: Fixture[] = [vnet, vary(flowAccount, { accountName: "[unknown]" }), vary(flowLog, { storageId: "[unknown]" }), workspace];

// ---------------------------------------------------------------------------------------------
// Cases: for every policy, compliant and non-compliant subjects.

/** pass: applies, no violation; fail: applies, violations; skip: the policy does not apply. */
type Verdict = "pass" | "fail" | "skip";
interface Case {
    policy: string;
    verdict: Verdict;
    why: string;
    /** A single resource for a resource policy, a list of resources for a stack policy. */
    subject: Fixture | Fixture[];
}

const pass = (policy: string, why: string, subject: Fixture | Fixture[]): Case => ({ policy, verdict: "pass", why, subject });
const fail = (policy: string, why: string, subject: Fixture | Fixture[]): Case => ({ policy, verdict: "fail", why, subject });
const skip = (policy: string, why: string, subject: Fixture | Fixture[]): Case => ({ policy, verdict: "skip", why, subject });
/** A pod spec variant applied to a pod. */
const podWith = (spec: JsonObject): Fixture => vary(pod, { spec });
/** A container variant applied to a pod's only container. */
const containerWith = (patch: JsonObject): Fixture => podWith({ containers: [merge(mainContainer, patch)] });

/** `firewallRules` with its one collection's rules replaced. */
const narrowRulesWith = (rules: Json[]): Fixture => vary(firewallRules, { ruleCollections: [merge((firewallRules.inputs.ruleCollections as JsonObject[])[0], { rules })] });
/** A second workload's identity, and the control plane's grant on it. */
const betaIdentity = userIdentity("beta-identity", "id-aiv-test-beta");
const BETA_IDENTITY_ID = `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-test-beta`;
const betaOperator = grantOf("beta-control-plane-operator", ROLES.managedIdentityOperator, controlPlaneIdentity, betaIdentity, BETA_IDENTITY_ID);
/** A NAT gateway, whose id a subnet takes as an output. */
const natGateway: Fixture = { type: "azure-native:network:NatGateway", name: "nat-gateway", inputs: { natGatewayName: "ng-aiv-test", resourceGroupName: "rg-aiv-test" } };
const CASES: Case[] = [
    // Key Vault
    pass("keyvault-purge-protection", "purge protection on", vault),
    fail("keyvault-purge-protection", "purge protection off", vary(vault, { properties: { enablePurgeProtection: false } })),
    pass("keyvault-soft-delete-retention", "90 days", vault),
    pass("keyvault-soft-delete-retention", "unset retention is Azure's 90 days", vary(vault, { properties: { softDeleteRetentionInDays: undefined } })),
    fail("keyvault-soft-delete-retention", "7 days", vary(vault, { properties: { softDeleteRetentionInDays: 7 } })),
    fail("keyvault-soft-delete-retention", "soft delete off", vary(vault, { properties: { enableSoftDelete: false } })),
    pass("keyvault-explicit-authorization-mode", "RBAC set", vault),
    pass("keyvault-explicit-authorization-mode", "access policies set explicitly", vary(vault, { properties: { enableRbacAuthorization: false } })),
    fail("keyvault-explicit-authorization-mode", "left to the default", vary(vault, { properties: { enableRbacAuthorization: undefined } })),
    pass("keyvault-no-inline-access-policies", "no inline policies", vault),
    fail("keyvault-no-inline-access-policies", "an inline policy", vary(vault, { properties: { accessPolicies: [{ objectId: PRINCIPAL, tenantId: TENANT, permissions: { secrets: ["get"] } }] } })),
    pass("keyvault-rbac-authorization", "RBAC vault", vault),
    fail("keyvault-rbac-authorization", "access-policy vault", vary(vault, { properties: { enableRbacAuthorization: false } })),
    fail("keyvault-rbac-authorization", "a standalone access policy", accessPolicy),
    pass("keyvault-access-policy-read-only", "get secrets and keys", accessPolicy),
    pass("keyvault-access-policy-read-only", "Get in capitals, read as get", vary(accessPolicy, { policy: { permissions: { secrets: ["Get"], keys: ["GET"] } } })),
    fail("keyvault-access-policy-read-only", "list secrets, which enumerates the whole vault", vary(accessPolicy, { policy: { permissions: { secrets: ["get", "list"] } } })),
    fail("keyvault-access-policy-read-only", "get certificates, which nothing mounts", vary(accessPolicy, { policy: { permissions: { certificates: ["get"] } } })),
    fail("keyvault-access-policy-read-only", "get and list certificates: one message for the kind", vary(accessPolicy, { policy: { permissions: { certificates: ["get", "list"] } } })),
    fail("keyvault-access-policy-read-only", "set and purge", vary(accessPolicy, { policy: { permissions: { secrets: ["get", "set", "purge"] } } })),
    fail("keyvault-access-policy-read-only", "all key permissions", vary(accessPolicy, { policy: { permissions: { keys: ["all"] } } })),
    pass("keyvault-access-policy-read-only", "an empty list of certificate permissions", vary(accessPolicy, { policy: { permissions: { certificates: [] } } })),
    pass("keyvault-public-network-disabled", "disabled", vault),
    fail("keyvault-public-network-disabled", "enabled", vary(vault, { properties: { publicNetworkAccess: "Enabled" } })),
    fail("keyvault-public-network-disabled", "unset", vary(vault, { properties: { publicNetworkAccess: undefined } })),
    pass("keyvault-network-acls-deny", "default deny", vault),
    pass("keyvault-network-acls-deny", "default deny with a private rule", vary(vault, { properties: { networkAcls: { ipRules: [{ value: "10.1.0.0/16" }] } } })),
    fail("keyvault-network-acls-deny", "default allow", vary(vault, { properties: { networkAcls: { defaultAction: "Allow" } } })),
    fail("keyvault-network-acls-deny", "a public IP rule", vary(vault, { properties: { networkAcls: { ipRules: [{ value: "203.0.113.0/24" }] } } })),
    fail("keyvault-network-acls-deny", "no network ACLs, which allow", vary(vault, { properties: { networkAcls: undefined } })),
    pass("keyvault-no-platform-access", "all off", vault),
    fail("keyvault-no-platform-access", "template deployment on", vary(vault, { properties: { enabledForTemplateDeployment: true } })),
    fail("keyvault-no-platform-access", "deployment on", vary(vault, { properties: { enabledForDeployment: true } })),
    fail("keyvault-no-platform-access", "disk encryption on", vary(vault, { properties: { enabledForDiskEncryption: true } })),
    pass("keyvault-secret-content-type", "text/plain", secret),
    fail("keyvault-secret-content-type", "no content type", vary(secret, { properties: { contentType: undefined } })),
    pass("keyvault-key-strength", "RSA 3072", key),
    pass("keyvault-key-strength", "an EC key", vary(key, { properties: { kty: "EC", keySize: undefined, curveName: "P-256" } })),
    fail("keyvault-key-strength", "RSA 1024", vary(key, { properties: { keySize: 1024 } })),
    fail("keyvault-key-strength", "RSA-HSM 1024", vary(key, { properties: { kty: "RSA-HSM", keySize: 1024 } })),
    fail("keyvault-key-strength", "RSA of no stated size", vary(key, { properties: { keySize: undefined } })),
    // A resource whose properties are left out (or not known yet) is judged, not a crash of the pack.
    fail("keyvault-purge-protection", "a vault without properties", vaultWithoutProperties),
    pass("keyvault-soft-delete-retention", "a vault without properties, which Azure keeps 90 days", vaultWithoutProperties),
    fail("keyvault-explicit-authorization-mode", "a vault without properties", vaultWithoutProperties),
    pass("keyvault-no-inline-access-policies", "a vault without properties", vaultWithoutProperties),
    fail("keyvault-rbac-authorization", "a vault without properties", vaultWithoutProperties),
    fail("keyvault-public-network-disabled", "a vault without properties", vaultWithoutProperties),
    fail("keyvault-network-acls-deny", "a vault without properties", vaultWithoutProperties),
    pass("keyvault-no-platform-access", "a vault without properties", vaultWithoutProperties),
    fail("keyvault-secret-content-type", "a secret without properties", vary(secret, { properties: undefined })),
    pass("keyvault-key-strength", "a key without properties, of no stated type", vary(key, { properties: undefined })),
    pass("keyvault-access-policy-read-only", "an access policy that grants nothing", vary(accessPolicy, { policy: undefined })),
    pass("keyvault-private-endpoint", "endpoint present", goodStack),
    pass("keyvault-private-endpoint", "matched by ARM id without recorded dependencies", withoutDependencies(goodStack)),
    fail("keyvault-private-endpoint", "no endpoint", stackWith([], [vaultEndpoint, vaultZoneGroup])),
    fail(
        "keyvault-private-endpoint",
        "an endpoint for another sub-resource",
        stackWith([vary(vaultEndpoint, { privateLinkServiceConnections: [{ name: "pe", privateLinkServiceId: VAULT_ID, groupIds: ["blob"] }] })]),
    ),
    // Egress, the private API server and flow logs
    pass("egress-default-route-to-firewall", "the default route to the firewall, which the cluster waits for with the rules", firewallStack),
    pass("egress-default-route-to-firewall", "matched by names and addresses without recorded dependencies", withoutDependencies(firewallStack)),
    fail(
        "egress-default-route-to-firewall",
        "no route table on the cluster's subnet",
        firewallStackWith([vary(routedAksSubnet, { routeTable: undefined }, { deps: { networkSecurityGroup: [aksNsg] } })]),
    ),
    fail("egress-default-route-to-firewall", "the default route goes to the internet", firewallStackWith([vary(defaultRoute, { nextHopType: "Internet", nextHopIpAddress: undefined })])),
    fail(
        "egress-default-route-to-firewall",
        "the default route's next hop is not the firewall",
        firewallStackWith([vary(defaultRoute, { nextHopIpAddress: "10.76.0.100" }, { deps: { routeTableName: [routeTable] } })]),
    ),
    fail("egress-default-route-to-firewall", "the cluster is created before the route", firewallStackWith([{ ...firewalledCluster, dependsOn: [firewallRules] }])),
    fail(
        "egress-default-route-to-firewall",
        "the cluster is created before the firewall's rules (its route names the firewall's address without waiting for it)",
        firewallStackWith([
            vary(defaultRoute, {}, { deps: { routeTableName: [routeTable] } }),
            { ...firewalledCluster, dependsOn: [vary(defaultRoute, {}, { deps: { routeTableName: [routeTable] } })] },
        ]),
    ),
    pass("egress-only-through-firewall", "no other way out", firewallStack),
    fail(
        "egress-only-through-firewall",
        "a load balancer profile with outbound addresses",
        firewallStackWith([vary(firewalledCluster, { networkProfile: { loadBalancerProfile: { managedOutboundIPs: { count: 1 } } } })]),
    ),
    fail(
        "egress-only-through-firewall",
        "a NAT gateway on the cluster's subnet",
        firewallStackWith([vary(routedAksSubnet, { natGateway: { id: `${RG}/providers/Microsoft.Network/natGateways/ng-aiv-test` } })]),
    ),
    fail(
        "egress-only-through-firewall",
        "node public IPs",
        firewallStackWith([vary(firewalledCluster, { agentPoolProfiles: [merge((cluster.inputs.agentPoolProfiles as JsonObject[])[0], { enableNodePublicIP: true })] })]),
    ),
    pass("egress-firewall-rules-narrow", "named sources and destinations", firewallRules),
    fail(
        "egress-firewall-rules-narrow",
        "an application rule to every FQDN",
        vary(firewallRules, {
            ruleCollections: [
                merge((firewallRules.inputs.ruleCollections as JsonObject[])[0], {
                    rules: [{ ruleType: "ApplicationRule", name: "all", sourceAddresses: ["10.76.4.0/22"], targetFqdns: ["*"], protocols: [{ protocolType: "Https", port: 443 }] }],
                }),
            ],
        }),
    ),
    fail(
        "egress-firewall-rules-narrow",
        "a network rule to 0.0.0.0/0",
        vary(firewallRules, {
            ruleCollections: [
                merge((firewallRules.inputs.ruleCollections as JsonObject[])[0], {
                    rules: [{ ruleType: "NetworkRule", name: "all", sourceAddresses: ["10.76.4.0/22"], destinationAddresses: ["0.0.0.0/0"], ipProtocols: ["Any"], destinationPorts: ["*"] }],
                }),
            ],
        }),
    ),
    fail(
        "egress-firewall-rules-narrow",
        "a rule from anywhere",
        vary(firewallRules, {
            ruleCollections: [
                merge((firewallRules.inputs.ruleCollections as JsonObject[])[0], {
                    rules: [{ ruleType: "ApplicationRule", name: "any-source", sourceAddresses: ["*"], fqdnTags: ["AzureKubernetesService"], protocols: [{ protocolType: "Https", port: 443 }] }],
                }),
            ],
        }),
    ),
    fail(
        "egress-firewall-rules-narrow",
        "a rule that names neither its sources nor its destinations",
        vary(firewallRules, {
            ruleCollections: [
                merge((firewallRules.inputs.ruleCollections as JsonObject[])[0], { rules: [{ ruleType: "NetworkRule", name: "open", ipProtocols: ["TCP"], destinationPorts: ["443"] }] }),
            ],
        }),
    ),
    pass("aks-private-api-server", "VNet Integration, no public name, no ranges", privateCluster),
    pass("aks-private-api-server", "a public API server, which aks-api-server-access-restricted looks at", cluster),
    fail("aks-private-api-server", "a public name beside the private one", vary(privateCluster, { apiServerAccessProfile: { enablePrivateClusterPublicFQDN: true } })),
    fail("aks-private-api-server", "authorized ranges on a private API server", vary(privateCluster, { apiServerAccessProfile: { authorizedIPRanges: ["203.0.113.0/24"] } })),
    fail("aks-private-api-server", "a Private Link cluster without VNet Integration", vary(privateCluster, { apiServerAccessProfile: { enableVnetIntegration: undefined, subnetId: undefined } })),
    fail("aks-private-api-server", "VNet Integration without its subnet", vary(privateCluster, { apiServerAccessProfile: { subnetId: undefined } })),
    pass("network-vnet-flow-logs", "an enabled version-2 flow log with retention and traffic analytics", flowLogStack),
    pass("network-vnet-flow-logs", "matched by ids without recorded dependencies", withoutDependencies(flowLogStack)),
    fail("network-vnet-flow-logs", "no flow log", [vnet, workspace]),
    fail("network-vnet-flow-logs", "a disabled flow log", [vnet, flowAccount, vary(flowLog, { enabled: false }), workspace]),
    fail("network-vnet-flow-logs", "format version 1", [vnet, flowAccount, vary(flowLog, { format: { version: 1 } }), workspace]),
    fail("network-vnet-flow-logs", "no retention", [vnet, flowAccount, vary(flowLog, { retentionPolicy: { enabled: false, days: 0 } }), workspace]),
    fail("network-vnet-flow-logs", "traffic analytics off", [
        vnet,
        flowAccount,
        vary(flowLog, { flowAnalyticsConfiguration: { networkWatcherFlowAnalyticsConfiguration: { enabled: false } } }),
        workspace,
    ]),
    pass("egress-firewall-logs", "rule logs to dedicated tables", firewallStack),
    fail("egress-firewall-logs", "no diagnostic setting", firewallStackWith([], [dedicatedFirewallDiagnostics])),
    fail("egress-firewall-logs", "to the shared AzureDiagnostics table", firewallStackWith([firewallDiagnostics], [dedicatedFirewallDiagnostics])),
    fail("egress-firewall-logs", "without the network rule log", firewallStackWith([vary(dedicatedFirewallDiagnostics, { logs: categories("AZFWApplicationRule") })])),
    pass("storage-flow-log-account-only", "the account a flow log writes to, holding nothing else", flowLogStack),
    fail("storage-flow-log-account-only", "tagged for flow logs, but no flow log writes to it", [vnet, flowAccount, workspace]),
    pass("storage-flow-log-account-only", "matched by ARM id without recorded dependencies", withoutDependencies(flowLogStack)),
    fail(
        "storage-flow-log-account-only",
        "a container of the stack's in it, matched by its account name",
        withoutDependencies([...flowLogStack, vary(container, { accountName: "stflaivtestabc123" }, { name: "flow-logs-container" })]),
    ),
    fail(
        "storage-flow-log-account-only",
        "a role granted on it, matched by its scope",
        withoutDependencies([
            ...flowLogStack,
            { type: T.role, name: "flow-reader", inputs: { scope: FLOW_ACCOUNT_ID, principalId: PRINCIPAL, roleDefinitionId: ROLE("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1") } },
        ]),
    ),
    fail("storage-flow-log-account-only", "a container of the stack's in it", [
        ...flowLogStack,
        vary(container, { accountName: "stflaivtestabc123" }, { name: "flow-logs-container", deps: { accountName: [flowAccount] } }),
    ]),
    pass("storage-flow-log-account-only", "the flow log's storage id not known yet, its account recorded as a dependency", [vnet, flowAccount, vary(flowLog, { storageId: "[unknown]" }), workspace]),
    fail("storage-flow-log-account-only", "a container of the stack's in it, its account name not known yet", [
        ...flowLogStack,
        vary(container, { accountName: "[unknown]" }, { name: "flow-logs-container", deps: { accountName: [flowAccount] } }),
    ]),
    fail("storage-flow-log-account-only", "a role granted on it", [
        ...flowLogStack,
        {
            type: T.role,
            name: "flow-reader",
            deps: { scope: [flowAccount] },
            inputs: { scope: FLOW_ACCOUNT_ID, principalId: PRINCIPAL, roleDefinitionId: ROLE("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1") },
        },
    ]),
    fail("storage-flow-log-account-only", "a role granted on it, its scope not known yet", [
        ...flowLogStack,
        {
            type: T.role,
            name: "flow-reader",
            deps: { scope: [flowAccount] },
            inputs: { scope: "[unknown]", principalId: PRINCIPAL, roleDefinitionId: ROLE("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1") },
        },
    ]),
    fail("storage-flow-log-account-only", "before the first deployment: the account's name and id not known yet, a container recorded in it", [
        ...flowLogStackBeforeDeployment,
        vary(container, { accountName: "[unknown]" }, { name: "flow-logs-container", deps: { accountName: [flowAccount] } }),
    ]),
    pass("storage-flow-log-account-only", "before the first deployment: the account's name and id not known yet, nothing else in it", flowLogStackBeforeDeployment),
    pass("storage-public-network-disabled", "the flow logs' account, behind a firewall that admits Azure's trusted services only", flowAccount),
    fail("storage-public-network-disabled", "the flow logs' account open to all networks", vary(flowAccount, { networkRuleSet: { defaultAction: "Allow" } })),
    fail("storage-public-network-disabled", "the flow logs' account admitting an address range", vary(flowAccount, { networkRuleSet: { ipRules: [{ iPAddressOrRange: "203.0.113.0/24" }] } })),
    fail(
        "storage-public-network-disabled",
        "the flow logs' account admitting a virtual network",
        vary(flowAccount, { networkRuleSet: { virtualNetworkRules: [{ virtualNetworkResourceId: `${VNET}/subnets/snet-aks` }] } }),
    ),
    fail("storage-public-network-disabled", "the flow logs' account without network rules", vary(flowAccount, { networkRuleSet: undefined })),
    pass("storage-public-network-disabled", "the flow logs' account, its firewall without rule lists", vary(flowAccount, { networkRuleSet: { ipRules: undefined, virtualNetworkRules: undefined } })),
    fail("storage-public-network-disabled", "the flow logs' account bypassing for logging only", vary(flowAccount, { networkRuleSet: { bypass: "Logging" } })),
    pass("storage-public-network-disabled", "the flow logs' account bypassing for logging and Azure's trusted services", vary(flowAccount, { networkRuleSet: { bypass: "Logging, AzureServices" } })),
    // Storage
    pass("storage-https-only", "HTTPS only", account),
    fail("storage-https-only", "HTTP allowed", vary(account, { enableHttpsTrafficOnly: false })),
    pass("storage-minimum-tls-1-2", "TLS 1.2", account),
    fail("storage-minimum-tls-1-2", "TLS 1.0", vary(account, { minimumTlsVersion: "TLS1_0" })),
    fail("storage-minimum-tls-1-2", "unset", vary(account, { minimumTlsVersion: undefined })),
    pass("storage-minimum-tls-1-2", "TLS 1.3", vary(account, { minimumTlsVersion: "TLS1_3" })),
    fail("storage-minimum-tls-1-2", "TLS 1.1", vary(account, { minimumTlsVersion: "TLS1_1" })),
    pass("storage-no-public-blob-access", "off", account),
    fail("storage-no-public-blob-access", "unset", vary(account, { allowBlobPublicAccess: undefined })),
    pass("storage-public-network-disabled", "disabled", account),
    fail("storage-public-network-disabled", "enabled", vary(account, { publicNetworkAccess: "Enabled" })),
    fail("storage-public-network-disabled", "unset, which is Enabled", vary(account, { publicNetworkAccess: undefined })),
    pass("storage-network-default-deny", "deny", account),
    fail("storage-network-default-deny", "allow", vary(account, { networkRuleSet: { defaultAction: "Allow" } })),
    fail("storage-network-default-deny", "no network rules, which allow", vary(account, { networkRuleSet: undefined })),
    pass("storage-no-shared-key", "off", account),
    fail("storage-no-shared-key", "on", vary(account, { allowSharedKeyAccess: true })),
    pass("storage-no-cross-tenant-replication", "off", account),
    fail("storage-no-cross-tenant-replication", "unset", vary(account, { allowCrossTenantReplication: undefined })),
    pass("storage-infrastructure-encryption", "on", account),
    fail("storage-infrastructure-encryption", "off", vary(account, { encryption: { requireInfrastructureEncryption: false } })),
    pass("storage-blob-data-protection", "versioning and 30-day soft delete", blobService),
    fail("storage-blob-data-protection", "no versioning", vary(blobService, { isVersioningEnabled: false })),
    fail("storage-blob-data-protection", "no container soft delete", vary(blobService, { containerDeleteRetentionPolicy: { enabled: false } })),
    fail("storage-blob-data-protection", "one day of blob soft delete", vary(blobService, { deleteRetentionPolicy: { days: 1 } })),
    fail("storage-blob-data-protection", "blob soft delete of no stated length", vary(blobService, { deleteRetentionPolicy: { days: undefined } })),
    pass("storage-blob-data-protection", "soft delete for exactly the minimum of 7 days", vary(blobService, { deleteRetentionPolicy: { days: 7 }, containerDeleteRetentionPolicy: { days: 7 } })),
    pass("storage-container-private", "None", container),
    pass("storage-container-private", "unset means None", vary(container, { publicAccess: undefined })),
    fail("storage-container-private", "Blob", vary(container, { publicAccess: "Blob" })),
    pass("storage-private-endpoint", "endpoint present", goodStack),
    fail("storage-private-endpoint", "no endpoint", stackWith([], [blobEndpoint, blobZoneGroup])),
    pass("storage-blob-service-managed", "blob service declared", goodStack),
    pass("storage-blob-service-managed", "matched by account name without recorded dependencies", withoutDependencies(goodStack)),
    pass("storage-blob-service-managed", "the blob service's account name not known yet, its account recorded as a dependency", stackWith([vary(blobService, { accountName: "[unknown]" })])),
    fail("storage-blob-service-managed", "blob service left at Azure's defaults", stackWith([], [blobService])),
    // Network
    pass("private-dns-zone-name", "vaultcore", vaultZone),
    pass("private-dns-zone-name", "blob", blobZone),
    fail("private-dns-zone-name", "vault instead of vaultcore", vary(vaultZone, { privateZoneName: "privatelink.vault.azure.net" })),
    pass("private-dns-link-registration-off", "registration off", vaultLink),
    fail("private-dns-link-registration-off", "registration on", vary(vaultLink, { registrationEnabled: true })),
    pass("private-endpoint-single-connection", "one vault connection", vaultEndpoint),
    fail("private-endpoint-single-connection", "two group ids", vary(vaultEndpoint, { privateLinkServiceConnections: [{ name: "pe", privateLinkServiceId: ACCOUNT_ID, groupIds: ["blob", "file"] }] })),
    fail("private-endpoint-single-connection", "no connection", vary(vaultEndpoint, { privateLinkServiceConnections: undefined })),
    fail("private-endpoint-single-connection", "a connection without a group id", vary(vaultEndpoint, { privateLinkServiceConnections: [{ name: "pe", privateLinkServiceId: VAULT_ID }] })),
    fail(
        "private-endpoint-single-connection",
        "a manual connection",
        vary(vaultEndpoint, { manualPrivateLinkServiceConnections: [{ name: "m", privateLinkServiceId: VAULT_ID, groupIds: ["vault"] }] }),
    ),
    pass("private-endpoint-dns-zone-group", "each endpoint in its zone", goodStack),
    pass("private-endpoint-dns-zone-group", "matched by names without recorded dependencies", withoutDependencies(goodStack)),
    fail("private-endpoint-dns-zone-group", "vault endpoint registered in the blob zone", stackWith([zoneGroupFor("keyvault-vault-endpoint-dns", vaultEndpoint, blobZone, "vault")])),
    fail("private-endpoint-dns-zone-group", "no zone group", stackWith([], [blobZoneGroup])),
    fail("private-endpoint-dns-zone-group", "two zone groups", stackWith([zoneGroupFor("keyvault-vault-endpoint-dns-2", vaultEndpoint, vaultZone, "vault")])),
    pass("private-endpoint-dedicated-subnet", "endpoint subnet", goodStack),
    fail("private-endpoint-dedicated-subnet", "endpoint among the nodes", stackWith([endpointFor("keyvault-vault-endpoint", vault, VAULT_ID, "vault", aksSubnet)])),
    fail("private-endpoint-dedicated-subnet", "subnet not declared", stackWith([], [endpointSubnet])),
    pass("private-endpoint-subnet-network-policies", "enabled", goodStack),
    fail("private-endpoint-subnet-network-policies", "disabled", stackWith([vary(endpointSubnet, { privateEndpointNetworkPolicies: "Disabled" })])),
    fail("private-endpoint-subnet-network-policies", "unset, which is Disabled", stackWith([vary(endpointSubnet, { privateEndpointNetworkPolicies: undefined })])),
    fail("private-endpoint-subnet-network-policies", "no NSG", stackWith([vary(endpointSubnet, { networkSecurityGroup: undefined }, { deps: {} })])),
    pass("subnet-nsg", "NSG attached", aksSubnet),
    pass("subnet-nsg", "GatewaySubnet is exempt", vary(aksSubnet, { subnetName: "GatewaySubnet", networkSecurityGroup: undefined })),
    pass("subnet-nsg", "AzureFirewallSubnet, which takes no NSG, is exempt", vary(aksSubnet, { subnetName: "AzureFirewallSubnet", networkSecurityGroup: undefined })),
    pass("subnet-nsg", "AzureFirewallManagementSubnet is exempt", vary(aksSubnet, { subnetName: "AzureFirewallManagementSubnet", networkSecurityGroup: undefined })),
    pass("subnet-nsg", "RouteServerSubnet is exempt", vary(aksSubnet, { subnetName: "RouteServerSubnet", networkSecurityGroup: undefined })),
    fail("subnet-nsg", "no NSG", vary(aksSubnet, { networkSecurityGroup: undefined })),
    pass("nsg-no-internet-inbound", "HTTPS from the AKS subnet, deny the rest", endpointNsg),
    fail("nsg-no-internet-inbound", "SSH from anywhere", vary(endpointNsg, { securityRules: [{ ...httpsFromAks, name: "ssh", sourceAddressPrefix: "*", destinationPortRange: "22" }] })),
    fail("nsg-no-internet-inbound", "a standalone rule from the Internet tag", { type: T.rule, name: "rule", inputs: { ...httpsFromAks, sourceAddressPrefix: "Internet" } }),
    ...["0.0.0.0", "0.0.0.0/0", "::/0"].map((source) =>
        fail("nsg-no-internet-inbound", `every address as ${source}`, vary(endpointNsg, { securityRules: [{ ...httpsFromAks, sourceAddressPrefix: source }] })),
    ),
    fail("nsg-no-internet-inbound", "a public source range", vary(endpointNsg, { securityRules: [{ ...httpsFromAks, sourceAddressPrefix: undefined, sourceAddressPrefixes: ["198.51.100.0/24"] }] })),
    // Role assignments
    pass("role-assignment-principal-type", "ServicePrincipal", secretsUser),
    fail("role-assignment-principal-type", "unset", vary(secretsUser, { principalType: undefined })),
    pass("role-assignment-no-privileged-roles", "Key Vault Secrets User", secretsUser),
    pass("role-assignment-no-vm-contributor", "Key Vault Secrets User", secretsUser),
    fail("role-assignment-no-vm-contributor", "Virtual Machine Contributor", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.vmContributor) })),
    fail("role-assignment-no-privileged-roles", "Owner", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.owner) })),
    fail("role-assignment-no-privileged-roles", "Contributor", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.contributor) })),
    fail("role-assignment-no-privileged-roles", "User Access Administrator", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.userAccessAdministrator) })),
    pass("role-assignment-no-broad-scope", "a secret", secretsUser),
    fail("role-assignment-no-broad-scope", "a subscription", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.networkContributor), scope: SUB })),
    fail(
        "role-assignment-no-broad-scope",
        "a management group",
        vary(secretsUser, { roleDefinitionId: ROLE(ROLES.networkContributor), scope: "/providers/Microsoft.Management/managementGroups/corp" }),
    ),
    pass("role-assignment-data-role-item-scope", "secrets user on one secret", secretsUser),
    pass(
        "role-assignment-data-role-item-scope",
        "blob contributor on one container",
        vary(secretsUser, { roleDefinitionId: ROLE(ROLES.blobContributor), scope: `${ACCOUNT_ID}/blobServices/default/containers/alpha` }),
    ),
    pass("role-assignment-data-role-item-scope", "a control-plane role is out of scope", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.networkContributor), scope: `${VNET}/subnets/snet-aks` })),
    fail("role-assignment-data-role-item-scope", "secrets user on the whole vault", vary(secretsUser, { scope: VAULT_ID })),
    fail("role-assignment-data-role-item-scope", "blob contributor on the account", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.blobContributor), scope: ACCOUNT_ID })),
    pass("role-assignment-data-role-item-scope", "Key Vault Reader on one key", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.keyVaultReader), scope: `${VAULT_ID}/keys/alpha-demo` })),
    fail(
        "role-assignment-data-role-item-scope",
        "Key Vault Reader on the whole vault, named with each item it may take",
        vary(secretsUser, { roleDefinitionId: ROLE(ROLES.keyVaultReader), scope: VAULT_ID }),
    ),
    // The other data-plane roles Azure defines for blobs and Key Vault items, each on one item of its kind and on the whole account or vault.
    ...(
        [
            ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner", `${ACCOUNT_ID}/blobServices/default/containers/alpha`, ACCOUNT_ID],
            ["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader", `${ACCOUNT_ID}/blobServices/default/containers/alpha`, ACCOUNT_ID],
            ["b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Key Vault Secrets Officer", `${VAULT_ID}/secrets/alpha-demo`, VAULT_ID],
            ["12338af0-0e69-4776-bea7-57ae8d297424", "Key Vault Crypto User", `${VAULT_ID}/keys/alpha-demo`, VAULT_ID],
            ["14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "Key Vault Crypto Officer", `${VAULT_ID}/keys/alpha-demo`, VAULT_ID],
            ["e147488a-f6f5-4113-8e2d-b22465e65bf6", "Key Vault Crypto Service Encryption User", `${VAULT_ID}/keys/alpha-demo`, VAULT_ID],
            ["db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", "Key Vault Certificate User", `${VAULT_ID}/certificates/alpha-demo`, VAULT_ID],
            ["a4417e6f-fecd-4de8-b567-7b0420556985", "Key Vault Certificates Officer", `${VAULT_ID}/certificates/alpha-demo`, VAULT_ID],
        ] as const
    ).flatMap(([role, name, item, whole]) => [
        pass("role-assignment-data-role-item-scope", `${name} on one item`, vary(secretsUser, { roleDefinitionId: ROLE(role), scope: item })),
        fail("role-assignment-data-role-item-scope", `${name} on the whole account or vault`, vary(secretsUser, { roleDefinitionId: ROLE(role), scope: whole })),
    ]),
    pass("role-assignment-resource-scope", "a resource", secretsUser),
    fail("role-assignment-resource-scope", "the node resource group", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.vmContributor), scope: `${SUB}/resourceGroups/rg-aiv-test-aks-nodes` })),
    // AKS
    pass("aks-entra-azure-rbac", "managed Entra with Azure RBAC", cluster),
    fail("aks-entra-azure-rbac", "Kubernetes RBAC only", vary(cluster, { aadProfile: { enableAzureRBAC: false } })),
    fail("aks-entra-azure-rbac", "RBAC off", vary(cluster, { enableRBAC: false })),
    fail("aks-entra-azure-rbac", "Azure RBAC without AKS-managed Entra integration", vary(cluster, { aadProfile: { managed: false } })),
    pass("aks-local-accounts-disabled", "disabled", cluster),
    fail("aks-local-accounts-disabled", "unset", vary(cluster, { disableLocalAccounts: undefined })),
    pass("aks-network-policy", "calico", cluster),
    fail("aks-network-policy", "none", vary(cluster, { networkProfile: { networkPolicy: "none" } })),
    fail("aks-network-policy", "unset", vary(cluster, { networkProfile: { networkPolicy: undefined } })),
    pass("aks-azure-cni", "azure", cluster),
    fail("aks-azure-cni", "kubenet", vary(cluster, { networkProfile: { networkPlugin: "kubenet" } })),
    fail("aks-azure-cni", "unset, which is kubenet", vary(cluster, { networkProfile: { networkPlugin: undefined } })),
    pass("aks-api-server-access-restricted", "authorized ranges", cluster),
    pass("aks-api-server-access-restricted", "private cluster", vary(cluster, { apiServerAccessProfile: { authorizedIPRanges: undefined, enablePrivateCluster: true } })),
    fail("aks-api-server-access-restricted", "open to any address", vary(cluster, { apiServerAccessProfile: undefined })),
    fail("aks-api-server-access-restricted", "0.0.0.0/0 authorized", vary(cluster, { apiServerAccessProfile: { authorizedIPRanges: ["0.0.0.0/0"] } })),
    fail("aks-api-server-access-restricted", "0.0.0.0/0 among narrower ranges", vary(cluster, { apiServerAccessProfile: { authorizedIPRanges: ["203.0.113.0/24", "0.0.0.0/0"] } })),
    pass("aks-api-server-access-restricted", "public network access disabled", vary(cluster, { apiServerAccessProfile: undefined, publicNetworkAccess: "Disabled" })),
    fail("aks-api-server-access-restricted", "0.0.0.0/0 with a space after it", vary(cluster, { apiServerAccessProfile: { authorizedIPRanges: ["203.0.113.0/24", "0.0.0.0/0 "] } })),
    pass("aks-upgrade-channel", "stable", cluster),
    fail("aks-upgrade-channel", "none", vary(cluster, { autoUpgradeProfile: { upgradeChannel: "none" } })),
    fail("aks-upgrade-channel", "unset", vary(cluster, { autoUpgradeProfile: { upgradeChannel: undefined } })),
    pass("aks-upgrade-channel", "rapid", vary(cluster, { autoUpgradeProfile: { upgradeChannel: "rapid" } })),
    pass("aks-upgrade-channel", "patch", vary(cluster, { autoUpgradeProfile: { upgradeChannel: "patch" } })),
    pass("aks-upgrade-channel", "node-image", vary(cluster, { autoUpgradeProfile: { upgradeChannel: "node-image" } })),
    pass("aks-node-os-upgrade-channel", "NodeImage", cluster),
    fail("aks-node-os-upgrade-channel", "Unmanaged", vary(cluster, { autoUpgradeProfile: { nodeOSUpgradeChannel: "Unmanaged" } })),
    fail("aks-node-os-upgrade-channel", "unset", vary(cluster, { autoUpgradeProfile: { nodeOSUpgradeChannel: undefined } })),
    pass("aks-node-os-upgrade-channel", "SecurityPatch", vary(cluster, { autoUpgradeProfile: { nodeOSUpgradeChannel: "SecurityPatch" } })),
    fail("aks-node-os-upgrade-channel", "None", vary(cluster, { autoUpgradeProfile: { nodeOSUpgradeChannel: "None" } })),
    pass("aks-keyvault-secrets-provider-rotation", "rotation on", cluster),
    fail("aks-keyvault-secrets-provider-rotation", "rotation off", vary(cluster, { addonProfiles: { azureKeyvaultSecretsProvider: { config: { enableSecretRotation: "false" } } } })),
    fail("aks-keyvault-secrets-provider-rotation", "add-on missing", vary(cluster, { addonProfiles: { azureKeyvaultSecretsProvider: undefined } })),
    pass(
        "aks-keyvault-secrets-provider-rotation",
        "the add-on's key in lower case",
        vary(cluster, { addonProfiles: { azureKeyvaultSecretsProvider: undefined, azurekeyvaultsecretsprovider: { enabled: true, config: { enableSecretRotation: "true" } } } }),
    ),
    pass("aks-no-node-public-ip", "no public IPs", cluster),
    fail("aks-no-node-public-ip", "public node IPs", vary(cluster, { agentPoolProfiles: [{ name: "system", vnetSubnetID: `${VNET}/subnets/snet-aks`, enableNodePublicIP: true }] })),
    fail("aks-no-node-public-ip", "a standalone pool with public IPs", { type: T.agentPool, name: "pool", inputs: { agentPoolName: "user", enableNodePublicIP: true } }),
    pass("aks-no-node-public-ip", "a standalone pool without public IPs", userPool),
    pass("aks-pod-identity-not-on-kubenet", "add-on on Azure CNI", cluster),
    pass("aks-pod-identity-not-on-kubenet", "the chart without kubenet", release),
    fail("aks-pod-identity-not-on-kubenet", "kubenet allowed", vary(cluster, { podIdentityProfile: { allowNetworkPluginKubenet: true } })),
    fail("aks-pod-identity-not-on-kubenet", "add-on on kubenet", vary(cluster, { networkProfile: { networkPlugin: "kubenet" } })),
    fail("aks-pod-identity-not-on-kubenet", "the chart allows kubenet", vary(release, { values: { nmi: { allowNetworkPluginKubenet: "true" } } })),
    fail("aks-pod-identity-not-on-kubenet", "the chart allows kubenet, as a boolean", vary(release, { values: { nmi: { allowNetworkPluginKubenet: true } } })),
    pass("aks-pod-identity-not-on-kubenet", "kubenet without pod identity", vary(cluster, { podIdentityProfile: undefined, networkProfile: { networkPlugin: "kubenet" } })),
    skip("aks-pod-identity-not-on-kubenet", "another chart, whatever its values", vary(otherRelease, { values: { nmi: { allowNetworkPluginKubenet: true } } })),
    pass("aks-user-assigned-identities", "user-assigned control plane and kubelet", cluster),
    fail("aks-user-assigned-identities", "system-assigned", vary(cluster, { identity: { type: "SystemAssigned", userAssignedIdentities: undefined }, identityProfile: undefined })),
    fail("aks-user-assigned-identities", "system-assigned control plane, user-assigned kubelet", vary(cluster, { identity: { type: "SystemAssigned", userAssignedIdentities: undefined } })),
    fail("aks-user-assigned-identities", "identity left out", vary(cluster, { identity: undefined })),
    fail("aks-user-assigned-identities", "no kubelet identity", vary(cluster, { identityProfile: undefined })),
    fail("aks-user-assigned-identities", "a kubelet identity without its resource id", vary(cluster, { identityProfile: { kubeletidentity: { resourceId: undefined } } })),
    fail("aks-user-assigned-identities", "a service principal besides", vary(cluster, { servicePrincipalProfile: { clientId: "msi" } })),
    pass("aks-cluster-protected", "protected", cluster),
    fail("aks-cluster-protected", "unprotected", vary(cluster, {}, { protect: false })),
    pass("aks-workload-identity-oidc-issuer", "issuer on", vary(cluster, { securityProfile: { workloadIdentity: { enabled: true } } })),
    fail("aks-workload-identity-oidc-issuer", "Workload ID without the issuer", vary(cluster, { securityProfile: { workloadIdentity: { enabled: true } }, oidcIssuerProfile: { enabled: false } })),
    pass("aks-workload-identity-oidc-issuer", "neither Workload ID nor the issuer", vary(cluster, { oidcIssuerProfile: { enabled: false } })),
    pass("aks-workload-identity-preferred", "Workload ID", vary(cluster, { podIdentityProfile: { enabled: false }, securityProfile: { workloadIdentity: { enabled: true } } })),
    skip("aks-workload-identity-preferred", "another chart", otherRelease),
    fail("aks-workload-identity-preferred", "the pod-identity add-on", cluster),
    fail("aks-workload-identity-preferred", "the open-source chart", release),
    // Kubernetes workloads
    pass("k8s-run-as-non-root", "pod-level runAsNonRoot", pod),
    skip("k8s-run-as-non-root", "a ConfigMap", { type: T.configMap, name: "config", inputs: { metadata: { name: "config", namespace: "alpha" }, data: {} } }),
    fail("k8s-run-as-non-root", "not set anywhere", podWith({ securityContext: { runAsNonRoot: undefined }, containers: [merge(mainContainer, { securityContext: { runAsNonRoot: undefined } })] })),
    fail("k8s-run-as-non-root", "UID 0", containerWith({ securityContext: { runAsUser: 0 } })),
    pass("k8s-no-privilege-escalation", "false", job),
    fail("k8s-no-privilege-escalation", "unset", containerWith({ securityContext: { allowPrivilegeEscalation: undefined } })),
    pass("k8s-drop-all-capabilities", "drop ALL", pod),
    pass("k8s-drop-all-capabilities", "drop ALL, add NET_BIND_SERVICE", containerWith({ securityContext: { capabilities: { add: ["NET_BIND_SERVICE"] } } })),
    fail("k8s-drop-all-capabilities", "drops NET_RAW only", containerWith({ securityContext: { capabilities: { drop: ["NET_RAW"] } } })),
    fail("k8s-drop-all-capabilities", "adds NET_ADMIN", containerWith({ securityContext: { capabilities: { add: ["NET_ADMIN"] } } })),
    fail("k8s-drop-all-capabilities", "no capabilities stated", containerWith({ securityContext: { capabilities: undefined } })),
    pass("k8s-seccomp-runtime-default", "pod RuntimeDefault", pod),
    fail("k8s-seccomp-runtime-default", "container Unconfined", containerWith({ securityContext: { seccompProfile: { type: "Unconfined" } } })),
    fail("k8s-seccomp-runtime-default", "unset", podWith({ securityContext: { seccompProfile: undefined } })),
    pass("k8s-seccomp-runtime-default", "container Localhost", containerWith({ securityContext: { seccompProfile: { type: "Localhost", localhostProfile: "profiles/verifier.json" } } })),
    pass("k8s-no-host-namespaces", "none", pod),
    fail("k8s-no-host-namespaces", "hostNetwork", podWith({ hostNetwork: true })),
    fail("k8s-no-host-namespaces", "hostIPC", podWith({ hostIPC: true })),
    fail("k8s-drop-all-capabilities", "adds NET_ADMIN and SYS_TIME", containerWith({ securityContext: { capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "SYS_TIME"] } } })),
    fail(
        "k8s-no-secret-in-env",
        "two variables from Secrets",
        containerWith({
            env: [
                { name: "A", valueFrom: { secretKeyRef: { name: "s", key: "a" } } },
                { name: "B", valueFrom: { secretKeyRef: { name: "s", key: "b" } } },
            ],
        }),
    ),
    pass("k8s-no-secret-in-env", "everything of a ConfigMap through envFrom", containerWith({ envFrom: [{ configMapRef: { name: "settings" } }] })),
    fail("k8s-no-default-service-account", "an empty name", podWith({ serviceAccountName: "" })),
    fail("k8s-no-host-namespaces", "hostPID in a Deployment", vary(deployment, { spec: { template: { spec: { hostPID: true } } } })),
    pass("k8s-no-host-ports", "none", pod),
    fail("k8s-no-host-ports", "hostPort 8080", containerWith({ ports: [{ containerPort: 8080, hostPort: 8080 }] })),
    pass("k8s-no-host-ports", "a container port without a host port", containerWith({ ports: [{ containerPort: 8080 }] })),
    pass("k8s-not-privileged", "unprivileged", deployment),
    fail("k8s-not-privileged", "privileged", containerWith({ securityContext: { privileged: true } })),
    pass("k8s-restricted-volume-types", "configMap and csi", pod),
    fail("k8s-restricted-volume-types", "hostPath", podWith({ volumes: [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }] })),
    pass(
        "k8s-restricted-volume-types",
        "each of the eight types the restricted profile allows",
        podWith({
            volumes: [
                { name: "a", configMap: { name: "c" } },
                { name: "b", csi: { driver: "secrets-store.csi.k8s.io" } },
                { name: "c", downwardAPI: { items: [] } },
                { name: "d", emptyDir: {} },
                { name: "e", ephemeral: { volumeClaimTemplate: { spec: {} } } },
                { name: "f", persistentVolumeClaim: { claimName: "claim" } },
                { name: "g", projected: { sources: [] } },
                { name: "h", secret: { secretName: "s" } },
            ],
        }),
    ),
    pass("k8s-read-only-root-filesystem", "read-only", pod),
    fail("k8s-read-only-root-filesystem", "writable", containerWith({ securityContext: { readOnlyRootFilesystem: false } })),
    pass("k8s-image-pinned", "version tag", pod),
    pass("k8s-image-pinned", "digest", containerWith({ image: `registry.example:5000/node@sha256:${"a".repeat(64)}` })),
    fail("k8s-image-pinned", "latest", containerWith({ image: "node:latest" })),
    fail("k8s-image-pinned", "no tag", containerWith({ image: "registry.example:5000/node" })),
    fail("k8s-image-pinned", "no image", containerWith({ image: undefined })),
    pass("k8s-resource-requests-limits", "all four", cronJob),
    fail("k8s-resource-requests-limits", "no limits", containerWith({ resources: { limits: undefined } })),
    pass("k8s-pod-no-token-automount", "off", pod),
    fail("k8s-pod-no-token-automount", "unset", podWith({ automountServiceAccountToken: undefined })),
    pass("k8s-no-default-service-account", "own account", pod),
    fail("k8s-no-default-service-account", "unset", podWith({ serviceAccountName: undefined })),
    fail("k8s-no-default-service-account", "default", podWith({ serviceAccountName: "default" })),
    pass("k8s-not-default-namespace", "alpha", networkPolicy),
    pass("k8s-not-default-namespace", "a release in its own namespace", release),
    skip("k8s-not-default-namespace", "a cluster-scoped object", labelGuard),
    fail("k8s-not-default-namespace", "default", vary(secretProviderClass, { metadata: { namespace: "default" } })),
    fail("k8s-not-default-namespace", "unset", { type: T.configMap, name: "config", inputs: { metadata: { name: "config" }, data: {} } }),
    fail("k8s-not-default-namespace", "a release without a namespace", vary(release, { namespace: undefined })),
    fail("k8s-not-default-namespace", "a release into default", vary(release, { namespace: "default" })),
    pass("k8s-service-account-no-automount", "off", serviceAccount),
    fail("k8s-service-account-no-automount", "unset", vary(serviceAccount, { automountServiceAccountToken: undefined })),
    pass("k8s-namespace-enforces-restricted", "restricted", namespace),
    fail("k8s-namespace-enforces-restricted", "privileged", vary(namespace, { metadata: { labels: { "pod-security.kubernetes.io/enforce": "privileged" } } })),
    fail("k8s-namespace-enforces-restricted", "no enforce label", vary(namespace, { metadata: { labels: { "pod-security.kubernetes.io/enforce": undefined } } })),
    pass("k8s-workload-namespace-restricted", "alpha is restricted", goodStack),
    fail("k8s-workload-namespace-restricted", "alpha is baseline", stackWith([vary(namespace, { metadata: { labels: { "pod-security.kubernetes.io/enforce": "baseline" } } })])),
    fail("k8s-workload-namespace-restricted", "alpha enforces nothing", stackWith([vary(namespace, { metadata: { labels: { "pod-security.kubernetes.io/enforce": undefined } } })])),
    fail("k8s-workload-namespace-restricted", "a pod in a namespace the stack does not create", stackWith([vary(pod, { metadata: { namespace: "elsewhere" } })])),
    pass("k8s-network-policy-coverage", "the policy selects the pods", goodStack),
    fail("k8s-network-policy-coverage", "the selector misses the pods", stackWith([vary(networkPolicy, { spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": "other" } } } })])),
    fail("k8s-network-policy-coverage", "the policy is in another namespace", stackWith([vary(networkPolicy, { metadata: { namespace: "beta" } })])),
    pass("k8s-network-policy-both-directions", "ingress and egress, named peers", networkPolicy),
    fail("k8s-network-policy-both-directions", "egress only", vary(networkPolicy, { spec: { policyTypes: ["Egress"] } })),
    fail("k8s-network-policy-both-directions", "ingress from anywhere", vary(networkPolicy, { spec: { ingress: [{ ports: [{ port: 8080 }] }] } })),
    fail("k8s-network-policy-both-directions", "egress to anywhere", vary(networkPolicy, { spec: { egress: [{ ports: [{ protocol: "TCP", port: 443 }] }] } })),
    fail("k8s-network-policy-both-directions", "no policy types", vary(networkPolicy, { spec: { policyTypes: undefined } })),
    pass("k8s-network-policy-both-directions", "an ingress rule that names its peers", vary(networkPolicy, { spec: { ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }] } })),
    pass("k8s-network-policy-private-egress", "private ranges only", networkPolicy),
    fail(
        "k8s-network-policy-private-egress",
        "HTTPS to public addresses",
        vary(networkPolicy, { spec: { egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }], ports: [{ protocol: "TCP", port: 443 }] }] } }),
    ),
    fail(
        "k8s-network-policy-private-egress",
        "a public address on every UDP port, and on two TCP ports",
        vary(networkPolicy, {
            spec: {
                egress: [
                    { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ protocol: "UDP" }] },
                    { to: [{ ipBlock: { cidr: "198.51.100.0/24" } }], ports: [{ port: 80 }, { port: 443 }] },
                ],
            },
        }),
    ),
    fail(
        "k8s-network-policy-private-egress",
        "a public address on every port, and on a port of no stated protocol",
        vary(networkPolicy, { spec: { egress: [{ to: [{ ipBlock: { cidr: "203.0.113.0/24" } }] }, { to: [{ ipBlock: { cidr: "198.51.100.0/24" } }], ports: [{ port: 443 }] }] } }),
    ),
    pass("k8s-helm-chart-pinned", "4.1.18 over HTTPS", release),
    fail("k8s-helm-chart-pinned", "a version range", vary(release, { version: "^4.1.0" })),
    pass("k8s-helm-chart-pinned", "a v-prefixed pre-release with build metadata", vary(release, { version: "v4.1.19-rc.1+build.7" })),
    fail("k8s-helm-chart-pinned", "major and minor only", vary(release, { version: "4.1" })),
    pass("k8s-helm-chart-pinned", "a two-digit major and minor", vary(release, { version: "10.12.3" })),
    fail("k8s-helm-chart-pinned", "a hyphen range from an exact version", vary(release, { version: "4.1.18 - 4.2.0" })),
    fail("k8s-helm-chart-pinned", "no version", vary(release, { version: undefined })),
    fail("k8s-helm-chart-pinned", "plain HTTP repository", vary(release, { repositoryOpts: { repo: "http://charts.example/" } })),
    pass("k8s-helm-chart-pinned", "a named chart from an HTTPS repository", vary(release, { chart: "aad-pod-identity", repositoryOpts: { repo: "https://charts.example/" } })),
    fail("k8s-helm-chart-pinned", "a chart archive over plain HTTP", vary(release, { chart: "http://charts.example/aad-pod-identity-4.1.18.tgz" })),
    fail(
        "k8s-helm-chart-pinned",
        "a chart archive on GitHub's master branch",
        vary(release, { chart: "https://raw.githubusercontent.com/Azure/aad-pod-identity/master/charts/aad-pod-identity-4.1.18.tgz" }),
    ),
    fail(
        "k8s-helm-chart-pinned",
        "a repository on GitHub's master branch",
        vary(release, { chart: "aad-pod-identity", repositoryOpts: { repo: "https://raw.githubusercontent.com/Azure/aad-pod-identity/master/charts" } }),
    ),
    fail("k8s-helm-chart-pinned", "a plain-HTTP repository whose path says https://", vary(release, { chart: "aad-pod-identity", repositoryOpts: { repo: "http://charts.example/https://" } })),
    fail("k8s-helm-chart-pinned", "a chart archive over plain HTTP whose path says https://", vary(release, { chart: "http://charts.example/https://aad-pod-identity-4.1.18.tgz" })),
    fail(
        "k8s-helm-chart-pinned",
        "a GitHub branch named like a commit with more after it",
        vary(release, { chart: "https://raw.githubusercontent.com/Azure/aad-pod-identity/d17ea6a41aed5284fda895d6d48f50cc5f9f175f-rc/charts/aad-pod-identity-4.1.18.tgz" }),
    ),
    fail(
        "k8s-helm-chart-pinned",
        "a GitHub branch named like a commit with more before it",
        vary(release, { chart: "https://raw.githubusercontent.com/Azure/aad-pod-identity/rc-d17ea6a41aed5284fda895d6d48f50cc5f9f175f/charts/aad-pod-identity-4.1.18.tgz" }),
    ),
    // Workload identity
    pass("secret-provider-class-pod-identity", "usePodIdentity", secretProviderClass),
    pass("secret-provider-class-pod-identity", "Workload ID client id", vary(secretProviderClass, { spec: { parameters: { usePodIdentity: "false", clientID: PRINCIPAL } } })),
    fail(
        "secret-provider-class-pod-identity",
        "the kubelet identity",
        vary(secretProviderClass, { spec: { parameters: { usePodIdentity: "false", useVMManagedIdentity: "true", userAssignedIdentityID: PRINCIPAL } } }),
    ),
    fail("secret-provider-class-pod-identity", "no tenant", vary(secretProviderClass, { spec: { parameters: { tenantID: undefined } } })),
    fail("secret-provider-class-pod-identity", "the deprecated tenantId", vary(secretProviderClass, { spec: { parameters: { tenantID: undefined, tenantId: TENANT } } })),
    skip("secret-provider-class-pod-identity", "another provider's class", vary(secretProviderClass, { spec: { provider: "vault" } })),
    pass("federated-credential-scoped", "one service account", federation),
    fail("federated-credential-scoped", "a wildcard subject", vary(federation, { subject: "system:serviceaccount:alpha:*" })),
    fail("federated-credential-scoped", "kube-system", vary(federation, { subject: "system:serviceaccount:kube-system:alpha-workload" })),
    fail("federated-credential-scoped", "an extra audience", vary(federation, { audiences: ["api://AzureADTokenExchange", "api://other"] })),
    fail("federated-credential-scoped", "an HTTP issuer", vary(federation, { issuer: "http://issuer.example/" })),
    fail("federated-credential-scoped", "no audience", vary(federation, { audiences: undefined })),
    fail("federated-credential-scoped", "no subject", vary(federation, { subject: undefined })),
    fail("federated-credential-scoped", "no issuer", vary(federation, { issuer: undefined })),
    fail("federated-credential-scoped", "a subject with a prefix", vary(federation, { subject: "x-system:serviceaccount:alpha:alpha-workload" })),
    fail("federated-credential-scoped", "a subject with a further segment", vary(federation, { subject: "system:serviceaccount:alpha:alpha-workload:extra" })),
    pass("federated-credential-scoped", "a one-letter namespace and account", vary(federation, { subject: "system:serviceaccount:a:b" })),
    pass("pod-identity-attachment-scoped", "namespace alpha", podIdentities),
    fail("pod-identity-attachment-scoped", "kube-system", vary(podIdentities, { identities: { "alpha/alpha": { namespace: "kube-system" } } })),
    fail("pod-identity-attachment-scoped", "no selector and no identity", vary(podIdentities, { identities: { "alpha/alpha": { bindingSelector: "", identity: { resourceId: "" } } } })),
    fail("pod-identity-attachment-scoped", "no namespace", vary(podIdentities, { identities: { "alpha/alpha": { namespace: undefined } } })),
    fail(
        "pod-identity-attachment-scoped",
        "an identity id under another resource's",
        vary(podIdentities, { identities: { "alpha/alpha": { identity: { resourceId: `${VAULT_ID}${IDENTITY_ID}` } } } }),
    ),
    fail(
        "pod-identity-attachment-scoped",
        "the id of a credential under the identity",
        vary(podIdentities, { identities: { "alpha/alpha": { identity: { resourceId: `${IDENTITY_ID}/federatedIdentityCredentials/alpha` } } } }),
    ),
    fail(
        "pod-identity-attachment-scoped",
        "selector and identity left out",
        vary(podIdentities, { identities: { "alpha/alpha": { bindingSelector: undefined, identity: { resourceId: undefined } } } }),
    ),
    pass("aad-pod-identity-objects-namespaced", "AzureIdentity in alpha", azureIdentity),
    pass("aad-pod-identity-objects-namespaced", "binding with a selector", azureIdentityBinding),
    fail("aad-pod-identity-objects-namespaced", "AzureIdentity in default", vary(azureIdentity, { metadata: { namespace: "default" } })),
    fail("aad-pod-identity-objects-namespaced", "binding without a selector", vary(azureIdentityBinding, { spec: { selector: undefined } })),
    fail("aad-pod-identity-objects-namespaced", "AzureIdentity without a namespace", vary(azureIdentity, { metadata: { namespace: undefined } })),
    fail("aad-pod-identity-objects-namespaced", "binding in kube-system", vary(azureIdentityBinding, { metadata: { namespace: "kube-system" } })),
    skip("aad-pod-identity-objects-namespaced", "a ConfigMap in the workload's namespace", {
        type: T.configMap,
        name: "config",
        inputs: { metadata: { name: "config", namespace: "alpha" }, data: {} },
    }),
    pass("aad-pod-identity-force-namespaced", "forceNamespaced", release),
    fail("aad-pod-identity-force-namespaced", "cluster-wide matching", vary(release, { values: { forceNamespaced: undefined } })),
    skip("aad-pod-identity-force-namespaced", "another chart", otherRelease),
    pass("aad-pod-identity-force-namespaced", "forceNamespaced as a YAML boolean", vary(release, { values: { forceNamespaced: true } })),
    fail(
        "secret-provider-class-pod-identity",
        "the kubelet identity by useVMManagedIdentity alone, in any case",
        vary(secretProviderClass, { spec: { parameters: { useVMManagedIdentity: "True" } } }),
    ),
    fail("secret-provider-class-pod-identity", "the kubelet identity by userAssignedIdentityID alone", vary(secretProviderClass, { spec: { parameters: { userAssignedIdentityID: PRINCIPAL } } })),
    skip("secret-provider-class-pod-identity", "another kind whose spec names the azure provider", {
        type: T.configMap,
        name: "azure-config",
        inputs: { metadata: { name: "azure-config", namespace: "alpha" }, spec: { provider: "azure", parameters: { useVMManagedIdentity: "true" } } },
    }),
    fail("federated-credential-scoped", "one audience, not the token exchange's", vary(federation, { audiences: ["api://other"] })),
    fail("federated-credential-scoped", "an HTTP issuer with https:// further on", vary(federation, { issuer: "http://issuer.example/?next=https://issuer.example/" })),
    skip("pod-identity-attachment-scoped", "another type with identities", {
        type: T.configMap,
        name: "identities",
        inputs: { metadata: { name: "identities", namespace: "alpha" }, identities: { "alpha/alpha": { namespace: "kube-system" } } },
    }),
    pass("aadpodidbinding-label-guarded", "the guard's second validation checks the label", stackWith([vary(labelGuard, { spec: { validations: [{ expression: "true" }, labelGuardValidation] } })])),
    pass("aadpodidbinding-label-guarded", "the binding names the guard, with no dependency recorded", stackWith([{ ...labelGuardBinding, deps: undefined }])),
    fail(
        "aadpodidbinding-label-guarded",
        "a binding with no dependency recorded names another policy",
        stackWith([{ ...vary(labelGuardBinding, { spec: { policyName: "another-guard" } }), deps: undefined }]),
    ),
    pass("aadpodidbinding-label-guarded", "guard bound with Deny", goodStack),
    fail("aadpodidbinding-label-guarded", "guard not bound", stackWith([], [labelGuardBinding])),
    fail("aadpodidbinding-label-guarded", "binding only warns", stackWith([vary(labelGuardBinding, { spec: { validationActions: ["Warn"] } })])),
    pass("aadpodidbinding-label-guarded", "guard's failurePolicy left to its default, Fail", stackWith([vary(labelGuard, { spec: { failurePolicy: undefined } })])),
    fail(
        "aadpodidbinding-label-guarded",
        "guard for another selector",
        stackWith([vary(labelGuard, { spec: { validations: [{ expression: "object.metadata.labels['aadpodidbinding'] == 'beta'" }] } })]),
    ),
    // Azure behaviour
    pass("pod-identity-egress-reaches-nmi", "egress admits 127.0.0.1:2579", [pod, networkPolicy]),
    pass("pod-identity-egress-reaches-nmi", "no policy restricts egress", [pod]),
    pass("pod-identity-egress-reaches-nmi", "a second policy selecting the pods admits NMI", [
        pod,
        egressPolicy(dnsAndEndpoints.slice(0, 2)),
        egressPolicy([{ to: [{ ipBlock: { cidr: "127.0.0.0/8" } }], ports: [{ port: 2579 }] }], "nmi-egress"),
    ]),
    pass("pod-identity-egress-reaches-nmi", "pods without the binding label are not its business", [
        vary(pod, { metadata: { labels: { aadpodidbinding: undefined } } }),
        egressPolicy(dnsAndEndpoints.slice(0, 2)),
    ]),
    fail("pod-identity-egress-reaches-nmi", "only the metadata address, which Calico never sees after NMI's DNAT", [
        pod,
        egressPolicy([...dnsAndEndpoints.slice(0, 2), { to: [{ ipBlock: { cidr: "169.254.169.254/32" } }], ports: [{ protocol: "TCP", port: 80 }] }]),
    ]),
    fail("pod-identity-egress-reaches-nmi", "the node subnet on 2579, where NMI listened before 1.6.2", [
        job,
        egressPolicy([...dnsAndEndpoints.slice(0, 2), { to: [{ ipBlock: { cidr: "10.76.1.0/24" } }], ports: [{ protocol: "TCP", port: 2579 }] }]),
    ]),
    fail("pod-identity-egress-reaches-nmi", "loopback admitted except NMI's address", [
        pod,
        egressPolicy([{ to: [{ ipBlock: { cidr: "127.0.0.0/8", except: ["127.0.0.1/32"] } }], ports: [{ protocol: "TCP", port: 2579 }] }]),
    ]),
    fail("pod-identity-egress-reaches-nmi", "NMI's address on UDP", [pod, egressPolicy([{ to: [{ ipBlock: { cidr: "127.0.0.1/32" } }], ports: [{ protocol: "UDP", port: 2579 }] }])]),
    pass("addon-pod-identity-control-plane-operator", "the control plane's grant, waited for", behaviourStack),
    fail(
        "addon-pod-identity-control-plane-operator",
        "the grant goes to the kubelet",
        behaviourWith([grantOf("alpha-control-plane-operator", ROLES.managedIdentityOperator, kubeletIdentity, workloadIdentity, IDENTITY_ID)]),
    ),
    fail(
        "addon-pod-identity-control-plane-operator",
        "another role",
        behaviourWith([grantOf("alpha-control-plane-operator", ROLES.vmContributor, controlPlaneIdentity, workloadIdentity, IDENTITY_ID)]),
    ),
    fail("addon-pod-identity-control-plane-operator", "the write does not wait for the grant", behaviourWith([{ ...waitingPodIdentities, dependsOn: [] }])),
    pass("addon-pod-identity-control-plane-operator", "an identity id not known yet, computed from one granted identity", behaviourWith([previewPodIdentities([workloadIdentity])])),
    fail(
        "addon-pod-identity-control-plane-operator",
        "an identity id not known yet, computed from a granted identity and one without a grant",
        behaviourWith([userIdentity("beta-identity", "id-aiv-test-beta"), previewPodIdentities([workloadIdentity, userIdentity("beta-identity", "id-aiv-test-beta")])]),
    ),
    fail("addon-pod-identity-control-plane-operator", "the identity is not the stack's", behaviourWith([], [workloadIdentity])),
    pass("k8s-waits-for-effective-cluster-admin", "the provider waits for the access review, which waits for the grant", behaviourStack),
    fail("k8s-waits-for-effective-cluster-admin", "the provider does not wait", behaviourWith([{ ...k8sProvider, dependsOn: [] }])),
    fail("k8s-waits-for-effective-cluster-admin", "the access review does not wait for the grant", behaviourWith([{ ...deployerAccess, deps: { kubeconfig: [behaviourCluster] } }])),
    fail(
        "k8s-waits-for-effective-cluster-admin",
        "a Kubernetes object on another provider",
        behaviourWith([viaProvider(vary(namespace, {}, { name: "beta-namespace" }), { ...k8sProvider, name: "other-k8s", dependsOn: [] })]),
    ),
    skip("k8s-waits-for-effective-cluster-admin", "no cluster with Azure RBAC", [vary(cluster, { aadProfile: { enableAzureRBAC: false } }), namespace]),
    pass("keyvault-writes-ordered", "endpoint, secret, key and policy one after another", vaultChain),
    fail("keyvault-writes-ordered", "secret and key both only after the endpoint", [
        ...vaultChain.filter((f) => f !== chainedKey && f !== chainedPolicy),
        { ...chainedKey, dependsOn: [vaultEndpoint] },
    ]),
    fail("keyvault-writes-ordered", "an access policy that waits for nothing", [...vaultChain.filter((f) => f !== chainedPolicy), { ...chainedPolicy, dependsOn: [] }]),
    fail("keyvault-writes-ordered", "two secrets matched by name only", [vault, secret, vary(secret, { secretName: "beta-demo" }, { name: "keyvault-beta-secret" })]),
    pass("secret-provider-class-identity-matches-mode", "pod identity on an add-on cluster", behaviourStack),
    pass("secret-provider-class-identity-matches-mode", "Workload ID with a credential trusting the identity", [wiCluster, workloadIdentity, wiClass, wiFederation]),
    pass("secret-provider-class-identity-matches-mode", "pod identity from the open-source chart", [vary(cluster, { podIdentityProfile: { enabled: false } }), release, secretProviderClass]),
    fail("secret-provider-class-identity-matches-mode", "both modes at once", [wiCluster, workloadIdentity, vary(wiClass, { spec: { parameters: { usePodIdentity: "true" } } }), wiFederation]),
    fail("secret-provider-class-identity-matches-mode", "pod identity on a Workload ID cluster", [wiCluster, secretProviderClass]),
    fail("secret-provider-class-identity-matches-mode", "a client id on an add-on cluster", [behaviourCluster, workloadIdentity, wiClass, wiFederation]),
    fail("secret-provider-class-identity-matches-mode", "no credential trusts the identity", [wiCluster, workloadIdentity, wiClass]),
    fail("secret-provider-class-identity-matches-mode", "no identity at all", [behaviourCluster, vary(secretProviderClass, { spec: { parameters: { usePodIdentity: "false" } } })]),
    pass("federated-credential-name-valid", "namespace and account", federation),
    pass("federated-credential-name-valid", "a dot turned into an underscore", vary(federation, { federatedIdentityCredentialResourceName: "alpha-app_v2" })),
    fail("federated-credential-name-valid", "a service account's dot", vary(federation, { federatedIdentityCredentialResourceName: "alpha-app.v2" })),
    fail("federated-credential-name-valid", "121 characters", vary(federation, { federatedIdentityCredentialResourceName: "a".repeat(121) })),
    fail("federated-credential-name-valid", "starting with an underscore", vary(federation, { federatedIdentityCredentialResourceName: "_alpha" })),
    // Stack
    pass("stateful-resources-protected", "all protected", goodStack),
    fail("stateful-resources-protected", "an unprotected vault", stackWith([vary(vault, {}, { protect: false })])),
    fail("stateful-resources-protected", "an unprotected container", stackWith([vary(container, {}, { protect: false })])),
    fail("stateful-resources-protected", "an unprotected resource group", stackWith([vary(resourceGroup, {}, { protect: false })])),
    fail("stateful-resources-protected", "an unprotected secret", stackWith([vary(secret, {}, { protect: false })])),
    fail("stateful-resources-protected", "an unprotected key", stackWith([vary(key, {}, { protect: false })])),
    fail("stateful-resources-protected", "an unprotected storage account", stackWith([vary(account, {}, { protect: false })])),
    fail("stateful-resources-protected", "an unprotected cluster", stackWith([vary(cluster, {}, { protect: false })])),
    fail("stateful-resources-protected", "an unprotected workspace", stackWith([vary(workspace, {}, { protect: false })])),
    // The production baseline: logs, lifecycle, the cluster
    pass("keyvault-resource-logs", "AuditEvent to the workspace", baselineStack),
    pass(
        "keyvault-resource-logs",
        "the audit category group, matched by ids",
        withoutDependencies(baselineWith([diagnostics("keyvault-vault-diagnostics", vault, VAULT_ID, [{ categoryGroup: "audit", enabled: true }])])),
    ),
    fail("keyvault-resource-logs", "no setting on the vault", baselineWith([], [vaultDiagnostics])),
    fail("keyvault-resource-logs", "AuditEvent disabled", baselineWith([diagnostics("keyvault-vault-diagnostics", vault, VAULT_ID, [{ category: "AuditEvent", enabled: false }])])),
    fail("keyvault-resource-logs", "a setting to no workspace of the stack", baselineWith([], [workspace])),
    pass("keyvault-resource-logs", "matched by ARM ids without recorded dependencies", withoutDependencies(baselineStack)),
    pass("keyvault-resource-logs", "AuditEvent sent by one of two settings", baselineWith([diagnostics("keyvault-vault-metrics", vault, VAULT_ID, [])])),
    pass("keyvault-resource-logs", "the allLogs category group", baselineWith([diagnostics("keyvault-vault-diagnostics", vault, VAULT_ID, [{ categoryGroup: "allLogs", enabled: true }])])),
    fail("keyvault-resource-logs", "the audit category group disabled", baselineWith([diagnostics("keyvault-vault-diagnostics", vault, VAULT_ID, [{ categoryGroup: "audit", enabled: false }])])),
    pass("storage-blob-resource-logs", "reads, writes and deletes to the workspace", baselineStack),
    fail(
        "storage-blob-resource-logs",
        "deletes not sent",
        baselineWith([diagnostics("storage-blob-diagnostics", blobService, `${ACCOUNT_ID}/blobServices/default`, categories("StorageRead", "StorageWrite"))]),
    ),
    fail("storage-blob-resource-logs", "no setting on the blob service", baselineWith([], [blobDiagnostics])),
    pass("aks-resource-logs", "kube-audit-admin and guard to the workspace", baselineStack),
    pass("aks-resource-logs", "the full kube-audit besides", baselineWith([diagnostics("aks-cluster-diagnostics", cluster, "x", categories("kube-audit-admin", "kube-audit", "guard"))])),
    fail("aks-resource-logs", "no guard", baselineWith([diagnostics("aks-cluster-diagnostics", cluster, "x", categories("kube-audit-admin"))])),
    fail("aks-resource-logs", "no setting on the cluster", baselineWith([], [clusterDiagnostics])),
    fail("aks-resource-logs", "neither kube-audit-admin nor guard", baselineWith([diagnostics("aks-cluster-diagnostics", cluster, "x", categories("kube-audit"))])),
    pass("aks-resource-logs", "the workspace's id not known yet, the workspace recorded as a dependency", baselineWith([vary(clusterDiagnostics, { workspaceId: "[unknown]" })])),
    pass("keyvault-secret-expiration", "an expiry", secret),
    pass("keyvault-secret-expiration", "an expiry not known yet", vary(secret, { properties: { attributes: { expires: "[unknown]" } } })),
    fail("keyvault-secret-expiration", "no expiry", vary(secret, { properties: { attributes: undefined } })),
    fail("keyvault-secret-expiration", "an expiry of 0, which is no date", vary(secret, { properties: { attributes: { expires: 0 } } })),
    pass("keyvault-key-expiration", "an expiry", key),
    fail("keyvault-key-expiration", "no expiry", vary(key, { properties: { attributes: { expires: undefined } } })),
    pass("keyvault-key-rotation-policy", "rotate and notify before expiry", key),
    fail("keyvault-key-rotation-policy", "no rotation policy", vary(key, { properties: { rotationPolicy: undefined } })),
    fail("keyvault-key-rotation-policy", "no expiry time for new versions", vary(key, { properties: { rotationPolicy: { attributes: undefined } } })),
    fail("keyvault-key-rotation-policy", "notify only", vary(key, { properties: { rotationPolicy: { lifetimeActions: [{ trigger: { timeBeforeExpiry: "P30D" }, action: { type: "notify" } }] } } })),
    pass("keyvault-key-rotation-policy", "rotate without notify", vary(key, { properties: { rotationPolicy: { lifetimeActions: [rotateAction] } } })),
    fail("keyvault-key-rotation-policy", "two rotate actions", vary(key, { properties: { rotationPolicy: { lifetimeActions: [rotateAction, rotateAction] } } })),
    fail("keyvault-key-rotation-policy", "two notify actions", vary(key, { properties: { rotationPolicy: { lifetimeActions: [rotateAction, notifyAction, notifyAction] } } })),
    pass(
        "keyvault-key-rotation-policy",
        "Rotate and Notify in capitals",
        vary(key, {
            properties: {
                rotationPolicy: {
                    lifetimeActions: [
                        { ...rotateAction, action: { type: "Rotate" } },
                        { ...notifyAction, action: { type: "Notify" } },
                    ],
                },
            },
        }),
    ),
    pass("aks-azure-policy-addon", "on", cluster),
    fail("aks-azure-policy-addon", "off", vary(cluster, { addonProfiles: { azurepolicy: { enabled: false } } })),
    fail("aks-azure-policy-addon", "absent", vary(cluster, { addonProfiles: { azurepolicy: undefined } })),
    pass("aks-defender-profile-stated", "on, with the workspace", cluster),
    pass(
        "aks-defender-profile-stated",
        "switched off explicitly",
        vary(cluster, { securityProfile: { defender: { logAnalyticsWorkspaceResourceId: undefined, securityMonitoring: { enabled: false } } } }),
    ),
    fail("aks-defender-profile-stated", "left out", vary(cluster, { securityProfile: { defender: undefined } })),
    fail("aks-defender-profile-stated", "on without a workspace", vary(cluster, { securityProfile: { defender: { logAnalyticsWorkspaceResourceId: undefined } } })),
    fail("aks-defender-profile-stated", "on with an empty workspace", vary(cluster, { securityProfile: { defender: { logAnalyticsWorkspaceResourceId: "" } } })),
    pass("aks-defender-enabled", "on", cluster),
    fail("aks-defender-enabled", "switched off", vary(cluster, { securityProfile: { defender: { securityMonitoring: { enabled: false } } } })),
    pass("aks-system-pool-tainted", "tainted system pool", cluster),
    fail("aks-system-pool-tainted", "an untainted system pool", vary(cluster, { agentPoolProfiles: [{ name: "system", mode: "System", count: 2, vmSize: "Standard_DS2_v2" }] })),
    fail("aks-system-pool-tainted", "a separate system pool without the taint", vary(userPool, { mode: "System" })),
    pass("aks-system-pool-tainted", "a separate user pool without the taint", userPool),
    pass("aks-user-pool-autoscaled", "an autoscaled user pool", baselineStack),
    pass("aks-user-pool-autoscaled", "matched by the cluster's name", withoutDependencies(baselineStack)),
    fail("aks-user-pool-autoscaled", "no user pool", baselineWith([], [userPool])),
    fail("aks-user-pool-autoscaled", "a user pool of fixed size", baselineWith([vary(userPool, { enableAutoScaling: false })])),
    fail("aks-user-pool-autoscaled", "its minimum above its maximum", baselineWith([vary(userPool, { minCount: 5 })])),
    pass("aks-user-pool-autoscaled", "its minimum equal to its maximum", baselineWith([vary(userPool, { minCount: 4 })])),
    fail("aks-user-pool-autoscaled", "the autoscaled user pool is another cluster's", baselineWith([vary(userPool, { resourceName: "aks-aiv-other" }, { deps: {} })])),
    pass("aks-user-pool-autoscaled", "the pool's cluster name not known yet, the cluster recorded as a dependency", baselineWith([vary(userPool, { resourceName: "[unknown]" })])),
    pass("aks-zone-redundant", "both pools over three zones", baselineStack),
    fail(
        "aks-zone-redundant",
        "no zones (a region without them)",
        baselineWith([vary(cluster, { agentPoolProfiles: [{ name: "system", mode: "System" }] }), vary(userPool, { availabilityZones: [] })]),
    ),
    fail("aks-zone-redundant", "pools in different zones", baselineWith([vary(userPool, { availabilityZones: ["1", "2"] })])),
    fail("aks-zone-redundant", "the user pool in one zone, the system pool in three", baselineWith([vary(userPool, { availabilityZones: ["1"] })])),
    pass("aks-zone-redundant", "the same zones, listed in another order", baselineWith([vary(userPool, { availabilityZones: ["3", "1", "2"] })])),
    pass(
        "aks-zone-redundant",
        "both pools over the same two zones",
        baselineWith([vary(cluster, { agentPoolProfiles: [{ name: "system", mode: "System", availabilityZones: ["1", "2"] }] }), vary(userPool, { availabilityZones: ["2", "1"] })]),
    ),
    // What the verification Jobs prove
    pass("canary-granted-to-nobody", "a canary secret and container, and a grant on the workload's own secret only", canaryStack),
    fail("canary-granted-to-nobody", "a grant on the canary secret", [
        ...canaryStack,
        grantOf("keyvault-alpha-canary", ROLES.secretsUser, workloadIdentity, canarySecret, `${VAULT_ID}/secrets/canary`),
    ]),
    fail("canary-granted-to-nobody", "a grant on the vault that holds it", [...canaryStack, grantOf("keyvault-alpha-vault", ROLES.secretsUser, workloadIdentity, vault, VAULT_ID)]),
    fail(
        "canary-granted-to-nobody",
        "a grant on the storage account that holds it, matched by its id",
        withoutDependencies([...canaryStack, grantOf("storage-alpha-account", ROLES.blobContributor, workloadIdentity, account, ACCOUNT_ID)]),
    ),
    pass("canary-granted-to-nobody", "no canary container, where only a Deployment is told VERIFY_MODE", [
        ...canaryStack.filter((f) => f !== canaryContainer),
        { ...boundJobWith(boundEnv), type: T.deployment },
    ]),
    fail(
        "canary-granted-to-nobody",
        "a grant on the canary container, matched by its id",
        withoutDependencies([...canaryStack, grantOf("storage-alpha-canary", ROLES.blobContributor, workloadIdentity, canaryContainer, `${ACCOUNT_ID}/blobServices/default/containers/canary`)]),
    ),
    fail("canary-granted-to-nobody", "no canary container, where a bound Job runs", [...canaryStack.filter((f) => f !== canaryContainer), boundJobWith(boundEnv)]),
    pass(
        "canary-granted-to-nobody",
        "no canary, where no verification Job runs (demo false)",
        canaryStack.filter((f) => f !== canaryContainer),
    ),
    pass("bound-jobs-prove-canary-path-and-sync", "a bound Job told everything", [boundJobWith(boundEnv)]),
    pass("bound-jobs-prove-canary-path-and-sync", "a bound Job told the canary's secret from a ConfigMap", [
        boundJobWith(boundEnv.map((e) => (JSON.stringify(e).includes("CANARY_SECRET_NAME") ? { name: "CANARY_SECRET_NAME", valueFrom: { configMapKeyRef: { name: "canary", key: "secret" } } } : e))),
    ]),
    pass("bound-jobs-prove-canary-path-and-sync", "an unbound Job needs none of it", [boundJobWith([{ name: "VERIFY_MODE", value: "unbound" }])]),
    pass("bound-jobs-prove-canary-path-and-sync", "a Deployment told VERIFY_MODE bound is no verification Job", [{ ...boundJobWith([{ name: "VERIFY_MODE", value: "bound" }]), type: T.deployment }]),
    fail("bound-jobs-prove-canary-path-and-sync", "no endpoint subnet", [boundJobWith(boundEnv.filter((e) => JSON.stringify(e).includes("PRIVATE_ENDPOINT_SUBNET") === false))]),
    pass("bound-jobs-prove-canary-path-and-sync", "a workload that syncs: the Job mounts the mirror and is told its file", [syncingClass, syncedBoundJob]),
    fail("bound-jobs-prove-canary-path-and-sync", "a workload that syncs: the Job does not mount the mirror", [syncingClass, boundJobWith(boundEnv)]),
    fail("bound-jobs-prove-canary-path-and-sync", "a workload that syncs: the Job mounts the mirror but is not told its file", [
        syncingClass,
        vary(syncedBoundJob, { spec: { template: { spec: { containers: [merge(mainContainer, { env: boundEnv })] } } } }),
    ]),
    pass("k8s-no-secret-in-env", "names and addresses only", boundJobWith(boundEnv)),
    fail("k8s-no-secret-in-env", "a variable from a secretKeyRef", boundJobWith([...boundEnv, { name: "SYNCED_SECRET", valueFrom: { secretKeyRef: { name: "alpha-demo", key: "value" } } }])),
    fail("k8s-no-secret-in-env", "a whole Secret through envFrom", vary(pod, { spec: { containers: [merge(mainContainer, { envFrom: [{ secretRef: { name: "alpha-demo" } }] })] } })),
    pass("k8s-namespace-default-deny", "the workload namespace denies by default", stackWith([workloadNamespace, defaultDeny])),
    fail("k8s-namespace-default-deny", "pods run where nothing denies by default", goodStack),
    fail("k8s-namespace-default-deny", "the workload namespace runs nothing yet and has no default deny", [workloadNamespace]),
    fail("k8s-namespace-default-deny", "the default deny selects only some pods", stackWith([vary(defaultDeny, { spec: { podSelector: { matchLabels: { app: "web" } } } })])),
    pass("k8s-namespace-default-deny", "the default deny leaves its pod selector out: every pod", stackWith([workloadNamespace, vary(defaultDeny, { spec: { podSelector: undefined } })])),
    fail(
        "k8s-namespace-default-deny",
        "the default deny selects pods by an expression",
        stackWith([workloadNamespace, vary(defaultDeny, { spec: { podSelector: { matchExpressions: [{ key: "app", operator: "Exists" }] } } })]),
    ),
    fail("k8s-namespace-default-deny", "the default deny lists only Egress", stackWith([workloadNamespace, vary(defaultDeny, { spec: { policyTypes: ["Egress"] } })])),
    fail("k8s-namespace-default-deny", "the default deny lists only Ingress", stackWith([workloadNamespace, vary(defaultDeny, { spec: { policyTypes: ["Ingress"] } })])),
    fail("k8s-namespace-default-deny", "the default deny allows egress somewhere", stackWith([vary(defaultDeny, { spec: { egress: [{ ports: [{ port: 53 }] }] } })])),
    fail("k8s-namespace-default-deny", "the default deny admits ingress from somewhere", stackWith([workloadNamespace, vary(defaultDeny, { spec: { ingress: [{ from: [{ podSelector: {} }] }] } })])),
    pass("aks-etcd-encrypted-when-secrets-sync", "a workload syncs; etcd is encrypted with the stack's key through the API server's subnet", [syncingClass, etcdKey, kmsCluster]),
    pass("aks-etcd-encrypted-when-secrets-sync", "nothing syncs: nothing asked", [secretProviderClass, cluster]),
    fail("aks-etcd-encrypted-when-secrets-sync", "a workload syncs; etcd is not encrypted", [syncingClass, cluster]),
    fail("aks-etcd-encrypted-when-secrets-sync", "a workload syncs; the key is reached publicly", [
        syncingClass,
        etcdKey,
        { ...vary(kmsCluster, { securityProfile: { azureKeyVaultKms: { keyVaultNetworkAccess: "Public" } } }), deps: kmsCluster.deps },
    ]),
    fail("aks-etcd-encrypted-when-secrets-sync", "a workload syncs; the API server is not in the VNet", [
        syncingClass,
        etcdKey,
        { ...vary(kmsCluster, { apiServerAccessProfile: { enableVnetIntegration: false } }), deps: kmsCluster.deps },
    ]),
    fail("aks-etcd-encrypted-when-secrets-sync", "a key that never expires, which no cluster encrypts etcd with", [etcdKey, cluster]),
    pass("aks-etcd-encrypted-when-secrets-sync", "a key that never expires, which one of two clusters encrypts etcd with", [
        etcdKey,
        kmsCluster,
        vary(cluster, { resourceName: "aks-aiv-other" }, { name: "aks-cluster-other" }),
    ]),
    fail("aks-etcd-encrypted-when-secrets-sync", "two workloads sync; etcd is not encrypted", [
        syncingClass,
        vary(syncingClass, { metadata: { name: "beta-keyvault", namespace: "beta" } }, { name: "beta-secret-provider" }),
        cluster,
    ]),
    skip("keyvault-key-expiration", "the etcd key, which must never expire", etcdKey),
    skip("keyvault-key-rotation-policy", "the etcd key, whose version the cluster names", etcdKey),
    pass(
        "keyvault-access-policy-read-only",
        "the cluster's etcd encryption: encrypt and decrypt on keys",
        vary(accessPolicy, { policy: { permissions: { secrets: [], keys: ["encrypt", "decrypt"] } } }),
    ),
    pass(
        "keyvault-access-policy-read-only",
        "the cluster's etcd encryption, its permissions in capitals",
        vary(accessPolicy, { policy: { permissions: { secrets: [], keys: ["Encrypt", "DECRYPT"] } } }),
    ),
    fail(
        "keyvault-access-policy-read-only",
        "encrypt and decrypt on keys with secrets too",
        vary(accessPolicy, { policy: { permissions: { secrets: ["get", "list"], keys: ["encrypt", "decrypt"] } } }),
    ),
    fail("keyvault-access-policy-read-only", "encrypt, decrypt and delete on keys", vary(accessPolicy, { policy: { permissions: { secrets: [], keys: ["encrypt", "decrypt", "delete"] } } })),
    fail("keyvault-access-policy-read-only", "encrypt and decrypt named on secrets, not keys", vary(accessPolicy, { policy: { permissions: { secrets: ["encrypt", "decrypt"], keys: [] } } })),
    pass("canary-granted-to-nobody", "Key Vault Contributor on the vault, which reads nothing it holds", [
        ...canaryStack,
        grantOf("aks-control-plane-vault-link", ROLES.keyVaultContributor, workloadIdentity, vault, VAULT_ID),
    ]),
    pass("aks-pod-security-enforced", "the restricted initiative denies, on this cluster", [cluster, workloadNamespace, podSecurityAssignment]),
    pass("aks-pod-security-enforced", "the baseline initiative denies, on this cluster", [
        cluster,
        vary(podSecurityAssignment, { policyDefinitionId: "/providers/Microsoft.Authorization/policySetDefinitions/a8640138-9b0a-4a28-b8cb-1666c838647d" }),
    ]),
    fail("aks-pod-security-enforced", "no assignment", [cluster]),
    pass("aks-pod-security-enforced", "matched by the cluster's ARM id without recorded dependencies", withoutDependencies([cluster, workloadNamespace, podSecurityAssignment])),
    fail("aks-pod-security-enforced", "the initiative only audits", [cluster, vary(podSecurityAssignment, { parameters: { effect: { value: "Audit" } } })]),
    fail("aks-pod-security-enforced", "enforcement off", [cluster, vary(podSecurityAssignment, { enforcementMode: "DoNotEnforce" })]),
    pass("aks-pod-security-enforced", "enforcement mode unset, which is Default", [cluster, vary(podSecurityAssignment, { enforcementMode: undefined })]),
    pass("aks-pod-security-enforced", "the assignment's scope not known yet, the cluster recorded as a dependency", [cluster, workloadNamespace, vary(podSecurityAssignment, { scope: "[unknown]" })]),
    fail("aks-pod-security-enforced", "two workload namespaces excluded", [
        cluster,
        workloadNamespace,
        vary(workloadNamespace, { metadata: { name: "beta", labels: { "aks-identity-vault/workload": "beta" } } }, { name: "beta-namespace" }),
        vary(podSecurityAssignment, { parameters: { excludedNamespaces: { value: ["kube-system", "alpha", "beta"] } } }),
    ]),
    fail("aks-pod-security-enforced", "another initiative", [
        cluster,
        vary(podSecurityAssignment, { policyDefinitionId: "/providers/Microsoft.Authorization/policySetDefinitions/00000000-0000-0000-0000-000000000000" }),
    ]),
    fail("aks-pod-security-enforced", "a workload namespace excluded", [
        cluster,
        workloadNamespace,
        vary(podSecurityAssignment, { parameters: { excludedNamespaces: { value: ["kube-system", "alpha"] } } }),
    ]),
    pass("impostor-proves-isolation", "pod identity: the impostor tries the label, the objects and an exception", [
        cluster,
        workloadNamespace,
        impostorJob("labelledPod,azureIdentity,podIdentityException"),
    ]),
    pass("impostor-proves-isolation", "Workload ID: the impostor tries a token exchange", [vary(cluster, { podIdentityProfile: { enabled: false } }), workloadNamespace, impostorJob("tokenExchange")]),
    fail("impostor-proves-isolation", "no impostor, where a bound Job runs", [cluster, workloadNamespace, boundJobWith(boundEnv)]),
    pass("impostor-proves-isolation", "no verification Job at all (demo false)", [cluster, workloadNamespace]),
    fail("impostor-proves-isolation", "pod identity: the impostor tries the label only", [cluster, workloadNamespace, impostorJob("labelledPod")]),
    pass("impostor-proves-isolation", "pod identity: two impostor Jobs share the checks", [
        cluster,
        workloadNamespace,
        impostorJob("labelledPod"),
        { ...impostorJob("azureIdentity,podIdentityException"), name: "alpha-verify-impostor-objects" },
    ]),
    fail("impostor-proves-isolation", "a Deployment, not a Job, tries the impostor's checks", [
        cluster,
        workloadNamespace,
        boundJobWith(boundEnv),
        { ...impostorJob("labelledPod,azureIdentity,podIdentityException"), type: T.deployment },
    ]),
    fail("impostor-proves-isolation", "Workload ID: the impostor tries no token exchange", [vary(cluster, { podIdentityProfile: { enabled: false } }), workloadNamespace, impostorJob("labelledPod")]),
    fail("impostor-proves-isolation", "the impostor runs in the workload's own namespace", [cluster, workloadNamespace, impostorJob("labelledPod,azureIdentity,podIdentityException", "alpha")]),
    fail("impostor-proves-isolation", "the impostor attacks another namespace", [cluster, workloadNamespace, impostorJob("labelledPod,azureIdentity,podIdentityException", "aiv-impostor", "beta")]),
    pass("aadpodidentity-objects-guarded", "pod identity on, the guard covers every kind and names the namespace", [cluster, workloadNamespace, crdGuard, crdGuardBinding]),
    pass("aadpodidentity-objects-guarded", "no pod identity: nothing to guard", [vary(cluster, { podIdentityProfile: { enabled: false } }), workloadNamespace]),
    fail("aadpodidentity-objects-guarded", "pod identity on, no guard", [cluster, workloadNamespace]),
    fail("aadpodidentity-objects-guarded", "the guard covers another API group", [
        cluster,
        workloadNamespace,
        vary(crdGuard, { spec: { matchConstraints: { resourceRules: [{ apiGroups: ["secrets-store.csi.x-k8s.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["*"] }] } } }),
        crdGuardBinding,
    ]),
    pass("aadpodidentity-objects-guarded", "a namespace that is no workload's is not named", [
        cluster,
        workloadNamespace,
        vary(namespace, { metadata: { name: "aiv-impostor" } }, { name: "impostor-namespace" }),
        crdGuard,
        crdGuardBinding,
    ]),
    fail("aadpodidentity-objects-guarded", "the open-source chart, no guard", [vary(cluster, { podIdentityProfile: { enabled: false } }), release, workloadNamespace]),
    fail("aadpodidentity-objects-guarded", "the guard covers creates only", [
        cluster,
        workloadNamespace,
        vary(crdGuard, { spec: { matchConstraints: { resourceRules: [{ apiGroups: ["aadpodidentity.k8s.io"], apiVersions: ["*"], operations: ["CREATE"], resources: ["*"] }] } } }),
        crdGuardBinding,
    ]),
    fail("aadpodidentity-objects-guarded", "the guard misses the exceptions", [
        cluster,
        workloadNamespace,
        vary(crdGuard, {
            spec: {
                matchConstraints: {
                    resourceRules: [{ apiGroups: ["aadpodidentity.k8s.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["azureidentities", "azureidentitybindings"] }],
                },
            },
        }),
        crdGuardBinding,
    ]),
    pass("aadpodidentity-objects-guarded", "the guard's kinds split over two rules, one for every operation", [
        cluster,
        workloadNamespace,
        vary(crdGuard, {
            spec: {
                matchConstraints: {
                    resourceRules: [
                        { apiGroups: ["aadpodidentity.k8s.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["azureidentities", "azureidentitybindings"] },
                        { apiGroups: ["aadpodidentity.k8s.io"], apiVersions: ["*"], operations: ["*"], resources: ["azurepodidentityexceptions", "azureassignedidentities"] },
                    ],
                },
            },
        }),
        crdGuardBinding,
    ]),
    pass("aadpodidentity-objects-guarded", "the guard matches every API group", [
        cluster,
        workloadNamespace,
        vary(crdGuard, { spec: { matchConstraints: { resourceRules: [{ apiGroups: ["*"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["*"] }] } } }),
        crdGuardBinding,
    ]),
    fail("aadpodidentity-objects-guarded", "the guard only warns", [cluster, workloadNamespace, crdGuard, vary(crdGuardBinding, { spec: { validationActions: ["Warn"] } })]),
    fail("aadpodidentity-objects-guarded", "the guard fails open", [cluster, workloadNamespace, vary(crdGuard, { spec: { failurePolicy: "Ignore" } }), crdGuardBinding]),
    fail("aadpodidentity-objects-guarded", "the guard does not name the workload's namespace", [cluster, vary(workloadNamespace, { metadata: { name: "team-beta" } }), crdGuard, crdGuardBinding]),
    pass("pod-identity-egress-reaches-nmi", "a policy of another namespace restricts other pods", [pod, vary(egressPolicy(dnsAndEndpoints.slice(0, 2)), { metadata: { namespace: "beta" } })]),
    pass("pod-identity-egress-reaches-nmi", "a policy selecting other pods restricts only them", [
        pod,
        vary(egressPolicy(dnsAndEndpoints.slice(0, 2)), { spec: { podSelector: { matchLabels: { "aks-identity-vault/workload": "beta" } } } }),
    ]),
    pass("pod-identity-egress-reaches-nmi", "a policy of ingress alone leaves egress open", [pod, vary(networkPolicy, { spec: { policyTypes: ["Ingress"], egress: undefined } })]),
    fail("pod-identity-egress-reaches-nmi", "all egress denied by policyTypes alone, with no egress rules", [pod, vary(networkPolicy, { spec: { policyTypes: ["Egress"], egress: undefined } })]),
    fail("pod-identity-egress-reaches-nmi", "egress rules without policyTypes restrict egress too", [pod, vary(egressPolicy(dnsAndEndpoints.slice(0, 2)), { spec: { policyTypes: undefined } })]),
    fail(
        "egress-firewall-rules-narrow",
        "one named source beside the internet, words in any case",
        narrowRulesWith([{ ruleType: "NetworkRule", name: "mixed", sourceAddresses: ["10.76.4.0/22", "Internet"], destinationAddresses: ["10.76.8.4"], destinationPorts: ["443"] }]),
    ),
    fail(
        "egress-firewall-rules-narrow",
        "a named destination beside Any, and a tag",
        narrowRulesWith([
            { ruleType: "NetworkRule", name: "mixed", sourceAddresses: ["10.76.4.0/22"], destinationAddresses: ["10.76.8.4", "Any"], fqdnTags: ["AzureKubernetesService"], destinationPorts: ["443"] },
        ]),
    ),
    fail(
        "egress-firewall-rules-narrow",
        "every FQDN beside a tag, as many of each",
        narrowRulesWith([
            {
                ruleType: "ApplicationRule",
                name: "all-and-tag",
                sourceAddresses: ["10.76.4.0/22"],
                targetFqdns: ["*"],
                fqdnTags: ["AzureKubernetesService"],
                protocols: [{ protocolType: "Https", port: 443 }],
            },
        ]),
    ),
    fail(
        "egress-firewall-rules-narrow",
        "a network rule to every FQDN",
        narrowRulesWith([{ ruleType: "NetworkRule", name: "fqdns", sourceAddresses: ["10.76.4.0/22"], destinationFqdns: ["*"], destinationPorts: ["443"] }]),
    ),
    pass(
        "egress-firewall-rules-narrow",
        "one FQDN and one tag",
        narrowRulesWith([
            {
                ruleType: "ApplicationRule",
                name: "both",
                sourceAddresses: ["10.76.4.0/22"],
                targetFqdns: ["mcr.microsoft.com"],
                fqdnTags: ["AzureKubernetesService"],
                protocols: [{ protocolType: "Https", port: 443 }],
            },
        ]),
    ),
    fail("aks-private-api-server", "a subnet without VNet Integration", vary(privateCluster, { apiServerAccessProfile: { enableVnetIntegration: false } })),
    fail("network-vnet-flow-logs", "retention off, whatever its days", [vnet, flowAccount, vary(flowLog, { retentionPolicy: { enabled: false, days: 7 } }), workspace]),
    fail("network-vnet-flow-logs", "retention of no day", [vnet, flowAccount, vary(flowLog, { retentionPolicy: { enabled: true, days: 0 } }), workspace]),
    pass("network-vnet-flow-logs", "retention of one day", [vnet, flowAccount, vary(flowLog, { retentionPolicy: { enabled: true, days: 1 } }), workspace]),
    fail("network-vnet-flow-logs", "disabled, in version 1", [vnet, flowAccount, vary(flowLog, { enabled: false, format: { version: 1 } }), workspace]),
    pass("network-vnet-flow-logs", "traffic analytics into the second of two workspaces", [
        vnet,
        flowAccount,
        flowLog,
        vary(workspace, { workspaceName: "log-aiv-other" }, { name: "other-workspace" }),
        workspace,
    ]),
    fail(
        "egress-firewall-logs",
        "the rule logs of another resource",
        firewallStackWith([
            vary(dedicatedFirewallDiagnostics, { resourceUri: `${RG}/providers/Microsoft.Network/routeTables/rt-aiv-test-aks` }, { deps: { resourceUri: [routeTable], workspaceId: [workspace] } }),
        ]),
    ),
    fail(
        "egress-firewall-logs",
        "the network rule log named but not enabled",
        firewallStackWith([vary(dedicatedFirewallDiagnostics, { logs: [...categories("AZFWApplicationRule"), { category: "AZFWNetworkRule", enabled: false }] })]),
    ),
    fail("egress-firewall-logs", "dedicated tables of no workspace", firewallStackWith([vary(dedicatedFirewallDiagnostics, { workspaceId: undefined })])),
    fail("role-assignment-no-broad-scope", "the tenant root", vary(secretsUser, { roleDefinitionId: ROLE(ROLES.networkContributor), scope: "/" })),
    fail("private-dns-zone-name", "a zone without a name", vary(vaultZone, { privateZoneName: undefined })),
    fail(
        "private-endpoint-dns-zone-group",
        "an endpoint of two group ids",
        stackWith([vary(vaultEndpoint, { privateLinkServiceConnections: [{ name: "pe-vault", privateLinkServiceId: VAULT_ID, groupIds: ["vault", "blob"] }] })]),
    ),
    fail(
        "private-endpoint-dns-zone-group",
        "an endpoint of a group id without a known zone",
        stackWith([vary(vaultEndpoint, { privateLinkServiceConnections: [{ name: "pe-vault", privateLinkServiceId: VAULT_ID, groupIds: ["sqlServer"] }] })]),
    ),
    fail("private-endpoint-dns-zone-group", "a zone group that names no zone", stackWith([vary(vaultZoneGroup, { privateDnsZoneConfigs: [] }, { deps: { privateEndpointName: [vaultEndpoint] } })])),
    fail(
        "private-endpoint-dns-zone-group",
        "the endpoint's zone and another",
        stackWith([
            vary(
                vaultZoneGroup,
                {
                    privateDnsZoneConfigs: [
                        { name: "vault", privateDnsZoneId: ZONE_ID("privatelink.vaultcore.azure.net") },
                        { name: "blob", privateDnsZoneId: ZONE_ID("privatelink.blob.core.windows.net") },
                    ],
                },
                { deps: { privateEndpointName: [vaultEndpoint], privateDnsZoneConfigs: [vaultZone, blobZone] } },
            ),
        ]),
    ),
    pass(
        "private-endpoint-dns-zone-group",
        "a zone id not known yet, its zone recorded as a dependency",
        stackWith([vary(vaultZoneGroup, { privateDnsZoneConfigs: [{ name: "vault", privateDnsZoneId: "[unknown]" }] })]),
    ),
    fail(
        "private-endpoint-dedicated-subnet",
        "a second cluster's nodes in the endpoint subnet",
        stackWith([
            vary(
                cluster,
                { agentPoolProfiles: [merge((cluster.inputs.agentPoolProfiles as JsonObject[])[0], { vnetSubnetID: `${VNET}/subnets/snet-endpoints` })] },
                { name: "aks-cluster-two", deps: { agentPoolProfiles: [endpointSubnet] } },
            ),
        ]),
    ),
    fail(
        "private-endpoint-dedicated-subnet",
        "the endpoint subnet as a pool's pod subnet, by its id",
        withoutDependencies(stackWith([vary(cluster, { agentPoolProfiles: [merge((cluster.inputs.agentPoolProfiles as JsonObject[])[0], { podSubnetID: `${VNET}/subnets/snet-endpoints` })] })])),
    ),
    fail("nsg-no-internet-inbound", "an unnamed rule from two open sources", { type: T.rule, name: "rule", inputs: { ...httpsFromAks, name: undefined, sourceAddressPrefixes: ["*", "Internet"] } }),
    fail(
        "addon-pod-identity-control-plane-operator",
        "the grant's principal not recorded, which no literal id can stand for",
        behaviourWith([{ ...controlPlaneOperator, deps: { scope: [workloadIdentity] } }]),
    ),
    pass(
        "addon-pod-identity-control-plane-operator",
        "the grant's scope, the cluster's identity and its name matched by ids and names",
        behaviourWith([
            { ...controlPlaneOperator, deps: { principalId: [controlPlaneIdentity] } },
            { ...behaviourCluster, deps: cluster.deps },
            { ...waitingPodIdentities, deps: { identities: [workloadIdentity] } },
        ]),
    ),
    fail(
        "addon-pod-identity-control-plane-operator",
        "a grant recorded on another identity, whatever its scope's text says",
        behaviourWith([betaIdentity, { ...controlPlaneOperator, deps: { principalId: [controlPlaneIdentity], scope: [betaIdentity] } }]),
    ),
    fail(
        "addon-pod-identity-control-plane-operator",
        "the write waits for one identity's grant, not the other's",
        behaviourWith([
            betaIdentity,
            betaOperator,
            {
                ...vary(waitingPodIdentities, {
                    identities: {
                        "beta/beta": {
                            name: "beta",
                            namespace: "beta",
                            bindingSelector: "beta",
                            identity: { resourceId: BETA_IDENTITY_ID, clientId: PRINCIPAL, objectId: PRINCIPAL },
                        },
                    },
                }),
                deps: { identities: [workloadIdentity, betaIdentity], clusterName: [behaviourCluster] },
            },
        ]),
    ),
    pass(
        "addon-pod-identity-control-plane-operator",
        "two grants for the identity, one waited for",
        behaviourWith([{ ...controlPlaneOperator, name: "alpha-control-plane-operator-again", deps: { principalId: [controlPlaneIdentity], scope: [workloadIdentity] } }]),
    ),
    fail(
        "addon-pod-identity-control-plane-operator",
        "an identity id not known yet, from two granted identities, one grant not waited for",
        behaviourWith([betaIdentity, betaOperator, previewPodIdentities([workloadIdentity, betaIdentity])]),
    ),
    pass(
        "addon-pod-identity-control-plane-operator",
        "an entry names the granted one of two recorded identities",
        behaviourWith([betaIdentity, { ...waitingPodIdentities, deps: { identities: [workloadIdentity, betaIdentity], clusterName: [behaviourCluster] } }]),
    ),
    pass(
        "addon-pod-identity-control-plane-operator",
        "an entry names an identity the write was not computed from: the recorded one is checked",
        behaviourWith([
            userIdentity("gamma-identity", "id-aiv-test-gamma"),
            vary(waitingPodIdentities, { identities: { "alpha/alpha": { identity: { resourceId: `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-test-gamma` } } } }),
        ]),
    ),
    pass(
        "addon-pod-identity-control-plane-operator",
        "no identity recorded: the one the entry names by id is checked",
        behaviourWith([{ ...waitingPodIdentities, deps: { clusterName: [behaviourCluster] } }]),
    ),
    fail("k8s-waits-for-effective-cluster-admin", "the access review waits for a grant of another role", behaviourWith([vary(deployerAdmin, { roleDefinitionId: ROLE(ROLES.networkContributor) })])),
    fail("k8s-waits-for-effective-cluster-admin", "the access review waits for a cluster-admin grant that is not the cluster's", behaviourWith([{ ...deployerAdmin, deps: {} }])),
    pass("secret-provider-class-identity-matches-mode", "pod identity on one of two clusters", [
        cluster,
        vary(cluster, { podIdentityProfile: { enabled: false } }, { name: "aks-cluster-two" }),
        secretProviderClass,
    ]),
    pass("secret-provider-class-identity-matches-mode", "Workload ID on one of two clusters", [
        wiCluster,
        vary(wiCluster, { securityProfile: { workloadIdentity: { enabled: false } } }, { name: "aks-cluster-two" }),
        workloadIdentity,
        wiClass,
        wiFederation,
    ]),
    pass("secret-provider-class-identity-matches-mode", "a class of another provider is not its business", [
        cluster,
        vary(secretProviderClass, { spec: { provider: "gcp", parameters: { usePodIdentity: undefined } } }),
    ]),
    fail("federated-credential-name-valid", "no name", vary(federation, { federatedIdentityCredentialResourceName: undefined })),
    fail("egress-default-route-to-firewall", "the firewall's route is not the default route", firewallStackWith([vary(defaultRoute, { addressPrefix: "10.0.0.0/8" })])),
    pass("egress-default-route-to-firewall", "the next hop is the firewall's address, not known yet", firewallStackWith([vary(defaultRoute, { nextHopIpAddress: "[unknown]" })])),
    fail(
        "egress-default-route-to-firewall",
        "no next-hop address, beside a firewall whose address is not known",
        firewallStackWith([
            vary(defaultRoute, { nextHopIpAddress: undefined }, { deps: { routeTableName: [routeTable] } }),
            vary(firewall, { ipConfigurations: [{ name: "egress", subnet: { id: `${VNET}/subnets/AzureFirewallSubnet` } }] }),
        ]),
    ),
    pass(
        "egress-default-route-to-firewall",
        "the firewall's second address, on the second of two firewalls",
        withoutDependencies(
            firewallStackWith([
                { ...firewall, name: "other-firewall", inputs: merge(firewall.inputs, { azureFirewallName: "afw-aiv-other", ipConfigurations: [{ name: "other", privateIPAddress: "10.77.0.4" }] }) },
                vary(firewall, {
                    ipConfigurations: [
                        { name: "first", privateIPAddress: "10.76.0.5" },
                        { name: "egress", privateIPAddress: FIREWALL_IP },
                    ],
                }),
            ]),
        ),
    ),
    pass(
        "egress-default-route-to-firewall",
        "the subnet's table is the second of two, by its id",
        withoutDependencies([{ ...routeTable, name: "other-routes", inputs: merge(routeTable.inputs, { routeTableName: "rt-aiv-other" }) }, ...firewallStack]),
    ),
    pass(
        "egress-default-route-to-firewall",
        "a rule collection group created after the cluster is not one it waits for",
        firewallStackWith([{ ...firewallRules, name: "later-rules", inputs: merge(firewallRules.inputs, { ruleCollectionGroupName: "later" }), dependsOn: [firewalledCluster] }]),
    ),
    pass(
        "egress-default-route-to-firewall",
        "another table's default route is not one the cluster waits for",
        firewallStackWith([
            { ...routeTable, name: "other-routes", inputs: merge(routeTable.inputs, { routeTableName: "rt-aiv-other" }) },
            {
                ...defaultRoute,
                name: "other-default-route",
                inputs: merge(defaultRoute.inputs, { routeTableName: "rt-aiv-other" }),
                deps: { routeTableName: [{ ...routeTable, name: "other-routes" }] },
            },
        ]),
    ),
    pass(
        "egress-default-route-to-firewall",
        "an inline default route to the firewall",
        firewallStackWith(
            [vary(routeTable, { routes: [{ name: "default-to-firewall", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: FIREWALL_IP }] })],
            [defaultRoute],
        ),
    ),
    pass(
        "egress-default-route-to-firewall",
        "an inline and a standalone default route",
        firewallStackWith([vary(routeTable, { routes: [{ name: "default-to-firewall", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: FIREWALL_IP }] })]),
    ),
    fail(
        "egress-default-route-to-firewall",
        "only an inline route to the VNet",
        firewallStackWith([vary(routeTable, { routes: [{ name: "vnet", addressPrefix: "10.76.0.0/16", nextHopType: "VnetLocal" }] })], [defaultRoute]),
    ),
    pass("egress-only-through-firewall", "a cluster that leaves through its load balancer may set its profile", [
        vary(cluster, { networkProfile: { outboundType: "loadBalancer", loadBalancerProfile: { managedOutboundIPs: { count: 1 } } } }),
    ]),
    fail(
        "egress-only-through-firewall",
        "an unnamed pool with node public IPs",
        firewallStackWith([vary(firewalledCluster, { agentPoolProfiles: [merge((cluster.inputs.agentPoolProfiles as JsonObject[])[0], { name: undefined, enableNodePublicIP: true })] })]),
    ),
    fail(
        "egress-only-through-firewall",
        "a NAT gateway recorded on the cluster's subnet, its id not known yet",
        firewallStackWith([natGateway, { ...routedAksSubnet, deps: { ...routedAksSubnet.deps, natGateway: [natGateway] } }]),
    ),
    fail(
        "egress-default-route-to-firewall",
        "a second pool's subnet without a route table, matched by ids",
        withoutDependencies(
            firewallStackWith([
                vary(aksSubnet, { subnetName: "snet-aks-user", addressPrefix: "10.76.5.0/24" }, { name: "network-aks-user-subnet" }),
                vary(firewalledCluster, {
                    agentPoolProfiles: [
                        (cluster.inputs.agentPoolProfiles as JsonObject[])[0],
                        merge((cluster.inputs.agentPoolProfiles as JsonObject[])[0], { name: "user", mode: "User", vnetSubnetID: `${VNET}/subnets/snet-aks-user` }),
                    ],
                }),
            ]),
        ),
    ),
    fail(
        "network-vnet-flow-logs",
        "a second VNet without a flow log, matched by ids",
        withoutDependencies([...flowLogStack, vary(vnet, { virtualNetworkName: "vnet-aiv-other" }, { name: "other-vnet" })]),
    ),
];

const POLICIES = new Map(policies.map((p) => [p.name, p]));

/** `steps` with the named resource no longer waiting for the other, through dependsOn or an input. */
function withoutDependency(steps: PreviewStep[], from: string, on: string): PreviewStep[] {
    const target = steps.find((s) => s.urn.endsWith(`::${on}`))?.urn;
    return steps.map((s) => {
        if (!s.urn.endsWith(`::${from}`)) {
            return s;
        }
        const propertyDependencies = Object.fromEntries(Object.entries(s.newState.propertyDependencies ?? {}).map(([k, urns]) => [k, urns.filter((u) => u !== target)]));
        return { ...s, newState: { ...s.newState, dependencies: (s.newState.dependencies ?? []).filter((u) => u !== target), propertyDependencies } };
    });
}

/** Evaluates a case through the offline logic: the policy's outcome on its subject. */
async function outcomeOf(testCase: Case) {
    const policy = POLICIES.get(testCase.policy);
    if (policy === undefined) {
        throw new Error(`no policy ${testCase.policy}`);
    }
    if (Array.isArray(testCase.subject)) {
        if (!isStackPolicy(policy)) {
            throw new Error(`${policy.name} is not a stack policy`);
        }
        return validateStackSteps(policy, testCase.subject.map(stepOf));
    }
    if (!isResourcePolicy(policy)) {
        throw new Error(`${policy.name} is not a resource policy`);
    }
    const step = stepOf(testCase.subject);
    return validateResourceStep(policy, step, new Map([[step.urn, step]]));
}

const TITLES: Record<Verdict, string> = { pass: "passes", fail: "fails", skip: "does not apply to" };

/** A case as its test is named: the policy, what it does with the subject, and why. */
function titleOf(testCase: Case): string {
    return `${testCase.policy} ${TITLES[testCase.verdict]}: ${testCase.why}`;
}

/** The case's verdict holds: it applies unless skipped, and a failing case's violations are its policy's own, at its level, each with a message. */
function expectVerdict(testCase: Case, outcome: Awaited<ReturnType<typeof outcomeOf>>): void {
    expect(outcome.applied).toBe(testCase.verdict !== "skip");
    if (testCase.verdict !== "fail") {
        expect(outcome.violations).toEqual([]);
    } else {
        expect(outcome.violations.length).toBeGreaterThan(0);
        const level = POLICIES.get(testCase.policy)?.enforcementLevel;
        expect(outcome.violations.every((v) => v.policyName === testCase.policy && v.enforcementLevel === level && v.message.length > 0)).toBe(true);
    }
}

describe("every policy", () => {
    test("the pack has at least 40 uniquely named policies, each mandatory unless it says why not", () => {
        expect(policies.length).toBeGreaterThanOrEqual(40);
        expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
        for (const policy of policies) {
            expect(["mandatory", "advisory"]).toContain(policy.enforcementLevel);
            if (policy.enforcementLevel === "advisory") {
                expect(policy.description).toMatch(/Advisory: /);
            }
            expect(policy.description).toMatch(/Checkov CKV|Pod Security Standards|no direct Checkov equivalent/i);
        }
    });

    test("has a passing and a failing case, and every case names a policy of the pack", () => {
        const missing = policies.flatMap((p) =>
            (["pass", "fail"] as const satisfies readonly Verdict[])
                .filter((verdict) => !CASES.some((c) => c.policy === p.name && c.verdict === verdict))
                .map((verdict) => `${p.name}: no ${verdict} case`),
        );
        expect(missing).toEqual([]);
        expect(CASES.filter((c) => !POLICIES.has(c.policy)).map((c) => c.policy)).toEqual([]);
    });

    test.each(CASES.map((c) => [titleOf(c), c] as const))("%s", async (_title, testCase) => {
        expectVerdict(testCase, await outcomeOf(testCase));
    });
});

describe("the offline evaluation", () => {
    const purge = POLICIES.get("keyvault-purge-protection");
    const retention = POLICIES.get("keyvault-soft-delete-retention");
    const badVault = stepOf(vary(vault, { properties: { enablePurgeProtection: false, softDeleteRetentionInDays: 30 } }));
    const only = (step: PreviewStep) => new Map([[step.urn, step]]);

    test("skips resources of other types without calling the policy", async () => {
        if (purge === undefined || !isResourcePolicy(purge)) {
            throw new Error("missing policy");
        }
        expect(await validateResourceStep(purge, stepOf(account), only(stepOf(account)))).toEqual({ applied: false, violations: [] });
    });

    test("honours enforcement levels from policy pack config, including disabled", async () => {
        if (purge === undefined || !isResourcePolicy(purge)) {
            throw new Error("missing policy");
        }
        const advisory = await validateResourceStep(purge, badVault, only(badVault), { config: { "keyvault-purge-protection": "advisory" } });
        expect(advisory.violations.map((v) => v.enforcementLevel)).toEqual(["advisory"]);
        const disabled = await validateResourceStep(purge, badVault, only(badVault), { config: { all: { enforcementLevel: "disabled" } } });
        expect(disabled).toEqual({ applied: false, violations: [] });
    });

    test("hands getConfig the schema's defaults, overridden by policy pack config", async () => {
        if (retention === undefined || !isResourcePolicy(retention)) {
            throw new Error("missing policy");
        }
        expect((await validateResourceStep(retention, badVault, only(badVault))).violations).toHaveLength(1);
        const relaxed = await validateResourceStep(retention, badVault, only(badVault), { config: { "keyvault-soft-delete-retention": { minimumRetentionDays: 30 } } });
        expect(relaxed.violations).toEqual([]);
    });

    test("reports a value unknown during preview as an advisory, as the analyzer does", async () => {
        if (purge === undefined || !isResourcePolicy(purge)) {
            throw new Error("missing policy");
        }
        const unknown = stepOf(vary(vault, { properties: { enablePurgeProtection: "[unknown]" } }));
        const outcome = await validateResourceStep(purge, unknown, only(unknown), { label: "preview" });
        expect(outcome.violations).toEqual([
            {
                policyName: "keyvault-purge-protection",
                enforcementLevel: "advisory",
                label: "preview",
                urn: unknown.urn,
                message: expect.stringContaining("can't run policy 'keyvault-purge-protection' during preview"),
            },
        ]);
    });

    test("refuses a policy that writes to the properties it validates, at any depth, since the next policy reads the same ones", async () => {
        const writers: Array<(props: Record<string, unknown>) => void> = [
            (props) => (props.location = "westus"),
            (props) => delete props.location,
            (props) => ((props.properties as Record<string, unknown>).enablePurgeProtection = false),
        ];
        for (const write of writers) {
            const writer: ResourceValidationPolicy = { name: "writes", description: "", enforcementLevel: "mandatory", validateResource: (args) => write(args.props) };
            await expect(validateResourceStep(writer, badVault, only(badVault))).rejects.toThrow("policy writes failed on");
        }
        expect(badVault.newState.inputs?.properties).toMatchObject({ enablePurgeProtection: false, softDeleteRetentionInDays: 30 });
        const reader: ResourceValidationPolicy = { name: "reads", description: "", enforcementLevel: "mandatory", validateResource: (args, report) => report(String(args.props.location)) };
        expect((await validateResourceStep(reader, badVault, only(badVault))).violations.map((v) => v.message)).toEqual([String(badVault.newState.inputs?.location)]);
    });

    test("builds the analyzer's resource arguments from a plan step", () => {
        const providerUrn = "urn:pulumi:test::aks-identity-vault::pulumi:providers:azure-native::default_3_28_0";
        const provider: PreviewStep = { urn: providerUrn, newState: { type: "pulumi:providers:azure-native", inputs: { version: "3.28.0" } } };
        const step: PreviewStep = { ...stepOf(vault), newState: { ...stepOf(vault).newState, provider: `${providerUrn}::04da6b54`, parent: "urn:parent", aliases: ["urn:old", 7] } };
        const args = resourceValidationArgs(step, new Map([[providerUrn, provider]]), { minimumRetentionDays: 90 });
        expect(args).toMatchObject({ type: T.vault, urn: step.urn, name: "keyvault-vault", opts: { protect: true, parent: "urn:parent", aliases: ["urn:old"], ignoreChanges: [] } });
        expect(args.opts.deleteBeforeReplace).toBeUndefined();
        expect(args.provider).toMatchObject({ type: "pulumi:providers:azure-native", urn: providerUrn, name: "default_3_28_0", props: { version: "3.28.0" } });
        expect(args.getConfig<{ minimumRetentionDays: number }>().minimumRetentionDays).toBe(90);
        expect(() => args.notApplicable("why")).toThrow("why");
    });

    test("links parents and property dependencies of stack resources", async () => {
        const seen: string[] = [];
        const probe: Policies[number] = {
            name: "probe",
            description: "test probe",
            enforcementLevel: "mandatory",
            validateStack: (args) => {
                const zoneGroup = args.resources.find((r) => r.urn === urnOf(vaultZoneGroup));
                seen.push(...(zoneGroup?.propertyDependencies.privateEndpointName ?? []).map((r) => r.urn), ...(zoneGroup?.dependencies ?? []).map((r) => r.type));
            },
        };
        if (!isStackPolicy(probe)) {
            throw new Error("not a stack policy");
        }
        await validateStackSteps(probe, goodStack.map(stepOf));
        expect(seen).toEqual([urnOf(vaultEndpoint), T.endpoint, T.zone]);
    });

    test("prints one line per violation and the summary line", () => {
        expect(summaryLine(79, 792, 0)).toBe("79 policies, 792 resources checked, 0 mandatory violations");
        expect(summaryLine(policies.length, 3, 2)).toMatch(/^\d+ policies, \d+ resources checked, \d+ mandatory violations$/);
        const line = formatViolation({ policyName: "p", enforcementLevel: "mandatory", label: "workloadIdentity/rbac", urn: "urn:x", message: "first\n  second" });
        expect(line).toBe("mandatory p [workloadIdentity/rbac] urn:x: first second");
        expect(formatViolation({ policyName: "p", enforcementLevel: "advisory", label: "l", message: "m" })).toBe("advisory p [l] (stack): m");
    });
});

/** A resource as a stack validation receives it. */
const policyResource = (
    type: string,
    name: string,
    props: Record<string, unknown> = {},
    links: Partial<Pick<PolicyResource, "dependencies" | "propertyDependencies" | "provider">> = {},
): PolicyResource => ({
    type,
    name,
    urn: `urn:pulumi:dev::p::${type}::${name}`,
    props,
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
    isType: () => false,
    asType: () => undefined,
    dependencies: links.dependencies ?? [],
    propertyDependencies: links.propertyDependencies ?? {},
    ...(links.provider === undefined ? {} : { provider: links.provider }),
});

describe("the pack's value and graph helpers", () => {
    test("reads values of any shape without throwing", () => {
        expect([isDict({}), isDict(null), isDict([]), isDict("x")]).toEqual([true, false, false, false]);
        expect(field({ a: { b: { c: 1 } } }, "a", "b", "c")).toBe(1);
        expect(field({ a: { b: 1 } }, "a", "b", "c")).toBeUndefined();
        expect(field({ a: [{ b: 1 }] }, "a", "b")).toBeUndefined();
        expect(field(7)).toBe(7);
        expect([text("x"), text(1)]).toEqual(["x", undefined]);
        expect([list([1]), list({ 0: 1 })]).toEqual([[1], []]);
        expect(strings(["a", 1, null, "b"])).toEqual(["a", "b"]);
        expect(stringMap({ a: "1", b: 2, c: null })).toEqual({ a: "1" });
        expect(stringMap(["a"])).toEqual({});
        expect([sameText("Vault", "vault"), sameText("a", "b"), sameText(undefined, undefined), sameText("a", undefined), sameText(undefined, "a")]).toEqual([true, false, false, false, false]);
        expect(firstText({ vaultName: 7, name: "kv" }, "vaultName", "name")).toBe("kv");
        expect(firstText({ vaultName: "a", name: "b" }, "vaultName", "name")).toBe("a");
        expect(firstText({}, "vaultName", "name")).toBeUndefined();
    });

    test("whenKnown turns a value unknown during preview into undefined and lets any other error through", () => {
        expect(whenKnown(() => 3)).toBe(3);
        const step = stepOf(vary(vault, { properties: { enablePurgeProtection: "[unknown]" } }));
        const props = resourceValidationArgs(step, new Map([[step.urn, step]]), {}).props;
        expect(whenKnown(() => field(props, "properties", "enablePurgeProtection"))).toBeUndefined();
        expect(whenKnown(() => field(props, "properties", "enableRbacAuthorization"))).toBe(true);
        expect(() =>
            whenKnown(() => {
                throw new RangeError("other");
            }),
        ).toThrow("other");
    });

    test("a reference is decided by the property's recorded dependencies on the target's type, and by value only without them", () => {
        const vault = policyResource(T.vault, "v", { vaultName: "kv-a" });
        const other = policyResource(T.vault, "w", { vaultName: "kv-b" });
        const subnet = policyResource(T.subnet, "s", { subnetName: "snet" });
        const linked = policyResource(T.endpoint, "e", {}, { propertyDependencies: { privateLinkServiceConnections: [vault, subnet], subnet: [subnet] } });
        expect(ofType([vault, other, subnet], T.vault)).toEqual([vault, other]);
        expect(linkedThrough(linked, "privateLinkServiceConnections", T.vault)).toEqual([vault]);
        expect(linkedThrough(linked, "customDnsConfigs", T.vault)).toEqual([]);
        const byValue = jest.fn(() => true);
        expect(refersTo(linked, "privateLinkServiceConnections", vault, byValue)).toBe(true);
        expect(refersTo(linked, "privateLinkServiceConnections", other, byValue)).toBe(false);
        expect(byValue).not.toHaveBeenCalled();
        expect(refersTo(policyResource(T.endpoint, "f"), "privateLinkServiceConnections", other, () => false)).toBe(false);
        expect(refersTo(policyResource(T.endpoint, "f"), "privateLinkServiceConnections", other, () => true)).toBe(true);
    });

    test("names and ARM ids are matched case-insensitively by their last segment", () => {
        const vault = policyResource(T.vault, "v", { vaultName: "KV-A", name: "other" });
        expect(azureName(vault, "vaultName")).toBe("KV-A");
        expect(azureName(policyResource(T.vault, "v", { name: "kv-out" }), "vaultName")).toBe("kv-out");
        expect(idNames(`${RG}/providers/Microsoft.KeyVault/vaults/kv-a/`, vault, "vaultName")).toBe(true);
        expect(idNames(`${RG}/providers/Microsoft.KeyVault/vaults/kv-b`, vault, "vaultName")).toBe(false);
        expect(idNames(undefined, vault, "vaultName")).toBe(false);
        expect(idNames("kv-a", policyResource(T.vault, "v"), "vaultName")).toBe(false);
    });

    test("an endpoint exposes a target for a sub-resource through either kind of connection, linked or named", () => {
        const vault = policyResource(T.vault, "v", { vaultName: "kv-a" });
        const account = policyResource(T.account, "a", { accountName: "sta" });
        const auto = policyResource(T.endpoint, "auto", { privateLinkServiceConnections: [{ groupIds: ["Vault"], privateLinkServiceId: `${RG}/providers/Microsoft.KeyVault/vaults/kv-a` }] });
        const manual = policyResource(T.endpoint, "manual", {
            manualPrivateLinkServiceConnections: [{ groupIds: ["vault", 3], privateLinkServiceId: `${RG}/providers/Microsoft.KeyVault/vaults/KV-A` }],
        });
        const blob = policyResource(T.endpoint, "blob", { privateLinkServiceConnections: [{ groupIds: ["blob"], privateLinkServiceId: `${RG}/providers/Microsoft.Storage/storageAccounts/sta` }] });
        const linkedElsewhere = policyResource(
            T.endpoint,
            "linked",
            { privateLinkServiceConnections: [{ groupIds: ["vault"], privateLinkServiceId: `${RG}/providers/Microsoft.KeyVault/vaults/kv-a` }] },
            { propertyDependencies: { privateLinkServiceConnections: [policyResource(T.vault, "w", { vaultName: "kv-b" })] } },
        );
        expect(endpointConnections(manual)).toHaveLength(1);
        expect(endpointConnections(policyResource(T.endpoint, "both", { privateLinkServiceConnections: [1], manualPrivateLinkServiceConnections: [2, 3] }))).toEqual([1, 2, 3]);
        const all = [vault, account, auto, manual, blob, linkedElsewhere];
        expect(privateEndpointsFor(all, vault, "vaultName", "vault").map((e) => e.name)).toEqual(["auto", "manual"]);
        expect(privateEndpointsFor(all, account, "accountName", "blob").map((e) => e.name)).toEqual(["blob"]);
        expect(privateEndpointsFor(all, account, "accountName", "file")).toEqual([]);
    });

    test("an endpoint's subnet is the one its subnet property was computed from, or the one its id names in the same VNet", () => {
        const aks = policyResource(T.subnet, "aks", { subnetName: "snet-aks", virtualNetworkName: "vnet-a" });
        const endpoints = policyResource(T.subnet, "ep", { subnetName: "snet-ep", virtualNetworkName: "vnet-a" });
        const elsewhere = policyResource(T.subnet, "ep-b", { subnetName: "snet-ep", virtualNetworkName: "vnet-b" });
        const id = (vnet: string, subnet: string) => `${RG}/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${subnet}`;
        expect(idNamesSubnet(id("vnet-a", "snet-ep"), endpoints)).toBe(true);
        expect(idNamesSubnet(id("VNET-A", "SNET-EP"), endpoints)).toBe(true);
        expect(idNamesSubnet(id("vnet-b", "snet-ep"), endpoints)).toBe(false);
        expect(idNamesSubnet(id("vnet-a", "snet-aks"), endpoints)).toBe(false);
        expect(idNamesSubnet("snet-ep", endpoints)).toBe(true);
        expect(idNamesSubnet(id("vnet-z", "snet-ep"), policyResource(T.subnet, "x", { subnetName: "snet-ep" }))).toBe(true);
        expect(idNamesSubnet(undefined, endpoints)).toBe(false);
        const named = policyResource(T.endpoint, "e", { subnet: { id: id("vnet-b", "snet-ep") } });
        expect(subnetOfEndpoint([aks, endpoints, elsewhere], named)).toBe(elsewhere);
        const linked = policyResource(T.endpoint, "e", { subnet: { id: id("vnet-b", "snet-ep") } }, { propertyDependencies: { subnet: [aks] } });
        expect(subnetOfEndpoint([aks, endpoints, elsewhere], linked)).toBe(aks);
        expect(subnetOfEndpoint([aks], policyResource(T.endpoint, "e"))).toBeUndefined();
    });

    test("what a resource waits for: its dependencies, theirs and its provider's, transitively, through cycles", () => {
        const group = policyResource(T.resourceGroup, "rg");
        const cluster = policyResource(T.cluster, "aks", {}, { dependencies: [group] });
        const provider = policyResource("pulumi:providers:kubernetes", "k8s", {}, { dependencies: [cluster] });
        const namespace = policyResource(T.namespace, "ns", {}, { provider: { type: provider.type, urn: provider.urn, name: provider.name, props: {} } });
        const job = policyResource("kubernetes:batch/v1:Job", "job", {}, { dependencies: [namespace] });
        const a = policyResource("azure-native:network:Route", "a");
        const b = policyResource("azure-native:network:Route", "b", {}, { dependencies: [a] });
        a.dependencies.push(b);
        const wait = waitsFor([group, cluster, provider, namespace, job, a, b]);
        expect(new Set(wait(job))).toEqual(new Set([namespace, provider, cluster, group]));
        expect(wait(group).size).toBe(0);
        expect(wait(job)).toBe(wait(job));
        expect(new Set(wait(b))).toEqual(new Set([a, b]));
        // A provider the stack does not hold is not waited for.
        const stray = policyResource(T.namespace, "stray", {}, { provider: { type: provider.type, urn: "urn:elsewhere", name: "x", props: {} } });
        expect(wait(stray).size).toBe(0);
    });
});

describe("the pack's Kubernetes, ARM, address and mode helpers", () => {
    test("a pod spec's containers, and the security settings each runs with, its own before the pod's", () => {
        const spec = {
            securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
            initContainers: [{ name: "init", image: "i:1" }],
            containers: [{ name: "main", image: "m:1", securityContext: { runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: "Unconfined" } } }],
            ephemeralContainers: [{ name: "debug", image: "d:1" }],
        };
        expect(containersOf(spec).map((c) => c.name)).toEqual(["init", "main", "debug"]);
        expect(containersOf({ containers: [] })).toEqual([]);
        const [init, main] = containersOf(spec);
        expect([effectiveRunAsNonRoot(spec, init), effectiveRunAsUser(spec, init), effectiveSeccompType(spec, init)]).toEqual([true, 1000, "RuntimeDefault"]);
        expect([effectiveRunAsNonRoot(spec, main), effectiveRunAsUser(spec, main), effectiveSeccompType(spec, main)]).toEqual([false, 0, "Unconfined"]);
        const bare = { containers: [] };
        expect([effectiveRunAsNonRoot(bare, init), effectiveRunAsUser(bare, init), effectiveSeccompType(bare, init)]).toEqual([undefined, undefined, undefined]);
    });

    test.each<[string, string[]]>([
        [T.pod, ["spec"]],
        [T.job, ["spec", "template", "spec"]],
        [T.cronJob, ["spec", "jobTemplate", "spec", "template", "spec"]],
        [T.deployment, ["spec", "template", "spec"]],
        ["kubernetes:apps/v1:StatefulSet", ["spec", "template", "spec"]],
        ["kubernetes:apps/v1:DaemonSet", ["spec", "template", "spec"]],
        ["kubernetes:apps/v1:ReplicaSet", ["spec", "template", "spec"]],
        ["kubernetes:core/v1:ReplicationController", ["spec", "template", "spec"]],
    ])("a pod-spec policy reads a %s's pod spec at %j, and does not apply to one without", async (type, path) => {
        const policy = POLICIES.get("k8s-run-as-non-root");
        if (policy === undefined || !isResourcePolicy(policy)) {
            throw new Error("missing policy");
        }
        const rootSpec = { containers: [{ name: "root", image: "app:1", securityContext: { runAsNonRoot: true, runAsUser: 0 } }] };
        const nested = path.reduceRight<JsonObject>((inner, key) => ({ [key]: inner }), rootSpec);
        const withSpec = stepOf({ type, name: "w", inputs: { metadata: { namespace: "alpha" }, ...nested } });
        const outcome = await validateResourceStep(policy, withSpec, new Map([[withSpec.urn, withSpec]]));
        expect(outcome.violations.map((v) => v.message)).toEqual(["Container root runs as UID 0."]);
        const without = stepOf({ type, name: "w", inputs: { metadata: { namespace: "alpha" }, spec: path.length > 1 ? {} : undefined } });
        expect(await validateResourceStep(policy, without, new Map([[without.urn, without]]))).toEqual({
            applied: false,
            violations: [],
            notApplicable: expect.arrayContaining(["the workload declares no pod spec"]) as unknown,
        });
    });

    test("an image reference's tag and digest, with a registry port and a path", () => {
        expect(imageReference("registry:5000/team/app:1.2@sha256:abc")).toEqual({ tag: "1.2", digest: "sha256:abc" });
        expect(imageReference("registry:5000/team/app")).toEqual({ tag: undefined, digest: undefined });
        expect(imageReference("app:")).toEqual({ tag: "", digest: undefined });
        expect(isPinnedImage("app:")).toBe(false);
        expect(isPinnedImage(`app:1@sha256:${"A".repeat(64)}`)).toBe(false);
        expect(isPinnedImage(`app@sha256:${"a".repeat(64)}x`)).toBe(false);
        expect(isPinnedImage(`app@xsha256:${"a".repeat(64)}`)).toBe(false);
        expect(isPinnedImage(`app@sha256:${"a".repeat(64)}`)).toBe(true);
        // A name without a colon has no tag, with or without a registry path.
        expect([imageReference("app"), imageReference("team/app")]).toEqual([
            { tag: undefined, digest: undefined },
            { tag: undefined, digest: undefined },
        ]);
    });

    test("a selector's operators: Exists, and anything unknown selects nothing", () => {
        const labels = { app: "demo" };
        expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "Exists" }] }, labels)).toBe(true);
        expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "Exists" }] }, labels)).toBe(false);
        expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels)).toBe(false);
        expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }] }, labels)).toBe(false);
        expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] }, labels)).toBe(true);
        expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "In", values: ["other"] }] }, labels)).toBe(false);
        expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "In", values: ["demo"] }] }, labels)).toBe(true);
        expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["other"] }] }, labels)).toBe(true);
        expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["demo"] }] }, labels)).toBe(false);
        expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] }, labels)).toBe(false);
        expect(selectorMatches({ matchExpressions: [{ operator: "DoesNotExist" }] }, labels)).toBe(true);
        expect(selectorMatches({ matchLabels: { app: "demo", tier: "web" } }, labels)).toBe(false);
    });

    test("volumes, namespaces and the kinds that have none", () => {
        expect(volumeTypes({ name: "v", secret: { secretName: "s" }, hostPath: undefined })).toEqual(["secret"]);
        expect(volumeTypes("v")).toEqual([]);
        expect(RESTRICTED_VOLUME_TYPES.has("csi") && !RESTRICTED_VOLUME_TYPES.has("hostPath")).toBe(true);
        expect(isNamespacedKubernetesType(T.job)).toBe(true);
        expect(isNamespacedKubernetesType(T.namespace)).toBe(false);
        expect(isNamespacedKubernetesType(T.admissionPolicy)).toBe(false);
        expect(isNamespacedKubernetesType(T.release)).toBe(false);
        expect(isNamespacedKubernetesType("kubernetes:yaml/v2:ConfigGroup")).toBe(false);
        expect(isNamespacedKubernetesType(T.vault)).toBe(false);
        expect(namespaceOf({ metadata: { namespace: "alpha" } })).toBe("alpha");
        expect(namespaceOf({ metadata: {} })).toBe("default");
        expect([isReservedNamespace("default"), isReservedNamespace("kube-system"), isReservedNamespace("alpha-kube")]).toEqual([true, true, false]);
    });

    test("the pods a workload creates: where its template is for each kind, and none for other types", () => {
        const template = { metadata: { labels: { app: "a", n: 1 } }, spec: { containers: [] } };
        expect(workloadPods(T.pod, { metadata: { namespace: "x", labels: { app: "p" } }, spec: { containers: [] } })).toEqual({ namespace: "x", labels: { app: "p" }, spec: { containers: [] } });
        expect(workloadPods(T.job, { metadata: { namespace: "x" }, spec: { template } })).toEqual({ namespace: "x", labels: { app: "a" }, spec: { containers: [] } });
        expect(workloadPods(T.cronJob, { spec: { jobTemplate: { spec: { template } } } })).toEqual({ namespace: "default", labels: { app: "a" }, spec: { containers: [] } });
        for (const kind of ["apps/v1:Deployment", "apps/v1:StatefulSet", "apps/v1:DaemonSet", "apps/v1:ReplicaSet", "core/v1:ReplicationController"]) {
            expect([kind, workloadPods(`kubernetes:${kind}`, { metadata: { namespace: "x" }, spec: { template } })]).toEqual([
                kind,
                { namespace: "x", labels: { app: "a" }, spec: { containers: [] } },
            ]);
        }
        expect(workloadPods(T.deployment, { spec: {} })).toEqual({ namespace: "default", labels: {}, spec: {} });
        expect(workloadPods(T.configMap, {})).toBeUndefined();
        expect(workloadPods("azure-native:compute:Pod", {})).toBeUndefined();
    });

    test("role ids, scopes and the single data items a scope names", () => {
        expect(roleGuid("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/4633458B-17DE-408A-B874-0445C86B69E6/")).toBe("4633458b-17de-408a-b874-0445c86b69e6");
        expect(roleGuid("")).toBe("");
        expect(DATA_ROLES.get("4633458b-17de-408a-b874-0445c86b69e6")).toEqual({ name: "Key Vault Secrets User", items: ["keyVaultSecret"] });
        expect(PRIVILEGED_ROLES.get("8e3af657-a8ff-443c-a75c-2fe8c4bcb635")).toBe("Owner");
        expect(scopeLevel("  ")).toBe("root");
        expect(scopeLevel("/providers/Microsoft.Management/managementGroups/mg")).toBe("managementGroup");
        expect(scopeLevel(`${SUB}/`)).toBe("subscription");
        expect(scopeLevel(`${RG.toUpperCase()}//`)).toBe("resourceGroup");
        expect(scopeLevel(`${SUB}/providers/Microsoft.Management/managementGroups/mg`)).toBe("resource");
        // Ids that end or start as a wider scope does, under another parent: an API Management
        // subscription and a policy definition of a management group are resources.
        expect(scopeLevel(`${RG}/providers/Microsoft.ApiManagement/service/apim/subscriptions/starter`)).toBe("resource");
        expect(scopeLevel("/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/policyDefinitions/p")).toBe("resource");
        const account = `${RG}/providers/Microsoft.Storage/storageAccounts/sta`;
        expect(dataItemOf(`${account}/blobServices/default/containers/alpha/`)).toBe("blobContainer");
        expect(dataItemOf(`${account}/blobServices/default/containers/alpha/blobs/b`)).toBeUndefined();
        expect(dataItemOf(`${VAULT_ID}/secrets/s`)).toBe("keyVaultSecret");
        expect(dataItemOf(` ${VAULT_ID}/keys/k// `)).toBe("keyVaultKey");
        expect(dataItemOf(`${VAULT_ID}/certificates/c`)).toBe("keyVaultCertificate");
        expect(dataItemOf(`${VAULT_ID}/secrets`)).toBeUndefined();
        expect([armName(`${VAULT_ID}/`), armName("")]).toEqual(["kv-aiv-test-abc123", ""]);
        expect(PRIVATE_DNS_ZONE_BY_GROUP.get("vault")).toBe("privatelink.vaultcore.azure.net");
    });

    test("addresses and NSG sources: every non-public range, and what stands for the Internet", () => {
        for (const cidr of ["10.1.0.0/16", "172.31.0.1", "192.168.1.0/24", "100.64.1.1", "169.254.169.254", "127.0.0.1", "fd00::1", "fe80::1/64", "::1"]) {
            expect([cidr, isNonPublicCidr(cidr)]).toEqual([cidr, true]);
        }
        for (const cidr of ["172.32.0.1", "11.0.0.1", "100.128.0.1", "2001:db8::1", "10.0.0.0/7", "not an address", "fe80::/9"]) {
            expect([cidr, isNonPublicCidr(cidr)]).toEqual([cidr, false]);
        }
        for (const source of ["*", " Any ", "Internet", "0.0.0.0/0", "::/0", "0.0.0.0", "8.8.8.0/24", "2001:db8::/32"]) {
            expect([source, admitsInternet(source)]).toEqual([source, true]);
        }
        // A regional service tag ends in letters an address may hold ("...WestEurope"): it is still a tag.
        for (const source of ["AzureLoadBalancer", "10.0.0.0/8", "fd00::/8", "VirtualNetwork", "Storage.WestEurope"]) {
            expect([source, admitsInternet(source)]).toEqual([source, false]);
        }
    });

    test("pod identity runs with the add-on enabled on a cluster, or with the open-source chart by name or archive", () => {
        expect(["aad-pod-identity", "aad-pod-identity/aad-pod-identity", "https://x/charts/aad-pod-identity-4.1.18.tgz"].map(isAadPodIdentityChart)).toEqual([true, true, true]);
        expect(["aad-pod-identity-extra", "aad-pod-identity-4.1.tgz", undefined, "csi-secrets-store"].map(isAadPodIdentityChart)).toEqual([false, false, false, false]);
        expect(["https://x/aad-pod-identity-14.12.0.tgz", "https://x/my-aad-pod-identity-4.1.18.tgz", "https://x/aad-pod-identity-4.1.18.tgz.prov"].map(isAadPodIdentityChart)).toEqual([
            true,
            false,
            false,
        ]);
        const of = (type: string, props: Record<string, unknown>) => policyResource(type, "r", props);
        expect(runsPodIdentity([of(T.cluster, { podIdentityProfile: { enabled: true } })])).toBe(true);
        expect(runsPodIdentity([of(T.cluster, { podIdentityProfile: { enabled: false } })])).toBe(false);
        expect(runsPodIdentity([of(T.release, { chart: "aad-pod-identity" })])).toBe(true);
        expect(runsPodIdentity([of(T.release, { chart: "csi-secrets-store-provider-azure" }), of(T.vault, { podIdentityProfile: { enabled: true } })])).toBe(false);
    });
});

describe("helpers", () => {
    test("images are pinned by a tag other than latest or by a digest", () => {
        expect(isPinnedImage("node:22.14.0-alpine3.21")).toBe(true);
        expect(isPinnedImage(`node@sha256:${"0".repeat(64)}`)).toBe(true);
        expect(isPinnedImage("registry:5000/node")).toBe(false);
        expect(isPinnedImage("node:latest")).toBe(false);
        expect(isPinnedImage("node@sha256:short")).toBe(false);
    });

    test("an egress rule admits an address and port when its peers and ports both do", () => {
        expect(cidrHolds("127.0.0.0/8", "127.0.0.1")).toBe(true);
        expect(cidrHolds("127.0.0.1", "127.0.0.1")).toBe(true);
        expect(cidrHolds("10.0.0.0/8", "127.0.0.1")).toBe(false);
        expect(cidrHolds("0.0.0.0/0", "127.0.0.1")).toBe(true);
        expect(cidrHolds("fd00::/8", "127.0.0.1")).toBe(false);
        expect(cidrHolds("127.0.0.0/33", "127.0.0.1")).toBe(false);
        expect(egressRuleAdmits({}, "127.0.0.1", 2579)).toBe(true);
        expect(egressRuleAdmits({ ports: [{ port: 2500, endPort: 2600 }] }, "127.0.0.1", 2579)).toBe(true);
        expect(egressRuleAdmits({ ports: [{ port: 80 }] }, "127.0.0.1", 2579)).toBe(false);
        expect(egressRuleAdmits({ to: [{ podSelector: {} }] }, "127.0.0.1", 2579)).toBe(false);
    });

    test("an address is four decimal octets of at most 255, and a CIDR's prefix is 0 to 32", () => {
        // Each malformed address is refused on either side, where a looser reading would put it in 0.0.0.0/0.
        for (const bad of ["127.0.0", "127.0.0.1.5", "127.0.0.256", "127.0.0.x1", "127.0.0.1x", "127.0.0.1234", "-1.0.0.1", "+1.0.0.1", "1e2.0.0.1"]) {
            expect([bad, cidrHolds("0.0.0.0/0", bad)]).toEqual([bad, false]);
            expect([bad, cidrHolds(`${bad}/0`, "127.0.0.1")]).toEqual([bad, false]);
        }
        expect(cidrHolds("0.0.0.0/0", "255.255.255.255")).toBe(true);
        expect(cidrHolds("0.0.0.0/0", "0.0.0.0")).toBe(true);
        // Without a prefix a CIDR is one address, not every address.
        expect(cidrHolds("127.0.0.2", "127.0.0.1")).toBe(false);
        expect(cidrHolds("127.0.0.1/32", "127.0.0.1")).toBe(true);
        expect(cidrHolds("127.0.0.0/-1", "127.0.0.1")).toBe(false);
        expect(cidrHolds("127.0.0.1/33", "127.0.0.1")).toBe(false);
        expect(cidrHolds("127.0.0.0/8.5", "127.0.0.1")).toBe(false);
    });

    test("a rule admits the port when one of its ports does, the range's ends included, TCP only", () => {
        const admits = (ports: Json[]) => egressRuleAdmits({ ports }, "127.0.0.1", 2579);
        expect(admits([{ port: 80 }, { port: 2579 }])).toBe(true);
        expect(admits([{ port: 2579, endPort: 2600 }])).toBe(true);
        expect(admits([{ port: 2500, endPort: 2579 }])).toBe(true);
        expect(admits([{ port: 2580, endPort: 2600 }])).toBe(false);
        expect(admits([{ port: 2500, endPort: 2578 }])).toBe(false);
        expect(admits([{ port: 2500 }])).toBe(false);
        expect(admits([{ protocol: "UDP", port: 2579 }])).toBe(false);
        expect(admits([{ protocol: "TCP" }])).toBe(true);
        expect(admits([{ port: "2579" }])).toBe(false);
    });

    test("a rule admits the address when one of its peers holds it, less its exceptions", () => {
        const admits = (to: Json[]) => egressRuleAdmits({ to }, "127.0.0.1", 2579);
        expect(admits([{ ipBlock: { cidr: "10.0.0.0/8" } }, { ipBlock: { cidr: "127.0.0.0/8" } }])).toBe(true);
        expect(admits([{ ipBlock: { cidr: "127.0.0.0/8", except: ["127.0.0.1/32"] } }])).toBe(false);
        expect(admits([{ ipBlock: { cidr: "127.0.0.0/8", except: ["127.0.0.2/32"] } }])).toBe(true);
        expect(admits([{ ipBlock: {} }])).toBe(false);
        expect(egressRuleAdmits({ to: [{ ipBlock: { cidr: "127.0.0.0/8" } }], ports: [{ port: 80 }] }, "127.0.0.1", 2579)).toBe(false);
    });

    test("label selectors match labels and expressions", () => {
        const labels = { app: "demo", tier: "web" };
        expect(selectorMatches({}, labels)).toBe(true);
        expect(selectorMatches({ matchLabels: { app: "demo" }, matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }] }, labels)).toBe(true);
        expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] }, labels)).toBe(false);
        expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels)).toBe(true);
        expect(selectorMatches({ matchLabels: { app: "other" } }, labels)).toBe(false);
    });

    test("scopes and addresses are classified", () => {
        expect(scopeLevel("/")).toBe("root");
        expect(scopeLevel(SUB)).toBe("subscription");
        expect(scopeLevel(RG)).toBe("resourceGroup");
        expect(scopeLevel(VAULT_ID)).toBe("resource");
        expect(dataItemOf(`${VAULT_ID}/keys/k`)).toBe("keyVaultKey");
        expect(dataItemOf(VAULT_ID)).toBeUndefined();
        expect(isNonPublicCidr("10.76.2.0/26")).toBe(true);
        expect(isNonPublicCidr("10.0.0.0/7")).toBe(false);
        expect(isNonPublicCidr("169.254.169.254/32")).toBe(true);
        expect(admitsInternet("VirtualNetwork")).toBe(false);
        expect(admitsInternet("Internet")).toBe(true);
        expect(admitsInternet("52.1.2.3")).toBe(true);
    });
});

// One plan per identity mode, one of them with access policies: `npm run policy` checks the pack
// on every combination of modes, and fails on any mandatory violation.
const REAL_PLANS = PLAN_CONFIGURATIONS.filter((c) => ["podIdentityAddon/rbac", "podIdentityOss/accessPolicy", "workloadIdentity/rbac"].includes(c.label));

describe("the real plans", () => {
    // The advisories each mode keeps on purpose. k8s-network-policy-private-egress: the impostor
    // reaches the API server (and, with Workload ID, the workloads reach Entra ID), whose public
    // addresses a NetworkPolicy cannot name.
    const ADVISORIES: Record<string, string[]> = {
        "podIdentityAddon/rbac": ["aks-api-server-access-restricted", "aks-workload-identity-preferred", "k8s-network-policy-private-egress"],
        "podIdentityOss/accessPolicy": [
            "aks-api-server-access-restricted",
            "aks-workload-identity-preferred",
            "role-assignment-resource-scope",
            "k8s-namespace-enforces-restricted",
            "keyvault-rbac-authorization",
            "k8s-network-policy-private-egress",
        ],
        "workloadIdentity/rbac": ["aks-api-server-access-restricted", "k8s-network-policy-private-egress"],
    };

    test("covers each identity mode and each Key Vault authorization", () => {
        expect(new Set(REAL_PLANS.map((c) => c.label.split("/")[0]))).toEqual(new Set(IDENTITY_MODES));
        expect(new Set(REAL_PLANS.map((c) => c.label.split("/")[1]))).toEqual(new Set(KEY_VAULT_AUTHORIZATIONS));
    });

    // Each test evaluates its plan itself, so that what it checks is what it ran (mutation testing
    // credits a test only with the code that ran inside it).
    test.each(REAL_PLANS)("$label meets every mandatory policy, and its advisories are exactly its mode's deliberate exceptions", async ({ label, overrides }) => {
        const evaluation = await evaluatePlan(policies, await planFor(overrides), { label });
        expect(evaluation.violations.filter((v) => v.enforcementLevel === "mandatory").map(formatViolation)).toEqual([]);
        expect(evaluation.resourceValidations).toBeGreaterThan(100);
        expect(new Set(evaluation.violations.map((v) => v.policyName))).toEqual(new Set(ADVISORIES[label]));
    });

    // The Azure-behaviour rules hold on the real plans because the program is wired so; each breaks
    // when one of the wires it checks is cut.
    test.each<[string, string, (steps: PreviewStep[]) => PreviewStep[]]>([
        ["k8s-waits-for-effective-cluster-admin", "the Kubernetes provider stops waiting for the access review", (steps) => withoutDependency(steps, "aks-k8s", "aks-deployer-access")],
        ["keyvault-writes-ordered", "a key stops waiting for the secret before it", (steps) => withoutDependency(steps, "keyvault-alpha-key", "keyvault-alpha-secret")],
        ["addon-pod-identity-control-plane-operator", "the control plane's grant is left out", (steps) => steps.filter((s) => !s.urn.endsWith("::alpha-control-plane-operator"))],
        [
            "pod-identity-egress-reaches-nmi",
            "the demo's egress goes back to the metadata address",
            (steps) =>
                steps.map((s) =>
                    s.urn.endsWith("::alpha-workload-egress")
                        ? { ...s, newState: { ...s.newState, inputs: JSON.parse(JSON.stringify(s.newState.inputs).replace('"127.0.0.1/32"', '"169.254.169.254/32"')) } }
                        : s,
                ),
        ],
    ])("on the podIdentityAddon/rbac plan, %s fails when %s", async (policyName, _why, cut) => {
        const plan = await planFor(PLAN_CONFIGURATIONS[0].overrides);
        const policy = POLICIES.get(policyName);
        if (policy === undefined || !isStackPolicy(policy)) {
            throw new Error(`${policyName} is not a stack policy`);
        }
        expect((await validateStackSteps(policy, plan.steps)).violations).toEqual([]);
        expect((await validateStackSteps(policy, cut(plan.steps))).violations.length).toBeGreaterThan(0);
    });

    test("each Azure-behaviour rule names its source", () => {
        for (const policy of azureBehaviourPolicies) {
            expect([policy.name, /Source: \S/.test(policy.description ?? "")]).toEqual([policy.name, true]);
            expect(policy.enforcementLevel).toBe("mandatory");
        }
        expect(azureBehaviourPolicies.map((p) => p.name).every((name) => POLICIES.has(name))).toBe(true);
    });
});

describe("a workload that mirrors its secret into etcd", () => {
    const SYNCING = 'workloads=[{"name":"alpha","namespace":"alpha","syncSecret":true},{"name":"beta","namespace":"team-beta"}]';
    const COMBINATIONS = ["podIdentityAddon/rbac", "podIdentityOss/accessPolicy", "workloadIdentity/accessPolicy"];

    test.each(COMBINATIONS)("%s: the plan, with etcd encrypted by the stack's key, meets every mandatory policy", async (label) => {
        const configuration = PLAN_CONFIGURATIONS.find((c) => c.label === label);
        const plan = await planFor([...(configuration?.overrides ?? []), SYNCING, "etcdEncryption=true"]);
        const evaluation = await evaluatePlan(policies, plan, { label });
        expect(evaluation.violations.filter((v) => v.enforcementLevel === "mandatory").map(formatViolation)).toEqual([]);
    });

    test("aks-etcd-encrypted-when-secrets-sync fails when the cluster stops encrypting etcd, or runs its API server outside the VNet", async () => {
        const plan = await planFor([...PLAN_CONFIGURATIONS[0].overrides, SYNCING, "etcdEncryption=true"]);
        const policy = POLICIES.get("aks-etcd-encrypted-when-secrets-sync");
        if (policy === undefined || !isStackPolicy(policy)) {
            throw new Error("aks-etcd-encrypted-when-secrets-sync is not a stack policy");
        }
        const cut = (edit: (inputs: Record<string, unknown>) => void) =>
            plan.steps.map((s) => {
                if (!s.urn.endsWith("::aks-cluster")) {
                    return s;
                }
                const inputs = structuredClone(s.newState.inputs) as Record<string, unknown>;
                edit(inputs);
                return { ...s, newState: { ...s.newState, inputs } };
            });
        expect((await validateStackSteps(policy, plan.steps)).violations).toEqual([]);
        expect(
            (
                await validateStackSteps(
                    policy,
                    cut((i) => delete (i.securityProfile as Record<string, unknown>).azureKeyVaultKms),
                )
            ).violations.length,
        ).toBeGreaterThan(0);
        expect(
            (
                await validateStackSteps(
                    policy,
                    cut((i) => delete (i.apiServerAccessProfile as Record<string, unknown>).enableVnetIntegration),
                )
            ).violations.length,
        ).toBeGreaterThan(0);
    });
});

describe("a stack without the demo", () => {
    test.each(PLAN_CONFIGURATIONS.map((c) => c.label))("%s: meets every mandatory policy", async (label) => {
        const configuration = PLAN_CONFIGURATIONS.find((c) => c.label === label);
        const plan = await planFor([...(configuration?.overrides ?? []), "demo=false"]);
        const evaluation = await evaluatePlan(policies, plan, { label });
        expect(evaluation.violations.filter((v) => v.enforcementLevel === "mandatory").map(formatViolation)).toEqual([]);
    });
});

describe("npm run policy on a reviewer's own stack", () => {
    test("takes the plan's flags: every mode combination of the stack given, or the ones its config names", () => {
        expect(planRuns([]).map((r) => r.label)).toEqual([...PLAN_CONFIGURATIONS, ...NETWORK_PLAN_CONFIGURATIONS].map((c) => c.label));
        expect(planRuns([]).find((r) => r.label === "workloadIdentity/rbac/private/firewall")?.argv).toEqual([
            "--json",
            "--stack",
            "dev",
            "-c",
            "identityMode=workloadIdentity",
            "-c",
            "keyVaultAuthorization=rbac",
            "-c",
            "apiServerAccess=private",
            "-c",
            "egress=firewall",
        ]);
        // A network choice of the reviewer's own is checked as given, in every mode combination.
        const firewalled = planRuns(["-c", "egress=firewall"]);
        expect(firewalled.map((r) => r.label)).toEqual(PLAN_CONFIGURATIONS.map((c) => c.label));
        expect(firewalled.every((r) => r.argv.join(" ").includes("-c egress=firewall") && !r.argv.includes("apiServerAccess=private"))).toBe(true);
        expect(planRuns([])[0].argv).toEqual(["--json", "--stack", "dev", "-c", "identityMode=podIdentityAddon", "-c", "keyVaultAuthorization=rbac"]);
        const mine = planRuns(["--stack", "prod", "--config-file", "p.yaml", "-c", "identityMode=workloadIdentity", "-c", "nodeCount=3"]);
        expect(mine.map((r) => r.label)).toEqual(["workloadIdentity/rbac", "workloadIdentity/accessPolicy"]);
        expect(mine[1].argv).toEqual(["--json", "--stack", "prod", "--config-file", "p.yaml", "-c", "identityMode=workloadIdentity", "-c", "nodeCount=3", "-c", "keyVaultAuthorization=accessPolicy"]);
        expect(planRuns(["-c", "aks-identity-vault:keyVaultAuthorization=accessPolicy"]).map((r) => r.label)).toEqual(IDENTITY_MODES.map((m) => `${m}/accessPolicy`));
    });

    test("refuses what is not a plan's config", () => {
        expect(() => planRuns(["--json"])).toThrow("npm run policy takes --stack, --config-file and -c only");
        expect(() => planRuns(["--after-refresh"])).toThrow("npm run policy takes --stack, --config-file and -c only");
        expect(() => planRuns(["--yes"])).toThrow("unknown argument --yes");
    });
});

describe("every failing case's messages", () => {
    // What the reviewer reads, word for word, each on the resource it is reported on (by its name;
    // none for the stack): tests/__snapshots__/policy.test.ts.snap. A missing entry fails under --ci.
    test.each(CASES.filter((c) => c.verdict === "fail").map((c) => [`${c.policy}: ${c.why}`, c] as const))("%s", async (_title, testCase) => {
        const outcome = await outcomeOf(testCase);
        expect(outcome.violations.map((v) => (v.urn === undefined ? v.message : `${urnName(v.urn)}: ${v.message}`))).toMatchSnapshot();
    });
});

test("why each skipped case does not apply, as its policy says", async () => {
    const skipped = CASES.filter((c) => c.verdict === "skip");
    const reasons = await Promise.all(skipped.map(async (c) => [`${c.policy}: ${c.why}`, (await outcomeOf(c)).notApplicable ?? "none"] as const));
    expect(Object.fromEntries(reasons)).toMatchSnapshot();
});

describe("every stack policy without recorded dependencies", () => {
    // A stack policy finds what a resource refers to through the dependencies Pulumi recorded, and
    // when there are none (a value typed as a literal, an id from outside the program), through the
    // names and ARM ids in its inputs. Each case decides the same with its dependencies dropped, but
    // for these, where no literal can stand in for the dependency:
    const needsDependencies: Record<string, string> = {
        "addon-pod-identity-control-plane-operator: the control plane's grant, waited for": "a grant's principalId is the identity's principal id, an output only the dependency ties to it",
        "addon-pod-identity-control-plane-operator: an identity id not known yet, computed from one granted identity": "likewise",
        "addon-pod-identity-control-plane-operator: the grant's scope, the cluster's identity and its name matched by ids and names": "likewise",
        "addon-pod-identity-control-plane-operator: two grants for the identity, one waited for": "likewise",
        "addon-pod-identity-control-plane-operator: an entry names the granted one of two recorded identities": "likewise",
        "addon-pod-identity-control-plane-operator: an entry names an identity the write was not computed from: the recorded one is checked": "likewise",
        "addon-pod-identity-control-plane-operator: no identity recorded: the one the entry names by id is checked": "likewise",
        "egress-default-route-to-firewall: the next hop is the firewall's address, not known yet": "the address is not known yet: only the dependency names the firewall",
        "egress-only-through-firewall: a NAT gateway recorded on the cluster's subnet, its id not known yet": "the gateway's id is not known yet: only the dependency names it",
        "k8s-waits-for-effective-cluster-admin: the provider waits for the access review, which waits for the grant": "the wait is the dependency itself",
        "secret-provider-class-identity-matches-mode: Workload ID with a credential trusting the identity":
            "the class's clientID is the identity's client id, an output only the dependency ties to it",
        "secret-provider-class-identity-matches-mode: Workload ID on one of two clusters": "likewise",
        "aks-resource-logs: the full kube-audit besides": "the fixture's resourceUri is a placeholder that names no cluster",
        "private-endpoint-dns-zone-group: a zone id not known yet, its zone recorded as a dependency": "the zone's id is not known yet: only the dependency names the zone",
        "storage-flow-log-account-only: the flow log's storage id not known yet, its account recorded as a dependency": "the account's id is not known yet: only the dependency names it",
        "storage-flow-log-account-only: a container of the stack's in it, its account name not known yet": "the account's name is not known yet: only the dependency names it",
        "storage-flow-log-account-only: a role granted on it, its scope not known yet": "the account's id is not known yet: only the dependency names it",
        "storage-flow-log-account-only: before the first deployment: the account's name and id not known yet, a container recorded in it": "likewise",
        "storage-flow-log-account-only: before the first deployment: the account's name and id not known yet, nothing else in it": "likewise",
        "storage-blob-service-managed: the blob service's account name not known yet, its account recorded as a dependency": "the account's name is not known yet: only the dependency names it",
        "aks-resource-logs: the workspace's id not known yet, the workspace recorded as a dependency": "the workspace's id is not known yet: only the dependency names it",
        "aks-user-pool-autoscaled: the pool's cluster name not known yet, the cluster recorded as a dependency": "the cluster's name is not known yet: only the dependency names it",
        "aks-pod-security-enforced: the assignment's scope not known yet, the cluster recorded as a dependency": "the cluster's id is not known yet: only the dependency names it",
        "aks-etcd-encrypted-when-secrets-sync: a workload syncs; etcd is encrypted with the stack's key through the API server's subnet":
            "the cluster's keyId is the key's versioned URI, an output only the dependency ties to the key",
        "aks-etcd-encrypted-when-secrets-sync: a key that never expires, which one of two clusters encrypts etcd with":
            "the cluster's keyId is the key's versioned URI, an output only the dependency ties to the key",
    };
    const cases = CASES.filter((c) => Array.isArray(c.subject) && c.verdict !== "skip");
    test("the cases set aside are cases of the table", () => {
        expect(Object.keys(needsDependencies).filter((title) => !cases.some((c) => `${c.policy}: ${c.why}` === title))).toEqual([]);
    });
    test.each(cases.filter((c) => !(`${c.policy}: ${c.why}` in needsDependencies)).map((c) => [titleOf(c), c] as const))("%s", async (_title, testCase) => {
        expectVerdict(testCase, await outcomeOf({ ...testCase, subject: withoutDependencies(testCase.subject as Fixture[]) }));
    });
});
