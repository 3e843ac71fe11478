// The stack's pod identities in an AKS cluster's pod-identity add-on, as one Pulumi resource attached
// after the cluster exists: the `PodIdentities` dynamic resource and its provider, built on the ARM
// logic of arm.ts. It owns the entries it wrote, keyed `<namespace>/<name>`; each create, update and
// delete is one read and at most one write of the cluster, which keeps every entry it does not own.
import * as pulumi from "@pulumi/pulumi";
import { applyPodIdentityChanges, changeFailure, createContainerServiceClient, DEFAULT_RETRY_POLICY, podIdentitiesId, readPodIdentities, sameIdentity, sameText } from "./arm";
import type { ClusterRef, ManagedClusterApi, PodIdentityChange, PodIdentityEntry, RetryPolicy } from "./arm";

/** The inputs of a `PodIdentities` resource once resolved; its outputs echo them. */
export interface PodIdentitiesState {
    /** Subscription of the cluster. */
    subscriptionId: string;
    /** Resource group of the cluster. */
    resourceGroupName: string;
    /** Name of the cluster. */
    clusterName: string;
    /** Revision of the cluster the entries were asserted for. */
    clusterRevision: string;
    /** The entries, each under its key `<namespace>/<name>` (see {@link podIdentityKey}). */
    identities: Record<string, PodIdentityEntry>;
}

/** Pulumi's placeholder for a value not known during preview (sdk/nodejs/runtime/rpc.ts). */
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The key of an entry in `identities`: `<namespace>/<name>`, unique in a cluster as the add-on requires. */
export function podIdentityKey(entry: { namespace: string; name: string }): string {
    return `${entry.namespace}/${entry.name}`;
}

/**
 * Problems with inputs, as Pulumi check failures: the cluster's strings must be non-empty
 * (`clusterRevision` may be empty), and each entry needs a non-empty namespace, name, selector and
 * identity and must sit under its own key. Values not known yet during preview pass unless
 * `allowUnknown` is false.
 */
export function checkPodIdentitiesInputs(value: unknown, allowUnknown = true): pulumi.dynamic.CheckFailure[] {
    if (typeof value !== "object" || value === null) {
        return [{ property: "", reason: "inputs must be an object" }];
    }
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const known = (v: unknown): boolean => !(v === unknownValue && !allowUnknown);
    const nonEmpty = (v: unknown): boolean => typeof v === "string" && v.trim() !== "" && known(v);
    for (const key of ["subscriptionId", "resourceGroupName", "clusterName"]) {
        if (!nonEmpty(Reflect.get(value, key))) {
            failures.push({ property: key, reason: `${key} must be a non-empty string` });
        }
    }
    const revision: unknown = Reflect.get(value, "clusterRevision");
    if (typeof revision !== "string" || !known(revision)) {
        failures.push({ property: "clusterRevision", reason: "clusterRevision must be a string" });
    }
    const identities: unknown = Reflect.get(value, "identities");
    if (typeof identities !== "object" || identities === null || Array.isArray(identities)) {
        return [...failures, { property: "identities", reason: "identities must be an object of entries by <namespace>/<name>" }];
    }
    for (const [key, entry] of Object.entries(identities)) {
        const at = `identities["${key}"]`;
        if (typeof entry !== "object" || entry === null) {
            failures.push({ property: at, reason: `${at} must be an entry` });
            continue;
        }
        for (const field of ["namespace", "name", "bindingSelector"]) {
            if (!nonEmpty(Reflect.get(entry, field))) {
                failures.push({ property: `${at}.${field}`, reason: `${at}.${field} must be a non-empty string` });
            }
        }
        const namespace: unknown = Reflect.get(entry, "namespace");
        const name: unknown = Reflect.get(entry, "name");
        if (typeof namespace === "string" && typeof name === "string" && namespace !== unknownValue && name !== unknownValue && key !== podIdentityKey({ namespace, name })) {
            failures.push({ property: at, reason: `${at} holds the entry ${podIdentityKey({ namespace, name })}; each entry sits under its own <namespace>/<name>` });
        }
        const identity: unknown = Reflect.get(entry, "identity");
        if (allowUnknown && identity === unknownValue) {
            continue;
        }
        for (const field of ["resourceId", "clientId", "objectId"]) {
            const v: unknown = typeof identity === "object" && identity !== null ? Reflect.get(identity, field) : undefined;
            if (!nonEmpty(v)) {
                failures.push({ property: `${at}.identity.${field}`, reason: `${at}.identity.${field} must be a non-empty string` });
            }
        }
    }
    return failures;
}

