// What every component of this stack shares: where its resources go and how they are named and
// tagged, and the random suffix of globally unique names.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/** Where a component's Azure resources are placed, and how they are named and tagged. */
export interface PlacementArgs {
    /** Resource group that holds the resources. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    location: pulumi.Input<string>;
    /** Prefix of Azure resource names, such as `aiv-dev`. */
    baseName: string;
    /** Tags for every resource that takes them. */
    tags: Record<string, string>;
}

export { CANARY_NAME } from "../config";

/** A workload's claim on a shared resource: its name and its identity's service principal. */
export interface WorkloadGrantee {
    /** Workload name, validated upstream: 3-24 lower-case letters, digits and single hyphens. */
    name: string;
    /** Object id of the workload identity's service principal. */
    principalId: pulumi.Input<string>;
}

/**
 * Six lower-case letters and digits, created once and kept in state, that make a globally unique
 * Azure name stable across updates. Created as `${name}-suffix` under `parent`.
 */
export function nameSuffix(name: string, parent: pulumi.Resource): random.RandomString {
    return new random.RandomString(`${name}-suffix`, { length: 6, lower: true, upper: false, numeric: true, special: false }, { parent });
}
