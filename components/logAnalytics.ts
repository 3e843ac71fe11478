// The stack's Log Analytics workspace: where the Key Vault's audit events, the blob service's reads,
// writes and deletes, AKS's control-plane logs and Defender for Containers' findings go.
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import * as pulumi from "@pulumi/pulumi";
import { PlacementArgs } from "./common";
import type { DiagnosticsArgs } from "./diagnostics";

export interface LogAnalyticsArgs extends PlacementArgs {
    /** Days the workspace keeps its data: 30 to 730 on the pay-as-you-go tier. */
    retentionDays: number;
    /** Protect the workspace from deletion and replacement. Defaults to true. */
    protect?: boolean;
}

/** The workspace's name: `log-` and the base name. Exported for testing. */
export function workspaceName(baseName: string): string {
    return `log-${baseName}`;
}

export class LogAnalytics extends pulumi.ComponentResource {
    public readonly workspaceId: pulumi.Output<string>;
    public readonly workspaceName: pulumi.Output<string>;
    /** What the other components take to send their logs here. */
    public readonly diagnostics: DiagnosticsArgs;

    constructor(name: string, args: LogAnalyticsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:logs:LogAnalytics", name, {}, opts);
        const workspace = new operationalinsights.Workspace(
            `${name}-workspace`,
            {
                workspaceName: workspaceName(args.baseName),
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
                retentionInDays: args.retentionDays,
                // Readers of a resource's logs need rights on that resource, not on the whole workspace.
                features: { enableLogAccessUsingOnlyResourcePermissions: true },
                tags: args.tags,
            },
            // A deleted workspace is only soft-deleted for 14 days, and a new one of the same name in
            // the same group recovers it with its data; protection keeps an update from trying.
            { parent: this, protect: args.protect ?? true },
        );
        this.workspaceId = workspace.id;
        this.workspaceName = workspace.name;
        this.diagnostics = { workspaceId: workspace.id };
        this.registerOutputs({ workspaceId: this.workspaceId, workspaceName: this.workspaceName });
    }
}
