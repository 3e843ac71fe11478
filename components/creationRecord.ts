// What something was created with, kept in state: a Key Vault key's lifetime and rotation policy, which
// ARM never changes once the key exists (Keys_CreateIfNotExist, docs/azure-behaviour.md row 80). The
// program compares the record with today's config and says in the plan when they differ, since
// nothing else would. Like `Timestamp`, the record never changes on its own: `diff` reports no change,
// so its outputs stay what they were at creation until it is replaced (`pulumi up --replace <urn>`).
// Registered as a Pulumi dynamic resource, `pulumi-nodejs:dynamic:CreationRecord`.
import * as pulumi from "@pulumi/pulumi";

/** The inputs of a `CreationRecord`, and its outputs: the settings as they were at creation. */
export interface CreationRecordState {
    /** What the settings are of, shown in the plan. */
    of: string;
    /** The settings, each a string or a number. */
    settings: Record<string, string | number>;
}

/** The provider of `CreationRecord`: `create` keeps its inputs; nothing changes them afterwards. */
export const creationRecordProvider: pulumi.dynamic.ResourceProvider<CreationRecordState, CreationRecordState> = {
    diff: async () => ({ changes: false, replaces: [], deleteBeforeReplace: false }),
    create: async (inputs) => ({ id: inputs.of, outs: { of: inputs.of, settings: inputs.settings } }),
    read: async (id, props) => ({ id, props }),
    delete: async () => undefined,
};

/**
 * The settings that differ between a record and today's, each as `name recorded -> today`, in the
 * record's order; empty when they agree. Exported for testing.
 */
export function changedSettings(recorded: Readonly<Record<string, string | number>>, today: Readonly<Record<string, string | number>>): string[] {
    return Object.keys(recorded)
        .filter((name) => name in today && recorded[name] !== today[name])
        .map((name) => `${name} ${recorded[name]} -> ${today[name]}`);
}

/** What a record is of and the settings it keeps. */
export interface CreationRecordArgs {
    of: string;
    settings: Record<string, string | number>;
}

/** Settings kept in state as they were when the record was created; see the module's comment. */
export class CreationRecord extends pulumi.dynamic.Resource {
    declare public readonly of: pulumi.Output<string>;
    declare public readonly settings: pulumi.Output<Record<string, string | number>>;

    constructor(name: string, args: CreationRecordArgs, opts?: pulumi.CustomResourceOptions) {
        super(creationRecordProvider, name, { of: args.of, settings: args.settings }, opts, undefined, "CreationRecord");
    }
}
