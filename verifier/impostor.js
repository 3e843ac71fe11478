// @ts-check
/**
 * The verifier's `impostor` mode: another tenant of the cluster tries to take a workload's identity,
 * and every attempt must be refused by the guard that is there to refuse it.
 *
 * The impostor runs in a namespace of its own, as a service account that may create pods and the
 * aad-pod-identity objects there (by dry run) and nothing more. Each write is a server-side dry run
 * (`?dryRun=All`): admission judges it as it would the real write, and the API server stores nothing.
 *  - labelledPod: a pod that meets Pod Security Standards `restricted`, labelled
 *    `aadpodidbinding=<the workload's selector>`, which NMI would hand the workload's tokens;
 *    LABEL_GUARD_POLICY must refuse it.
 *  - azureIdentity, azureIdentityBinding: an AzureIdentity naming the workload's identity, and a
 *    binding of it to the workload's selector, which MIC would assign to the impostor's pods;
 *    CRD_GUARD_POLICY must refuse both.
 *  - podIdentityException: an AzurePodIdentityException, which lets the pods it matches past NMI to
 *    the node's metadata endpoint and every identity assigned to the node; CRD_GUARD_POLICY must
 *    refuse it.
 *  - tokenExchange (Workload ID): the impostor's own projected service-account token offered to
 *    Microsoft Entra ID for the workload's client id; Entra must refuse it for want of a federated
 *    credential that trusts the impostor's service account.
 *
 * A refusal counts only when it comes from the guard meant to give it. The API server words a
 * ValidatingAdmissionPolicy's denial as
 *   `<resource> "<name>" is forbidden: ValidatingAdmissionPolicy '<policy>' with binding '<binding>'
 *   denied request: <message>`
 * (kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/validating/
 * dispatcher.go, `Dispatch`, through admission.NewForbidden in staging/src/k8s.io/apiserver/pkg/
 * admission/errors.go), with the HTTP status of the validation's `reason` (403 for Forbidden, 422
 * when it gives none). RBAC's refusal reads `<resource> is forbidden: User "<user>" cannot create
 * resource "<resource>" in API group "<group>" in the namespace "<namespace>"` (staging/src/k8s.io/
 * apiserver/pkg/endpoints/handlers/responsewriters/errors.go): then the impostor lacked the right
 * to try, and the attempt proves nothing. An admitted write, a kind the API server does not serve
 * (404), a refusal by another policy or for another reason, and no answer within the budget are
 * failures too, each said as such.
 *
 * Node standard library only. It needs nothing of verifier.js but what it is handed (the
 * ImpostorContext): verifier.js requires this module, never the other way round.
 */
"use strict";

const fs = require("fs");

/** The checks IMPOSTOR_CHECKS may name, in the order they run. */
const CHECKS = Object.freeze(/** @type {const} */ (["labelledPod", "azureIdentity", "podIdentityException", "tokenExchange"]));

/** The checks that write to the Kubernetes API. */
const KUBE_CHECKS = Object.freeze(/** @type {const} */ (["labelledPod", "azureIdentity", "podIdentityException"]));

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com/";
/** The labelled pod's image when VERIFIER_IMAGE is not set: a dry run never pulls it. */
const DEFAULT_IMAGE = "registry.k8s.io/pause:3.10";
const AAD_POD_IDENTITY_API = "/apis/aadpodidentity.k8s.io/v1";
/** Longest message of the API server the verdict repeats. */
const MESSAGE_LIMIT = 300;
/** How the verdict names Entra as the refuser of the token exchange. */
const ENTRA = "Entra ID";

/**
 * Entra's refusals of an assertion no federated identity credential trusts: AADSTS70021 ("No
 * matching federated identity record found for presented assertion"), and the codes that narrow it
 * to the assertion's issuer, audience or subject (AADSTS700211, 700212, 700213), as Entra has
 * answered (Azure/azure-workload-identity docs, troubleshooting, for AADSTS70021; the narrower codes
 * as quoted in Azure/azure-workload-identity and hashicorp/terraform-provider-azurerm issues).
 */
