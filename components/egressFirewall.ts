// The cluster's only way out when egress is `firewall`: an Azure Firewall (Standard) in
// AzureFirewallSubnet, a firewall policy that admits what AKS, the identity mode, the add-ons and the
// verifier image need and nothing else (Azure Firewall denies what no rule allows), the default route
// of the AKS subnet's route table to the firewall's private address, and the firewall's logs in the
// stack's workspace. The cluster is created after all of it: AKS checks its outbound path while it
// provisions nodes (docs/azure-behaviour.md).
import * as network from "@pulumi/azure-native/network";
import type * as inputs from "@pulumi/azure-native/types/input";
import * as pulumi from "@pulumi/pulumi";
import type { ApiServerAccess } from "../config";
import { parseImageReference } from "../config";
import { PlacementArgs } from "./common";
import { attachDiagnostics, DiagnosticCategories, DiagnosticsArgs } from "./diagnostics";
import { staticPublicIp } from "./network";

/**
 * The firewall's resource-specific logs (AZFW* tables; Azure Firewall docs, firewall-structured-logs:
 * "Resource specific ... This method is recommended"): every allow and deny of its rules, its
 * threat-intelligence hits and its DNS proxy's queries. Exported for testing.
 */
export const FIREWALL_DIAGNOSTICS: DiagnosticCategories = {
    logs: ["AZFWApplicationRule", "AZFWNetworkRule", "AZFWThreatIntel", "AZFWDnsQuery", "AZFWFqdnResolveFailure"],
    metrics: ["AllMetrics"],
    destinationType: "Dedicated",
};

/**
 * Docker Hub's hosts for an anonymous pull: the registry, its token service and the storage its layers
 * come from (Docker docs, the allowlist of Docker's domains).
 */
export const DOCKER_HUB_HOSTS = ["registry-1.docker.io", "auth.docker.io", "production.cloudflare.docker.com"] as const;

/**
 * The egress proof's address: Cloudflare's public resolver, which completes a TLS handshake on 443 for
 * anyone who reaches it, so a reached address is unmistakable; no rule of the firewall names it. The
 * bound verification Job must not reach it in egress firewall (verifier/egress.js).
 */
export const EGRESS_PROBE = { address: "1.1.1.1", port: 443 } as const;

/** What the firewall must admit, as config decides it. */
export interface EgressNeeds {
    /** The cluster's region: the service tag of Azure's addresses there (`AzureCloud.<region>`). */
    location: string;
    /** A public API server is reached through the firewall; a private one inside the VNet. */
    apiServerAccess: ApiServerAccess;
    /** Entra ID's token endpoint, which pods reach themselves in this identity mode (Workload ID). */
    podsCallEntra: boolean;
    /** Pods outside kube-system reach the API server by its address (the open-source chart's MIC and NMI). */
    podsCallApiServer: boolean;
    /** Microsoft Defender for Containers' sensor, which reports to the workspace. */
    defender: boolean;
    /** The verification Jobs' image, whose registry the nodes pull from; none without the demo. */
    verifierImage?: string;
}

/** The registry hosts a node pulls `image` from. Exported for testing. */
export function registryHosts(image: string): string[] {
    const domain = parseImageReference(image)?.domain;
    if (domain === undefined || domain === "docker.io" || domain === "index.docker.io") {
        return [...DOCKER_HUB_HOSTS];
    }
    // mcr.microsoft.com is AKS's own registry: the AzureKubernetesService tag admits it already.
    return domain === "mcr.microsoft.com" ? [] : [domain.replace(/:\d+$/, "")];
}

const https = [{ protocolType: network.FirewallPolicyRuleApplicationProtocolType.Https, port: 443 }];

function application(name: string, description: string, targets: { fqdnTags?: string[]; targetFqdns?: string[] }, sources: string[]): inputs.network.ApplicationRuleArgs {
    return { ruleType: "ApplicationRule", name, description, sourceAddresses: sources, protocols: https, ...targets };
}

function networkRule(
    name: string,
    description: string,
    protocol: string,
    ports: string[],
    destination: { destinationAddresses?: string[]; destinationFqdns?: pulumi.Input<string>[] },
    sources: string[],
): inputs.network.NetworkRuleArgs {
    return { ruleType: "NetworkRule", name, description, sourceAddresses: sources, ipProtocols: [protocol], destinationPorts: ports, ...destination };
}

const allow = { type: network.FirewallPolicyFilterRuleCollectionActionType.Allow };

/**
 * The firewall's rule collections, from the AKS subnet only, each rule with why it is there. Network
 * rules (processed first) for a public API server's tunnel; application rules for AKS's FQDN tag, the
 * identity mode, the add-ons and the verifier's registry. Exported for testing.
 */
