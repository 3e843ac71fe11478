// The state migration for stacks deployed with one PodIdentityAttachment per workload: what it drops,
// what it keeps, and the one-line refusals of input it cannot change.
import { AGENT_POOL_TYPE, main, migrateState, RETIRED_TYPE } from "../tools/stateMigration";

const PREFIX = "urn:pulumi:dev::aks-identity-vault::";
const CLUSTER = `${PREFIX}aks-identity-vault:aks:AksCluster$azure-native:containerservice:ManagedCluster::aks-cluster`;
const BINDING = `${PREFIX}aks-identity-vault:binding:PodIdentityBinding::alpha`;
const ATTACHMENT = `${PREFIX}aks-identity-vault:binding:PodIdentityBinding$${RETIRED_TYPE}::alpha-pod-identity`;
const DELAY = `${PREFIX}aks-identity-vault:binding:PodIdentityBinding$pulumi-nodejs:dynamic:RolePropagationDelay::alpha-operator-propagation`;
const JOB = `${PREFIX}aks-identity-vault:demo:DemoWorkloads$kubernetes:batch/v1:Job::alpha-verify-bound`;

/** An export as `pulumi stack export` writes it, of a stack with one workload in add-on mode. */
function exportOf(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        version: 3,
        deployment: {
            manifest: { time: "2026-11-01T00:00:00Z", magic: "m", version: "v3.200.0" },
            secrets_providers: { type: "passphrase", state: { salt: "s" } },
            resources: [
                {
                    urn: CLUSTER,
                    custom: true,
                    id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks",
                    type: "azure-native:containerservice:ManagedCluster",
                    inputs: { resourceName: "aks", agentPoolProfiles: [{ name: "system", count: 2 }] },
                },
                { urn: BINDING, custom: false, type: "aks-identity-vault:binding:PodIdentityBinding" },
                { urn: DELAY, custom: true, id: "d", type: "pulumi-nodejs:dynamic:RolePropagationDelay", parent: BINDING },
                {
                    urn: ATTACHMENT,
                    custom: true,
                    id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/podIdentities/alpha/alpha",
                    type: RETIRED_TYPE,
                    parent: BINDING,
                    inputs: { __provider: "exports.handler = ...", name: "alpha", namespace: "alpha" },
                    dependencies: [CLUSTER, DELAY],
                    propertyDependencies: { clusterName: [CLUSTER] },
                },
                {
                    urn: JOB,
                    custom: true,
                    id: "alpha/alpha-verify-bound",
                    type: "kubernetes:batch/v1:Job",
                    dependencies: [ATTACHMENT, DELAY],
                    propertyDependencies: { metadata: [], spec: [ATTACHMENT] },
                    deletedWith: ATTACHMENT,
                },
            ],
            ...extra,
        },
    };
}

test("drops each attachment and every reference to it, and keeps everything else as it was", () => {
    const { exported, removed } = migrateState(exportOf());
    expect(removed).toEqual([ATTACHMENT]);
    const before = exportOf();
    const resources = (exported.deployment as { resources: Array<Record<string, unknown>> }).resources;
    expect(resources.map((r) => r.urn)).toEqual([CLUSTER, BINDING, DELAY, JOB]);
    expect(resources[3]).toEqual({ urn: JOB, custom: true, id: "alpha/alpha-verify-bound", type: "kubernetes:batch/v1:Job", dependencies: [DELAY], propertyDependencies: { metadata: [], spec: [] } });
    expect(resources.slice(0, 3)).toEqual((before.deployment as { resources: unknown[] }).resources.slice(0, 3));
    expect({ ...exported, deployment: undefined }).toEqual({ ...before, deployment: undefined });
    expect(JSON.stringify(exported)).not.toContain(ATTACHMENT);
});

