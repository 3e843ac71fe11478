// Whether the principal that runs `pulumi up` may already do what the stack's Kubernetes objects
// need, asked the way `kubectl auth can-i` asks: a SelfSubjectAccessReview sent with the same
// kubeconfig, and so the same credential, the Kubernetes provider uses. With Azure RBAC for
// Kubernetes authorization a new role assignment takes minutes to be honoured (Azure/AKS#4232), and
// until then the API server refuses the deployer with 403. Plain functions with no Pulumi in them:
// the dynamic provider of clusterAccessWait.ts is built on them, and the tests run them against a
// loopback fake of the API server and a fake credential plugin.
//
// The credential comes from the kubeconfig's exec plugin (kubelogin for AKS with Entra ID), run as
// client-go runs credential plugins: the command with its args and env, KUBERNETES_EXEC_INFO set, and
// an ExecCredential read from its standard output.
import { spawn } from "child_process";
import * as https from "https";
import { parse } from "yaml";

// ---------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------

/** One thing the deployer must be allowed to do: the resource attributes of an access review. */
export interface AccessCheck {
    /** Kubernetes verb: `create`, `get`, `*`... */
    verb: string;
    /** API group; "" is the core group. */
    group: string;
    /** Resource (plural), such as `namespaces`. */
    resource: string;
    /** Namespace of a namespaced check; absent for a cluster-wide one. */
    namespace?: string;
}

/** A kubeconfig user's exec credential plugin. */
export interface ExecPlugin {
    /** `client.authentication.k8s.io/v1` or `v1beta1`: the ExecCredential version the plugin prints. */
    apiVersion: string;
    command: string;
    args: string[];
    env: Array<{ name: string; value: string }>;
}

/** Where the API server is and how to authenticate to it, read from a kubeconfig's current context. */
export interface ClusterEndpoint {
    /** `https://host:port` of the API server. */
    server: string;
    /** PEM bundle of the cluster's certificate authority; the system's when absent. */
    certificateAuthority?: string;
    /** The credential plugin, or a static bearer token. */
    credential: { exec: ExecPlugin } | { token: string };
}

/** A bearer token and when it stops being valid (ms since the epoch), if the plugin said. */
export interface BearerToken {
    token: string;
    expiresAt?: number;
}

/** An API server's answer to one access review. */
export interface ReviewOutcome {
    allowed: boolean;
    /** The authorizer's reason, when it gave one. */
    reason?: string;
}

/** How long and how often to ask. */
export interface WaitPolicy {
    /** Total time allowed, waits and requests included. */
    budgetMs: number;
    /** Pause between two rounds of reviews. */
    intervalMs: number;
    /** Longest a single request or plugin run may take. */
    requestTimeoutMs: number;
}

/** What `waitForAccess` reports when every check is allowed. */
export interface AccessGranted {
    /** Rounds of reviews sent, the allowed one included. */
    rounds: number;
    elapsedMs: number;
}

/** The parts `waitForAccess` calls; tests replace them. */
export interface AccessDependencies {
    /** Obtains a token for the endpoint. */
    token: (endpoint: ClusterEndpoint, timeoutMs: number) => Promise<BearerToken>;
    /** Sends one access review. */
    review: (endpoint: ClusterEndpoint, token: string, check: AccessCheck, timeoutMs: number) => Promise<ReviewOutcome>;
    /** Milliseconds since the epoch. */
    now: () => number;
    /** Waits. */
    sleep: (ms: number) => Promise<void>;
}

/** Retries for real Azure: up to 15 minutes, a round every 10 s, 30 s per request. */
const defaultWaitPolicy: WaitPolicy = { budgetMs: 15 * 60_000, intervalMs: 10_000, requestTimeoutMs: 30_000 };

// Exported under another name so that the functions of this file refer to the constant itself, which
// keeps the module's exports out of the serialized dynamic provider.
export { defaultWaitPolicy as DEFAULT_WAIT_POLICY };

/** The API path of SelfSubjectAccessReview. */
const REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
/** The ExecCredential versions client-go accepts from a plugin. */
const EXEC_API_VERSIONS = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"];
/** Answers larger than this are cut off: an access review is a few hundred bytes. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** A failure to ask, with the HTTP status when the API server answered. */
export class AccessReviewError extends Error {
    constructor(
        message: string,
        readonly status?: number,
        readonly retryable = false,
    ) {
        super(message);
        this.name = "AccessReviewError";
    }
}

