// @ts-check
/**
 * Retrying within a budget: an injected clock, the pause between attempts, Retry-After honoured,
 * never sleeping past the budget. Node standard library only.
 */
"use strict";

/**
 * @template T
 * @typedef {import("./types").Attempt<T>} Attempt
 */
/** @typedef {import("./types").Clock} Clock */
/** @typedef {import("./types").Context} Context */
/** @typedef {import("./types").Failure} Failure */
/**
 * @template T
 * @typedef {import("./types").RetryResult<T>} RetryResult
 */

const { seconds } = require("./report");

/** Shortest pause between two attempts, so a zero interval cannot spin. */
const MIN_WAIT_MS = 10;

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

/**
 * @param {Context} ctx
 * @param {string} what
 * @returns {(attempt: number, failure: Failure, waitMs: number, remainingMs: number) => void}
 */
function retryLogger(ctx, what) {
    return (attempt, failure, waitMs, remainingMs) => ctx.reporter.log(`${what}: attempt ${attempt} failed (${failure.detail}); retrying in ${seconds(waitMs)}s, ${seconds(remainingMs)}s left`);
}

module.exports = { MIN_WAIT_MS, systemClock, retryWithinBudget, retryLogger };
