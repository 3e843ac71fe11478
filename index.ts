// The hallway: read the config once, compose the components, export what an operator needs.
import * as fs from "fs";
import * as path from "path";
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { AksCluster } from "./components/aksCluster";
import { DemoWorkloads } from "./components/demoWorkloads";
import { EGRESS_PROBE, EgressFirewall } from "./components/egressFirewall";
import { FlowLogs } from "./components/flowLogs";
import { Identity } from "./components/identity";
import { ImpostorProof } from "./components/impostorProof";
import { LogAnalytics } from "./components/logAnalytics";
import { Network } from "./components/network";
import { identityModeDriver } from "./components/modes";
import { PodIdentityBinding, SYNCED_SECRET_KEY } from "./components/podIdentityBinding";
import { PrivateDns } from "./components/privateDns";
import { SecureKeyVault } from "./components/secureKeyVault";
import { SecureStorage } from "./components/secureStorage";
import { loadConfig } from "./config";

const config = loadConfig();
const client = authorization.getClientConfigOutput();
const protect = config.protectStatefulResources;

const resourceGroup = new resources.ResourceGroup("stack", { resourceGroupName: `rg-${config.baseName}`, location: config.location, tags: config.tags }, { protect });
const common = { resourceGroupName: resourceGroup.name, location: resourceGroup.location, baseName: config.baseName, tags: config.tags };

// Where every audit log, metric and Defender finding of the stack goes.
const logs = new LogAnalytics("logs", { ...common, retentionDays: config.logging.retentionDays, protect });

// A workload that mirrors its secret into a Kubernetes Secret puts it in etcd, which config then
// requires to be encrypted with a key of the stack's in the private vault (AKS KMS); the API server
// reaches that vault from a subnet of its own.
const etcdEncryption = config.etcdEncryption;

const net = new Network("network", {
    ...common,
    addressSpace: config.network.vnetAddressSpace,
    aksSubnetPrefix: config.network.aksSubnetPrefix,
    privateEndpointSubnetPrefix: config.network.privateEndpointSubnetPrefix,
    // The API server joins the VNet when it is private or reaches the private vault for etcd's key.
    apiServerSubnetPrefix: etcdEncryption || config.cluster.apiServerAccess === "private" ? config.network.apiServerSubnetPrefix : undefined,
    egress: config.cluster.egress,
    firewallSubnetPrefix: config.network.firewallSubnetPrefix,
    runnerVnetId: config.network.runnerVnetId === "" ? undefined : config.network.runnerVnetId,
    protect,
});

// With egress `firewall`, the nodes' only way out: the firewall, its rules and the AKS subnet's
// default route to it, all in place before the cluster is created.
const modeDriver = identityModeDriver(config.identityMode);
const firewall =
    config.cluster.egress === "firewall" && net.firewallSubnetId !== undefined && net.aksRouteTable !== undefined
        ? new EgressFirewall("egress", {
              ...common,
              firewallSubnetId: net.firewallSubnetId,
              aksSubnetPrefix: config.network.aksSubnetPrefix,
              routeTable: net.aksRouteTable,
              availabilityZones: config.cluster.availabilityZones,
              diagnostics: logs.diagnostics,
              needs: {
                  location: config.location,
                  apiServerAccess: config.cluster.apiServerAccess,
                  podsCallEntra: modeDriver.egress.podsCallEntra,
                  podsCallApiServer: modeDriver.egress.podsCallApiServer,
                  defender: config.cluster.defender,
                  verifierImage: config.demo.enabled ? config.demo.verifierImage : undefined,
              },
          })
        : undefined;

// Every flow in and out of the VNet, kept in an account of its own and analysed into the workspace.
new FlowLogs("flow-logs", {
    ...common,
    vnetId: net.vnetId,
    after: [net],
    networkWatcher: config.network.networkWatcher,
    retentionDays: config.network.flowLogRetentionDays,
    workspaceId: logs.workspaceId,
    protect,
});

const dns = new PrivateDns("dns", {
    resourceGroupName: resourceGroup.name,
    vnetId: net.vnetId,
    baseName: config.baseName,
    tags: config.tags,
    protect,
});

const identities = config.workloads.map(
    (w) =>
        new Identity(w.name, {
            resourceGroupName: resourceGroup.name,
            location: resourceGroup.location,
            identityName: `id-${config.baseName}-${w.name}`,
            type: w.identityType,
            tags: { ...config.tags, workload: w.name },
            protect,
        }),
);
const grantees = config.workloads.map((w, i) => ({ name: w.name, principalId: identities[i].principalId }));

