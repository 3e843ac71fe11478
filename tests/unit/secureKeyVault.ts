import * as pulumi from "@pulumi/pulumi";
import { keySettingsWarning, SecureKeyVault, VaultWrites } from "../../components/secureKeyVault";
import { MOCK_CREATED_UNIX } from "../../tools/plan/mocks";
import { answering, buildOne, memoized, DIAGNOSTICS, named, ofType, registrations, settled, SHARED_SERVICE } from "./build";

describe("SecureKeyVault", () => {
    const ARGS = {
        ...SHARED_SERVICE,
        tenantId: "tenant-unit",
        authorization: "rbac" as const,
        vaultZoneId: "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net",
        secretLifetimeDays: 90,
        keyLifetimeDays: 180,
    };
    const ROLE = "azure-native:authorization:RoleAssignment";
    const POLICY = "azure-native:keyvault:AccessPolicy";
    const ROLE_IDS = "/subscriptions/sub-unit/providers/Microsoft.Authorization/roleDefinitions/";

    const built = memoized(async (args: ConstructorParameters<typeof SecureKeyVault>[1]) => {
        const { component: vault, plan } = await buildOne(() => new SecureKeyVault("keyvault", args));
        return { vault, plan };
    });

    test.each(["rbac", "accessPolicy"] as const)("registers exactly the reviewed vault, endpoint, secrets, keys and grants (%s)", async (authorization) => {
        expect(registrations((await built({ ...ARGS, authorization })).plan)).toMatchSnapshot();
    });

    test("the vault is private, purge-protected, and says which authorization it uses", async () => {
        for (const authorization of ["rbac", "accessPolicy"] as const) {
            const { plan } = await built({ ...ARGS, authorization });
            const vault = named(plan, "azure-native:keyvault:Vault", "keyvault-vault");
            expect(vault.newState.inputs.properties).toMatchObject({
                tenantId: "tenant-unit",
                enableRbacAuthorization: authorization === "rbac",
                enableSoftDelete: true,
                softDeleteRetentionInDays: 90,
                enablePurgeProtection: true,
                publicNetworkAccess: "Disabled",
                networkAcls: { defaultAction: "Deny", bypass: "None" },
            });
            expect(vault.newState.inputs.properties).not.toHaveProperty("accessPolicies");
            expect(vault.newState.protect).toBe(true);
            expect(vault.newState.inputs.vaultName).toMatch(/^kv-aiv-unit-[a-z0-9]{6}$/);
        }
    });

    test("soft-delete retention can be set", async () => {
        const { plan } = await built({ ...ARGS, softDeleteRetentionDays: 7 });
        expect(named(plan, "azure-native:keyvault:Vault", "keyvault-vault").newState.inputs.properties).toMatchObject({ softDeleteRetentionInDays: 7 });
    });

    test("each workload's secret and key are protected, retained, and the secret's value is a Pulumi secret", async () => {
        const { plan } = await built(ARGS);
        for (const w of ARGS.workloads) {
            const secret = named(plan, "azure-native:keyvault:Secret", `keyvault-${w.name}-secret`);
            expect(secret.newState.inputs).toMatchObject({ secretName: `${w.name}-demo`, properties: { value: "[secret]", contentType: "text/plain" }, tags: { workload: w.name } });
            expect(secret.newState).toMatchObject({ protect: true, retainOnDelete: true });
            const key = named(plan, "azure-native:keyvault:Key", `keyvault-${w.name}-key`);
            expect(key.newState.inputs).toMatchObject({ keyName: `${w.name}-demo-key`, properties: { kty: "RSA", keySize: 3072, keyOps: ["sign", "verify"] } });
            expect(key.newState).toMatchObject({ protect: true, retainOnDelete: true });
            expect(named(plan, "random:index/randomPassword:RandomPassword", `keyvault-${w.name}-secret-value`).newState.inputs).toMatchObject({ length: 32 });
        }
    });

    test("each secret expires its lifetime after the creation kept in state; each key too, and rotates before it expires", async () => {
        const { plan } = await built(ARGS);
        const DAY = 86_400;
        for (const w of ARGS.workloads) {
            const created = named(plan, "pulumi-nodejs:dynamic:Timestamp", `keyvault-${w.name}-created`);
            const secret = named(plan, "azure-native:keyvault:Secret", `keyvault-${w.name}-secret`).newState;
            expect(secret.inputs.properties).toMatchObject({ attributes: { expires: MOCK_CREATED_UNIX + 90 * DAY } });
            expect(secret.propertyDependencies.properties).toContain(created.urn);
            const key = named(plan, "azure-native:keyvault:Key", `keyvault-${w.name}-key`).newState;
            expect(key.inputs.properties).toMatchObject({
                attributes: { expires: MOCK_CREATED_UNIX + 180 * DAY },
                rotationPolicy: {
                    attributes: { expiryTime: "P180D" },
                    lifetimeActions: [
                        { trigger: { timeBeforeExpiry: "P30D" }, action: { type: "rotate" } },
                        { trigger: { timeBeforeExpiry: "P37D" }, action: { type: "notify" } },
                    ],
                },
            });
            expect(key.propertyDependencies.properties).toContain(created.urn);
            // ARM never updates a key: Pulumi sends no change of its settings.
            expect(key.ignoreChanges).toEqual(["properties", "tags"]);
        }
    });

    test("each key's settings are recorded once it exists, since ARM keeps the key as created", async () => {
        const { plan } = await built(ARGS);
        for (const w of ARGS.workloads) {
            const record = named(plan, "pulumi-nodejs:dynamic:CreationRecord", `keyvault-${w.name}-key-settings`).newState;
            expect(record.inputs).toMatchObject({
                of: `key ${w.name}-demo-key`,
                settings: { keyLifetimeDays: 180, rotateBeforeExpiryDays: 30, notifyBeforeExpiryDays: 37, tags: JSON.stringify({ stack: "unit", workload: w.name }) },
            });
            expect(record.dependencies).toContain(named(plan, "azure-native:keyvault:Key", `keyvault-${w.name}-key`).urn);
        }
        // As created, nothing differs: the plan says nothing of the keys.
        expect(plan.diagnostics.map((d) => d.message)).not.toContainEqual(expect.stringMatching(/^Key /));
    });

    test("the vault's audit events and metrics go to the workspace, outside the vault's chain of writes", async () => {
        const { plan } = await built(ARGS);
        const setting = named(plan, "azure-native:monitor:DiagnosticSetting", "keyvault-vault-diagnostics").newState;
        expect(setting.inputs).toEqual({
            name: "send-to-log-analytics",
            resourceUri: expect.stringMatching(/\/vaults\/kv-aiv-unit-[a-z0-9]{6}$/),
            workspaceId: DIAGNOSTICS.workspaceId,
            logs: [{ category: "AuditEvent", enabled: true }],
            metrics: [{ category: "AllMetrics", enabled: true }],
        });
        expect(setting.deleteBeforeReplace).toBe(true);
        expect(named(plan, "azure-native:network:PrivateEndpoint", "keyvault-vault-endpoint").newState.dependencies).not.toContain(
            named(plan, "azure-native:monitor:DiagnosticSetting", "keyvault-vault-diagnostics").urn,
        );
    });

    test("rbac: Secrets User on its own secret and Reader on its own key, nothing vault-wide", async () => {
        const { plan, vault } = await built(ARGS);
        for (const w of ARGS.workloads) {
            const secretGrant = named(plan, ROLE, `keyvault-${w.name}-secrets-user`).newState.inputs;
            expect(secretGrant).toMatchObject({ principalId: w.principalId, principalType: "ServicePrincipal", roleDefinitionId: `${ROLE_IDS}4633458b-17de-408a-b874-0445c86b69e6` });
            expect(secretGrant.scope).toMatch(new RegExp(`/secrets/${w.name}-demo$`));
            const keyGrant = named(plan, ROLE, `keyvault-${w.name}-key-reader`).newState.inputs;
            expect(keyGrant).toMatchObject({ principalId: w.principalId, roleDefinitionId: `${ROLE_IDS}21090545-7ca7-4776-b22c-e363652d74d2` });
            expect(keyGrant.scope).toMatch(new RegExp(`/keys/${w.name}-demo-key$`));
            expect(vault.grants[w.name]).toHaveLength(2);
        }
        expect(ofType(plan, ROLE)).toHaveLength(4);
        expect(ofType(plan, POLICY)).toHaveLength(0);
    });

    test("accessPolicy: one standalone policy per workload, getting secrets and keys only", async () => {
        const { plan, vault } = await built({ ...ARGS, authorization: "accessPolicy" });
        for (const w of ARGS.workloads) {
            const policy = named(plan, POLICY, `keyvault-${w.name}-access-policy`).newState.inputs;
            expect(policy.policy).toEqual({ tenantId: "tenant-unit", objectId: w.principalId, permissions: { secrets: ["get"], keys: ["get"] } });
            expect(vault.grants[w.name]).toHaveLength(1);
        }
        expect(ofType(plan, ROLE)).toHaveLength(0);
    });

    // Key Vault refuses overlapping writes with ConflictError ("serialize the operations"), which
    // azure-native does not retry (pulumi/pulumi-azure-native#1013): each write waits for the one before.
    test.each(["rbac", "accessPolicy"] as const)("%s: the vault's writes run one at a time: endpoint, the canary, then each workload's secret, key and policy", async (authorization) => {
        const { plan } = await built({ ...ARGS, authorization });
        const writes = plan.steps.filter((s) => ["azure-native:network:PrivateEndpoint", "azure-native:keyvault:Secret", "azure-native:keyvault:Key", POLICY].includes(s.newState.type));
        const names = writes.map((s) => s.urn.split("::").pop());
        const expected = [
            "keyvault-vault-endpoint",
            "keyvault-canary-secret",
            ...ARGS.workloads.flatMap((w) => [`keyvault-${w.name}-secret`, `keyvault-${w.name}-key`, ...(authorization === "accessPolicy" ? [`keyvault-${w.name}-access-policy`] : [])]),
        ];
        expect(names).toEqual(expected);
        writes.forEach((write, i) => {
            if (i > 0) {
                expect(write.newState.dependencies).toContain(writes[i - 1].urn);
            }
        });
        expect(writes[0].newState.dependencies.filter((d) => writes.some((w) => w.urn === d))).toEqual([]);
    });

    test("the etcd encryption key, when asked for: RSA for encrypt and decrypt, no expiry or rotation, protected and retained, in the vault's chain of writes", async () => {
        const { plan, vault } = await built({ ...ARGS, etcdEncryptionKey: true });
        const key = named(plan, "azure-native:keyvault:Key", "keyvault-etcd-key");
        expect(key.newState.inputs).toEqual(
            expect.objectContaining({
                keyName: "aks-etcd-encryption",
                properties: { kty: "RSA", keySize: 2048, keyOps: ["encrypt", "decrypt"] },
                tags: expect.objectContaining({ purpose: "etcd-encryption" }),
            }),
        );
        expect(key.newState).toMatchObject({ protect: true, retainOnDelete: true, ignoreChanges: ["properties", "tags"] });
        expect(key.newState.dependencies.some((d) => d.endsWith("::keyvault-canary-secret"))).toBe(true);
        expect(await settled(vault.etcdKey?.versionedId ?? pulumi.output(""))).toMatch(/^https:\/\/.+\/keys\/aks-etcd-encryption\/[0-9a-f]{32}$/);
        expect((await built(ARGS)).vault.etcdKey).toBeUndefined();
    });

    test("the order of writes starts empty and follows what was written last", () => {
        const order = new VaultWrites();
        expect(order.next()).toEqual([]);
        const first = new pulumi.ComponentResource("test:index:First", "first", {}, {});
        const second = new pulumi.ComponentResource("test:index:Second", "second", {}, {});
        order.wrote(first);
        expect(order.next()).toEqual([first]);
        order.wrote(second);
        expect(order.next()).toEqual([second]);
    });

    test("one vault private endpoint registered in the vaultcore zone", async () => {
        const { plan, vault } = await built(ARGS);
        const endpoint = named(plan, "azure-native:network:PrivateEndpoint", "keyvault-vault-endpoint");
        expect(endpoint.newState.inputs.privateLinkServiceConnections).toEqual([expect.objectContaining({ groupIds: ["vault"] })]);
        expect(named(plan, "azure-native:network:PrivateDnsZoneGroup", "keyvault-vault-endpoint-dns").newState.inputs).toMatchObject({
            privateDnsZoneConfigs: [{ name: "vault", privateDnsZoneId: ARGS.vaultZoneId }],
        });
        expect(vault.endpoint).toHaveLength(2);
    });

    test.each(["rbac", "accessPolicy"] as const)("without the demo (%s): no secret, key, record or canary; access policies stay the workloads' one grant", async (authorization) => {
        const { vault, plan } = await built({ ...ARGS, authorization, demo: false });
        for (const type of ["azure-native:keyvault:Secret", "azure-native:keyvault:Key", "pulumi-nodejs:dynamic:CreationRecord", ROLE]) {
            expect([type, ofType(plan, type)]).toEqual([type, []]);
        }
        expect(vault.canarySecretName).toBeUndefined();
        expect(ofType(plan, POLICY)).toHaveLength(authorization === "accessPolicy" ? ARGS.workloads.length : 0);
        expect(vault.grants.alpha).toHaveLength(authorization === "accessPolicy" ? 1 : 0);
    });

    test("protect: false leaves the vault, secrets and keys unprotected, still retained on delete", async () => {
        const { plan } = await built({ ...ARGS, protect: false });
        expect(named(plan, "azure-native:keyvault:Vault", "keyvault-vault").newState.protect).toBe(false);
        expect(named(plan, "azure-native:keyvault:Secret", "keyvault-alpha-secret").newState).toMatchObject({ protect: false, retainOnDelete: true });
        expect(named(plan, "azure-native:keyvault:Key", "keyvault-alpha-key").newState).toMatchObject({ protect: false, retainOnDelete: true });
    });

    test("exposes the vault's name, id and URI and each workload's secret and key names", async () => {
        const { vault } = await built(ARGS);
        const name = await settled(vault.vaultName);
        expect(name).toMatch(/^kv-aiv-unit-[a-z0-9]{6}$/);
        expect(await settled(vault.vaultId)).toMatch(new RegExp(`/vaults/${name}$`));
        expect(await settled(vault.vaultUri)).toBe(`https://${name}.vault.azure.net/`);
        expect(await settled(vault.secretNames.beta)).toBe("beta-demo");
        expect(await settled(vault.keyNames.beta)).toBe("beta-demo-key");
        expect(pulumi.Output.isInstance(vault.vaultUri)).toBe(true);
    });

    test("accessPolicy: the plan says what sharing one vault means, in the words for one workload and for several; rbac says nothing of it", async () => {
        const warnings = async (args: ConstructorParameters<typeof SecureKeyVault>[1]) =>
            (await built(args)).plan.diagnostics.map((d) => d.message).filter((m) => m.startsWith("keyVaultAuthorization"));
        const advice = "not only its own. Use keyVaultAuthorization rbac to confine each identity to its own secret and key.";
        expect(await warnings({ ...ARGS, authorization: "accessPolicy" })).toEqual([
            `keyVaultAuthorization is accessPolicy: access policies apply to the whole vault, so each of its 2 workloads can get every secret and key in it, the other workloads' and the canary's included, ${advice}`,
        ]);
        expect(await warnings({ ...ARGS, authorization: "accessPolicy", workloads: ARGS.workloads.slice(0, 1) })).toEqual([
            `keyVaultAuthorization is accessPolicy: access policies apply to the whole vault, so its one workload can get every secret and key in it, the canary's included, ${advice}`,
        ]);
        expect(await warnings(ARGS)).toEqual([]);
    });

    test("the vault's last write is what a later writer waits for: the last workload's key, or its access policy", async () => {
        const lastWrite = async (authorization: "rbac" | "accessPolicy") => {
            const { vault } = await built({ ...ARGS, authorization });
            return (await settled(vault.lastWrite.urn)).split("::").pop();
        };
        expect(await lastWrite("rbac")).toBe("keyvault-beta-key");
        expect(await lastWrite("accessPolicy")).toBe("keyvault-beta-access-policy");
    });

    test("a key whose recorded settings are no longer today's: the plan warns, naming the key and what changed; a key whose record matches says nothing", async () => {
        const recorded = answering("pulumi-nodejs:dynamic:CreationRecord", "keyvault-alpha-key-settings", (state) => ({
            ...state,
            settings: { ...(state.settings as Record<string, unknown>), keyLifetimeDays: 90 },
        }));
        const { plan } = await buildOne(() => new SecureKeyVault("keyvault", ARGS), {}, recorded);
        // The warning's words are keySettingsWarning's, which the helpers' tests read.
        expect(plan.diagnostics.filter((d) => d.message.startsWith("Key ")).map((d) => [d.severity, d.message])).toEqual([
            ["warning", keySettingsWarning("alpha-demo-key", ["keyLifetimeDays 90 -> 180"])],
        ]);
        expect((await built(ARGS)).plan.diagnostics.filter((d) => d.message.startsWith("Key "))).toEqual([]);
    });
});
