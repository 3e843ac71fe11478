// `npm run graph`: the graph logic on small hand-made plans (longest path,
// components and providers, totals, Mermaid output, the deploy-time rule), then the real plans of the
// three identity modes: a flowchart, a critical path from a root to a verification Job, a modelled
// total below the sequential one, a duration for every type, and nothing waiting for the cluster
// without needing it; and the figures docs/performance.md quotes.
import * as fs from "fs";
import * as path from "path";
import { DURATIONS, MANAGED_CLUSTER_TYPE, TypeDuration } from "../tools/graph/durations";
import {
    Analysis,
    DeployGraph,
    analyse,
    buildGraph,
    criticalPath,
    deployTimeOffenders,
    displayEdges,
    escapeMermaid,
    NETWORK_CHOICES,
    pathEdges,
    renderChoices,
    renderMermaid,
    renderReport,
    totals,
    totalsLine,
    unknownTypes,
    VAULT_TYPE,
} from "../tools/graph/graph";
import type { PreviewStep } from "../tools/plan/types";
import { planFor } from "./support";
import { workloadsConfig } from "../tools/bench";

// ---------------------------------------------------------------------------------------------------
// Hand-made plans
// ---------------------------------------------------------------------------------------------------

const STACK: PreviewStep = {
    urn: "urn:pulumi:test::proj::pulumi:pulumi:Stack::proj-test",
    newState: { type: "pulumi:pulumi:Stack", custom: false, parent: "", provider: "", dependencies: [], propertyDependencies: {} },
};

interface ResourceOptions {
    parent?: PreviewStep;
    dependsOn?: PreviewStep[];
    /** Inputs and the resources their values come from. */
    inputs?: Record<string, PreviewStep[]>;
    provider?: PreviewStep;
    custom?: boolean;
}

/** One step of a hand-made plan. */
function resource(type: string, name: string, options: ResourceOptions = {}): PreviewStep {
    const inputs = options.inputs ?? {};
    const dependencies = [...(options.dependsOn ?? []), ...Object.values(inputs).flat()].map((s) => s.urn);
    return {
        urn: `urn:pulumi:test::proj::${type}::${name}`,
        newState: {
            type,
            custom: options.custom ?? true,
            parent: (options.parent ?? STACK).urn,
            provider: options.provider === undefined ? "" : `${options.provider.urn}::04da6b54-80e4-46f7-96ec-b56ff0331ba9`,
            dependencies: [...new Set(dependencies)],
            propertyDependencies: Object.fromEntries(Object.entries(inputs).map(([input, from]) => [input, from.map((s) => s.urn)])),
        },
    };
}

/** A durations table of `type: seconds`. */
function table(seconds: Record<string, number>, extra: Record<string, Partial<TypeDuration>> = {}): Record<string, TypeDuration> {
    return Object.fromEntries(Object.entries(seconds).map(([type, s]) => [type, { seconds: s, source: "test", ...extra[type] }]));
}

const T = { a: "test:index:A", b: "test:index:B", c: "test:index:C", d: "test:index:D", zero: "test:index:Zero" };
const DELAY = "pulumi-nodejs:dynamic:RolePropagationDelay";
const TIMES = table({ [T.a]: 10, [T.b]: 5, [T.c]: 20, [T.d]: 1, [T.zero]: 0, [MANAGED_CLUSTER_TYPE]: 100 });

const names = (g: DeployGraph, urns: Iterable<string>): string[] => [...urns].map((u) => g.nodes.find((n) => n.urn === u)?.name ?? u);
const pathNames = (steps: readonly PreviewStep[]): string[] => criticalPath(buildGraph([STACK, ...steps], TIMES)).map((s) => s.node.name);

