// @ts-check
/**
 * Identity wiring verifier, run as a Kubernetes Job next to a workload.
 *
 * In `bound` mode it proves, end to end, that the pod's Azure identity works, and works only for what
 * is its own, over the private path: it resolves the vault's and the blob endpoint's host names and
 * requires every address inside the private-endpoint subnet (and then connects to those addresses
 * only); gets a token (pod identity through the instance metadata endpoint, or Microsoft Entra
 * Workload ID through a federated service-account token); reads the workload's secret from Key
 * Vault, checks that the Secrets Store CSI driver mounted the same value and, when the workload
 * mirrors it into a Kubernetes Secret (SYNCED_SECRET_FILE, that Secret mounted as a volume), that the
 * mirror holds it too; tries the canary secret, which nobody is granted, and
 * requires Key Vault to refuse it (with access policies, which Azure applies to the whole vault, the
 * canary is readable by design and the verdict says so); writes a blob to the workload's container
 * and reads it back; and requires Storage to refuse both a read and a write of the canary container.
 * In `unbound` mode it proves the opposite: a pod without the binding must be refused a token.
 * In `impostor` mode (impostor.js) it plays another tenant of the cluster, in a namespace of its own,
 * and tries to take the workload's identity: a labelled pod, its own AzureIdentity and binding, a
 * pod-identity exception (each a server-side dry run that admission must refuse), or its own
 * service-account token exchanged for the workload's client id, which Entra must refuse.
 *
 * Node standard library only, nothing written to disk. The verdict is exactly one line of JSON on
 * stdout; progress goes to stderr. The secret value and tokens are never printed: the secret is
 * identified by a 12-character sha256 hex prefix.
 *
 * Exit codes: 0 pass, 1 fail, 2 bad configuration.
 *
 * Each retry loop has its own budget (TOKEN_BUDGET_SECONDS for a token, ACCESS_BUDGET_SECONDS for
 * Key Vault and each blob request), checks the time left before every pause and makes its last
 * attempt when the budget runs out; a single request is bounded by REQUEST_TIMEOUT_SECONDS, a single
 * token request by TOKEN_REQUEST_TIMEOUT_SECONDS (NMI holds a request while it looks for the pod's
 * identity, and answers a pod that has none only at the end of that search).
 *
 * `attempts.token` counts every token request (two on a clean `bound` run: Key Vault, Storage). In
 * `impostor` mode `attempts` lists each attempt with the refusal it got, or why it does not count.
 */
"use strict";

const crypto = require("crypto");
const dns = require("dns");
const fs = require("fs");
const http = require("http");
const https = require("https");
const net = require("net");
const egress = require("./egress");
const impostor = require("./impostor");

/** Token audiences of the two data planes. */
const RESOURCES = Object.freeze({
    keyVault: "https://vault.azure.net",
    storage: "https://storage.azure.com",
});

const DEFAULT_IMDS_ENDPOINT = "http://169.254.169.254";
const IMDS_API_VERSION = "2018-02-01";
const KEYVAULT_API_VERSION = "7.4";
const STORAGE_API_VERSION = "2021-12-02";
const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** Defaults of the budgets, in seconds. */
const DEFAULT_SECONDS = Object.freeze({
    TOKEN_BUDGET_SECONDS: 300,
    ACCESS_BUDGET_SECONDS: 600,
    RETRY_INTERVAL_SECONDS: 5,
    REQUEST_TIMEOUT_SECONDS: 10,
    // aad-pod-identity's NMI (standard mode) looks for a pod's identity for up to 16 + 4 attempts,
    // 5 s apart (cmd/nmi/main.go defaults, pkg/nmi/standard.go), and refuses a pod without one only
    // after the first 80 s: a token request must be allowed to outlast that search.
    TOKEN_REQUEST_TIMEOUT_SECONDS: 110,
});

/** Shortest pause between two attempts, so a zero interval cannot spin. */
const MIN_WAIT_MS = 10;
/** Responses are small JSON or text documents; anything larger is cut off. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const EXIT = Object.freeze({ pass: 0, fail: 1, config: 2 });

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {"bound" | "unbound" | "impostor"} Mode
 * @typedef {"imds" | "workloadIdentity"} TokenSource
 * @typedef {"privatePath" | "token" | "keyvault" | "mount" | "synced" | "canary" | "blobWrite" | "blobRead" | "egress" | "impostor" | "config"} Step
 * @typedef {"rbac" | "accessPolicy"} KeyVaultAuthorization
 *
 * @typedef {object} Budgets
 * @property {number} tokenMs
 * @property {number} accessMs
 * @property {number} intervalMs
 * @property {number} requestTimeoutMs
 * @property {number} tokenRequestTimeoutMs
 *
 * @typedef {object} BoundTargets
 * @property {string} keyVaultUri
 * @property {string} secretName
 * @property {string} secretFile
 * @property {string} blobEndpoint
 * @property {string} blobContainer
 * @property {string} canarySecretName
 * @property {string} canaryContainer
 * @property {KeyVaultAuthorization} keyVaultAuthorization
 * @property {string} privateEndpointSubnet   IPv4 CIDR
 * @property {string | undefined} syncedSecretFile   the Kubernetes Secret the CSI driver mirrors, mounted as a file; absent when the workload mirrors none
 * @property {string | undefined} dnsServer   `host:port` of the resolver to ask, instead of the system's
 * @property {import("./egress").ProbeTarget | undefined} egressProbe   a public address no firewall rule admits, which must not answer; absent unless egress goes through the stack's firewall
 *
 * @typedef {object} Config
 * @property {Mode} mode
 * @property {TokenSource} tokenSource
 * @property {string} workload
 * @property {string} imdsEndpoint
 * @property {string | undefined} clientId
 * @property {string | undefined} tenantId
 * @property {string | undefined} federatedTokenFile
 * @property {string | undefined} authorityHost
 * @property {BoundTargets | undefined} targets   present in `bound` mode
 * @property {import("./impostor").ImpostorConfig | undefined} impostor   present in `impostor` mode
 * @property {Budgets} budgets
 *
 * @typedef {{ ok: true, config: Config } | { ok: false, mode: string | undefined, missing: string[], error: string }} ConfigResult
 *
 * @typedef {object} HttpRequest
 * @property {string} method
 * @property {string} url
 * @property {Record<string, string>} headers
 * @property {string} [body]
 * @property {string} [ca]   PEM certificates trusted instead of the system's (the cluster's CA)
 *
 * @typedef {object} HttpResponse
 * @property {number} status
 * @property {string} statusText
 * @property {import("http").IncomingHttpHeaders} headers
 * @property {string} body
 *
 * A failed attempt: an HTTP answer that refused, a service that could not be reached, or a
 * request that could not even be made (e.g. no federated token in the pod).
 * @typedef {object} Failure
 * @property {"refused" | "unreachable" | "local"} kind
 * @property {string} detail
 */

