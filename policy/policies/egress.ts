// Egress, the private API server and the VNet's flow logs: the invariants of each choice the stack
// makes in config (apiServerAccess, egress), checked wherever the resources that make the choice appear.
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as network from "@pulumi/azure-native/network";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { azureName, idNamesSubnet, linkedThrough, ofType, refersTo, waitsFor } from "../lib/graph";
import { TYPES } from "../lib/types";
import { field, list, sameText, strings, text } from "../lib/values";

/** The subnets a cluster's pools join, as the stack declares them. */
function clusterSubnets(resources: readonly PolicyResource[], cluster: PolicyResource): PolicyResource[] {
    const linked = linkedThrough(cluster, "agentPoolProfiles", TYPES.subnet);
    if (linked.length > 0) {
        return linked;
    }
    const ids = list(field(cluster.props, "agentPoolProfiles")).map((pool) => text(field(pool, "vnetSubnetID")));
    return ofType(resources, TYPES.subnet).filter((subnet) => ids.some((id) => idNamesSubnet(id, subnet)));
}

/** The stack's route table a subnet is associated with. */
function routeTableOf(resources: readonly PolicyResource[], subnet: PolicyResource): PolicyResource | undefined {
    const linked = linkedThrough(subnet, "routeTable", TYPES.routeTable);
    if (linked.length > 0) {
        return linked[0];
    }
    const id = text(field(subnet.props, "routeTable", "id"));
    const name = id
        ?.split("/")
        .filter((s) => s !== "")
        .pop();
    return ofType(resources, TYPES.routeTable).find((table) => name !== undefined && sameText(azureName(table, "routeTableName"), name));
}

/** Whether `route` sends every address outside the VNet to a firewall of the stack. */
function routesToFirewall(resources: readonly PolicyResource[], route: PolicyResource["props"], routeResource?: PolicyResource): boolean {
    if (text(field(route, "addressPrefix")) !== "0.0.0.0/0" || !sameText(text(field(route, "nextHopType")), "VirtualAppliance")) {
        return false;
    }
    const firewalls = ofType(resources, TYPES.azureFirewall);
    if (routeResource !== undefined && linkedThrough(routeResource, "nextHopIpAddress", TYPES.azureFirewall).length > 0) {
        return true;
    }
    const hop = text(field(route, "nextHopIpAddress"));
    return firewalls.some((fw) => list(field(fw.props, "ipConfigurations")).some((c) => hop !== undefined && text(field(c, "privateIPAddress")) === hop));
}

/**
 * A cluster whose outbound type is userDefinedRouting sends its nodes' traffic to the stack's firewall:
 * every subnet its pools join has a route table whose default route's next hop is the firewall's
 * private address, and the cluster is created after that route and the firewall's rules (AKS checks
 * the outbound path while it provisions nodes).
 */
export const egressDefaultRouteToFirewall: StackValidationPolicy = {
    name: "egress-default-route-to-firewall",
    description:
        "An AKS cluster with outboundType userDefinedRouting has, on every subnet its pools join, a route table whose 0.0.0.0/0 route has next hop VirtualAppliance at the stack's Azure Firewall's private address; the cluster waits for that route and for the firewall's rule collection groups. AKS docs, egress-udr ('requires a route for 0.0.0.0/0 and a next hop destination of NVA') and limit-egress-traffic; node provisioning fails with exit status 50 without it (AKS troubleshooting, OutboundConnFailVMExtensionError). No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const waits = waitsFor(args.resources);
        for (const cluster of ofType(args.resources, TYPES.managedCluster)) {
            if (!sameText(text(field(cluster.props, "networkProfile", "outboundType")), "userDefinedRouting")) {
                continue;
            }
            const before = waits(cluster);
            for (const rules of ofType(args.resources, TYPES.firewallPolicyRuleCollectionGroup).filter((g) => !waits(g).has(cluster))) {
                if (!before.has(rules)) {
                    reportViolation(`The cluster does not wait for the firewall's rules ${rules.name}.`, cluster.urn);
                }
            }
            for (const subnet of clusterSubnets(args.resources, cluster)) {
                const table = routeTableOf(args.resources, subnet);
                if (table === undefined) {
                    reportViolation(
                        `Subnet ${azureName(subnet, "subnetName") ?? subnet.name} has no route table of the stack; userDefinedRouting needs its default route to the firewall.`,
                        cluster.urn,
                    );
                    continue;
                }
                const routes = ofType(args.resources, TYPES.route).filter((r) =>
                    refersTo(r, "routeTableName", table, () => sameText(text(field(r.props, "routeTableName")), azureName(table, "routeTableName"))),
                );
                const standalone = routes.filter((r) => routesToFirewall(args.resources, r.props, r));
                const inline = list(field(table.props, "routes")).filter((r) => routesToFirewall(args.resources, r as PolicyResource["props"]));
                if (inline.length + standalone.length === 0) {
                    reportViolation(`Route table ${azureName(table, "routeTableName") ?? table.name} has no 0.0.0.0/0 route to the firewall's private address.`, cluster.urn);
                }
                for (const route of standalone.filter((r) => !before.has(r))) {
                    reportViolation(`The cluster does not wait for route ${route.name}: AKS checks the outbound path while it creates the nodes.`, cluster.urn);
                }
            }
        }
    },
};