describe("the longest path", () => {
    test("is the longest chain by duration, with start and finish times", () => {
        const a = resource(T.a, "a");
        const b = resource(T.b, "b", { dependsOn: [a] });
        const c = resource(T.c, "c", { dependsOn: [a] });
        const d = resource(T.d, "d", { dependsOn: [b, c] });
        const graph = buildGraph([STACK, a, b, c, d], TIMES);
        const path = criticalPath(graph);
        expect(path.map((s) => [s.node.name, s.start, s.finish])).toEqual([
            ["a", 0, 10],
            ["c", 10, 30],
            ["d", 30, 31],
        ]);
        expect(totals(graph, path)).toEqual({ modelledSeconds: 31, sequentialSeconds: 36, ratio: 36 / 31 });
    });

    test("starts at a root even when the first resources take no time", () => {
        const zero = resource(T.zero, "suffix");
        const a = resource(T.a, "vault", { dependsOn: [zero] });
        const b = resource(T.b, "secret", { dependsOn: [a] });
        expect(pathNames([zero, a, b])).toEqual(["suffix", "vault", "secret"]);
    });

    test("of independent resources is the longest one alone", () => {
        expect(pathNames([resource(T.a, "a"), resource(T.c, "c"), resource(T.b, "b")])).toEqual(["c"]);
    });

    test("of an empty plan is empty, and so are its totals", () => {
        const graph = buildGraph([STACK], TIMES);
        expect(criticalPath(graph)).toEqual([]);
        expect(totals(graph, [])).toEqual({ modelledSeconds: 0, sequentialSeconds: 0, ratio: 1 });
    });
});

describe("components, providers and the Stack", () => {
    const outer = resource("proj:index:Outer", "outer", { custom: false });
    const inner = resource("proj:index:Inner", "inner", { custom: false, parent: outer });
    const a = resource(T.a, "a", { parent: outer });
    const b = resource(T.b, "b", { parent: inner });
    const cluster = resource(MANAGED_CLUSTER_TYPE, "cluster");
    const provider = resource("pulumi:providers:kubernetes", "k8s", { inputs: { kubeconfig: [cluster] } });
    const namespace = resource(T.d, "namespace", { provider });
    const waiter = resource(T.c, "waiter", { dependsOn: [outer], parent: inner });
    const graph = buildGraph([STACK, outer, inner, a, b, cluster, provider, namespace, waiter], TIMES);

    test("are not nodes", () => {
        expect(graph.nodes.map((n) => n.name)).toEqual(["a", "b", "cluster", "namespace", "waiter"]);
    });

    test("a dependency on a component is one on every custom resource under it, nested ones included", () => {
        const node = graph.nodes.find((n) => n.name === "waiter");
        expect(names(graph, node?.waitsFor.keys() ?? []).sort()).toEqual(["a", "b"]);
    });

    test("a resource waits for what its provider waits for", () => {
        expect(graph.edges.filter((e) => e.to.endsWith("::namespace")).map((e) => names(graph, [e.from, e.to]))).toEqual([["cluster", "namespace"]]);
    });

    test("each node belongs to its nearest component", () => {
        expect(graph.nodes.map((n) => [n.name, n.component])).toEqual([
            ["a", outer.urn],
            ["b", inner.urn],
            ["cluster", undefined],
            ["namespace", undefined],
            ["waiter", inner.urn],
        ]);
        expect(graph.components.map((c) => [c.name, c.parent])).toEqual([
            ["outer", undefined],
            ["inner", outer.urn],
        ]);
    });

    test("a dependency missing from the plan, or a cycle, is an error", () => {
        const ghost = resource(T.a, "ghost");
        expect(() => buildGraph([STACK, resource(T.b, "b", { dependsOn: [ghost] })], TIMES)).toThrow(/ghost is not in the plan/);
        const x = resource(T.a, "x");
        const y = resource(T.b, "y", { dependsOn: [x] });
        x.newState.dependencies = [y.urn];
        expect(() => buildGraph([STACK, x, y], TIMES)).toThrow(/cycle through x, y/);
    });
});