/**
 * @template T
 * @typedef {{ kind: "ok", value: T } | { kind: "retry", failure: Failure, retryAfterMs?: number } | { kind: "stop", failure: Failure }} Attempt
 */

/**
 * @template T
 * @typedef {{ ok: true, value: T, attempts: number, elapsedMs: number } | { ok: false, failure: Failure, attempts: number, elapsedMs: number }} RetryResult
 */

/**
 * @typedef {object} Clock
 * @property {() => number} now
 * @property {(ms: number) => Promise<void>} sleep
 *
 * @typedef {object} Reporter
 * @property {(value: string) => void} remember   marks a value that must never be printed
 * @property {(text: string) => string} redact
 * @property {(line: string) => void} log         one progress line on stderr
 *
 * @typedef {object} Context
 * @property {Config} config
 * @property {Clock} clock
 * @property {Reporter} reporter
 * @property {(request: HttpRequest, timeoutMs: number) => Promise<HttpResponse>} send
 * @property {import("./egress").Probe} probe   opens a connection to the egress proof's address
 * @property {Map<string, string>} pinned   host name to the address checked on the private path
 * @property {{ step: Step }} progress   the step under way, for the verdict of an unexpected error
 */

// ---------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------

/**
 * First 12 hex characters of the sha256 of a value: enough to identify it, useless to recover it.
 * @param {string | Buffer} value
 * @returns {string}
 */
