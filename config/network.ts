// The network's rules: address maths, the ranges Azure and AKS keep, the subnets and how many nodes
// they hold, and the Network Watcher a flow log goes under.
import * as ipaddr from "ipaddr.js";
import { fail, projectKey } from "./errors";
import { AZURE_RESERVED_PER_SUBNET, MAX_PODS_PER_NODE, UPGRADE_SURGE_NODES } from "./limits";
import { API_SERVER_SUBNET_MIN_PREFIX, FIREWALL_SUBNET_MIN_PREFIX } from "./types";
import type { NetworkConfig } from "./types";

/** Azure's smallest IPv4 subnet (virtual network FAQ: "The smallest supported IPv4 subnet is /29"). */
export const SMALLEST_SUBNET_PREFIX = 29;
/**
 * The largest service range Kubernetes accepts: kube-apiserver refuses more than 20 host bits
 * ("for 32-bit addresses, the mask must be >= 12", cmd/kube-apiserver/app/options/validation.go).
 */
export const LARGEST_SERVICE_CIDR_PREFIX = 12;
/**
 * Ranges AKS keeps for itself: "AKS clusters can't use 169.254.0.0/16, 172.30.0.0/16, 172.31.0.0/16,
 * or 192.0.2.0/24 for the Kubernetes service address range, pod address range, or cluster virtual
 * network address range" (AKS docs, configure-kubenet and the Azure CNI overview).
 */
export const AKS_RESERVED_RANGES = ["169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24"] as const;
/**
 * Ranges Azure refuses in a virtual network (virtual network FAQ): multicast, broadcast, loopback,
 * link-local and the platform's DNS address.
 */
export const VNET_FORBIDDEN_RANGES = ["224.0.0.0/4", "255.255.255.255/32", "127.0.0.0/8", "169.254.0.0/16", "168.63.129.16/32"] as const;
// ---------------------------------------------------------------------------------------------
// Address maths, on ipaddr.js. Exported for testing.

/** Parses an IPv4 CIDR written as four decimal parts with no host bits set, or returns undefined. */
export function parseIpv4Cidr(cidr: string): [ipaddr.IPv4, number] | undefined {
    if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(cidr)) {
        return undefined;
    }
    const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
    if (ipaddr.IPv4.networkAddressFromCIDR(cidr).toString() !== address.toString()) {
        return undefined;
    }
    return [address, prefix];
}

function requireCidr(cidr: string): [ipaddr.IPv4, number] {
    const parsed = parseIpv4Cidr(cidr);
    if (parsed === undefined) {
        throw new Error(`not a canonical IPv4 CIDR: ${cidr}`);
    }
    return parsed;
}

/** True when every address of `inner` lies in `outer`. Both must be canonical IPv4 CIDRs. */
export function cidrContains(outer: string, inner: string): boolean {
    const [outerAddress, outerPrefix] = requireCidr(outer);
    const [innerAddress, innerPrefix] = requireCidr(inner);
    return innerPrefix >= outerPrefix && innerAddress.match(outerAddress, outerPrefix);
}

