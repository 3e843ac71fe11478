// Pure helpers of the components, tested without mocks.
import { endpointSubnetRules, parseVnetId } from "../../components/network";
import { BUILT_IN_ROLES, roleDefinitionId } from "../../components/roles";
import { clusterDiagnostics, privateZoneOf } from "../../components/aksCluster";
import { apiServerRuleCollections, egressRuleCollections, registryHosts } from "../../components/egressFirewall";
import { diagnosticSettingArgs, DIAGNOSTIC_SETTING_NAME } from "../../components/diagnostics";
import { workspaceName } from "../../components/logAnalytics";
import { demoSecretName, keyCreationSettings, keyRotationPolicy, keySettingsWarning, keyVaultName } from "../../components/secureKeyVault";
import { changedSettings, creationRecordProvider } from "../../components/creationRecord";
import { createTimestampProvider, daysAfter, timestampAt } from "../../components/timestamp";
import { storageAccountName } from "../../components/secureStorage";
import { baseNameForStack, MIN_KEY_LIFETIME_DAYS } from "../../config";

describe("Components", () => {
    const STACKS = ["dev", "prod", "a", "team-payments-production-westeurope", "X_Y.Z", "123"];
    const SUFFIXES = ["abc123", "000000", "zzzzzz"];

    describe("storageAccountName", () => {
        test.each(STACKS)("stack %s gives 3-24 lower-case letters and digits ending in the suffix", (stack) => {
            for (const suffix of SUFFIXES) {
                const name = storageAccountName(baseNameForStack(stack), suffix);
                expect(name).toMatch(/^[a-z0-9]{3,24}$/);
                expect(name.endsWith(suffix)).toBe(true);
            }
        });

        test("dev", () => {
            expect(storageAccountName("aiv-dev", "abc123")).toBe("staivdevabc123");
        });
    });

    describe("keyVaultName", () => {
        test.each(STACKS)("stack %s gives a valid vault name ending in the suffix", (stack) => {
            for (const suffix of SUFFIXES) {
                const name = keyVaultName(baseNameForStack(stack), suffix);
                expect(name).toMatch(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/);
                expect(name).not.toContain("--");
                expect(name.endsWith(`-${suffix}`)).toBe(true);
            }
        });

        test("dev", () => {
            expect(keyVaultName("aiv-dev", "abc123")).toBe("kv-aiv-dev-abc123");
        });

        test("a long base name is cut without leaving a trailing hyphen", () => {
            // 24 characters leave 17 for the stem, which here ends on the hyphen before "xyz".
            expect(keyVaultName("aiv-abcdefghi-xyz", "abc123")).toBe("kv-aiv-abcdefghi-abc123");
            expect(keyVaultName("aiv-abcdefghijklmnop", "abc123")).toBe("kv-aiv-abcdefghij-abc123");
            // A cut that ends on two hyphens drops both.
            expect(keyVaultName("abcdefghijkl--mnop", "abc123")).toBe("kv-abcdefghijkl-abc123");
        });
    });

    test("demo secrets are named after their workload", () => {
        expect(demoSecretName("alpha")).toBe("alpha-demo");
    });

    test("role definition ids are subscription-qualified built-in GUIDs", () => {
        expect(roleDefinitionId("sub-1", "storageBlobDataContributor")).toBe("/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe");
        expect(BUILT_IN_ROLES.keyVaultSecretsUser).toBe("4633458b-17de-408a-b874-0445c86b69e6");
        // Owner and Contributor are never granted.
        expect(Object.values(BUILT_IN_ROLES)).not.toContain("8e3af657-a8ff-443c-a75c-2fe8c4bcb635");
        expect(Object.values(BUILT_IN_ROLES)).not.toContain("b24988ac-6180-42a0-ab88-20f7382dd24c");
    });

    describe("endpointSubnetRules", () => {
        test("admit HTTPS from the AKS subnet to the endpoint subnet only", () => {
            const rules = endpointSubnetRules("10.76.1.0/24", "10.76.2.0/26");
            expect(rules[0]).toMatchObject({
                access: "Allow",
                direction: "Inbound",
                protocol: "Tcp",
                sourceAddressPrefix: "10.76.1.0/24",
                destinationAddressPrefix: "10.76.2.0/26",
                destinationPortRange: "443",
            });
        });

        test("deny all other inbound traffic ahead of Azure's AllowVnetInBound default rule", () => {
            const rules = endpointSubnetRules("10.76.1.0/24", "10.76.2.0/26");
            const deny = rules[rules.length - 1];
            expect(deny).toMatchObject({ access: "Deny", direction: "Inbound", sourceAddressPrefix: "*", destinationPortRange: "*" });
            // Azure's default rules start at 65000; a custom rule must be at most 4096.
            expect(deny.priority).toBeLessThanOrEqual(4096);
            expect(rules.filter((r) => r.access === "Allow").every((r) => Number(r.priority) < Number(deny.priority))).toBe(true);
        });
    });

    describe("lifecycle", () => {
        test("a moment so many days later, in Key Vault's seconds since the epoch", () => {
            expect(daysAfter(1_767_225_600, 365)).toBe(1_798_761_600);
            expect(daysAfter(0, 1)).toBe(86_400);
            expect(daysAfter(10, 0)).toBe(10);
        });

        test("a timestamp keeps its moment to the second, in RFC 3339 and in seconds", () => {
            expect(timestampAt("p", new Date("2026-03-04T05:06:07.890Z"))).toEqual({ purpose: "p", rfc3339: "2026-03-04T05:06:07Z", unix: 1_772_600_767 });
        });

        test("its provider reads the clock at creation only, and no change of its inputs makes it read again", async () => {
            let clock = new Date("2026-01-01T00:00:00Z");
            const provider = createTimestampProvider({ now: () => clock });
            const created = await provider.create({ purpose: "p" });
            expect(created).toEqual({ id: "p@2026-01-01T00:00:00Z", outs: { purpose: "p", rfc3339: "2026-01-01T00:00:00Z", unix: 1_767_225_600 } });
            clock = new Date("2027-01-01T00:00:00Z");
            const kept = timestampAt("p", new Date("2026-01-01T00:00:00Z"));
            expect(await provider.diff?.("id", kept, { purpose: "q" })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
            expect(await provider.read?.("id", kept)).toEqual({ id: "id", props: kept });
            expect((await provider.create({ purpose: "p" })).outs?.unix).toBe(1_798_761_600);
        });

        test("a creation record keeps its settings: its provider reports no change, whatever the program sends later", async () => {
            const kept = { of: "key k", settings: { keyLifetimeDays: 90 } };
            expect(await creationRecordProvider.create(kept)).toEqual({ id: "key k", outs: kept });
            expect(await creationRecordProvider.diff?.("key k", kept, { of: "key k", settings: { keyLifetimeDays: 120 } })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
            expect(await creationRecordProvider.read?.("key k", kept)).toEqual({ id: "key k", props: kept });
        });

        test("a record and today's settings: what changed, named with both values; a setting today lacks is not a change", () => {
            expect(changedSettings({ a: 1, b: "x", c: 3 }, { a: 2, b: "x" })).toEqual(["a 1 -> 2"]);
            expect(changedSettings({ a: 1 }, { a: 1 })).toEqual([]);
        });

        test("a key's settings as recorded: its lifetime, when it rotates and notifies, its tags in one order; the warning names the key, what changed and where to read on", () => {
            expect(keyCreationSettings(90, { b: "2", a: "1" })).toEqual({ keyLifetimeDays: 90, rotateBeforeExpiryDays: 30, notifyBeforeExpiryDays: 37, tags: '{"a":"1","b":"2"}' });
            const warning = keySettingsWarning("k", ["keyLifetimeDays 90 -> 120"]);
            expect(warning).toContain("Key k keeps what it was created with (keyLifetimeDays 90 -> 120)");
            expect(warning).toContain(`docs/operations.md says under "Changing a key's lifetime, rotation or tags"`);
            expect(keySettingsWarning("k", ["keyLifetimeDays 90 -> 120", 'tags {} -> {"a":"1"}'])).toContain('(keyLifetimeDays 90 -> 120; tags {} -> {"a":"1"})');
        });

        test("a key's rotation policy: its lifetime for each version, rotate 30 days before it ends, notify a week earlier", () => {
            expect(keyRotationPolicy(365)).toEqual({
                attributes: { expiryTime: "P365D" },
                lifetimeActions: [
                    { trigger: { timeBeforeExpiry: "P30D" }, action: { type: "rotate" } },
                    { trigger: { timeBeforeExpiry: "P37D" }, action: { type: "notify" } },
                ],
            });
        });

        test("the shortest key lifetime keeps Key Vault's rules: expiry of at least 28 days, both actions at least 7 days after creation", () => {
            expect(MIN_KEY_LIFETIME_DAYS).toBeGreaterThanOrEqual(28);
            const policy = keyRotationPolicy(MIN_KEY_LIFETIME_DAYS);
            for (const action of policy.lifetimeActions as { trigger: { timeBeforeExpiry: string } }[]) {
                const before = Number(/^P(\d+)D$/.exec(action.trigger.timeBeforeExpiry)?.[1]);
                expect(before).toBeGreaterThanOrEqual(7);
                expect(MIN_KEY_LIFETIME_DAYS - before).toBeGreaterThanOrEqual(7);
            }
        });
    });

    describe("diagnostics", () => {
        test("a setting names every category, enabled, to the workspace, with no retention policy", () => {
            expect(diagnosticSettingArgs("/r", { logs: ["A", "B"], metrics: ["M"] }, { workspaceId: "/w" })).toEqual({
                name: DIAGNOSTIC_SETTING_NAME,
                resourceUri: "/r",
                workspaceId: "/w",
                logAnalyticsDestinationType: undefined,
                logs: [
                    { category: "A", enabled: true },
                    { category: "B", enabled: true },
                ],
                metrics: [{ category: "M", enabled: true }],
            });
            expect(diagnosticSettingArgs("/r", { logs: [], metrics: [], destinationType: "Dedicated" }, { workspaceId: "/w" }).logAnalyticsDestinationType).toBe("Dedicated");
        });

        test("what each resource sends, by Azure's category names", () => {
            expect(clusterDiagnostics(false).logs).toContain("kube-audit-admin");
            expect(clusterDiagnostics(false).logs).toContain("guard");
            expect(clusterDiagnostics(false).logs).not.toContain("kube-audit");
            expect(clusterDiagnostics(true).logs).toContain("kube-audit");
        });

        test("the workspace is named after the stack", () => {
            expect(workspaceName("aiv-dev")).toBe("log-aiv-dev");
        });
    });
});

describe("the network choices' helpers", () => {
    test("a private API server's zone is its name without the first label; a name without one is refused", () => {
        expect(privateZoneOf("aiv-dev-abc12345.0f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f.private.uksouth.azmk8s.io")).toBe("0f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f.private.uksouth.azmk8s.io");
        expect(() => privateZoneOf("")).toThrow("not a private API server name");
    });

    test("a VNet's id names its resource group and name, in any case of its type", () => {
        expect(parseVnetId("/subscriptions/s/resourceGroups/rg-runners/providers/Microsoft.Network/virtualNetworks/vnet-runners")).toEqual({ resourceGroupName: "rg-runners", name: "vnet-runners" });
        expect(parseVnetId("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/virtualnetworks/v")).toEqual({ resourceGroupName: "rg", name: "v" });
        expect(() => parseVnetId("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/x")).toThrow("not a virtual network's ARM id");
    });

    test("the verifier's registry: Docker Hub's hosts for its short names, none for AKS's own registry, else the mirror's host without its port", () => {
        expect(registryHosts("node:22.14.0-alpine3.21@sha256:" + "a".repeat(64))).toEqual(["registry-1.docker.io", "auth.docker.io", "production.cloudflare.docker.com"]);
        expect(registryHosts("docker.io/library/node:22")).toEqual(["registry-1.docker.io", "auth.docker.io", "production.cloudflare.docker.com"]);
        expect(registryHosts("index.docker.io/library/node:22")).toEqual(["registry-1.docker.io", "auth.docker.io", "production.cloudflare.docker.com"]);
        expect(registryHosts("mcr.microsoft.com/mirror/docker/library/node:22")).toEqual([]);
        expect(registryHosts("myregistry.example.com:5000/mirror/node:22")).toEqual(["myregistry.example.com"]);
    });

    const needs = { location: "uksouth", apiServerAccess: "public" as const, podsCallEntra: false, podsCallApiServer: false, defender: false };
    const names = (collections: ReturnType<typeof egressRuleCollections>) => collections.map((c) => `${String(c.name)}: ${(c.rules as Array<{ name?: string }>).map((r) => r.name).join(",")}`);

    test("the firewall's rules: a public API server's tunnel to the region's Azure addresses; AKS's FQDN tag and the policy add-on always; the rest as the stack needs it", () => {
        expect(names(egressRuleCollections(needs, "10.76.4.0/22"))).toEqual(["aks-network: aks-tunnel-udp,aks-tunnel-tcp", "aks-application: aks-required,azure-policy-addon"]);
        expect(names(egressRuleCollections({ ...needs, apiServerAccess: "private" }, "10.76.4.0/22"))).toEqual(["aks-application: aks-required,azure-policy-addon"]);
        expect(names(egressRuleCollections({ ...needs, podsCallEntra: true, defender: true, verifierImage: "node:22.14.0" }, "10.76.4.0/22"))).toEqual([
            "aks-network: aks-tunnel-udp,aks-tunnel-tcp",
            "aks-application: aks-required,azure-policy-addon,workload-identity,defender,verifier-image",
        ]);
        const tunnel = (egressRuleCollections(needs, "10.76.4.0/22")[0].rules as unknown[])[0];
        expect(tunnel).toMatchObject({ sourceAddresses: ["10.76.4.0/22"], destinationAddresses: ["AzureCloud.uksouth"], ipProtocols: ["UDP"], destinationPorts: ["1194"] });
    });

    test("Defender's sensor reaches Entra ID and the workspace's ingestion and Defender's own hosts, over HTTPS, from the AKS subnet", () => {
        const rules = egressRuleCollections({ ...needs, defender: true }, "10.76.4.0/22").flatMap((c) => c.rules as Array<{ name?: string }>);
        expect(rules.find((r) => r.name === "defender")).toEqual({
            ruleType: "ApplicationRule",
            name: "defender",
            description: "Microsoft Defender for Containers' sensor reports to the workspace.",
            sourceAddresses: ["10.76.4.0/22"],
            protocols: [{ protocolType: "Https", port: 443 }],
            targetFqdns: ["login.microsoftonline.com", "*.ods.opinsights.azure.com", "*.oms.opinsights.azure.com", "*.cloud.defender.microsoft.com"],
        });
    });

    test("pods outside kube-system reach a public API server by its name on TCP 443, from the AKS subnet, in a collection of their own", () => {
        expect(apiServerRuleCollections("10.76.4.0/22", "aks-aiv-unit.hcp.uksouth.azmk8s.io")).toEqual([
            {
                ruleCollectionType: "FirewallPolicyFilterRuleCollection",
                name: "api-server",
                priority: 100,
                action: { type: "Allow" },
                rules: [
                    {
                        ruleType: "NetworkRule",
                        name: "api-server",
                        description: "Pods outside kube-system reach the public API server.",
                        sourceAddresses: ["10.76.4.0/22"],
                        ipProtocols: ["TCP"],
                        destinationPorts: ["443"],
                        destinationFqdns: ["aks-aiv-unit.hcp.uksouth.azmk8s.io"],
                    },
                ],
            },
        ]);
    });
});
