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
 * The flows of the three modes live here; what they use is in the sibling modules (config, tokens,
 * privatePath, dataPlane, canary, mount, egress, impostor, report, http, retry; types.js holds the
 * shared JSDoc types).
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

/** @typedef {import("./tokens").TokenOutcome} TokenOutcome */

/**
 * @template T
 * @typedef {import("./types").Attempt<T>} Attempt
 */
/** @typedef {import("./types").BoundTargets} BoundTargets */
/** @typedef {import("./types").Clock} Clock */
/** @typedef {import("./types").Context} Context */
/** @typedef {import("./types").Outcome} Outcome */
/** @typedef {import("./types").Reporter} Reporter */
/** @typedef {import("./types").Step} Step */

const crypto = require("crypto");
const net = require("net");
const egress = require("./egress");
const impostor = require("./impostor");
const { RESOURCES, imdsTokenRequest, workloadIdentityTokenRequest, classifyUnboundTokenStatus, tokenServiceName, requestToken, acquireToken } = require("./tokens");
const { STORAGE_API_VERSION, keyVaultSecretUrl, blobName, blobUrl, blobBody, classifyAccessStatus, accessWithRetry } = require("./dataPlane");
const { readConfig } = require("./config");
const { systemClock, retryWithinBudget, retryLogger } = require("./retry");
const { withTrailingSlash, parseRetryAfter, azureErrorCodes, describeHttpFailure, errorCode, describeError, sendHttp } = require("./http");
const { EXIT, sha256Prefix, redact, seconds, failureSentence, formatVerdict, enter, createReporter } = require("./report");
const { classifyCanaryStatus, canaryWithRetry, CANARY_READABLE_BY_DESIGN } = require("./canary");
const { ipv4InCidr, checkPrivatePath, checkPrivatePathWithRetry } = require("./privatePath");
const { secretValue, MOUNTED_SECRET, MIRRORED_SECRET, SYNCED_SECRET_NOT_MIRRORED, compareFile } = require("./mount");

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

/**
 * The Job's run: verifies `env`, writes the progress lines with `writeProgress`, and returns the exit
 * code and the one line of the verdict. An unexpected error is a failing verdict at the step it
 * happened in, redacted like every other line.
 * @param {Record<string, string | undefined>} env
 * @param {(line: string) => void} writeProgress
 * @param {{ clock?: Clock, probe?: import("./egress").Probe }} [options]   as verify's
 * @returns {Promise<{ exitCode: number, verdictLine: string }>}
 */
async function run(env, writeProgress, options = {}) {
    const reporter = createReporter(writeProgress);
    /** @type {{ step: Step }} */
    const progress = { step: "config" };
    /** @type {Outcome} */
    let outcome;
    try {
        outcome = await verify(env, reporter, progress, options);
    } catch (err) {
        const error = reporter.redact(`unexpected error: ${describeError(err)}`);
        outcome = { exitCode: EXIT.fail, verdict: { verdict: "fail", mode: env.VERIFY_MODE ?? null, step: progress.step, error } };
    }
    return { exitCode: outcome.exitCode, verdictLine: formatVerdict(outcome.verdict) };
}

async function main() {
    const { exitCode, verdictLine } = await run(process.env, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${verdictLine}\n`, () => process.exit(exitCode));
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
    run,
};

if (require.main === module) {
    void main();
}
