import * as network from "@pulumi/azure-native/network";
import { FlowLogs, flowLogAccountName, FLOW_LOG_PURPOSE, TRAFFIC_ANALYTICS_INTERVAL_MINUTES } from "../../components/flowLogs";
import { buildOne, dependencyNames, DIAGNOSTICS, named, PLACEMENT, registrations, settled } from "./build";

describe("FlowLogs", () => {
    const ACCOUNT = "azure-native:storage:StorageAccount";
    const FLOW_LOG = "azure-native:network:FlowLog";
    const VNET_ID = "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.Network/virtualNetworks/vnet-aiv-unit";

    async function built(extra: { protect?: boolean } = {}) {
        const { component: logs, plan } = await buildOne(() => {
            const subnet = new network.Subnet("subnet", { resourceGroupName: "rg-unit", virtualNetworkName: "vnet-aiv-unit", subnetName: "snet-aks", addressPrefix: "10.76.0.0/22" });
            return new FlowLogs("flow", {
                ...PLACEMENT,
                vnetId: VNET_ID,
                after: [subnet],
                networkWatcher: { resourceGroupName: "NetworkWatcherRG", name: "NetworkWatcher_uksouth" },
                retentionDays: 30,
                workspaceId: DIAGNOSTICS.workspaceId,
                ...extra,
            });
        });
        return { logs, plan, account: named(plan, ACCOUNT, "flow-account").newState, flowLog: named(plan, FLOW_LOG, "flow-vnet").newState };
    }

    test("registers exactly the reviewed account and VNet flow log", async () => {
        expect(registrations((await built()).plan)).toMatchSnapshot();
    });

    test("the account takes Network Watcher as a trusted service and nothing else: firewall deny, no shared key, no public blobs, TLS 1.2, tagged for the policy pack", async () => {
        const { account } = await built();
        expect(account.inputs).toMatchObject({
            kind: "StorageV2",
            networkRuleSet: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [], virtualNetworkRules: [] },
            allowSharedKeyAccess: false,
            allowBlobPublicAccess: false,
            enableHttpsTrafficOnly: true,
            minimumTlsVersion: "TLS1_2",
            allowCrossTenantReplication: false,
            tags: { stack: "unit", purpose: FLOW_LOG_PURPOSE },
        });
        expect(account.inputs.accountName).toMatch(/^stflaivunit[a-z0-9]+$/);
        expect(account.protect).toBe(true);
    });

    test("protect: false leaves the account unprotected", async () => {
        expect((await built({ protect: false })).account.protect).toBe(false);
    });

    test("the flow log logs the VNet in the region's Network Watcher, version 2, kept the days asked, analysed into the workspace, after what it was given", async () => {
        const { flowLog, account, logs } = await built();
        expect(flowLog.inputs).toMatchObject({
            flowLogName: "fl-aiv-unit-vnet",
            networkWatcherName: "NetworkWatcher_uksouth",
            resourceGroupName: "NetworkWatcherRG",
            location: "uksouth",
            targetResourceId: VNET_ID,
            enabled: true,
            format: { type: "JSON", version: 2 },
            retentionPolicy: { enabled: true, days: 30 },
            flowAnalyticsConfiguration: {
                networkWatcherFlowAnalyticsConfiguration: {
                    enabled: true,
                    workspaceResourceId: DIAGNOSTICS.workspaceId,
                    workspaceRegion: "uksouth",
                    trafficAnalyticsInterval: TRAFFIC_ANALYTICS_INTERVAL_MINUTES,
                },
            },
            tags: { stack: "unit" },
        });
        expect(flowLog.inputs.storageId).toMatch(new RegExp(`/storageAccounts/${String(account.inputs.accountName)}$`));
        expect(dependencyNames(flowLog).sort()).toEqual(["flow-account", "subnet"]);
        expect(await settled(logs.accountName)).toBe(account.inputs.accountName);
        expect(await settled(logs.flowLogId)).toMatch(/\/flowLogs\/fl-aiv-unit-vnet$/);
    });

    test("the account's name is stfl, the base name's letters and digits cut to fit, and the suffix: at most 24", () => {
        expect(flowLogAccountName("aiv-dev", "abc123")).toBe("stflaivdevabc123");
        const long = flowLogAccountName("aiv-a-very-long-stack-name", "abc123");
        expect(long).toBe("stflaivaverylongstabc123");
        expect(long).toHaveLength(24);
    });
});
