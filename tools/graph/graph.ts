// `npm run graph`: how long a first `pulumi up` of this program takes, read from its offline plan.
// It computes the plan (`npm run plan` flags pass through: --stack, --config-file, -c key=value),
// builds the dependency graph of the custom resources, times each one with tools/graph/durations.ts and
// prints, as Markdown: a Mermaid flowchart grouped by component with the critical path highlighted,
// the durations it assumed, the critical path with cumulative times, the deploy-time rule, and the
// modelled total against doing the same steps one after another.
//
// The model is Pulumi's engine: a resource is created once everything it depends on is created, and
// everything else runs in parallel. A dependency on a component is a dependency on every custom
// resource under it; a resource waits for its provider, so it inherits the provider's dependencies
// (the Kubernetes provider's kubeconfig is the cluster's). Components, providers and the Stack take
// no time and are not nodes.
import type { Io } from "../plan/command";
import { completeState } from "../plan/types";
import type { PreviewStep, Step } from "../plan/types";
import { providerUrn, urnName } from "../plan/urn";
import { DURATIONS, MANAGED_CLUSTER_TYPE, TypeDuration, durationOf } from "./durations";

// ---------------------------------------------------------------------------------------------------
// Plan input
// ---------------------------------------------------------------------------------------------------

/** Steps as the graph reads them: every field present (`completeState`). */
function complete(steps: readonly PreviewStep[]): Step[] {
    return steps.map((s) => ({ op: "create", urn: s.urn, newState: completeState(s.newState) }));
}

const STACK_TYPE = "pulumi:pulumi:Stack";
const PROVIDER_PREFIX = "pulumi:providers:";

