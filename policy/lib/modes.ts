// Which identity machinery a plan runs, as the policies need to know it.
import type { PolicyResource } from "@pulumi/policy";
import { ofType } from "./graph";
import { TYPES } from "./types";
import { field, text } from "./values";

/** The open-source aad-pod-identity's chart name. */
const AAD_POD_IDENTITY_CHART = "aad-pod-identity";

/**
 * True when a Helm release's chart is the open-source aad-pod-identity: by its name (`aad-pod-identity`,
 * `repo/aad-pod-identity`) or by its archive's URL (`.../aad-pod-identity-4.1.18.tgz`).
 */
export function isAadPodIdentityChart(chart: string | undefined): boolean {
    const last = (chart ?? "").split("/").pop() ?? "";
    return last === AAD_POD_IDENTITY_CHART || /^aad-pod-identity-\d+\.\d+\.\d+\.tgz$/.test(last);
}

/** True when the plan runs pod identity: the AKS add-on on a cluster, or the open-source chart. */
export function runsPodIdentity(resources: readonly PolicyResource[]): boolean {
    const addon = ofType(resources, TYPES.managedCluster).some((c) => field(c.props, "podIdentityProfile", "enabled") === true);
    const chart = ofType(resources, TYPES.helmRelease).some((r) => isAadPodIdentityChart(text(field(r.props, "chart"))));
    return addon || chart;
}
