// Network policies: private DNS zones and their links, private endpoints (one connection, one DNS
// zone group pointing at the right zone, a dedicated subnet whose NSG applies to them), an NSG on
// every subnet, and no inbound rule open to the Internet.
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { PRIVATE_DNS_ZONE_BY_GROUP, armName } from "../lib/arm";
import { azureName, endpointSubnet, idNamesSubnet, linkedThrough, ofType, refersTo } from "../lib/graph";
import { admitsInternet } from "../lib/net";
import { TYPES } from "../lib/types";
import { field, list, sameText, strings, text } from "../lib/values";

/** Subnets Azure reserves for its own appliances, where an NSG is refused or unsupported. */
const NSG_EXEMPT_SUBNETS: ReadonlySet<string> = new Set(["gatewaysubnet", "azurefirewallsubnet", "azurefirewallmanagementsubnet", "routeserversubnet"]);
/** Private endpoint network policy values under which the subnet's NSG applies to endpoints. */
const NSG_APPLIES: ReadonlySet<string> = new Set(["enabled", "networksecuritygroupenabled"]);

/** The group id of an endpoint's single connection, if it has exactly one. */
function endpointGroupId(endpoint: unknown): string | undefined {
    const groups = list(field(endpoint, "privateLinkServiceConnections")).flatMap((c) => strings(field(c, "groupIds")));
    return groups.length === 1 ? groups[0] : undefined;
}

/** Private DNS zones carry exactly the names private link resolves through. */
export const privateDnsZoneNames: ResourceValidationPolicy = {
    name: "private-dns-zone-name",
    description:
        "Private DNS zones are named exactly as Azure private link expects (by default privatelink.vaultcore.azure.net and privatelink.blob.core.windows.net; Key Vault uses vaultcore, not vault); a misspelt zone silently sends clients to the public endpoint. No direct Checkov equivalent; Microsoft cloud security benchmark NS-10 (DNS security).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { allowedZones: { type: "array", items: { type: "string" }, default: [...PRIVATE_DNS_ZONE_BY_GROUP.values()] } } },
    validateResource: validateResourceOfType(privatedns.PrivateZone, (zone, args, reportViolation) => {
        const allowed = args.getConfig<{ allowedZones?: string[] }>().allowedZones ?? [...PRIVATE_DNS_ZONE_BY_GROUP.values()];
        if (!allowed.includes(zone.privateZoneName ?? "")) {
            reportViolation(`Zone ${zone.privateZoneName ?? "(unnamed)"} is not one of ${allowed.join(", ")}.`);
        }
    }),
};

/** Zone links never register VM records into the private-link zones. */
export const privateDnsLinkNoRegistration: ResourceValidationPolicy = {
    name: "private-dns-link-registration-off",
    description:
        "Virtual network links of private DNS zones keep registrationEnabled false: the private-link zones hold only the endpoints' records, never VM names that could shadow them. No direct Checkov equivalent; Microsoft cloud security benchmark NS-10.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(privatedns.VirtualNetworkLink, (link, _args, reportViolation) => {
        if (link.registrationEnabled === true) {
            reportViolation("Set registrationEnabled to false.");
        }
    }),
};

/** Each endpoint exposes one sub-resource of one target, approved automatically. */
export const privateEndpointSingleConnection: ResourceValidationPolicy = {
    name: "private-endpoint-single-connection",
    description: `Private endpoints have exactly one automatically approved private-link connection with exactly one group id among ${[...PRIVATE_DNS_ZONE_BY_GROUP.keys()].join(", ")}, and no manual connection (which a resource owner in another tenant could approve). No direct Checkov equivalent; Microsoft cloud security benchmark NS-2.`,
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(network.PrivateEndpoint, (endpoint, _args, reportViolation) => {
        const connections = endpoint.privateLinkServiceConnections ?? [];
        if ((endpoint.manualPrivateLinkServiceConnections ?? []).length > 0) {
            reportViolation("Remove manualPrivateLinkServiceConnections.");
        }
        if (connections.length !== 1) {
            reportViolation(`The endpoint has ${connections.length} private-link connections; it needs exactly one.`);
            return;
        }
        const groups = connections[0].groupIds ?? [];
        if (groups.length !== 1 || !PRIVATE_DNS_ZONE_BY_GROUP.has(groups[0])) {
            reportViolation(`groupIds is ${JSON.stringify(groups)}; it needs exactly one of ${[...PRIVATE_DNS_ZONE_BY_GROUP.keys()].join(", ")}.`);
        }
    }),
};

