import * as k8s from "@pulumi/kubernetes";
import { AksCluster, AksClusterArgs, clusterIgnoreChanges } from "../../components/aksCluster";
import { applyIgnoreChanges } from "../../tools/plan/secondRun";
import type { IdentityMode } from "../../config";
import { buildOne, memoized, DIAGNOSTICS, named, ofType, PLACEMENT, registrations, settled, urnOf } from "./build";

describe("AksCluster", () => {
    const SUBNET = "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet-aks";
    const ARGS: AksClusterArgs = {
        ...PLACEMENT,
        subscriptionId: "sub-unit",
        tenantId: "tenant-unit",
        subnetId: SUBNET,
        nodeCount: 2,
        nodeVmSize: "Standard_D4s_v5",
        userPool: { minCount: 2, maxCount: 5, vmSize: "Standard_D8ds_v5" },
        availabilityZones: ["1", "2", "3"],
        defender: true,
        tier: "Standard",
        kubernetesVersion: "",
        diagnostics: DIAGNOSTICS,
        fullKubeAudit: false,
        apiServerAuthorizedIpRanges: ["203.0.113.0/24"],
        apiServerAccess: "public",
        egress: "loadBalancer",
        serviceCidr: "10.0.0.0/16",
        dnsServiceIp: "10.0.0.10",
        identityMode: "podIdentityAddon",
        admin: { objectId: "deployer-object", principalType: "User" },
    };
    const CLUSTER = "azure-native:containerservice:ManagedCluster";
    const ROLE = "azure-native:authorization:RoleAssignment";
    const DELAY = "pulumi-nodejs:dynamic:RolePropagationDelay";
    const ACCESS = "pulumi-nodejs:dynamic:ClusterAccessWait";
    const ROLE_IDS = "/subscriptions/sub-unit/providers/Microsoft.Authorization/roleDefinitions/";
    const MODES: IdentityMode[] = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"];

    const built = memoized(async (args: AksClusterArgs) => {
        const { component: aks, plan } = await buildOne(() => new AksCluster("aks", args));
        return { aks, plan, cluster: named(plan, CLUSTER, "aks-cluster").newState };
    });

    test.each(MODES)("registers exactly the reviewed identities, grants, cluster and provider (%s)", async (identityMode) => {
        expect(registrations((await built({ ...ARGS, identityMode })).plan)).toMatchSnapshot();
    });

    test("the add-on and Workload ID follow the mode; the OIDC issuer and the CSI driver are always on", async () => {
        for (const identityMode of MODES) {
            const { cluster } = await built({ ...ARGS, identityMode });
            expect(cluster.inputs.podIdentityProfile).toEqual({ enabled: identityMode === "podIdentityAddon", allowNetworkPluginKubenet: false });
            expect(cluster.inputs.securityProfile).toMatchObject({ workloadIdentity: { enabled: identityMode === "workloadIdentity" } });
            expect(cluster.inputs.oidcIssuerProfile).toEqual({ enabled: true });
            expect(cluster.inputs.addonProfiles).toEqual({
                azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } },
                azurepolicy: { enabled: true },
            });
        }
    });

    test.each(MODES)("the Azure Policy add-on denies what the restricted pod security initiative refuses, on this cluster, outside AKS's and the mode's own namespaces (%s)", async (identityMode) => {
        const { plan } = await built({ ...ARGS, identityMode });
        const assignment = named(plan, "azure-native:authorization:PolicyAssignment", "aks-pod-security").newState;
        expect(assignment.inputs).toMatchObject({
            scope: expect.stringMatching(/\/managedClusters\/aks-aiv-unit$/),
            policyDefinitionId: "/providers/Microsoft.Authorization/policySetDefinitions/42b8ef37-b724-4e24-bbc8-7a7708edfe00",
            enforcementMode: "Default",
            parameters: { effect: { value: "Deny" } },
        });
        expect(assignment.propertyDependencies.scope).toEqual([urnOf(plan, CLUSTER, "aks-cluster")]);
        const excluded = (assignment.inputs.parameters as { excludedNamespaces: { value: string[] } }).excludedNamespaces.value;
        expect(excluded).toEqual(expect.arrayContaining(["kube-system", "gatekeeper-system", "azure-arc", "calico-system", "tigera-operator"]));
        expect(excluded.includes("aad-pod-identity")).toBe(identityMode === "podIdentityOss");
    });

    describe("etcd encrypted with the stack's key", () => {
        const VAULT = "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.KeyVault/vaults/kv-aiv-unit-abc123";
        const API_SUBNET = "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet-apiserver";
        const withKms = (authorization: "rbac" | "accessPolicy"): Promise<{ plan: Awaited<ReturnType<typeof built>>["plan"]; cluster: Awaited<ReturnType<typeof built>>["cluster"] }> =>
            buildOne(() => {
                const lastWrite = new k8s.core.v1.ConfigMap("last-vault-write", { metadata: { name: "w" } }, { provider: new k8s.Provider("k8s-unit", { kubeconfig: "unit" }) });
                return new AksCluster("aks", {
                    ...ARGS,
                    etcdEncryption: {
                        keyId: "https://kv-aiv-unit-abc123.vault.azure.net/keys/aks-etcd-encryption/0123456789abcdef0123456789abcdef",
                        keyResourceId: `${VAULT}/keys/aks-etcd-encryption`,
                        vaultId: VAULT,
                        vaultName: "kv-aiv-unit-abc123",
                        authorization,
                        afterVaultWrites: lastWrite,
                        apiServerSubnetId: API_SUBNET,
                    },
                });
            }).then(({ plan }) => ({ plan, cluster: named(plan, CLUSTER, "aks-cluster").newState }));

        test.each(["rbac", "accessPolicy"] as const)("registers exactly the reviewed grants, access policy and wait (%s)", async (authorization) => {
            expect(registrations((await withKms(authorization)).plan)).toMatchSnapshot();
        });

        test("KMS names the key's version and the private vault, and the API server joins its own subnet", async () => {
            const { cluster } = await withKms("rbac");
            expect(cluster.inputs.securityProfile).toMatchObject({
                azureKeyVaultKms: {
                    enabled: true,
                    keyId: "https://kv-aiv-unit-abc123.vault.azure.net/keys/aks-etcd-encryption/0123456789abcdef0123456789abcdef",
                    keyVaultNetworkAccess: "Private",
                    keyVaultResourceId: VAULT,
                },
            });
            expect(cluster.inputs.apiServerAccessProfile).toEqual({ authorizedIPRanges: ["203.0.113.0/24"], enableVnetIntegration: true, subnetId: API_SUBNET });
        });

        test("rbac: before the cluster, the control plane may join the subnet, link to the vault and use this key only, and the cluster waits for the grants to apply", async () => {
            const { plan } = await withKms("rbac");
            const scopes = Object.fromEntries(ofType(plan, ROLE).map((r) => [r.urn.split("::").pop(), [r.newState.inputs.scope, String(r.newState.inputs.roleDefinitionId).split("/").pop()]]));
            expect(scopes).toMatchObject({
                "aks-control-plane-api-server-subnet": [API_SUBNET, "4d97b98b-1d4f-4787-a291-c67834d212e7"],
                "aks-control-plane-vault-link": [VAULT, "f25e0fa2-a7c8-4377-a976-54943a77a395"],
                "aks-control-plane-etcd-key": [`${VAULT}/keys/aks-etcd-encryption`, "12338af0-0e69-4776-bea7-57ae8d297424"],
            });
            const delay = named(plan, DELAY, "aks-control-plane-propagation").newState;
            expect(delay.inputs.grants).toHaveLength(5);
            expect(named(plan, CLUSTER, "aks-cluster").newState.dependencies).toContain(urnOf(plan, DELAY, "aks-control-plane-propagation"));
            expect(plan.diagnostics.map((d) => d.message)).toContainEqual(expect.stringContaining("etcd is encrypted with the stack's key"));
        });

        test("accessPolicy: an access policy of encrypt and decrypt on keys, written after the vault's own writes", async () => {
            const { plan } = await withKms("accessPolicy");
            const policy = named(plan, "azure-native:keyvault:AccessPolicy", "aks-control-plane-etcd-key").newState;
            expect(policy.inputs).toMatchObject({ vaultName: "kv-aiv-unit-abc123", policy: { permissions: { keys: ["encrypt", "decrypt"] } } });
            expect(policy.dependencies).toContain(urnOf(plan, "kubernetes:core/v1:ConfigMap", "last-vault-write"));
            expect(ofType(plan, ROLE).map((r) => r.urn.split("::").pop())).not.toContain("aks-control-plane-etcd-key");
        });

        test("without it, none of this: no KMS, no VNet Integration, no warning", async () => {
            const { cluster, plan } = await built(ARGS);
            expect(cluster.inputs.securityProfile).not.toHaveProperty("azureKeyVaultKms");
            expect(cluster.inputs.apiServerAccessProfile).toEqual({ authorizedIPRanges: ["203.0.113.0/24"] });
            expect(plan.diagnostics.map((d) => d.message).filter((m) => m.includes("etcd"))).toEqual([]);
        });
    });

    describe("a private API server and the nodes' way out", () => {
        const API_SUBNET_ID = "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet-apiserver";
        const RUNNERS = "/subscriptions/sub-unit/resourceGroups/rg-runners/providers/Microsoft.Network/virtualNetworks/vnet-runners";

        test("private: VNet Integration in the API server's subnet, public access and the public name off, no ranges; the control plane may join the subnet", async () => {
            const { cluster, plan } = await built({ ...ARGS, apiServerAuthorizedIpRanges: [], apiServerAccess: "private", apiServerSubnetId: API_SUBNET_ID });
            expect(cluster.inputs.apiServerAccessProfile).toEqual({
                enableVnetIntegration: true,
                subnetId: API_SUBNET_ID,
                enablePrivateCluster: true,
                privateDNSZone: "system",
                enablePrivateClusterPublicFQDN: false,
            });
            const grant = named(plan, ROLE, "aks-control-plane-api-server-subnet").newState.inputs;
            expect([grant.scope, String(grant.roleDefinitionId).split("/").pop()]).toEqual([API_SUBNET_ID, "4d97b98b-1d4f-4787-a291-c67834d212e7"]);
            expect(plan.diagnostics.map((d) => d.message).filter((m) => m.includes("apiServerAuthorizedIpRanges is empty"))).toEqual([]);
        });

        test("private: registers exactly the reviewed grants, wait and cluster", async () => {
            const { plan } = await built({ ...ARGS, apiServerAuthorizedIpRanges: [], apiServerAccess: "private", apiServerSubnetId: API_SUBNET_ID });
            expect(registrations(plan)).toMatchSnapshot();
        });

        test("the runners' zone link is named for the stack and global; with a public API server there is none to link", async () => {
            const LINK = "azure-native:privatedns:VirtualNetworkLink";
            const withRunners = async (apiServerAccess: "public" | "private") =>
                (
                    await buildOne(
                        () =>
                            new AksCluster("aks", {
                                ...ARGS,
                                apiServerAuthorizedIpRanges: apiServerAccess === "public" ? ARGS.apiServerAuthorizedIpRanges : [],
                                apiServerAccess,
                                apiServerSubnetId: API_SUBNET_ID,
                                runners: { vnetId: RUNNERS, peerings: [] },
                            }),
                    )
                ).plan;
            const link = named(await withRunners("private"), LINK, "aks-runner-dns-link").newState;
            expect(link.inputs).toMatchObject({ virtualNetworkLinkName: "runners-aiv-unit", location: "global", tags: PLACEMENT.tags });
            expect(link.parent).toMatch(/::aks$/);
            expect(ofType(await withRunners("public"), LINK)).toEqual([]);
        });

        test("the runners' VNet: the API server's private zone is linked to it, and the first call to the API server waits for the link and the peerings", async () => {
            const { plan } = await buildOne(() => {
                const peering = new k8s.core.v1.ConfigMap("runner-peering", { metadata: { name: "p" } }, { provider: new k8s.Provider("k8s-unit", { kubeconfig: "unit" }) });
                return new AksCluster("aks", {
                    ...ARGS,
                    apiServerAuthorizedIpRanges: [],
                    apiServerAccess: "private",
                    apiServerSubnetId: API_SUBNET_ID,
                    runners: { vnetId: RUNNERS, peerings: [peering] },
                });
            });
            const link = named(plan, "azure-native:privatedns:VirtualNetworkLink", "aks-runner-dns-link").newState;
            expect(link.inputs).toMatchObject({ virtualNetwork: { id: RUNNERS }, registrationEnabled: false, resourceGroupName: "rg-unit-aks-nodes" });
            expect(String(link.inputs.privateZoneName)).toMatch(/^[0-9a-f-]{36}\.private\.uksouth\.azmk8s\.io$/);
            const wait = named(plan, ACCESS, "aks-deployer-access").newState;
            expect(wait.dependencies).toEqual(expect.arrayContaining([urnOf(plan, "azure-native:privatedns:VirtualNetworkLink", "aks-runner-dns-link")]));
            expect(wait.dependencies.some((d) => d.endsWith("::runner-peering"))).toBe(true);
        });

        test.each([
            ["loadBalancer", "loadBalancer"],
            ["natGateway", "userAssignedNATGateway"],
            ["firewall", "userDefinedRouting"],
        ] as const)("egress %s: outboundType %s, and the cluster is created after the egress path", async (egress, outboundType) => {
            const { plan } = await buildOne(() => {
                const path = new k8s.core.v1.ConfigMap(`egress-path-${egress}`, { metadata: { name: "p" } }, { provider: new k8s.Provider("k8s-unit", { kubeconfig: "unit" }) });
                return new AksCluster("aks", { ...ARGS, egress, egressPath: [path] });
            });
            const cluster = named(plan, CLUSTER, "aks-cluster").newState;
            expect(cluster.inputs.networkProfile).toMatchObject({ outboundType });
            expect(cluster.dependencies.some((d) => d.endsWith(`::egress-path-${egress}`))).toBe(true);
        });
    });

    test("the tier and the Kubernetes minor version come from config; a pinned minor takes its patches only, an empty version is the stable channel's", async () => {
        const { cluster } = await built(ARGS);
        expect(cluster.inputs.sku).toEqual({ name: "Base", tier: "Standard" });
        expect(cluster.inputs).not.toHaveProperty("kubernetesVersion");
        const pinned = await built({ ...ARGS, tier: "Free", kubernetesVersion: "1.33" });
        expect(pinned.cluster.inputs.sku).toEqual({ name: "Base", tier: "Free" });
        expect(pinned.cluster.inputs.kubernetesVersion).toBe("1.33");
        expect(pinned.cluster.inputs.autoUpgradeProfile).toMatchObject({ upgradeChannel: "patch" });
        expect((await built(ARGS)).cluster.inputs.autoUpgradeProfile).toMatchObject({ upgradeChannel: "stable" });
    });

    test("the system pool runs only critical add-ons, across the zones; the user pool, the cluster's second, is autoscaled there too", async () => {
        const { plan, cluster } = await built(ARGS);
        expect(cluster.inputs.agentPoolProfiles).toEqual([
            expect.objectContaining({ name: "system", mode: "System", nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"], availabilityZones: ["1", "2", "3"] }),
            {
                name: "user",
                mode: "User",
                type: "VirtualMachineScaleSets",
                osType: "Linux",
                vmSize: "Standard_D8ds_v5",
                vnetSubnetID: SUBNET,
                maxPods: 30,
                enableAutoScaling: true,
                minCount: 2,
                maxCount: 5,
                count: 2,
                availabilityZones: ["1", "2", "3"],
                upgradeSettings: { maxSurge: "1" },
                enableNodePublicIP: false,
                tags: { stack: "unit" },
            },
        ]);
        // No pool of its own: a refresh would read it into the cluster's pools (docs/azure-behaviour.md row 74).
        expect(plan.steps.filter((s) => s.newState.type === "azure-native:containerservice:AgentPool")).toEqual([]);
    });

    test("what later updates leave as they are: pod identities, zones, the user pool's count, the versions the channels own", async () => {
        const { cluster } = await built(ARGS);
        // The engine resets each ignored path in what the program sends, and fails a path only one side
        // has: every path exists on the cluster's inputs as sent and as a refresh stores them.
        const refreshedInputs = structuredClone(cluster.inputs) as Record<string, unknown>;
        (refreshedInputs.agentPoolProfiles as Array<Record<string, unknown>>)[1].count = 5;
        const sent = applyIgnoreChanges(cluster.inputs, refreshedInputs, cluster.ignoreChanges);
        expect((sent.agentPoolProfiles as Array<Record<string, unknown>>)[1].count).toBe(5);
        expect(sent.podIdentityProfile).toEqual(cluster.inputs.podIdentityProfile);
        // The stable channel owns the version only when no minor is pinned; a pinned minor is the program's.
        expect(clusterIgnoreChanges("")).toContain("kubernetesVersion");
        expect(clusterIgnoreChanges("1.35")).not.toContain("kubernetesVersion");
    });

    test("in a region without zones, neither pool names any", async () => {
        const { cluster } = await built({ ...ARGS, availabilityZones: [] });
        expect(cluster.inputs.agentPoolProfiles).toEqual([
            expect.not.objectContaining({ availabilityZones: expect.anything() }),
            expect.not.objectContaining({ availabilityZones: expect.anything() }),
        ]);
    });

    test("Defender for Containers reports to the stack's workspace; off, it says so in a warning", async () => {
        const on = await built(ARGS);
        expect(on.cluster.inputs.securityProfile).toMatchObject({ defender: { logAnalyticsWorkspaceResourceId: DIAGNOSTICS.workspaceId, securityMonitoring: { enabled: true } } });
        expect(on.plan.diagnostics.map((d) => d.message)).not.toContainEqual(expect.stringMatching(/defender/));
        const off = await built({ ...ARGS, defender: false });
        expect(off.cluster.inputs.securityProfile).toMatchObject({ defender: { securityMonitoring: { enabled: false } } });
        expect(off.cluster.inputs.securityProfile).not.toHaveProperty("defender.logAnalyticsWorkspaceResourceId");
        expect(off.plan.diagnostics.map((d) => d.message)).toContainEqual(expect.stringMatching(/^defender is false: Microsoft Defender for Containers does not watch the cluster/));
    });

    test.each([
        [false, ["kube-audit-admin", "guard", "kube-controller-manager", "cluster-autoscaler"]],
        [true, ["kube-audit-admin", "guard", "kube-controller-manager", "cluster-autoscaler", "kube-audit"]],
    ])("the control plane's logs go to the workspace in their own tables (full kube-audit %s)", async (fullKubeAudit, categories) => {
        const { plan } = await built({ ...ARGS, fullKubeAudit });
        const setting = named(plan, "azure-native:monitor:DiagnosticSetting", "aks-cluster-diagnostics").newState;
        expect(setting.inputs).toEqual({
            name: "send-to-log-analytics",
            resourceUri: expect.stringMatching(/\/managedClusters\/aks-aiv-unit$/),
            workspaceId: DIAGNOSTICS.workspaceId,
            logAnalyticsDestinationType: "Dedicated",
            logs: categories.map((category) => ({ category, enabled: true })),
            metrics: [{ category: "AllMetrics", enabled: true }],
        });
        expect(setting.deleteBeforeReplace).toBe(true);
    });

    test("Azure CNI with Calico, Entra ID with Azure RBAC, no local accounts, no node public IPs", async () => {
        const { cluster } = await built(ARGS);
        expect(cluster.inputs).toMatchObject({
            resourceName: "aks-aiv-unit",
            enableRBAC: true,
            disableLocalAccounts: true,
            aadProfile: { managed: true, enableAzureRBAC: true, tenantID: "tenant-unit" },
            networkProfile: { networkPlugin: "azure", networkPolicy: "calico", serviceCidr: "10.0.0.0/16", dnsServiceIP: "10.0.0.10" },
            apiServerAccessProfile: { authorizedIPRanges: ["203.0.113.0/24"] },
        });
        expect(cluster.inputs.agentPoolProfiles).toEqual([
            expect.objectContaining({ count: 2, vmSize: "Standard_D4s_v5", vnetSubnetID: SUBNET, maxPods: 30, enableNodePublicIP: false, mode: "System" }),
            expect.objectContaining({ vnetSubnetID: SUBNET, maxPods: 30, enableNodePublicIP: false, mode: "User" }),
        ]);
        expect(cluster.protect).toBe(true);
        expect(cluster.ignoreChanges).toEqual(clusterIgnoreChanges(""));
    });

    test("the cluster waits for the control plane's grants, which are scoped to the kubelet identity and the subnet", async () => {
        const { plan, cluster } = await built(ARGS);
        const operator = named(plan, ROLE, "aks-control-plane-kubelet-operator");
        const subnet = named(plan, ROLE, "aks-control-plane-subnet");
        expect(operator.newState.inputs).toMatchObject({ roleDefinitionId: `${ROLE_IDS}f1a07417-d97a-45cb-824c-7a7467783830`, scope: expect.stringMatching(/id-aiv-unit-aks-kubelet$/) });
        expect(subnet.newState.inputs).toMatchObject({ roleDefinitionId: `${ROLE_IDS}4d97b98b-1d4f-4787-a291-c67834d212e7`, scope: SUBNET });
        // Azure applies grants after writing them, and AKS uses these two while it creates the cluster.
        const propagation = named(plan, DELAY, "aks-control-plane-propagation").newState;
        expect(propagation.dependencies).toEqual(expect.arrayContaining([operator.urn, subnet.urn]));
        expect(propagation.inputs).toMatchObject({ seconds: 30, grants: [expect.stringContaining("/roleAssignments/"), expect.stringContaining("/roleAssignments/")] });
        expect(propagation.inputs.reason).toMatch(/Azure\/azure-cli#22510/);
        expect(cluster.dependencies).toContain(named(plan, DELAY, "aks-control-plane-propagation").urn);
        expect(cluster.dependencies).not.toContain(operator.urn);
        const identities = ofType(plan, "azure-native:managedidentity:UserAssignedIdentity");
        expect(identities.map((s) => [s.newState.inputs.resourceName, s.newState.protect])).toEqual([
            ["id-aiv-unit-aks", true],
            ["id-aiv-unit-aks-kubelet", true],
        ]);
    });

    test("the deployer gets AKS RBAC Cluster Admin on this cluster only, with its principal type", async () => {
        const { plan } = await built({ ...ARGS, admin: { objectId: "pipeline-object", principalType: "ServicePrincipal" } });
        expect(named(plan, ROLE, "aks-deployer-admin").newState.inputs).toMatchObject({
            principalId: "pipeline-object",
            principalType: "ServicePrincipal",
            roleDefinitionId: `${ROLE_IDS}b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b`,
            scope: expect.stringMatching(/\/managedClusters\/aks-aiv-unit$/),
        });
    });

    test("without authorized ranges the API server profile is omitted and a warning says so", async () => {
        const { cluster, plan } = await built({ ...ARGS, apiServerAuthorizedIpRanges: [] });
        expect(cluster.inputs.apiServerAccessProfile).toBeUndefined();
        expect(plan.diagnostics.map((d) => d.message).join("\n")).toContain("apiServerAuthorizedIpRanges is empty");
    });

    test("each pod-identity mode warns of its deprecation; Workload ID does not", async () => {
        const warnings = async (identityMode: IdentityMode) =>
            (await built({ ...ARGS, identityMode })).plan.diagnostics
                .filter((d) => d.severity === "warning")
                .map((d) => d.message)
                .join("\n");
        expect(await warnings("podIdentityAddon")).toContain("identityMode podIdentityAddon uses the AKS pod-identity add-on");
        expect(await warnings("podIdentityOss")).toContain("identityMode podIdentityOss installs the open-source aad-pod-identity");
        expect(await warnings("workloadIdentity")).toBe("");
    });

    test("protect: false leaves the cluster and its identities unprotected", async () => {
        const { plan, cluster } = await built({ ...ARGS, protect: false });
        expect(cluster.protect).toBe(false);
        expect(ofType(plan, "azure-native:managedidentity:UserAssignedIdentity").map((s) => s.newState.protect)).toEqual([false, false]);
    });

    test("the Kubernetes provider logs in through the Azure CLI with server-side apply, and its kubeconfig is secret", async () => {
        const { plan, aks } = await built(ARGS);
        const provider = named(plan, "pulumi:providers:kubernetes", "aks-k8s");
        expect(provider.newState.inputs).toMatchObject({ kubeconfig: "[secret]", enableServerSideApply: "true" });
        expect(aks.provider).toBeInstanceOf(k8s.Provider);
    });

    // Azure RBAC for Kubernetes honours a new role assignment minutes after it is written; until then the
    // first Kubernetes call (a Namespace) gets 403. The provider, and so every Kubernetes object, waits
    // until an access review made as the deployer allows it.
    test("the Kubernetes provider waits until the API server lets the deployer create namespaces, asked with its own kubeconfig", async () => {
        const { plan } = await built(ARGS);
        const admin = named(plan, ROLE, "aks-deployer-admin");
        const access = named(plan, ACCESS, "aks-deployer-access").newState;
        expect(access.inputs).toMatchObject({
            kubeconfig: "[secret]",
            checks: [{ verb: "create", group: "", resource: "namespaces" }],
            grants: [expect.stringMatching(/\/managedClusters\/aks-aiv-unit\/providers\/Microsoft\.Authorization\/roleAssignments\//)],
            budgetSeconds: 900,
        });
        expect(access.propertyDependencies.grants).toEqual([admin.urn]);
        expect(access.propertyDependencies.kubeconfig).toEqual([urnOf(plan, CLUSTER, "aks-cluster")]);
        // The workloads' pods need the user pool's nodes, which AKS creates with the cluster.
        expect(named(plan, "pulumi:providers:kubernetes", "aks-k8s").newState.dependencies).toEqual([urnOf(plan, ACCESS, "aks-deployer-access"), urnOf(plan, CLUSTER, "aks-cluster")].sort());
    });

    test("the waits' lengths, budget and checks can be set", async () => {
        const { plan } = await built({ ...ARGS, rolePropagationSeconds: 120, deployerAccessBudgetSeconds: 60, deployerAccessChecks: [{ verb: "*", group: "*", resource: "*" }] });
        expect(named(plan, DELAY, "aks-control-plane-propagation").newState.inputs).toMatchObject({ seconds: 120 });
        expect(named(plan, ACCESS, "aks-deployer-access").newState.inputs).toMatchObject({ budgetSeconds: 60, checks: [{ verb: "*", group: "*", resource: "*" }] });
    });

    test("a VM size below Microsoft's 4 vCPUs for system pools is warned about", async () => {
        const warnings = async (nodeVmSize: string) => (await built({ ...ARGS, nodeVmSize })).plan.diagnostics.map((d) => d.message).join("\n");
        expect(await warnings("Standard_D2s_v5")).toContain("nodeVmSize Standard_D2s_v5 has 2 vCPUs; Microsoft asks for at least 4 in a system node pool");
        expect(await warnings("Standard_D4ds_v5")).not.toContain("vCPUs");
    });

    test("exposes the cluster's name, kubelet identity, node resource group, issuer and revision", async () => {
        const { aks, plan } = await built({ ...ARGS, secretRotationPollInterval: "5m" });
        expect(await settled(aks.clusterName)).toBe("aks-aiv-unit");
        expect(await settled(aks.clusterId)).toMatch(/\/managedClusters\/aks-aiv-unit$/);
        expect(await settled(aks.kubeletIdentity.resourceId)).toMatch(/id-aiv-unit-aks-kubelet$/);
        expect(await settled(aks.kubeletIdentity.clientId)).toMatch(/^[0-9a-f-]{36}$/);
        expect(await settled(aks.kubeletIdentity.objectId)).toMatch(/^[0-9a-f-]{36}$/);
        expect(await settled(aks.nodeResourceGroup)).toBe("rg-unit-aks-nodes");
        expect(await settled(aks.oidcIssuerUrl)).toMatch(/^https:\/\//);
        // The digest of every input the cluster resource is given, and of the provider that sends them:
        // tags and the Defender workspace count, as settings from config do.
        const revision = await settled(aks.revision);
        expect(revision).toMatch(/^[0-9a-f]{16}$/);
        expect(named(plan, CLUSTER, "aks-cluster").newState.inputs.tags).toEqual(PLACEMENT.tags);
        const other = async (change: Partial<AksClusterArgs>) => settled((await built({ ...ARGS, secretRotationPollInterval: "5m", ...change })).aks.revision);
        expect(await other({})).toBe(revision);
        expect(await other({ tags: { ...PLACEMENT.tags, team: "platform" } })).not.toBe(revision);
        expect(await other({ diagnostics: { ...DIAGNOSTICS, workspaceId: `${DIAGNOSTICS.workspaceId}-2` } })).not.toBe(revision);
        expect(await other({ subnetId: `${SUBNET}-2` })).not.toBe(revision);
    });

    test("with a minor pinned, later updates leave alone exactly what they do on the stable channel, but the version", async () => {
        expect(clusterIgnoreChanges("1.35")).toEqual(clusterIgnoreChanges("").filter((path) => path !== "kubernetesVersion"));
    });

    test("exposes the public API server's name, which the firewall's rule for it names", async () => {
        const { aks } = await built(ARGS);
        expect(await settled(aks.apiServerFqdn)).toMatch(/^aiv-unit-[a-z0-9]{8}\.hcp\.uksouth\.azmk8s\.io$/);
    });

    test("a pool size Azure retires later is warned about in the plan", async () => {
        const { plan } = await built({ ...ARGS, nodeVmSize: "Standard_DS3_v2" });
        expect(plan.diagnostics.map((d) => d.message)).toContainEqual(expect.stringMatching(/^nodeVmSize Standard_DS3_v2 is of the Dsv2 series, which Azure retires on /));
    });
});