const FEDERATION_REFUSALS = Object.freeze(["AADSTS70021", "AADSTS700211", "AADSTS700212", "AADSTS700213"]);

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {typeof CHECKS[number]} Check
 * @typedef {"labelledPod" | "azureIdentity" | "azureIdentityBinding" | "podIdentityException" | "tokenExchange"} AttemptName
 *
 * @typedef {object} KubeApiConfig
 * @property {string} url         `https://host:port` of the API server
 * @property {string} tokenFile   the impostor's service-account token, read afresh for every request
 * @property {string} caFile      the cluster's CA bundle
 *
 * @typedef {object} EntraConfig
 * @property {string} authorityHost
 * @property {string} tenantId
 * @property {string} tokenFile   the impostor's own projected token (audience api://AzureADTokenExchange)
 *
 * What IMPOSTOR_* and the rest of the impostor's environment say; a field no asked check needs is "".
 * @typedef {object} ImpostorConfig
 * @property {Check[]} checks
 * @property {string} namespace            the impostor's own namespace
 * @property {string} targetNamespace      the workload's namespace
 * @property {string} bindingSelector      the workload's aadpodidbinding value
 * @property {string} identityResourceId   the workload identity's ARM id
 * @property {string} targetClientId       the workload identity's client id
 * @property {string} labelGuardPolicy
 * @property {string} crdGuardPolicy
 * @property {string} image                the labelled pod's image
 * @property {KubeApiConfig | undefined} kubeApi   when a check writes to the API server
 * @property {EntraConfig | undefined} entra       when tokenExchange is asked
 *
 * The part of verifier.js's environment reader this module uses.
 * @typedef {object} EnvReader
 * @property {string[]} missing
 * @property {string[]} invalid
 * @property {(name: string) => string | undefined} optional
 * @property {(name: string) => string} required
 * @property {<T extends string | undefined>(name: string, value: T) => T} checkUrl
 *
 * @typedef {object} HttpRequest
 * @property {string} method
 * @property {string} url
 * @property {Record<string, string>} headers
 * @property {string} [body]
 * @property {string} [ca]
 *
 * @typedef {object} HttpResponse
 * @property {number} status
 * @property {string} statusText
 * @property {import("http").IncomingHttpHeaders} headers
 * @property {string} body
 *
 * @typedef {object} Failure
 * @property {"refused" | "unreachable" | "local"} kind
 * @property {string} detail
 *
 * @typedef {object} Clock
 * @property {() => number} now
 * @property {(ms: number) => Promise<void>} sleep
 *
 * @typedef {object} Reporter
 * @property {(value: string) => void} remember
 * @property {(text: string) => string} redact
 * @property {(line: string) => void} log
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
 * @template T
 * @typedef {object} RetryOptions
 * @property {number} budgetMs
 * @property {number} intervalMs
 * @property {(attempt: number) => Promise<Attempt<T>>} attempt
 * @property {(attempt: number, failure: Failure, waitMs: number, remainingMs: number) => void} [onRetry]
 * @property {Clock} [clock]
 */

