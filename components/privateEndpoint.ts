// The private endpoint pattern shared by the Storage account and the Key Vault: one endpoint in the
// endpoint subnet, and one DNS zone group that registers its address in the matching private zone.
import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";

export interface PrivateEndpointArgs {
    resourceGroupName: pulumi.Input<string>;
    location: pulumi.Input<string>;
    /** Subnet the endpoint's network interface is placed in. */
    subnetId: pulumi.Input<string>;
    /** ARM id of the resource the endpoint exposes. */
    targetResourceId: pulumi.Input<string>;
    /** Azure name of the target, used to name the endpoint and its interface. */
    targetName: pulumi.Input<string>;
    /** Private-link sub-resource: `blob` or `vault`. */
    groupId: "blob" | "vault";
    /** Private DNS zone the endpoint's A record is written to. */
    privateDnsZoneId: pulumi.Input<string>;
    tags: Record<string, string>;
}

export interface PrivateEndpointResources {
    endpoint: network.PrivateEndpoint;
    dnsZoneGroup: network.PrivateDnsZoneGroup;
}

/**
 * Creates `${name}-endpoint` and `${name}-endpoint-dns` under `parent`. The endpoint waits for
 * `after` too: a target that takes one write at a time (a Key Vault) orders its writes with it.
 */
export function createPrivateEndpoint(name: string, args: PrivateEndpointArgs, parent: pulumi.Resource, after: pulumi.Resource[] = []): PrivateEndpointResources {
    const endpointName = pulumi.interpolate`pe-${args.targetName}-${args.groupId}`;
    const endpoint = new network.PrivateEndpoint(
        `${name}-endpoint`,
        {
            privateEndpointName: endpointName,
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            subnet: { id: args.subnetId },
            customNetworkInterfaceName: pulumi.interpolate`nic-${endpointName}`,
            privateLinkServiceConnections: [
                {
                    name: endpointName,
                    privateLinkServiceId: args.targetResourceId,
                    groupIds: [args.groupId],
                },
            ],
            tags: args.tags,
        },
        { parent, dependsOn: after },
    );
    // A private endpoint takes exactly one zone group; "default" is the name the portal uses.
    const dnsZoneGroup = new network.PrivateDnsZoneGroup(
        `${name}-endpoint-dns`,
        {
            privateDnsZoneGroupName: "default",
            privateEndpointName: endpoint.name,
            resourceGroupName: args.resourceGroupName,
            privateDnsZoneConfigs: [{ name: args.groupId, privateDnsZoneId: args.privateDnsZoneId }],
        },
        { parent },
    );
    return { endpoint, dnsZoneGroup };
}
