// The virtual network: one subnet for the AKS nodes and pods (Azure CNI), one for private endpoints.
import * as network from "@pulumi/azure-native/network";
import type * as inputs from "@pulumi/azure-native/types/input";
import * as pulumi from "@pulumi/pulumi";
import { PlacementArgs } from "./common";

export interface NetworkArgs extends PlacementArgs {
    /** The VNet's address space, a validated IPv4 CIDR. */
    addressSpace: string;
    /** Subnet for AKS nodes and, with Azure CNI, their pods. Must lie inside `addressSpace`. */
    aksSubnetPrefix: string;
    /** Subnet for private endpoints. Must lie inside `addressSpace` and not overlap the AKS subnet. */
    privateEndpointSubnetPrefix: string;
    /** Protect the VNet from deletion and replacement. Defaults to true. */
    protect?: boolean;
}

/**
 * Security rules of the endpoint subnet: HTTPS from the AKS subnet is the only traffic admitted.
 * Exported for testing.
 */
export function endpointSubnetRules(aksSubnetPrefix: string, privateEndpointSubnetPrefix: string): inputs.network.SecurityRuleArgs[] {
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

export class Network extends pulumi.ComponentResource {
    public readonly vnetId: pulumi.Output<string>;
    public readonly vnetName: pulumi.Output<string>;
    public readonly aksSubnetId: pulumi.Output<string>;
    public readonly privateEndpointSubnetId: pulumi.Output<string>;

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
                securityRules: endpointSubnetRules(args.aksSubnetPrefix, args.privateEndpointSubnetPrefix),
                tags: args.tags,
            },
            { parent: this },
        );

        const aksSubnet = new network.Subnet(
            `${name}-aks-subnet`,
            {
                subnetName: "snet-aks",
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: vnet.name,
                addressPrefix: args.aksSubnetPrefix,
                networkSecurityGroup: { id: aksNsg.id },
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

        this.vnetId = vnet.id;
        this.vnetName = vnet.name;
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
