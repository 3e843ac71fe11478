// @ts-check
/**
 * The canary, which nobody is granted: the answers that mean refused, and what the verdict says
 * when access policies make it readable by design. Node standard library only.
 */
"use strict";

/** @typedef {import("./types").Context} Context */
/** @typedef {import("./types").Failure} Failure */
/** @typedef {import("./types").HttpRequest} HttpRequest */
/**
 * @template T
 * @typedef {import("./types").RetryResult<T>} RetryResult
 */

const { requestWithRetry } = require("./dataPlane");
const { parseRetryAfter, describeHttpFailure } = require("./http");
const { secretValue } = require("./mount");

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
const CANARY_READABLE_BY_DESIGN =
    "readable by design: access policies apply to the whole vault (keyVaultAuthorization accessPolicy), so every workload reads the canary secret; use rbac to confine each identity to its own secret";

module.exports = { classifyCanaryStatus, canaryWithRetry, CANARY_READABLE_BY_DESIGN };
