import { EgressFirewall, FIREWALL_DIAGNOSTICS } from "../../components/egressFirewall";
import { buildOne, dependencyNames, DIAGNOSTICS, named, ofType, PLACEMENT, registrations, settled } from "./build";

describe("EgressFirewall", () => {
    const FIREWALL_SUBNET_ID = "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.Network/virtualNetworks/vnet-aiv-unit/subnets/AzureFirewallSubnet";
    const NEEDS = { location: "uksouth", apiServerAccess: "public", podsCallEntra: true, podsCallApiServer: false, defender: false, verifierImage: "ghcr.io/example/verifier:1.0.0" } as const;
    const ARGS = {
        ...PLACEMENT,
        firewallSubnetId: FIREWALL_SUBNET_ID,
        aksSubnetPrefix: "10.76.4.0/22",
        routeTable: { name: "rt-aiv-unit-aks" },
        needs: NEEDS,
        availabilityZones: ["1", "2", "3"],
        diagnostics: DIAGNOSTICS,
    };

    async function built(availabilityZones: string[] = ARGS.availabilityZones) {
        const { component: firewall, plan } = await buildOne(() => new EgressFirewall("egress", { ...ARGS, availabilityZones }));
        return { firewall, plan };
    }

    test("registers exactly the reviewed address, policy, rules, firewall, default route and logs", async () => {
        expect(registrations((await built()).plan)).toMatchSnapshot();
    });

    test("a Standard firewall in AzureFirewallSubnet with a static zone-redundant address, denying known-bad addresses and proxying DNS", async () => {
        const { plan } = await built();
        const address = named(plan, "azure-native:network:PublicIPAddress", "egress-ip").newState.inputs;
        expect(address).toMatchObject({ publicIpAddressName: "pip-aiv-unit-fw", publicIPAllocationMethod: "Static", sku: { name: "Standard" }, zones: ["1", "2", "3"] });
        const policy = named(plan, "azure-native:network:FirewallPolicy", "egress-policy").newState.inputs;
        expect(policy).toMatchObject({ firewallPolicyName: "afwp-aiv-unit", sku: { tier: "Standard" }, threatIntelMode: "Deny", dnsSettings: { enableProxy: true } });
        const firewall = named(plan, "azure-native:network:AzureFirewall", "egress-firewall").newState;
        expect(firewall.inputs).toMatchObject({
            azureFirewallName: "afw-aiv-unit",
            sku: { name: "AZFW_VNet", tier: "Standard" },
            ipConfigurations: [{ name: "egress", subnet: { id: FIREWALL_SUBNET_ID } }],
            zones: ["1", "2", "3"],
        });
        // One write at a time on a policy and its firewall.
        expect(dependencyNames(firewall)).toEqual(expect.arrayContaining(["egress-rules"]));
    });

    test("in a region without zones, neither the firewall nor its address names any", async () => {
        const { plan } = await built([]);
        expect(named(plan, "azure-native:network:AzureFirewall", "egress-firewall").newState.inputs.zones).toBeUndefined();
        expect(named(plan, "azure-native:network:PublicIPAddress", "egress-ip").newState.inputs.zones).toBeUndefined();
    });

    test("the rules admit the AKS subnet alone, and the default route sends every other address to the firewall's private address", async () => {
        const { plan, firewall } = await built();
        const groups = named(plan, "azure-native:network:FirewallPolicyRuleCollectionGroup", "egress-rules").newState.inputs as {
            ruleCollectionGroupName: string;
            priority: number;
            ruleCollections: Array<{ rules: Array<{ sourceAddresses: string[] }> }>;
        };
        expect([groups.ruleCollectionGroupName, groups.priority]).toEqual(["aks-egress", 200]);
        const sources = new Set(groups.ruleCollections.flatMap((c) => c.rules.flatMap((r) => r.sourceAddresses)));
        expect([...sources]).toEqual(["10.76.4.0/22"]);
        const route = named(plan, "azure-native:network:Route", "egress-default-route").newState.inputs;
        const privateIp = await settled(firewall.privateIp);
        expect(route).toMatchObject({ routeName: "default-to-firewall", routeTableName: "rt-aiv-unit-aks", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: privateIp });
    });

    test("the firewall's rule logs go to the workspace's dedicated tables", async () => {
        const { plan } = await built();
        const setting = ofType(plan, "azure-native:monitor:DiagnosticSetting")[0].newState.inputs as { logs: Array<{ category: string }>; logAnalyticsDestinationType: string; workspaceId: string };
        expect(setting.logs.map((l) => l.category)).toEqual(FIREWALL_DIAGNOSTICS.logs);
        expect([setting.logAnalyticsDestinationType, setting.workspaceId]).toEqual(["Dedicated", DIAGNOSTICS.workspaceId]);
    });

    test("the public API server's rules are a group of their own, written after the firewall's path and what it is told to wait for", async () => {
        const { plan } = await buildOne(() => {
            const firewall = new EgressFirewall("egress", { ...ARGS, availabilityZones: [] });
            return firewall.admitApiServer(
                "aks",
                firewall.publicIp.apply(() => "aks-aiv-unit.hcp.uksouth.azmk8s.io"),
                [],
            );
        });
        const group = named(plan, "azure-native:network:FirewallPolicyRuleCollectionGroup", "aks-api-server-rules").newState;
        expect(group.inputs).toMatchObject({ ruleCollectionGroupName: "api-server", firewallPolicyName: "afwp-aiv-unit", priority: 100 });
        expect(dependencyNames(group)).toEqual(expect.arrayContaining(["egress-firewall", "egress-rules", "egress-default-route"]));
    });
});
