import { Network } from "../../components/network";
import { build, buildOne, named, ofType, PLACEMENT, registrations, settled } from "./build";

describe("Network", () => {
    const ARGS = { ...PLACEMENT, addressSpace: "10.76.0.0/16", aksSubnetPrefix: "10.76.1.0/24", privateEndpointSubnetPrefix: "10.76.2.0/26" };
    const SUBNET = "azure-native:network:Subnet";

    test("registers exactly the reviewed VNet, subnets and NSGs", async () => {
        const plan = await build(() => new Network("net", ARGS));
        expect(registrations(plan)).toMatchSnapshot();
    });

    test("the VNet declares no inline subnets and is protected unless told otherwise", async () => {
        const plan = await build(() => new Network("net", ARGS));
        const vnet = named(plan, "azure-native:network:VirtualNetwork", "net-vnet");
        expect(vnet.newState.inputs.subnets).toBeUndefined();
        expect(vnet.newState.protect).toBe(true);
        const unprotected = await build(() => new Network("net", { ...ARGS, protect: false }));
        expect(named(unprotected, "azure-native:network:VirtualNetwork", "net-vnet").newState.protect).toBe(false);
    });

    test("each subnet has its own NSG; the endpoint subnet has no default outbound access and applies its NSG to endpoints", async () => {
        const plan = await build(() => new Network("net", ARGS));
        const aks = named(plan, SUBNET, "net-aks-subnet").newState.inputs;
        const endpoints = named(plan, SUBNET, "net-endpoints-subnet").newState.inputs;
        // AKS nodes reach the internet through the cluster's load balancer, which needs default outbound.
        expect(aks).toMatchObject({ subnetName: "snet-aks", addressPrefix: "10.76.1.0/24" });
        expect(aks.defaultOutboundAccess).toBeUndefined();
        expect(endpoints).toMatchObject({ subnetName: "snet-endpoints", addressPrefix: "10.76.2.0/26", defaultOutboundAccess: false, privateEndpointNetworkPolicies: "Enabled" });
        const nsgs = ofType(plan, "azure-native:network:NetworkSecurityGroup").map((s) => s.urn);
        expect(nsgs).toHaveLength(2);
        expect(aks.networkSecurityGroup).toEqual({ id: expect.stringContaining("nsg-aiv-unit-aks") });
        expect(endpoints.networkSecurityGroup).toEqual({ id: expect.stringContaining("nsg-aiv-unit-endpoints") });
    });

    test("ARM writes to one VNet's subnets one at a time: the endpoint subnet waits for the AKS subnet", async () => {
        const plan = await build(() => new Network("net", ARGS));
        const aksUrn = named(plan, SUBNET, "net-aks-subnet").urn;
        expect(named(plan, SUBNET, "net-endpoints-subnet").newState.dependencies).toContain(aksUrn);
    });

    test("with an API server subnet: delegated to AKS, its own NSG admitting the nodes and the load balancer's probe, and the endpoints admit the API server", async () => {
        const plan = await build(() => new Network("net", { ...ARGS, apiServerSubnetPrefix: "10.76.3.0/28" }));
        const subnet = named(plan, SUBNET, "net-api-server-subnet").newState;
        expect(subnet.inputs).toMatchObject({
            subnetName: "snet-apiserver",
            addressPrefix: "10.76.3.0/28",
            delegations: [{ name: "aks-api-server", serviceName: "Microsoft.ContainerService/managedClusters" }],
            defaultOutboundAccess: false,
        });
        expect(subnet.dependencies.some((d) => d.endsWith("::net-endpoints-subnet"))).toBe(true);
        const rules = named(plan, "azure-native:network:NetworkSecurityGroup", "net-api-server-nsg").newState.inputs.securityRules as Array<Record<string, unknown>>;
        expect(rules.map((r) => [r.sourceAddressPrefix, r.destinationPortRanges])).toEqual([
            ["10.76.1.0/24", ["443", "4443"]],
            ["AzureLoadBalancer", ["9988"]],
        ]);
        const endpointRules = named(plan, "azure-native:network:NetworkSecurityGroup", "net-endpoints-nsg").newState.inputs.securityRules as Array<Record<string, unknown>>;
        expect(endpointRules.map((r) => [r.name, r.sourceAddressPrefix])).toEqual([
            ["allow-https-from-aks", "10.76.1.0/24"],
            ["allow-https-from-api-server", "10.76.3.0/28"],
            ["deny-other-inbound", "*"],
        ]);
    });

    test("without one: no API server subnet, and the endpoints admit the nodes only", async () => {
        const plan = await build(() => new Network("net", ARGS));
        expect(ofType(plan, SUBNET).map((s) => s.urn.split("::").pop())).toEqual(["net-aks-subnet", "net-endpoints-subnet"]);
    });

    test("outputs are the VNet's and the subnets' ids and the VNet's name", async () => {
        const { component: net } = await buildOne(() => new Network("net", ARGS));
        expect(await settled(net.vnetName)).toBe("vnet-aiv-unit");
        expect(await settled(net.vnetId)).toMatch(/\/virtualNetworks\/vnet-aiv-unit$/);
        expect(await settled(net.aksSubnetId)).toMatch(/\/subnets\/snet-aks$/);
        expect(await settled(net.privateEndpointSubnetId)).toMatch(/\/subnets\/snet-endpoints$/);
    });

    test("with an API server subnet: registers exactly the reviewed subnet, its NSG and the endpoints' rule for it", async () => {
        const plan = await build(() => new Network("net", { ...ARGS, apiServerSubnetPrefix: "10.76.3.0/28" }));
        expect(registrations(plan)).toMatchSnapshot();
    });

    test("the runners' VNet: peered both ways, each side named for the other, forwarding nothing and using no gateway; the way back after the way there", async () => {
        const RUNNERS = "/subscriptions/sub-unit/resourceGroups/rg-runners/providers/Microsoft.Network/virtualNetworks/vnet-runners";
        const { component: net, plan } = await buildOne(() => new Network("net", { ...ARGS, runnerVnetId: RUNNERS }));
        expect(registrations(plan)).toMatchSnapshot();
        const PEERING = "azure-native:network:VirtualNetworkPeering";
        const flags = { allowVirtualNetworkAccess: true, allowForwardedTraffic: false, allowGatewayTransit: false, useRemoteGateways: false };
        const side = (virtualNetworkPeeringName: string, virtualNetworkName: string, resourceGroupName: string, remote: string) => ({
            ...flags,
            virtualNetworkPeeringName,
            virtualNetworkName,
            resourceGroupName,
            remoteVirtualNetwork: { id: remote },
        });
        const there = named(plan, PEERING, "net-to-runners");
        expect(there.newState.inputs).toEqual(side("to-vnet-runners", "vnet-aiv-unit", "rg-unit", RUNNERS));
        const back = named(plan, PEERING, "net-from-runners");
        expect(back.newState.inputs).toEqual(side("to-vnet-aiv-unit", "vnet-runners", "rg-runners", await settled(net.vnetId)));
        expect(back.newState.dependencies).toContain(there.urn);
        expect(await Promise.all(net.runnerPeerings.map((p) => settled(p.urn)))).toEqual([there.urn, back.urn]);
    });

    describe("egress choices", () => {
        test("the nodes' way out is the AKS subnet, which carries whatever egress it routes through", async () => {
            const { component: net, plan } = await buildOne(() => new Network("net", ARGS));
            expect(await Promise.all(net.egressPath.map((r) => settled(r.urn)))).toEqual([named(plan, SUBNET, "net-aks-subnet").urn]);
        });

        test("natGateway: registers exactly the reviewed gateway and its static address, on the AKS subnet alone", async () => {
            const { plan } = await buildOne(() => new Network("net", { ...ARGS, egress: "natGateway" }));
            expect(registrations(plan)).toMatchSnapshot();
            const gateway = named(plan, "azure-native:network:NatGateway", "net-nat-gateway").newState.inputs;
            expect(gateway).toMatchObject({ natGatewayName: "ng-aiv-unit", sku: { name: "Standard" }, idleTimeoutInMinutes: 4 });
            expect(named(plan, "azure-native:network:PublicIPAddress", "net-nat-ip").newState.inputs).toMatchObject({ publicIpAddressName: "pip-aiv-unit-nat", publicIPAllocationMethod: "Static" });
            expect(named(plan, SUBNET, "net-aks-subnet").newState.inputs.natGateway).toEqual({ id: expect.stringContaining("ng-aiv-unit") });
            expect(named(plan, SUBNET, "net-endpoints-subnet").newState.inputs.natGateway).toBeUndefined();
        });

        test("firewall: registers exactly the reviewed route table and AzureFirewallSubnet, the table on the AKS subnet", async () => {
            const { component: net, plan } = await buildOne(() => new Network("net", { ...ARGS, egress: "firewall", firewallSubnetPrefix: "10.76.8.0/26" }));
            expect(registrations(plan)).toMatchSnapshot();
            expect(named(plan, "azure-native:network:RouteTable", "net-aks-routes").newState.inputs).toMatchObject({ routeTableName: "rt-aiv-unit-aks", disableBgpRoutePropagation: true });
            expect(named(plan, SUBNET, "net-aks-subnet").newState.inputs.routeTable).toEqual({ id: expect.stringContaining("rt-aiv-unit-aks") });
            const firewallSubnet = named(plan, SUBNET, "net-firewall-subnet").newState.inputs;
            expect(firewallSubnet).toMatchObject({ subnetName: "AzureFirewallSubnet", addressPrefix: "10.76.8.0/26" });
            expect(firewallSubnet.networkSecurityGroup).toBeUndefined();
            if (net.firewallSubnetId === undefined || net.aksRouteTable === undefined) {
                throw new Error("the firewall's subnet and route table are outputs of the firewall choice");
            }
            expect(await settled(net.firewallSubnetId)).toMatch(/\/subnets\/AzureFirewallSubnet$/);
            expect(await settled(net.aksRouteTable.name)).toBe("rt-aiv-unit-aks");
        });

        test("firewall without its subnet's prefix is refused", async () => {
            await expect(buildOne(() => new Network("net", { ...ARGS, egress: "firewall" }))).rejects.toThrow("egress firewall needs firewallSubnetPrefix");
        });

        test("loadBalancer: no gateway, no route table, no firewall subnet", async () => {
            const { plan } = await buildOne(() => new Network("net", ARGS));
            expect(ofType(plan, "azure-native:network:NatGateway")).toEqual([]);
            expect(ofType(plan, "azure-native:network:RouteTable")).toEqual([]);
            expect(named(plan, SUBNET, "net-aks-subnet").newState.inputs.routeTable).toBeUndefined();
        });
    });
});
