// The hallway: read the config once, compose the components, export what an operator needs.
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { Identity } from "./components/identity";
import { Network } from "./components/network";
import { PrivateDns } from "./components/privateDns";
import { SecureKeyVault } from "./components/secureKeyVault";
import { SecureStorage } from "./components/secureStorage";
import { loadConfig } from "./config";

const config = loadConfig();
const client = authorization.getClientConfigOutput();
const protect = config.protectStatefulResources;

const resourceGroup = new resources.ResourceGroup(
    "stack",
    { resourceGroupName: `rg-${config.baseName}`, location: config.location, tags: config.tags },
    { protect },
);
const common = { resourceGroupName: resourceGroup.name, location: resourceGroup.location, baseName: config.baseName, tags: config.tags };

const net = new Network("network", {
    ...common,
    addressSpace: config.network.vnetAddressSpace,
    aksSubnetPrefix: config.network.aksSubnetPrefix,
    privateEndpointSubnetPrefix: config.network.privateEndpointSubnetPrefix,
});

const dns = new PrivateDns("dns", {
    resourceGroupName: resourceGroup.name,
    vnetId: net.vnetId,
    baseName: config.baseName,
    tags: config.tags,
});

const identities = config.workloads.map(
    (w) =>
        new Identity(w.name, {
            resourceGroupName: resourceGroup.name,
            location: resourceGroup.location,
            identityName: `id-${config.baseName}-${w.name}`,
            tags: { ...config.tags, workload: w.name },
        }),
);
const grantees = config.workloads.map((w, i) => ({ name: w.name, principalId: identities[i].principalId }));

const store = new SecureStorage("storage", {
    ...common,
    subscriptionId: client.subscriptionId,
    privateEndpointSubnetId: net.privateEndpointSubnetId,
    blobZoneId: dns.blobZoneId,
    workloads: grantees,
    protect,
});

const vault = new SecureKeyVault("keyvault", {
    ...common,
    tenantId: client.tenantId,
    subscriptionId: client.subscriptionId,
    authorization: config.keyVaultAuthorization,
    privateEndpointSubnetId: net.privateEndpointSubnetId,
    vaultZoneId: dns.vaultZoneId,
    workloads: grantees,
    protect,
});

export const resourceGroupName = resourceGroup.name;
export const location = config.location;
export const identityMode = config.identityMode;
export const keyVaultAuthorization = config.keyVaultAuthorization;
export const vnetName = net.vnetName;
export const keyVaultName = vault.vaultName;
export const keyVaultUri = vault.vaultUri;
export const storageAccountName = store.accountName;
export const blobEndpoint = store.blobEndpoint;
export const tenantId = client.tenantId;
/** Per workload: where it runs, who it is, and what it may touch. */
export const workloads = pulumi.output(
    Object.fromEntries(
        config.workloads.map((w, i) => [
            w.name,
            {
                namespace: w.namespace,
                bindingSelector: w.bindingSelector,
                identityName: identities[i].identityName,
                identityClientId: identities[i].clientId,
                identityResourceId: identities[i].resourceId,
                container: store.containers[w.name],
                secretName: vault.secretNames[w.name],
            },
        ]),
    ),
);