/** Each endpoint registers its address in exactly one zone: the one its sub-resource resolves through. */
export const privateEndpointDnsZoneGroup: StackValidationPolicy = {
    name: "private-endpoint-dns-zone-group",
    description:
        "Every private endpoint has exactly one private DNS zone group, and every zone it names is the private-link zone of the endpoint's group id (vault: privatelink.vaultcore.azure.net, blob: privatelink.blob.core.windows.net), so clients in the VNet resolve the service to the endpoint. No direct Checkov equivalent; Microsoft cloud security benchmark NS-10.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const groups = ofType(args.resources, TYPES.privateDnsZoneGroup);
        for (const endpoint of ofType(args.resources, TYPES.privateEndpoint)) {
            const own = groups.filter((group) =>
                refersTo(group, "privateEndpointName", endpoint, () => sameText(text(field(group.props, "privateEndpointName")), azureName(endpoint, "privateEndpointName"))),
            );
            if (own.length !== 1) {
                reportViolation(`The endpoint has ${own.length} private DNS zone groups; it needs exactly one.`, endpoint.urn);
                continue;
            }
            const expected = PRIVATE_DNS_ZONE_BY_GROUP.get(endpointGroupId(endpoint.props) ?? "");
            const linkedZones = linkedThrough(own[0], "privateDnsZoneConfigs", TYPES.privateZone).map((zone) => azureName(zone, "privateZoneName") ?? "");
            const zones = linkedZones.length > 0 ? linkedZones : list(field(own[0].props, "privateDnsZoneConfigs")).map((config) => armName(text(field(config, "privateDnsZoneId")) ?? ""));
            if (expected === undefined || zones.length === 0 || zones.some((zone) => !sameText(zone, expected))) {
                reportViolation(`The endpoint's zone group names ${JSON.stringify(zones)}; it must name only ${expected ?? "the zone of a known group id"}.`, own[0].urn);
            }
        }
    },
};

/** Endpoints live in a subnet of their own, declared by the stack, never among the cluster's nodes. */
export const privateEndpointDedicatedSubnet: StackValidationPolicy = {
    name: "private-endpoint-dedicated-subnet",
    description:
        "Every private endpoint is placed in a subnet the stack declares, and that subnet hosts no AKS node pool, so the endpoint subnet's NSG governs who reaches the endpoints. No direct Checkov equivalent; Azure security baseline for AKS / Microsoft cloud security benchmark NS-1 (network segmentation).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const clusters = ofType(args.resources, TYPES.managedCluster);
        for (const endpoint of ofType(args.resources, TYPES.privateEndpoint)) {
            const subnet = endpointSubnet(args.resources, endpoint);
            if (subnet === undefined) {
                reportViolation("The endpoint's subnet is not declared in this stack.", endpoint.urn);
                continue;
            }
            const hostsNodes = clusters.some((cluster) =>
                refersTo(cluster, "agentPoolProfiles", subnet, () =>
                    list(field(cluster.props, "agentPoolProfiles")).some((pool) => idNamesSubnet(text(field(pool, "vnetSubnetID")), subnet) || idNamesSubnet(text(field(pool, "podSubnetID")), subnet)),
                ),
            );
            if (hostsNodes) {
                reportViolation(`The endpoint shares subnet ${azureName(subnet, "subnetName") ?? subnet.urn} with an AKS node pool.`, endpoint.urn);
            }
        }
    },
};