// ---------------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------------

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function textAt(value: unknown, key: string): string | undefined {
    const found = isDict(value) ? value[key] : undefined;
    return typeof found === "string" && found !== "" ? found : undefined;
}

/** The entry of a kubeconfig list (`clusters`, `users`, `contexts`) named `name`, unwrapped. */
function named(doc: Dict, list: string, name: string, inner: string): Dict {
    const entries = Array.isArray(doc[list]) ? doc[list] : [];
    const entry: unknown = entries.find((e: unknown) => textAt(e, "name") === name);
    const value = isDict(entry) ? entry[inner] : undefined;
    if (!isDict(value)) {
        throw new AccessReviewError(`the kubeconfig has no ${inner} named "${name}"`);
    }
    return value;
}

/**
 * The API server, certificate authority and credential of a kubeconfig's current context (the first
 * context when none is current). Exported for testing.
 */
export function endpointFromKubeconfig(kubeconfig: string): ClusterEndpoint {
    let doc: unknown;
    try {
        doc = parse(kubeconfig);
    } catch (error) {
        throw new AccessReviewError(`the kubeconfig is not YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
    if (!isDict(doc)) {
        throw new AccessReviewError("the kubeconfig is not a YAML mapping");
    }
    const contexts = Array.isArray(doc.contexts) ? doc.contexts : [];
    const contextName = textAt(doc, "current-context") ?? textAt(contexts[0], "name");
    if (contextName === undefined) {
        throw new AccessReviewError("the kubeconfig has no context");
    }
    const context = named(doc, "contexts", contextName, "context");
    const cluster = named(doc, "clusters", textAt(context, "cluster") ?? "", "cluster");
    const user = named(doc, "users", textAt(context, "user") ?? "", "user");
    const server = textAt(cluster, "server");
    if (server === undefined || !server.startsWith("https://")) {
        throw new AccessReviewError(`the kubeconfig's server ${JSON.stringify(server ?? "")} is not an https URL`);
    }
    const caData = textAt(cluster, "certificate-authority-data");
    const certificateAuthority = caData === undefined ? undefined : Buffer.from(caData, "base64").toString("utf8");
    const exec = user.exec;
    let credential: ClusterEndpoint["credential"];
    if (isDict(exec)) {
        const command = textAt(exec, "command");
        if (command === undefined) {
            throw new AccessReviewError("the kubeconfig's exec plugin names no command");
        }
        const args = Array.isArray(exec.args) ? exec.args.filter((a): a is string => typeof a === "string") : [];
        const env = (Array.isArray(exec.env) ? exec.env : []).flatMap((e: unknown) => {
            const name = textAt(e, "name");
            const value = isDict(e) && typeof e.value === "string" ? e.value : undefined;
            return name === undefined || value === undefined ? [] : [{ name, value }];
        });
        credential = { exec: { apiVersion: textAt(exec, "apiVersion") ?? EXEC_API_VERSIONS[0], command, args, env } };
    } else {
        const token = textAt(user, "token");
        if (token === undefined) {
            throw new AccessReviewError("the kubeconfig's user has neither an exec plugin nor a token");
        }
        credential = { token };
    }
    return certificateAuthority === undefined ? { server, credential } : { server, certificateAuthority, credential };
}

/**
 * The token of an ExecCredential a plugin printed, and its expiry. Exported for testing.
 */
export function tokenFromExecCredential(stdout: string, apiVersion: string): BearerToken {
    let doc: unknown;
    try {
        doc = JSON.parse(stdout);
    } catch {
        throw new AccessReviewError("the credential plugin printed no JSON ExecCredential");
    }
    if (textAt(doc, "kind") !== "ExecCredential" || textAt(doc, "apiVersion") !== apiVersion) {
        throw new AccessReviewError(`the credential plugin printed no ExecCredential of ${apiVersion}`);
    }
    const status = isDict(doc) ? doc.status : undefined;
    const token = textAt(status, "token");
    if (token === undefined) {
        throw new AccessReviewError("the credential plugin's ExecCredential has no status.token (client certificates are not supported)");
    }
    const expiry = textAt(status, "expirationTimestamp");
    const expiresAt = expiry === undefined ? undefined : Date.parse(expiry);
    return expiresAt === undefined || !Number.isFinite(expiresAt) ? { token } : { token, expiresAt };
}

/** The SelfSubjectAccessReview request body of a check. Exported for testing. */
export function accessReviewBody(check: AccessCheck): Dict {
    const attributes: Dict = { verb: check.verb, group: check.group, resource: check.resource };
    if (check.namespace !== undefined) {
        attributes.namespace = check.namespace;
    }
    return { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: attributes } };
}