export function egressRuleCollections(needs: EgressNeeds, aksSubnetPrefix: string): inputs.network.FirewallPolicyFilterRuleCollectionArgs[] {
    const from = [aksSubnetPrefix];
    const region = `AzureCloud.${needs.location}`;
    const networkRules: inputs.network.NetworkRuleArgs[] =
        needs.apiServerAccess === "public"
            ? [
                  // "For tunneled secure communication between the nodes and the control plane. This isn't
                  // required for private clusters" (AKS docs, outbound-rules-control-egress).
                  networkRule(
                      "aks-tunnel-udp",
                      "Nodes reach a public API server's tunnel (UDP 1194).",
                      network.FirewallPolicyRuleNetworkProtocol.UDP,
                      ["1194"],
                      { destinationAddresses: [region] },
                      from,
                  ),
                  networkRule(
                      "aks-tunnel-tcp",
                      "Nodes reach a public API server's tunnel (TCP 9000).",
                      network.FirewallPolicyRuleNetworkProtocol.TCP,
                      ["9000"],
                      { destinationAddresses: [region] },
                      from,
                  ),
              ]
            : [];
    const applicationRules: inputs.network.ApplicationRuleArgs[] = [
        // "The FQDN tag contains all the FQDNs listed in [outbound network and FQDN rules for AKS
        // clusters] and is automatically updated" (AKS docs, limit-egress-traffic).
        application("aks-required", "What every AKS cluster needs: its registry, ARM, Entra ID, packages, binaries.", { fqdnTags: ["AzureKubernetesService"] }, from),
        // The Azure Policy add-on (AKS docs, outbound-rules-control-egress, "Azure Policy").
        application(
            "azure-policy-addon",
            "The Azure Policy add-on fetches its policies and reports compliance.",
            { targetFqdns: ["data.policy.core.windows.net", "store.policy.core.windows.net", "dc.services.visualstudio.com"] },
            from,
        ),
    ];
    if (needs.podsCallEntra) {
        applicationRules.push(application("workload-identity", "Workload ID: pods exchange their service account token with Entra ID.", { targetFqdns: ["login.microsoftonline.com"] }, from));
    }
    if (needs.defender) {
        applicationRules.push(
            application(
                "defender",
                "Microsoft Defender for Containers' sensor reports to the workspace.",
                { targetFqdns: ["login.microsoftonline.com", "*.ods.opinsights.azure.com", "*.oms.opinsights.azure.com", "*.cloud.defender.microsoft.com"] },
                from,
            ),
        );
    }
    const registry = needs.verifierImage === undefined ? [] : registryHosts(needs.verifierImage);
    if (registry.length > 0) {
        applicationRules.push(application("verifier-image", "The nodes pull the verification Jobs' image.", { targetFqdns: registry }, from));
    }
    return [
        ...(networkRules.length > 0 ? [{ ruleCollectionType: "FirewallPolicyFilterRuleCollection" as const, name: "aks-network", priority: 100, action: allow, rules: networkRules }] : []),
        { ruleCollectionType: "FirewallPolicyFilterRuleCollection" as const, name: "aks-application", priority: 200, action: allow, rules: applicationRules },
    ];
}

/**
 * The rule for pods outside kube-system that reach a public API server by the address behind its
 * name, as the open-source chart's MIC and NMI do (AKS docs, outbound-rules-control-egress: "an
 * additional network rule to allow TCP communication to port 443 of your API server's IP"). The
 * firewall resolves the name itself (its DNS proxy), which exists only once the cluster does.
 * Exported for testing.
 */
export function apiServerRuleCollections(aksSubnetPrefix: string, apiServerFqdn: pulumi.Input<string>): inputs.network.FirewallPolicyFilterRuleCollectionArgs[] {
    const rule = networkRule("api-server", "Pods outside kube-system reach the public API server.", network.FirewallPolicyRuleNetworkProtocol.TCP, ["443"], { destinationFqdns: [apiServerFqdn] }, [
        aksSubnetPrefix,
    ]);
    return [{ ruleCollectionType: "FirewallPolicyFilterRuleCollection", name: "api-server", priority: 100, action: allow, rules: [rule] }];
}

export interface EgressFirewallArgs extends PlacementArgs {
    /** `AzureFirewallSubnet`. */
    firewallSubnetId: pulumi.Input<string>;
    /** The AKS subnet's prefix: the only source the rules admit. */
    aksSubnetPrefix: string;
    /** The AKS subnet's route table, to which the firewall adds the default route. */
    routeTable: { name: pulumi.Input<string> };
    /** What the rules admit. */
    needs: EgressNeeds;
    /** Zones the firewall and its address spread over; empty in a region without zones. */
    availabilityZones: string[];
    /** Where the firewall's logs go. */
    diagnostics: DiagnosticsArgs;
}

