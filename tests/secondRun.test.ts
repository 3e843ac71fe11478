// The runs after the first, offline: `pulumi up`, `pulumi refresh`, then `pulumi preview` again
// (tools/plan/secondRun.ts, with what Azure reads back modelled in tools/plan/readBack.ts). A refresh
// followed by a preview changes nothing in any mode, and the edits a team makes on day two change
// what they should and nothing else.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { IDENTITY_MODES, KEY_VAULT_AUTHORIZATIONS } from "../config";
import { planKey, runPlan } from "../tools/plan/client";
import { applyOutputChange, refreshed } from "../tools/plan/readBack";
import type { StoredResource } from "../tools/plan/readBack";
import { applyIgnoreChanges, differingPaths } from "../tools/plan/secondRun";
import type { SecondRun, SecondRunStep } from "../tools/plan/secondRun";

const CLUSTER = "azure-native:containerservice:ManagedCluster";
const POD_IDENTITIES = "pulumi-nodejs:dynamic:PodIdentities";

async function afterRefresh(overrides: string[], then: string[] = []): Promise<SecondRun> {
    const args = ["--after-refresh", "--json", ...overrides.flatMap((o) => ["-c", o]), ...then.flatMap((t) => ["--then", t])];
    // Routed by the first run's config, so that the server that holds its first run computes it.
    const result = await runPlan(args, `secondRun.test:${JSON.stringify(args)}`, planKey("dev", overrides));
    if (result.code !== 0) {
        throw new Error(`plan ${JSON.stringify(args)} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return JSON.parse(result.stdout) as SecondRun;
}

const changed = (run: SecondRun): SecondRunStep[] => run.steps.filter((s) => s.op !== "same");
const ofType = (run: SecondRun, type: string): SecondRunStep[] => run.steps.filter((s) => s.type === type);

const COMBINATIONS = IDENTITY_MODES.flatMap((mode) => KEY_VAULT_AUTHORIZATIONS.map((auth) => [mode, auth] as const));

describe("pulumi refresh, then pulumi preview, changes nothing", () => {
    test.each(COMBINATIONS)("%s/%s", async (mode, auth) => {
        const run = await afterRefresh([`identityMode=${mode}`, `keyVaultAuthorization=${auth}`]);
        expect(changed(run)).toEqual([]);
        expect(run.changeSummary.same).toBeGreaterThan(50);
    });

    test.each([
        ["podIdentityAddon", "rbac"],
        ["podIdentityOss", "accessPolicy"],
        ["workloadIdentity", "accessPolicy"],
    ])("%s/%s with etcd encrypted, a workload mirroring its secret and a pinned Kubernetes minor", async (mode, auth) => {
        const workloads = JSON.stringify([
            { name: "alpha", namespace: "alpha", syncSecret: true },
            { name: "beta", namespace: "beta" },
        ]);
        const run = await afterRefresh([`identityMode=${mode}`, `keyVaultAuthorization=${auth}`, "etcdEncryption=true", `workloads=${workloads}`, "kubernetesVersion=1.36"]);
        expect(changed(run)).toEqual([]);
    });

    test.each([
        ["podIdentityAddon", "private", "firewall"],
        ["podIdentityOss", "public", "firewall"],
        ["workloadIdentity", "private", "natGateway"],
    ])("%s with apiServerAccess %s and egress %s: the firewall's route in its table, the peerings with the runners' VNet, the flow log", async (mode, access, egress) => {
        const runners =
            access === "private" ? ["runnerVnetId=/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-runners/providers/Microsoft.Network/virtualNetworks/vnet-runners"] : [];
        const run = await afterRefresh([`identityMode=${mode}`, `apiServerAccess=${access}`, `egress=${egress}`, ...runners]);
        expect(changed(run)).toEqual([]);
    });

    test.each([
        ["podIdentityOss", "rbac"],
        ["workloadIdentity", "accessPolicy"],
    ])("%s/%s without the demo", async (mode, auth) => {
        const run = await afterRefresh([`identityMode=${mode}`, `keyVaultAuthorization=${auth}`, "demo=false"]);
        expect(changed(run)).toEqual([]);
    });
});

test("Pulumi.yaml refreshes before every update, so that an update sends the node count AKS has", () => {
    const project = parse(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as { options?: { refresh?: string } };
    expect(project.options?.refresh).toBe("always");
});

describe("a team's first edits, after a refresh", () => {
    test.each([
        ["raises the autoscaler's bounds", ["userNodeCountMin=3", "userNodeCountMax=5"]],
        ["lowers them below the pool's count", ["userNodeCountMin=1", "userNodeCountMax=2"]],
    ])("%s: one cluster update, sending the count AKS has", async (_what, then) => {
        const run = await afterRefresh(["identityMode=workloadIdentity", "nodeCount=1"], then);
        const [cluster] = ofType(run, CLUSTER);
        expect(cluster.op).toBe("update");
        expect(cluster.diffs).toEqual(["agentPoolProfiles[1].maxCount", "agentPoolProfiles[1].minCount"]);
        // The count is the one the refresh read (the autoscaler had the pool at its old maximum, 4),
        // never the one sent at creation; AKS's autoscaler brings it inside the new bounds.
        const pools = cluster.inputs?.agentPoolProfiles as Array<Record<string, unknown>>;
        expect(pools[1]).toMatchObject({ count: 4, minCount: Number(then[0].split("=")[1]), maxCount: Number(then[1].split("=")[1]) });
        expect(changed(run).map((s) => s.type)).toEqual([CLUSTER]);
    });

    test.each([
        ["the autoscaler's bounds", ["userNodeCountMax=5"]],
        ["Defender", ["defender=false"]],
        ["the pinned Kubernetes minor", ["kubernetesVersion=1.37"]],
        ["the authorized IP ranges", ['apiServerAuthorizedIpRanges=["203.0.113.0/24"]']],
        ["the team's tags", ['tags={"costCentre":"cc-1234"}']],
        ["the cluster's subnets (the API server joins its own, for etcd encryption)", ["etcdEncryption=true"]],
    ])("with the add-on, a change of %s updates the cluster and writes the pod identities again", async (_what, then) => {
        const base = ["identityMode=podIdentityAddon", "kubernetesVersion=1.36", "nodeCount=1"];
        const run = await afterRefresh(base, then);
        expect(ofType(run, CLUSTER).map((s) => s.op)).toEqual(["update"]);
        const [identities] = ofType(run, POD_IDENTITIES);
        expect(identities.op).toBe("update");
        expect(identities.diffs).toEqual(["clusterRevision"]);
    });

    test("a new key lifetime changes no key, since ARM would not, and the plan says so for each existing key", async () => {
        const run = await afterRefresh(["identityMode=workloadIdentity"], ["keyLifetimeDays=120"]);
        expect(changed(run)).toEqual([]);
        expect(run.diagnostics.filter((d) => d.message.startsWith("Key "))).toEqual([
            expect.objectContaining({ severity: "warning", message: expect.stringContaining("Key alpha-demo-key keeps what it was created with (keyLifetimeDays 365 -> 120)") }),
        ]);
    });

    test("a team's tags reach every tagged resource in one run, except the keys, which ARM keeps as created and the plan names", async () => {
        const run = await afterRefresh(["identityMode=workloadIdentity"], ['tags={"costCentre":"cc-1234"}']);
        const updated = changed(run);
        expect(updated.every((s) => s.op === "update" && s.diffs.every((d) => d.startsWith("tags.costCentre") || /^agentPoolProfiles\[\d\]\.tags\.costCentre$/.test(d)))).toBe(true);
        expect(updated.map((s) => s.type)).toContain("azure-native:storage:StorageAccount");
        expect(updated.map((s) => s.type)).not.toContain("azure-native:keyvault:Key");
        expect(run.diagnostics.map((d) => d.message)).toContainEqual(expect.stringMatching(/^Key alpha-demo-key keeps what it was created with \(tags /));
    });

    test("a change the cluster's PUT does not carry leaves the cluster and the pod identities alone", async () => {
        const run = await afterRefresh(["identityMode=podIdentityAddon"], ["logRetentionDays=60"]);
        expect(ofType(run, CLUSTER).map((s) => s.op)).toEqual(["same"]);
        expect(ofType(run, POD_IDENTITIES).map((s) => s.op)).toEqual(["same"]);
        expect(changed(run).length).toBeGreaterThan(0);
    });
});

describe("the model of a refresh", () => {
    const stored = (type: string, name: string, inputs: Record<string, unknown>, outputs: Record<string, unknown>): [string, StoredResource] => [
        `${type}::${name}`,
        { urn: `urn:pulumi:dev::p::${type}::${name}`, type, name, id: name, inputs, outputs },
    ];

    test("azure-native copies what changed since the write into the inputs, and a new list element whole", () => {
        const inputs = { pools: [{ name: "system", count: 2 }] };
        const before = { pools: [{ name: "system", count: 2, osDiskSizeGB: 128 }] };
        const after = {
            pools: [
                { name: "system", count: 3, osDiskSizeGB: 128 },
                { name: "user", count: 4, osDiskSizeGB: 128 },
            ],
        };
        expect(applyOutputChange(inputs, before, after)).toEqual({
            pools: [
                { name: "system", count: 3 },
                { name: "user", count: 4, osDiskSizeGB: 128 },
            ],
        });
        // A default Azure filled in at the write stays out of the inputs while it does not change.
        expect(applyOutputChange(inputs, before, before)).toBe(inputs);
    });

    test("a pool of its own beside the cluster would come back in the cluster's pools, which Pulumi cannot ignore", () => {
        const pool = { name: "system", count: 2, orchestratorVersion: "1.36.2" };
        const state = new Map([
            stored(CLUSTER, "aks-cluster", { resourceName: "aks", agentPoolProfiles: [{ name: "system", count: 2 }] }, { name: "aks", kubernetesVersion: "1.36", agentPoolProfiles: [pool] }),
            stored("azure-native:containerservice:AgentPool", "aks-user-pool", { resourceName: "aks", agentPoolName: "user" }, { agentPoolName: "user", resourceName: "aks", count: 2, mode: "User" }),
        ]);
        const cluster = refreshed(state).get(`${CLUSTER}::aks-cluster`);
        expect(cluster?.inputs.agentPoolProfiles).toEqual([
            { name: "system", count: 2, orchestratorVersion: "1.36.3" },
            { name: "user", count: 2, mode: "User" },
        ]);
        const program = { resourceName: "aks", agentPoolProfiles: [{ name: "system", count: 2 }] };
        expect(() => applyIgnoreChanges(program, cluster?.inputs ?? {}, ["agentPoolProfiles[1]"])).toThrow("one or more elements of the path are missing");
        expect(differingPaths(cluster?.inputs, applyIgnoreChanges(program, cluster?.inputs ?? {}, ["agentPoolProfiles[0].orchestratorVersion"]))).toEqual(["agentPoolProfiles[1]"]);
    });

    test("a vault's access policies, left unset, stay out of its inputs; set inline, they come back", () => {
        const policy = stored("azure-native:keyvault:AccessPolicy", "p", { vaultName: "kv" }, { vaultName: "kv", policy: { objectId: "o" } });
        const unset = refreshed(new Map([stored("azure-native:keyvault:Vault", "v", { properties: {} }, { name: "kv", properties: { accessPolicies: [] } }), policy]));
        expect(unset.get("azure-native:keyvault:Vault::v")?.inputs).toEqual({ properties: {} });
        const inline = refreshed(new Map([stored("azure-native:keyvault:Vault", "v", { properties: { accessPolicies: [] } }, { name: "kv", properties: { accessPolicies: [] } }), policy]));
        expect(inline.get("azure-native:keyvault:Vault::v")?.inputs).toEqual({ properties: { accessPolicies: [{ objectId: "o" }] } });
    });

    test("a route table's routes, left unset because the firewall writes its route on its own, stay out of its inputs; set inline, they come back", () => {
        const route = stored(
            "azure-native:network:Route",
            "r",
            { routeTableName: "rt" },
            { name: "default-to-firewall", routeTableName: "rt", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: "10.76.0.4" },
        );
        const unset = refreshed(new Map([stored("azure-native:network:RouteTable", "t", { routeTableName: "rt" }, { name: "rt" }), route]));
        expect(unset.get("azure-native:network:RouteTable::t")?.inputs).toEqual({ routeTableName: "rt" });
        const inline = refreshed(new Map([stored("azure-native:network:RouteTable", "t", { routeTableName: "rt", routes: [] }, { name: "rt", routes: [] }), route]));
        expect(inline.get("azure-native:network:RouteTable::t")?.inputs).toEqual({
            routeTableName: "rt",
            routes: [{ name: "default-to-firewall", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: "10.76.0.4" }],
        });
    });

    test("ignoreChanges takes the old value, removes what the old inputs lack, and fails where a list element is on one side only", () => {
        expect(applyIgnoreChanges({ a: 1, b: { c: 2 } }, { a: 5 }, ["a", "b.c"])).toEqual({ a: 5, b: {} });
        expect(applyIgnoreChanges({ l: [{ n: 1 }] }, { l: [{ n: 9 }] }, ["l[0].n"])).toEqual({ l: [{ n: 9 }] });
        expect(() => applyIgnoreChanges({ l: [{ n: 1 }] }, { l: [] }, ["l[0].n"])).toThrow("path are missing");
        expect(applyIgnoreChanges({ l: [] }, { l: [] }, ["l[1]"])).toEqual({ l: [] });
    });
});