describe("durations", () => {
    test("a type without an entry takes the fallback and is listed", () => {
        const graph = buildGraph([STACK, resource("test:index:Mystery", "m"), resource(T.a, "a")], TIMES);
        expect(unknownTypes(graph)).toEqual(["test:index:Mystery"]);
        expect(graph.nodes.find((n) => n.name === "m")?.seconds).toBe(60);
        expect(renderReport(analyse([STACK, resource("test:index:Mystery", "m")], TIMES))).toContain("Types without an entry, timed by the fallback: test:index:Mystery.");
    });

    test("a resource that states its own length (a wait) is timed by it", () => {
        const delays = table({ [DELAY]: 30 }, { [DELAY]: { secondsInput: "seconds" } });
        const stated = (inputs: Record<string, unknown> | undefined) => {
            const step = resource(DELAY, "wait");
            return buildGraph([STACK, { ...step, newState: { ...step.newState, inputs } }], delays).nodes[0].seconds;
        };
        expect(stated({ seconds: 90 })).toBe(90);
        expect(stated({ seconds: "[unknown]" })).toBe(30);
        expect(stated({ seconds: -1 })).toBe(30);
        expect(stated(undefined)).toBe(30);
    });

    test("every entry gives a source and a non-negative number of seconds", () => {
        for (const [type, entry] of Object.entries(DURATIONS)) {
            expect([type, entry.seconds >= 0 && Number.isFinite(entry.seconds), entry.source.length > 10]).toEqual([type, true, true]);
        }
    });
});

describe("writes to one Key Vault", () => {
    const vault = resource(VAULT_TYPE, "vault");
    const cluster = resource(MANAGED_CLUSTER_TYPE, "cluster");
    const SECRET = "azure-native:keyvault:Secret";
    const KEY = "azure-native:keyvault:Key";
    const ENDPOINT = "azure-native:network:PrivateEndpoint";
    const times = table({ [VAULT_TYPE]: 10, [SECRET]: 3, [KEY]: 3, [ENDPOINT]: 20, [MANAGED_CLUSTER_TYPE]: 100 });
    const chainOf = (...steps: PreviewStep[]) => analyse([STACK, vault, cluster, ...steps], times);

    test("are found by the input that names the vault, and timed from the first start to the last finish", () => {
        const endpoint = resource(ENDPOINT, "endpoint", { inputs: { privateLinkServiceConnections: [vault] } });
        const secret = resource(SECRET, "secret", { inputs: { vaultName: [vault] }, dependsOn: [endpoint] });
        const key = resource(KEY, "key", { inputs: { vaultName: [vault] }, dependsOn: [secret] });
        const elsewhere = resource(SECRET, "tagged", { inputs: { tags: [vault] }, dependsOn: [key] });
        const [chain] = chainOf(endpoint, secret, key, elsewhere).vaultChains;
        expect(chain.writes.map((w) => w.name)).toEqual(["endpoint", "secret", "key"]);
        expect([chain.ordered, chain.start, chain.finish]).toEqual([true, 10, 36]);
    });

    test("that could overlap are reported, and the command's rule fails on them", () => {
        const secret = resource(SECRET, "secret", { inputs: { vaultName: [vault] } });
        const key = resource(KEY, "key", { inputs: { vaultName: [vault] } });
        const analysis = chainOf(secret, key);
        expect(analysis.vaultChains[0].ordered).toBe(false);
        expect(renderReport(analysis)).toContain("- vault: 2 writes, NOT ordered: some of them would run at once");
    });

    test("an ordered chain through a resource that is not a write still counts as ordered", () => {
        const secret = resource(SECRET, "secret", { inputs: { vaultName: [vault] } });
        const between = resource(T.a, "between", { dependsOn: [secret] });
        const key = resource(KEY, "key", { inputs: { vaultName: [vault] }, dependsOn: [between] });
        expect(chainOf(secret, between, key).vaultChains[0].ordered).toBe(true);
    });

    test("are set against the cluster's creation, before or after it ends", () => {
        const secret = resource(SECRET, "secret", { inputs: { vaultName: [vault] } });
        expect(renderReport(chainOf(secret))).toContain("- vault: 1 writes, one at a time, 0:10-0:13; the cluster is created 0:00-1:40, so the chain ends 1:27 before it.");
        const late = resource(SECRET, "late", { inputs: { vaultName: [vault] }, dependsOn: [cluster] });
        expect(renderReport(chainOf(late))).toContain("so the chain ends 0:03 after it.");
        expect(renderReport(analyse([STACK, resource(T.a, "a")], times))).toContain("The plan has no Key Vault.");
    });
});