/**
 * What verifier.js lends the impostor.
 * @typedef {object} ImpostorContext
 * @property {ImpostorConfig} config
 * @property {string} workload
 * @property {string} tokenSource
 * @property {{ tokenMs: number, accessMs: number, intervalMs: number, requestTimeoutMs: number, tokenRequestTimeoutMs: number }} budgets
 * @property {Clock} clock
 * @property {Reporter} reporter
 * @property {(request: HttpRequest, timeoutMs: number) => Promise<HttpResponse>} send
 * @property {<T>(options: RetryOptions<T>) => Promise<RetryResult<T>>} retry   runs an attempt until it succeeds, stops or the budget is spent
 * @property {(message: string) => void} enter   marks (and logs) the impostor step under way
 * @property {string} tokenResource   the audience the token exchange asks a token for
 * @property {object} helpers
 * @property {(input: { authorityHost: string, tenantId: string, clientId: string, resource: string, assertion: string }) => HttpRequest} helpers.workloadIdentityTokenRequest
 * @property {(body: string, headers: import("http").IncomingHttpHeaders) => string[]} helpers.azureErrorCodes
 * @property {(err: unknown) => string} helpers.describeError
 * @property {(err: unknown) => string | undefined} helpers.errorCode
 * @property {(value: string | string[] | undefined, nowMs: number) => number | undefined} helpers.parseRetryAfter
 * @property {(ms: number) => number} helpers.seconds
 *
 * One attempt's line in the verdict: `refusedBy` when the guard meant to refuse it did, `error` when
 * not (then the attempt proves the identity unguarded, or proves nothing).
 * @typedef {object} AttemptRecord
 * @property {AttemptName} attempt
 * @property {number | null} status   the last HTTP status, null when none came
 * @property {string} [refusedBy]     the ValidatingAdmissionPolicy, or "Entra ID"
 * @property {string} [binding]       the policy binding the denial names
 * @property {string} [code]          Entra's AADSTS code
 * @property {string} [message]       the policy's words when it refused, else the API server's message; redacted and trimmed
 * @property {string} [error]
 *
 * One write the impostor tries.
 * @typedef {object} KubeAttempt
 * @property {AttemptName} name
 * @property {string} what         e.g. `pod impostor-alpha labelled aadpodidbinding=alpha`
 * @property {string} resource     the collection, e.g. `pods`, `azureidentities.aadpodidentity.k8s.io`
 * @property {string} path         API path of the collection in the impostor's namespace
 * @property {Record<string, unknown>} object
 * @property {string} policy       the ValidatingAdmissionPolicy that must refuse it
 * @property {string} policyVariable   the variable that names it
 *
 * How the API server answered one write: a refusal's message is the policy's own words (its
 * name and binding are apart), any other answer's the whole of the Status message.
 * @typedef {{ kind: "refused", policy: string, binding: string | undefined, message: string }
 *   | { kind: "otherPolicy", policy: string, message: string }
 *   | { kind: "admitted" }
 *   | { kind: "rbac", message: string }
 *   | { kind: "notServed", message: string }
 *   | { kind: "retry", message: string }
 *   | { kind: "other", message: string }} AdmissionAnswer
 */

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/**
 * IMPOSTOR_CHECKS as a list in the order the checks run; an unknown name or an empty list is invalid.
 * @param {EnvReader} read
 * @returns {Check[]}
 */
function readChecks(read) {
    const text = read.required("IMPOSTOR_CHECKS");
    const names = text
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n !== "");
    const unknown = names.filter((n) => !(/** @type {readonly string[]} */ (CHECKS).includes(n)));
    const allowed = CHECKS.map((c) => `'${c}'`).join(", ");
    if (unknown.length > 0) {
        const plural = unknown.length > 1 ? "s" : "";
        read.invalid.push(`IMPOSTOR_CHECKS names unknown check${plural} ${unknown.map((n) => `'${n}'`).join(", ")} (allowed: ${allowed})`);
    } else if (text !== "" && names.length === 0) {
        read.invalid.push(`IMPOSTOR_CHECKS names no check (allowed: ${allowed}, comma-separated)`);
    }
    return CHECKS.filter((c) => names.includes(c));
}

/**
 * The API server's URL: KUBE_API_URL, or https on KUBERNETES_SERVICE_HOST and _PORT as the kubelet
 * sets them in every pod.
 * @param {EnvReader} read
 * @returns {string}
 */
function readKubeApiUrl(read) {
    const explicit = read.checkUrl("KUBE_API_URL", read.optional("KUBE_API_URL"));
    if (explicit !== undefined) {
        return explicit;
    }
    const host = read.required("KUBERNETES_SERVICE_HOST");
    const port = read.required("KUBERNETES_SERVICE_PORT");
    if (port !== "" && !/^\d{1,5}$/.test(port)) {
        read.invalid.push(`KUBERNETES_SERVICE_PORT must be a port number (got '${port}')`);
    }
    return `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Reads the `impostor` mode's environment; what is missing or invalid lands in `read`.
 * @param {EnvReader} read
 * @returns {ImpostorConfig}
 */
function readImpostorConfig(read) {
    const checks = readChecks(read);
    /** @param {readonly Check[]} names */
    const asks = (names) => names.some((n) => checks.includes(n));
    /**
     * @param {boolean} needed
     * @param {string} name
     */
    const neededIf = (needed, name) => (needed ? read.required(name) : (read.optional(name) ?? ""));

    const namespace = read.required("IMPOSTOR_NAMESPACE");
    const targetNamespace = read.required("TARGET_NAMESPACE");
    if (namespace !== "" && namespace === targetNamespace) {
        read.invalid.push(`IMPOSTOR_NAMESPACE must differ from TARGET_NAMESPACE (both '${namespace}'): the impostor plays another tenant of the cluster`);
    }
    const config = {
        checks,
        namespace,
        targetNamespace,
        bindingSelector: neededIf(asks(["labelledPod", "azureIdentity"]), "BINDING_SELECTOR"),
        identityResourceId: neededIf(asks(["azureIdentity"]), "IDENTITY_RESOURCE_ID"),
        targetClientId: neededIf(asks(["azureIdentity", "tokenExchange"]), "TARGET_CLIENT_ID"),
        labelGuardPolicy: neededIf(asks(["labelledPod"]), "LABEL_GUARD_POLICY"),
        crdGuardPolicy: neededIf(asks(["azureIdentity", "podIdentityException"]), "CRD_GUARD_POLICY"),
        image: read.optional("VERIFIER_IMAGE") ?? DEFAULT_IMAGE,
        /** @type {KubeApiConfig | undefined} */
        kubeApi: undefined,
        /** @type {EntraConfig | undefined} */
        entra: undefined,
    };
    if (asks(KUBE_CHECKS)) {
        config.kubeApi = {
            url: readKubeApiUrl(read),
            tokenFile: read.optional("KUBE_TOKEN_FILE") ?? `${SERVICE_ACCOUNT_DIR}/token`,
            caFile: read.optional("KUBE_CA_FILE") ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`,
        };
    }
    if (asks(["tokenExchange"])) {
        config.entra = {
            // verifier.js checks AZURE_AUTHORITY_HOST is a URL in every mode.
            authorityHost: read.optional("AZURE_AUTHORITY_HOST") ?? DEFAULT_AUTHORITY_HOST,
            tenantId: read.required("AZURE_TENANT_ID"),
            tokenFile: read.required("IMPOSTOR_TOKEN_FILE"),
        };
    }
    return config;
}