/**
 * Behind the firewall, nothing else gives the cluster a way out: no outbound public IP or load
 * balancer profile, no NAT gateway on its subnets, no public IP on its nodes.
 */
export const egressOnlyThroughFirewall: StackValidationPolicy = {
    name: "egress-only-through-firewall",
    description:
        "An AKS cluster with outboundType userDefinedRouting has no other way out: no loadBalancerProfile (outbound IPs; AKS refuses it with userDefinedRouting, InvalidUserDefinedRoutingWithLoadBalancerProfile), no NAT gateway on a subnet its pools join, no node public IPs. AKS docs, egress-udr ('AKS never creates a public IP address for outbound requests if you set an outbound type of UDR'). No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const cluster of ofType(args.resources, TYPES.managedCluster)) {
            if (!sameText(text(field(cluster.props, "networkProfile", "outboundType")), "userDefinedRouting")) {
                continue;
            }
            if (field(cluster.props, "networkProfile", "loadBalancerProfile") !== undefined) {
                reportViolation("networkProfile.loadBalancerProfile gives the cluster outbound addresses of its own; remove it.", cluster.urn);
            }
            for (const pool of list(field(cluster.props, "agentPoolProfiles"))) {
                if (field(pool, "enableNodePublicIP") === true) {
                    reportViolation(`Pool ${text(field(pool, "name")) ?? "(unnamed)"} gives its nodes public IPs.`, cluster.urn);
                }
            }
            for (const subnet of clusterSubnets(args.resources, cluster)) {
                if (text(field(subnet.props, "natGateway", "id")) !== undefined || linkedThrough(subnet, "natGateway", TYPES.natGateway).length > 0) {
                    reportViolation(`Subnet ${azureName(subnet, "subnetName") ?? subnet.name} has a NAT gateway, a way out past the firewall.`, subnet.urn);
                }
            }
        }
    },
};

/** Destinations a firewall rule must never name: all of the internet. */
const EVERYWHERE: ReadonlySet<string> = new Set(["*", "0.0.0.0/0", "internet", "any"]);

/**
 * The firewall admits named destinations from named sources only: no rule whose source or
 * destination is everywhere, and no FQDN that is a bare wildcard.
 */
export const egressFirewallRulesNarrow: ResourceValidationPolicy = {
    name: "egress-firewall-rules-narrow",
    description:
        "Azure Firewall policy rule collection groups only allow: every rule names its sources (no *, 0.0.0.0/0 or Internet), and its destinations by FQDN tag, FQDN (no bare *), service tag or address (no *, 0.0.0.0/0 or Internet); no collection denies on the stack's behalf, since the firewall denies what no rule allows. Microsoft cloud security benchmark NS-1; Azure Firewall docs, rule processing. No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(network.FirewallPolicyRuleCollectionGroup, (group, _args, reportViolation) => {
        for (const collection of group.ruleCollections ?? []) {
            for (const rule of (field(collection, "rules") as unknown[] | undefined) ?? []) {
                const name = text(field(rule, "name")) ?? "(unnamed)";
                const sources = strings(field(rule, "sourceAddresses"));
                if (sources.length === 0 || sources.some((s) => EVERYWHERE.has(s.toLowerCase()))) {
                    reportViolation(`Rule ${name} admits traffic from ${sources.length === 0 ? "no named source" : sources.join(", ")}; name the AKS subnet.`);
                }
                const destinations = [...strings(field(rule, "destinationAddresses")), ...strings(field(rule, "targetFqdns")), ...strings(field(rule, "destinationFqdns"))];
                const tags = strings(field(rule, "fqdnTags"));
                if (destinations.length + tags.length === 0 || destinations.some((d) => EVERYWHERE.has(d.toLowerCase()))) {
                    reportViolation(`Rule ${name} admits ${destinations.length + tags.length === 0 ? "any destination" : destinations.join(", ")}; name what the cluster needs.`);
                }
            }
        }
    }),
};

/**
 * A private API server is private all the way: VNet Integration in its own subnet, no public name, no
 * authorized ranges (which limit a public address it no longer has).
 */
export const aksPrivateApiServer: ResourceValidationPolicy = {
    name: "aks-private-api-server",
    description:
        "An AKS cluster with enablePrivateCluster joins its API server to a subnet of the VNet (enableVnetIntegration with subnetId: API Server VNet Integration, which can turn public access back on in place and which a private vault for etcd's key needs), publishes no public name (enablePrivateClusterPublicFQDN false) and names no authorized IP ranges ('You can't use this feature with private clusters'). AKS docs, api-server-vnet-integration, private-clusters, api-server-authorized-ip-ranges; Checkov CKV_AZURE_115.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
        const access = cluster.apiServerAccessProfile;
        if (access?.enablePrivateCluster !== true) {
            return;
        }
        if (access.enableVnetIntegration !== true || (access.subnetId ?? "") === "") {
            reportViolation("Set apiServerAccessProfile.enableVnetIntegration with its subnetId: the stack's private API server uses API Server VNet Integration.");
        }
        if (access.enablePrivateClusterPublicFQDN !== false) {
            reportViolation("Set apiServerAccessProfile.enablePrivateClusterPublicFQDN to false: a private API server publishes no public name.");
        }
        if ((access.authorizedIPRanges ?? []).length > 0) {
            reportViolation("Remove apiServerAccessProfile.authorizedIPRanges: they limit a public address a private API server does not have.");
        }
    }),
};

