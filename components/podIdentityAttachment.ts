// A workload's pod identity in an AKS cluster's pod-identity add-on, as a Pulumi resource attached
// after the cluster exists: the `PodIdentityAttachment` dynamic resource and its provider, built on the
// ARM logic of podIdentityArm.ts. The attachments of one deployment share their writes: those that
// become ready together (all of them, once the cluster exists) cost one cluster update, not one each.
import * as pulumi from "@pulumi/pulumi";
import {
    applyPodIdentityChanges,
    attachmentId,
    changeFailure,
    clusterResourceId,
    createContainerServiceClient,
    DEFAULT_RETRY_POLICY,
    parseAttachmentId,
    readPodIdentity,
    sameIdentity,
    sameText,
} from "./podIdentityArm";
import type { ClusterRef, ManagedClusterApi, PodIdentityChange, PodIdentityEntry, PodIdentityIdentity, PodIdentityOutcome, RetryPolicy } from "./podIdentityArm";
/** The inputs of a `PodIdentityAttachment` once resolved; its outputs echo them. */
export interface PodIdentityAttachmentState {
    /** Subscription of the cluster. */
    subscriptionId: string;
    /** Resource group of the cluster. */
    resourceGroupName: string;
    /** Name of the cluster. */
    clusterName: string;
    /** Revision of the cluster the entry was asserted for. */
    clusterRevision: string;
    /** Pod identity name. */
    name: string;
    /** Kubernetes namespace of the pod identity. */
    namespace: string;
    /** Value of the `aadpodidbinding` pod label that selects this identity. */
    bindingSelector: string;
    /** The user-assigned identity handed out. */
    identity: PodIdentityIdentity;
}

/** Pulumi's placeholder for a value not known during preview (sdk/nodejs/runtime/rpc.ts). */
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Problems with inputs, as Pulumi check failures. Strings must be non-empty (`clusterRevision` may be
 * empty); values not known yet during preview pass.
 */
export function checkAttachmentInputs(value: unknown, allowUnknown = true): pulumi.dynamic.CheckFailure[] {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (typeof value !== "object" || value === null) {
        return [{ property: "", reason: "inputs must be an object" }];
    }
    const field = (key: string): unknown => Reflect.get(value, key);
    const required = ["subscriptionId", "resourceGroupName", "clusterName", "name", "namespace", "bindingSelector"];
    for (const key of required) {
        const v = field(key);
        if (typeof v !== "string" || v.trim() === "" || (!allowUnknown && v === unknownValue)) {
            failures.push({ property: key, reason: `${key} must be a non-empty string` });
        }
    }
    const revision = field("clusterRevision");
    if (typeof revision !== "string" || (!allowUnknown && revision === unknownValue)) {
        failures.push({ property: "clusterRevision", reason: "clusterRevision must be a string" });
    }
    const identity = field("identity");
    if (!(allowUnknown && identity === unknownValue)) {
        for (const key of ["resourceId", "clientId", "objectId"]) {
            const v: unknown = typeof identity === "object" && identity !== null ? Reflect.get(identity, key) : undefined;
            if (typeof v !== "string" || v.trim() === "" || (!allowUnknown && v === unknownValue)) {
                failures.push({ property: `identity.${key}`, reason: `identity.${key} must be a non-empty string` });
            }
        }
    }
    return failures;
}

/** `value` as attachment state, or an error listing what is wrong with it. */
export function parseAttachmentState(value: unknown): PodIdentityAttachmentState {
    const failures = checkAttachmentInputs(value, false);
    if (failures.length > 0 || typeof value !== "object" || value === null) {
        throw new Error(`Invalid pod identity attachment properties: ${failures.map((f) => f.reason).join("; ")}`);
    }
    const text = (key: string): string => String(Reflect.get(value, key));
    const identity: unknown = Reflect.get(value, "identity");
    const identityText = (key: string): string => (typeof identity === "object" && identity !== null ? String(Reflect.get(identity, key)) : "");
    return {
        subscriptionId: text("subscriptionId"),
        resourceGroupName: text("resourceGroupName"),
        clusterName: text("clusterName"),
        clusterRevision: text("clusterRevision"),
        name: text("name"),
        namespace: text("namespace"),
        bindingSelector: text("bindingSelector"),
        identity: { resourceId: identityText("resourceId"), clientId: identityText("clientId"), objectId: identityText("objectId") },
    };
}

/** Attachment properties as seen by `diffAttachment`: any of them may be missing or not known yet. */
export type AttachmentProperties = Partial<Record<keyof PodIdentityAttachmentState, unknown>>;

/**
 * Pulumi's diff of an attachment: a new cluster (subscription, resource group or cluster name, compared
 * ignoring case as Azure does) or a new entry key (namespace, name) replaces it; a new selector,
 * identity or cluster revision updates it in place; equal inputs are no change.
 */