/** A check as people read it: `create namespaces`, `create jobs.batch in alpha`. */
export function describeCheck(check: AccessCheck): string {
    const resource = check.group === "" ? check.resource : `${check.resource}.${check.group}`;
    return `${check.verb} ${resource}${check.namespace === undefined ? "" : ` in ${check.namespace}`}`;
}

/**
 * Whether an API server's answer to a review may change if asked again: 401 (the token is not yet
 * accepted), 403 (the review itself refused while roles propagate), 408, 429 and 5xx.
 */
export function isRetryableStatus(status: number): boolean {
    return status === 401 || status === 403 || status === 408 || status === 429 || status >= 500;
}

/** The outcome in an API server's answer to a review, or an error when it is not one. Exported for testing. */
export function reviewOutcome(status: number, body: string): ReviewOutcome {
    if (status !== 200 && status !== 201) {
        let message = body.trim().slice(0, 300);
        try {
            message = textAt(JSON.parse(body), "message") ?? message;
        } catch {
            // Not a Status object: the text is the message.
        }
        throw new AccessReviewError(`the API server answered HTTP ${status}${message === "" ? "" : `: ${message}`}`, status, isRetryableStatus(status));
    }
    let doc: unknown;
    try {
        doc = JSON.parse(body);
    } catch {
        throw new AccessReviewError("the API server's answer is not JSON", status);
    }
    const result = isDict(doc) ? doc.status : undefined;
    if (!isDict(result) || typeof result.allowed !== "boolean") {
        throw new AccessReviewError("the API server's answer has no status.allowed", status);
    }
    const reason = textAt(result, "reason");
    return reason === undefined ? { allowed: result.allowed } : { allowed: result.allowed, reason };
}

