// The VNet's flow logs: every flow in and out of the stack's VNet, written by Network Watcher to a
// storage account of their own, kept there for the stack's retention, and analysed into the stack's
// workspace (traffic analytics, the NTANetAnalytics table). VNet flow logs, since NSG flow logs can no
// longer be created (Network Watcher docs: "you'll no longer be able to create new NSG flow logs
// starting June 30, 2025").
import * as network from "@pulumi/azure-native/network";
import * as storage from "@pulumi/azure-native/storage";
import * as pulumi from "@pulumi/pulumi";
import { PlacementArgs, nameSuffix } from "./common";

/** The `purpose` tag of the flow logs' storage account, by which the policy pack knows it. */
export const FLOW_LOG_PURPOSE = "flow-logs";

/** How often traffic analytics reads the flow logs, in minutes: 60 (the default) or 10, which costs more. */
export const TRAFFIC_ANALYTICS_INTERVAL_MINUTES = 60;

/**
 * The flow logs' account name: `stfl`, the base name without hyphens (cut to fit) and the random
 * suffix; 3-24 lower-case letters and digits. Exported for testing.
 */
export function flowLogAccountName(baseName: string, suffix: string): string {
    return `${`stfl${baseName.replace(/[^a-z0-9]/g, "")}`.slice(0, 24 - suffix.length)}${suffix}`;
}

export interface FlowLogsArgs extends PlacementArgs {
    /** The VNet whose flows are logged. */
    vnetId: pulumi.Input<string>;
    /** What must exist before the flow log: the VNet's subnets (Azure enables Network Watcher when a VNet is written). */
    after: pulumi.Resource[];
    /** The region's Network Watcher, which holds the flow log: its resource group and name. */
    networkWatcher: { resourceGroupName: string; name: string };
    /** Days the flow logs stay in their account. */
    retentionDays: number;
    /** The workspace traffic analytics writes to. */
    workspaceId: pulumi.Input<string>;
    /** Protect the account, which holds the logs, from deletion and replacement. Defaults to true. */
    protect?: boolean;
}

export class FlowLogs extends pulumi.ComponentResource {
    public readonly accountName: pulumi.Output<string>;
    public readonly flowLogId: pulumi.Output<string>;

    constructor(name: string, args: FlowLogsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:network:FlowLogs", name, {}, opts);
        const suffix = nameSuffix(name, this);

        // Network Watcher writes from outside the VNet, as one of Azure's trusted services: "you have to
        // allow trusted Azure services to access your storage account" (Network Watcher FAQ, flow logs
        // with a storage account behind a firewall). Its firewall denies everything else; it takes no
        // account key (Network Watcher "tries to connect using a key, and if that fails, it switches
        // to a token"). Standard general-purpose v2, which retention needs, in the VNet's region.
        const account = new storage.StorageAccount(
            `${name}-account`,
            {
                accountName: suffix.result.apply((s) => flowLogAccountName(args.baseName, s)),
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                kind: storage.Kind.StorageV2,
                sku: { name: storage.SkuName.Standard_LRS },
                accessTier: storage.AccessTier.Hot,
                enableHttpsTrafficOnly: true,
                minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
                allowBlobPublicAccess: false,
                publicNetworkAccess: storage.PublicNetworkAccess.Enabled,
                networkRuleSet: { defaultAction: storage.DefaultAction.Deny, bypass: storage.Bypass.AzureServices, ipRules: [], virtualNetworkRules: [] },
                allowSharedKeyAccess: false,
                defaultToOAuthAuthentication: true,
                allowCrossTenantReplication: false,
                encryption: {
                    keySource: storage.KeySource.Microsoft_Storage,
                    requireInfrastructureEncryption: true,
                    services: { blob: { enabled: true, keyType: storage.KeyType.Account } },
                },
                tags: { ...args.tags, purpose: FLOW_LOG_PURPOSE },
            },
            { parent: this, protect: args.protect ?? true },
        );

        const flowLog = new network.FlowLog(
            `${name}-vnet`,
            {
                flowLogName: `fl-${args.baseName}-vnet`,
                networkWatcherName: args.networkWatcher.name,
                resourceGroupName: args.networkWatcher.resourceGroupName,
                location: args.location,
                targetResourceId: args.vnetId,
                storageId: account.id,
                enabled: true,
                // Version 2 records each flow's state, bytes and packets; left unset the SDK sends 0.
                format: { type: network.FlowLogFormatType.JSON, version: 2 },
                retentionPolicy: { enabled: true, days: args.retentionDays },
                flowAnalyticsConfiguration: {
                    networkWatcherFlowAnalyticsConfiguration: {
                        enabled: true,
                        workspaceResourceId: args.workspaceId,
                        workspaceRegion: args.location,
                        trafficAnalyticsInterval: TRAFFIC_ANALYTICS_INTERVAL_MINUTES,
                    },
                },
                tags: args.tags,
            },
            { parent: this, dependsOn: args.after },
        );

        this.accountName = account.name;
        this.flowLogId = flowLog.id;
        this.registerOutputs({ accountName: this.accountName, flowLogId: this.flowLogId });
    }
}