const store = new SecureStorage("storage", {
    ...common,
    subscriptionId: client.subscriptionId,
    privateEndpointSubnetId: net.privateEndpointSubnetId,
    blobZoneId: dns.blobZoneId,
    workloads: grantees,
    diagnostics: logs.diagnostics,
    canary: config.demo.enabled,
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
    diagnostics: logs.diagnostics,
    secretLifetimeDays: config.lifecycle.secretLifetimeDays,
    keyLifetimeDays: config.lifecycle.keyLifetimeDays,
    etcdEncryptionKey: etcdEncryption,
    demo: config.demo.enabled,
    protect,
});

const aks = new AksCluster("aks", {
    ...common,
    subscriptionId: client.subscriptionId,
    tenantId: client.tenantId,
    subnetId: net.aksSubnetId,
    nodeCount: config.cluster.nodeCount,
    nodeVmSize: config.cluster.nodeVmSize,
    userPool: config.cluster.userPool,
    availabilityZones: config.cluster.availabilityZones,
    defender: config.cluster.defender,
    tier: config.cluster.tier,
    kubernetesVersion: config.cluster.kubernetesVersion,
    diagnostics: logs.diagnostics,
    fullKubeAudit: config.logging.fullKubeAudit,
    apiServerAuthorizedIpRanges: config.cluster.apiServerAuthorizedIpRanges,
    apiServerAccess: config.cluster.apiServerAccess,
    apiServerSubnetId: net.apiServerSubnetId,
    egress: config.cluster.egress,
    egressPath: [...net.egressPath, ...(firewall?.path ?? [])],
    runners: config.network.runnerVnetId === "" ? undefined : { vnetId: config.network.runnerVnetId, peerings: net.runnerPeerings },
    serviceCidr: config.cluster.serviceCidr,
    dnsServiceIp: config.cluster.dnsServiceIp,
    identityMode: config.identityMode,
    admin: { objectId: config.cluster.deployerObjectId === "" ? client.objectId : config.cluster.deployerObjectId, principalType: config.cluster.deployerPrincipalType },
    etcdEncryption:
        vault.etcdKey !== undefined && net.apiServerSubnetId !== undefined
            ? {
                  keyId: vault.etcdKey.versionedId,
                  keyResourceId: vault.etcdKey.id,
                  vaultId: vault.vaultId,
                  vaultName: vault.vaultName,
                  authorization: config.keyVaultAuthorization,
                  afterVaultWrites: vault.lastWrite,
                  apiServerSubnetId: net.apiServerSubnetId,
              }
            : undefined,
    protect,
});

// With the firewall the only way out, each bound verification Job proves that a public address no rule
// admits does not answer.
const egressProbe = firewall !== undefined && config.demo.enabled ? EGRESS_PROBE : undefined;

// Pods outside kube-system that reach a public API server by its address pass the firewall by a rule
// that names the cluster, so it is written once the cluster exists.
const apiServerRules =
    firewall !== undefined && config.cluster.apiServerAccess === "public" && modeDriver.egress.podsCallApiServer ? [firewall.admitApiServer("egress", aks.apiServerFqdn, [aks])] : [];

// The identity mode's own resources: cluster-wide ones now, each workload's in its binding, and what
// the mode writes once every workload is bound.
const mode = modeDriver.deploy({
    subscriptionId: client.subscriptionId,
    tenantId: client.tenantId,
    resourceGroupName: resourceGroup.name,
    cluster: {
        component: aks,
        clusterName: aks.clusterName,
        revision: aks.revision,
        writes: aks.writes,
        nodeResourceGroup: aks.nodeResourceGroup,
        controlPlaneObjectId: aks.controlPlaneObjectId,
        kubeletObjectId: aks.kubeletIdentity.objectId,
        oidcIssuerUrl: aks.oidcIssuerUrl,
        provider: aks.provider,
        egressReady: apiServerRules,
    },
});
const bindings = config.workloads.map(
    (w, i) =>
        new PodIdentityBinding(w.name, {
            workload: w,
            identity: identities[i],
            mode,
            vault: config.demo.enabled ? { vaultName: vault.vaultName, tenantId: client.tenantId, secretName: vault.secretNames[w.name], keyName: vault.keyNames[w.name] } : undefined,
            privateEndpointSubnetPrefix: config.network.privateEndpointSubnetPrefix,
            egressProbe,
            provider: aks.provider,
        }),
);
const modeReady = mode.complete();

