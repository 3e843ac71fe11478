// The virtual network: one subnet for the AKS nodes and pods (Azure CNI), one for private endpoints,
// and as the stack's choices ask, the API server's own, the firewall's, and the AKS subnet's way out
// (a NAT gateway, or a route table whose default route the firewall takes).
import * as network from "@pulumi/azure-native/network";
import type * as inputs from "@pulumi/azure-native/types/input";
import * as pulumi from "@pulumi/pulumi";
import type { Egress } from "../config";
import { PlacementArgs } from "./common";

export interface NetworkArgs extends PlacementArgs {
    /** The VNet's address space, a validated IPv4 CIDR. */
    addressSpace: string;
    /** Subnet for AKS nodes and, with Azure CNI, their pods. Must lie inside `addressSpace`. */
    aksSubnetPrefix: string;
    /** Subnet for private endpoints. Must lie inside `addressSpace` and not overlap the AKS subnet. */
    privateEndpointSubnetPrefix: string;
    /**
     * The API server's own subnet (API Server VNet Integration), delegated to AKS. Defaults to none;
     * the stack asks for it when etcd is encrypted with its key in a private vault.
     */
    apiServerSubnetPrefix?: string;
    /**
     * How the AKS subnet reaches the internet. `natGateway` puts a NAT gateway with its own public IP on
     * it; `firewall` adds `AzureFirewallSubnet` (`firewallSubnetPrefix`) and a route table on the AKS
     * subnet, whose default route the firewall adds. Defaults to `loadBalancer`: nothing here.
     */
    egress?: Egress;
    /** `AzureFirewallSubnet`'s prefix, with egress `firewall`. */
    firewallSubnetPrefix?: string;
    /**
     * The VNet of the runners that deploy the stack when its API server is private: peered with this
     * one both ways, so that they reach the API server's address in the VNet. Defaults to none.
     */
    runnerVnetId?: string;
    /** Protect the VNet from deletion and replacement. Defaults to true. */
    protect?: boolean;
}

/**
 * Security rules of the endpoint subnet: HTTPS from the AKS subnet is the only traffic admitted.
 * Exported for testing.
 */
export function endpointSubnetRules(aksSubnetPrefix: string, privateEndpointSubnetPrefix: string, apiServerSubnetPrefix?: string): inputs.network.SecurityRuleArgs[] {
    // With etcd encrypted by a key in the private vault, the API server reaches the vault's endpoint
    // from its own subnet: "the network security group (NSG) must allow TCP port 443 from the API
    // server to the private key vault's private endpoint IP address" (AKS docs, use-kms-etcd-encryption).
    const fromApiServer: inputs.network.SecurityRuleArgs[] =
        apiServerSubnetPrefix === undefined
            ? []
            : [
                  {
                      name: "allow-https-from-api-server",
                      priority: 110,
                      direction: network.SecurityRuleDirection.Inbound,
                      access: network.SecurityRuleAccess.Allow,
                      protocol: network.SecurityRuleProtocol.Tcp,
                      sourceAddressPrefix: apiServerSubnetPrefix,
                      sourcePortRange: "*",
                      destinationAddressPrefix: privateEndpointSubnetPrefix,
                      destinationPortRange: "443",
                      description: "The API server's KMS plugin reaches the vault's key over its private endpoint.",
                  },
              ];
    return [
        {
            name: "allow-https-from-aks",
            priority: 100,
            direction: network.SecurityRuleDirection.Inbound,
            access: network.SecurityRuleAccess.Allow,
            protocol: network.SecurityRuleProtocol.Tcp,
            sourceAddressPrefix: aksSubnetPrefix,
            sourcePortRange: "*",
            destinationAddressPrefix: privateEndpointSubnetPrefix,
            destinationPortRange: "443",
            description: "Workloads on AKS reach Key Vault and Blob storage over their private endpoints.",
        },
        ...fromApiServer,
        {
            name: "deny-other-inbound",
            priority: 4096,
            direction: network.SecurityRuleDirection.Inbound,
            access: network.SecurityRuleAccess.Deny,
            protocol: network.SecurityRuleProtocol.Asterisk,
            sourceAddressPrefix: "*",
            sourcePortRange: "*",
            destinationAddressPrefix: "*",
            destinationPortRange: "*",
            description: "Nothing else may reach the private endpoints, not even the rest of the VNet.",
        },
    ];
}