// ---------------------------------------------------------------------------------------------
// The writes and how their answers read (pure)
// ---------------------------------------------------------------------------------------------

/**
 * The labelled pod: it meets Pod Security Standards `restricted`, so that only the label guard has a
 * reason to refuse it.
 * @param {ImpostorConfig} config
 * @param {string} name
 * @returns {Record<string, unknown>}
 */
function labelledPod(config, name) {
    const seccompProfile = { type: "RuntimeDefault" };
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: config.namespace, labels: { app: "impostor", aadpodidbinding: config.bindingSelector } },
        spec: {
            automountServiceAccountToken: false,
            restartPolicy: "Never",
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile },
            containers: [
                {
                    name: "impostor",
                    image: config.image,
                    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, runAsNonRoot: true, seccompProfile },
                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
                },
            ],
        },
    };
}

/**
 * An aad-pod-identity object in the impostor's namespace.
 * @param {ImpostorConfig} config
 * @param {string} kind
 * @param {string} name
 * @param {Record<string, unknown>} spec
 * @returns {Record<string, unknown>}
 */
function podIdentityObject(config, kind, name, spec) {
    return { apiVersion: "aadpodidentity.k8s.io/v1", kind, metadata: { name, namespace: config.namespace, labels: { app: "impostor" } }, spec };
}

/**
 * The writes the asked checks make, in order. Exported for testing.
 * @param {ImpostorConfig} config
 * @param {string} workload
 * @returns {KubeAttempt[]}
 */
function kubeAttempts(config, workload) {
    const ns = encodeURIComponent(config.namespace);
    const base = `impostor-${workload}`;
    /** @param {string} plural */
    const crdPath = (plural) => `${AAD_POD_IDENTITY_API}/namespaces/${ns}/${plural}`;
    /** @type {KubeAttempt[]} */
    const attempts = [];
    if (config.checks.includes("labelledPod")) {
        attempts.push({
            name: "labelledPod",
            what: `pod ${base} labelled aadpodidbinding=${config.bindingSelector}`,
            resource: "pods",
            path: `/api/v1/namespaces/${ns}/pods`,
            object: labelledPod(config, base),
            policy: config.labelGuardPolicy,
            policyVariable: "LABEL_GUARD_POLICY",
        });
    }
    if (config.checks.includes("azureIdentity")) {
        const crd = { policy: config.crdGuardPolicy, policyVariable: "CRD_GUARD_POLICY" };
        attempts.push({
            name: "azureIdentity",
            what: `AzureIdentity ${base} naming the workload's identity`,
            resource: "azureidentities.aadpodidentity.k8s.io",
            path: crdPath("azureidentities"),
            object: podIdentityObject(config, "AzureIdentity", base, { type: 0, resourceID: config.identityResourceId, clientID: config.targetClientId }),
            ...crd,
        });
        attempts.push({
            name: "azureIdentityBinding",
            what: `AzureIdentityBinding ${base}-binding to selector ${config.bindingSelector}`,
            resource: "azureidentitybindings.aadpodidentity.k8s.io",
            path: crdPath("azureidentitybindings"),
            object: podIdentityObject(config, "AzureIdentityBinding", `${base}-binding`, { azureIdentity: base, selector: config.bindingSelector }),
            ...crd,
        });
    }
    if (config.checks.includes("podIdentityException")) {
        attempts.push({
            name: "podIdentityException",
            what: `AzurePodIdentityException ${base}-exception`,
            resource: "azurepodidentityexceptions.aadpodidentity.k8s.io",
            path: crdPath("azurepodidentityexceptions"),
            object: podIdentityObject(config, "AzurePodIdentityException", `${base}-exception`, { podLabels: { app: "impostor" } }),
            policy: config.crdGuardPolicy,
            policyVariable: "CRD_GUARD_POLICY",
        });
    }
    return attempts;
}

