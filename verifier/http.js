// @ts-check
/**
 * The HTTP requests the Job makes (to the addresses the private path pinned), and how their
 * failures read: Azure error codes, never a body's text. Node standard library only.
 */
"use strict";

/** @typedef {import("./types").HttpRequest} HttpRequest */
/** @typedef {import("./types").HttpResponse} HttpResponse */

const https = require("https");
const http = require("http");
const { seconds } = require("./report");

/** Responses are small JSON or text documents; anything larger is cut off. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * @param {string} url
 * @returns {string}
 */
function withTrailingSlash(url) {
    return url.endsWith("/") ? url : `${url}/`;
}

/**
 * @param {string} url
 * @returns {string}
 */
function withoutTrailingSlash(url) {
    return url.replace(/\/+$/, "");
}

/**
 * Milliseconds to wait from a `Retry-After` header (seconds or an HTTP date), if it has one.
 * @param {string | string[] | undefined} value
 * @param {number} nowMs wall-clock time, for the date form
 * @returns {number | undefined}
 */
function parseRetryAfter(value, nowMs) {
    const text = Array.isArray(value) ? value[0] : value;
    if (text === undefined || text.trim() === "") {
        return undefined;
    }
    if (/^\s*\d+(\.\d+)?\s*$/.test(text)) {
        return Math.round(Number(text) * 1000);
    }
    const date = Date.parse(text);
    return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Azure error codes are identifiers; anything else in a body is not repeated. */
const ERROR_CODE_PATTERN = /^[A-Za-z0-9_.-]{1,80}$/;

/**
 * @param {unknown} value
 * @param {string} key
 * @returns {unknown}
 */
function field(value, key) {
    return value !== null && typeof value === "object" ? /** @type {Record<string, unknown>} */ (value)[key] : undefined;
}

/**
 * Azure's error codes in a response, never its free text: Key Vault `{error:{code,innererror}}`,
 * Entra and IMDS `{error, error_codes}`, Storage `x-ms-error-code` and `<Code>` in XML.
 * @param {string} body
 * @param {import("http").IncomingHttpHeaders} headers
 * @returns {string[]}
 */
function azureErrorCodes(body, headers) {
    /** @type {unknown[]} */
    const candidates = [headers["x-ms-error-code"]];
    try {
        /** @type {unknown} */
        const parsed = JSON.parse(body);
        const error = field(parsed, "error");
        candidates.push(error, field(error, "code"), field(field(error, "innererror"), "code"));
        const aadCodes = field(parsed, "error_codes");
        if (Array.isArray(aadCodes) && typeof aadCodes[0] === "number") {
            candidates.push(`AADSTS${aadCodes[0]}`);
        }
    } catch {
        const xmlCode = /<Code>([^<]*)<\/Code>/.exec(body);
        candidates.push(xmlCode ? xmlCode[1] : undefined);
    }
    /** @type {string[]} */
    const codes = [];
    for (const candidate of candidates) {
        if (typeof candidate === "string" && ERROR_CODE_PATTERN.test(candidate) && !codes.includes(candidate)) {
            codes.push(candidate);
        }
    }
    return codes;
}

/**
 * One-phrase description of an HTTP refusal, e.g. `HTTP 403 Forbidden (ForbiddenByRbac)`.
 * @param {HttpResponse} response
 * @returns {string}
 */
function describeHttpFailure(response) {
    const statusText = response.statusText.trim();
    const codes = azureErrorCodes(response.body, response.headers).filter((code) => code.toLowerCase() !== statusText.replace(/\s+/g, "").toLowerCase());
    const head = statusText ? `HTTP ${response.status} ${statusText}` : `HTTP ${response.status}`;
    return codes.length > 0 ? `${head} (${codes.join(", ")})` : head;
}

/**
 * @param {unknown} err
 * @returns {string | undefined}
 */
function errorCode(err) {
    const code = field(err, "code");
    return typeof code === "string" ? code : undefined;
}

/**
 * One-phrase description of a network (or other) error, e.g. `connect ECONNREFUSED 127.0.0.1:8443`.
 * @param {unknown} err
 * @returns {string}
 */
function describeError(err) {
    const code = errorCode(err);
    const message = err instanceof Error ? err.message.split("\n")[0].trim() : "";
    const text = message && code && !message.includes(code) ? `${message} (${code})` : message || code || "unknown network error";
    return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/**
 * One HTTP(S) request without keep-alive, bounded by `timeoutMs` from start to end of the body.
 * Rejects on network errors and timeouts; any HTTP status resolves.
 * A host name in `pinned` is connected to at its address there, the one checked on the private path,
 * not resolved again; TLS still checks the certificate against the host name.
 * @param {HttpRequest} request
 * @param {number} timeoutMs
 * @param {Map<string, string>} [pinned]
 * @returns {Promise<HttpResponse>}
 */
function sendHttp(request, timeoutMs, pinned = new Map()) {
    return new Promise((resolve, reject) => {
        const url = new URL(request.url);
        const address = pinned.get(url.hostname);
        const transport = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
        if (transport === undefined) {
            reject(new Error(`unsupported protocol ${url.protocol}`));
            return;
        }
        let settled = false;
        /** @param {() => void} finish */
        const settle = (finish) => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                finish();
            }
        };
        const headers = { ...request.headers };
        // Azure Storage wants the request's date on every authorized request; set it when sent, so
        // a retry never carries a stale one.
        if (headers["x-ms-version"] !== undefined) {
            headers["x-ms-date"] = new Date().toUTCString();
        }
        if (request.body !== undefined) {
            headers["Content-Length"] = String(Buffer.byteLength(request.body));
        }
        /** @type {import("net").LookupFunction | undefined} */
        const lookup =
            address === undefined
                ? undefined
                : (_hostname, options, callback) => {
                      if (options.all === true) {
                          callback(null, [{ address, family: 4 }]);
                      } else {
                          callback(null, address, 4);
                      }
                  };
        /** @type {import("https").RequestOptions} */
        const options = { method: request.method, headers, agent: false, ...(lookup === undefined ? {} : { lookup }), ...(request.ca === undefined ? {} : { ca: request.ca }) };
        const req = transport.request(url, options, (res) => {
            /** @type {Buffer[]} */
            const chunks = [];
            let size = 0;
            res.on("data", (/** @type {Buffer} */ chunk) => {
                size += chunk.length;
                if (size > MAX_RESPONSE_BYTES) {
                    req.destroy(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
                } else {
                    chunks.push(chunk);
                }
            });
            res.on("error", (err) => settle(() => reject(err)));
            res.on("end", () =>
                settle(() =>
                    resolve({
                        status: res.statusCode ?? 0,
                        statusText: res.statusMessage ?? "",
                        headers: res.headers,
                        body: Buffer.concat(chunks).toString("utf8"),
                    }),
                ),
            );
        });
        const timer = setTimeout(() => req.destroy(new Error(`no response within ${seconds(timeoutMs)}s`)), timeoutMs);
        req.on("error", (err) => settle(() => reject(err)));
        req.end(request.body);
    });
}

module.exports = { MAX_RESPONSE_BYTES, withTrailingSlash, withoutTrailingSlash, parseRetryAfter, ERROR_CODE_PATTERN, field, azureErrorCodes, describeHttpFailure, errorCode, describeError, sendHttp };
