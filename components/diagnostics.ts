// The diagnostic-setting pattern every audited resource shares, as the private endpoint has its own:
// one setting per resource that sends the named log categories and metrics to the stack's Log
// Analytics workspace.
import * as monitor from "@pulumi/azure-native/monitor";
import * as pulumi from "@pulumi/pulumi";

/** Where a component sends its logs: the stack's workspace. */
export interface DiagnosticsArgs {
    /** ARM id of the Log Analytics workspace. */
    workspaceId: pulumi.Input<string>;
}

/** What one resource sends: its log categories and metric categories, by Azure's names. */
export interface DiagnosticCategories {
    logs: readonly string[];
    metrics: readonly string[];
    /**
     * `Dedicated` writes each category to its resource-specific table (AKSAudit, AKSControlPlane, ...)
     * where the resource supports it; absent, logs go to the shared AzureDiagnostics table.
     */
    destinationType?: "Dedicated";
}

/** The name of every setting the stack writes: one per resource, so a resource's settings never collide. */
export const DIAGNOSTIC_SETTING_NAME = "send-to-log-analytics";

/**
 * The arguments of the setting that sends `categories` of `resourceUri` to the workspace: every
 * category by name, enabled, with no retention policy (Azure refuses one on new settings; the
 * workspace's retention applies). Exported for testing.
 */
export function diagnosticSettingArgs(resourceUri: pulumi.Input<string>, categories: DiagnosticCategories, diagnostics: DiagnosticsArgs): monitor.DiagnosticSettingArgs {
    return {
        name: DIAGNOSTIC_SETTING_NAME,
        resourceUri,
        workspaceId: diagnostics.workspaceId,
        logAnalyticsDestinationType: categories.destinationType,
        logs: categories.logs.map((category) => ({ category, enabled: true })),
        metrics: categories.metrics.map((category) => ({ category, enabled: true })),
    };
}

/**
 * Creates `${name}-diagnostics` under `parent`. A resource takes one setting per category and
 * workspace (Azure refuses a second that sends the same category to the same workspace with 409), so a
 * replacement deletes the old setting before it creates the new one.
 */
export function attachDiagnostics(
    name: string,
    resourceUri: pulumi.Input<string>,
    categories: DiagnosticCategories,
    diagnostics: DiagnosticsArgs,
    parent: pulumi.Resource,
    after: pulumi.Resource[] = [],
): monitor.DiagnosticSetting {
    return new monitor.DiagnosticSetting(`${name}-diagnostics`, diagnosticSettingArgs(resourceUri, categories, diagnostics), { parent, dependsOn: after, deleteBeforeReplace: true });
}