/** `ValidatingAdmissionPolicy '<policy>' [with binding '<binding>'] denied request: <message>` (dispatcher.go). */
const POLICY_DENIAL = /ValidatingAdmissionPolicy '([^']*)'(?: with binding '([^']*)')? denied request: /;
/** An authorizer's refusal of a resource request (responsewriters/errors.go, forbiddenMessage). */
const AUTHORIZER_REFUSAL = /\bUser "[^"]*" cannot \S+ resource "/;

/**
 * The ValidatingAdmissionPolicy and binding a denial names, and the policy's own words (its
 * validation's message), if the message is one.
 * @param {string} message
 * @returns {{ policy: string, binding: string | undefined, message: string } | undefined}
 */
function parsePolicyDenial(message) {
    const match = POLICY_DENIAL.exec(message);
    return match === null ? undefined : { policy: match[1], binding: match[2], message: message.slice(match.index + match[0].length) };
}

/**
 * The `message` of a Kubernetes Status body, or "".
 * @param {string} body
 * @returns {string}
 */
function statusMessage(body) {
    try {
        /** @type {unknown} */
        const parsed = JSON.parse(body);
        const message = parsed !== null && typeof parsed === "object" ? /** @type {Record<string, unknown>} */ (parsed).message : undefined;
        return typeof message === "string" ? message : "";
    } catch {
        return "";
    }
}

/**
 * How the API server answered a dry-run write that `policy` must refuse. A policy's denial is known
 * by its wording, whatever its status (the policy's `reason` chooses it); 408, 429 and 5xx give no
 * answer yet. Exported for testing.
 * @param {number} status
 * @param {string} body
 * @param {string} policy
 * @returns {AdmissionAnswer}
 */
function readAdmissionAnswer(status, body, policy) {
    const message = statusMessage(body);
    if (status >= 200 && status < 300) {
        return { kind: "admitted" };
    }
    if (status === 408 || status === 429 || status >= 500) {
        return { kind: "retry", message };
    }
    const denial = parsePolicyDenial(message);
    if (denial !== undefined) {
        return denial.policy === policy ? { kind: "refused", policy, binding: denial.binding, message: denial.message } : { kind: "otherPolicy", policy: denial.policy, message };
    }
    if (status === 403 && AUTHORIZER_REFUSAL.test(message)) {
        return { kind: "rbac", message };
    }
    if (status === 404) {
        return { kind: "notServed", message };
    }
    return { kind: "other", message };
}

/**
 * @param {string} text
 * @param {number} limit
 * @returns {string}
 */
function trimTo(text, limit) {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > limit ? `${flat.slice(0, limit - 3)}...` : flat;
}

// ---------------------------------------------------------------------------------------------
// The attempts
// ---------------------------------------------------------------------------------------------

/**
 * A dry-run create of `object` at `path`, with the service-account token and the cluster's CA read
 * from their files now (projected tokens rotate), or why it cannot be made.
 * @param {ImpostorContext} ctx
 * @param {KubeApiConfig} kubeApi
 * @param {KubeAttempt} write
 * @returns {HttpRequest | { local: string }}
 */
