// The program as `pulumi preview` would register it on the dev stack, run under the shared mocks.
// Each security setting is asserted here, so removing one fails a test.
import * as fs from "fs";
import * as path from "path";
import type { Plan, Step } from "../tools/plan/types";
import { MOCK_SUBSCRIPTION_ID, MOCK_TENANT_ID } from "../tools/plan/mocks";
import { admit } from "./admission";
import type { Json, PolicySpec } from "./admission";
import { inputAt, planFor, step, stepsOfType } from "./support";

const T = {
    rg: "azure-native:resources:ResourceGroup",
    vnet: "azure-native:network:VirtualNetwork",
    subnet: "azure-native:network:Subnet",
    nsg: "azure-native:network:NetworkSecurityGroup",
    endpoint: "azure-native:network:PrivateEndpoint",
    zoneGroup: "azure-native:network:PrivateDnsZoneGroup",
    zone: "azure-native:privatedns:PrivateZone",
    link: "azure-native:privatedns:VirtualNetworkLink",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    account: "azure-native:storage:StorageAccount",
    blobService: "azure-native:storage:BlobServiceProperties",
    container: "azure-native:storage:BlobContainer",
    vault: "azure-native:keyvault:Vault",
    secret: "azure-native:keyvault:Secret",
    accessPolicy: "azure-native:keyvault:AccessPolicy",
    key: "azure-native:keyvault:Key",
    cluster: "azure-native:containerservice:ManagedCluster",
    role: "azure-native:authorization:RoleAssignment",
    randomString: "random:index/randomString:RandomString",
    randomPassword: "random:index/randomPassword:RandomPassword",
};

const TWO_WORKLOADS = 'workloads=[{"name":"alpha","namespace":"alpha"},{"name":"beta","namespace":"team-beta"}]';

/** The ARM id the mocks gave a resource, as other resources' inputs see it. */
function idOf(plan: Plan, type: string, name: string): string {
    const s = step(plan, type, name);
    const ids: Record<string, (st: Step) => string> = {
        [T.container]: (st) =>
            `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-aiv-dev/providers/Microsoft.Storage/storageAccounts/${String(st.newState.inputs.accountName)}/blobServices/default/containers/${String(st.newState.inputs.containerName)}`,
        [T.secret]: (st) =>
            `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-aiv-dev/providers/Microsoft.KeyVault/vaults/${String(st.newState.inputs.vaultName)}/secrets/${String(st.newState.inputs.secretName)}`,
    };
    return ids[type](s);
}