/**
 * Security rules of the API server's subnet, as API Server VNet Integration asks: TCP 443 and 4443
 * from the nodes' subnet, and TCP 9988 from Azure's load balancer (AKS docs,
 * api-server-vnet-integration). Azure's default rules apply to the rest. Exported for testing.
 */
export function apiServerSubnetRules(aksSubnetPrefix: string, apiServerSubnetPrefix: string): inputs.network.SecurityRuleArgs[] {
    const allow = (name: string, priority: number, source: string, ports: string[], description: string): inputs.network.SecurityRuleArgs => ({
        name,
        priority,
        direction: network.SecurityRuleDirection.Inbound,
        access: network.SecurityRuleAccess.Allow,
        protocol: network.SecurityRuleProtocol.Tcp,
        sourceAddressPrefix: source,
        sourcePortRange: "*",
        destinationAddressPrefix: apiServerSubnetPrefix,
        destinationPortRanges: ports,
        description,
    });
    return [
        allow("allow-api-from-nodes", 100, aksSubnetPrefix, ["443", "4443"], "Nodes and pods reach the API server."),
        allow("allow-load-balancer-probe", 110, "AzureLoadBalancer", ["9988"], "Azure's load balancer probes the API server."),
    ];
}

/** The resource group and name in a VNet's ARM id. Exported for testing. */
export function parseVnetId(id: string): { resourceGroupName: string; name: string } {
    const match = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)$/i.exec(id);
    if (match === null) {
        throw new Error(`not a virtual network's ARM id: ${id}`);
    }
    return { resourceGroupName: match[1], name: match[2] };
}

/**
 * A Standard, static IPv4 public address of the stack's, as NAT gateways and Azure Firewall take
 * them: `pip-<base>-<role>`, in `zones` when given (zone-redundant before the resource that uses it).
 */
export function staticPublicIp(name: string, role: string, placement: PlacementArgs, parent: pulumi.Resource, zones?: string[]): network.PublicIPAddress {
    return new network.PublicIPAddress(
        name,
        {
            publicIpAddressName: `pip-${placement.baseName}-${role}`,
            resourceGroupName: placement.resourceGroupName,
            location: placement.location,
            sku: { name: network.PublicIPAddressSkuName.Standard, tier: network.PublicIPAddressSkuTier.Regional },
            publicIPAllocationMethod: network.IPAllocationMethod.Static,
            publicIPAddressVersion: network.IPVersion.IPv4,
            zones,
            tags: placement.tags,
        },
        { parent },
    );
}

export class Network extends pulumi.ComponentResource {
    public readonly vnetId: pulumi.Output<string>;
    public readonly vnetName: pulumi.Output<string>;
    public readonly aksSubnetId: pulumi.Output<string>;
    public readonly privateEndpointSubnetId: pulumi.Output<string>;
    /** The API server's subnet, when one was asked for. */
    public readonly apiServerSubnetId: pulumi.Output<string> | undefined;
    /** `AzureFirewallSubnet`, with egress `firewall`. */
    public readonly firewallSubnetId: pulumi.Output<string> | undefined;
    /** The AKS subnet's route table, with egress `firewall`: the firewall adds the default route. */
    public readonly aksRouteTable: { id: pulumi.Output<string>; name: pulumi.Output<string> } | undefined;
    /** What the AKS subnet's way out needs in place before the cluster is created (AKS checks it while it provisions nodes). */
    public readonly egressPath: pulumi.Resource[];
    /** The peerings with the runners' VNet, both ways; none without one. */
    public readonly runnerPeerings: pulumi.Resource[];

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:network:Network", name, {}, opts);