export function diffAttachment(olds: AttachmentProperties, news: AttachmentProperties): pulumi.dynamic.DiffResult {
    const replaces: string[] = [];
    for (const key of ["subscriptionId", "resourceGroupName", "clusterName"] as const) {
        if (!sameText(olds[key], news[key])) {
            replaces.push(key);
        }
    }
    for (const key of ["namespace", "name"] as const) {
        if (olds[key] !== news[key]) {
            replaces.push(key);
        }
    }
    const updates = [
        olds.bindingSelector !== news.bindingSelector,
        !sameIdentity(olds.identity, news.identity),
        olds.clusterRevision !== news.clusterRevision,
    ];
    return { changes: replaces.length > 0 || updates.some((u) => u), replaces, deleteBeforeReplace: false };
}

/** The cluster of an attachment. */
function clusterOf(state: PodIdentityAttachmentState): ClusterRef {
    return { resourceGroupName: state.resourceGroupName, clusterName: state.clusterName };
}

/** The entry of an attachment. */
function entryOf(state: PodIdentityAttachmentState): PodIdentityEntry {
    return { name: state.name, namespace: state.namespace, bindingSelector: state.bindingSelector, identity: { ...state.identity } };
}

/** A change waiting for its cluster's next write, and how to tell its caller the outcome. */
interface QueuedChange {
    change: PodIdentityChange;
    settle: (outcome: PodIdentityOutcome) => void;
    fail: (error: unknown) => void;
}

declare global {
    // Per-cluster batches of the attachments of one deployment, shared by every copy of the provider
    // the Pulumi engine loads in its process.
    var __aksPodIdentityAttachmentBatches: Map<string, QueuedChange[]> | undefined;
}

/**
 * Runs `change` in its cluster's next write. The first change of a cluster opens a batch and waits
 * `gatherMs` for others; changes that arrive while a write is under way go into the following one. So
 * attachments that become ready together (all of them, once the cluster exists) cost one cluster
 * update instead of one each, and writes to one cluster from this process never overlap. Other
 * processes are kept apart by ETags and retries.
 */
async function inClusterBatch(
    clusterId: string,
    change: PodIdentityChange,
    gatherMs: number,
    write: (changes: PodIdentityChange[]) => Promise<PodIdentityOutcome[]>,
): Promise<PodIdentityOutcome> {
    const batches = (globalThis.__aksPodIdentityAttachmentBatches ??= new Map<string, QueuedChange[]>());
    const key = clusterId.toLowerCase();
    const outcome = new Promise<PodIdentityOutcome>((settle, fail) => {
        const queued = batches.get(key);
        if (queued !== undefined) {
            queued.push({ change, settle, fail });
            return;
        }
        const queue: QueuedChange[] = [{ change, settle, fail }];
        batches.set(key, queue);
        void (async () => {
            await new Promise((resolve) => setTimeout(resolve, gatherMs));
            while (queue.length > 0) {
                const batch = queue.splice(0);
                try {
                    const outcomes = await write(batch.map((q) => q.change));
                    batch.forEach((q, i) => q.settle(outcomes[i]));
                } catch (error) {
                    batch.forEach((q) => q.fail(error));
                }
            }
            batches.delete(key);
        })();
    });
    return outcome;
}

/**
 * The state of an attachment from its properties or, when they are incomplete (an imported resource),
 * from its id, with empty selector, identity and revision.
 */
function stateFromIdOrProps(id: string, props: unknown): PodIdentityAttachmentState {
    try {
        return parseAttachmentState(props);
    } catch {
        const parsed = parseAttachmentId(id);
        if (parsed === undefined) {
            throw new Error(`Pod identity attachment "${id}" has incomplete properties and its id is not <cluster ARM id>/podIdentities/<namespace>/<name>`);
        }
        return { ...parsed, clusterRevision: "", bindingSelector: "", identity: { resourceId: "", clientId: "", objectId: "" } };
    }
}

/** What `createPodIdentityProvider` can be given instead of its defaults. */
export interface PodIdentityProviderOptions {
    /** Builds the client of a subscription; `createContainerServiceClient` (environment credentials) when absent. */
    clientFactory?: (subscriptionId: string) => ManagedClusterApi;
    /** Retries; `DEFAULT_RETRY_POLICY` when absent. */
    retryPolicy?: RetryPolicy;
    /** How long the first change to a cluster waits for others to share its write; 2 s when absent. */
    gatherMs?: number;
}

/**
 * The dynamic provider of `PodIdentityAttachment`: `create` and `update` attach the entry, `delete`
 * detaches it (both in the cluster's next shared write, see `inClusterBatch`), `read` reads it back (an empty id when it is gone, so that a refresh drops it from the
 * state and the next `pulumi up` re-creates it), `diff` is `diffAttachment`.
 */
