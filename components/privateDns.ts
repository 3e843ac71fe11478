// Private DNS zones for the private endpoints, linked to the VNet so that pods resolve the Storage
// account and the Key Vault to their private addresses.
import * as privatedns from "@pulumi/azure-native/privatedns";
import * as pulumi from "@pulumi/pulumi";

/**
 * Zone names for the Azure public cloud (Microsoft's private-endpoint DNS table). Key Vault uses
 * `vaultcore`, not `vault`.
 */
export const PRIVATE_DNS_ZONES = {
    blob: "privatelink.blob.core.windows.net",
    vault: "privatelink.vaultcore.azure.net",
} as const;

export interface PrivateDnsArgs {
    /** Resource group that holds the zones. */
    resourceGroupName: pulumi.Input<string>;
    /** The VNet the zones are linked to. */
    vnetId: pulumi.Input<string>;
    /** Prefix of Azure resource names, such as `aiv-dev`. */
    baseName: string;
    /** Tags for every resource that takes them. */
    tags: Record<string, string>;
    /** Protect the zones from deletion and replacement. Defaults to true. */
    protect?: boolean;
}

export class PrivateDns extends pulumi.ComponentResource {
    public readonly blobZoneId: pulumi.Output<string>;
    public readonly vaultZoneId: pulumi.Output<string>;
    /** The VNet links: until they exist, names in the zones do not resolve inside the VNet. */
    public readonly links: pulumi.Resource[];

    constructor(name: string, args: PrivateDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:dns:PrivateDns", name, {}, opts);

        this.links = [];
        const zoneIds = (Object.keys(PRIVATE_DNS_ZONES) as Array<keyof typeof PRIVATE_DNS_ZONES>).map((key) => {
            const zone = new privatedns.PrivateZone(
                `${name}-${key}-zone`,
                {
                    privateZoneName: PRIVATE_DNS_ZONES[key],
                    resourceGroupName: args.resourceGroupName,
                    location: "global",
                    tags: args.tags,
                },
                { parent: this, protect: args.protect ?? true },
            );
            // Registration stays off: these zones hold only the endpoints' records, never VM names.
            const link = new privatedns.VirtualNetworkLink(
                `${name}-${key}-link`,
                {
                    virtualNetworkLinkName: `link-${args.baseName}`,
                    privateZoneName: zone.name,
                    resourceGroupName: args.resourceGroupName,
                    location: "global",
                    virtualNetwork: { id: args.vnetId },
                    registrationEnabled: false,
                    tags: args.tags,
                },
                { parent: this },
            );
            this.links.push(link);
            return zone.id;
        });

        [this.blobZoneId, this.vaultZoneId] = zoneIds;
        this.registerOutputs({ blobZoneId: this.blobZoneId, vaultZoneId: this.vaultZoneId });
    }
}