        // Subnets are standalone resources and the VNet declares none inline, so the two never
        // fight over the subnet list (ARM keeps subnets that a VNet update does not mention).
        const vnet = new network.VirtualNetwork(
            `${name}-vnet`,
            {
                virtualNetworkName: `vnet-${args.baseName}`,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                addressSpace: { addressPrefixes: [args.addressSpace] },
                tags: args.tags,
            },
            { parent: this, protect: args.protect ?? true },
        );

        // AKS manages its own rules on the node NICs; the subnet NSG keeps Azure's default rules.
        const aksNsg = new network.NetworkSecurityGroup(
            `${name}-aks-nsg`,
            {
                networkSecurityGroupName: `nsg-${args.baseName}-aks`,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                tags: args.tags,
            },
            { parent: this },
        );
        const endpointNsg = new network.NetworkSecurityGroup(
            `${name}-endpoints-nsg`,
            {
                networkSecurityGroupName: `nsg-${args.baseName}-endpoints`,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                securityRules: endpointSubnetRules(args.aksSubnetPrefix, args.privateEndpointSubnetPrefix, args.apiServerSubnetPrefix),
                tags: args.tags,
            },
            { parent: this },
        );

        const egress = args.egress ?? "loadBalancer";
        // A NAT gateway of the stack's own, with one static public IP: the nodes' only way out
        // (outboundType userAssignedNATGateway needs it on the subnet before the cluster exists).
        let natGateway: network.NatGateway | undefined;
        if (egress === "natGateway") {
            const natIp = staticPublicIp(`${name}-nat-ip`, "nat", args, this);
            natGateway = new network.NatGateway(
                `${name}-nat-gateway`,
                {
                    natGatewayName: `ng-${args.baseName}`,
                    resourceGroupName: args.resourceGroupName,
                    location: args.location,
                    sku: { name: network.NatGatewaySkuName.Standard },
                    publicIpAddresses: [{ id: natIp.id }],
                    idleTimeoutInMinutes: 4,
                    tags: args.tags,
                },
                { parent: this },
            );
        }
        // With the firewall, the AKS subnet's route table; the firewall adds its default route, as a
        // route of its own (the table declares none inline, so the two never fight over the list).
        let routeTable: network.RouteTable | undefined;
        if (egress === "firewall") {
            routeTable = new network.RouteTable(
                `${name}-aks-routes`,
                {
                    routeTableName: `rt-${args.baseName}-aks`,
                    resourceGroupName: args.resourceGroupName,
                    location: args.location,
                    // Routes learned over a gateway must not take the nodes past the firewall.
                    disableBgpRoutePropagation: true,
                    tags: args.tags,
                },
                { parent: this },
            );
        }

        const aksSubnet = new network.Subnet(
            `${name}-aks-subnet`,
            {
                subnetName: "snet-aks",
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: vnet.name,
                addressPrefix: args.aksSubnetPrefix,
                networkSecurityGroup: { id: aksNsg.id },
                natGateway: natGateway === undefined ? undefined : { id: natGateway.id },
                routeTable: routeTable === undefined ? undefined : { id: routeTable.id },
            },
            { parent: this },
        );
        // Subnet changes on one VNet are serialized by ARM; chaining them avoids "AnotherOperationInProgress".
        const endpointSubnet = new network.Subnet(
            `${name}-endpoints-subnet`,
            {
                subnetName: "snet-endpoints",
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: vnet.name,
                addressPrefix: args.privateEndpointSubnetPrefix,
                networkSecurityGroup: { id: endpointNsg.id },
                // Apply the NSG above to the private endpoints themselves (off by default).
                privateEndpointNetworkPolicies: network.VirtualNetworkPrivateEndpointNetworkPolicies.Enabled,
                // Private endpoints need no path to the internet.
                defaultOutboundAccess: false,
            },
            { parent: this, dependsOn: [aksSubnet] },
        );

