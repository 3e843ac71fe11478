// @ts-check
/**
 * The token paths: the instance metadata endpoint (pod identity, through NMI) and Microsoft Entra
 * ID with a federated service-account token (Workload ID). Node standard library only.
 */
"use strict";

/** @typedef {import("./types").Config} Config */
/** @typedef {import("./types").Context} Context */
/** @typedef {import("./types").HttpRequest} HttpRequest */
/** @typedef {import("./types").HttpResponse} HttpResponse */
/**
 * @template T
 * @typedef {import("./types").RetryResult<T>} RetryResult
 */

const fs = require("fs");
const { exchange } = require("./dataPlane");
const { retryWithinBudget, retryLogger } = require("./retry");
const { withTrailingSlash, withoutTrailingSlash, parseRetryAfter, field, describeHttpFailure, errorCode } = require("./http");

/** Token audiences of the two data planes. */
const RESOURCES = Object.freeze({
    keyVault: "https://vault.azure.net",
    storage: "https://storage.azure.com",
});

const DEFAULT_IMDS_ENDPOINT = "http://169.254.169.254";

const IMDS_API_VERSION = "2018-02-01";

const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

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

module.exports = {
    RESOURCES,
    DEFAULT_IMDS_ENDPOINT,
    IMDS_API_VERSION,
    JWT_BEARER_ASSERTION_TYPE,
    imdsTokenRequest,
    workloadIdentityTokenRequest,
    classifyUnboundTokenStatus,
    tokenServiceName,
    buildTokenRequest,
    requestToken,
    acquireToken,
};
