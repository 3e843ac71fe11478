// Waits that make Azure's propagation delays part of the deployment graph, as Pulumi dynamic resources:
// - `ClusterAccessWait` ends when the Kubernetes API server lets the deployer do what the stack needs,
//   asked with SelfSubjectAccessReviews (clusterAccess.ts). Azure RBAC for Kubernetes applies a new
//   role assignment minutes after it is written (Microsoft: "up to five minutes").
// - `RolePropagationDelay` waits a bounded, stated time after Azure role assignments are written,
//   where Azure offers no way to ask whether another principal's grant applies yet (Azure/azure-cli#22510).
// Resources that need the grants depend on the wait; a wait runs again only when its grants change.
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { endpointFromKubeconfig, waitForAccess } from "./clusterAccess";
import type { AccessCheck } from "./clusterAccess";

/** Pulumi's placeholder for a value not known during preview (sdk/nodejs/runtime/rpc.ts). */
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Equal string lists, in order. */
function sameList(a: unknown, b: unknown): boolean {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => item === b[i]);
}

/** A short digest of a list of strings, for ids. */
function digestOf(values: readonly string[]): string {
    return createHash("sha256").update(JSON.stringify(values)).digest("hex").slice(0, 16);
}

// ---------------------------------------------------------------------------------------------------
// RolePropagationDelay
// ---------------------------------------------------------------------------------------------------

/**
 * Seconds to wait after writing a grant that an AKS operation is about to use: what
 * `az aks pod-identity add` waits after granting Managed Identity Operator to the cluster identity
 * (Azure/azure-cli-extensions aks-preview `_podidentity.py`, "Wait 30 seconds for identity role
 * assignment propagation"). Azure gives no way to ask whether another principal's grant applies yet
 * (Azure/azure-cli#22510).
 */
export const ROLE_PROPAGATION_SECONDS = 30;

/** The inputs of a `RolePropagationDelay` once resolved; its outputs echo them. */
export interface RolePropagationDelayState {
    /** Seconds to wait after the grants are created or replaced. */
    seconds: number;
    /** Why the wait exists and where its length comes from, shown in the plan. */
    reason: string;
    /** ARM ids of the role assignments waited for; a change waits again. */
    grants: string[];
}

/** Problems with a delay's inputs, as Pulumi check failures; values not known yet pass. */
export function checkDelayInputs(value: unknown): pulumi.dynamic.CheckFailure[] {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const seconds: unknown = typeof value === "object" && value !== null ? Reflect.get(value, "seconds") : undefined;
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
        failures.push({ property: "seconds", reason: "seconds must be a number from 0 to 3600" });
    }
    const reason: unknown = typeof value === "object" && value !== null ? Reflect.get(value, "reason") : undefined;
    if (typeof reason !== "string" || reason.trim() === "") {
        failures.push({ property: "reason", reason: "reason must say why the delay exists" });
    }
    const grants: unknown = typeof value === "object" && value !== null ? Reflect.get(value, "grants") : undefined;
    if (!(Array.isArray(grants) || grants === unknownValue)) {
        failures.push({ property: "grants", reason: "grants must be a list of role assignment ids" });
    }
    return failures;
}

/** Pulumi's diff of a delay: new grants wait again (an update); a new length or reason alone changes nothing in Azure. */
export function diffDelay(olds: Partial<RolePropagationDelayState>, news: Partial<Record<keyof RolePropagationDelayState, unknown>>): pulumi.dynamic.DiffResult {
    const changes = !sameList(olds.grants, news.grants) || olds.seconds !== news.seconds || olds.reason !== news.reason;
    return { changes, replaces: [], deleteBeforeReplace: false };
}

/** What `createDelayProvider` can be given instead of its defaults. */
export interface DelayProviderOptions {
    /** Waits `ms`; a timer when absent. */
    sleep?: (ms: number) => Promise<void>;
}

/**
 * The provider of `RolePropagationDelay`: `create` waits `seconds`; `update` waits again only when the
 * grants changed; `delete` and `read` touch nothing, since a delay has nothing in Azure.
 */
