import { PrivateDns } from "../../components/privateDns";
import { build, buildOne, named, ofType, registrations, settled } from "./build";

describe("PrivateDns", () => {
    const ARGS = {
        resourceGroupName: "rg-unit",
        vnetId: "/subscriptions/s/resourceGroups/rg-unit/providers/Microsoft.Network/virtualNetworks/vnet-aiv-unit",
        baseName: "aiv-unit",
        tags: { stack: "unit" },
    };

    test("registers exactly the reviewed zones and VNet links", async () => {
        expect(registrations(await build(() => new PrivateDns("dns", ARGS)))).toMatchSnapshot();
    });

    test("the blob and vaultcore privatelink zones are global, protected, and linked to the VNet without auto-registration", async () => {
        const plan = await build(() => new PrivateDns("dns", ARGS));
        for (const [key, zoneName] of [
            ["blob", "privatelink.blob.core.windows.net"],
            ["vault", "privatelink.vaultcore.azure.net"],
        ]) {
            const zone = named(plan, "azure-native:privatedns:PrivateZone", `dns-${key}-zone`);
            expect(zone.newState.inputs).toMatchObject({ privateZoneName: zoneName, location: "global" });
            expect(zone.newState.protect).toBe(true);
            const link = named(plan, "azure-native:privatedns:VirtualNetworkLink", `dns-${key}-link`);
            expect(link.newState.inputs).toMatchObject({ privateZoneName: zoneName, virtualNetwork: { id: ARGS.vnetId }, registrationEnabled: false, location: "global" });
        }
        expect(ofType(plan, "azure-native:privatedns:VirtualNetworkLink")).toHaveLength(2);
    });

    test("protect: false leaves the zones unprotected", async () => {
        const plan = await build(() => new PrivateDns("dns", { ...ARGS, protect: false }));
        expect(ofType(plan, "azure-native:privatedns:PrivateZone").map((s) => s.newState.protect)).toEqual([false, false]);
    });

    test("exposes the zone ids and one link per zone", async () => {
        const { component: dns } = await buildOne(() => new PrivateDns("dns", ARGS));
        expect(await settled(dns.blobZoneId)).toMatch(/\/privateDnsZones\/privatelink\.blob\.core\.windows\.net$/);
        expect(await settled(dns.vaultZoneId)).toMatch(/\/privateDnsZones\/privatelink\.vaultcore\.azure\.net$/);
        expect(dns.links).toHaveLength(2);
    });
});