/** Every VNet's flows are logged and analysed into the stack's workspace. */
export const vnetFlowLogs: StackValidationPolicy = {
    name: "network-vnet-flow-logs",
    description:
        "Every virtual network has an enabled VNet flow log in the stack (NSG flow logs can no longer be created: Network Watcher docs, 'you'll no longer be able to create new NSG flow logs starting June 30, 2025'), in format version 2, retained for at least a day, with traffic analytics into a workspace of the stack. Azure Policy 'Flow logs should be configured for every virtual network' (Audit) and 'Configure virtual networks to enforce workspace, storage account and retention interval for Flow logs and Traffic Analytics' (DeployIfNotExists); Microsoft cloud security benchmark LT-4. No direct Checkov equivalent (CKV_AZURE_12 checks NSG flow logs).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const flowLogs = ofType(args.resources, TYPES.flowLog);
        const workspaces = ofType(args.resources, TYPES.logAnalyticsWorkspace);
        for (const vnet of ofType(args.resources, "azure-native:network:VirtualNetwork")) {
            const logs = flowLogs.filter((log) =>
                refersTo(log, "targetResourceId", vnet, () =>
                    (text(field(log.props, "targetResourceId")) ?? "").toLowerCase().endsWith(`/virtualnetworks/${(azureName(vnet, "virtualNetworkName") ?? "").toLowerCase()}`),
                ),
            );
            if (logs.length === 0) {
                reportViolation("No flow log of the stack records this virtual network's flows.", vnet.urn);
            }
            for (const log of logs) {
                const analytics = field(log.props, "flowAnalyticsConfiguration", "networkWatcherFlowAnalyticsConfiguration");
                const problems = [
                    ...(field(log.props, "enabled") === true ? [] : ["enabled is not true"]),
                    ...(field(log.props, "format", "version") === 2 ? [] : ["format.version is not 2"]),
                    ...(field(log.props, "retentionPolicy", "enabled") === true && Number(field(log.props, "retentionPolicy", "days")) >= 1
                        ? []
                        : ["retentionPolicy is not enabled for at least a day"]),
                    ...(field(analytics, "enabled") === true &&
                    workspaces.some((w) =>
                        refersTo(log, "flowAnalyticsConfiguration", w, () =>
                            (text(field(analytics, "workspaceResourceId")) ?? "").toLowerCase().endsWith(`/workspaces/${(azureName(w, "workspaceName") ?? "").toLowerCase()}`),
                        ),
                    )
                        ? []
                        : ["traffic analytics does not write to a workspace of the stack"]),
                ];
                if (problems.length > 0) {
                    reportViolation(`Flow log ${log.name}: ${problems.join("; ")}.`, log.urn);
                }
            }
        }
    },
};

/** The firewall's allows and denies are in the workspace, each in its own table. */
export const firewallLogs: StackValidationPolicy = {
    name: "egress-firewall-logs",
    description:
        "Every Azure Firewall sends its application and network rule logs (AZFWApplicationRule, AZFWNetworkRule) to a workspace of the stack in resource-specific tables (logAnalyticsDestinationType Dedicated, which Azure Firewall docs, firewall-structured-logs, recommend). Microsoft cloud security benchmark LT-4. No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const settings = ofType(args.resources, TYPES.diagnosticSetting);
        for (const firewall of ofType(args.resources, TYPES.azureFirewall)) {
            const name = azureName(firewall, "azureFirewallName") ?? "";
            const mine = settings.filter((s) =>
                refersTo(s, "resourceUri", firewall, () => (text(field(s.props, "resourceUri")) ?? "").toLowerCase().endsWith(`/azurefirewalls/${name.toLowerCase()}`)),
            );
            const complete = mine.some((s) => {
                const categories = list(field(s.props, "logs"))
                    .filter((l) => field(l, "enabled") === true)
                    .map((l) => text(field(l, "category")));
                return (
                    sameText(text(field(s.props, "logAnalyticsDestinationType")), "Dedicated") &&
                    text(field(s.props, "workspaceId")) !== undefined &&
                    ["AZFWApplicationRule", "AZFWNetworkRule"].every((c) => categories.includes(c))
                );
            });
            if (!complete) {
                reportViolation("No diagnostic setting sends this firewall's AZFWApplicationRule and AZFWNetworkRule logs to the workspace in dedicated tables.", firewall.urn);
            }
        }
    },
};

/** The egress, private API server and flow log policies of the pack. */
export const egressPolicies = [egressDefaultRouteToFirewall, egressOnlyThroughFirewall, egressFirewallRulesNarrow, aksPrivateApiServer, vnetFlowLogs, firewallLogs];
