// @ts-check
/**
 * Key Vault and Storage: their URLs and API versions, and a data-plane request retried while grants
 * propagate. Node standard library only.
 */
"use strict";

/**
 * @template T
 * @typedef {import("./types").Attempt<T>} Attempt
 */
/** @typedef {import("./types").Context} Context */
/** @typedef {import("./types").Failure} Failure */
/** @typedef {import("./types").HttpRequest} HttpRequest */
/** @typedef {import("./types").HttpResponse} HttpResponse */
/**
 * @template T
 * @typedef {import("./types").RetryResult<T>} RetryResult
 */

const { retryWithinBudget, retryLogger } = require("./retry");
const { withTrailingSlash, parseRetryAfter, describeHttpFailure, describeError } = require("./http");

const KEYVAULT_API_VERSION = "7.4";

const STORAGE_API_VERSION = "2021-12-02";

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
    return ["aks-identity-vault verifier", `workload: ${workload}`, `time: ${time.toISOString()}`, `secretSha256Prefix: ${secretHash}`, ""].join("\n");
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

module.exports = { KEYVAULT_API_VERSION, STORAGE_API_VERSION, keyVaultSecretUrl, blobName, blobUrl, blobBody, classifyAccessStatus, exchange, accessAttempt, accessWithRetry, requestWithRetry };
