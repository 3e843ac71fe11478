// The URNs and Azure names of stateful resources. A changed URN or name replaces the resource in
// Azure (a new vault, an empty storage account), so this list changes only on purpose: a rename
// needs an alias, and the reviewer updates this list in the same change.
import type { Plan } from "../tools/plan/types";
import { planFor } from "./support";

const P = "urn:pulumi:dev::aks-identity-vault::";

/** URN → the input that holds the Azure name, and its value ("<suffix>" marks the random part). */
const STATEFUL: Record<string, [string, string]> = {
    [`${P}azure-native:resources:ResourceGroup::stack`]: ["resourceGroupName", "rg-aiv-dev"],
    [`${P}aks-identity-vault:network:Network$azure-native:network:VirtualNetwork::network-vnet`]: ["virtualNetworkName", "vnet-aiv-dev"],
    [`${P}aks-identity-vault:dns:PrivateDns$azure-native:privatedns:PrivateZone::dns-blob-zone`]: ["privateZoneName", "privatelink.blob.core.windows.net"],
    [`${P}aks-identity-vault:dns:PrivateDns$azure-native:privatedns:PrivateZone::dns-vault-zone`]: ["privateZoneName", "privatelink.vaultcore.azure.net"],
    [`${P}aks-identity-vault:identity:Identity$azure-native:managedidentity:UserAssignedIdentity::alpha-identity`]: ["resourceName", "id-aiv-dev-alpha"],
    [`${P}aks-identity-vault:storage:SecureStorage$random:index/randomString:RandomString::storage-suffix`]: ["length", "6"],
    [`${P}aks-identity-vault:storage:SecureStorage$azure-native:storage:StorageAccount::storage-account`]: ["accountName", "staivdev<suffix>"],
    [`${P}aks-identity-vault:storage:SecureStorage$azure-native:storage:BlobContainer::storage-alpha-container`]: ["containerName", "alpha"],
    [`${P}aks-identity-vault:keyvault:SecureKeyVault$random:index/randomString:RandomString::keyvault-suffix`]: ["length", "6"],
    [`${P}aks-identity-vault:keyvault:SecureKeyVault$azure-native:keyvault:Vault::keyvault-vault`]: ["vaultName", "kv-aiv-dev-<suffix>"],
    [`${P}aks-identity-vault:keyvault:SecureKeyVault$random:index/randomPassword:RandomPassword::keyvault-alpha-secret-value`]: ["length", "32"],
    [`${P}aks-identity-vault:keyvault:SecureKeyVault$azure-native:keyvault:Secret::keyvault-alpha-secret`]: ["secretName", "alpha-demo"],
    [`${P}aks-identity-vault:keyvault:SecureKeyVault$azure-native:keyvault:Key::keyvault-alpha-key`]: ["keyName", "alpha-demo-key"],
    [`${P}aks-identity-vault:keyvault:SecureKeyVault$pulumi-nodejs:dynamic:Timestamp::keyvault-alpha-created`]: ["purpose", "creation of alpha's demo secret and key"],
    [`${P}aks-identity-vault:logs:LogAnalytics$azure-native:operationalinsights:Workspace::logs-workspace`]: ["workspaceName", "log-aiv-dev"],
    [`${P}aks-identity-vault:aks:AksCluster$azure-native:containerservice:ManagedCluster::aks-cluster`]: ["resourceName", "aks-aiv-dev"],
    [`${P}aks-identity-vault:aks:AksCluster$azure-native:managedidentity:UserAssignedIdentity::aks-control-plane-identity`]: ["resourceName", "id-aiv-dev-aks"],
    [`${P}aks-identity-vault:aks:AksCluster$azure-native:managedidentity:UserAssignedIdentity::aks-kubelet-identity`]: ["resourceName", "id-aiv-dev-aks-kubelet"],
};

/** The suffix of a name derived from a RandomString, which the mocks fill deterministically. */
function pattern(expected: string): RegExp {
    return new RegExp(`^${expected.replace("<suffix>", "[a-z0-9]{6}")}$`);
}

const MODES = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"] as const;

describe("protection on the dev stack", () => {
    let plan: Plan;
    beforeAll(async () => {
        plan = await planFor();
    });

    // Random values and timestamps keep the names and dates of what is protected; they are not data themselves.
    test.each(Object.keys(STATEFUL).filter((urn) => !urn.includes("random:index") && !urn.includes("dynamic:Timestamp")))("%s is protected", (urn) => {
        expect(plan.steps.find((s) => s.urn === urn)?.newState.protect).toBe(true);
    });

    test("secrets, keys and containers are retained in Azure when removed from the program; nothing else is", () => {
        const retained = plan.steps.filter((s) => s.newState.retainOnDelete).map((s) => s.newState.type);
        expect(new Set(retained)).toEqual(new Set(["azure-native:keyvault:Secret", "azure-native:keyvault:Key", "azure-native:storage:BlobContainer"]));
    });

    test("protectStatefulResources=false protects nothing", async () => {
        const unprotected = await planFor(["protectStatefulResources=false"]);
        expect(unprotected.steps.filter((s) => s.newState.protect)).toEqual([]);
    });
});

/** URN to name input of every stateful resource of a plan. */
function statefulNames(plan: Plan): Record<string, string> {
    return Object.fromEntries(
        Object.entries(STATEFUL).map(([urn, [key]]) => {
            const found = plan.steps.find((s) => s.urn === urn);
            return [urn, String(found?.newState.inputs[key])];
        }),
    );
}

describe("switching identityMode between any two modes", () => {
    const pairs = MODES.flatMap((from) => MODES.filter((to) => to !== from).map((to) => [from, to] as const));

    test.each(pairs)("%s -> %s keeps every stateful resource's URN and name", async (from, to) => {
        const [before, after] = await Promise.all([planFor([`identityMode=${from}`]), planFor([`identityMode=${to}`])]);
        expect(statefulNames(after)).toEqual(statefulNames(before));
        expect(Object.values(statefulNames(before))).not.toContain("undefined");
    });

    test.each(pairs)("%s -> %s keeps the cluster's settings that force replacement", async (from, to) => {
        const [before, after] = await Promise.all([planFor([`identityMode=${from}`]), planFor([`identityMode=${to}`])]);
        const cluster = (plan: Plan) => plan.steps.find((s) => s.urn.endsWith("::aks-cluster"))?.newState.inputs ?? {};
        // Name, location, node resource group, DNS prefix, network plugin and the OIDC issuer (which
        // cannot be turned off) are the same in every mode.
        for (const key of ["resourceName", "location", "nodeResourceGroup", "dnsPrefix", "networkProfile", "oidcIssuerProfile", "identity"]) {
            expect([key, cluster(after)[key]]).toEqual([key, cluster(before)[key]]);
        }
    });
});

describe.each([["identityMode=podIdentityAddon"], ["identityMode=podIdentityOss"], ["identityMode=workloadIdentity"], ["keyVaultAuthorization=accessPolicy"]])("with %s", (override) => {
    let plan: Plan;
    beforeAll(async () => {
        plan = await planFor([override]);
    });

    test.each(Object.entries(STATEFUL))("%s keeps its URN and name", (urn, [key, expected]) => {
        const found = plan.steps.find((s) => s.urn === urn);
        expect(found).toBeDefined();
        expect(String(found?.newState.inputs[key])).toMatch(pattern(expected));
    });
});