/** The last segment of a Pulumi type: `azure-native:network:PrivateEndpoint` is `PrivateEndpoint`. */
export function shortType(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

function isProvider(step: Step): boolean {
    return step.newState.type.startsWith(PROVIDER_PREFIX);
}

/** A resource that takes time and is a node of the graph: custom, and not a provider. */
function isNode(step: Step): boolean {
    return step.newState.custom && !isProvider(step);
}

/** A component resource: grouped in the flowchart, expanded when depended on. */
function isComponent(step: Step): boolean {
    return !step.newState.custom && step.newState.type !== STACK_TYPE;
}

// ---------------------------------------------------------------------------------------------------
// The graph
// ---------------------------------------------------------------------------------------------------

/** One custom resource, timed. */
export interface GraphNode {
    urn: string;
    name: string;
    type: string;
    /** Position in registration order. */
    index: number;
    /** URN of the nearest enclosing component, undefined under the Stack. */
    component: string | undefined;
    seconds: number;
    /** Whether the duration came from the table rather than the fallback. */
    known: boolean;
    /** Each resource this one waits for, with the inputs that carry it ([]: dependsOn or its provider). */
    waitsFor: Map<string, string[]>;
}

/** A wait: `to` starts after `from` finishes. */
export interface GraphEdge {
    from: string;
    to: string;
}

/** A component, for grouping. */
export interface GraphComponent {
    urn: string;
    name: string;
    type: string;
    /** URN of the enclosing component, undefined under the Stack. */
    parent: string | undefined;
}

/** The dependency graph of a plan's custom resources. */
export interface DeployGraph {
    /** In registration order. */
    nodes: GraphNode[];
    edges: GraphEdge[];
    components: GraphComponent[];
}

/** Nearest component ancestor of `urn` (itself excluded), undefined when only the Stack encloses it. */
function enclosingComponent(urn: string, steps: Map<string, Step>): string | undefined {
    let parent = steps.get(urn)?.newState.parent ?? "";
    while (parent !== "") {
        const step = steps.get(parent);
        if (step === undefined) {
            throw new Error(`parent ${parent} of ${urn} is not in the plan`);
        }
        if (isComponent(step)) {
            return parent;
        }
        parent = step.newState.parent;
    }
    return undefined;
}

/**
 * Returns a function naming the graph nodes a dependency on a URN stands for: a node is itself; a
 * component (or the Stack) is every node under it; a provider is what it depends on.
 */
export function dependencyResolver(previewSteps: readonly PreviewStep[]): (urn: string) => string[] {
    const steps = complete(previewSteps);
    const byUrn = new Map(steps.map((s) => [s.urn, s]));
    const children = new Map<string, string[]>();
    for (const s of steps) {
        children.set(s.newState.parent, [...(children.get(s.newState.parent) ?? []), s.urn]);
    }
    const memo = new Map<string, string[]>();
    const resolve = (urn: string): string[] => {
        const known = memo.get(urn);
        if (known !== undefined) {
            return known;
        }
        const step = byUrn.get(urn);
        if (step === undefined) {
            throw new Error(`dependency ${urn} is not in the plan`);
        }
        memo.set(urn, []); // A cycle through components or providers resolves to nothing rather than looping.
        const standsFor = isProvider(step) ? step.newState.dependencies : (children.get(urn) ?? []);
        const resolved = isNode(step) ? [urn] : unique(standsFor.flatMap(resolve));
        memo.set(urn, resolved);
        return resolved;
    };
    return resolve;
}

function unique<T>(items: readonly T[]): T[] {
    return [...new Set(items)];
}

/** What `step` waits for, resolved to nodes, with the inputs that carry each. */
function waitsOf(step: Step, resolve: (urn: string) => string[]): Map<string, string[]> {
    const waits = new Map<string, string[]>();
    const add = (urn: string, input: string | undefined): void => {
        for (const node of resolve(urn)) {
            const inputs = waits.get(node) ?? [];
            waits.set(node, input === undefined || inputs.includes(input) ? inputs : [...inputs, input]);
        }
    };
    step.newState.dependencies.forEach((urn) => add(urn, undefined));
    const provider = providerUrn(step.newState.provider);
    if (provider !== undefined) {
        add(provider, undefined);
    }
    for (const [input, urns] of Object.entries(step.newState.propertyDependencies)) {
        urns.forEach((urn) => add(urn, input));
    }
    waits.delete(step.urn);
    return waits;
}

/**
 * Builds the graph of a plan's custom resources, timed with `table`: one edge per resolved wait.
 * Throws when the waits form a cycle.
 */
export function buildGraph(previewSteps: readonly PreviewStep[], table: Readonly<Record<string, TypeDuration>> = DURATIONS): DeployGraph {
    const steps = complete(previewSteps);
    const byUrn = new Map(steps.map((s) => [s.urn, s]));
    const resolve = dependencyResolver(steps);
    const nodes = steps.filter(isNode).map((step, index): GraphNode => {
        const { duration, known } = durationOf(step.newState.type, table);
        const stated = duration.secondsInput === undefined ? undefined : step.newState.inputs[duration.secondsInput];
        const waitsFor = waitsOf(step, resolve);
        return {
            urn: step.urn,
            name: urnName(step.urn),
            type: step.newState.type,
            index,
            component: enclosingComponent(step.urn, byUrn),
            seconds: typeof stated === "number" && Number.isFinite(stated) && stated >= 0 ? stated : duration.seconds,
            known,
            waitsFor,
        };
    });
    const edges = nodes.flatMap((node) => [...node.waitsFor.keys()].map((from): GraphEdge => ({ from, to: node.urn })));
    const components = steps.filter(isComponent).map((s) => ({ urn: s.urn, name: urnName(s.urn), type: s.newState.type, parent: enclosingComponent(s.urn, byUrn) }));
    const graph = { nodes, edges, components };
    // A cycle is an error here, not when the graph is first scheduled.
    topologicalOrder(graph);
    return graph;
}

// ---------------------------------------------------------------------------------------------------
// Scheduling
// ---------------------------------------------------------------------------------------------------

/** The nodes in an order where every edge points forward; ties keep registration order. Throws on a cycle. */
export function topologicalOrder(graph: DeployGraph): GraphNode[] {
    const byUrn = new Map(graph.nodes.map((n) => [n.urn, n]));
    const pending = new Map(graph.nodes.map((n) => [n.urn, 0]));
    const successors = new Map<string, string[]>();
    for (const edge of graph.edges) {
        pending.set(edge.to, (pending.get(edge.to) ?? 0) + 1);
        successors.set(edge.from, [...(successors.get(edge.from) ?? []), edge.to]);
    }
    const ready = graph.nodes.filter((n) => pending.get(n.urn) === 0);
    const order: GraphNode[] = [];
    while (ready.length > 0) {
        ready.sort((a, b) => a.index - b.index);
        const node = ready.shift() as GraphNode;
        order.push(node);
        for (const next of successors.get(node.urn) ?? []) {
            const left = (pending.get(next) ?? 0) - 1;
            pending.set(next, left);
            if (left === 0) {
                ready.push(byUrn.get(next) as GraphNode);
            }
        }
    }
    if (order.length !== graph.nodes.length) {
        const stuck = graph.nodes.filter((n) => !order.includes(n)).map((n) => n.name);
        throw new Error(`the graph has a cycle through ${stuck.join(", ")}`);
    }
    return order;
}

/** Earliest start and finish of every node, in seconds from the start of the deploy. */
export interface Schedule {
    start: Map<string, number>;
    finish: Map<string, number>;
}

/** Schedules every node as early as its waits allow, with unlimited parallelism otherwise. */
export function schedule(graph: DeployGraph): Schedule {
    const predecessors = predecessorsOf(graph);
    const start = new Map<string, number>();
    const finish = new Map<string, number>();
    for (const node of topologicalOrder(graph)) {
        const begins = Math.max(0, ...(predecessors.get(node.urn) ?? []).map((p) => finish.get(p) ?? 0));
        start.set(node.urn, begins);
        finish.set(node.urn, begins + node.seconds);
    }
    return { start, finish };
}

function predecessorsOf(graph: DeployGraph): Map<string, string[]> {
    const predecessors = new Map<string, string[]>();
    for (const edge of graph.edges) {
        predecessors.set(edge.to, [...(predecessors.get(edge.to) ?? []), edge.from]);
    }
    return predecessors;
}

/** One resource of the critical path. */
export interface PathStep {
    node: GraphNode;
    start: number;
    finish: number;
}

/**
 * The longest chain by duration: from the node that finishes last, back through a predecessor that
 * finishes exactly when it starts (the longest one on a tie, then the first registered), to a root.
 */
export function criticalPath(graph: DeployGraph, times: Schedule = schedule(graph)): PathStep[] {
    if (graph.nodes.length === 0) {
        return [];
    }
    const byUrn = new Map(graph.nodes.map((n) => [n.urn, n]));
    const finishOf = (n: GraphNode): number => times.finish.get(n.urn) ?? 0;
    const last = graph.nodes.reduce((best, n) => (finishOf(n) > finishOf(best) ? n : best));
    const path: PathStep[] = [];
    let current: GraphNode | undefined = last;
    while (current !== undefined) {
        const node: GraphNode = current;
        const begins = times.start.get(node.urn) ?? 0;
        const incoming = graph.edges.filter((e) => e.to === node.urn && finishOf(byUrn.get(e.from) as GraphNode) === begins);
        const chosen = incoming.map((e) => ({ edge: e, from: byUrn.get(e.from) as GraphNode })).sort((a, b) => b.from.seconds - a.from.seconds || a.from.index - b.from.index)[0];
        path.unshift({ node, start: begins, finish: finishOf(node) });
        current = chosen?.from;
    }
    return path;
}

/** The two totals, in seconds, and how many times faster the graph is. */
export interface Totals {
    /** Length of the critical path: the deploy as the engine runs it. */
    modelledSeconds: number;
    /** Every duration added up: the same steps run one after another. */
    sequentialSeconds: number;
    ratio: number;
}

/** The modelled (critical path) and sequential (sum) totals of a graph. */
export function totals(graph: DeployGraph, path: readonly PathStep[]): Totals {
    const modelledSeconds = path.length === 0 ? 0 : path[path.length - 1].finish;
    const sequentialSeconds = graph.nodes.reduce((sum, n) => sum + n.seconds, 0);
    return { modelledSeconds, sequentialSeconds, ratio: modelledSeconds === 0 ? 1 : sequentialSeconds / modelledSeconds };
}

// ---------------------------------------------------------------------------------------------------
// Writes to one Key Vault
// ---------------------------------------------------------------------------------------------------

/** The Key Vault type, whose writes must not overlap. */
export const VAULT_TYPE = "azure-native:keyvault:Vault";

/** The types that write to a vault, with the input through which they name it. */
export const VAULT_WRITE_INPUTS: Readonly<Record<string, string>> = {
    "azure-native:keyvault:Secret": "vaultName",
    "azure-native:keyvault:Key": "vaultName",
    "azure-native:keyvault:AccessPolicy": "vaultName",
    "azure-native:network:PrivateEndpoint": "privateLinkServiceConnections",
};

/** The writes to one vault, one after another, against the cluster's creation. */
export interface VaultChain {
    vault: GraphNode;
    /** In the order they run. */
    writes: GraphNode[];
    /** When the first write starts and the last one finishes, in seconds from the start of the deploy. */
    start: number;
    finish: number;
    /** Whether every write waits, directly or not, for the one before it. */
    ordered: boolean;
}

/** The nodes each node waits for, directly or transitively. */
function ancestorsOf(graph: DeployGraph): Map<string, Set<string>> {
    const predecessors = predecessorsOf(graph);
    const ancestors = new Map<string, Set<string>>();
    for (const node of topologicalOrder(graph)) {
        const set = new Set<string>();
        for (const p of predecessors.get(node.urn) ?? []) {
            set.add(p);
            (ancestors.get(p) ?? new Set<string>()).forEach((a) => set.add(a));
        }
        ancestors.set(node.urn, set);
    }
    return ancestors;
}

/** Each vault's writes, scheduled, and whether they are ordered one after another. */
export function vaultChains(graph: DeployGraph, times: Schedule = schedule(graph)): VaultChain[] {
    const ancestors = ancestorsOf(graph);
    return graph.nodes
        .filter((n) => n.type === VAULT_TYPE)
        .map((vault) => {
            const writes = graph.nodes
                .filter((n) => {
                    const input = VAULT_WRITE_INPUTS[n.type];
                    return input !== undefined && (n.waitsFor.get(vault.urn) ?? []).includes(input);
                })
                .sort((a, b) => (times.start.get(a.urn) ?? 0) - (times.start.get(b.urn) ?? 0) || a.index - b.index);
            const ordered = writes.every((w, i) => i === 0 || (ancestors.get(w.urn)?.has(writes[i - 1].urn) ?? false));
            const start = writes.length === 0 ? 0 : Math.min(...writes.map((w) => times.start.get(w.urn) ?? 0));
            const finish = writes.length === 0 ? 0 : Math.max(...writes.map((w) => times.finish.get(w.urn) ?? 0));
            return { vault, writes, start, finish, ordered };
        });
}

/** When the clusters of a graph are created: the first start and last finish of its ManagedClusters. */
export function clusterWindow(graph: DeployGraph, times: Schedule = schedule(graph)): { start: number; finish: number } | undefined {
    const clusters = graph.nodes.filter((n) => n.type === MANAGED_CLUSTER_TYPE);
    if (clusters.length === 0) {
        return undefined;
    }
    return { start: Math.min(...clusters.map((c) => times.start.get(c.urn) ?? 0)), finish: Math.max(...clusters.map((c) => times.finish.get(c.urn) ?? 0)) };
}

// ---------------------------------------------------------------------------------------------------
// The deploy-time rule
// ---------------------------------------------------------------------------------------------------

/**
 * Types that must not wait for the cluster unless they need it: Storage, Key Vault, network (private
 * endpoints and their DNS), private DNS, identities, role assignments, the resource group.
 */
export const GUARDED_TYPE_PREFIXES: readonly string[] = [
    "azure-native:storage:",
    "azure-native:keyvault:",
    "azure-native:network:",
    "azure-native:privatedns:",
    "azure-native:managedidentity:",
    "azure-native:authorization:",
    "azure-native:resources:",
    "azuread:",
];

/**
 * Inputs through which a guarded type may genuinely need the cluster: a grant scoped to the cluster
 * or to its node resource group, a grant to its kubelet identity or of a role defined there, a custom
 * role assignable in the node resource group, a policy assigned to the cluster, a federated
 * credential for its OIDC issuer.
 */
export const CLUSTER_INPUTS: Readonly<Record<string, readonly string[]>> = {
    "azure-native:authorization:RoleAssignment": ["scope", "principalId", "roleDefinitionId"],
    "azure-native:authorization:RoleDefinition": ["scope", "assignableScopes", "roleName"],
    "azure-native:authorization:PolicyAssignment": ["scope"],
    "azure-native:managedidentity:FederatedIdentityCredential": ["issuer"],
};

/** A guarded resource that waits for the cluster without needing it. */
export interface Offender {
    node: GraphNode;
    /** The resource through which it waits for the cluster, and how. */
    through: GraphNode;
    inputs: string[];
}

/** The nodes that are a ManagedCluster or wait for one, directly or transitively. */
export function afterCluster(graph: DeployGraph): Set<string> {
    const bound = new Set<string>();
    for (const node of topologicalOrder(graph)) {
        if (node.type === MANAGED_CLUSTER_TYPE || [...node.waitsFor.keys()].some((urn) => bound.has(urn))) {
            bound.add(node.urn);
        }
    }
    return bound;
}

/**
 * Guarded resources waiting for the cluster other than through an input in CLUSTER_INPUTS; empty
 * when the deploy-time rule holds.
 */
export function deployTimeOffenders(graph: DeployGraph): Offender[] {
    const bound = afterCluster(graph);
    const byUrn = new Map(graph.nodes.map((n) => [n.urn, n]));
    return graph.nodes
        .filter((node) => GUARDED_TYPE_PREFIXES.some((prefix) => node.type.startsWith(prefix)) && bound.has(node.urn))
        .flatMap((node) => {
            const allowed = CLUSTER_INPUTS[node.type] ?? [];
            const needless = [...node.waitsFor].find(([urn, inputs]) => bound.has(urn) && (inputs.length === 0 || inputs.some((i) => !allowed.includes(i))));
            return needless === undefined ? [] : [{ node, through: byUrn.get(needless[0]) as GraphNode, inputs: needless[1] }];
        });
}

// ---------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------

/** Escapes text for a quoted Mermaid label, with Mermaid's `#entity;` codes. */
export function escapeMermaid(text: string): string {
    const codes: Record<string, string> = { "#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;", "|": "#124;" };
    return text.replace(/[#"<>&`|]/g, (c) => codes[c]).replace(/\r?\n/g, " ");
}

/** Seconds as `45 s` or `8 min` (`4.5 min`). */
export function formatDuration(seconds: number): string {
    return seconds < 120 ? `${seconds} s` : `${Number((seconds / 60).toFixed(1))} min`;
}

/** Seconds as `m:ss`. */
export function formatClock(seconds: number): string {
    const whole = Math.round(seconds);
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** Minutes with one decimal. */
export function formatMinutes(seconds: number): string {
    return (seconds / 60).toFixed(1);
}

/**
 * The edges no longer chain implies (a transitive reduction), and the edges of `keep`.
 */
export function displayEdges(graph: DeployGraph, keep: readonly GraphEdge[] = []): GraphEdge[] {
    const successors = new Map<string, string[]>();
    for (const edge of graph.edges) {
        successors.set(edge.from, [...(successors.get(edge.from) ?? []), edge.to]);
    }
    const reach = new Map<string, Set<string>>();
    for (const node of [...topologicalOrder(graph)].reverse()) {
        const set = new Set<string>();
        for (const next of successors.get(node.urn) ?? []) {
            set.add(next);
            (reach.get(next) ?? new Set<string>()).forEach((u) => set.add(u));
        }
        reach.set(node.urn, set);
    }
    const implied = (edge: GraphEdge): boolean => (successors.get(edge.from) ?? []).some((other) => other !== edge.to && (reach.get(other)?.has(edge.to) ?? false));
    const kept = (edge: GraphEdge): boolean => keep.some((k) => k.from === edge.from && k.to === edge.to);
    return graph.edges.filter((e) => kept(e) || !implied(e));
}

/** The edges between consecutive steps of a path. */
export function pathEdges(path: readonly PathStep[]): GraphEdge[] {
    return path.slice(1).map((step, i) => ({ from: path[i].node.urn, to: step.node.urn }));
}

/** A Mermaid `flowchart LR` of the graph grouped by component, the path's nodes and edges highlighted. */
export function renderMermaid(graph: DeployGraph, path: readonly PathStep[]): string {
    const ids = new Map(graph.nodes.map((n, i) => [n.urn, `n${i}`]));
    const critical = pathEdges(path);
    const edges = displayEdges(graph, critical);
    const lines = ["flowchart LR", "  %% Edges implied by a longer chain are left out; dashed edges: one operation on the cluster at a time."];
    const nodeLine = (n: GraphNode, pad: string): string => `${pad}${ids.get(n.urn)}["${escapeMermaid(n.name)}<br/>${escapeMermaid(shortType(n.type))}, ${formatDuration(n.seconds)}"]`;
    const visible = new Set(graph.nodes.flatMap((n) => ancestry(n.component, graph.components)));
    const group = (parent: string | undefined, depth: number): void => {
        const pad = "  ".repeat(depth);
        graph.components
            .filter((c) => c.parent === parent && visible.has(c.urn))
            .forEach((c) => {
                lines.push(`${pad}subgraph g${graph.components.indexOf(c)}["${escapeMermaid(`${c.name} (${shortType(c.type)})`)}"]`);
                group(c.urn, depth + 1);
                lines.push(`${pad}end`);
            });
        graph.nodes.filter((n) => n.component === parent).forEach((n) => lines.push(nodeLine(n, pad)));
    };
    group(undefined, 1);
    edges.forEach((e) => lines.push(`  ${ids.get(e.from)} --> ${ids.get(e.to)}`));
    const criticalIndices = edges.flatMap((e, i) => (critical.some((c) => c.from === e.from && c.to === e.to) ? [i] : []));
    lines.push("  classDef critical fill:#fde2e1,stroke:#c0392b,stroke-width:3px");
    if (path.length > 0) {
        lines.push(`  class ${path.map((s) => ids.get(s.node.urn)).join(",")} critical`);
    }
    if (criticalIndices.length > 0) {
        lines.push(`  linkStyle ${criticalIndices.join(",")} stroke:#c0392b,stroke-width:3px`);
    }
    return lines.join("\n");
}

/** `urn` and its enclosing components. */
function ancestry(urn: string | undefined, components: readonly GraphComponent[]): string[] {
    const chain: string[] = [];
    for (let at = urn; at !== undefined; at = components.find((c) => c.urn === at)?.parent) {
        chain.push(at);
    }
    return chain;
}

/** The types of a graph with their count and the duration assumed, fallbacks included. */
export function durationRows(graph: DeployGraph, table: Readonly<Record<string, TypeDuration>> = DURATIONS): Array<{ type: string; count: number; duration: TypeDuration; known: boolean }> {
    const counts = new Map<string, number>();
    graph.nodes.forEach((n) => counts.set(n.type, (counts.get(n.type) ?? 0) + 1));
    return [...counts].map(([type, count]) => ({ type, count, ...durationOf(type, table) })).sort((a, b) => b.duration.seconds - a.duration.seconds || a.type.localeCompare(b.type));
}

/** The types timed by the fallback. */
export function unknownTypes(graph: DeployGraph): string[] {
    return unique(graph.nodes.filter((n) => !n.known).map((n) => n.type)).sort();
}

function renderDurations(graph: DeployGraph): string[] {
    const rows = durationRows(graph);
    const missing = unknownTypes(graph);
    return [
        "| Type | Count | Duration | Source |",
        "| --- | ---: | ---: | --- |",
        ...rows.map((r) => `| \`${r.type}\` | ${r.count} | ${formatDuration(r.duration.seconds)}${r.known ? "" : " (fallback)"} | ${r.duration.source.replace(/\|/g, "\\|")} |`),
        "",
        missing.length === 0 ? "Every type has an entry in tools/graph/durations.ts." : `Types without an entry, timed by the fallback: ${missing.join(", ")}.`,
    ];
}

function renderPath(path: readonly PathStep[]): string[] {
    return path.map((s, i) => {
        return `${i + 1}. ${formatClock(s.finish)} ${s.node.name} (${shortType(s.node.type)}, ${formatDuration(s.node.seconds)})`;
    });
}

function renderVaultChains(chains: readonly VaultChain[], cluster: { start: number; finish: number } | undefined): string[] {
    if (chains.length === 0) {
        return ["The plan has no Key Vault."];
    }
    return chains.map((c) => {
        const order = c.ordered ? "one at a time" : "NOT ordered: some of them would run at once, and Key Vault refuses overlapping writes with ConflictError";
        const against =
            cluster === undefined
                ? ""
                : c.finish <= cluster.finish
                  ? `; the cluster is created ${formatClock(cluster.start)}-${formatClock(cluster.finish)}, so the chain ends ${formatClock(cluster.finish - c.finish)} before it`
                  : `; the cluster is created ${formatClock(cluster.start)}-${formatClock(cluster.finish)}, so the chain ends ${formatClock(c.finish - cluster.finish)} after it`;
        return `- ${c.vault.name}: ${c.writes.length} writes, ${order}, ${formatClock(c.start)}-${formatClock(c.finish)}${against}.`;
    });
}

function renderRule(offenders: readonly Offender[]): string[] {
    if (offenders.length === 0) {
        return [
            "Holds: no Storage, Key Vault, network, private DNS, identity or role-assignment resource waits for the cluster except through an input that needs it (a grant's scope or principal, a federated credential's issuer).",
        ];
    }
    return [
        `Broken by ${offenders.length} resource(s) waiting for the cluster without needing it:`,
        ...offenders.map(
            (o) =>
                `- ${o.node.name} (${shortType(o.node.type)}) waits for ${o.through.name} (${shortType(o.through.type)}) through ${o.inputs.length === 0 ? "dependsOn or its provider" : `input(s) ${o.inputs.join(", ")}`}`,
        ),
    ];
}

/** The final line: `modelled: <m> min, sequential: <s> min (<r>x faster)`. */
export function totalsLine(t: Totals): string {
    return `modelled: ${formatMinutes(t.modelledSeconds)} min, sequential: ${formatMinutes(t.sequentialSeconds)} min (${t.ratio.toFixed(1)}x faster)`;
}

/** Everything `npm run graph` works out from a plan. */
export interface Analysis {
    graph: DeployGraph;
    path: PathStep[];
    totals: Totals;
    offenders: Offender[];
    /** Each vault's writes, which Key Vault takes one at a time. */
    vaultChains: VaultChain[];
    /** When the cluster is created, if the plan has one. */
    cluster: { start: number; finish: number } | undefined;
}

/** Builds, schedules and checks the graph of a plan. */
export function analyse(steps: readonly PreviewStep[], table: Readonly<Record<string, TypeDuration>> = DURATIONS): Analysis {
    const graph = buildGraph(steps, table);
    const times = schedule(graph);
    const path = criticalPath(graph, times);
    return { graph, path, totals: totals(graph, path), offenders: deployTimeOffenders(graph), vaultChains: vaultChains(graph, times), cluster: clusterWindow(graph, times) };
}

/** The report as Markdown, ending with the totals line. */
export function renderReport(analysis: Analysis): string {
    const { graph, path } = analysis;
    return [
        "## Dependency graph",
        "",
        "```mermaid",
        renderMermaid(graph, path),
        "```",
        "",
        "## Durations assumed (tools/graph/durations.ts)",
        "",
        ...renderDurations(graph),
        "",
        `## Critical path (${path.length} resources; finish time, then duration)`,
        "",
        ...renderPath(path),
        "",
        "## Writes to each Key Vault",
        "",
        ...renderVaultChains(analysis.vaultChains, analysis.cluster),
        "",
        "## Deploy-time rule",
        "",
        ...renderRule(analysis.offenders),
        "",
        "## Totals",
        "",
        `${graph.nodes.length} resources. Modelled: the critical path, everything else in parallel. Sequential: every duration added up, one step after another.`,
        totalsLine(analysis.totals),
    ].join("\n");
}

// ---------------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------------

const USAGE = `usage: npm run graph -- [--stack NAME] [--config-file FILE] [-c key=value ...]
  Computes the plan as \`npm run plan\` does (same flags) and prints the dependency graph, the
  durations assumed, the critical path, each Key Vault's writes and the totals, then the totals of the
  same stack in each network choice (apiServerAccess and egress). Exits 1 when the deploy-time rule is
  broken or two writes to one vault are not ordered.`;

/** The network choices `npm run graph` times the stack in: every apiServerAccess with every egress. */
export const NETWORK_CHOICES: ReadonlyArray<{ apiServerAccess: string; egress: string }> = ["public", "private"].flatMap((apiServerAccess) =>
    ["loadBalancer", "natGateway", "firewall"].map((egress) => ({ apiServerAccess, egress })),
);

/** One network choice's modelled deploy: its totals and when the cluster starts. */
export interface ChoiceTiming {
    apiServerAccess: string;
    egress: string;
    totals: Totals;
    clusterStart: number | undefined;
}

/** The table of each network choice's modelled time. */
export function renderChoices(rows: readonly ChoiceTiming[]): string[] {
    return [
        "## Each network choice (apiServerAccess, egress)",
        "",
        "| apiServerAccess | egress | cluster starts at | modelled | sequential |",
        "| --- | --- | --- | --- | --- |",
        ...rows.map(
            (r) =>
                `| ${r.apiServerAccess} | ${r.egress} | ${r.clusterStart === undefined ? "-" : `${formatMinutes(r.clusterStart)} min`} | ${formatMinutes(r.totals.modelledSeconds)} min | ${formatMinutes(r.totals.sequentialSeconds)} min |`,
        ),
    ];
}

/** Runs the graph command and returns its exit code. */
export async function main(argv: string[], io: Io = process): Promise<number> {
    if (argv.includes("-h") || argv.includes("--help")) {
        io.stdout.write(`${USAGE}\n`);
        return 0;
    }
    // Loaded here so that importing this module for its graph logic does not load the program's SDKs.
    const plan = await import("../plan/command");
    /** The plan of the stack under `overrides` analysed, or the plan command's exit code. */
    const analysed = async (overrides: string[]): Promise<Analysis | number> => {
        let json = "";
        const code = await plan.main(["--json", ...argv, ...overrides], { stdout: { write: (text: string) => (json += text) }, stderr: io.stderr });
        return code !== 0 ? code : analyse((JSON.parse(json) as { steps: PreviewStep[] }).steps);
    };
    const analysis = await analysed([]);
    if (typeof analysis === "number") {
        return analysis;
    }
    io.stdout.write(`${renderReport(analysis)}\n`);
    // The same stack in each network choice: the choice's flags come last, so they win.
    const rows: ChoiceTiming[] = [];
    for (const choice of NETWORK_CHOICES) {
        const timed = await analysed(["-c", `apiServerAccess=${choice.apiServerAccess}`, "-c", `egress=${choice.egress}`]);
        if (typeof timed === "number") {
            return timed;
        }
        rows.push({ ...choice, totals: timed.totals, clusterStart: timed.cluster?.start });
    }
    io.stdout.write(`\n${renderChoices(rows).join("\n")}\n`);
    return analysis.offenders.length === 0 && analysis.vaultChains.every((c) => c.ordered) ? 0 : 1;
}