function kubeCreateRequest(ctx, kubeApi, write) {
    /** @param {string} file @param {string} what */
    const readFile = (file, what) => {
        try {
            const text = fs.readFileSync(file, "utf8");
            return text.trim() === "" ? { error: `${what} ${file} is empty` } : { text };
        } catch (err) {
            return { error: `could not read ${what} ${file} (${ctx.helpers.errorCode(err) ?? "unreadable"})` };
        }
    };
    const token = readFile(kubeApi.tokenFile, "the service-account token");
    if (token.text === undefined) {
        return { local: token.error };
    }
    const bearer = token.text.trim();
    ctx.reporter.remember(bearer);
    const ca = readFile(kubeApi.caFile, "the cluster's CA");
    if (ca.text === undefined) {
        return { local: ca.error };
    }
    return {
        method: "POST",
        url: `${kubeApi.url.replace(/\/+$/, "")}${write.path}?dryRun=All`,
        headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(write.object),
        ca: ca.text,
    };
}

/**
 * @param {ImpostorContext} ctx
 * @param {AttemptName} name
 * @returns {(attempt: number, failure: Failure, waitMs: number, remainingMs: number) => void}
 */
function retryLogger(ctx, name) {
    const { seconds } = ctx.helpers;
    return (attempt, failure, waitMs, remainingMs) =>
        ctx.reporter.log(`impostor: ${name}: attempt ${attempt} failed (${failure.detail}); retrying in ${seconds(waitMs)}s, ${seconds(remainingMs)}s left`);
}

/**
 * One dry-run write, retried within the access budget while the API server gives no answer; the
 * answer read against the policy that must refuse it.
 * @param {ImpostorContext} ctx
 * @param {KubeApiConfig} kubeApi
 * @param {KubeAttempt} write
 * @returns {Promise<AttemptRecord>}
 */
async function tryWrite(ctx, kubeApi, write) {
    const { reporter, budgets, helpers } = ctx;
    ctx.enter(`${write.name}: creating (dry run) ${write.what} in namespace ${ctx.config.namespace}; ValidatingAdmissionPolicy '${write.policy}' must refuse it`);
    /** @type {number | null} */
    let lastStatus = null;
    const result = await ctx.retry({
        budgetMs: budgets.accessMs,
        intervalMs: budgets.intervalMs,
        clock: ctx.clock,
        onRetry: retryLogger(ctx, write.name),
        attempt: async () => {
            const request = kubeCreateRequest(ctx, kubeApi, write);
            if ("local" in request) {
                return { kind: "stop", failure: { kind: "local", detail: reporter.redact(request.local) } };
            }
            let response;
            try {
                response = await ctx.send(request, budgets.requestTimeoutMs);
            } catch (err) {
                return { kind: "retry", failure: { kind: "unreachable", detail: reporter.redact(helpers.describeError(err)) } };
            }
            lastStatus = response.status;
            const answer = readAdmissionAnswer(response.status, response.body, write.policy);
            if (answer.kind !== "retry") {
                return { kind: "ok", value: { status: response.status, answer } };
            }
            const said = answer.message === "" ? "" : `: ${trimTo(reporter.redact(answer.message), 120)}`;
            return {
                kind: "retry",
                failure: { kind: "refused", detail: `HTTP ${response.status}${said}` },
                retryAfterMs: helpers.parseRetryAfter(response.headers["retry-after"], Date.now()),
            };
        },
    });
    const record = writeRecord(ctx, write, result, lastStatus);
    reporter.log(`impostor: ${write.name}: ${record.error === undefined ? `refused by ValidatingAdmissionPolicy '${record.refusedBy}'` : `NOT properly refused: ${record.error}`}`);
    return record;
}

/**
 * The verdict's line for one write.
 * @param {ImpostorContext} ctx
 * @param {KubeAttempt} write
 * @param {RetryResult<{ status: number, answer: AdmissionAnswer }>} result
 * @param {number | null} lastStatus
 * @returns {AttemptRecord}
 */