function sha256Prefix(value) {
    return crypto.createHash("sha256").update(value).digest("hex").slice(0, 12);
}

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
 * The token request of the instance metadata endpoint (intercepted by aad-pod-identity's NMI).
 * @param {string} imdsEndpoint
 * @param {string} resource
 * @param {string | undefined} clientId
 * @returns {HttpRequest}
 */
function imdsTokenRequest(imdsEndpoint, resource, clientId) {
    const query = new URLSearchParams({ "api-version": IMDS_API_VERSION, resource });
    if (clientId) {
        query.set("client_id", clientId);
    }
    return {
        method: "GET",
        url: `${withoutTrailingSlash(imdsEndpoint)}/metadata/identity/oauth2/token?${query.toString()}`,
        headers: { Metadata: "true" },
    };
}

/**
 * The client-credentials request that trades a federated service-account token for an Entra token.
 * @param {{ authorityHost: string, tenantId: string, clientId: string, resource: string, assertion: string }} input
 * @returns {HttpRequest}
 */
function workloadIdentityTokenRequest(input) {
    const form = new URLSearchParams({
        client_id: input.clientId,
        grant_type: "client_credentials",
        scope: `${withoutTrailingSlash(input.resource)}/.default`,
        client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
        client_assertion: input.assertion,
    });
    return {
        method: "POST",
        url: `${withTrailingSlash(input.authorityHost)}${encodeURIComponent(input.tenantId)}/oauth2/v2.0/token`,
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: form.toString(),
    };
}

/**
 * @param {string} keyVaultUri
 * @param {string} secretName
 * @returns {string}
 */
function keyVaultSecretUrl(keyVaultUri, secretName) {
    return `${withTrailingSlash(keyVaultUri)}secrets/${encodeURIComponent(secretName)}?api-version=${KEYVAULT_API_VERSION}`;
}

/**
 * Name of the blob written by one run, e.g. `verify/alpha-2024-05-01T10:00:00.000Z-1a2b3c4d.txt`.
 * @param {string} workload
 * @param {Date} time
 * @param {string} randomHex
 * @returns {string}
 */
function blobName(workload, time, randomHex) {
    return `verify/${workload}-${time.toISOString()}-${randomHex}.txt`;
}

/**
 * URL of a blob; every path segment is percent-encoded.
 * @param {string} blobEndpoint
 * @param {string} container
 * @param {string} name
 * @returns {string}
 */
function blobUrl(blobEndpoint, container, name) {
    const path = [container, ...name.split("/")].map(encodeURIComponent).join("/");
    return `${withTrailingSlash(blobEndpoint)}${path}`;
}

/**
 * The text written to the blob: who wrote it, when, and which secret it saw (by hash only).
 * @param {string} workload
 * @param {Date} time
 * @param {string} secretHash
 * @returns {string}
 */
function blobBody(workload, time, secretHash) {
    return [
        "aks-identity-vault verifier",
        `workload: ${workload}`,
        `time: ${time.toISOString()}`,
        `secretSha256Prefix: ${secretHash}`,
        "",
    ].join("\n");
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

/**
 * How a data-plane answer (Key Vault, Storage) is treated: 401/403 are retried because new
 * role assignments take minutes to apply, 408/429/5xx because they are transient.
 * @param {number} status
 * @returns {"ok" | "retry" | "stop"}
 */
function classifyAccessStatus(status) {
    if (status >= 200 && status < 300) {
        return "ok";
    }
    if (status === 401 || status === 403 || status === 408 || status === 429 || status >= 500) {
        return "retry";
    }
    return "stop";
}

/**
 * How a token endpoint's answer is read in `unbound` mode: a token means the identity is not
 * guarded, 400/401/403/404 are a definitive refusal, anything else gives no answer yet.
 * @param {number} status
 * @returns {"granted" | "refused" | "retry"}
 */
function classifyUnboundTokenStatus(status) {
    if (status >= 200 && status < 300) {
        return "granted";
    }
    if (status === 400 || status === 401 || status === 403 || status === 404) {
        return "refused";
    }
    return "retry";
}

/**
 * How a canary request's answer is read: 403 is the refusal the canary expects; a success is access,
 * and so is a 404, since the stack creates the canary before any Job runs (a 404 is an answer the
 * request got only past authorization); 401, 408, 429 and 5xx give no answer yet; anything else is
 * unexpected.
 * @param {number} status
 * @returns {"refused" | "allowed" | "retry" | "stop"}
 */
function classifyCanaryStatus(status) {
    if (status === 403) {
        return "refused";
    }
    if ((status >= 200 && status < 300) || status === 404) {
        return "allowed";
    }
    if (status === 401 || status === 408 || status === 429 || status >= 500) {
        return "retry";
    }
    return "stop";
}

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
    const codes = azureErrorCodes(response.body, response.headers).filter(
        (code) => code.toLowerCase() !== statusText.replace(/\s+/g, "").toLowerCase(),
    );
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
 * Replaces every remembered sensitive value in a text.
 * @param {string} text
 * @param {ReadonlyArray<string>} sensitive
 * @returns {string}
 */
function redact(text, sensitive) {
    let result = text;
    for (const value of sensitive) {
        if (value) {
            result = result.split(value).join("[redacted]");
        }
    }
    return result;
}

/**
 * Seconds with at most two decimals, for verdicts and messages.
 * @param {number} ms
 * @returns {number}
 */
function seconds(ms) {
    return Math.round(ms / 10) / 100;
}

/**
 * The sentence for a step that failed: a refusal names the HTTP answer, a network failure says
 * the service could not be reached, a local failure says the request could not be made.
 * @param {string} service     e.g. "Key Vault"
 * @param {string} doing       e.g. "reading secret alpha-demo", "a Key Vault token"
 * @param {{ failure: Failure, attempts: number, elapsedMs: number }} result
 * @returns {string}
 */
function failureSentence(service, doing, result) {
    const what = {
        refused: `${service} refused ${doing}`,
        unreachable: `${service} could not be reached for ${doing}`,
        local: `${service} could not be asked for ${doing}`,
    }[result.failure.kind];
    const tries = result.attempts === 1 ? "1 attempt" : `${result.attempts} attempts`;
    return `${what}: ${result.failure.detail} for ${seconds(result.elapsedMs)}s (${tries})`;
}

/**
 * The verdict as exactly one line of JSON.
 * @param {Record<string, unknown>} verdict
 * @returns {string}
 */
function formatVerdict(verdict) {
    return JSON.stringify(verdict);
}

/**
 * @param {Record<string, string | undefined>} env
 * @param {string} name
 * @returns {string | undefined}
 */
function nonEmpty(env, name) {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * @param {string} value
 * @returns {boolean}
 */
function isHttpUrl(value) {
    try {
        const url = new URL(value);
        return url.protocol === "https:" || url.protocol === "http:";
    } catch {
        return false;
    }
}

/**
 * Quoted values in a sentence: `'a' or 'b'`, `'a', 'b' or 'c'`.
 * @param {readonly string[]} values
 * @returns {string}
 */
function alternatives(values) {
    const quoted = values.map((v) => `'${v}'`);
    return quoted.length > 1 ? `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}` : quoted.join("");
}

/**
 * Reads variables and collects what is missing or invalid, so one verdict can name all of it.
 * @param {Record<string, string | undefined>} env
 */
function envReader(env) {
    /** @type {string[]} */
    const missing = [];
    /** @type {string[]} */
    const invalid = [];
    /** @param {string} name */
    const optional = (name) => nonEmpty(env, name);
    /** @param {string} name */
    const required = (name) => {
        const value = nonEmpty(env, name);
        if (value === undefined) {
            missing.push(name);
        }
        return value ?? "";
    };
    /**
     * @template {string | undefined} T
     * @param {string} name
     * @param {T} value
     * @returns {T}
     */
    const checkUrl = (name, value) => {
        if (value && !isHttpUrl(value)) {
            invalid.push(`${name} must be an http(s) URL`);
        }
        return value;
    };
    /**
     * @param {string} name
     * @param {readonly string[]} allowed
     */
    const oneOf = (name, allowed) => {
        const value = required(name);
        if (value && !allowed.includes(value)) {
            invalid.push(`${name} must be ${alternatives(allowed)} (got '${value}')`);
        }
        return value;
    };
    /**
     * A duration in seconds, returned in milliseconds.
     * @param {keyof typeof DEFAULT_SECONDS} name
     * @param {boolean} allowZero
     */
    const milliseconds = (name, allowZero) => {
        const text = nonEmpty(env, name);
        const value = text === undefined ? DEFAULT_SECONDS[name] : Number(text);
        if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
            invalid.push(`${name} must be a ${allowZero ? "non-negative" : "positive"} number of seconds (got '${text}')`);
            return 0;
        }
        return value * 1000;
    };
    return { missing, invalid, optional, required, checkUrl, oneOf, milliseconds };
}

/**
 * The `bound` mode's targets: the vault, the secret, its mount and the blob container.
 * @param {ReturnType<typeof envReader>} read
 * @returns {BoundTargets}
 */
function readBoundTargets(read) {
    /** @param {string} name */
    const cidr = (name) => {
        const value = read.required(name);
        if (value && parseIpv4Cidr(value) === undefined) {
            read.invalid.push(`${name} must be an IPv4 CIDR (got '${value}')`);
        }
        return value;
    };
    return {
        keyVaultUri: read.checkUrl("KEYVAULT_URI", read.required("KEYVAULT_URI")),
        secretName: read.required("SECRET_NAME"),
        secretFile: read.required("SECRET_FILE"),
        blobEndpoint: read.checkUrl("BLOB_ENDPOINT", read.required("BLOB_ENDPOINT")),
        blobContainer: read.required("BLOB_CONTAINER"),
        canarySecretName: read.required("CANARY_SECRET_NAME"),
        canaryContainer: read.required("CANARY_CONTAINER"),
        keyVaultAuthorization: /** @type {KeyVaultAuthorization} */ (read.oneOf("KEYVAULT_AUTHORIZATION", ["rbac", "accessPolicy"])),
        privateEndpointSubnet: cidr("PRIVATE_ENDPOINT_SUBNET"),
        syncedSecretFile: read.optional("SYNCED_SECRET_FILE"),
        dnsServer: read.optional("DNS_SERVER"),
        egressProbe: probeTarget(read),
    };
}

/**
 * The egress proof's address, when EGRESS_PROBE names one.
 * @param {ReturnType<typeof envReader>} read
 */
function probeTarget(read) {
    const value = read.optional("EGRESS_PROBE");
    if (value === undefined) {
        return undefined;
    }
    const parsed = egress.parseProbeTarget(value);
    if (!parsed.ok) {
        read.invalid.push(parsed.error);
        return undefined;
    }
    return parsed.target;
}

/**
 * Reads and validates the configuration from the environment.
 * @param {Record<string, string | undefined>} env
 * @returns {ConfigResult}
 */
function readConfig(env) {
    const read = envReader(env);
    const mode = read.oneOf("VERIFY_MODE", ["bound", "unbound", "impostor"]);
    const tokenSource = read.oneOf("TOKEN_SOURCE", ["imds", "workloadIdentity"]);
    const workload = read.required("WORKLOAD");
    const imdsEndpoint = read.checkUrl("IMDS_ENDPOINT", read.optional("IMDS_ENDPOINT") ?? DEFAULT_IMDS_ENDPOINT);
    const authorityHost = read.checkUrl("AZURE_AUTHORITY_HOST", read.optional("AZURE_AUTHORITY_HOST"));
    const targets = mode === "bound" ? readBoundTargets(read) : undefined;
    const impostorConfig = mode === "impostor" ? impostor.readImpostorConfig(read) : undefined;
    const budgets = {
        tokenMs: read.milliseconds("TOKEN_BUDGET_SECONDS", true),
        accessMs: read.milliseconds("ACCESS_BUDGET_SECONDS", true),
        intervalMs: read.milliseconds("RETRY_INTERVAL_SECONDS", true),
        requestTimeoutMs: read.milliseconds("REQUEST_TIMEOUT_SECONDS", false),
        tokenRequestTimeoutMs: read.milliseconds("TOKEN_REQUEST_TIMEOUT_SECONDS", false),
    };
    if (read.missing.length > 0 || read.invalid.length > 0) {
        const plural = read.missing.length > 1 ? "s" : "";
        const parts = read.missing.length > 0 ? [`missing environment variable${plural} ${read.missing.join(", ")}`] : [];
        return { ok: false, mode: mode || undefined, missing: read.missing, error: [...parts, ...read.invalid].join("; ") };
    }
    return {
        ok: true,
        config: {
            mode: /** @type {Mode} */ (mode),
            tokenSource: /** @type {TokenSource} */ (tokenSource),
            workload,
            imdsEndpoint,
            clientId: read.optional("AZURE_CLIENT_ID"),
            tenantId: read.optional("AZURE_TENANT_ID"),
            federatedTokenFile: read.optional("AZURE_FEDERATED_TOKEN_FILE"),
            authorityHost,
            targets,
            impostor: impostorConfig,
            budgets,
        },
    };
}

// ---------------------------------------------------------------------------------------------
// Retrying
// ---------------------------------------------------------------------------------------------

/** @type {Clock} */
const systemClock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Runs `attempt` until it succeeds, stops, or the budget is spent. Before each pause it checks the
 * time left and never sleeps past the budget; a `retryAfterMs` longer than the interval is honoured
 * up to the time left. The first attempt always runs.
 * @template T
 * @param {object} options
 * @param {number} options.budgetMs
 * @param {number} options.intervalMs
 * @param {(attempt: number) => Promise<Attempt<T>>} options.attempt
 * @param {(attempt: number, failure: Failure, waitMs: number, remainingMs: number) => void} [options.onRetry]
 * @param {Clock} [options.clock]
 * @returns {Promise<RetryResult<T>>}
 */
async function retryWithinBudget(options) {
    const clock = options.clock ?? systemClock;
    const start = clock.now();
    const deadline = start + options.budgetMs;
    for (let n = 1; ; n++) {
        const outcome = await options.attempt(n);
        if (outcome.kind === "ok") {
            return { ok: true, value: outcome.value, attempts: n, elapsedMs: clock.now() - start };
        }
        const remainingMs = deadline - clock.now();
        if (outcome.kind === "stop" || remainingMs <= 0) {
            return { ok: false, failure: outcome.failure, attempts: n, elapsedMs: clock.now() - start };
        }
        const waitMs = Math.min(remainingMs, Math.max(options.intervalMs, outcome.retryAfterMs ?? 0, MIN_WAIT_MS));
        options.onRetry?.(n, outcome.failure, waitMs, remainingMs);
        await clock.sleep(waitMs);
    }
}

// ---------------------------------------------------------------------------------------------
// I/O
// ---------------------------------------------------------------------------------------------

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

/**
 * Sends a request and turns the outcome into either a response or a network failure.
 * @param {Context} ctx
 * @param {HttpRequest} request
 * @param {number} [timeoutMs]   how long it may take; the data-plane request timeout when absent
 * @returns {Promise<{ response: HttpResponse } | { failure: Failure }>}
 */
async function exchange(ctx, request, timeoutMs = ctx.config.budgets.requestTimeoutMs) {
    try {
        return { response: await ctx.send(request, timeoutMs) };
    } catch (err) {
        return { failure: { kind: "unreachable", detail: ctx.reporter.redact(describeError(err)) } };
    }
}

/**
 * A data-plane response as a retry attempt.
 * @template T
 * @param {Context} ctx
 * @param {HttpResponse} response
 * @param {(response: HttpResponse) => T} onSuccess
 * @returns {Attempt<T>}
 */
function accessAttempt(ctx, response, onSuccess) {
    const decision = classifyAccessStatus(response.status);
    if (decision === "ok") {
        return { kind: "ok", value: onSuccess(response) };
    }
    /** @type {Failure} */
    const failure = { kind: "refused", detail: ctx.reporter.redact(describeHttpFailure(response)) };
    if (decision === "stop") {
        return { kind: "stop", failure };
    }
    return { kind: "retry", failure, retryAfterMs: parseRetryAfter(response.headers["retry-after"], Date.now()) };
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

/**
 * What one token request gave.
 * @typedef {{ kind: "token", token: string }
 *   | { kind: "noIdentity", detail: string, permanent: boolean }
 *   | { kind: "http", response: HttpResponse, detail: string }
 *   | { kind: "network", detail: string }} TokenOutcome
 */

/**
 * @param {Config} config
 * @returns {string}
 */
function tokenServiceName(config) {
    return config.tokenSource === "imds" ? "IMDS" : "Microsoft Entra ID";
}

/**
 * Builds this attempt's token request; for Workload ID it re-reads the projected token file.
 * @param {Context} ctx
 * @param {string} resource
 * @returns {HttpRequest | { noIdentity: string, permanent: boolean }}
 */
function buildTokenRequest(ctx, resource) {
    const { tokenSource, imdsEndpoint, clientId, tenantId, federatedTokenFile, authorityHost } = ctx.config;
    if (tokenSource === "imds") {
        return imdsTokenRequest(imdsEndpoint, resource, clientId);
    }
    if (!clientId || !tenantId || !federatedTokenFile || !authorityHost) {
        const injected = {
            AZURE_CLIENT_ID: clientId,
            AZURE_TENANT_ID: tenantId,
            AZURE_FEDERATED_TOKEN_FILE: federatedTokenFile,
            AZURE_AUTHORITY_HOST: authorityHost,
        };
        const absent = Object.entries(injected)
            .filter(([, value]) => !value)
            .map(([name]) => name);
        return { noIdentity: `no federated identity in this pod (${absent.join(", ")} not set)`, permanent: true };
    }
    let assertion;
    try {
        assertion = fs.readFileSync(federatedTokenFile, "utf8").trim();
    } catch (err) {
        const reason = errorCode(err) ?? "unreadable";
        return { noIdentity: `no federated token file at ${federatedTokenFile} (${reason})`, permanent: false };
    }
    ctx.reporter.remember(assertion);
    return workloadIdentityTokenRequest({ authorityHost, tenantId, clientId, resource, assertion });
}

/**
 * One token request for `resource`.
 * @param {Context} ctx
 * @param {string} resource
 * @returns {Promise<TokenOutcome>}
 */
async function requestToken(ctx, resource) {
    const request = buildTokenRequest(ctx, resource);
    if ("noIdentity" in request) {
        return { kind: "noIdentity", detail: ctx.reporter.redact(request.noIdentity), permanent: request.permanent };
    }
    const result = await exchange(ctx, request, ctx.config.budgets.tokenRequestTimeoutMs);
    if ("failure" in result) {
        return { kind: "network", detail: result.failure.detail };
    }
    const response = result.response;
    if (response.status >= 200 && response.status < 300) {
        let token;
        try {
            token = field(JSON.parse(response.body), "access_token");
        } catch {
            token = undefined;
        }
        if (typeof token === "string" && token !== "") {
            ctx.reporter.remember(token);
            return { kind: "token", token };
        }
        return { kind: "http", response, detail: `HTTP ${response.status} without an access_token` };
    }
    return { kind: "http", response, detail: ctx.reporter.redact(describeHttpFailure(response)) };
}

/**
 * `bound` mode: a token for `resource`, retrying everything but a missing identity within the
 * token budget.
 * @param {Context} ctx
 * @param {string} resource
 * @param {string} label   e.g. "Key Vault"
 * @returns {Promise<RetryResult<string>>}
 */
function acquireToken(ctx, resource, label) {
    return retryWithinBudget({
        budgetMs: ctx.config.budgets.tokenMs,
        intervalMs: ctx.config.budgets.intervalMs,
        clock: ctx.clock,
        onRetry: retryLogger(ctx, `${label} token`),
        attempt: async () => {
            /** @type {TokenOutcome} */
            const outcome = await requestToken(ctx, resource);
            switch (outcome.kind) {
                case "token":
                    return { kind: "ok", value: outcome.token };
                case "noIdentity":
                    return { kind: outcome.permanent ? "stop" : "retry", failure: { kind: "local", detail: outcome.detail } };
                case "http":
                    return {
                        kind: "retry",
                        failure: { kind: "refused", detail: outcome.detail },
                        retryAfterMs: parseRetryAfter(outcome.response.headers["retry-after"], Date.now()),
                    };
                case "network":
                    return { kind: "retry", failure: { kind: "unreachable", detail: outcome.detail } };
            }
        },
    });
}

/**
 * @param {Context} ctx
 * @param {string} what
 * @returns {(attempt: number, failure: Failure, waitMs: number, remainingMs: number) => void}
 */
function retryLogger(ctx, what) {
    return (attempt, failure, waitMs, remainingMs) =>
        ctx.reporter.log(
            `${what}: attempt ${attempt} failed (${failure.detail}); retrying in ${seconds(waitMs)}s, ${seconds(remainingMs)}s left`,
        );
}

// ---------------------------------------------------------------------------------------------
// Flows
// ---------------------------------------------------------------------------------------------

/**
 * Marks the start of a step: remembered for unexpected errors, and logged.
 * @param {Context} ctx
 * @param {Step} step
 * @param {string} message
 */
function enter(ctx, step, message) {
    ctx.progress.step = step;
    ctx.reporter.log(`${step}: ${message}`);
}

/**
 * @typedef {object} Outcome
 * @property {Record<string, unknown>} verdict
 * @property {number} exitCode
 */

// ---------------------------------------------------------------------------------------------
// The private path and the canary
// ---------------------------------------------------------------------------------------------

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

/**
 * One request to a canary, retried only while it gets no answer: a refusal or an access is the
 * answer. A body that is a secret is remembered, so that it is never printed.
 * @param {Context} ctx
 * @param {string} label
 * @param {HttpRequest} request
 * @returns {Promise<RetryResult<"refused" | "allowed">>}
 */
function canaryWithRetry(ctx, label, request) {
    return requestWithRetry(ctx, label, request, (response) => {
        const decision = classifyCanaryStatus(response.status);
        if (decision === "refused" || decision === "allowed") {
            if (decision === "allowed") {
                secretValue(ctx)(response);
            }
            return { kind: "ok", value: decision };
        }
        /** @type {Failure} */
        const failure = { kind: "refused", detail: ctx.reporter.redact(describeHttpFailure(response)) };
        return decision === "stop" ? { kind: "stop", failure } : { kind: "retry", failure, retryAfterMs: parseRetryAfter(response.headers["retry-after"], Date.now()) };
    });
}

/** What the verdict says of a canary secret that access policies let every workload read. */
const CANARY_READABLE_BY_DESIGN = "readable by design: access policies apply to the whole vault (keyVaultAuthorization accessPolicy), so every workload reads the canary secret; use rbac to confine each identity to its own secret";

/**
 * `bound` mode: the private path, token, Key Vault, mount, synced Secret, canary secret, blob
 * write, blob read, canary container.
 * @param {Context} ctx
 * @param {BoundTargets} targets
 * @returns {Promise<Outcome>}
 */
async function runBound(ctx, targets) {
    const { config, clock, reporter } = ctx;
    const started = clock.now();
    const attempts = { token: 0, keyvault: 0, blobWrite: 0 };
    /** @type {string | undefined} */
    let secretHash;
    /**
     * @param {Step} step
     * @param {string} error
     * @returns {Outcome}
     */
    const fail = (step, error) => ({
        exitCode: EXIT.fail,
        verdict: {
            verdict: "fail",
            mode: "bound",
            tokenSource: config.tokenSource,
            workload: config.workload,
            step,
            error: reporter.redact(error),
            ...(secretHash === undefined ? {} : { secretSha256Prefix: secretHash }),
            attempts,
            elapsedSeconds: seconds(clock.now() - started),
        },
    });
    const source = tokenServiceName(config);

    enter(ctx, "privatePath", `resolving the vault's and the blob endpoint's host names, expecting addresses in ${targets.privateEndpointSubnet}`);
    const path = await checkPrivatePathWithRetry(ctx, targets);
    if (!path.ok) {
        const tries = path.attempts === 1 ? "1 attempt" : `${path.attempts} attempts`;
        return fail("privatePath", `the private path is not in place: ${path.failure.detail} for ${seconds(path.elapsedMs)}s (${tries})`);
    }
    for (const r of path.value) {
        if (net.isIP(r.host) === 0) {
            ctx.pinned.set(r.host, r.addresses[0]);
        }
    }
    const privatePath = {
        subnet: targets.privateEndpointSubnet,
        hosts: Object.fromEntries(path.value.map((r) => [r.host, { addresses: r.addresses, ...(r.cnames.length > 0 ? { via: r.cnames } : {}) }])),
    };

    enter(ctx, "token", `requesting a Key Vault token from ${source}`);
    const vaultToken = await acquireToken(ctx, RESOURCES.keyVault, "Key Vault");
    attempts.token += vaultToken.attempts;
    if (!vaultToken.ok) {
        return fail("token", failureSentence(source, "a Key Vault token", vaultToken));
    }

    enter(ctx, "keyvault", `reading secret ${targets.secretName}`);
    const secretUrl = keyVaultSecretUrl(targets.keyVaultUri, targets.secretName);
    const secretRequest = { method: "GET", url: secretUrl, headers: { Authorization: `Bearer ${vaultToken.value}` } };
    const secret = await accessWithRetry(ctx, "keyvault", secretRequest, secretValue(ctx));
    attempts.keyvault = secret.attempts;
    if (!secret.ok) {
        return fail("keyvault", failureSentence("Key Vault", `reading secret ${targets.secretName}`, secret));
    }
    if (secret.value === undefined) {
        return fail("keyvault", `Key Vault answered reading secret ${targets.secretName} without a string value`);
    }
    secretHash = sha256Prefix(secret.value);

    enter(ctx, "mount", `comparing ${targets.secretFile} with Key Vault`);
    const mountError = compareFile(MOUNTED_SECRET, targets.secretFile, secret.value, targets.secretName);
    if (mountError !== undefined) {
        return fail("mount", mountError);
    }

    /** @type {{ syncedSecretMatches: true } | { syncedSecret: string }} */
    let synced = { syncedSecret: SYNCED_SECRET_NOT_MIRRORED };
    if (targets.syncedSecretFile === undefined) {
        enter(ctx, "synced", "SYNCED_SECRET_FILE is not set: the workload mirrors no Kubernetes Secret, nothing to compare");
    } else {
        enter(ctx, "synced", `comparing ${targets.syncedSecretFile}, the Kubernetes Secret the CSI driver mirrors, with Key Vault`);
        const syncedError = compareFile(MIRRORED_SECRET, targets.syncedSecretFile, secret.value, targets.secretName);
        if (syncedError !== undefined) {
            return fail("synced", syncedError);
        }
        synced = { syncedSecretMatches: true };
    }

    enter(ctx, "canary", `trying the canary secret ${targets.canarySecretName}, which nobody is granted`);
    const canarySecretRequest = { method: "GET", url: keyVaultSecretUrl(targets.keyVaultUri, targets.canarySecretName), headers: { Authorization: `Bearer ${vaultToken.value}` } };
    const canarySecret = await canaryWithRetry(ctx, "canary", canarySecretRequest);
    if (!canarySecret.ok) {
        return fail("canary", failureSentence("Key Vault", `answering for the canary secret ${targets.canarySecretName}`, canarySecret));
    }
    if (canarySecret.value === "allowed" && targets.keyVaultAuthorization === "rbac") {
        return fail("canary", `Key Vault let this identity read the canary secret ${targets.canarySecretName}, which nobody is granted: the identity reaches beyond its own secret`);
    }
    const canarySecretVerdict = canarySecret.value === "refused" ? "refused" : CANARY_READABLE_BY_DESIGN;

    enter(ctx, "token", `requesting a Storage token from ${source}`);
    const storageToken = await acquireToken(ctx, RESOURCES.storage, "Storage");
    attempts.token += storageToken.attempts;
    if (!storageToken.ok) {
        return fail("token", failureSentence(source, "a Storage token", storageToken));
    }

    const now = new Date();
    const name = blobName(config.workload, now, crypto.randomBytes(4).toString("hex"));
    const blobPath = `${targets.blobContainer}/${name}`;
    const url = blobUrl(targets.blobEndpoint, targets.blobContainer, name);
    const body = blobBody(config.workload, now, secretHash);
    const storageHeaders = { Authorization: `Bearer ${storageToken.value}`, "x-ms-version": STORAGE_API_VERSION };

    enter(ctx, "blobWrite", `writing ${blobPath}`);
    const putHeaders = { ...storageHeaders, "x-ms-blob-type": "BlockBlob", "Content-Type": "text/plain" };
    const written = await accessWithRetry(ctx, "blobWrite", { method: "PUT", url, headers: putHeaders, body }, () => true);
    attempts.blobWrite = written.attempts;
    if (!written.ok) {
        return fail("blobWrite", failureSentence("Storage", `writing blob ${blobPath}`, written));
    }

    enter(ctx, "blobRead", `reading ${blobPath} back`);
    const read = await accessWithRetry(ctx, "blobRead", { method: "GET", url, headers: storageHeaders }, (r) => r.body);
    if (!read.ok) {
        return fail("blobRead", failureSentence("Storage", `reading blob ${blobPath}`, read));
    }
    if (read.value !== body) {
        return fail("blobRead", `blob ${blobPath} read back differs from what was written`);
    }

    enter(ctx, "canary", `listing the canary container ${targets.canaryContainer}, which nobody is granted`);
    const listUrl = `${withTrailingSlash(targets.blobEndpoint)}${encodeURIComponent(targets.canaryContainer)}?restype=container&comp=list`;
    const canaryRead = await canaryWithRetry(ctx, "canary", { method: "GET", url: listUrl, headers: storageHeaders });
    if (!canaryRead.ok) {
        return fail("canary", failureSentence("Storage", `answering for the canary container ${targets.canaryContainer}`, canaryRead));
    }
    if (canaryRead.value === "allowed") {
        return fail("canary", `Storage let this identity list the canary container ${targets.canaryContainer}, which nobody is granted: the identity reaches beyond its own container`);
    }
    const canaryBlob = `${targets.canaryContainer}/${name}`;
    enter(ctx, "canary", `writing ${canaryBlob}, which must be refused`);
    const canaryWrite = await canaryWithRetry(ctx, "canary", { method: "PUT", url: blobUrl(targets.blobEndpoint, targets.canaryContainer, name), headers: putHeaders, body });
    if (!canaryWrite.ok) {
        return fail("canary", failureSentence("Storage", `answering for a write to the canary container ${targets.canaryContainer}`, canaryWrite));
    }
    if (canaryWrite.value === "allowed") {
        return fail("canary", `Storage let this identity write ${canaryBlob} into the canary container, which nobody is granted: the identity reaches beyond its own container`);
    }

    // The egress proof: with the firewall the only way out, a public address no rule admits must not answer.
    /** @type {{ egress?: "denied" | "admitted", egressProbe?: string, egressRefusal?: string }} */
    let egressFields = {};
    if (targets.egressProbe !== undefined) {
        const probe = `${targets.egressProbe.host}:${targets.egressProbe.port}`;
        enter(ctx, "egress", `connecting to ${probe}, a public address no firewall rule admits, which must not answer`);
        egressFields = egress.egressVerdict(targets.egressProbe, await ctx.probe(targets.egressProbe, config.budgets.requestTimeoutMs));
        if (egressFields.egress === "admitted") {
            return fail("egress", `${probe} answered: the cluster reaches a public address no firewall rule admits, so its egress is not limited to what the rules allow`);
        }
    }

    return {
        exitCode: EXIT.pass,
        verdict: {
            verdict: "pass",
            mode: "bound",
            tokenSource: config.tokenSource,
            workload: config.workload,
            secretSha256Prefix: secretHash,
            secretMatchesMount: true,
            ...synced,
            privatePath,
            canary: { secret: canarySecretVerdict, containerRead: "refused", containerWrite: "refused" },
            blob: blobPath,
            ...egressFields,
            attempts,
            elapsedSeconds: seconds(clock.now() - started),
        },
    };
}

/**
 * A Key Vault or Storage request, retried within the access budget: network failures, 401/403
 * (role assignments still propagating), 408, 429 and 5xx are retried, other answers are final.
 * @template T
 * @param {Context} ctx
 * @param {string} label     for progress lines
 * @param {HttpRequest} request
 * @param {(response: HttpResponse) => T} onSuccess
 * @returns {Promise<RetryResult<T>>}
 */
function accessWithRetry(ctx, label, request, onSuccess) {
    return requestWithRetry(ctx, label, request, (response) => accessAttempt(ctx, response, onSuccess));
}

/**
 * One request retried within the access budget: a network failure is retried, and `read` decides
 * what each answer means.
 * @template T
 * @param {Context} ctx
 * @param {string} label     for progress lines
 * @param {HttpRequest} request
 * @param {(response: HttpResponse) => Attempt<T>} read
 * @returns {Promise<RetryResult<T>>}
 */
function requestWithRetry(ctx, label, request, read) {
    return retryWithinBudget({
        budgetMs: ctx.config.budgets.accessMs,
        intervalMs: ctx.config.budgets.intervalMs,
        clock: ctx.clock,
        onRetry: retryLogger(ctx, label),
        attempt: async () => {
            const result = await exchange(ctx, request);
            return "failure" in result ? { kind: "retry", failure: result.failure } : read(result.response);
        },
    });
}

/**
 * Extracts (and marks as sensitive) the `value` of a Key Vault secret response.
 * @param {Context} ctx
 * @returns {(response: HttpResponse) => string | undefined}
 */
function secretValue(ctx) {
    return (response) => {
        let value;
        try {
            value = field(JSON.parse(response.body), "value");
        } catch {
            value = undefined;
        }
        if (typeof value !== "string") {
            return undefined;
        }
        ctx.reporter.remember(value);
        return value;
    };
}

/** The CSI driver's mount of the secret, as the messages name it. */
const MOUNTED_SECRET = "the mounted secret file";
/** The Kubernetes Secret the CSI driver mirrors, mounted as a volume, as the messages name it. */
const MIRRORED_SECRET = "the mirrored Kubernetes Secret's file";
/** What the verdict says when the workload mirrors no Kubernetes Secret. */
const SYNCED_SECRET_NOT_MIRRORED = "not mirrored (the workload keeps its secret in Key Vault only)";

/** What a file error code means, for the few a mounted volume gives. */
const FILE_ERRORS = Object.freeze({
    ENOENT: "no such file: is the volume mounted, and the key projected under this name?",
    EACCES: "permission denied: the volume's file mode or the pod's user keeps the verifier out",
    EISDIR: "a directory, not a file: point the variable at the key's file inside the volume",
});

/**
 * Why a file could not be read, without its content: the error code and what it usually means.
 * @param {unknown} err
 * @returns {string}
 */
function describeFileError(err) {
    const code = errorCode(err);
    if (code === undefined) {
        return "unreadable";
    }
    const meaning = /** @type {Record<string, string | undefined>} */ (FILE_ERRORS)[code];
    return meaning === undefined ? code : `${code}: ${meaning}`;
}

/**
 * Compares a file (the CSI driver's mount, or the Secret it mirrors) with the Key Vault value, byte
 * for byte; says why not, by hashes only, if not.
 * @param {string} what       e.g. MOUNTED_SECRET
 * @param {string} file
 * @param {string} expected
 * @param {string} secretName
 * @returns {string | undefined}
 */
function compareFile(what, file, expected, secretName) {
    let content;
    try {
        content = fs.readFileSync(file);
    } catch (err) {
        return `could not read ${what} ${file} (${describeFileError(err)})`;
    }
    if (content.equals(Buffer.from(expected, "utf8"))) {
        return undefined;
    }
    return `${what} ${file} (sha256 ${sha256Prefix(content)}) differs from Key Vault secret ${secretName} (sha256 ${sha256Prefix(expected)})`;
}

/**
 * `unbound` mode's reading of one token request: a token or a definitive refusal ends the loop,
 * anything else (network errors, 5xx, a 2xx without a token) is retried.
 * @param {TokenOutcome} outcome
 * @returns {Attempt<{ granted: true } | { granted: false, refusal: string }>}
 */
function unboundAttempt(outcome) {
    switch (outcome.kind) {
        case "token":
            return { kind: "ok", value: { granted: true } };
        case "noIdentity":
            return { kind: "ok", value: { granted: false, refusal: outcome.detail } };
        case "network":
            return { kind: "retry", failure: { kind: "unreachable", detail: outcome.detail } };
        case "http":
            if (classifyUnboundTokenStatus(outcome.response.status) === "refused") {
                return { kind: "ok", value: { granted: false, refusal: outcome.detail } };
            }
            return {
                kind: "retry",
                failure: { kind: "refused", detail: outcome.detail },
                retryAfterMs: parseRetryAfter(outcome.response.headers["retry-after"], Date.now()),
            };
    }
}

/**
 * `unbound` mode: a Storage token must be refused.
 * @param {Context} ctx
 * @returns {Promise<Outcome>}
 */
async function runUnbound(ctx) {
    const { config, clock, reporter } = ctx;
    const started = clock.now();
    const base = { mode: "unbound", tokenSource: config.tokenSource, workload: config.workload };
    enter(ctx, "token", `requesting a Storage token from ${tokenServiceName(config)}; it must be refused`);
    const result = await retryWithinBudget({
        budgetMs: config.budgets.tokenMs,
        intervalMs: config.budgets.intervalMs,
        clock,
        onRetry: retryLogger(ctx, "token"),
        attempt: async () => unboundAttempt(await requestToken(ctx, RESOURCES.storage)),
    });
    const tail = { attempts: { token: result.attempts }, elapsedSeconds: seconds(clock.now() - started) };
    if (!result.ok) {
        const error = `inconclusive: ${tokenServiceName(config)} gave no definitive answer within ${seconds(config.budgets.tokenMs)}s (last: ${result.failure.detail})`;
        return { exitCode: EXIT.fail, verdict: { verdict: "fail", ...base, step: "token", error: reporter.redact(error), ...tail } };
    }
    if (result.value.granted) {
        const error = "got a token without the binding: the identity is not guarded";
        return { exitCode: EXIT.fail, verdict: { verdict: "fail", ...base, step: "token", error, ...tail } };
    }
    return { exitCode: EXIT.pass, verdict: { verdict: "pass", ...base, refusal: reporter.redact(result.value.refusal), ...tail } };
}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

/**
 * A reporter that remembers sensitive values and keeps them out of everything it prints.
 * @param {(line: string) => void} writeLine
 * @returns {Reporter}
 */
function createReporter(writeLine) {
    /** @type {string[]} */
    const sensitive = [];
    /** @param {string} text */
    const redactText = (text) => redact(text, sensitive);
    return {
        remember: (value) => {
            if (value && !sensitive.includes(value)) {
                sensitive.push(value);
            }
        },
        redact: redactText,
        log: (line) => writeLine(redactText(`verifier: ${line}`)),
    };
}

/**
 * `impostor` mode (impostor.js): lends it the budgets, clock, reporter, HTTP and the helpers it
 * shares with the other modes, and turns its verdict into an outcome.
 * @param {Context} ctx
 * @param {import("./impostor").ImpostorConfig} impostorConfig
 * @returns {Promise<Outcome>}
 */
async function runImpostor(ctx, impostorConfig) {
    const { config } = ctx;
    const result = await impostor.runImpostor({
        config: impostorConfig,
        workload: config.workload,
        tokenSource: config.tokenSource,
        budgets: config.budgets,
        clock: ctx.clock,
        reporter: ctx.reporter,
        send: ctx.send,
        retry: retryWithinBudget,
        enter: (message) => enter(ctx, "impostor", message),
        helpers: { workloadIdentityTokenRequest, azureErrorCodes, describeError, errorCode, parseRetryAfter, seconds },
        tokenResource: RESOURCES.keyVault,
    });
    return { exitCode: result.pass ? EXIT.pass : EXIT.fail, verdict: result.verdict };
}

/**
 * Runs the verification for an environment and returns the verdict and exit code.
 * @param {Record<string, string | undefined>} env
 * @param {Reporter} reporter
 * @param {{ step: Step }} progress
 * @param {{ clock?: Clock, probe?: import("./egress").Probe }} [options]   the clock and the egress probe to use instead of the system's (tests)
 * @returns {Promise<Outcome>}
 */
async function verify(env, reporter, progress, options = {}) {
    const parsed = readConfig(env);
    if (!parsed.ok) {
        return {
            exitCode: EXIT.config,
            verdict: { verdict: "fail", mode: parsed.mode ?? null, step: "config", error: parsed.error, missing: parsed.missing },
        };
    }
    const config = parsed.config;
    /** @type {Map<string, string>} */
    const pinned = new Map();
    /** @type {Context} */
    const ctx = {
        config,
        clock: options.clock ?? systemClock,
        reporter,
        send: (request, timeoutMs) => sendHttp(request, timeoutMs, pinned),
        probe: options.probe ?? egress.tlsProbe,
        pinned,
        progress,
    };
    if (config.mode === "unbound") {
        return runUnbound(ctx);
    }
    if (config.mode === "impostor") {
        if (config.impostor === undefined) {
            throw new Error("impostor mode without its configuration");
        }
        return runImpostor(ctx, config.impostor);
    }
    if (config.targets === undefined) {
        throw new Error("bound mode without its targets");
    }
    return runBound(ctx, config.targets);
}

async function main() {
    const reporter = createReporter((line) => process.stderr.write(`${line}\n`));
    /** @type {{ step: Step }} */
    const progress = { step: "config" };
    /** @type {Outcome} */
    let outcome;
    try {
        outcome = await verify(process.env, reporter, progress);
    } catch (err) {
        const error = reporter.redact(`unexpected error: ${describeError(err)}`);
        outcome = { exitCode: EXIT.fail, verdict: { verdict: "fail", mode: process.env.VERIFY_MODE ?? null, step: progress.step, error } };
    }
    process.stdout.write(`${formatVerdict(outcome.verdict)}\n`, () => process.exit(outcome.exitCode));
}

module.exports = {
    RESOURCES,
    sha256Prefix,
    imdsTokenRequest,
    workloadIdentityTokenRequest,
    keyVaultSecretUrl,
    blobName,
    blobUrl,
    blobBody,
    parseRetryAfter,
    classifyAccessStatus,
    classifyUnboundTokenStatus,
    classifyCanaryStatus,
    ipv4InCidr,
    checkPrivatePath,
    azureErrorCodes,
    describeHttpFailure,
    describeError,
    redact,
    failureSentence,
    formatVerdict,
    readConfig,
    retryWithinBudget,
    sendHttp,
    createReporter,
    verify,
};

if (require.main === module) {
    void main();
}