export function createDelayProvider(options: DelayProviderOptions = {}): pulumi.dynamic.ResourceProvider<RolePropagationDelayState, RolePropagationDelayState> {
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    return {
        check: async (_olds, news) => {
            const failures = checkDelayInputs(news);
            return failures.length === 0 ? { inputs: news } : { inputs: news, failures };
        },
        diff: async (_id, olds, news) => diffDelay(olds, news),
        create: async (inputs) => {
            await sleep(inputs.seconds * 1000);
            return { id: `role-propagation-${digestOf(inputs.grants)}`, outs: inputs };
        },
        update: async (_id, olds, news) => {
            if (!sameList(olds.grants, news.grants)) {
                await sleep(news.seconds * 1000);
            }
            return { outs: news };
        },
        read: async (id, props) => ({ id, props }),
        delete: async () => undefined,
    };
}

const delayProvider = createDelayProvider();

/** Arguments of `RolePropagationDelay`. */
export interface RolePropagationDelayArgs {
    /** Seconds to wait once the grants exist. */
    seconds: number;
    /** Why, and the source of the length. */
    reason: string;
    /** The role assignments waited for (their ids). */
    grants: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * A bounded wait after role assignments are written, for Azure operations that need another
 * principal's grant to apply first. Registered as `pulumi-nodejs:dynamic:RolePropagationDelay`; depend
 * on it instead of on the grants.
 */
export class RolePropagationDelay extends pulumi.dynamic.Resource {
    declare public readonly seconds: pulumi.Output<number>;
    declare public readonly reason: pulumi.Output<string>;
    declare public readonly grants: pulumi.Output<string[]>;