export class EgressFirewall extends pulumi.ComponentResource {
    /** The firewall's address in AzureFirewallSubnet: the AKS subnet's next hop to the internet. */
    public readonly privateIp: pulumi.Output<string>;
    /** The address the cluster's traffic leaves from. */
    public readonly publicIp: pulumi.Output<string>;
    /** The firewall, its rules and the default route to it: the cluster is created after these. */
    public readonly path: pulumi.Resource[];
    private readonly policyName: pulumi.Output<string>;
    private readonly resourceGroupName: pulumi.Input<string>;
    private readonly aksSubnetPrefix: string;

    constructor(name: string, args: EgressFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:network:EgressFirewall", name, {}, opts);
        const zones = args.availabilityZones.length > 0 ? args.availabilityZones : undefined;

        // A firewall with zones needs an address made zone-redundant first (Azure Firewall docs, known issues).
        const address = staticPublicIp(`${name}-ip`, "fw", args, this, zones);
        // Standard: FQDN tags, application rules and a DNS proxy, which FQDNs in network rules need
        // (Azure Firewall docs, fqdn-filtering-network-rules). Threat intelligence denies known-bad
        // addresses even where a rule would admit them.
        const policy = new network.FirewallPolicy(
            `${name}-policy`,
            {
                firewallPolicyName: `afwp-${args.baseName}`,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                sku: { tier: network.FirewallPolicySkuTier.Standard },
                threatIntelMode: network.AzureFirewallThreatIntelMode.Deny,
                dnsSettings: { enableProxy: true },
                tags: args.tags,
            },
            { parent: this },
        );
        const rules = new network.FirewallPolicyRuleCollectionGroup(
            `${name}-rules`,
            {
                ruleCollectionGroupName: "aks-egress",
                firewallPolicyName: policy.name,
                resourceGroupName: args.resourceGroupName,
                priority: 200,
                ruleCollections: egressRuleCollections(args.needs, args.aksSubnetPrefix),
            },
            { parent: this },
        );
        const firewall = new network.AzureFirewall(
            `${name}-firewall`,
            {
                azureFirewallName: `afw-${args.baseName}`,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                sku: { name: network.AzureFirewallSkuName.AZFW_VNet, tier: network.AzureFirewallSkuTier.Standard },
                firewallPolicy: { id: policy.id },
                ipConfigurations: [{ name: "egress", subnet: { id: args.firewallSubnetId }, publicIPAddress: { id: address.id } }],
                zones,
                tags: args.tags,
            },
            // One write at a time on a policy and its firewall (Azure Firewall docs, known issues:
            // "parallel updates aren't supported").
            { parent: this, dependsOn: [rules] },
        );
        this.privateIp = firewall.ipConfigurations.apply((configs) => {
            const ip = configs?.[0]?.privateIPAddress;
            if (ip === undefined) {
                throw new Error("Azure returned the firewall without its private address");
            }
            return ip;
        });
        this.publicIp = address.ipAddress.apply((ip) => ip ?? "");
        // The AKS subnet's default route: every address outside the VNet goes to the firewall.
        const route = new network.Route(
            `${name}-default-route`,
            {
                routeName: "default-to-firewall",
                routeTableName: args.routeTable.name,
                resourceGroupName: args.resourceGroupName,
                addressPrefix: "0.0.0.0/0",
                nextHopType: network.RouteNextHopType.VirtualAppliance,
                nextHopIpAddress: this.privateIp,
            },
            { parent: this },
        );
        const logs = attachDiagnostics(`${name}-firewall`, firewall.id, FIREWALL_DIAGNOSTICS, args.diagnostics, this);
        this.path = [firewall, rules, route, logs];
        this.policyName = policy.name;
        this.resourceGroupName = args.resourceGroupName;
        this.aksSubnetPrefix = args.aksSubnetPrefix;
        this.registerOutputs({ privateIp: this.privateIp, publicIp: this.publicIp });
    }

    /**
     * Admits pods outside kube-system to the public API server at `fqdn` (see
     * {@link apiServerRuleCollections}), in a rule collection group of its own written after the
     * cluster and after the firewall's other writes (one write at a time on a policy).
     */
    public admitApiServer(name: string, fqdn: pulumi.Output<string>, after: pulumi.Resource[]): pulumi.Resource {
        return new network.FirewallPolicyRuleCollectionGroup(
            `${name}-api-server-rules`,
            {
                ruleCollectionGroupName: "api-server",
                firewallPolicyName: this.policyName,
                resourceGroupName: this.resourceGroupName,
                priority: 100,
                ruleCollections: apiServerRuleCollections(this.aksSubnetPrefix, fqdn),
            },
            { parent: this, dependsOn: [...this.path, ...after] },
        );
    }
}
