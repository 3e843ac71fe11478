// @ts-check
/**
 * What the Job says: the verdict, one line of JSON, the progress lines, the secret that is never
 * printed, and the exit codes. Node standard library only.
 */
"use strict";

/** @typedef {import("./types").Context} Context */
/** @typedef {import("./types").Failure} Failure */
/** @typedef {import("./types").Reporter} Reporter */
/** @typedef {import("./types").Step} Step */

const crypto = require("crypto");

const EXIT = Object.freeze({ pass: 0, fail: 1, config: 2 });

/**
 * First 12 hex characters of the sha256 of a value: enough to identify it, useless to recover it.
 * @param {string | Buffer} value
 * @returns {string}
 */
function sha256Prefix(value) {
    return crypto.createHash("sha256").update(value).digest("hex").slice(0, 12);
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

module.exports = { EXIT, sha256Prefix, redact, seconds, failureSentence, formatVerdict, enter, createReporter };
