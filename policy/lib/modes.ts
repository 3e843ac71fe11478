// Which identity machinery a plan runs, as the policies need to know it.
import type { PolicyResource } from "@pulumi/policy";
import { ofType } from "./graph";
import { TYPES } from "./types";
import { field, text } from "./values";

/** True when the plan runs pod identity: the AKS add-on on a cluster, or the open-source chart. */
export function runsPodIdentity(resources: readonly PolicyResource[]): boolean {
    const addon = ofType(resources, TYPES.managedCluster).some((c) => field(c.props, "podIdentityProfile", "enabled") === true);
    const chart = ofType(resources, TYPES.helmRelease).some((r) => text(field(r.props, "chart")) === "aad-pod-identity");
    return addon || chart;
}