function writeRecord(ctx, write, result, lastStatus) {
    const { reporter, helpers } = ctx;
    const guard = `ValidatingAdmissionPolicy '${write.policy}' (${write.policyVariable})`;
    if (!result.ok) {
        const tries = result.attempts === 1 ? "1 attempt" : `${result.attempts} attempts`;
        const error =
            result.failure.kind === "local"
                ? `${write.what} could not be tried: ${result.failure.detail}`
                : `inconclusive: the API server gave no answer to ${write.what} within ${helpers.seconds(result.elapsedMs)}s (${tries}; last: ${result.failure.detail})`;
        return { attempt: write.name, status: lastStatus, error: reporter.redact(error) };
    }
    const { status, answer } = result.value;
    const message = "message" in answer && answer.message !== "" ? { message: trimTo(reporter.redact(answer.message), MESSAGE_LIMIT) } : {};
    /** @param {string} error */
    const failed = (error) => ({ attempt: write.name, status, error: reporter.redact(error), ...message });
    switch (answer.kind) {
        case "refused":
            return { attempt: write.name, status, refusedBy: answer.policy, ...(answer.binding === undefined ? {} : { binding: answer.binding }), ...message };
        case "admitted":
            return failed(`the API server admitted ${write.what} (HTTP ${status}, dry run): ${guard} did not refuse it`);
        case "otherPolicy":
            return failed(`${write.what} was refused by ValidatingAdmissionPolicy '${answer.policy}', not by ${guard}: the attempt proves nothing of the guard`);
        case "rbac":
            return failed(
                `${write.what} was refused by the authorizer (RBAC), not by ${guard}: the impostor lacks the right to create ${write.resource} in namespace ${ctx.config.namespace}, so the attempt proves nothing`,
            );
        case "notServed":
            return failed(`the API server does not serve ${write.resource} (HTTP 404): ${write.what} could not be tried, so the attempt proves nothing`);
        default:
            return failed(`the API server refused ${write.what} with HTTP ${status}, but not through ${guard}`);
    }
}

/**
 * What Entra answered the token exchange.
 * @typedef {{ granted: true, status: number } | { granted: false, status: number, codes: string[] }} ExchangeAnswer
 */

/**
 * The impostor's own token offered to Entra for the workload's client id, retried within the token
 * budget while Entra gives no answer.
 * @param {ImpostorContext} ctx
 * @param {EntraConfig} entra
 * @returns {Promise<AttemptRecord>}
 */
async function tryTokenExchange(ctx, entra) {
    const { reporter, budgets, helpers, config } = ctx;
    ctx.enter(`tokenExchange: offering the impostor's own service-account token to ${ENTRA} for client id ${config.targetClientId}; it must be refused`);
    /** @type {number | null} */
    let lastStatus = null;
    const result = await ctx.retry({
        budgetMs: budgets.tokenMs,
        intervalMs: budgets.intervalMs,
        clock: ctx.clock,
        onRetry: retryLogger(ctx, "tokenExchange"),
        attempt: async () => {
            let assertion;
            try {
                assertion = fs.readFileSync(entra.tokenFile, "utf8").trim();
            } catch (err) {
                return { kind: "stop", failure: { kind: "local", detail: `could not read the impostor's token ${entra.tokenFile} (${helpers.errorCode(err) ?? "unreadable"})` } };
            }
            if (assertion === "") {
                return { kind: "stop", failure: { kind: "local", detail: `the impostor's token ${entra.tokenFile} is empty` } };
            }
            reporter.remember(assertion);
            const request = helpers.workloadIdentityTokenRequest({
                authorityHost: entra.authorityHost,
                tenantId: entra.tenantId,
                clientId: config.targetClientId,
                resource: ctx.tokenResource,
                assertion,
            });
            let response;
            try {
                response = await ctx.send(request, budgets.tokenRequestTimeoutMs);
            } catch (err) {
                return { kind: "retry", failure: { kind: "unreachable", detail: reporter.redact(helpers.describeError(err)) } };
            }
            lastStatus = response.status;
            const codes = helpers.azureErrorCodes(response.body, response.headers);
            if (response.status >= 200 && response.status < 300) {
                rememberAccessToken(ctx, response.body);
                return { kind: "ok", value: /** @type {ExchangeAnswer} */ ({ granted: true, status: response.status }) };
            }
            if (response.status === 408 || response.status === 429 || response.status >= 500) {
                const detail = codes.length > 0 ? `HTTP ${response.status} (${codes.join(", ")})` : `HTTP ${response.status}`;
                return { kind: "retry", failure: { kind: "refused", detail }, retryAfterMs: helpers.parseRetryAfter(response.headers["retry-after"], Date.now()) };
            }
            return { kind: "ok", value: /** @type {ExchangeAnswer} */ ({ granted: false, status: response.status, codes }) };
        },
    });
    const record = exchangeRecord(ctx, result, lastStatus);
    reporter.log(`impostor: tokenExchange: ${record.error === undefined ? `refused by ${ENTRA} (${record.code})` : `NOT properly refused: ${record.error}`}`);
    return record;
}