/** Milliseconds as `1m05s` or `850 ms`. */
function duration(ms: number): string {
    if (ms < 1000) {
        return `${Math.round(ms)} ms`;
    }
    const seconds = Math.round(ms / 1000);
    return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

// ---------------------------------------------------------------------------------------------------
// Talking to the plugin and the API server
// ---------------------------------------------------------------------------------------------------

/**
 * Runs the exec plugin as client-go does (non-interactively: standard input closed) and returns its
 * token. A missing command or a plugin that fails is not retried: it will not start working.
 */
export function runExecPlugin(plugin: ExecPlugin, timeoutMs: number): Promise<BearerToken> {
    return new Promise((resolve, reject) => {
        const info = { apiVersion: plugin.apiVersion, kind: "ExecCredential", spec: { interactive: false } };
        const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
        for (const entry of plugin.env) {
            env[entry.name] = entry.value;
        }
        const child = spawn(plugin.command, plugin.args, { env, stdio: ["ignore", "pipe", "pipe"] });
        // Stopped like spawn's own `timeout` would, but by a timer that also ends when the plugin
        // could not start: spawn's is cleared only when a child exits, and kept the process alive.
        const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("error", (error: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            const hint = error.code === "ENOENT" ? ` (is ${plugin.command} on the PATH? AKS with Entra ID needs kubelogin)` : "";
            reject(new AccessReviewError(`the credential plugin ${plugin.command} could not be started: ${error.message}${hint}`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            if (code !== 0) {
                const why = signal === null ? `exited ${String(code)}` : `was stopped by ${signal}`;
                const detail = stderr.trim().split("\n").slice(-1)[0] ?? "";
                reject(new AccessReviewError(`the credential plugin ${plugin.command} ${why}${detail === "" ? "" : `: ${detail}`}`));
                return;
            }
            try {
                resolve(tokenFromExecCredential(stdout, plugin.apiVersion));
            } catch (error) {
                reject(error);
            }
        });
    });
}

/** A token for the endpoint: its static one, or its plugin's. */
export async function endpointToken(endpoint: ClusterEndpoint, timeoutMs: number): Promise<BearerToken> {
    return "token" in endpoint.credential ? { token: endpoint.credential.token } : runExecPlugin(endpoint.credential.exec, timeoutMs);
}

/** Sends one SelfSubjectAccessReview and returns the API server's outcome. Network failures are retryable. */
export function sendAccessReview(endpoint: ClusterEndpoint, token: string, check: AccessCheck, timeoutMs: number): Promise<ReviewOutcome> {
    return new Promise((resolve, reject) => {
        const url = new URL(REVIEW_PATH, endpoint.server);
        const body = JSON.stringify(accessReviewBody(check));
        const request = https.request(
            url,
            {
                method: "POST",
                headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json", "content-length": Buffer.byteLength(body) },
                ...(endpoint.certificateAuthority === undefined ? {} : { ca: endpoint.certificateAuthority }),
                timeout: timeoutMs,
            },
            (response) => {
                let text = "";
                response.setEncoding("utf8");
                response.on("data", (chunk: string) => {
                    text += chunk;
                    if (text.length > MAX_RESPONSE_BYTES) {
                        // Said here: the request's error, which destroying the answer also raises, would
                        // call the API server unreachable.
                        reject(new AccessReviewError(`the API server's answer is larger than ${MAX_RESPONSE_BYTES} bytes`, undefined, true));
                        request.destroy();
                    }
                });
                response.on("error", (error) => reject(new AccessReviewError(`the API server's answer broke off: ${error.message}`, undefined, true)));
                response.on("end", () => {
                    try {
                        resolve(reviewOutcome(response.statusCode ?? 0, text));
                    } catch (error) {
                        reject(error);
                    }
                });
            },
        );
        request.on("timeout", () => request.destroy(new Error(`no answer within ${duration(timeoutMs)}`)));
        request.on("error", (error) => reject(new AccessReviewError(`the API server ${endpoint.server} could not be reached: ${error.message}`, undefined, true)));
        request.end(body);
    });
}

const realDependencies: AccessDependencies = {
    token: endpointToken,
    review: sendAccessReview,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Asks the API server every `intervalMs`, as the endpoint's credential, whether each check is
 * allowed, until all of them are in one round or `budgetMs` has passed. Denied reviews and retryable
 * failures are asked again; anything else (no plugin, a malformed answer) fails at once. The error
 * names the check still refused and the last answer.
 */
export async function waitForAccess(
    endpoint: ClusterEndpoint,
    checks: readonly AccessCheck[],
    policy: WaitPolicy = defaultWaitPolicy,
    dependencies: Partial<AccessDependencies> = {},
): Promise<AccessGranted> {
    const run: AccessDependencies = { ...realDependencies, ...dependencies };
    const started = run.now();
    const deadline = started + policy.budgetMs;
    let token: BearerToken | undefined;
    let rounds = 0;
    let last = "no answer yet";
    for (;;) {
        rounds += 1;
        let pending: string | undefined;
        // The check being asked when a request fails: the first until the token is in hand.
        let asking = checks[0];
        try {
            if (token === undefined || (token.expiresAt !== undefined && token.expiresAt - run.now() < 60_000)) {
                token = await run.token(endpoint, policy.requestTimeoutMs);
            }
            for (const check of checks) {
                asking = check;
                const outcome = await run.review(endpoint, token.token, check, policy.requestTimeoutMs);
                if (!outcome.allowed) {
                    pending = describeCheck(check);
                    last = `not allowed yet${outcome.reason === undefined ? "" : ` (${outcome.reason})`}`;
                    break;
                }
            }
        } catch (error) {
            if (!(error instanceof AccessReviewError) || !error.retryable) {
                throw error;
            }
            if (error.status === 401) {
                token = undefined;
            }
            pending = describeCheck(asking);
            last = error.message;
        }
        if (pending === undefined) {
            return { rounds, elapsedMs: run.now() - started };
        }
        if (run.now() + policy.intervalMs >= deadline) {
            throw new AccessReviewError(
                `the API server ${endpoint.server} still does not let this principal ${pending} after ${duration(run.now() - started)} and ${rounds} round${rounds === 1 ? "" : "s"} ` +
                    `(budget ${duration(policy.budgetMs)}); last answer: ${last}. Check the role assignment on the cluster and wait for it to propagate, then run pulumi up again.`,
            );
        }
        await run.sleep(policy.intervalMs);
    }
}