/** `value` as complete, known state, or an error listing what is wrong with it. */
export function parsePodIdentitiesState(value: unknown): PodIdentitiesState {
    const failures = checkPodIdentitiesInputs(value, false);
    if (failures.length > 0 || typeof value !== "object" || value === null) {
        throw new Error(`Invalid pod identities properties: ${failures.map((f) => f.reason).join("; ")}`);
    }
    const field = (from: unknown, key: string): unknown => (typeof from === "object" && from !== null ? Reflect.get(from, key) : undefined);
    const text = (from: unknown, key: string): string => String(field(from, key));
    const identities: Record<string, PodIdentityEntry> = {};
    for (const [key, entry] of Object.entries(field(value, "identities") ?? {})) {
        const identity = field(entry, "identity");
        identities[key] = {
            name: text(entry, "name"),
            namespace: text(entry, "namespace"),
            bindingSelector: text(entry, "bindingSelector"),
            identity: { resourceId: text(identity, "resourceId"), clientId: text(identity, "clientId"), objectId: text(identity, "objectId") },
        };
    }
    return {
        subscriptionId: text(value, "subscriptionId"),
        resourceGroupName: text(value, "resourceGroupName"),
        clusterName: text(value, "clusterName"),
        clusterRevision: text(value, "clusterRevision"),
        identities,
    };
}

/** Properties as seen by `diffPodIdentities`: any of them may be missing or not known yet. */
export type PodIdentitiesProperties = Partial<Record<keyof PodIdentitiesState, unknown>>;

/** True when two entries have the same selector and identity (identity ids compared ignoring case). */
function sameEntryInputs(a: unknown, b: unknown): boolean {
    if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
        return false;
    }
    const fields = ["namespace", "name", "bindingSelector"];
    return fields.every((f) => Reflect.get(a, f) === Reflect.get(b, f)) && sameIdentity(Reflect.get(a, "identity"), Reflect.get(b, "identity"));
}

/**
 * Pulumi's diff: another cluster (subscription, resource group or cluster name, compared ignoring case
 * as Azure does) replaces the resource; an entry added, removed or changed, or a new cluster revision,
 * updates it in place; equal inputs are no change. The preview shows which entries changed.
 */
export function diffPodIdentities(olds: PodIdentitiesProperties, news: PodIdentitiesProperties): pulumi.dynamic.DiffResult {
    const replaces = (["subscriptionId", "resourceGroupName", "clusterName"] as const).filter((key) => !sameText(olds[key], news[key]));
    const entries = (value: unknown): Record<string, unknown> => (typeof value === "object" && value !== null ? { ...value } : {});
    const before = entries(olds.identities);
    const after = entries(news.identities);
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    const entriesChanged = typeof news.identities !== "object" || [...keys].some((key) => !sameEntryInputs(before[key], after[key]));
    return { changes: replaces.length > 0 || entriesChanged || olds.clusterRevision !== news.clusterRevision, replaces, deleteBeforeReplace: false };
}

/**
 * The changes that take a cluster from the entries `owned` (what the resource wrote before) to
 * `wanted`: a detach of each owned entry no longer wanted, then an attach of every wanted one (which
 * writes nothing for an entry already there as wanted). Entries the resource never owned are never
 * touched. Exported for testing.
 */
export function podIdentityChanges(owned: Readonly<Record<string, PodIdentityEntry>>, wanted: Readonly<Record<string, PodIdentityEntry>>): PodIdentityChange[] {
    const detaches = Object.keys(owned)
        .filter((key) => !(key in wanted))
        .sort()
        .map((key): PodIdentityChange => ({ detach: { namespace: owned[key].namespace, name: owned[key].name } }));
    const attaches = Object.keys(wanted)
        .sort()
        .map((key): PodIdentityChange => ({ attach: wanted[key] }));
    return [...detaches, ...attaches];
}

/** The cluster of a state. */
function clusterOf(state: PodIdentitiesState): ClusterRef {
    return { resourceGroupName: state.resourceGroupName, clusterName: state.clusterName };
}

/** What `createPodIdentitiesProvider` can be given instead of its defaults. */
export interface PodIdentitiesProviderOptions {
    /** Builds the client of a subscription; `createContainerServiceClient` (environment credentials) when absent. */
    clientFactory?: (subscriptionId: string) => ManagedClusterApi;
    /** Retries; `DEFAULT_RETRY_POLICY` when absent. */
    retryPolicy?: RetryPolicy;
}

/**
 * The dynamic provider of `PodIdentities`: `create` attaches every entry, `update` detaches the owned
 * entries no longer wanted and attaches the wanted ones, `delete` detaches every owned entry, each in
 * one cluster write (`applyPodIdentityChanges`); a change that fails fails the operation, naming every
 * entry that failed. `read` keeps the owned entries the cluster still holds, as it holds them (an
 * empty id when the cluster is gone), so that a refresh shows a lost entry and the next `pulumi up`
 * attaches it again; `diff` is `diffPodIdentities`.
 */
