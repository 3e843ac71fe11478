// Pure helpers of the components, tested without mocks.
import { endpointSubnetRules } from "../../components/network";
import { PRIVATE_DNS_ZONES } from "../../components/privateDns";
import { BUILT_IN_ROLES, roleDefinitionId } from "../../components/roles";
import { demoSecretName, keyVaultName } from "../../components/secureKeyVault";
import { storageAccountName } from "../../components/secureStorage";
import { baseNameForStack } from "../../config";

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

    test("private DNS zone names are the public cloud's privatelink zones", () => {
        expect(PRIVATE_DNS_ZONES).toEqual({ blob: "privatelink.blob.core.windows.net", vault: "privatelink.vaultcore.azure.net" });
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
});