describe("totals", () => {
    test("the last line has one decimal and the ratio", () => {
        expect(totalsLine({ modelledSeconds: 936, sequentialSeconds: 1866, ratio: 1866 / 936 })).toBe("modelled: 15.6 min, sequential: 31.1 min (2.0x faster)");
        expect(totalsLine({ modelledSeconds: 60, sequentialSeconds: 60, ratio: 1 })).toBe("modelled: 1.0 min, sequential: 1.0 min (1.0x faster)");
    });

    test("the report ends with it", () => {
        const a = resource(T.a, "a");
        const lines = renderReport(analyse([STACK, a, resource(T.c, "c", { dependsOn: [a] }), resource(T.b, "b")], TIMES)).split("\n");
        expect(lines[lines.length - 1]).toBe("modelled: 0.5 min, sequential: 0.6 min (1.2x faster)");
    });
});

describe("the Mermaid flowchart", () => {
    /** The edges of a flowchart, in the order Mermaid numbers them for linkStyle. */
    const edgeLines = (mermaid: string): string[][] => [...mermaid.matchAll(/^ {2}(n\d+) (?:-->|-\.->\|[^|]*\|) (n\d+)$/gm)].map((m) => [m[1], m[2]]);

    test("escapes what would end or change a label", () => {
        expect(escapeMermaid('say "hi" <b>#1</b> & `x` | y')).toBe("say #quot;hi#quot; #lt;b#gt;#35;1#lt;/b#gt; #amp; #96;x#96; #124; y");
        const odd = resource(T.a, 'odd "name" <script>');
        const group = resource("proj:index:Group", 'group "#1"', { custom: false });
        const mermaid = renderMermaid(buildGraph([STACK, group, resource(T.b, "inside", { parent: group }), odd], TIMES), []);
        expect(mermaid).toContain('n1["odd #quot;name#quot; #lt;script#gt;<br/>A, 10 s"]');
        expect(mermaid).toContain('subgraph g0["group #quot;#35;1#quot; (Group)"]');
        expect(mermaid).not.toMatch(/<script>/);
    });

    test("groups nodes by component, nested, and leaves empty components out", () => {
        const outer = resource("proj:index:Outer", "outer", { custom: false });
        const inner = resource("proj:index:Inner", "inner", { custom: false, parent: outer });
        const empty = resource("proj:index:Empty", "empty", { custom: false });
        const mermaid = renderMermaid(buildGraph([STACK, outer, inner, empty, resource(T.a, "a", { parent: inner }), resource(T.b, "top")], TIMES), []);
        expect(mermaid.split("\n").slice(0, 9)).toEqual([
            "flowchart LR",
            expect.stringMatching(/^ {2}%%/),
            '  subgraph g0["outer (Outer)"]',
            '    subgraph g1["inner (Inner)"]',
            '      n0["a<br/>A, 10 s"]',
            "    end",
            "  end",
            '  n1["top<br/>B, 5 s"]',
            "  classDef critical fill:#fde2e1,stroke:#c0392b,stroke-width:3px",
        ]);
    });

    test("highlights the critical nodes, and the critical edges by their index", () => {
        const a = resource(T.a, "a");
        const b = resource(T.b, "b", { dependsOn: [a] });
        const c = resource(T.c, "c", { dependsOn: [a] });
        const d = resource(T.d, "d", { dependsOn: [b, c, a] });
        const graph = buildGraph([STACK, a, b, c, d], TIMES);
        const path = criticalPath(graph);
        const mermaid = renderMermaid(graph, path);
        expect(mermaid).toContain("  class n0,n2,n3 critical");
        const edges = edgeLines(mermaid);
        const indices = (/^ {2}linkStyle ([\d,]+) /m.exec(mermaid)?.[1] ?? "").split(",").map(Number);
        expect(indices.map((i) => edges[i])).toEqual([
            ["n0", "n2"],
            ["n2", "n3"],
        ]);
        expect(edges).not.toContainEqual(["n0", "n3"]); // implied by a -> b -> d
    });

    test("leaves out only edges a longer chain implies, and keeps the ones it is told to", () => {
        const a = resource(T.a, "a");
        const b = resource(T.zero, "b", { dependsOn: [a] });
        const c = resource(T.c, "c", { dependsOn: [a, b] });
        const graph = buildGraph([STACK, a, b, c], TIMES);
        const shown = (keep: ReturnType<typeof pathEdges>) => displayEdges(graph, keep).map((e) => names(graph, [e.from, e.to]).join("->"));
        expect(shown([])).toEqual(["a->b", "b->c"]);
        expect(shown([{ from: a.urn, to: c.urn }])).toEqual(["a->b", "a->c", "b->c"]);
    });
});