export function createPodIdentityProvider(
    options: PodIdentityProviderOptions = {},
): pulumi.dynamic.ResourceProvider<PodIdentityAttachmentState, PodIdentityAttachmentState> {
    const policy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    const clientFor = (subscriptionId: string): ManagedClusterApi =>
        options.clientFactory === undefined ? createContainerServiceClient(subscriptionId) : options.clientFactory(subscriptionId);
    const gatherMs = options.gatherMs ?? 2_000;
    /** Runs `change` in the cluster's next batch; throws, naming the change, when it failed. */
    const batched = async (state: PodIdentityAttachmentState, change: PodIdentityChange): Promise<PodIdentityOutcome> => {
        const cluster = clusterOf(state);
        const outcome = await inClusterBatch(clusterResourceId(state.subscriptionId, cluster), change, gatherMs, (changes) =>
            applyPodIdentityChanges(clientFor(state.subscriptionId), cluster, changes, policy),
        );
        if ("failed" in outcome) {
            throw new Error(changeFailure(change, cluster, outcome.failed));
        }
        return outcome;
    };
    const apply = async (inputs: unknown): Promise<PodIdentityAttachmentState> => {
        const state = parseAttachmentState(inputs);
        await batched(state, { attach: entryOf(state) });
        return state;
    };
    return {
        check: async (_olds, news) => {
            const failures = checkAttachmentInputs(news);
            return failures.length === 0 ? { inputs: news } : { inputs: news, failures };
        },
        diff: async (_id, olds, news) => diffAttachment(olds, news),
        create: async (inputs) => {
            const state = await apply(inputs);
            return { id: attachmentId(state.subscriptionId, clusterOf(state), state.namespace, state.name), outs: state };
        },
        update: async (_id, _olds, news) => ({ outs: await apply(news) }),
        delete: async (id, props) => {
            const state = stateFromIdOrProps(id, props);
            await batched(state, { detach: { namespace: state.namespace, name: state.name } });
        },
        read: async (id, props) => {
            const state = stateFromIdOrProps(id, props);
            const live = await readPodIdentity(clientFor(state.subscriptionId), clusterOf(state), state.namespace, state.name, policy);
            if (live === undefined) {
                return { id: "" };
            }
            return {
                id: attachmentId(state.subscriptionId, clusterOf(state), state.namespace, state.name),
                props: {
                    ...state,
                    bindingSelector: live.bindingSelector,
                    identity: sameIdentity(live.identity, state.identity) ? state.identity : live.identity,
                },
            };
        },
    };
}

const podIdentityProvider = createPodIdentityProvider();

/** The provider every `PodIdentityAttachment` uses (environment credentials, `DEFAULT_RETRY_POLICY`). */
export { podIdentityProvider as POD_IDENTITY_PROVIDER };

/** Arguments of `PodIdentityAttachment`. */
export interface PodIdentityAttachmentArgs {
    /** Subscription of the cluster. */
    subscriptionId: pulumi.Input<string>;
    /** Resource group of the cluster. */
    resourceGroupName: pulumi.Input<string>;
    /** Name of the cluster. */
    clusterName: pulumi.Input<string>;
    /** Any string that changes whenever the cluster resource itself is updated; a change re-asserts the entry (a cluster update made by Pulumi sends no pod identities and would drop it). */
    clusterRevision: pulumi.Input<string>;
    /** Pod identity name (the AzureIdentity's name in the namespace). */
    name: pulumi.Input<string>;
    /** Kubernetes namespace of the pod identity. */
    namespace: pulumi.Input<string>;
    /** Value of the `aadpodidbinding` pod label that selects this identity. */
    bindingSelector: pulumi.Input<string>;
    /** The user-assigned managed identity handed out: ARM id, client id and service principal object id. */
    identity: pulumi.Input<{ resourceId: pulumi.Input<string>; clientId: pulumi.Input<string>; objectId: pulumi.Input<string> }>;
}

/**
 * One workload's pod identity in an AKS cluster's pod-identity add-on, attached after the cluster
 * exists. Its id is `<cluster ARM id>/podIdentities/<namespace>/<name>`; its outputs echo its inputs.
 * Registered as `pulumi-nodejs:dynamic:PodIdentityAttachment`.
 */
export class PodIdentityAttachment extends pulumi.dynamic.Resource {
    /** Subscription of the cluster. */
    declare public readonly subscriptionId: pulumi.Output<string>;
    /** Resource group of the cluster. */
    declare public readonly resourceGroupName: pulumi.Output<string>;
    /** Name of the cluster. */
    declare public readonly clusterName: pulumi.Output<string>;
    /** The cluster revision the entry was last asserted for. */
    declare public readonly clusterRevision: pulumi.Output<string>;
    /** Pod identity name. */
    declare public readonly name: pulumi.Output<string>;
    /** Namespace of the pod identity. */
    declare public readonly namespace: pulumi.Output<string>;
    /** Value of the `aadpodidbinding` label that selects the identity. */
    declare public readonly bindingSelector: pulumi.Output<string>;
    /** The user-assigned identity handed out. */
    declare public readonly identity: pulumi.Output<PodIdentityIdentity>;

    constructor(name: string, args: PodIdentityAttachmentArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            podIdentityProvider,
            name,
            {
                subscriptionId: args.subscriptionId,
                resourceGroupName: args.resourceGroupName,
                clusterName: args.clusterName,
                clusterRevision: args.clusterRevision,
                name: args.name,
                namespace: args.namespace,
                bindingSelector: args.bindingSelector,
                identity: args.identity,
            },
            opts,
            undefined,
            "PodIdentityAttachment",
        );
    }
}
