"use strict";
/**
 * The egress proof of the bound verification Job when the stack sends the cluster's traffic through its
 * firewall: one public address that no rule admits must not answer. The Job opens a TLS connection to
 * it (no server name, so no FQDN rule can match it); the firewall, which denies what no rule allows,
 * resets or drops it. A completed handshake means the address was reached: the egress is not
 * controlled, and the verdict fails. Node standard library only.
 */
const net = require("net");
const tls = require("tls");

/**
 * @typedef {{ host: string, port: number }} ProbeTarget
 * @typedef {{ reached: true } | { reached: false, error: string }} ProbeAnswer
 * @typedef {(target: ProbeTarget, timeoutMs: number) => Promise<ProbeAnswer>} Probe
 */

/**
 * Parses EGRESS_PROBE (`<IPv4 address>:<port>`), or says what is wrong with it.
 * @param {string} value
 * @returns {{ ok: true, target: ProbeTarget } | { ok: false, error: string }}
 */
function parseProbeTarget(value) {
    const match = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(value);
    const port = match === null ? NaN : Number(match[2]);
    if (match === null || net.isIPv4(match[1]) !== true || !(port >= 1 && port <= 65535)) {
        return { ok: false, error: `EGRESS_PROBE must be <IPv4 address>:<port> (got '${value}')` };
    }
    return { ok: true, target: { host: match[1], port } };
}

/**
 * Opens a TLS connection to `target` and says whether the handshake completed. Any certificate is
 * accepted: only reaching the address matters, and a name check would turn a reached address into a
 * failure that looks like a refusal.
 * @type {Probe}
 */
function tlsProbe(target, timeoutMs) {
    return new Promise((resolve) => {
        const socket = tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false, timeout: timeoutMs });
        /** @param {ProbeAnswer} answer */
        const done = (answer) => {
            socket.removeAllListeners();
            socket.on("error", () => undefined);
            socket.destroy();
            resolve(answer);
        };
        socket.once("secureConnect", () => done({ reached: true }));
        socket.once("timeout", () => done({ reached: false, error: `no answer in ${timeoutMs} ms` }));
        socket.once("error", (/** @type {NodeJS.ErrnoException} */ err) => done({ reached: false, error: err.code ?? err.message }));
        socket.once("close", () => done({ reached: false, error: "closed before the handshake" }));
    });
}

/**
 * The verdict's egress field: `denied` with how the connection ended, or `admitted`.
 * @param {ProbeTarget} target
 * @param {ProbeAnswer} answer
 * @returns {{ egress: "denied" | "admitted", egressProbe: string, egressRefusal?: string }}
 */
function egressVerdict(target, answer) {
    const probe = `${target.host}:${target.port}`;
    return answer.reached ? { egress: "admitted", egressProbe: probe } : { egress: "denied", egressProbe: probe, egressRefusal: answer.error };
}

module.exports = { parseProbeTarget, tlsProbe, egressVerdict };