describe("the deploy-time rule", () => {
    const cluster = resource(MANAGED_CLUSTER_TYPE, "cluster");
    const identity = resource("azure-native:managedidentity:UserAssignedIdentity", "identity");
    const offenders = (...steps: PreviewStep[]): string[] =>
        deployTimeOffenders(buildGraph([STACK, cluster, identity, ...steps], TIMES)).map((o) => `${o.node.name} via ${o.through.name} [${o.inputs.join(",")}]`);

    test("allows grants on the cluster, grants to what it creates, and federated credentials for its issuer", () => {
        expect(
            offenders(
                resource("azure-native:authorization:RoleAssignment", "admin", { inputs: { scope: [cluster] } }),
                resource("azure-native:authorization:RoleAssignment", "node-group", { inputs: { scope: [cluster], principalId: [identity] } }),
                resource("azure-native:authorization:RoleAssignment", "kubelet", { inputs: { principalId: [cluster], scope: [identity] } }),
                resource("azure-native:managedidentity:FederatedIdentityCredential", "federation", { inputs: { issuer: [cluster], resourceName: [identity] } }),
                resource("kubernetes:core/v1:Namespace", "namespace", { dependsOn: [cluster] }),
            ),
        ).toEqual([]);
    });

    test("reports Azure resources that wait for the cluster through dependsOn, another input, or a provider", () => {
        const provider = resource("pulumi:providers:azure-native", "after-cluster", { dependsOn: [cluster] });
        expect(
            offenders(
                provider,
                resource("azure-native:storage:StorageAccount", "account", { dependsOn: [cluster] }),
                resource("azure-native:authorization:RoleAssignment", "grant", { inputs: { scope: [identity] }, dependsOn: [cluster] }),
                resource("azure-native:keyvault:Vault", "vault", { inputs: { tags: [cluster] } }),
                resource("azure-native:privatedns:PrivateZone", "zone", { provider }),
            ),
        ).toEqual(["account via cluster []", "grant via cluster []", "vault via cluster [tags]", "zone via cluster []"]);
    });

    test("reports what waits for an allowed grant, since that grant waits for the cluster", () => {
        const admin = resource("azure-native:authorization:RoleAssignment", "admin", { inputs: { scope: [cluster] } });
        expect(offenders(admin, resource("azure-native:keyvault:Secret", "secret", { dependsOn: [admin] }))).toEqual(["secret via admin []"]);
    });
});

// ---------------------------------------------------------------------------------------------------
// The real plans
// ---------------------------------------------------------------------------------------------------

const MODES = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"] as const;
/**
 * One plan per identity mode, each with what shows the mode's particulars: two workloads for the
 * add-on (their entries share the one pod-identity write), a service-principal workload for the open-source mode
 * (its Entra application, service principal and password need durations too).
 */
const CONFIGURATIONS: Record<(typeof MODES)[number], string[]> = {
    // The default mode; the same overrides as tests/stack.test.ts, so the plan is computed once.
    podIdentityAddon: ['workloads=[{"name":"alpha","namespace":"alpha"},{"name":"beta","namespace":"team-beta"}]'],
    // Egress through a NAT gateway, and through the firewall to a private API server, so that every type
    // of the durations table is in one of the three plans.
    podIdentityOss: ["identityMode=podIdentityOss", 'workloads=[{"name":"alpha","namespace":"alpha"},{"name":"legacy","namespace":"legacy","identityType":"servicePrincipal"}]', "egress=natGateway"],
    // Access policies, for the same reason.
    workloadIdentity: ["identityMode=workloadIdentity", "keyVaultAuthorization=accessPolicy", "apiServerAccess=private", "egress=firewall"],
};

