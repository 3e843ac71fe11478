// @ts-check
/**
 * The private path: the vault's and the blob endpoint's names resolve inside the private-endpoint
 * subnet, and the Job then connects to those addresses only. Node standard library only.
 */
"use strict";

/** @typedef {import("./types").BoundTargets} BoundTargets */
/** @typedef {import("./types").Context} Context */
/**
 * @template T
 * @typedef {import("./types").RetryResult<T>} RetryResult
 */

const dns = require("dns");
const net = require("net");
const { retryWithinBudget, retryLogger } = require("./retry");
const { errorCode, describeError } = require("./http");

/**
 * An IPv4 CIDR as its network number and prefix length, or undefined.
 * @param {string} cidr
 * @returns {{ network: number, prefix: number } | undefined}
 */
function parseIpv4Cidr(cidr) {
    const [address, bits, ...rest] = cidr.split("/");
    const prefix = Number(bits);
    const value = ipv4Number(address);
    if (rest.length > 0 || value === undefined || !/^\d{1,2}$/.test(bits ?? "") || prefix > 32) {
        return undefined;
    }
    return { network: value, prefix };
}

/**
 * A dotted IPv4 address as a number, or undefined.
 * @param {string} address
 * @returns {number | undefined}
 */
function ipv4Number(address) {
    if (net.isIPv4(address) !== true) {
        return undefined;
    }
    return address.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

/**
 * True when `address` is an IPv4 address inside `cidr`.
 * @param {string} address
 * @param {string} cidr
 * @returns {boolean}
 */
function ipv4InCidr(address, cidr) {
    const range = parseIpv4Cidr(cidr);
    const value = ipv4Number(address);
    if (range === undefined || value === undefined) {
        return false;
    }
    const size = 2 ** (32 - range.prefix);
    return Math.floor(value / size) === Math.floor(range.network / size);
}

/**
 * @typedef {object} Resolution
 * @property {string} host
 * @property {string[]} addresses
 * @property {string[]} cnames      the names the host is an alias of, in order
 */

/**
 * Whether every host resolved, only to addresses inside the private-endpoint subnet; the problem in
 * one sentence when not.
 * @param {Resolution[]} resolutions
 * @param {string} subnet
 * @returns {{ ok: true } | { ok: false, detail: string }}
 */
function checkPrivatePath(resolutions, subnet) {
    for (const r of resolutions) {
        if (r.addresses.length === 0) {
            return { ok: false, detail: `${r.host} resolved to no address` };
        }
        const outside = r.addresses.filter((a) => !ipv4InCidr(a, subnet));
        if (outside.length > 0) {
            const via = r.cnames.length > 0 ? ` (via ${r.cnames.join(", ")})` : "";
            return { ok: false, detail: `${r.host} resolved to ${r.addresses.join(", ")}${via}; ${outside.join(", ")} outside the private-endpoint subnet ${subnet}` };
        }
    }
    return { ok: true };
}

/**
 * Resolves one host: an address literal is itself; a name is asked for its IPv4 addresses and the
 * name it is an alias of (the `privatelink` zone's record, inside the VNet).
 * @param {import("dns").promises.Resolver} resolver
 * @param {string} host
 * @returns {Promise<Resolution>}
 */
async function resolveHost(resolver, host) {
    if (net.isIP(host) !== 0) {
        return { host, addresses: [host], cnames: [] };
    }
    const addresses = await resolver.resolve4(host);
    const cnames = await resolver.resolveCname(host).catch(() => []);
    return { host, addresses, cnames };
}

/**
 * Resolves the vault's and the blob endpoint's host names until every address is inside the
 * private-endpoint subnet (the endpoints' DNS records may still be on their way), within the access
 * budget; then pins the connections to those addresses.
 * @param {Context} ctx
 * @param {BoundTargets} targets
 * @returns {Promise<RetryResult<Resolution[]>>}
 */
function checkPrivatePathWithRetry(ctx, targets) {
    const resolver = new dns.promises.Resolver({ timeout: ctx.config.budgets.requestTimeoutMs, tries: 1 });
    if (targets.dnsServer !== undefined) {
        resolver.setServers([targets.dnsServer]);
    }
    const hosts = [...new Set([new URL(targets.keyVaultUri).hostname, new URL(targets.blobEndpoint).hostname])];
    return retryWithinBudget({
        budgetMs: ctx.config.budgets.accessMs,
        intervalMs: ctx.config.budgets.intervalMs,
        clock: ctx.clock,
        onRetry: retryLogger(ctx, "privatePath"),
        attempt: async () => {
            /** @type {Resolution[]} */
            const resolutions = [];
            for (const host of hosts) {
                try {
                    resolutions.push(await resolveHost(resolver, host));
                } catch (err) {
                    return { kind: "retry", failure: { kind: "unreachable", detail: `${host} could not be resolved (${errorCode(err) ?? describeError(err)})` } };
                }
            }
            const checked = checkPrivatePath(resolutions, targets.privateEndpointSubnet);
            return checked.ok ? { kind: "ok", value: resolutions } : { kind: "retry", failure: { kind: "refused", detail: checked.detail } };
        },
    });
}

module.exports = { parseIpv4Cidr, ipv4Number, ipv4InCidr, checkPrivatePath, resolveHost, checkPrivatePathWithRetry };