    constructor(name: string, args: RolePropagationDelayArgs, opts?: pulumi.CustomResourceOptions) {
        super(delayProvider, name, { seconds: args.seconds, reason: args.reason, grants: args.grants }, opts, undefined, "RolePropagationDelay");
    }
}

// ---------------------------------------------------------------------------------------------------
// ClusterAccessWait
// ---------------------------------------------------------------------------------------------------

/** The outputs of a `ClusterAccessWait`: its inputs without the kubeconfig, and the API server it asked. */
export interface ClusterAccessWaitState {
    /** `https://host:port` of the API server. */
    server: string;
    /** What the deployer must be allowed to do. */
    checks: AccessCheck[];
    /** ARM ids of the role assignments waited for; a change asks again. */
    grants: string[];
    /** How long to ask before giving up. */
    budgetSeconds: number;
}

/** The inputs of a `ClusterAccessWait` once resolved. */
export interface ClusterAccessWaitInputs extends Omit<ClusterAccessWaitState, "server"> {
    /** The kubeconfig the Kubernetes provider uses (a secret input; never an output). */
    kubeconfig: string;
}

/** True for a list of well-formed checks. */
function isCheckList(value: unknown): value is AccessCheck[] {
    return (
        Array.isArray(value) &&
        value.length > 0 &&
        value.every(
            (c: unknown) =>
                typeof c === "object" &&
                c !== null &&
                ["verb", "resource"].every((k) => typeof Reflect.get(c, k) === "string" && Reflect.get(c, k) !== "") &&
                typeof Reflect.get(c, "group") === "string",
        )
    );
}

/** Problems with a wait's inputs, as Pulumi check failures; values not known yet pass. */
export function checkAccessWaitInputs(value: unknown): pulumi.dynamic.CheckFailure[] {
    const field = (key: string): unknown => (typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined);
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const kubeconfig = field("kubeconfig");
    if (typeof kubeconfig !== "string" || kubeconfig === "") {
        failures.push({ property: "kubeconfig", reason: "kubeconfig must be a non-empty string" });
    }
    if (!isCheckList(field("checks"))) {
        failures.push({ property: "checks", reason: "checks must list at least one {verb, group, resource}" });
    }
    const grants = field("grants");
    if (!(Array.isArray(grants) || grants === unknownValue)) {
        failures.push({ property: "grants", reason: "grants must be a list of role assignment ids" });
    }
    const budget = field("budgetSeconds");
    if (typeof budget !== "number" || !Number.isFinite(budget) || budget <= 0 || budget > 7200) {
        failures.push({ property: "budgetSeconds", reason: "budgetSeconds must be a number above 0 and at most 7200" });
    }
    return failures;
}

/** The API server a kubeconfig names, or undefined when it cannot be read (or is not known yet). */
export function serverOf(kubeconfig: unknown): string | undefined {
    if (typeof kubeconfig !== "string" || kubeconfig === unknownValue) {
        return undefined;
    }
    try {
        return endpointFromKubeconfig(kubeconfig).server;
    } catch {
        return undefined;
    }
}

/** Pulumi's diff of a wait: another API server, other grants, checks or budget ask again (an update). */
export function diffAccessWait(olds: Partial<ClusterAccessWaitState>, news: Partial<Record<keyof ClusterAccessWaitInputs, unknown>>): pulumi.dynamic.DiffResult {
    const server = serverOf(news.kubeconfig);
    const changes =
        server === undefined ||
        server !== olds.server ||
        !sameList(olds.grants, news.grants) ||
        JSON.stringify(olds.checks) !== JSON.stringify(news.checks) ||
        olds.budgetSeconds !== news.budgetSeconds;
    return { changes, replaces: [], deleteBeforeReplace: false };
}

/** What `createAccessWaitProvider` can be given instead of its defaults. */
export interface AccessWaitProviderOptions {
    /** Replaces `waitForAccess`'s pause between rounds and its request timeout; tests shorten both. */
    intervalMs?: number;
    requestTimeoutMs?: number;
}

/**
 * The provider of `ClusterAccessWait`: `create` and `update` ask until every check is allowed (see
 * `waitForAccess`); `delete` and `read` touch nothing. The kubeconfig is read, never stored in outputs.
 */
export function createAccessWaitProvider(options: AccessWaitProviderOptions = {}): pulumi.dynamic.ResourceProvider<ClusterAccessWaitInputs, ClusterAccessWaitState> {
    const ask = async (inputs: ClusterAccessWaitInputs): Promise<ClusterAccessWaitState> => {
        const endpoint = endpointFromKubeconfig(inputs.kubeconfig);
        await waitForAccess(endpoint, inputs.checks, {
            budgetMs: inputs.budgetSeconds * 1000,
            intervalMs: options.intervalMs ?? 10_000,
            requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
        });
        return { server: endpoint.server, checks: inputs.checks, grants: inputs.grants, budgetSeconds: inputs.budgetSeconds };
    };
    return {
        check: async (_olds, news) => {
            const failures = checkAccessWaitInputs(news);
            return failures.length === 0 ? { inputs: news } : { inputs: news, failures };
        },
        diff: async (_id, olds, news) => diffAccessWait(olds, news),
        create: async (inputs) => {
            const outs = await ask(inputs);
            return { id: `${outs.server}#access-${digestOf(outs.grants)}`, outs };
        },
        update: async (_id, _olds, news) => ({ outs: await ask(news) }),
        read: async (id, props) => ({ id, props }),
        delete: async () => undefined,
    };
}

const accessWaitProvider = createAccessWaitProvider();

/** Arguments of `ClusterAccessWait`. */
export interface ClusterAccessWaitArgs {
    /** The kubeconfig the Kubernetes provider uses, so the reviews run as the same principal. */
    kubeconfig: pulumi.Input<string>;
    /** What the deployer must be allowed to do before the first Kubernetes call. */
    checks: AccessCheck[];
    /** The role assignments that grant it (their ids). */
    grants: pulumi.Input<pulumi.Input<string>[]>;
    /** How long to ask before failing the update. */
    budgetSeconds: number;
}

/**
 * Ends when the cluster's API server allows every check for whoever runs `pulumi up`. Registered as
 * `pulumi-nodejs:dynamic:ClusterAccessWait`; the Kubernetes provider depends on it.
 */
export class ClusterAccessWait extends pulumi.dynamic.Resource {
    declare public readonly server: pulumi.Output<string>;
    declare public readonly checks: pulumi.Output<AccessCheck[]>;
    declare public readonly grants: pulumi.Output<string[]>;
    declare public readonly budgetSeconds: pulumi.Output<number>;

    constructor(name: string, args: ClusterAccessWaitArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            accessWaitProvider,
            name,
            { kubeconfig: args.kubeconfig, checks: args.checks, grants: args.grants, budgetSeconds: args.budgetSeconds, server: undefined },
            opts,
            undefined,
            "ClusterAccessWait",
        );
    }
}