describe("the real plans", () => {
    const analyses = new Map<string, Analysis>();
    beforeAll(async () => {
        const plans = await Promise.all(MODES.map((mode) => planFor(CONFIGURATIONS[mode])));
        MODES.forEach((mode, i) => analyses.set(mode, analyse(plans[i].steps)));
    }, 60000);
    const of = (label: string): Analysis => {
        const analysis = analyses.get(label);
        if (analysis === undefined) {
            throw new Error(`no plan for ${label}`);
        }
        return analysis;
    };

    test.each(MODES)("%s: the report has the flowchart, the durations, the critical path and the totals line", (mode) => {
        const report = renderReport(of(mode));
        expect(report).toContain("```mermaid\nflowchart LR\n");
        expect(report).toMatch(/^ {2}classDef critical /m);
        expect(report).toMatch(/^ {2}linkStyle \d+(,\d+)* /m);
        expect(report).toMatch(/^\| `azure-native:containerservice:ManagedCluster` \| 1 \| 8 min \|/m);
        expect(report).toMatch(/\nmodelled: \d+\.\d min, sequential: \d+\.\d min \(\d+\.\dx faster\)$/);
    });

    test.each(MODES)("%s: the critical path runs from a root through the cluster to a verification Job", (mode) => {
        const { graph, path } = of(mode);
        const first = path[0].node;
        const last = path[path.length - 1].node;
        expect(graph.edges.filter((e) => e.to === first.urn)).toEqual([]);
        expect(path.map((s) => s.node.type)).toContain(MANAGED_CLUSTER_TYPE);
        expect([last.type, last.name]).toEqual(["kubernetes:batch/v1:Job", expect.stringMatching(/(-verify-(un)?bound|^impostor-.*)$/)]);
    });

    test.each(MODES)("%s: the modelled total is less than the sequential one", (mode) => {
        const { modelledSeconds, sequentialSeconds } = of(mode).totals;
        expect(modelledSeconds).toBeLessThan(sequentialSeconds);
        expect(modelledSeconds).toBeGreaterThan(DURATIONS[MANAGED_CLUSTER_TYPE].seconds);
    });

    test.each(MODES)("%s: every resource type has a duration", (mode) => {
        expect(unknownTypes(of(mode).graph)).toEqual([]);
    });

    test("together they use every entry of the durations table, so it holds no stale type", () => {
        const used = new Set(MODES.flatMap((mode) => of(mode).graph.nodes.map((n) => n.type)));
        expect(Object.keys(DURATIONS).filter((type) => !used.has(type))).toEqual([]);
    });

    test.each(MODES)("%s: nothing waits for the cluster without needing it", (mode) => {
        expect(of(mode).offenders.map((o) => `${o.node.name} waits for ${o.through.name}`)).toEqual([]);
    });

    test.each(MODES)("%s: the vault's writes run one at a time and end before the cluster is created; the waits are on the path", (mode) => {
        const { vaultChains, cluster, path } = of(mode);
        expect(vaultChains).toHaveLength(1);
        expect(vaultChains[0].ordered).toBe(true);
        expect(vaultChains[0].finish).toBeLessThan(cluster?.finish ?? 0);
        const types = path.map((s) => s.node.type);
        // Before the cluster, the slower of the grants' wait and (egress firewall) the firewall's path.
        const before = mode === "workloadIdentity" ? "azure-native:network:AzureFirewall" : "pulumi-nodejs:dynamic:RolePropagationDelay";
        expect(types).toEqual(expect.arrayContaining([before, "pulumi-nodejs:dynamic:ClusterAccessWait"]));
        expect(types.indexOf(before)).toBeLessThan(types.indexOf(MANAGED_CLUSTER_TYPE));
        expect(types.indexOf("pulumi-nodejs:dynamic:ClusterAccessWait")).toBeGreaterThan(types.indexOf(MANAGED_CLUSTER_TYPE));
    });

    test("egress firewall: the cluster is created after the firewall's rules, the firewall and the default route, which set the critical path", () => {
        const { graph, path, cluster } = of("workloadIdentity");
        const onPath = path.map((s) => s.node.type);
        const upToCluster = onPath.slice(0, onPath.indexOf(MANAGED_CLUSTER_TYPE));
        expect(upToCluster).toEqual(expect.arrayContaining(["azure-native:network:FirewallPolicyRuleCollectionGroup", "azure-native:network:AzureFirewall", "azure-native:network:Route"]));
        const firewall = graph.nodes.find((n) => n.type === "azure-native:network:AzureFirewall");
        expect(cluster?.start).toBeGreaterThanOrEqual(DURATIONS["azure-native:network:AzureFirewall"].seconds);
        expect(firewall).toBeDefined();
    });

    test("podIdentityAddon: the two workloads' pod identities are one cluster update, on the critical path after both grants apply", () => {
        const { graph, path } = of("podIdentityAddon");
        const writes = graph.nodes.filter((n) => n.type === "pulumi-nodejs:dynamic:PodIdentities");
        expect(writes).toHaveLength(1);
        expect(path.map((s) => s.node.urn)).toContain(writes[0].urn);
        const delays = graph.nodes.filter((n) => n.name.endsWith("-operator-propagation"));
        expect(delays.map((d) => d.name)).toEqual(["alpha-operator-propagation", "beta-operator-propagation"]);
        expect(delays.every((d) => writes[0].waitsFor.has(d.urn))).toBe(true);
    });
});