describe("dev stack (defaults: rbac, one workload)", () => {
    let plan: Plan;
    beforeAll(async () => {
        plan = await planFor([TWO_WORKLOADS]);
    });

    test("composes the components: one of each shared, one of each per workload", () => {
        const components = plan.steps.filter((s) => !s.newState.custom && s.newState.type !== "pulumi:pulumi:Stack").map((s) => s.newState.type);
        const count = (type: string) => components.filter((c) => c === type).length;
        for (const shared of ["network:Network", "dns:PrivateDns", "storage:SecureStorage", "keyvault:SecureKeyVault", "aks:AksCluster"]) {
            expect([shared, count(`aks-identity-vault:${shared}`)]).toEqual([shared, 1]);
        }
        for (const perWorkload of ["identity:Identity", "binding:PodIdentityBinding", "demo:DemoWorkloads"]) {
            expect([perWorkload, count(`aks-identity-vault:${perWorkload}`)]).toEqual([perWorkload, 2]);
        }
    });

    test("every resource but the resource group sits under a component", () => {
        const stackUrn = plan.steps[0].urn;
        const topLevel = plan.steps.filter((s) => s.newState.parent === stackUrn && s.newState.custom).map((s) => s.newState.type);
        expect(topLevel).toEqual([T.rg]);
    });

    describe("Network", () => {
        test("one VNet with the configured address space and no inline subnets", () => {
            const vnet = step(plan, T.vnet, "network-vnet");
            expect(inputAt(vnet, "addressSpace.addressPrefixes")).toEqual(["10.76.0.0/21"]);
            expect(vnet.newState.inputs.subnets).toBeUndefined();
        });

        test("an AKS subnet and an endpoint subnet, each with its NSG", () => {
            const aks = step(plan, T.subnet, "network-aks-subnet");
            const endpoints = step(plan, T.subnet, "network-endpoints-subnet");
            expect(aks.newState.inputs.addressPrefix).toBe("10.76.4.0/22");
            expect(endpoints.newState.inputs.addressPrefix).toBe("10.76.2.0/26");
            expect(String(inputAt(aks, "networkSecurityGroup.id"))).toMatch(/networkSecurityGroups\/nsg-aiv-dev-aks$/);
            expect(String(inputAt(endpoints, "networkSecurityGroup.id"))).toMatch(/networkSecurityGroups\/nsg-aiv-dev-endpoints$/);
        });

        test("the endpoint subnet enforces its NSG on private endpoints and has no default outbound access", () => {
            const endpoints = step(plan, T.subnet, "network-endpoints-subnet");
            expect(endpoints.newState.inputs.privateEndpointNetworkPolicies).toBe("Enabled");
            expect(endpoints.newState.inputs.defaultOutboundAccess).toBe(false);
        });

        test("the endpoint NSG admits only HTTPS from the AKS subnet", () => {
            const rules = inputAt(step(plan, T.nsg, "network-endpoints-nsg"), "securityRules") as Array<Record<string, unknown>>;
            expect(rules.filter((r) => r.access === "Allow")).toEqual([
                expect.objectContaining({ sourceAddressPrefix: "10.76.4.0/22", destinationPortRange: "443", protocol: "Tcp", direction: "Inbound" }),
            ]);
            expect(rules).toContainEqual(expect.objectContaining({ access: "Deny", sourceAddressPrefix: "*", direction: "Inbound" }));
        });
    });

    describe("PrivateDns", () => {
        test("zones for blob and Key Vault (vaultcore, not vault)", () => {
            const zones = stepsOfType(plan, T.zone).map((z) => z.newState.inputs.privateZoneName);
            expect(zones.sort()).toEqual(["privatelink.blob.core.windows.net", "privatelink.vaultcore.azure.net"]);
            expect(stepsOfType(plan, T.zone).every((z) => z.newState.inputs.location === "global")).toBe(true);
        });

        test("each zone is linked to the VNet with registration off", () => {
            const links = stepsOfType(plan, T.link);
            expect(links.map((l) => l.newState.inputs.privateZoneName).sort()).toEqual(["privatelink.blob.core.windows.net", "privatelink.vaultcore.azure.net"]);
            for (const link of links) {
                expect(link.newState.inputs.registrationEnabled).toBe(false);
                expect(String(inputAt(link, "virtualNetwork.id"))).toMatch(/virtualNetworks\/vnet-aiv-dev$/);
            }
        });
    });

    describe("Identity", () => {
        test("one user-assigned identity per workload", () => {
            const workloadIdentities = stepsOfType(plan, T.identity).filter((i) => i.urn.includes("aks-identity-vault:identity:Identity$"));
            expect(workloadIdentities.map((i) => i.newState.inputs.resourceName)).toEqual(["id-aiv-dev-alpha", "id-aiv-dev-beta"]);
        });

        test("exports each workload's client id, resource id and namespace", () => {
            const workloads = plan.outputs.workloads as Record<string, Record<string, string>>;
            expect(Object.keys(workloads)).toEqual(["alpha", "beta"]);
            expect(workloads.beta.namespace).toBe("team-beta");
            expect(workloads.alpha.identityClientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            expect(workloads.alpha.identityResourceId).toMatch(/userAssignedIdentities\/id-aiv-dev-alpha$/);
        });
    });

    describe("SecureStorage", () => {
        let account: Step;
        beforeAll(() => {
            account = step(plan, T.account, "storage-account");
        });

        test("a StorageV2 account named from a random suffix kept in state", () => {
            const suffix = step(plan, T.randomString, "storage-suffix");
            expect(suffix.newState.inputs).toMatchObject({ length: 6, upper: false, special: false });
            expect(account.newState.inputs.kind).toBe("StorageV2");
            expect(account.newState.inputs.accountName).toMatch(/^staivdev[a-z0-9]{6}$/);
            expect(account.newState.propertyDependencies.accountName).toEqual([suffix.urn]);
        });

        test.each([
            ["enableHttpsTrafficOnly", true],
            ["minimumTlsVersion", "TLS1_2"],
            ["allowBlobPublicAccess", false],
            ["publicNetworkAccess", "Disabled"],
            ["networkRuleSet.defaultAction", "Deny"],
            ["networkRuleSet.bypass", "None"],
            ["allowSharedKeyAccess", false],
            ["defaultToOAuthAuthentication", true],
            ["allowCrossTenantReplication", false],
            ["allowedCopyScope", "PrivateLink"],
            ["encryption.requireInfrastructureEncryption", true],
        ])("%s is %p", (setting, expected) => {
            expect(inputAt(account, setting)).toBe(expected);
        });

        test("blob soft delete, container soft delete and versioning are on", () => {
            const service = step(plan, T.blobService, "storage-blob-service");
            expect(inputAt(service, "isVersioningEnabled")).toBe(true);
            expect(inputAt(service, "deleteRetentionPolicy")).toEqual({ enabled: true, days: 30 });
            expect(inputAt(service, "containerDeleteRetentionPolicy")).toEqual({ enabled: true, days: 30 });
        });

        test("a private container per workload", () => {
            const containers = stepsOfType(plan, T.container);
            expect(containers.map((c) => c.newState.inputs.containerName)).toEqual(["canary", "alpha", "beta"]);
            expect(containers.every((c) => c.newState.inputs.publicAccess === "None")).toBe(true);
        });

        test("a blob private endpoint in the endpoint subnet, registered in the blob zone", () => {
            const endpoint = step(plan, T.endpoint, "storage-blob-endpoint");
            expect(String(inputAt(endpoint, "subnet.id"))).toMatch(/subnets\/snet-endpoints$/);
            const connections = inputAt(endpoint, "privateLinkServiceConnections") as Array<Record<string, unknown>>;
            expect(connections).toHaveLength(1);
            expect(connections[0].groupIds).toEqual(["blob"]);
            expect(String(connections[0].privateLinkServiceId)).toMatch(/storageAccounts\/staivdev[a-z0-9]{6}$/);
            const group = step(plan, T.zoneGroup, "storage-blob-endpoint-dns");
            expect(group.newState.inputs.privateEndpointName).toBe(endpoint.newState.inputs.privateEndpointName);
            expect(String(inputAt(group, "privateDnsZoneConfigs.0.privateDnsZoneId"))).toMatch(/privateDnsZones\/privatelink\.blob\.core\.windows\.net$/);
        });

        test("each identity is Storage Blob Data Contributor on its own container only", () => {
            const principals = plan.outputs.workloads as Record<string, Record<string, string>>;
            for (const workload of ["alpha", "beta"]) {
                const grant = step(plan, T.role, `storage-${workload}-blob-contributor`);
                expect(grant.newState.inputs).toMatchObject({
                    principalType: "ServicePrincipal",
                    roleDefinitionId: `/subscriptions/${MOCK_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe`,
                    scope: idOf(plan, T.container, `storage-${workload}-container`),
                });
                expect(grant.newState.dependencies).toContain(step(plan, T.identity, `${workload}-identity`).urn);
                expect(principals[workload]).toBeDefined();
            }
        });
    });

    describe("SecureKeyVault", () => {
        let vault: Step;
        beforeAll(() => {
            vault = step(plan, T.vault, "keyvault-vault");
        });

        test("named from a random suffix kept in state", () => {
            expect(vault.newState.inputs.vaultName).toMatch(/^kv-aiv-dev-[a-z0-9]{6}$/);
            expect(vault.newState.propertyDependencies.vaultName).toEqual([step(plan, T.randomString, "keyvault-suffix").urn]);
        });

        test.each([
            ["properties.enablePurgeProtection", true],
            ["properties.enableSoftDelete", true],
            ["properties.softDeleteRetentionInDays", 90],
            ["properties.publicNetworkAccess", "Disabled"],
            ["properties.networkAcls.defaultAction", "Deny"],
            ["properties.networkAcls.bypass", "None"],
            ["properties.enableRbacAuthorization", true],
            ["properties.enabledForTemplateDeployment", false],
            ["properties.tenantId", MOCK_TENANT_ID],
        ])("%s is %p", (setting, expected) => {
            expect(inputAt(vault, setting)).toBe(expected);
        });

        test("no inline access policies, which would fight standalone ones", () => {
            expect(inputAt(vault, "properties.accessPolicies")).toBeUndefined();
        });

        test("a demo secret per workload, its value a secret from a random password", () => {
            for (const workload of ["alpha", "beta"]) {
                const secret = step(plan, T.secret, `keyvault-${workload}-secret`);
                expect(secret.newState.inputs.secretName).toBe(`${workload}-demo`);
                expect(inputAt(secret, "properties.value")).toBe("[secret]");
                expect(inputAt(secret, "properties.contentType")).toBe("text/plain");
                // Its value from the random password, its expiry from the creation time kept in state.
                expect(secret.newState.propertyDependencies.properties.sort()).toEqual(
                    [step(plan, T.randomPassword, `keyvault-${workload}-secret-value`).urn, step(plan, "pulumi-nodejs:dynamic:Timestamp", `keyvault-${workload}-created`).urn].sort(),
                );
            }
        });

        test("each identity is Key Vault Secrets User on its own secret only", () => {
            for (const workload of ["alpha", "beta"]) {
                const grant = step(plan, T.role, `keyvault-${workload}-secrets-user`);
                expect(grant.newState.inputs).toMatchObject({
                    principalType: "ServicePrincipal",
                    roleDefinitionId: `/subscriptions/${MOCK_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
                    scope: idOf(plan, T.secret, `keyvault-${workload}-secret`),
                });
            }
            expect(stepsOfType(plan, T.accessPolicy)).toHaveLength(0);
        });

        test("a vault private endpoint in the endpoint subnet, registered in the vaultcore zone", () => {
            const endpoint = step(plan, T.endpoint, "keyvault-vault-endpoint");
            expect(String(inputAt(endpoint, "subnet.id"))).toMatch(/subnets\/snet-endpoints$/);
            expect(inputAt(endpoint, "privateLinkServiceConnections.0.groupIds")).toEqual(["vault"]);
            const group = step(plan, T.zoneGroup, "keyvault-vault-endpoint-dns");
            expect(String(inputAt(group, "privateDnsZoneConfigs.0.privateDnsZoneId"))).toMatch(/privateDnsZones\/privatelink\.vaultcore\.azure\.net$/);
        });

        test("outputs name the vault and its URI", () => {
            expect(plan.outputs.keyVaultName).toBe(vault.newState.inputs.vaultName);
            expect(plan.outputs.keyVaultUri).toBe(`https://${String(vault.newState.inputs.vaultName)}.vault.azure.net/`);
        });
    });

    test("every role assignment names a built-in role other than Owner or Contributor, with principalType, on one resource", () => {
        const roles = stepsOfType(plan, T.role);
        expect(roles.length).toBeGreaterThan(0);
        for (const role of roles) {
            expect(["ServicePrincipal", "User"]).toContain(role.newState.inputs.principalType);
            expect(String(role.newState.inputs.roleDefinitionId)).not.toMatch(/8e3af657-a8ff-443c-a75c-2fe8c4bcb635|b24988ac-6180-42a0-ab88-20f7382dd24c/);
            // Never a subscription or a whole resource group: always a provider resource.
            expect(String(role.newState.inputs.scope)).toMatch(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/.+/);
        }
    });

    test("workload identities are granted only their own container, secret and key", () => {
        for (const workload of ["alpha", "beta"]) {
            const identity = step(plan, T.identity, `${workload}-identity`).urn;
            const scopes = stepsOfType(plan, T.role)
                .filter((r) => r.newState.propertyDependencies.principalId?.includes(identity))
                .map((r) => String(r.newState.inputs.scope).split("/").slice(-2).join("/"));
            expect(scopes.sort()).toEqual([`containers/${workload}`, `keys/${workload}-demo-key`, `secrets/${workload}-demo`]);
        }
    });

    test("the stateful resources are protected", () => {
        for (const type of [T.rg, T.vnet, T.zone, T.identity, T.account, T.container, T.vault, T.secret, T.key, T.cluster]) {
            const steps = stepsOfType(plan, type);
            expect(steps.length).toBeGreaterThan(0);
            expect([type, steps.every((s) => s.newState.protect)]).toEqual([type, true]);
        }
    });

    test("every Azure resource whose type takes tags is tagged", () => {
        const azureSteps = plan.steps.filter((s) => s.newState.custom && s.newState.type.startsWith("azure-native:"));
        for (const s of azureSteps) {
            const [, module, resource] = s.newState.type.split(":");
            const dts = path.join(__dirname, "..", "node_modules", "@pulumi", "azure-native", module, `${resource[0].toLowerCase()}${resource.slice(1)}.d.ts`);
            const args = fs.readFileSync(dts, "utf8").split(`export interface ${resource}Args`)[1];
            if (/\n\s+tags\?:/.test(args)) {
                expect([s.urn, s.newState.inputs.tags]).toEqual([s.urn, expect.objectContaining({ project: "aks-identity-vault", stack: "dev", "managed-by": "pulumi" })]);
            }
        }
    });
});

describe("keyVaultAuthorization=accessPolicy", () => {
    let plan: Plan;
    beforeAll(async () => {
        plan = await planFor([TWO_WORKLOADS, "keyVaultAuthorization=accessPolicy"]);
    });

    test("the vault uses access policies, set explicitly", () => {
        expect(inputAt(step(plan, T.vault, "keyvault-vault"), "properties.enableRbacAuthorization")).toBe(false);
    });

    test("one standalone access policy per workload: get secrets and keys, nothing else", () => {
        const workloads = plan.outputs.workloads as Record<string, Record<string, string>>;
        for (const workload of ["alpha", "beta"]) {
            const policy = step(plan, T.accessPolicy, `keyvault-${workload}-access-policy`);
            expect(inputAt(policy, "policy.permissions")).toEqual({ secrets: ["get"], keys: ["get"] });
            expect(inputAt(policy, "policy.tenantId")).toBe(MOCK_TENANT_ID);
            expect(policy.newState.dependencies).toContain(step(plan, T.identity, `${workload}-identity`).urn);
            expect(workloads[workload]).toBeDefined();
        }
    });

    test("the plan warns that access policies apply to the whole vault, naming how many workloads share it", () => {
        expect(plan.diagnostics.map((d) => d.message)).toContainEqual(
            expect.stringContaining("access policies apply to the whole vault, so each of its 2 workloads can get every secret and key in it"),
        );
    });

    test("no Key Vault role assignments; storage grants are unchanged", () => {
        const roles = stepsOfType(plan, T.role).map((r) => String(r.urn.split("::").pop()));
        expect(roles.filter((r) => r.startsWith("keyvault-"))).toEqual([]);
        expect(roles.filter((r) => r.startsWith("storage-"))).toEqual(["storage-alpha-blob-contributor", "storage-beta-blob-contributor"]);
    });
});

describe("the canary", () => {
    const modes = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"] as const;
    let plan: Plan;
    beforeAll(async () => {
        plan = await planFor([TWO_WORKLOADS]);
    });

    test("a canary secret and container exist, protected and retained like the workloads' own, with an expiry from state", () => {
        const secret = step(plan, T.secret, "keyvault-canary-secret");
        expect(secret.newState.inputs).toMatchObject({ secretName: "canary", properties: { value: "[secret]", contentType: "text/plain", attributes: { expires: expect.any(Number) } } });
        const container = step(plan, T.container, "storage-canary-container");
        expect(container.newState.inputs).toMatchObject({ containerName: "canary", publicAccess: "None" });
        for (const s of [secret, container]) {
            expect(s.newState).toMatchObject({ protect: true, retainOnDelete: true });
        }
    });

    test("nobody is granted either: no role assignment names the canary, its vault or its account", () => {
        const canaryIds = [idOf(plan, T.secret, "keyvault-canary-secret"), idOf(plan, T.container, "storage-canary-container")];
        const canaryUrns = [step(plan, T.secret, "keyvault-canary-secret").urn, step(plan, T.container, "storage-canary-container").urn];
        for (const grant of stepsOfType(plan, T.role)) {
            const scope = String(grant.newState.inputs.scope);
            expect([grant.urn, canaryIds.some((id) => id.startsWith(scope))]).toEqual([grant.urn, false]);
            expect([grant.urn, (grant.newState.propertyDependencies.scope ?? []).some((d) => canaryUrns.includes(d))]).toEqual([grant.urn, false]);
        }
    });

    test.each(modes)("every bound Job (%s) is given the canary and the endpoint subnet, and no secret through its environment; the unbound Job is not", async (identityMode) => {
        // The other modes' plans of the suite have the default workload only.
        const modePlan = identityMode === "podIdentityAddon" ? plan : await planFor([`identityMode=${identityMode}`]);
        for (const workload of identityMode === "podIdentityAddon" ? ["alpha", "beta"] : ["alpha"]) {
            const env = inputAt(step(modePlan, "kubernetes:batch/v1:Job", `${workload}-verify-bound`), "spec.template.spec.containers") as Array<{ env: Array<Record<string, unknown>> }>;
            const vars = Object.fromEntries(env[0].env.map((e) => [e.name, e.value ?? e.valueFrom]));
            expect(vars).toMatchObject({
                CANARY_SECRET_NAME: "canary",
                CANARY_CONTAINER: "canary",
                KEYVAULT_AUTHORIZATION: "rbac",
                PRIVATE_ENDPOINT_SUBNET: "10.76.2.0/26",
            });
            expect(env[0].env.filter((e) => e.valueFrom !== undefined)).toEqual([]);
            const unbound = inputAt(step(modePlan, "kubernetes:batch/v1:Job", `${workload}-verify-unbound`), "spec.template.spec.containers") as Array<{ env: Array<Record<string, unknown>> }>;
            expect(unbound[0].env.map((e) => e.name)).not.toContain("CANARY_SECRET_NAME");
        }
    });

    test("a workload that syncs: the bound Job mounts the very Secret its SecretProviderClass mirrors and reads it as a file", async () => {
        const synced = await planFor(['workloads=[{"name":"alpha","namespace":"alpha","syncSecret":true},{"name":"beta","namespace":"team-beta"}]', "etcdEncryption=true"]);
        const spc = step(synced, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "alpha-secret-provider");
        expect(inputAt(spc, "spec.secretObjects")).toEqual([{ secretName: "alpha-demo", type: "Opaque", data: [{ objectName: "alpha-demo", key: "value" }] }]);
        const pod = inputAt(step(synced, "kubernetes:batch/v1:Job", "alpha-verify-bound"), "spec.template.spec") as {
            volumes: Array<Record<string, unknown>>;
            containers: Array<{ env: Array<Record<string, unknown>> }>;
        };
        expect(pod.volumes).toContainEqual({ name: "synced-secret", secret: { secretName: "alpha-demo", items: [{ key: "value", path: "value" }] } });
        expect(pod.containers[0].env).toContainEqual({ name: "SYNCED_SECRET_FILE", value: "/mnt/synced-secret/value" });
        // The mirror sits in etcd, so etcd is encrypted with the stack's key, named by its version.
        const cluster = step(synced, "azure-native:containerservice:ManagedCluster", "aks-cluster");
        expect(inputAt(cluster, "securityProfile.azureKeyVaultKms")).toMatchObject({ enabled: true, keyVaultNetworkAccess: "Private" });
        expect(String(inputAt(cluster, "securityProfile.azureKeyVaultKms.keyId"))).toMatch(/\/keys\/aks-etcd-encryption\/[0-9a-f]{32}$/);
        expect(cluster.newState.propertyDependencies.securityProfile).toContain(step(synced, "azure-native:keyvault:Key", "keyvault-etcd-key").urn);
        expect(inputAt(cluster, "apiServerAccessProfile.subnetId")).toMatch(/\/subnets\/snet-apiserver$/);
        // Without a workload that syncs, none of it.
        expect(plan.steps.some((s) => s.urn.endsWith("::keyvault-etcd-key") || s.urn.endsWith("::network-api-server-subnet"))).toBe(false);
        // beta keeps its secret in Key Vault: nothing mirrored, nothing to mount.
        expect(inputAt(step(synced, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "beta-secret-provider"), "spec.secretObjects")).toBeUndefined();
        expect(JSON.stringify(inputAt(step(synced, "kubernetes:batch/v1:Job", "beta-verify-bound"), "spec.template.spec"))).not.toContain("synced-secret");
    });

    test("in accessPolicy mode the bound Job is told so: access policies grant the canary secret with the rest of the vault", async () => {
        const modePlan = await planFor([TWO_WORKLOADS, "keyVaultAuthorization=accessPolicy"]);
        const env = inputAt(step(modePlan, "kubernetes:batch/v1:Job", "alpha-verify-bound"), "spec.template.spec.containers") as Array<{ env: Array<Record<string, unknown>> }>;
        expect(env[0].env).toContainEqual({ name: "KEYVAULT_AUTHORIZATION", value: "accessPolicy" });
    });

    test("the canary keeps its names in every mode, so a mode switch never replaces it", async () => {
        for (const identityMode of modes) {
            const modePlan = await planFor([`identityMode=${identityMode}`]);
            expect(step(modePlan, T.secret, "keyvault-canary-secret").urn).toBe(step(plan, T.secret, "keyvault-canary-secret").urn);
            expect(step(modePlan, T.container, "storage-canary-container").newState.inputs.containerName).toBe("canary");
        }
    });
});

describe("the deployer's grant", () => {
    test("goes to the caller by default, and to deployerObjectId (a group's own id) when given", async () => {
        const admin = (plan: Plan) => step(plan, "azure-native:authorization:RoleAssignment", "aks-deployer-admin").newState.inputs;
        const byDefault = await planFor([]);
        expect(admin(byDefault)).toMatchObject({ principalType: "User" });
        const group = await planFor(["deployerPrincipalType=Group", "deployerObjectId=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"]);
        expect(admin(group)).toMatchObject({ principalType: "Group", principalId: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" });
        expect(admin(group).principalId).not.toBe(admin(byDefault).principalId);
    });
});

describe("the impostor", () => {
    const modes = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"] as const;
    /** What the verifier makes of a Job's environment (its impostor mode reads it the same way in the cluster). */
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const verifier = require("../verifier/verifier.js") as { readConfig: (env: Record<string, string>) => { ok: boolean; config: { impostor: unknown } } };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const impostor = require("../verifier/impostor.js") as {
        kubeAttempts: (config: unknown, workload: string) => Array<{ name: string; resource: string; object: Json; policy: string }>;
    };

    function impostorEnv(plan: Plan, workload: string): Record<string, string> {
        const job = step(plan, "kubernetes:batch/v1:Job", `impostor-${workload}`);
        const containers = inputAt(job, "spec.template.spec.containers") as Array<{ env: Array<{ name: string; value: string }> }>;
        return Object.fromEntries(containers[0].env.map((e) => [e.name, e.value]));
    }

    test.each(modes)("%s: an impostor Job per workload plays from a namespace of its own, as an account allowed only what its attempts need", async (identityMode) => {
        const modePlan = await planFor([TWO_WORKLOADS, `identityMode=${identityMode}`]);
        for (const [workload, namespace] of [
            ["alpha", "alpha"],
            ["beta", "team-beta"],
        ]) {
            const job = step(modePlan, "kubernetes:batch/v1:Job", `impostor-${workload}`);
            expect(inputAt(job, "metadata.namespace")).toBe("aiv-impostor");
            const env = impostorEnv(modePlan, workload);
            expect(env).toMatchObject({ VERIFY_MODE: "impostor", TARGET_NAMESPACE: namespace, IMPOSTOR_NAMESPACE: "aiv-impostor" });
            expect(env.IMPOSTOR_CHECKS).toBe(identityMode === "workloadIdentity" ? "tokenExchange" : "labelledPod,azureIdentity,podIdentityException");
            expect(inputAt(job, "spec.template.spec.serviceAccountName")).toBe("impostor");
        }
        const roles = stepsOfType(modePlan, "kubernetes:rbac.authorization.k8s.io/v1:Role");
        if (identityMode === "workloadIdentity") {
            expect(roles).toEqual([]);
        } else {
            expect(roles.map((r) => r.newState.inputs.rules)).toEqual([
                [
                    { apiGroups: [""], resources: ["pods"], verbs: ["create"] },
                    { apiGroups: ["aadpodidentity.k8s.io"], resources: ["azureidentities", "azureidentitybindings", "azurepodidentityexceptions"], verbs: ["create"] },
                ],
            ]);
        }
    });

    // Ties the verifier to the guards: the very objects the impostor sends, evaluated by the very
    // policies the plan declares, as the API server would after its ServiceAccount admission plugin
    // set the pod's account to `default` (Kubernetes docs, service-accounts-admin).
    test.each(["podIdentityAddon", "podIdentityOss"])("%s: every object the impostor sends is refused by the guard it names, and the workload's own AzureIdentity is not", async (identityMode) => {
        const modePlan = await planFor([TWO_WORKLOADS, `identityMode=${identityMode}`]);
        const policies = new Map(
            stepsOfType(modePlan, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy").map((p) => [String(inputAt(p, "metadata.name")), inputAt(p, "spec") as PolicySpec]),
        );
        const parsed = verifier.readConfig({ ...impostorEnv(modePlan, "alpha"), KUBE_API_URL: "https://127.0.0.1:6443" });
        expect(parsed.ok).toBe(true);
        const attempts = impostor.kubeAttempts(parsed.config.impostor, "alpha");
        expect(attempts.map((a) => a.name)).toEqual(["labelledPod", "azureIdentity", "azureIdentityBinding", "podIdentityException"]);
        for (const attempt of attempts) {
            const guard = policies.get(attempt.policy);
            expect(guard).toBeDefined();
            const object = structuredClone(attempt.object) as { spec: Record<string, Json> };
            if (attempt.resource === "pods") {
                object.spec.serviceAccountName ??= "default";
            }
            const request = {
                namespace: "aiv-impostor",
                operation: "CREATE",
                resource: { resource: attempt.resource.split(".")[0] },
                userInfo: { username: "system:serviceaccount:aiv-impostor:impostor" },
            };
            expect([attempt.name, admit(guard as PolicySpec, { object: object as unknown as Json, request }).allowed]).toEqual([attempt.name, false]);
        }
        const identityJob = impostorEnv(modePlan, "alpha");
        const own = { metadata: { name: "alpha", namespace: "alpha" }, spec: { type: 0, resourceID: identityJob.IDENTITY_RESOURCE_ID, clientID: identityJob.TARGET_CLIENT_ID } };
        const request = { namespace: "alpha", operation: "CREATE", resource: { resource: "azureidentities" }, userInfo: { username: "aks" } };
        expect(admit(policies.get("aadpodidentity-guard") as PolicySpec, { object: own, request }).allowed).toBe(true);
    });
});

describe("a team's own tags", () => {
    /** The azure-native types of the stack that ARM gives no tags: sub-resources, assignments and settings. */
    const UNTAGGABLE = [
        "azure-native:authorization:PolicyAssignment",
        "azure-native:authorization:RoleAssignment",
        "azure-native:authorization:RoleDefinition",
        "azure-native:keyvault:AccessPolicy",
        "azure-native:managedidentity:FederatedIdentityCredential",
        "azure-native:monitor:DiagnosticSetting",
        "azure-native:network:PrivateDnsZoneGroup",
        "azure-native:network:Subnet",
        "azure-native:storage:BlobContainer",
        "azure-native:storage:BlobServiceProperties",
    ];

    test.each(["podIdentityAddon", "podIdentityOss", "workloadIdentity"])("every taggable Azure resource carries them beside the stack's own (%s)", async (mode) => {
        const plan = await planFor([`identityMode=${mode}`, "keyVaultAuthorization=accessPolicy", 'tags={"costCentre":"cc-1234","owner":"platform"}', "etcdEncryption=true"]);
        const azure = plan.steps.filter((s) => s.newState.type.startsWith("azure-native:") && s.newState.custom);
        const untagged = [...new Set(azure.filter((s) => !("tags" in s.newState.inputs)).map((s) => s.newState.type))].sort();
        expect(untagged.filter((t) => !UNTAGGABLE.includes(t))).toEqual([]);
        for (const s of azure.filter((st) => "tags" in st.newState.inputs)) {
            expect([s.urn, s.newState.inputs.tags]).toEqual([
                s.urn,
                expect.objectContaining({ costCentre: "cc-1234", owner: "platform", project: "aks-identity-vault", stack: "dev", "managed-by": "pulumi" }),
            ]);
        }
        // Both pools' nodes too: node pools do not take the cluster's tags (AKS docs, use-tags).
        for (const pool of inputAt(step(plan, T.cluster, "aks-cluster"), "agentPoolProfiles") as Array<{ tags: Record<string, string> }>) {
            expect(pool.tags).toMatchObject({ costCentre: "cc-1234", owner: "platform" });
        }
    });
});

describe("a stack without the demo (demo false)", () => {
    test.each(["podIdentityAddon", "podIdentityOss", "workloadIdentity"])("carries no demo secret, key, canary, SecretProviderClass or Job, and exports no verdicts (%s)", async (mode) => {
        const plan = await planFor([`identityMode=${mode}`, "demo=false"]);
        for (const type of [T.secret, T.key, "kubernetes:batch/v1:Job", "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "kubernetes:core/v1:ConfigMap"]) {
            expect([type, stepsOfType(plan, type).length]).toEqual([type, 0]);
        }
        expect(stepsOfType(plan, T.container).map((c) => c.newState.inputs.containerName)).toEqual(["alpha"]);
        // No impostor's namespace: only the workload's, and the open-source mode's own.
        expect(stepsOfType(plan, "kubernetes:core/v1:Namespace").map((n) => inputAt(n, "metadata.name"))).toEqual(mode === "podIdentityOss" ? ["aad-pod-identity", "alpha"] : ["alpha"]);
        expect(plan.outputs).toMatchObject({ canary: null, impostorNamespace: null });
        expect(Object.keys((plan.outputs.workloads as Record<string, Record<string, unknown>>).alpha)).not.toContain("verdicts");
        expect(plan.diagnostics.map((d) => d.message)).not.toContainEqual(expect.stringMatching(/Undefined value/));
    });
});
