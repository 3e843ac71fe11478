// A moment kept in state: when something was first created, as Terraform's time_static keeps one. An
// expiry computed from it is the same in every later plan, where one computed from the clock at plan
// time would change each run (and Azure refuses to change a key once created, Azure/bicep#8283).
// Registered as a Pulumi dynamic resource, `pulumi-nodejs:dynamic:Timestamp`.
import * as pulumi from "@pulumi/pulumi";

const SECONDS_PER_DAY = 86_400;

/** The inputs of a `Timestamp`, and its outputs: the moment of its creation. */
export interface TimestampState {
    /** What the moment is of, shown in the plan. */
    purpose: string;
    /** The moment in RFC 3339, UTC, to the second. */
    rfc3339: string;
    /** The same moment in seconds since 1970-01-01T00:00:00Z, as Key Vault takes expiry dates. */
    unix: number;
}

/** The moment `days` days after `unix`, in seconds since the epoch. Exported for testing. */
export function daysAfter(unix: number, days: number): number {
    return unix + days * SECONDS_PER_DAY;
}

/** The state a timestamp created at `now` keeps. Exported for testing. */
export function timestampAt(purpose: string, now: Date): TimestampState {
    const unix = Math.floor(now.getTime() / 1000);
    return { purpose, rfc3339: new Date(unix * 1000).toISOString().replace(".000Z", "Z"), unix };
}

/** What `createTimestampProvider` can be given instead of its defaults. */
export interface TimestampProviderOptions {
    /** The clock; the system's when absent. */
    now?: () => Date;
}

/**
 * The provider of `Timestamp`: `create` reads the clock once; nothing changes it afterwards, not even a
 * new purpose (`diff` reports no change), so the moment lasts as long as the resource; `read` and
 * `delete` touch nothing, since a moment has nothing in Azure.
 */
export function createTimestampProvider(options: TimestampProviderOptions = {}): pulumi.dynamic.ResourceProvider<{ purpose: string }, TimestampState> {
    const now = options.now ?? (() => new Date());
    return {
        diff: async () => ({ changes: false, replaces: [], deleteBeforeReplace: false }),
        create: async (inputs) => {
            const state = timestampAt(inputs.purpose, now());
            return { id: `${state.purpose}@${state.rfc3339}`, outs: state };
        },
        read: async (id, props) => ({ id, props }),
        delete: async () => undefined,
    };
}

const timestampProvider = createTimestampProvider();

/** Arguments of `Timestamp`. */
export interface TimestampArgs {
    /** What the moment is of. */
    purpose: string;
}

/** The moment this resource was created, kept in state; see the module's comment. */
export class Timestamp extends pulumi.dynamic.Resource {
    declare public readonly purpose: pulumi.Output<string>;
    declare public readonly rfc3339: pulumi.Output<string>;
    declare public readonly unix: pulumi.Output<number>;

    constructor(name: string, args: TimestampArgs, opts?: pulumi.CustomResourceOptions) {
        super(timestampProvider, name, { purpose: args.purpose, rfc3339: undefined, unix: undefined }, opts, undefined, "Timestamp");
    }
}