describe("docs/performance.md quotes what npm run graph prints", () => {
    const DOC = fs.readFileSync(path.join(__dirname, "..", "docs", "performance.md"), "utf8");
    // The same fifty as tests/scale.test.ts and npm run bench, so that the plan servers compute their plans once.
    const FIFTY = workloadsConfig(50);
    const report = async (overrides: string[]) => renderReport(analyse((await planFor(overrides)).steps));
    const minutes = (line: string) => /modelled: ([\d.]+) min, sequential: ([\d.]+) min/.exec(line)?.slice(1, 3) ?? [];
    const chain = (text: string) => text.split("\n").find((l) => l.startsWith("- keyvault-vault:")) ?? "";

    test("the example: one workload with the add-on, its vault's writes and its totals", async () => {
        const text = await report([]);
        expect(DOC).toContain(chain(text));
        expect(DOC).toContain(`${text.trimEnd().split("\n").pop()}      # podIdentityAddon, one workload`);
    });

    test("the other modes' totals", async () => {
        const [oss, wi] = await Promise.all([report(["identityMode=podIdentityOss"]), report(["identityMode=workloadIdentity"])]);
        const [ossM, ossS] = minutes(oss);
        const [wiM, wiS] = minutes(wi);
        expect(DOC).toContain(`\`podIdentityOss\` models ${ossM} against ${ossS} min and \`workloadIdentity\` ${wiM} against ${wiS} min.`);
    });

    test("each network choice: the table npm run graph prints", async () => {
        const rows = await Promise.all(
            NETWORK_CHOICES.map(async (choice) => {
                const analysis = analyse((await planFor([`apiServerAccess=${choice.apiServerAccess}`, `egress=${choice.egress}`])).steps);
                return { ...choice, totals: analysis.totals, clusterStart: analysis.cluster?.start };
            }),
        );
        const table = renderChoices(rows).slice(2).join("\n");
        expect(DOC).toContain(table);
        // The firewall's path is what the cluster waits for in egress firewall.
        const start = (egress: string) => rows.find((r) => r.apiServerAccess === "public" && r.egress === egress)?.clusterStart ?? 0;
        expect(start("firewall") - start("loadBalancer")).toBeGreaterThan(DURATIONS["azure-native:network:AzureFirewall"].seconds);
    });

    test("fifty workloads: the totals, and where each vault chain ends against the cluster", async () => {
        const [rbac, policies] = await Promise.all([report([FIFTY]), report([FIFTY, "keyVaultAuthorization=accessPolicy"])]);
        const [m, s] = minutes(rbac);
        expect(DOC.replace(/\s+/g, " ")).toContain(`with 50 workloads the model gives \`modelled: ${m} min, sequential: ${s} min\``);
        const end = (line: string) => /the chain ends (\d+:\d\d (?:before|after)) it/.exec(line)?.[1];
        expect(DOC.replace(/\s+/g, " ")).toContain(`\`rbac\` mode it ends ${end(chain(rbac))} the cluster does`);
        expect(DOC.replace(/\s+/g, " ")).toContain(`ends ${end(chain(policies))} the cluster`);
    });
});