/** True when two canonical IPv4 CIDRs share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
    return cidrContains(a, b) || cidrContains(b, a);
}

/** The address `offset` places after the network address of a canonical IPv4 CIDR. */
export function cidrHost(cidr: string, offset: number): string {
    const [address] = requireCidr(cidr);
    const value = address.toByteArray().reduce((acc, byte) => acc * 256 + byte, 0) + offset;
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Number of addresses in a canonical IPv4 CIDR. */
export function cidrSize(cidr: string): number {
    return 2 ** (32 - requireCidr(cidr)[1]);
}

/** How many nodes fit in an Azure CNI subnet, keeping room for one surge node during upgrades. */
/** How many nodes, surge nodes included, an Azure CNI subnet holds. Exported for testing. */
export function subnetNodeCapacity(cidr: string, maxPodsPerNode = MAX_PODS_PER_NODE): number {
    const usable = cidrSize(cidr) - AZURE_RESERVED_PER_SUBNET;
    return Math.max(0, Math.floor(usable / (maxPodsPerNode + 1)));
}

/**
 * The most nodes the cluster's pools can have at once: each at its largest (the user pool at the
 * autoscaler's maximum) plus its surge node. Traditional Azure CNI reserves every node's pod addresses
 * when the node is created. Exported for testing.
 */
export function poolsNodesAtMost(cluster: { nodeCount: number; userPool: { maxCount: number } }): number {
    return cluster.nodeCount + UPGRADE_SURGE_NODES + cluster.userPool.maxCount + UPGRADE_SURGE_NODES;
}

/** One subnet of the VNet as config checks it: its key and prefix, the smallest it may be, and why. */
interface SubnetCheck {
    key: string;
    prefix: string;
    smallest: number;
    /** Why it may be no smaller. */
    why: string;
    /** What follows "must lie inside vnetAddressSpace ...", if anything. */
    insideNote?: string;
}

/**
 * The VNet's subnets, in order: each at least as large as it must be, inside the VNet, and apart
 * from the ones before it. The API server's and the firewall's join them only when the stack uses them.
 */
export function checkSubnets(network: NetworkConfig, uses: { apiServer: boolean; firewall: boolean }): void {
    const azureSmallest = { smallest: SMALLEST_SUBNET_PREFIX, why: `Azure's smallest IPv4 subnet is /${SMALLEST_SUBNET_PREFIX}` };
    const subnets: SubnetCheck[] = [
        { key: "aksSubnetPrefix", prefix: network.aksSubnetPrefix, ...azureSmallest },
        { key: "privateEndpointSubnetPrefix", prefix: network.privateEndpointSubnetPrefix, ...azureSmallest },
        ...(uses.apiServer
            ? [
                  {
                      key: "apiServerSubnetPrefix" as const,
                      prefix: network.apiServerSubnetPrefix,
                      smallest: API_SERVER_SUBNET_MIN_PREFIX,
                      why: `AKS's API Server VNet Integration needs at least a /${API_SERVER_SUBNET_MIN_PREFIX}`,
                      insideNote: " (the API server joins the VNet: apiServerAccess is private or etcdEncryption is on)",
                  },
              ]
            : []),
        ...(uses.firewall
            ? [
                  {
                      key: "firewallSubnetPrefix" as const,
                      prefix: network.firewallSubnetPrefix,
                      smallest: FIREWALL_SUBNET_MIN_PREFIX,
                      why: `Azure Firewall's subnet must be at least a /${FIREWALL_SUBNET_MIN_PREFIX}`,
                      insideNote: " (egress is firewall)",
                  },
              ]
            : []),
    ];
    subnets.forEach((subnet, index) => {
        if (requireCidr(subnet.prefix)[1] > subnet.smallest) {
            fail(projectKey(subnet.key), subnet.prefix, `must be a /${subnet.smallest} or larger: ${subnet.why}`);
        }
        if (!cidrContains(network.vnetAddressSpace, subnet.prefix)) {
            fail(projectKey(subnet.key), subnet.prefix, `must lie inside vnetAddressSpace ${network.vnetAddressSpace}${subnet.insideNote ?? ""}`);
        }
        for (const earlier of subnets.slice(0, index)) {
            if (cidrsOverlap(subnet.prefix, earlier.prefix)) {
                fail(projectKey(subnet.key), subnet.prefix, `must not overlap ${earlier.key} ${earlier.prefix}`);
            }
        }
    });
}

/**
 * The Network Watcher a flow log goes under: the one named, or the one Azure enables in each region of a
 * subscription, `NetworkWatcher_<region>` in `NetworkWatcherRG` (Network Watcher FAQ). Exported for testing.
 */
export function networkWatcherOf(value: string, location: string): { resourceGroupName: string; name: string } {
    const [resourceGroupName, name] = value === "" ? ["NetworkWatcherRG", `NetworkWatcher_${location}`] : value.split("/");
    return { resourceGroupName, name };
}

/** Refuses a range that overlaps one of `reserved`, which `who` keeps for itself. */
export function checkReservedRanges(key: string, cidr: string, reserved: readonly string[], who: string): void {
    const clash = reserved.find((range) => cidrsOverlap(cidr, range));
    if (clash !== undefined) {
        fail(projectKey(key), cidr, `must not overlap ${clash}, which ${who}`);
    }
}