describe("the user pool's own resource, which the cluster now declares", () => {
    const COMPONENT = `${PREFIX}aks-identity-vault:aks:AksCluster::aks`;
    const POOL = `${PREFIX}aks-identity-vault:aks:AksCluster$${AGENT_POOL_TYPE}::aks-user-pool`;
    const PROVIDER = `${PREFIX}aks-identity-vault:aks:AksCluster$pulumi:providers:kubernetes::aks-k8s`;
    const withPool = (): Record<string, unknown> => {
        const exported = exportOf();
        const deployment = exported.deployment as { resources: unknown[] };
        deployment.resources.push(
            { urn: COMPONENT, custom: false, type: "aks-identity-vault:aks:AksCluster" },
            {
                urn: POOL,
                custom: true,
                id: "/subscriptions/s/.../agentPools/user",
                type: AGENT_POOL_TYPE,
                parent: COMPONENT,
                dependencies: [CLUSTER],
                inputs: { agentPoolName: "user", resourceGroupName: "rg", resourceName: "aks", mode: "User", enableAutoScaling: true, minCount: 2, maxCount: 4, count: 2 },
                outputs: { name: "user", count: 3, mode: "User" },
            },
            { urn: PROVIDER, custom: true, id: "p", type: "pulumi:providers:kubernetes", parent: COMPONENT, dependencies: [POOL, CLUSTER] },
        );
        return exported;
    };

    test("is dropped with every reference to it, so that the next pulumi up does not delete the pool", () => {
        const { exported, removed } = migrateState(withPool());
        expect(removed).toEqual([ATTACHMENT, POOL]);
        const resources = (exported.deployment as { resources: Array<Record<string, unknown>> }).resources;
        expect(resources.find((r) => r.urn === PROVIDER)).toMatchObject({ dependencies: [CLUSTER] });
        expect(JSON.stringify(exported)).not.toContain(POOL);
        // The cluster's stored pools now hold the pool as the program declares it, with the count it last had.
        expect(resources.find((r) => r.urn === CLUSTER)?.inputs).toEqual({
            resourceName: "aks",
            agentPoolProfiles: [
                { name: "system", count: 2 },
                { name: "user", mode: "User", enableAutoScaling: true, minCount: 2, maxCount: 4, count: 3 },
            ],
        });
    });

    test("an agent pool of another component is kept", () => {
        const exported = withPool();
        const pool = (exported.deployment as { resources: Array<Record<string, unknown>> }).resources.find((r) => r.urn === POOL);
        if (pool !== undefined) pool.parent = BINDING;
        expect(migrateState(exported).removed).toEqual([ATTACHMENT]);
    });

    test("the command says what became of the pool", async () => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(["before.json"], { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } }, () => JSON.stringify(withPool()));
        expect(code).toBe(0);
        expect(err.join("")).toContain("the user pool is now the cluster's second pool, which the next `pulumi up` finds in place");
    });
});

test("a state without attachments comes back unchanged", () => {
    const migrated = migrateState(migrateState(exportOf()).exported);
    expect(migrated.removed).toEqual([]);
    expect(migrated.exported).toEqual(migrateState(exportOf()).exported);
});

test.each([
    [{ version: 3 }, "the input is not the output of `pulumi stack export`: it has no deployment.resources"],
    [{ ...exportOf(), version: 2 }, "the export has version 2; this tool reads version 3, what `pulumi stack export` writes"],
    [exportOf({ pending_operations: [{ resource: {}, type: "creating" }] }), "the export has 1 pending operations: run `pulumi refresh` (or `pulumi cancel`) first"],
    [{ version: 3, deployment: { resources: [{ type: "x" }] } }, "deployment.resources[0] has no urn"],
    [
        {
            version: 3,
            deployment: {
                resources: [
                    { urn: ATTACHMENT, type: RETIRED_TYPE },
                    { urn: JOB, parent: ATTACHMENT },
                ],
            },
        },
        `resources are parented to a resource this tool drops: ${JOB}`,
    ],
])("refuses what it cannot change: %#", (input, message) => {
    expect(() => migrateState(input)).toThrow(message);
});

describe("the command", () => {
    const run = async (argv: string[], files: Record<string, string>) => {
        const out: string[] = [];
        const err: string[] = [];
        const read = (file: string): string => {
            const text = files[file];
            if (text === undefined) throw new Error("ENOENT: no such file");
            return text;
        };
        const code = await main(argv, { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } }, read);
        return { code, stdout: out.join(""), stderr: err.join("") };
    };

    test("writes the migrated export to stdout and says what it dropped on stderr", async () => {
        const result = await run(["before.json"], { "before.json": JSON.stringify(exportOf()) });
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toEqual(migrateState(exportOf()).exported);
        expect(result.stderr).toContain("dropped 1 resources from the state (Azure keeps them)");
        expect(result.stderr).toContain(`  ${ATTACHMENT}\n`);
    });

    test("bad input is one line and code 1, never a stack trace", async () => {
        for (const [argv, files, line] of [
            [[], {}, "usage: npm run -s migrate-state"],
            [["missing.json"], {}, "migrate-state: cannot read missing.json: ENOENT: no such file"],
            [["bad.json"], { "bad.json": "{" }, "migrate-state: bad.json: "],
            [["old.json"], { "old.json": JSON.stringify({ version: 1, deployment: { resources: [] } }) }, "migrate-state: old.json: the export has version 1"],
        ] as const) {
            const result = await run([...argv], files);
            expect([result.code, result.stdout, result.stderr.split("\n").length]).toEqual([1, "", 2]);
            expect(result.stderr).toContain(line);
        }
    });
});