export function createPodIdentitiesProvider(options: PodIdentitiesProviderOptions = {}): pulumi.dynamic.ResourceProvider<PodIdentitiesState, PodIdentitiesState> {
    const policy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    const clientFor = (subscriptionId: string): ManagedClusterApi => (options.clientFactory === undefined ? createContainerServiceClient(subscriptionId) : options.clientFactory(subscriptionId));
    /** Applies `changes` in one write; throws, naming each change that failed, when any did. */
    const apply = async (state: PodIdentitiesState, changes: PodIdentityChange[]): Promise<void> => {
        const cluster = clusterOf(state);
        const outcomes = await applyPodIdentityChanges(clientFor(state.subscriptionId), cluster, changes, policy);
        const failures = changes.flatMap((change, i) => {
            const outcome = outcomes[i];
            return "failed" in outcome ? [changeFailure(change, cluster, outcome.failed)] : [];
        });
        if (failures.length > 0) {
            throw new Error(failures.join("\n"));
        }
    };
    return {
        check: async (_olds, news) => {
            const failures = checkPodIdentitiesInputs(news);
            return failures.length === 0 ? { inputs: news } : { inputs: news, failures };
        },
        diff: async (_id, olds, news) => diffPodIdentities(olds, news),
        create: async (inputs) => {
            const state = parsePodIdentitiesState(inputs);
            await apply(state, podIdentityChanges({}, state.identities));
            return { id: podIdentitiesId(state.subscriptionId, clusterOf(state)), outs: state };
        },
        update: async (_id, olds, news) => {
            const before = parsePodIdentitiesState(olds);
            const state = parsePodIdentitiesState(news);
            await apply(state, podIdentityChanges(before.identities, state.identities));
            return { outs: state };
        },
        delete: async (_id, props) => {
            const state = parsePodIdentitiesState(props);
            await apply(state, podIdentityChanges(state.identities, {}));
        },
        read: async (id, props) => {
            const state = parsePodIdentitiesState(props);
            const live = await readPodIdentities(clientFor(state.subscriptionId), clusterOf(state), policy);
            if (live === undefined) {
                return { id: "" };
            }
            const identities: Record<string, PodIdentityEntry> = {};
            for (const [key, owned] of Object.entries(state.identities)) {
                const found = live.find((e) => podIdentityKey(e) === key);
                if (found !== undefined) {
                    identities[key] = {
                        name: found.name,
                        namespace: found.namespace,
                        bindingSelector: found.bindingSelector,
                        identity: sameIdentity(found.identity, owned.identity) ? owned.identity : found.identity,
                    };
                }
            }
            return { id, props: { ...state, identities } };
        },
    };
}

const podIdentitiesProvider = createPodIdentitiesProvider();

/** The provider every `PodIdentities` uses (environment credentials, `DEFAULT_RETRY_POLICY`). */
export { podIdentitiesProvider as POD_IDENTITIES_PROVIDER };

/** One entry of `PodIdentitiesArgs.identities`. */
export interface PodIdentityInput {
    /** Pod identity name (the AzureIdentity's name in the namespace). */
    name: pulumi.Input<string>;
    /** Kubernetes namespace of the pod identity. */
    namespace: pulumi.Input<string>;
    /** Value of the `aadpodidbinding` pod label that selects this identity. */
    bindingSelector: pulumi.Input<string>;
    /** The user-assigned managed identity handed out: ARM id, client id and service principal object id. */
    identity: pulumi.Input<{ resourceId: pulumi.Input<string>; clientId: pulumi.Input<string>; objectId: pulumi.Input<string> }>;
}

/** Arguments of `PodIdentities`. */
export interface PodIdentitiesArgs {
    /** Subscription of the cluster. */
    subscriptionId: pulumi.Input<string>;
    /** Resource group of the cluster. */
    resourceGroupName: pulumi.Input<string>;
    /** Name of the cluster. */
    clusterName: pulumi.Input<string>;
    /** Any string that changes whenever the cluster resource itself is updated; a change re-asserts the entries (a cluster update made by Pulumi sends no pod identities and would drop them). */
    clusterRevision: pulumi.Input<string>;
    /** The entries, each under its key `<namespace>/<name>` ({@link podIdentityKey}). */
    identities: Record<string, PodIdentityInput>;
}

/**
 * The stack's pod identities in an AKS cluster's pod-identity add-on. Its id is
 * `<cluster ARM id>/podIdentities`; its outputs echo its inputs. Registered as
 * `pulumi-nodejs:dynamic:PodIdentities`.
 */
export class PodIdentities extends pulumi.dynamic.Resource {
    /** Subscription of the cluster. */
    declare public readonly subscriptionId: pulumi.Output<string>;
    /** Resource group of the cluster. */
    declare public readonly resourceGroupName: pulumi.Output<string>;
    /** Name of the cluster. */
    declare public readonly clusterName: pulumi.Output<string>;
    /** The cluster revision the entries were last asserted for. */
    declare public readonly clusterRevision: pulumi.Output<string>;
    /** The entries, by `<namespace>/<name>`. */
    declare public readonly identities: pulumi.Output<Record<string, PodIdentityEntry>>;

    constructor(name: string, args: PodIdentitiesArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            podIdentitiesProvider,
            name,
            {
                subscriptionId: args.subscriptionId,
                resourceGroupName: args.resourceGroupName,
                clusterName: args.clusterName,
                clusterRevision: args.clusterRevision,
                identities: args.identities,
            },
            opts,
            undefined,
            "PodIdentities",
        );
    }
}