/** The endpoint subnet's NSG applies to the endpoints themselves. */
export const privateEndpointSubnetPolicies: StackValidationPolicy = {
    name: "private-endpoint-subnet-network-policies",
    description:
        "Subnets holding private endpoints set privateEndpointNetworkPolicies to Enabled (or NetworkSecurityGroupEnabled) and have an NSG; otherwise Azure bypasses the subnet's NSG for endpoint traffic. No direct Checkov equivalent; Microsoft cloud security benchmark NS-1.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const reported = new Set<string>();
        for (const endpoint of ofType(args.resources, TYPES.privateEndpoint)) {
            const subnet = endpointSubnet(args.resources, endpoint);
            if (subnet === undefined || reported.has(subnet.urn)) {
                continue;
            }
            const setting = text(field(subnet.props, "privateEndpointNetworkPolicies"));
            if (!NSG_APPLIES.has((setting ?? "").toLowerCase())) {
                reported.add(subnet.urn);
                reportViolation(`privateEndpointNetworkPolicies is ${setting ?? "unset (Disabled)"}; set it to Enabled so the NSG applies to the endpoints.`, subnet.urn);
            } else if (text(field(subnet.props, "networkSecurityGroup", "id")) === undefined && linkedThrough(subnet, "networkSecurityGroup", TYPES.networkSecurityGroup).length === 0) {
                reported.add(subnet.urn);
                reportViolation("The endpoint subnet has no network security group.", subnet.urn);
            }
        }
    },
};

/** Every subnet is covered by an NSG. */
export const subnetHasNsg: ResourceValidationPolicy = {
    name: "subnet-nsg",
    description: "Every subnet (except Azure's gateway, firewall and route server subnets) has a network security group. Checkov CKV2_AZURE_31.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(network.Subnet, (subnet, _args, reportViolation) => {
        if (NSG_EXEMPT_SUBNETS.has((subnet.subnetName ?? subnet.name ?? "").toLowerCase())) {
            return;
        }
        if ((subnet.networkSecurityGroup?.id ?? "") === "") {
            reportViolation("Attach a network security group (networkSecurityGroup.id).");
        }
    }),
};

/** A rule as NSGs and standalone SecurityRule resources declare it. */
interface RuleLike {
    name?: string;
    direction?: string;
    access?: string;
    sourceAddressPrefix?: string;
    sourceAddressPrefixes?: string[];
}

/** Reports inbound allow rules whose sources admit the Internet. */
function reportInternetRules(rules: readonly RuleLike[], reportViolation: (message: string) => void): void {
    for (const rule of rules) {
        if (!sameText(rule.direction, "Inbound") || !sameText(rule.access, "Allow")) {
            continue;
        }
        const sources = [...(rule.sourceAddressPrefix === undefined ? [] : [rule.sourceAddressPrefix]), ...(rule.sourceAddressPrefixes ?? [])];
        const open = sources.filter(admitsInternet);
        if (open.length > 0) {
            reportViolation(`Inbound rule ${rule.name ?? "(unnamed)"} allows traffic from ${open.join(", ")}.`);
        }
    }
}

/** Nothing on the Internet may open a connection into the VNet. */
export const nsgNoInternetInbound: ResourceValidationPolicy = {
    name: "nsg-no-internet-inbound",
    description:
        "Network security groups and security rules allow no inbound traffic from the Internet (*, Internet, 0.0.0.0/0 or a public range) on any port. Generalizes Checkov CKV_AZURE_9 (RDP), CKV_AZURE_10 (SSH), CKV_AZURE_77 (UDP) and CKV_AZURE_160 (HTTP).",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(network.NetworkSecurityGroup, (nsg, _args, reportViolation) => reportInternetRules(nsg.securityRules ?? [], reportViolation)),
        validateResourceOfType(network.SecurityRule, (rule, _args, reportViolation) => reportInternetRules([rule], reportViolation)),
    ],
};

/** The network policies of the pack. */
export const networkPolicies = [
    privateDnsZoneNames,
    privateDnsLinkNoRegistration,
    privateEndpointSingleConnection,
    privateEndpointDnsZoneGroup,
    privateEndpointDedicatedSubnet,
    privateEndpointSubnetPolicies,
    subnetHasNsg,
    nsgNoInternetInbound,
];