/**
 * Marks the access token of a granted exchange as never to be printed.
 * @param {ImpostorContext} ctx
 * @param {string} body
 */
function rememberAccessToken(ctx, body) {
    try {
        /** @type {unknown} */
        const parsed = JSON.parse(body);
        const token = parsed !== null && typeof parsed === "object" ? /** @type {Record<string, unknown>} */ (parsed).access_token : undefined;
        if (typeof token === "string") {
            ctx.reporter.remember(token);
        }
    } catch {
        // Not JSON: nothing to remember, and the body is never printed.
    }
}

/**
 * The verdict's line for the token exchange: only Entra's refusal for want of a matching federated
 * credential counts; the codes are repeated, never Entra's free text.
 * @param {ImpostorContext} ctx
 * @param {RetryResult<ExchangeAnswer>} result
 * @param {number | null} lastStatus
 * @returns {AttemptRecord}
 */
function exchangeRecord(ctx, result, lastStatus) {
    const { config, helpers, reporter } = ctx;
    if (!result.ok) {
        const tries = result.attempts === 1 ? "1 attempt" : `${result.attempts} attempts`;
        const error =
            result.failure.kind === "local"
                ? `the exchange could not be tried: ${result.failure.detail}`
                : `inconclusive: ${ENTRA} gave no definitive answer within ${helpers.seconds(result.elapsedMs)}s (${tries}; last: ${result.failure.detail})`;
        return { attempt: "tokenExchange", status: lastStatus, error: reporter.redact(error) };
    }
    const answer = result.value;
    if (answer.granted) {
        return {
            attempt: "tokenExchange",
            status: answer.status,
            error: `${ENTRA} issued a token for client id ${config.targetClientId} to the impostor's own service account in namespace ${config.namespace} (HTTP ${answer.status}): a federated credential of the workload's identity trusts it`,
        };
    }
    const code = answer.codes.find((c) => /^AADSTS\d+$/.test(c));
    if (code !== undefined && FEDERATION_REFUSALS.includes(code) && (answer.status === 400 || answer.status === 401)) {
        return { attempt: "tokenExchange", status: answer.status, refusedBy: ENTRA, code };
    }
    const codes = answer.codes.length > 0 ? ` (${answer.codes.join(", ")})` : "";
    return {
        attempt: "tokenExchange",
        status: answer.status,
        ...(code === undefined ? {} : { code }),
        error: `${ENTRA} refused the exchange with HTTP ${answer.status}${codes}, but not for want of a matching federated credential (${FEDERATION_REFUSALS[0]}): the attempt proves nothing`,
    };
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/**
 * Runs every asked attempt (all of them, so the verdict lists each) and judges them: the run passes
 * when each was refused by its guard.
 * @param {ImpostorContext} ctx
 * @returns {Promise<{ pass: boolean, verdict: Record<string, unknown> }>}
 */
async function runImpostor(ctx) {
    const { config, clock, helpers } = ctx;
    const started = clock.now();
    /** @type {AttemptRecord[]} */
    const attempts = [];
    const writes = kubeAttempts(config, ctx.workload);
    if (writes.length > 0) {
        if (config.kubeApi === undefined) {
            throw new Error("impostor writes without the API server's configuration");
        }
        for (const write of writes) {
            attempts.push(await tryWrite(ctx, config.kubeApi, write));
        }
    }
    if (config.checks.includes("tokenExchange")) {
        if (config.entra === undefined) {
            throw new Error("tokenExchange without Entra's configuration");
        }
        attempts.push(await tryTokenExchange(ctx, config.entra));
    }
    const base = { mode: "impostor", tokenSource: ctx.tokenSource, workload: ctx.workload, namespace: config.namespace, target: config.targetNamespace };
    const elapsedSeconds = helpers.seconds(clock.now() - started);
    const first = attempts.find((a) => a.error !== undefined);
    if (first === undefined) {
        return { pass: true, verdict: { verdict: "pass", ...base, attempts, elapsedSeconds } };
    }
    const error = ctx.reporter.redact(`${first.attempt} was not refused as it must be: ${first.error}`);
    return { pass: false, verdict: { verdict: "fail", ...base, step: "impostor", error, attempts, elapsedSeconds } };
}

module.exports = {
    CHECKS,
    readImpostorConfig,
    kubeAttempts,
    parsePolicyDenial,
    readAdmissionAnswer,
    runImpostor,
};