        // A subnet of the API server's own, delegated to AKS and used for nothing else (AKS docs,
        // api-server-vnet-integration). Subnets are written one at a time on their VNet.
        let apiServerSubnet: network.Subnet | undefined;
        if (args.apiServerSubnetPrefix !== undefined) {
            const apiServerNsg = new network.NetworkSecurityGroup(
                `${name}-api-server-nsg`,
                {
                    networkSecurityGroupName: `nsg-${args.baseName}-apiserver`,
                    resourceGroupName: args.resourceGroupName,
                    location: args.location,
                    securityRules: apiServerSubnetRules(args.aksSubnetPrefix, args.apiServerSubnetPrefix),
                    tags: args.tags,
                },
                { parent: this },
            );
            apiServerSubnet = new network.Subnet(
                `${name}-api-server-subnet`,
                {
                    subnetName: "snet-apiserver",
                    resourceGroupName: args.resourceGroupName,
                    virtualNetworkName: vnet.name,
                    addressPrefix: args.apiServerSubnetPrefix,
                    networkSecurityGroup: { id: apiServerNsg.id },
                    delegations: [{ name: "aks-api-server", serviceName: "Microsoft.ContainerService/managedClusters" }],
                    defaultOutboundAccess: false,
                },
                { parent: this, dependsOn: [endpointSubnet] },
            );
        }

        // Azure Firewall's subnet, named as Azure requires; it takes no security group (Azure Firewall FAQ).
        let firewallSubnet: network.Subnet | undefined;
        if (egress === "firewall") {
            if (args.firewallSubnetPrefix === undefined) {
                throw new Error("egress firewall needs firewallSubnetPrefix");
            }
            firewallSubnet = new network.Subnet(
                `${name}-firewall-subnet`,
                {
                    subnetName: "AzureFirewallSubnet",
                    resourceGroupName: args.resourceGroupName,
                    virtualNetworkName: vnet.name,
                    addressPrefix: args.firewallSubnetPrefix,
                },
                { parent: this, dependsOn: [apiServerSubnet ?? endpointSubnet] },
            );
        }

        // The runners' VNet, peered both ways: an address-space connection that forwards nothing and
        // uses no gateway, so it reaches the API server's address and the runners reach nothing else of
        // the VNet than its security groups admit.
        this.runnerPeerings = [];
        if (args.runnerVnetId !== undefined) {
            const runner = parseVnetId(args.runnerVnetId);
            const peering = { allowVirtualNetworkAccess: true, allowForwardedTraffic: false, allowGatewayTransit: false, useRemoteGateways: false };
            const toRunners = new network.VirtualNetworkPeering(
                `${name}-to-runners`,
                {
                    ...peering,
                    virtualNetworkPeeringName: `to-${runner.name}`,
                    virtualNetworkName: vnet.name,
                    resourceGroupName: args.resourceGroupName,
                    remoteVirtualNetwork: { id: args.runnerVnetId },
                },
                { parent: this },
            );
            const fromRunners = new network.VirtualNetworkPeering(
                `${name}-from-runners`,
                {
                    ...peering,
                    virtualNetworkPeeringName: pulumi.interpolate`to-vnet-${args.baseName}`,
                    virtualNetworkName: runner.name,
                    resourceGroupName: runner.resourceGroupName,
                    remoteVirtualNetwork: { id: vnet.id },
                },
                { parent: this, dependsOn: [toRunners] },
            );
            this.runnerPeerings.push(toRunners, fromRunners);
        }

        this.vnetId = vnet.id;
        this.vnetName = vnet.name;
        this.apiServerSubnetId = apiServerSubnet?.id;
        this.firewallSubnetId = firewallSubnet?.id;
        this.aksRouteTable = routeTable === undefined ? undefined : { id: routeTable.id, name: routeTable.name };
        this.egressPath = [aksSubnet];
        this.aksSubnetId = aksSubnet.id;
        this.privateEndpointSubnetId = endpointSubnet.id;
        this.registerOutputs({
            vnetId: this.vnetId,
            vnetName: this.vnetName,
            aksSubnetId: this.aksSubnetId,
            privateEndpointSubnetId: this.privateEndpointSubnetId,
        });
    }
}