// The verification script and its modules, shipped to the Jobs in a ConfigMap.
const verifierDir = path.join(__dirname, "verifier");
const verifierFiles = Object.fromEntries(
    fs
        .readdirSync(verifierDir)
        .filter((f) => f.endsWith(".js"))
        .sort()
        .map((f) => [f, fs.readFileSync(path.join(verifierDir, f), "utf8")]),
);
// The demo, unless config turns it off: each workload's Jobs prove the wiring, and another tenant of
// the cluster tries to take each identity. Both are refused the canary.
const demo = (() => {
    const canarySecretName = vault.canarySecretName;
    const canaryContainer = store.canaryContainer;
    if (!config.demo.enabled || canarySecretName === undefined || canaryContainer === undefined) {
        return undefined;
    }
    const canary = { secretName: canarySecretName, container: canaryContainer };
    const demos = config.workloads.map((w, i) => {
        const identity = identities[i];
        const binding = bindings[i];
        const secretProviderClassName = binding.secretProviderClassName;
        if (secretProviderClassName === undefined) {
            throw new Error(`workload ${w.name} has no SecretProviderClass, which the demo mounts`);
        }
        return new DemoWorkloads(w.name, {
            workload: w,
            pods: mode.pods,
            namespace: binding.namespace,
            serviceAccountName: binding.serviceAccountName,
            secretProviderClassName,
            identityClientId: identity.clientId,
            keyVaultUri: vault.vaultUri,
            secretName: vault.secretNames[w.name],
            blobEndpoint: store.blobEndpoint,
            container: store.containers[w.name],
            image: config.demo.verifierImage,
            verifierFiles,
            verificationRun: config.demo.verificationRun,
            privateEndpointSubnetPrefix: config.network.privateEndpointSubnetPrefix,
            egressProbe,
            nodeSelector: aks.workloadNodeSelector,
            canary,
            keyVaultAuthorization: config.keyVaultAuthorization,
            syncedSecret: { name: vault.secretNames[w.name], key: SYNCED_SECRET_KEY },
            dependsOn: [...binding.ready, ...modeReady, ...vault.grants[w.name], ...store.grants[w.name], ...vault.endpoint, ...store.endpoint, ...dns.links],
            provider: aks.provider,
        });
    });

    // Another tenant of the cluster tries, from a namespace of its own, to take each workload's identity.
    const impostor = new ImpostorProof("impostor", {
        targets: config.workloads.map((w, i) => ({
            workload: w,
            identityClientId: identities[i].clientId,
            identityResourceId: identities[i].resourceId,
            dependsOn: [...bindings[i].ready, ...modeReady],
        })),
        pods: mode.pods,
        tenantId: client.tenantId,
        image: config.demo.verifierImage,
        verifierFiles,
        verificationRun: config.demo.verificationRun,
        nodeSelector: aks.workloadNodeSelector,
        provider: aks.provider,
    });
    return { demos, impostor, canary };
})();

export const resourceGroupName = resourceGroup.name;
export const logAnalyticsWorkspaceId = logs.workspaceId;
export const clusterName = aks.clusterName;
export const oidcIssuerUrl = aks.oidcIssuerUrl;
/** Run once to fetch a kubeconfig that logs in through Entra ID (needs kubelogin). */
export const getCredentialsCommand = pulumi.interpolate`az aks get-credentials --resource-group ${resourceGroup.name} --name ${aks.clusterName} --overwrite-existing && kubelogin convert-kubeconfig -l azurecli`;
export const location = config.location;
export const identityMode = config.identityMode;
export const keyVaultAuthorization = config.keyVaultAuthorization;
export const vnetName = net.vnetName;
export const keyVaultName = vault.vaultName;
export const keyVaultUri = vault.vaultUri;
export const storageAccountName = store.accountName;
/** The canary secret and container: granted to nobody; every bound Job must be refused them. */
export const canary = demo?.canary ?? null;
export const blobEndpoint = store.blobEndpoint;
/** Where the impostor verification Jobs play another tenant of the cluster. */
export const impostorNamespace = demo?.impostor.namespace ?? null;
export const tenantId = client.tenantId;
/** Per workload: where it runs, who it is, and what it may touch. */
export const workloads = pulumi.output(
    Object.fromEntries(
        config.workloads.map((w, i) => [
            w.name,
            {
                namespace: w.namespace,
                bindingSelector: w.bindingSelector,
                serviceAccount: w.serviceAccount,
                identityType: w.identityType,
                identityName: identities[i].identityName,
                identityClientId: identities[i].clientId,
                identityResourceId: identities[i].resourceId,
                container: store.containers[w.name],
                ...(demo === undefined
                    ? {}
                    : {
                          secretName: vault.secretNames[w.name],
                          keyName: vault.keyNames[w.name],
                          /** The verification Jobs, whose logs end with their verdicts (`npm run e2e` reads them). */
                          verifierJobs: [demo.demos[i].boundJobName, demo.demos[i].unboundJobName],
                          /** The Job that plays another tenant, in the impostor's namespace. */
                          impostorJob: demo.impostor.jobNames[w.name],
                          verdicts: pulumi.interpolate`kubectl logs -n ${w.namespace} job/${demo.demos[i].boundJobName}; kubectl logs -n ${w.namespace} job/${demo.demos[i].unboundJobName}; kubectl logs -n ${demo.impostor.namespace} job/${demo.impostor.jobNames[w.name]}`,
                      }),
            },
        ]),
    ),
);
