// @ts-check
/**
 * The Job's configuration, read from its environment: every missing or invalid variable named in
 * one verdict. Node standard library only.
 */
"use strict";

/** @typedef {import("./types").BoundTargets} BoundTargets */
/** @typedef {import("./types").ConfigResult} ConfigResult */
/** @typedef {import("./types").KeyVaultAuthorization} KeyVaultAuthorization */
/** @typedef {import("./types").Mode} Mode */
/** @typedef {import("./types").TokenSource} TokenSource */

const egress = require("./egress");
const impostor = require("./impostor");
const { DEFAULT_IMDS_ENDPOINT } = require("./tokens");
const { parseIpv4Cidr } = require("./privatePath");

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

module.exports = { DEFAULT_SECONDS, nonEmpty, isHttpUrl, alternatives, envReader, readBoundTargets, probeTarget, readConfig };
