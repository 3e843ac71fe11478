// Address checks for NSG rules and NetworkPolicy ipBlocks: which CIDRs stay inside non-public ranges.
import * as ipaddr from "ipaddr.js";

/** Ranges no public Internet host lives in: RFC 1918, shared, link-local, loopback, unique-local. */
const NON_PUBLIC_RANGES: ReadonlyArray<[string, number]> = [
    ["10.0.0.0", 8],
    ["172.16.0.0", 12],
    ["192.168.0.0", 16],
    ["100.64.0.0", 10],
    ["169.254.0.0", 16],
    ["127.0.0.0", 8],
    ["fc00::", 7],
    ["fe80::", 10],
    ["::1", 128],
];

/** NSG address tags and wildcards that stand for any address on the Internet. */
const INTERNET_TAGS = new Set(["*", "any", "internet", "0.0.0.0", "0.0.0.0/0", "::/0"]);

/** True when every address of `cidr` (or a single address) lies in a non-public range. */
export function isNonPublicCidr(cidr: string): boolean {
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    let bits: number;
    try {
        if (cidr.includes("/")) {
            [address, bits] = ipaddr.parseCIDR(cidr);
        } else {
            address = ipaddr.parse(cidr);
            bits = address.kind() === "ipv4" ? 32 : 128;
        }
    } catch {
        return false;
    }
    return NON_PUBLIC_RANGES.some(([network, networkBits]) => {
        const range = ipaddr.parse(network);
        return range.kind() === address.kind() && bits >= networkBits && address.match(range, networkBits);
    });
}

/** True when an NSG source (address, CIDR or service tag) admits Internet addresses. */
export function admitsInternet(source: string): boolean {
    const normalized = source.trim().toLowerCase();
    if (INTERNET_TAGS.has(normalized)) {
        return true;
    }
    if (/^[0-9a-f.:]+(\/\d+)?$/.test(normalized)) {
        return !isNonPublicCidr(normalized);
    }
    // Other service tags (VirtualNetwork, AzureLoadBalancer, Storage...) name Azure-controlled ranges.
    return false;
}
