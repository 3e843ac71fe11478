// Tests of verifier/verifier.js, the Job that proves a workload's Azure identity wiring: direct
// tests of its pure helpers, then the Job's whole run against Azurite and loopback fakes of the
// instance metadata endpoint, Microsoft Entra ID, Key Vault and the Kubernetes API, in this process
// (runVerifier; where time matters, with an injected clock), and the script itself as a child process
// for what its entry point adds (runVerifierProcess).
import { spawn } from "child_process";
import { builtinModules } from "module";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as nodeTls from "tls";
import {
    CLUSTER_OIDC_ISSUER,
    KEYVAULT_FORBIDDEN,
    TENANT_ID,
    TokenLog,
    accessToken,
    closedPort,
    UNUSED_HOST,
    createTlsMaterial,
    entraError,
    entraHandler,
    entraNoMatchingFederatedIdentity,
    entraTooManyRequests,
    failingFor,
    failingTimes,
    inTurn,
    imdsHandler,
    keyVaultHandler,
    makeJwt,
    request,
    startAzurite,
    startDenyingFirewall,
    startFakeServer,
    startRbacProxy,
    type Azurite,
    type RbacProxy,
    type FakeServer,
    type TlsMaterial,
    type FakeResponse,
    type Handler,
    type ReceivedRequest,
} from "./fakes/azure";
import { startFakeDns } from "./fakes/dns";
import { IMPOSTOR_USER, startFakeKubeApi, type FakeKubeApi } from "./fakes/kubeApi";

// ---------------------------------------------------------------------------------------------
// The script's exports
// ---------------------------------------------------------------------------------------------

interface HttpRequest {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: string;
}

interface Failure {
    kind: "refused" | "unreachable" | "local";
    detail: string;
}

type Attempt<T> = { kind: "ok"; value: T } | { kind: "retry"; failure: Failure; retryAfterMs?: number } | { kind: "stop"; failure: Failure };

type RetryResult<T> = { ok: true; value: T; attempts: number; elapsedMs: number } | { ok: false; failure: Failure; attempts: number; elapsedMs: number };

type ConfigResult =
    | { ok: true; config: { mode: string; tokenSource: string; budgets: { tokenMs: number; accessMs: number; intervalMs: number; requestTimeoutMs: number } } }
    | { ok: false; mode: string | undefined; missing: string[]; error: string };

/** The helpers verifier.js exports (it is plain JavaScript, so its shape is restated here). */
interface VerifierHelpers {
    sha256Prefix(value: string): string;
    imdsTokenRequest(imdsEndpoint: string, resource: string, clientId: string | undefined): HttpRequest;
    workloadIdentityTokenRequest(input: { authorityHost: string; tenantId: string; clientId: string; resource: string; assertion: string }): HttpRequest;
    keyVaultSecretUrl(keyVaultUri: string, secretName: string): string;
    blobName(workload: string, time: Date, randomHex: string): string;
    blobUrl(blobEndpoint: string, container: string, name: string): string;
    parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined;
    classifyAccessStatus(status: number): "ok" | "retry" | "stop";
    classifyUnboundTokenStatus(status: number): "granted" | "refused" | "retry";
    classifyCanaryStatus(status: number): "refused" | "allowed" | "retry" | "stop";
    ipv4InCidr(address: string, cidr: string): boolean;
    checkPrivatePath(resolutions: Array<{ host: string; addresses: string[]; cnames: string[] }>, subnet: string): { ok: true } | { ok: false; detail: string };
    describeHttpFailure(response: { status: number; statusText: string; headers: Record<string, string>; body: string }): string;
    redact(text: string, sensitive: readonly string[]): string;
    failureSentence(service: string, doing: string, result: { failure: Failure; attempts: number; elapsedMs: number }): string;
    formatVerdict(verdict: Record<string, unknown>): string;
    readConfig(env: Record<string, string | undefined>): ConfigResult;
    retryWithinBudget<T>(options: {
        budgetMs: number;
        intervalMs: number;
        attempt: (n: number) => Promise<Attempt<T>>;
        clock?: { now: () => number; sleep: (ms: number) => Promise<void> };
    }): Promise<RetryResult<T>>;
    sendHttp(request: { method: string; url: string; headers: Record<string, string>; body?: string }, timeoutMs: number): Promise<{ status: number }>;
    run(env: Record<string, string | undefined>, writeProgress: (line: string) => void, options?: { clock?: Clock; probe?: () => never }): Promise<{ exitCode: number; verdictLine: string }>;
}

interface Clock {
    now: () => number;
    sleep: (ms: number) => Promise<void>;
}

type AdmissionAnswer =
    | { kind: "refused"; policy: string; binding: string | undefined; message: string }
    | { kind: "otherPolicy"; policy: string; message: string }
    | { kind: "admitted" }
    | { kind: "rbac" | "notServed" | "retry" | "other"; message: string };

/** What verifier/impostor.js exports (plain JavaScript too). */
interface ImpostorHelpers {
    parsePolicyDenial(message: string): { policy: string; binding: string | undefined; message: string } | undefined;
    readAdmissionAnswer(status: number, body: string, policy: string): AdmissionAnswer;
}

const PROJECT_ROOT = path.resolve(__dirname, "..");
/** The verifier's modules, each required on its own: the helpers are tested from the module that holds them. */
const MODULES = ["report", "http", "retry", "config", "tokens", "privatePath", "dataPlane", "canary", "mount", "verifier"] as const;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the verifier is plain JavaScript, typed here by VerifierHelpers
const verifier: VerifierHelpers = Object.assign({}, ...MODULES.map((m) => require(path.join(PROJECT_ROOT, "verifier", `${m}.js`)) as Partial<VerifierHelpers>));
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JavaScript, typed here by ImpostorHelpers
const impostor: ImpostorHelpers = require(path.join(PROJECT_ROOT, "verifier", "impostor.js"));

describe("the verifier's modules", () => {
    const files = fs.readdirSync(path.join(PROJECT_ROOT, "verifier")).filter((f) => f.endsWith(".js"));
    const requires = (file: string) => [...fs.readFileSync(path.join(PROJECT_ROOT, "verifier", file), "utf8").matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);

    test("each needs the Node standard library and its siblings only, so the Jobs run them from one ConfigMap", () => {
        const builtins = new Set(builtinModules);
        for (const file of files) {
            for (const target of requires(file)) {
                expect([file, target, builtins.has(target) || (target.startsWith("./") && files.includes(`${target.slice(2)}.js`))]).toEqual([file, target, true]);
            }
        }
        expect(MODULES.every((m) => files.includes(`${m}.js`))).toBe(true);
    });

    test("no two require each other, directly or through others, and only verifier.js requires the flows' modules all", () => {
        const graph = new Map(
            files.map((f) => [
                f.replace(/\.js$/, ""),
                requires(f)
                    .filter((t) => t.startsWith("./"))
                    .map((t) => t.slice(2)),
            ]),
        );
        const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
            (graph.get(from) ?? []).some((next) => next === to || (!seen.has(next) && (seen.add(next), reaches(next, to, seen))));
        for (const module of graph.keys()) {
            expect([module, reaches(module, module)]).toEqual([module, false]);
        }
        expect([...graph].filter(([, targets]) => targets.includes("verifier")).map(([m]) => m)).toEqual([]);
    });
});

describe("verifier helpers", () => {
    test("sha256Prefix is the first 12 hex characters of the sha256", () => {
        expect(verifier.sha256Prefix("abc")).toBe("ba7816bf8f01");
    });

    test("Key Vault and blob URLs tolerate a missing trailing slash and encode names", () => {
        const expected = "https://kv-aiv-dev-abc123.vault.azure.net/secrets/alpha-demo?api-version=7.4";
        expect(verifier.keyVaultSecretUrl("https://kv-aiv-dev-abc123.vault.azure.net/", "alpha-demo")).toBe(expected);
        expect(verifier.keyVaultSecretUrl("https://kv-aiv-dev-abc123.vault.azure.net", "alpha-demo")).toBe(expected);
        expect(verifier.blobUrl("https://st.blob.core.windows.net", "alpha", "verify/a b:c.txt")).toBe("https://st.blob.core.windows.net/alpha/verify/a%20b%3Ac.txt");
        expect(verifier.blobName("alpha", new Date("2024-05-01T10:00:00.000Z"), "1a2b3c4d")).toBe("verify/alpha-2024-05-01T10:00:00.000Z-1a2b3c4d.txt");
    });

    test("token requests carry what IMDS and Entra expect", () => {
        const imds = verifier.imdsTokenRequest("http://169.254.169.254/", "https://vault.azure.net", "cid");
        expect(imds).toEqual({
            method: "GET",
            url: "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=cid",
            headers: { Metadata: "true" },
        });
        expect(verifier.imdsTokenRequest("http://169.254.169.254", "https://storage.azure.com", undefined).url).not.toContain("client_id");

        const entra = verifier.workloadIdentityTokenRequest({
            authorityHost: "https://login.microsoftonline.com/",
            tenantId: "t1",
            clientId: "c1",
            resource: "https://storage.azure.com",
            assertion: "sa.jwt.token",
        });
        expect(entra.url).toBe("https://login.microsoftonline.com/t1/oauth2/v2.0/token");
        expect(Object.fromEntries(new URLSearchParams(entra.body))).toEqual({
            client_id: "c1",
            grant_type: "client_credentials",
            scope: "https://storage.azure.com/.default",
            client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion: "sa.jwt.token",
        });
    });

    test("status classification: data-plane retries 401/403/429/5xx, unbound refusals are 400/401/403/404", () => {
        expect([200, 201, 401, 403, 404, 429, 500, 503].map(verifier.classifyAccessStatus)).toEqual(["ok", "ok", "retry", "retry", "stop", "retry", "retry", "retry"]);
        expect([200, 400, 401, 403, 404, 429, 500].map(verifier.classifyUnboundTokenStatus)).toEqual(["granted", "refused", "refused", "refused", "refused", "retry", "retry"]);
    });

    test("a canary answer: 403 is the refusal it expects; a success or a 404 is access; 401, 429 and 5xx are no answer yet", () => {
        expect([403, 200, 201, 404, 401, 429, 503, 400].map((status) => verifier.classifyCanaryStatus(status))).toEqual([
            "refused",
            "allowed",
            "allowed",
            "allowed",
            "retry",
            "retry",
            "retry",
            "stop",
        ]);
    });

    test("the private path: every address of every host inside the endpoint subnet, said otherwise with the addresses", () => {
        expect(verifier.ipv4InCidr("10.76.2.4", "10.76.2.0/26")).toBe(true);
        expect(verifier.ipv4InCidr("10.76.2.64", "10.76.2.0/26")).toBe(false);
        expect(verifier.ipv4InCidr("10.76.2.63", "10.76.2.0/26")).toBe(true);
        expect(verifier.ipv4InCidr("::1", "10.76.2.0/26")).toBe(false);
        expect(verifier.ipv4InCidr("10.76.2.4", "not a cidr")).toBe(false);
        const vault = { host: "kv.vault.azure.net", addresses: ["10.76.2.4"], cnames: ["kv.privatelink.vaultcore.azure.net"] };
        expect(verifier.checkPrivatePath([vault], "10.76.2.0/26")).toEqual({ ok: true });
        expect(verifier.checkPrivatePath([vault, { host: "st.blob.core.windows.net", addresses: ["10.76.2.5", "20.150.1.1"], cnames: [] }], "10.76.2.0/26")).toEqual({
            ok: false,
            detail: "st.blob.core.windows.net resolved to 10.76.2.5, 20.150.1.1; 20.150.1.1 outside the private-endpoint subnet 10.76.2.0/26",
        });
        expect(verifier.checkPrivatePath([{ ...vault, addresses: [] }], "10.76.2.0/26")).toEqual({ ok: false, detail: "kv.vault.azure.net resolved to no address" });
    });

    test("Retry-After is read as seconds or as an HTTP date", () => {
        const now = Date.parse("2024-05-01T10:00:00Z");
        expect(verifier.parseRetryAfter("3", now)).toBe(3000);
        expect(verifier.parseRetryAfter("Wed, 01 May 2024 10:00:05 GMT", now)).toBe(5000);
        expect(verifier.parseRetryAfter(undefined, now)).toBeUndefined();
        expect(verifier.parseRetryAfter("soon", now)).toBeUndefined();
    });

    test("HTTP failures name Azure's error codes but never repeat the body's text", () => {
        const keyVault = verifier.describeHttpFailure({
            status: 403,
            statusText: "Forbidden",
            headers: {},
            body: JSON.stringify({ error: { code: "Forbidden", message: "Caller is not authorized", innererror: { code: "ForbiddenByRbac" } } }),
        });
        expect(keyVault).toBe("HTTP 403 Forbidden (ForbiddenByRbac)");
        const storage = verifier.describeHttpFailure({
            status: 403,
            statusText: "Forbidden",
            headers: { "x-ms-error-code": "AuthorizationPermissionMismatch" },
            body: '<?xml version="1.0"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>no</Message></Error>',
        });
        expect(storage).toBe("HTTP 403 Forbidden (AuthorizationPermissionMismatch)");
        const entra = verifier.describeHttpFailure({
            status: 400,
            statusText: "Bad Request",
            headers: {},
            body: JSON.stringify({ error: "invalid_client", error_description: "AADSTS70021: secret-ish text", error_codes: [70021] }),
        });
        expect(entra).toBe("HTTP 400 Bad Request (invalid_client, AADSTS70021)");
        const odd = verifier.describeHttpFailure({ status: 500, statusText: "", headers: {}, body: JSON.stringify({ error: "the secret is hunter2" }) });
        expect(odd).toBe("HTTP 500");
    });

    test("redact hides every remembered value; failure sentences tell refusals from unreachable services", () => {
        expect(verifier.redact("a tok1 b tok2 tok1", ["tok1", "tok2"])).toBe("a [redacted] b [redacted] [redacted]");
        const refused = { failure: { kind: "refused" as const, detail: "HTTP 403 Forbidden (ForbiddenByRbac)" }, attempts: 3, elapsedMs: 600_000 };
        expect(verifier.failureSentence("Key Vault", "reading secret alpha-demo", refused)).toBe(
            "Key Vault refused reading secret alpha-demo: HTTP 403 Forbidden (ForbiddenByRbac) for 600s (3 attempts)",
        );
        const unreachable = { failure: { kind: "unreachable" as const, detail: "connect ECONNREFUSED" }, attempts: 1, elapsedMs: 1234 };
        expect(verifier.failureSentence("Storage", "writing blob c/x", unreachable)).toBe("Storage could not be reached for writing blob c/x: connect ECONNREFUSED for 1.23s (1 attempt)");
    });

    test("formatVerdict is one line of JSON even with newlines in values", () => {
        const line = verifier.formatVerdict({ verdict: "fail", error: "two\nlines" });
        expect(line.split("\n")).toHaveLength(1);
        expect(JSON.parse(line)).toEqual({ verdict: "fail", error: "two\nlines" });
    });

    test("readConfig applies the default budgets and names every missing or invalid variable", () => {
        const ok = verifier.readConfig({ VERIFY_MODE: "unbound", TOKEN_SOURCE: "imds", WORKLOAD: "alpha" });
        expect(ok.ok && ok.config.budgets).toEqual({ tokenMs: 300_000, accessMs: 600_000, intervalMs: 5000, requestTimeoutMs: 10_000, tokenRequestTimeoutMs: 110_000 });
        const zero = verifier.readConfig({ VERIFY_MODE: "unbound", TOKEN_SOURCE: "imds", WORKLOAD: "alpha", TOKEN_REQUEST_TIMEOUT_SECONDS: "0" });
        expect(!zero.ok && zero.error).toMatch(/TOKEN_REQUEST_TIMEOUT_SECONDS must be a positive number of seconds/);
        const missing = verifier.readConfig({ VERIFY_MODE: "bound", TOKEN_SOURCE: "imds", WORKLOAD: "alpha", SECRET_NAME: "s" });
        expect(missing.ok).toBe(false);
        expect(!missing.ok && missing.missing).toEqual([
            "KEYVAULT_URI",
            "SECRET_FILE",
            "BLOB_ENDPOINT",
            "BLOB_CONTAINER",
            "CANARY_SECRET_NAME",
            "CANARY_CONTAINER",
            "KEYVAULT_AUTHORIZATION",
            "PRIVATE_ENDPOINT_SUBNET",
        ]);
        const badSubnet = verifier.readConfig({ VERIFY_MODE: "bound", TOKEN_SOURCE: "imds", WORKLOAD: "alpha", PRIVATE_ENDPOINT_SUBNET: "10.76.2.0" });
        expect(!badSubnet.ok && badSubnet.error).toMatch(/PRIVATE_ENDPOINT_SUBNET must be an IPv4 CIDR \(got '10\.76\.2\.0'\)/);
        const invalid = verifier.readConfig({ VERIFY_MODE: "maybe", TOKEN_SOURCE: "imds", WORKLOAD: "alpha", RETRY_INTERVAL_SECONDS: "-1" });
        expect(!invalid.ok && invalid.error).toMatch(/VERIFY_MODE must be 'bound', 'unbound' or 'impostor' \(got 'maybe'\).*RETRY_INTERVAL_SECONDS/);
    });

    test("retryWithinBudget stops at the budget, never sleeps past it and honours Retry-After", async () => {
        let now = 0;
        const sleeps: number[] = [];
        const clock = {
            now: () => now,
            sleep: async (ms: number) => {
                sleeps.push(ms);
                now += ms;
            },
        };
        const failure: Failure = { kind: "refused", detail: "HTTP 503" };
        const result = await verifier.retryWithinBudget<never>({
            budgetMs: 1000,
            intervalMs: 300,
            clock,
            attempt: async (n) => ({ kind: "retry", failure, retryAfterMs: n === 1 ? 500 : undefined }),
        });
        expect(result).toEqual({ ok: false, failure, attempts: 4, elapsedMs: 1000 });
        expect(sleeps).toEqual([500, 300, 200]);

        const stopped = await verifier.retryWithinBudget<never>({ budgetMs: 1000, intervalMs: 10, clock, attempt: async () => ({ kind: "stop", failure }) });
        expect(stopped.attempts).toBe(1);
        const third = await verifier.retryWithinBudget<string>({
            budgetMs: 1000,
            intervalMs: 10,
            clock,
            attempt: async (n) => (n < 3 ? { kind: "retry", failure } : { kind: "ok", value: "done" }),
        });
        expect(third).toMatchObject({ ok: true, value: "done", attempts: 3 });
    });
});

// ---------------------------------------------------------------------------------------------
// The script end to end
// ---------------------------------------------------------------------------------------------
// Azurite and the certificate are shared by the file; every case gets its own fake servers, token
// log and files, so the cases run concurrently.

/** The verdict line, as far as these tests read it. */
interface Verdict {
    verdict: "pass" | "fail";
    mode: string | null;
    tokenSource?: string;
    workload?: string;
    step?: string;
    error?: string;
    refusal?: string;
    missing?: string[];
    secretSha256Prefix?: string;
    secretMatchesMount?: boolean;
    syncedSecretMatches?: boolean;
    syncedSecret?: string;
    privatePath?: { subnet: string; hosts: Record<string, { addresses: string[]; via?: string[] }> };
    canary?: { secret: string; containerRead: string; containerWrite: string };
    blob?: string;
    attempts?: { token: number; keyvault?: number; blobWrite?: number };
    elapsedSeconds?: number;
}

interface Run<V = Verdict> {
    code: number | null;
    stdout: string;
    stderr: string;
    verdict: V;
}

const SECRET = "Pa55-w0rd with spaces & ünïcode \u2713";
const SECRET_NAME = "alpha-demo";
const WORKLOAD = "alpha";
const CONTAINER = "alpha";
const CLIENT_ID = "5b9d1c2e-8f4a-4c3b-a1d2-e3f4a5b6c7d8";
const FEDERATED_TOKEN = "eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.c2ln";
/** The service accounts Entra quotes back when no federated credential matches. */
const WORKLOAD_SUBJECT = "system:serviceaccount:alpha:alpha";
const UNBOUND_SUBJECT = "system:serviceaccount:alpha:verify-unbound";
const FAST = { RETRY_INTERVAL_SECONDS: "0.1", REQUEST_TIMEOUT_SECONDS: "2" };

/**
 * Whether this Node.js can add the test CA to the certificates TLS clients trust by default
 * (`tls.setDefaultCACertificates`, Node.js 22.19 and later), which a child process gets from
 * NODE_EXTRA_CA_CERTS instead.
 */
const TRUST_IN_PROCESS = typeof nodeTls.setDefaultCACertificates === "function";

let workDir: string;
let tls: TlsMaterial;
/** What TLS clients trust by default in this process before the tests add the test CA (TRUST_IN_PROCESS). */
const systemCertificates = TRUST_IN_PROCESS ? nodeTls.getCACertificates("default") : [];
/** The fake Kubernetes API's certificate: the cluster's CA, which only KUBE_CA_FILE makes trusted. */
let kubeTls: TlsMaterial;
let azurite: Azurite;
/** Azure RBAC in front of Azurite: the identity holds a role on its own container, none on the canary's. */
let storage: RbacProxy;
const CANARY = "canary";

/** One case's fakes and files: the pod's view of the world. */
interface Scenario {
    tokens: TokenLog;
    imds: FakeServer;
    entra: FakeServer;
    keyVault: FakeServer;
    dir: string;
    secretFile: string;
    /** The Kubernetes Secret the CSI driver mirrors, as its volume holds it. */
    syncedFile: string;
    tokenFile: string;
}

/** Runs `body` with fresh fakes that behave like a correctly wired identity, then stops them. */
async function withScenario(body: (s: Scenario) => Promise<void>): Promise<void> {
    const dir = fs.mkdtempSync(path.join(workDir, "case-"));
    const tokens = new TokenLog();
    const [imds, entra, keyVault] = await Promise.all([startFakeServer(), startFakeServer(tls), startFakeServer(tls)]);
    const s: Scenario = {
        tokens,
        imds,
        entra,
        keyVault,
        dir,
        secretFile: path.join(dir, SECRET_NAME),
        syncedFile: path.join(dir, "synced", SECRET_NAME),
        tokenFile: path.join(dir, "azure-identity-token"),
    };
    fs.writeFileSync(s.secretFile, SECRET);
    fs.mkdirSync(path.dirname(s.syncedFile));
    fs.writeFileSync(s.syncedFile, SECRET);
    fs.writeFileSync(s.tokenFile, FEDERATED_TOKEN);
    imds.reset(imdsHandler({ tokens, clientId: CLIENT_ID }));
    entra.reset(entraHandler({ tokens, tenantId: TENANT_ID, clientId: CLIENT_ID, assertion: FEDERATED_TOKEN }));
    keyVault.reset(keyVaultHandler({ baseUrl: keyVault.url, secretName: SECRET_NAME, value: SECRET, forbidden: [CANARY] }));
    try {
        await body(s);
    } finally {
        await Promise.all([imds.close(), entra.close(), keyVault.close()]);
    }
}

/**
 * Runs the verifier's Job with exactly `env`, as `node verifier/verifier.js` would, but in this process:
 * its `run` (the script's body) with the test CA trusted as the system's (TRUST_IN_PROCESS), so that
 * a run costs no process and what it executes is seen here (jest's coverage, Stryker's mutants).
 * `onStderr` sees the progress written so far each time a line arrives. Where this Node.js cannot
 * change the trusted certificates, the script runs as a child process instead (runVerifierProcess).
 */
async function runVerifier<V = Verdict>(env: Record<string, string>, onStderr?: (stderrSoFar: string) => void): Promise<Run<V>> {
    if (!TRUST_IN_PROCESS) {
        return runVerifierProcess(env, onStderr);
    }
    let stderr = "";
    const { exitCode, verdictLine } = await verifier.run(env, (line) => {
        stderr += `${line}\n`;
        onStderr?.(stderr);
    });
    return { code: exitCode, stdout: `${verdictLine}\n`, stderr, verdict: JSON.parse(verdictLine) as V };
}

/** The variable by which mutation testing names the mutant it runs (`npm run mutate`), unset otherwise. */
const ACTIVE_MUTANT = "__STRYKER_ACTIVE_MUTANT__";

/**
 * Runs `node verifier/verifier.js` with exactly `env` (plus PATH, the test CA and, under mutation
 * testing, the mutant it runs, so that the script's own process runs it too), bounded in time;
 * `onStderr` sees the progress written so far each time more arrives.
 */
function runVerifierProcess<V = Verdict>(env: Record<string, string>, onStderr?: (stderrSoFar: string) => void): Promise<Run<V>> {
    const mutant = process.env[ACTIVE_MUTANT];
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["verifier/verifier.js"], {
            cwd: PROJECT_ROOT,
            env: { PATH: process.env.PATH ?? "", NODE_EXTRA_CA_CERTS: tls.certPath, ...(mutant === undefined ? {} : { [ACTIVE_MUTANT]: mutant }), ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
        child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString("utf8");
            onStderr?.(stderr);
        });
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            const lines = stdout.split("\n").filter((line) => line !== "");
            if (lines.length !== 1) {
                reject(new Error(`expected one verdict line, got ${lines.length}: ${stdout}\n${stderr}`));
                return;
            }
            resolve({ code, stdout, stderr, verdict: JSON.parse(lines[0]) as V });
        });
    });
}

/** Neither output may contain the secret, a token or the federated assertion. */
function expectNothingSensitive(run: Run, s: Scenario): void {
    for (const sensitive of [SECRET, FEDERATED_TOKEN, ...s.tokens.issued]) {
        expect(run.stdout).not.toContain(sensitive);
        expect(run.stderr).not.toContain(sensitive);
    }
}

/** What every `bound` run needs besides its token source. */
function boundTargets(s: Scenario): Record<string, string> {
    return {
        VERIFY_MODE: "bound",
        KEYVAULT_URI: `${s.keyVault.url}/`,
        SECRET_NAME,
        SECRET_FILE: s.secretFile,
        BLOB_ENDPOINT: storage.endpoint,
        BLOB_CONTAINER: CONTAINER,
        CANARY_SECRET_NAME: CANARY,
        CANARY_CONTAINER: CANARY,
        KEYVAULT_AUTHORIZATION: "rbac",
        // The fakes listen on loopback: here the "private-endpoint subnet" is 127.0.0.0/8.
        PRIVATE_ENDPOINT_SUBNET: "127.0.0.0/8",
        SYNCED_SECRET_FILE: s.syncedFile,
        WORKLOAD,
        TOKEN_BUDGET_SECONDS: "3",
        ACCESS_BUDGET_SECONDS: "3",
        ...FAST,
    };
}

function imdsVars(s: Scenario): Record<string, string> {
    return { TOKEN_SOURCE: "imds", IMDS_ENDPOINT: s.imds.url, AZURE_CLIENT_ID: CLIENT_ID };
}

/** What the Workload ID webhook injects. */
function workloadIdentityVars(s: Scenario): Record<string, string> {
    return {
        TOKEN_SOURCE: "workloadIdentity",
        AZURE_CLIENT_ID: CLIENT_ID,
        AZURE_TENANT_ID: TENANT_ID,
        AZURE_FEDERATED_TOKEN_FILE: s.tokenFile,
        AZURE_AUTHORITY_HOST: `${s.entra.url}/`,
    };
}

function unboundBase(): Record<string, string> {
    return { VERIFY_MODE: "unbound", WORKLOAD, TOKEN_BUDGET_SECONDS: "3", ...FAST };
}

function boundEnv(s: Scenario, overrides: Record<string, string> = {}): Record<string, string> {
    return { ...boundTargets(s), ...imdsVars(s), ...overrides };
}

function unboundImdsEnv(s: Scenario, overrides: Record<string, string> = {}): Record<string, string> {
    return { ...unboundBase(), ...imdsVars(s), ...overrides };
}

function unboundWorkloadIdentityEnv(s: Scenario, overrides: Record<string, string> = {}): Record<string, string> {
    return { ...unboundBase(), ...workloadIdentityVars(s), ...overrides };
}

/** Runs `action` after `ms` milliseconds; the promise settles once it has run. */
function after(ms: number, action: () => void): Promise<void> {
    return new Promise((resolve, reject) =>
        setTimeout(() => {
            try {
                action();
                resolve();
            } catch (err) {
                reject(err);
            }
        }, ms),
    );
}

/** Entra's error descriptions are free text (issuer, subject, trace ids); the verifier repeats only codes. */
function expectNoEntraFreeText(run: { stdout: string; stderr: string }): void {
    for (const text of ["No matching federated identity record", "Assertion Subject", "Trace ID"]) {
        expect(run.stdout).not.toContain(text);
        expect(run.stderr).not.toContain(text);
    }
}

function storageAuth(): Record<string, string> {
    return { Authorization: `Bearer ${accessToken("https://storage.azure.com")}`, "x-ms-version": "2021-12-02" };
}

beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "verifier-test-"));
    tls = await createTlsMaterial(workDir);
    const kubeDir = path.join(workDir, "kube");
    fs.mkdirSync(kubeDir);
    kubeTls = await createTlsMaterial(kubeDir);
    const workspace = path.join(workDir, "azurite");
    fs.mkdirSync(workspace);
    azurite = await startAzurite({ projectRoot: PROJECT_ROOT, workspace, tls, timeoutMs: 20_000 });
    for (const container of [CONTAINER, CANARY]) {
        const created = await request(`${azurite.endpoint}${container}?restype=container`, { method: "PUT", headers: storageAuth(), ca: tls.cert });
        expect(created.status).toBe(201);
    }
    storage = await startRbacProxy({ azurite, tls, denied: [CANARY] });
    if (TRUST_IN_PROCESS) {
        nodeTls.setDefaultCACertificates([...systemCertificates, tls.cert]);
    }
}, 30_000);

afterAll(async () => {
    if (TRUST_IN_PROCESS) {
        nodeTls.setDefaultCACertificates(systemCertificates);
    }
    await storage?.close();
    await azurite?.stop();
    if (workDir) {
        fs.rmSync(workDir, { recursive: true, force: true });
    }
});

test("Storage requests carry the date they are sent on; others do not", async () => {
    const seen: Array<string | undefined> = [];
    const server = http.createServer((req, res) => {
        seen.push(req.headers["x-ms-date"] as string | undefined);
        res.writeHead(200).end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
        const address = server.address();
        const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/c/b`;
        await verifier.sendHttp({ method: "GET", url, headers: { "x-ms-version": "2021-12-02" } }, 2000);
        await verifier.sendHttp({ method: "GET", url, headers: {} }, 2000);
    } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(seen).toHaveLength(2);
    expect(Math.abs(Date.parse(String(seen[0])) - Date.now())).toBeLessThan(5000);
    expect(seen[1]).toBeUndefined();
});

describe("verifier.js in bound mode", () => {
    test.concurrent("passes end to end through IMDS and leaves the blob in Azurite", () =>
        withScenario(async (s) => {
            const run = await runVerifier(boundEnv(s));
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({
                verdict: "pass",
                mode: "bound",
                tokenSource: "imds",
                workload: WORKLOAD,
                secretSha256Prefix: verifier.sha256Prefix(SECRET),
                secretMatchesMount: true,
                attempts: { token: 2, keyvault: 1, blobWrite: 1 },
            });
            expect(run.verdict.blob).toMatch(/^alpha\/verify\/alpha-\d{4}-\d\d-\d\dT[\d:.]+Z-[0-9a-f]{8}\.txt$/);
            expectNothingSensitive(run, s);

            const name = (run.verdict.blob ?? "").slice(`${CONTAINER}/`.length);
            const blob = await request(verifier.blobUrl(azurite.endpoint, CONTAINER, name), { headers: storageAuth(), ca: tls.cert });
            expect(blob.status).toBe(200);
            expect(blob.body).toContain(`workload: ${WORKLOAD}`);
            expect(blob.body).toContain(`secretSha256Prefix: ${verifier.sha256Prefix(SECRET)}`);
            expect(blob.body).not.toContain(SECRET);
        }),
    );

    test.concurrent("passes through Microsoft Entra Workload ID with the projected token", () =>
        withScenario(async (s) => {
            const run = await runVerifier({ ...boundTargets(s), ...workloadIdentityVars(s) });
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "bound", tokenSource: "workloadIdentity", secretMatchesMount: true });
            expect(s.entra.requests.map((r) => new URLSearchParams(r.body).get("scope"))).toEqual(["https://vault.azure.net/.default", "https://storage.azure.com/.default"]);
            expect(s.imds.requests).toHaveLength(0);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("waits for Entra to stop answering AADSTS70021 (federated credential still propagating)", () =>
        withScenario(async (s) => {
            s.entra.reset(
                failingFor(1000, entraNoMatchingFederatedIdentity(WORKLOAD_SUBJECT), entraHandler({ tokens: s.tokens, tenantId: TENANT_ID, clientId: CLIENT_ID, assertion: FEDERATED_TOKEN })),
            );
            const run = await runVerifier({ ...boundTargets(s), ...workloadIdentityVars(s) });
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "bound", tokenSource: "workloadIdentity", secretMatchesMount: true });
            expect(run.verdict.attempts?.token).toBeGreaterThan(2); // Key Vault token retried, then Storage
            expect(s.entra.requests.length).toBe(run.verdict.attempts?.token);
            expect(run.stderr).toContain("Key Vault token: attempt 1 failed (HTTP 400 Bad Request (invalid_request, AADSTS70021))");
            expectNoEntraFreeText(run);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("fails at step token when Entra answers AADSTS70021 for the whole token budget", () =>
        withScenario(async (s) => {
            s.entra.reset(() => entraNoMatchingFederatedIdentity(WORKLOAD_SUBJECT));
            const run = await runVerifier({ ...boundTargets(s), ...workloadIdentityVars(s), TOKEN_BUDGET_SECONDS: "1" });
            expect(run.code).toBe(1);
            // Each pause is at least the interval and all of them fit in the budget, however slow the machine:
            // one attempt per pause the budget holds, one first, and one for a timer's rounding to the millisecond.
            expect(run.verdict.attempts?.token).toBeLessThanOrEqual(2 + 1 / Number(FAST.RETRY_INTERVAL_SECONDS));
            expect(run.verdict).toMatchObject({ verdict: "fail", mode: "bound", tokenSource: "workloadIdentity", workload: WORKLOAD, step: "token" });
            expect(run.verdict.error).toMatch(/^Microsoft Entra ID refused a Key Vault token: HTTP 400 Bad Request \(invalid_request, AADSTS70021\) for 1(\.\d+)?s \(\d+ attempts\)$/);
            expect(run.verdict.attempts?.token).toBeGreaterThan(1);
            expect(run.verdict.secretSha256Prefix).toBeUndefined();
            expect(s.keyVault.requests).toHaveLength(0);
            expect(s.tokens.issued).toHaveLength(0);
            expectNoEntraFreeText(run);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("waits for the projected service-account token file to appear", () =>
        withScenario(async (s) => {
            fs.rmSync(s.tokenFile);
            let delivered: Promise<void> | undefined;
            let deliveredAt = Infinity;
            const run = await runVerifier({ ...boundTargets(s), ...workloadIdentityVars(s) }, (stderr) => {
                if (delivered === undefined && stderr.includes("no federated token file")) {
                    delivered = after(1000, () => {
                        const staged = `${s.tokenFile}.staged`;
                        fs.writeFileSync(staged, FEDERATED_TOKEN);
                        fs.renameSync(staged, s.tokenFile);
                        deliveredAt = Date.now();
                    });
                }
            });
            await delivered;
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "bound", tokenSource: "workloadIdentity", secretMatchesMount: true });
            expect(run.verdict.attempts?.token).toBeGreaterThan(2);
            expect(s.entra.requests).toHaveLength(2);
            expect(s.entra.requests[0].receivedAt).toBeGreaterThanOrEqual(deliveredAt);
            expect(run.stderr).toContain(`no federated token file at ${s.tokenFile} (ENOENT)`);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("honours Entra's Retry-After when throttled (429)", () =>
        withScenario(async (s) => {
            s.entra.reset(failingTimes(1, entraTooManyRequests(1), entraHandler({ tokens: s.tokens, tenantId: TENANT_ID, clientId: CLIENT_ID, assertion: FEDERATED_TOKEN })));
            const run = await runVerifier({ ...boundTargets(s), ...workloadIdentityVars(s) });
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "bound", tokenSource: "workloadIdentity", attempts: { token: 3 } });
            expect(s.entra.requests).toHaveLength(3);
            expect(s.entra.requests[1].receivedAt - s.entra.requests[0].receivedAt).toBeGreaterThanOrEqual(950);
            expect(run.verdict.elapsedSeconds).toBeGreaterThanOrEqual(0.95);
            expect(run.stderr).toContain("Key Vault token: attempt 1 failed (HTTP 429 Too Many Requests); retrying in 1s");
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("waits for a token endpoint that fails at first (identity still being assigned)", () =>
        withScenario(async (s) => {
            s.imds.reset(failingFor(800, { status: 500, body: { error: "unknown_error" } }, imdsHandler({ tokens: s.tokens, clientId: CLIENT_ID })));
            const run = await runVerifier(boundEnv(s));
            expect(run.code).toBe(0);
            expect(run.verdict.verdict).toBe("pass");
            expect(run.verdict.attempts?.token).toBeGreaterThan(2); // Key Vault token retried, then Storage
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("waits for Key Vault to stop answering 403 (role assignment propagating)", () =>
        withScenario(async (s) => {
            s.keyVault.reset(failingFor(800, KEYVAULT_FORBIDDEN, keyVaultHandler({ baseUrl: s.keyVault.url, secretName: SECRET_NAME, value: SECRET, forbidden: [CANARY] })));
            const run = await runVerifier(boundEnv(s));
            expect(run.code).toBe(0);
            expect(run.verdict.verdict).toBe("pass");
            expect(run.verdict.attempts?.keyvault).toBeGreaterThan(1);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("fails at step keyvault when Key Vault answers 403 for the whole budget", () =>
        withScenario(async (s) => {
            s.keyVault.reset(() => KEYVAULT_FORBIDDEN);
            const run = await runVerifier(boundEnv(s, { ACCESS_BUDGET_SECONDS: "1" }));
            expect(run.code).toBe(1);
            expect(run.verdict.attempts?.keyvault).toBeLessThanOrEqual(2 + 1 / Number(FAST.RETRY_INTERVAL_SECONDS));
            expect(run.verdict).toMatchObject({ verdict: "fail", mode: "bound", step: "keyvault" });
            expect(run.verdict.error).toMatch(/^Key Vault refused reading secret alpha-demo: HTTP 403 Forbidden \(ForbiddenByRbac\) for 1(\.\d+)?s/);
            expect(run.verdict.attempts?.keyvault).toBeGreaterThan(1);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("fails at step blobWrite when storage cannot be reached", () =>
        withScenario(async (s) => {
            const port = await closedPort();
            const run = await runVerifier(boundEnv(s, { BLOB_ENDPOINT: `https://${UNUSED_HOST}:${port}/devstoreaccount1/`, ACCESS_BUDGET_SECONDS: "1" }));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "blobWrite", secretSha256Prefix: verifier.sha256Prefix(SECRET) });
            expect(run.verdict.error).toMatch(/^Storage could not be reached for writing blob alpha\/verify\/.*ECONNREFUSED/);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("fails at step mount when the mounted file differs from Key Vault", () =>
        withScenario(async (s) => {
            fs.writeFileSync(s.secretFile, `${SECRET}\n`);
            const run = await runVerifier(boundEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "mount" });
            expect(run.verdict.error).toContain(`differs from Key Vault secret ${SECRET_NAME}`);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("exits 2 naming a missing environment variable", () =>
        withScenario(async (s) => {
            const { SECRET_NAME: _omitted, ...env } = boundEnv(s);
            const run = await runVerifier(env);
            expect(run.code).toBe(2);
            expect(run.verdict).toMatchObject({ verdict: "fail", mode: "bound", step: "config", missing: ["SECRET_NAME"] });
            expect(run.verdict.error).toContain("SECRET_NAME");
            expect(s.imds.requests).toHaveLength(0);
        }),
    );
});

/**
 * A Blob service scripted for one case: the workload's container takes writes and gives them back,
 * the canary container refuses both (403, as Azure RBAC does), unless `override` answers first.
 */
function scriptedStorage(override: (request: ReceivedRequest) => FakeResponse | undefined = () => undefined): Handler {
    const blobs = new Map<string, string>();
    const refused: FakeResponse = { status: 403, headers: { "x-ms-error-code": "AuthorizationPermissionMismatch" }, body: "<Error><Code>AuthorizationPermissionMismatch</Code></Error>" };
    return (request) => {
        const answer = override(request);
        if (answer !== undefined) {
            return answer;
        }
        // A bearer token needs a service version of 2017-11-09 or later.
        if (!(String(request.headers["x-ms-version"]) >= "2017-11-09")) {
            return { status: 400, headers: { "x-ms-error-code": "InvalidHeaderValue" } };
        }
        if (request.url.pathname.startsWith(`/${CANARY}`)) {
            return refused;
        }
        if (request.method === "PUT") {
            // Put Blob names the blob's type; without it the Blob service refuses the request.
            if (request.headers["x-ms-blob-type"] !== "BlockBlob") {
                return { status: 400, headers: { "x-ms-error-code": "MissingRequiredHeader" } };
            }
            blobs.set(request.url.pathname, request.body);
            return { status: 201 };
        }
        const blob = blobs.get(request.url.pathname);
        return blob === undefined ? { status: 404, headers: { "x-ms-error-code": "BlobNotFound" } } : { status: 200, body: blob };
    };
}

/** Whether a request to IMDS asks for a Storage token. */
function asksStorageToken(request: ReceivedRequest): boolean {
    return request.url.searchParams.get("resource") === "https://storage.azure.com";
}

describe("verifier.js in bound mode: each step's own failure", () => {
    /** Runs the bound Job through IMDS with Storage answered by `storage`. */
    async function runWithStorage(s: Scenario, storage: Handler, overrides: Record<string, string> = {}): Promise<Run> {
        const blob = await startFakeServer(tls);
        blob.reset(storage);
        try {
            return await runVerifier(boundEnv(s, { BLOB_ENDPOINT: `${blob.url}/`, ACCESS_BUDGET_SECONDS: "0.5", ...overrides }));
        } finally {
            await blob.close();
        }
    }

    test.concurrent("a passing run's progress names each step and what it does, in order", () =>
        withScenario(async (s) => {
            const run = await runWithStorage(s, scriptedStorage());
            expect(run.verdict).toMatchObject({ verdict: "pass", canary: { secret: "refused", containerRead: "refused", containerWrite: "refused" } });
            // The run's own duration, not a sum of clock readings.
            expect(run.verdict.elapsedSeconds).toBeLessThan(60);
            const blob = run.verdict.blob ?? "";
            expect(run.stderr.split("\n")).toEqual([
                "verifier: privatePath: resolving the vault's and the blob endpoint's host names, expecting addresses in 127.0.0.0/8",
                "verifier: token: requesting a Key Vault token from IMDS",
                "verifier: keyvault: reading secret alpha-demo",
                `verifier: mount: comparing ${s.secretFile} with Key Vault`,
                `verifier: synced: comparing ${s.syncedFile}, the Kubernetes Secret the CSI driver mirrors, with Key Vault`,
                "verifier: canary: trying the canary secret canary, which nobody is granted",
                "verifier: token: requesting a Storage token from IMDS",
                `verifier: blobWrite: writing ${blob}`,
                `verifier: blobRead: reading ${blob} back`,
                "verifier: canary: listing the canary container canary, which nobody is granted",
                `verifier: canary: writing canary/${blob.slice(`${CONTAINER}/`.length)}, which must be refused`,
                "",
            ]);
        }),
    );

    test.concurrent("every step retries a transient answer, and its retry line names the step", () =>
        withScenario(async (s) => {
            const failedOnce = new Set<string>();
            /** `answer` the first time a request of `kind` comes, and nothing after. */
            const once = (kind: string, answer: FakeResponse): FakeResponse | undefined => (failedOnce.has(kind) ? undefined : (failedOnce.add(kind), answer));
            const busy: FakeResponse = { status: 503 };
            const secrets = keyVaultHandler({ baseUrl: s.keyVault.url, secretName: SECRET_NAME, value: SECRET, forbidden: [CANARY] });
            s.keyVault.reset((request) => once(request.url.pathname, busy) ?? secrets(request));
            const tokens = imdsHandler({ tokens: s.tokens, clientId: CLIENT_ID });
            s.imds.reset((request) => (asksStorageToken(request) ? once("storage token", { status: 500, body: { error: "unknown_error" } }) : undefined) ?? tokens(request));
            const storage = scriptedStorage((request) => once(`${request.method} ${request.url.pathname.split("/")[1]}`, busy));
            const run = await runWithStorage(s, storage, { ACCESS_BUDGET_SECONDS: "3" });
            expect(run.verdict).toMatchObject({ verdict: "pass", attempts: { token: 3, keyvault: 2, blobWrite: 2 } });
            const retried = run.stderr
                .split("\n")
                .filter((line) => line.includes(": attempt 1 failed ("))
                .map((line) => line.replace(/^verifier: /, "").replace(/: attempt 1 failed \((.*)\); retrying in .*$/, " | $1"));
            expect(retried).toEqual([
                "keyvault | HTTP 503 Service Unavailable",
                "canary | HTTP 503 Service Unavailable",
                "Storage token | HTTP 500 Internal Server Error (unknown_error)",
                "blobWrite | HTTP 503 Service Unavailable",
                "blobRead | HTTP 503 Service Unavailable",
                "canary | HTTP 503 Service Unavailable",
                "canary | HTTP 503 Service Unavailable",
            ]);
        }),
    );

    test.concurrent("fails at step token when IMDS gives a Key Vault token but no Storage token", () =>
        withScenario(async (s) => {
            const tokens = imdsHandler({ tokens: s.tokens, clientId: CLIENT_ID });
            s.imds.reset((request) => (asksStorageToken(request) ? { status: 500, body: { error: "unknown_error" } } : tokens(request)));
            const run = await runWithStorage(s, scriptedStorage(), { TOKEN_BUDGET_SECONDS: "0" });
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "token" });
            expect(run.verdict.error).toMatch(/^IMDS refused a Storage token: HTTP 500 Internal Server Error \(unknown_error\) for [\d.]+s \(1 attempt\)$/);
            expect(run.verdict.attempts).toEqual({ token: 2, keyvault: 1, blobWrite: 0 });
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("fails at step keyvault when the secret's answer has no string value", () =>
        withScenario(async (s) => {
            s.keyVault.reset(() => ({ status: 200, body: { value: 42 } }));
            const run = await runWithStorage(s, scriptedStorage());
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "keyvault", error: "Key Vault answered reading secret alpha-demo without a string value" });
            expect(run.verdict.secretSha256Prefix).toBeUndefined();
        }),
    );

    test.concurrent("fails at step canary when Key Vault gives the canary secret no answer but throttling", () =>
        withScenario(async (s) => {
            const secrets = keyVaultHandler({ baseUrl: s.keyVault.url, secretName: SECRET_NAME, value: SECRET });
            s.keyVault.reset((request) => (request.url.pathname === `/secrets/${CANARY}` ? { status: 429, body: { error: { code: "Throttled" } } } : secrets(request)));
            const run = await runWithStorage(s, scriptedStorage());
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "canary" });
            expect(run.verdict.error).toMatch(/^Key Vault refused answering for the canary secret canary: HTTP 429 Too Many Requests \(Throttled\) for 0\.\d+s \(\d+ attempts\)$/);
        }),
    );

    test.concurrent("fails at step blobRead, by name only, when the blob read back differs from what was written", () =>
        withScenario(async (s) => {
            const run = await runWithStorage(
                s,
                scriptedStorage((request) => (request.method === "GET" && request.url.pathname.startsWith(`/${CONTAINER}/`) ? { status: 200, body: "other" } : undefined)),
            );
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "blobRead" });
            expect(run.verdict.error).toMatch(/^blob alpha\/verify\/alpha-\S+\.txt read back differs from what was written$/);
        }),
    );

    test.concurrent("fails at step blobRead when Storage cannot find the blob it just took", () =>
        withScenario(async (s) => {
            const run = await runWithStorage(
                s,
                scriptedStorage((request) =>
                    request.method === "GET" && request.url.pathname.startsWith(`/${CONTAINER}/`) ? { status: 404, headers: { "x-ms-error-code": "BlobNotFound" } } : undefined,
                ),
            );
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "blobRead" });
            expect(run.verdict.error).toMatch(/^Storage refused reading blob alpha\/verify\/\S+: HTTP 404 Not Found \(BlobNotFound\) for [\d.]+s \(1 attempt\)$/);
        }),
    );

    test.concurrent.each([
        ["listing", "GET", (path: string) => path === `/${CANARY}`, "the canary container canary"],
        ["a write to", "PUT", (path: string) => path.startsWith(`/${CANARY}/`), "a write to the canary container canary"],
    ] as const)("fails at step canary when %s the canary container gets an answer that is neither access nor a refusal", (_what, method, matches, answering) =>
        withScenario(async (s) => {
            const conflict: FakeResponse = { status: 409, headers: { "x-ms-error-code": "ContainerBeingDeleted" } };
            const run = await runWithStorage(
                s,
                scriptedStorage((request) => (request.method === method && matches(request.url.pathname) ? conflict : undefined)),
            );
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "canary" });
            expect(run.verdict.error).toMatch(new RegExp(`^Storage refused answering for ${answering}: HTTP 409 Conflict \\(ContainerBeingDeleted\\) for [\\d.]+s \\(1 attempt\\)$`));
        }),
    );
});

describe("verifier.js as the Job runs it: node verifier/verifier.js", () => {
    // The other cases run the script's body (`run`) in this process; these run the script itself, as the
    // Job's container does, and hold what its entry point adds: one verdict line on stdout, the progress
    // on stderr, and the exit code.
    test.concurrent("passes end to end, printing one verdict line and exiting 0", () =>
        withScenario(async (s) => {
            const run = await runVerifierProcess(boundEnv(s));
            expect(run.code).toBe(0);
            expect(run.stdout.split("\n")).toEqual([expect.any(String), ""]);
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "bound", tokenSource: "imds", secretMatchesMount: true, attempts: { token: 2, keyvault: 1, blobWrite: 1 } });
            expect(run.stderr).toContain("token: requesting a Key Vault token from");
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("prints and exits exactly as its body run in this process does", () =>
        withScenario(async (s) => {
            const { KEYVAULT_URI: _omitted, ...env } = boundEnv(s);
            const [child, inProcess] = [await runVerifierProcess(env), await runVerifier(env)];
            expect(child.code).toBe(2);
            expect({ code: child.code, stdout: child.stdout, stderr: child.stderr }).toEqual({ code: inProcess.code, stdout: inProcess.stdout, stderr: inProcess.stderr });
        }),
    );

    test.concurrent("names a name that does not resolve by the resolver's code alone", () =>
        withScenario(async (s) => {
            // Here, not in this process: Node's own errors are not the test realm's Error, so how the
            // script reads one (its code alone, or its message) shows only where the script runs.
            const resolver = await startFakeDns({});
            try {
                const run = await runVerifierProcess(boundEnv(s, { KEYVAULT_URI: "https://kv-missing.vault.azure.net/", DNS_SERVER: resolver.server, ACCESS_BUDGET_SECONDS: "0" }));
                expect(run.code).toBe(1);
                expect(run.verdict.error).toMatch(/^the private path is not in place: kv-missing\.vault\.azure\.net could not be resolved \(ENOTFOUND\) for [\d.]+s \(1 attempt\)$/);
            } finally {
                await resolver.close();
            }
        }),
    );

    test.concurrent("an unexpected error is a failing verdict at the step it happened in, redacted", () =>
        withScenario(async (s) => {
            const lines: string[] = [];
            const outcome = await verifier.run(boundEnv(s, { EGRESS_PROBE: "203.0.113.7:443" }), (line) => lines.push(line), {
                probe: () => {
                    throw new Error(`probe broke after reading ${SECRET}`);
                },
            });
            expect(outcome.exitCode).toBe(1);
            expect(JSON.parse(outcome.verdictLine)).toEqual({ verdict: "fail", mode: "bound", step: "egress", error: expect.stringContaining("unexpected error: probe broke after reading") });
            expect(outcome.verdictLine).not.toContain(SECRET);
        }),
    );
});

describe("verifier.js in bound mode: the egress proof behind the firewall", () => {
    test.concurrent("passes with egress denied when the firewall resets the connection to the public address", () =>
        withScenario(async (s) => {
            const firewall = await startDenyingFirewall();
            try {
                const run = await runVerifier(boundEnv(s, { EGRESS_PROBE: firewall.target }));
                expect(run.code).toBe(0);
                expect(run.verdict).toMatchObject({ verdict: "pass", mode: "bound", egress: "denied", egressProbe: firewall.target, egressRefusal: "ECONNRESET" });
                expect(firewall.connections()).toBe(1);
                expect(run.stderr).toContain(`connecting to ${firewall.target}, a public address no firewall rule admits, which must not answer`);
            } finally {
                await firewall.close();
            }
        }),
    );

    test.concurrent("passes with egress denied when nothing answers at all", () =>
        withScenario(async (s) => {
            const run = await runVerifier(boundEnv(s, { EGRESS_PROBE: `127.0.0.1:${await closedPort()}` }));
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({ verdict: "pass", egress: "denied", egressRefusal: "ECONNREFUSED" });
        }),
    );

    test.concurrent("fails at step egress when the public address completes the handshake: the firewall admits it", () =>
        withScenario(async (s) => {
            const open = await startFakeServer(tls);
            try {
                const target = open.url.replace("https://", "");
                const run = await runVerifier(boundEnv(s, { EGRESS_PROBE: target }));
                expect(run.code).toBe(1);
                expect(run.verdict).toMatchObject({ verdict: "fail", mode: "bound", step: "egress" });
                expect(run.verdict.error).toBe(`${target} answered: the cluster reaches a public address no firewall rule admits, so its egress is not limited to what the rules allow`);
            } finally {
                await open.close();
            }
        }),
    );

    test.concurrent("without EGRESS_PROBE the verdict says nothing of egress", () =>
        withScenario(async (s) => {
            const run = await runVerifier(boundEnv(s));
            expect(run.code).toBe(0);
            expect(run.verdict).not.toHaveProperty("egress");
        }),
    );
});

describe("verifier.js: the private path, the synced Secret and the canary", () => {
    test.concurrent("a passing verdict lists the addresses it checked, the synced Secret's match and the canary's refusals", () =>
        withScenario(async (s) => {
            const run = await runVerifier(boundEnv(s));
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({
                verdict: "pass",
                syncedSecretMatches: true,
                canary: { secret: "refused", containerRead: "refused", containerWrite: "refused" },
            });
            // Whole: a name that resolved without an alias lists no `via`, not an empty one.
            expect(run.verdict.privatePath).toEqual({ subnet: "127.0.0.0/8", hosts: { "127.0.0.1": { addresses: ["127.0.0.1"] } } });
            expect(s.keyVault.requests.map((r) => r.url.pathname)).toEqual([`/secrets/${SECRET_NAME}`, `/secrets/${CANARY}`]);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("resolves the data-plane names through their privatelink aliases and connects to the addresses it checked", () =>
        withScenario(async (s) => {
            const vaultHost = "kv-aiv-test-abc123.vault.azure.net";
            const blobHost = "staivtestabc123.blob.core.windows.net";
            const resolver = await startFakeDns({
                [vaultHost]: { cname: "kv-aiv-test-abc123.privatelink.vaultcore.azure.net" },
                "kv-aiv-test-abc123.privatelink.vaultcore.azure.net": { addresses: ["127.0.0.1"] },
                [blobHost]: { cname: "staivtestabc123.privatelink.blob.core.windows.net" },
                "staivtestabc123.privatelink.blob.core.windows.net": { addresses: ["127.0.0.1"] },
            });
            try {
                const vaultPort = new URL(s.keyVault.url).port;
                const run = await runVerifier(
                    boundEnv(s, {
                        KEYVAULT_URI: `https://${vaultHost}:${vaultPort}/`,
                        BLOB_ENDPOINT: `https://${blobHost}:${storage.port}/devstoreaccount1/`,
                        DNS_SERVER: resolver.server,
                    }),
                );
                expect([run.code, run.verdict.error]).toEqual([0, undefined]);
                expect(run.verdict.privatePath).toEqual({
                    subnet: "127.0.0.0/8",
                    hosts: {
                        [vaultHost]: { addresses: ["127.0.0.1"], via: ["kv-aiv-test-abc123.privatelink.vaultcore.azure.net"] },
                        [blobHost]: { addresses: ["127.0.0.1"], via: ["staivtestabc123.privatelink.blob.core.windows.net"] },
                    },
                });
                expect(run.verdict.canary).toEqual({ secret: "refused", containerRead: "refused", containerWrite: "refused" });
            } finally {
                await resolver.close();
            }
        }),
    );

    test.concurrent("fails at step privatePath, listing the addresses, when a name resolves outside the endpoint subnet", () =>
        withScenario(async (s) => {
            const vaultHost = "kv-aiv-test-abc123.vault.azure.net";
            // No privatelink record in the VNet: the public name resolves to the vault's public address.
            const resolver = await startFakeDns({ [vaultHost]: { cname: "azkms-prod-uks.vault.azure.net" }, "azkms-prod-uks.vault.azure.net": { addresses: ["51.140.146.56"] } });
            try {
                const run = await runVerifier(boundEnv(s, { KEYVAULT_URI: `https://${vaultHost}:${new URL(s.keyVault.url).port}/`, DNS_SERVER: resolver.server, ACCESS_BUDGET_SECONDS: "0.5" }));
                expect(run.code).toBe(1);
                expect(run.verdict).toMatchObject({ verdict: "fail", step: "privatePath" });
                expect(run.verdict.error).toMatch(
                    /^the private path is not in place: kv-aiv-test-abc123\.vault\.azure\.net resolved to 51\.140\.146\.56 \(via azkms-prod-uks\.vault\.azure\.net\); 51\.140\.146\.56 outside the private-endpoint subnet 127\.0\.0\.0\/8 for 0\.\d+s \([2-9]\d* attempts\)$/,
                );
                // Nothing was sent over the public path.
                expect(s.keyVault.requests).toHaveLength(0);
                expect(s.imds.requests).toHaveLength(0);
            } finally {
                await resolver.close();
            }
        }),
    );

    test.concurrent("fails at step privatePath when a name does not resolve", () =>
        withScenario(async (s) => {
            const resolver = await startFakeDns({});
            try {
                // No budget: one attempt, and the sentence says so in the singular.
                const run = await runVerifier(boundEnv(s, { KEYVAULT_URI: "https://kv-missing.vault.azure.net/", DNS_SERVER: resolver.server, ACCESS_BUDGET_SECONDS: "0" }));
                expect(run.verdict).toMatchObject({ verdict: "fail", step: "privatePath" });
                expect(run.verdict.error).toMatch(/^the private path is not in place: kv-missing\.vault\.azure\.net could not be resolved \(ENOTFOUND\) for [\d.]+s \(1 attempt\)$/);
                expect(run.verdict.elapsedSeconds).toBeLessThan(60);
            } finally {
                await resolver.close();
            }
        }),
    );

    test.concurrent("fails at step synced, by hashes only, when the mirrored Kubernetes Secret's file differs from Key Vault", () =>
        withScenario(async (s) => {
            const stale = "an older value of the secret";
            fs.writeFileSync(s.syncedFile, stale);
            const run = await runVerifier(boundEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "synced", secretSha256Prefix: verifier.sha256Prefix(SECRET) });
            expect(run.verdict.error).toBe(
                `the mirrored Kubernetes Secret's file ${s.syncedFile} (sha256 ${verifier.sha256Prefix(stale)}) differs from Key Vault secret ${SECRET_NAME} (sha256 ${verifier.sha256Prefix(SECRET)})`,
            );
            expect(run.verdict.syncedSecretMatches).toBeUndefined();
            expect(run.stdout + run.stderr).not.toContain(stale);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("fails at step synced, naming the file and what its absence means, when SYNCED_SECRET_FILE names no file", () =>
        withScenario(async (s) => {
            const absent = path.join(s.dir, "synced", "no-such-key");
            const run = await runVerifier(boundEnv(s, { SYNCED_SECRET_FILE: absent }));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "synced" });
            expect(run.verdict.error).toBe(`could not read the mirrored Kubernetes Secret's file ${absent} (ENOENT: no such file: is the volume mounted, and the key projected under this name?)`);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("without SYNCED_SECRET_FILE the synced step is skipped and the verdict says the secret is not mirrored", () =>
        withScenario(async (s) => {
            const { SYNCED_SECRET_FILE: _omitted, ...env } = boundEnv(s);
            // The mirror, were it read, would differ: a pass proves it was not compared.
            fs.writeFileSync(s.syncedFile, "an older value of the secret");
            const run = await runVerifier(env);
            expect([run.code, run.verdict.error]).toEqual([0, undefined]);
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "bound", secretMatchesMount: true, syncedSecret: "not mirrored (the workload keeps its secret in Key Vault only)" });
            expect(run.verdict.syncedSecretMatches).toBeUndefined();
            expect(run.stderr).toContain("synced: SYNCED_SECRET_FILE is not set");
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("the mirrored secret comes from its file only: SYNCED_SECRET in the environment is neither read nor printed", () =>
        withScenario(async (s) => {
            const leaked = "a value that must not travel in the environment";
            const run = await runVerifier(boundEnv(s, { SYNCED_SECRET: leaked }));
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({ verdict: "pass", syncedSecretMatches: true });
            expect(run.stdout + run.stderr).not.toContain(leaked);
        }),
    );

    test.concurrent("fails at step canary when Key Vault lets the identity read the canary secret in rbac mode, never printing it", () =>
        withScenario(async (s) => {
            const canaryValue = "the canary's own value";
            s.keyVault.reset(keyVaultHandler({ baseUrl: s.keyVault.url, secretName: SECRET_NAME, value: SECRET, others: { [CANARY]: canaryValue } }));
            const run = await runVerifier(boundEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({ verdict: "fail", step: "canary" });
            expect(run.verdict.error).toBe("Key Vault let this identity read the canary secret canary, which nobody is granted: the identity reaches beyond its own secret");
            expect(run.stdout + run.stderr).not.toContain(canaryValue);
        }),
    );

    test.concurrent("in accessPolicy mode a readable canary secret is reported as readable by design, and the run passes", () =>
        withScenario(async (s) => {
            s.keyVault.reset(keyVaultHandler({ baseUrl: s.keyVault.url, secretName: SECRET_NAME, value: SECRET, others: { [CANARY]: "vault-wide" } }));
            const run = await runVerifier(boundEnv(s, { KEYVAULT_AUTHORIZATION: "accessPolicy" }));
            expect(run.code).toBe(0);
            expect(run.verdict.canary?.secret).toMatch(/^readable by design: access policies apply to the whole vault \(keyVaultAuthorization accessPolicy\)/);
            expect(run.verdict.canary).toMatchObject({ containerRead: "refused", containerWrite: "refused" });
            expect(run.stdout + run.stderr).not.toContain("vault-wide");
        }),
    );

    test.concurrent("in accessPolicy mode a refused canary secret is reported as refused", () =>
        withScenario(async (s) => {
            const run = await runVerifier(boundEnv(s, { KEYVAULT_AUTHORIZATION: "accessPolicy" }));
            expect(run.code).toBe(0);
            expect(run.verdict.canary?.secret).toBe("refused");
        }),
    );

    test("fails at step canary when Storage lets the identity into the canary container", async () => {
        const open = await startRbacProxy({ azurite, tls, denied: [] });
        try {
            await withScenario(async (s) => {
                const run = await runVerifier(boundEnv(s, { BLOB_ENDPOINT: open.endpoint }));
                expect(run.code).toBe(1);
                expect(run.verdict).toMatchObject({ verdict: "fail", step: "canary" });
                expect(run.verdict.error).toBe("Storage let this identity list the canary container canary, which nobody is granted: the identity reaches beyond its own container");
            });
        } finally {
            await open.close();
        }
    });

    test("fails at step canary when Storage refuses the canary's listing but lets the identity write into it", async () => {
        // A write-only grant on the canary: listing refused, writes accepted; the workload's own blob kept and read back.
        const blobs = new Map<string, string>();
        const server = await startFakeServer(tls);
        server.reset((r) => {
            if (r.url.pathname.startsWith(`/devstoreaccount1/${CANARY}`) && r.method === "GET") {
                return { status: 403, headers: { "x-ms-error-code": "AuthorizationPermissionMismatch" }, body: "" };
            }
            if (r.method === "PUT") {
                blobs.set(r.url.pathname, r.body);
                return { status: 201, body: "" };
            }
            return { status: 200, body: blobs.get(r.url.pathname) ?? "" };
        });
        try {
            await withScenario(async (s) => {
                const run = await runVerifier(boundEnv(s, { BLOB_ENDPOINT: `${server.url}/devstoreaccount1/` }));
                expect(run.code).toBe(1);
                expect(run.verdict).toMatchObject({ verdict: "fail", step: "canary" });
                expect(run.verdict.error).toMatch(/^Storage let this identity write canary\/verify\/alpha-.+ into the canary container, which nobody is granted/);
            });
        } finally {
            await server.close();
        }
    });
});

describe("verifier.js in unbound mode", () => {
    test.concurrent("passes when IMDS refuses the token", () =>
        withScenario(async (s) => {
            s.imds.reset(() => ({ status: 403, body: "no AzureAssignedIdentity found for pod default/verify-unbound in assigned state" }));
            const run = await runVerifier(unboundImdsEnv(s));
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "unbound", tokenSource: "imds", refusal: "HTTP 403 Forbidden", attempts: { token: 1 } });
            expect(run.verdict.elapsedSeconds).toBeLessThan(60);
            expect(run.stderr).toBe("verifier: token: requesting a Storage token from IMDS; it must be refused\n");
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("asks again after an answer that is no refusal (500), and passes on the refusal that follows", () =>
        withScenario(async (s) => {
            s.imds.reset(failingTimes(1, { status: 500, body: { error: "unknown_error" } }, () => ({ status: 403, body: "no AzureAssignedIdentity found" })));
            const run = await runVerifier(unboundImdsEnv(s));
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "unbound", refusal: "HTTP 403 Forbidden", attempts: { token: 2 } });
            expect(run.stderr).toContain("verifier: token: attempt 1 failed (HTTP 500 Internal Server Error (unknown_error)); retrying in 0.1s");
        }),
    );

    // NMI in standard mode (the open-source aad-pod-identity) searches for the pod's identity for 80 s
    // before it refuses a pod that has none (pkg/nmi/standard.go): the refusal outlasts a data-plane
    // request timeout, and must still be waited for.
    test.concurrent("passes when IMDS refuses only after holding the request longer than a data-plane request may take", () =>
        withScenario(async (s) => {
            s.imds.reset(() => ({ status: 403, body: "getting assigned identities for pod alpha/verify-unbound in CREATED state failed after 16 attempts", delayMs: 2_500 }));
            const run = await runVerifier(unboundImdsEnv(s));
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "unbound", tokenSource: "imds", refusal: "HTTP 403 Forbidden", attempts: { token: 1 } });
            expect(Number(unboundImdsEnv(s).REQUEST_TIMEOUT_SECONDS) * 1000).toBeLessThan(2_500);
        }),
    );

    test.concurrent("a token request that outlasts its own timeout is given up, and the verdict is inconclusive", () =>
        withScenario(async (s) => {
            s.imds.reset(() => ({ status: 403, body: "late", delayMs: 2_500 }));
            const run = await runVerifier(unboundImdsEnv(s, { TOKEN_REQUEST_TIMEOUT_SECONDS: "1", TOKEN_BUDGET_SECONDS: "1.5" }));
            expect(run.verdict).toMatchObject({ verdict: "fail", mode: "unbound", step: "token" });
            expect(run.verdict.error).toMatch(/^inconclusive: /);
        }),
    );

    test.concurrent("fails when a token is granted without the binding", () =>
        withScenario(async (s) => {
            const run = await runVerifier(unboundImdsEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({
                verdict: "fail",
                mode: "unbound",
                step: "token",
                error: "got a token without the binding: the identity is not guarded",
            });
            expect(s.tokens.issued).toHaveLength(1);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("passes with Workload ID when the pod has no federated token file", () =>
        withScenario(async (s) => {
            const run = await runVerifier({ ...unboundBase(), ...workloadIdentityVars(s), AZURE_FEDERATED_TOKEN_FILE: path.join(s.dir, "absent-token") });
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "unbound", tokenSource: "workloadIdentity" });
            expect(run.verdict.refusal).toContain("no federated token file");
            expect(s.entra.requests).toHaveLength(0);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent.each([
        { variant: "invalid_request" as const, refusal: "HTTP 400 Bad Request (invalid_request, AADSTS70021)" },
        { variant: "invalid_client" as const, refusal: "HTTP 401 Unauthorized (invalid_client, AADSTS70021)" },
    ])("passes when Entra finds no federated credential for the service account ($variant)", ({ variant, refusal }) =>
        withScenario(async (s) => {
            s.entra.reset(() => entraNoMatchingFederatedIdentity(UNBOUND_SUBJECT, variant));
            const run = await runVerifier(unboundWorkloadIdentityEnv(s));
            expect(run.code).toBe(0);
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "unbound", tokenSource: "workloadIdentity", workload: WORKLOAD, refusal, attempts: { token: 1 } });
            expect(s.entra.requests).toHaveLength(1);
            expect(new URLSearchParams(s.entra.requests[0].body).get("client_assertion")).toBe(FEDERATED_TOKEN);
            expectNoEntraFreeText(run);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("honours Entra's Retry-After when throttled (429), then passes on the refusal that follows", () =>
        withScenario(async (s) => {
            s.entra.reset(failingTimes(1, entraTooManyRequests(1), () => entraNoMatchingFederatedIdentity(UNBOUND_SUBJECT, "invalid_request")));
            const run = await runVerifier(unboundWorkloadIdentityEnv(s));
            expect(run.verdict).toMatchObject({ verdict: "pass", mode: "unbound", tokenSource: "workloadIdentity", attempts: { token: 2 } });
            expect(s.entra.requests[1].receivedAt - s.entra.requests[0].receivedAt).toBeGreaterThanOrEqual(950);
            expect(run.stderr).toContain("verifier: token: attempt 1 failed (HTTP 429 Too Many Requests); retrying in 1s");
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("fails when Entra grants a Workload ID token without the binding", () =>
        withScenario(async (s) => {
            const run = await runVerifier(unboundWorkloadIdentityEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({
                verdict: "fail",
                mode: "unbound",
                tokenSource: "workloadIdentity",
                step: "token",
                error: "got a token without the binding: the identity is not guarded",
                attempts: { token: 1 },
            });
            expect(s.tokens.issued).toHaveLength(1);
            expect(s.entra.requests.map((r) => new URLSearchParams(r.body).get("scope"))).toEqual(["https://storage.azure.com/.default"]);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("fails as inconclusive when Entra is unreachable for the whole budget", () =>
        withScenario(async (s) => {
            const port = await closedPort();
            const run = await runVerifier(unboundWorkloadIdentityEnv(s, { AZURE_AUTHORITY_HOST: `https://${UNUSED_HOST}:${port}/`, TOKEN_BUDGET_SECONDS: "1" }));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({ verdict: "fail", mode: "unbound", tokenSource: "workloadIdentity", step: "token" });
            expect(run.verdict.error).toMatch(/^inconclusive: Microsoft Entra ID gave no definitive answer within 1s \(last: .*ECONNREFUSED.*\)$/);
            expect(run.verdict.attempts?.token).toBeGreaterThan(1);
            expect(s.entra.requests).toHaveLength(0);
            expectNothingSensitive(run, s);
        }),
    );

    test.concurrent("fails as inconclusive when the token endpoint is unreachable for the whole budget", () =>
        withScenario(async (s) => {
            const port = await closedPort();
            const run = await runVerifier(unboundImdsEnv(s, { IMDS_ENDPOINT: `http://${UNUSED_HOST}:${port}`, TOKEN_BUDGET_SECONDS: "1" }));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({ verdict: "fail", mode: "unbound", step: "token" });
            expect(run.verdict.error).toMatch(/^inconclusive: .*ECONNREFUSED/);
            expect(run.verdict.attempts?.token).toBeGreaterThan(1);
            expectNothingSensitive(run, s);
        }),
    );
});

// ---------------------------------------------------------------------------------------------
// Impostor mode
// ---------------------------------------------------------------------------------------------
// Another tenant's pod, in its own namespace, tries to take the workload's identity through the
// Kubernetes API (dry runs that admission must refuse) or Entra (its own token for the workload's
// client id). Each case gets its own fake API server and Entra.

/** One attempt as the impostor's verdict lists it. */
interface ImpostorAttempt {
    attempt: string;
    status: number | null;
    refusedBy?: string;
    binding?: string;
    code?: string;
    message?: string;
    error?: string;
}

interface ImpostorVerdict {
    verdict: "pass" | "fail";
    mode: string | null;
    tokenSource?: string;
    workload?: string;
    namespace?: string;
    target?: string;
    step?: string;
    error?: string;
    missing?: string[];
    attempts?: ImpostorAttempt[];
    elapsedSeconds?: number;
}

const IMPOSTOR_NAMESPACE = "tenant-b";
const BINDING_SELECTOR = "alpha";
const LABEL_GUARD = "aadpodidbinding-guard-alpha";
const CRD_GUARD = "aadpodidentity-guard";
const IDENTITY_RESOURCE_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-aiv-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-dev-alpha";
const POD_IDENTITY_CHECKS = "labelledPod,azureIdentity,podIdentityException";
const IMPOSTOR_SUBJECT = `system:serviceaccount:${IMPOSTOR_NAMESPACE}:impostor`;
/** The impostor's own projected token for Entra: the cluster's issuer, its own subject. */
const IMPOSTOR_TOKEN = makeJwt({ iss: CLUSTER_OIDC_ISSUER, sub: IMPOSTOR_SUBJECT, aud: ["api://AzureADTokenExchange"], exp: 4102444800 });
/** What the label guard's messageExpression says of the impostor's pod. */
const LABEL_GUARD_MESSAGE = `pods labelled aadpodidbinding=${BINDING_SELECTOR} must run in namespace alpha as service account alpha; this pod is in namespace ${IMPOSTOR_NAMESPACE} as service account default`;
const CRD_GUARD_MESSAGE = "aadpodidentity.k8s.io objects are written by the stack's deployer only";
/** The writes, by attempt: the resource the fake serves and the guard that must refuse it. */
const WRITES = [
    { attempt: "labelledPod", resource: "pods", policy: LABEL_GUARD },
    { attempt: "azureIdentity", resource: "azureidentities", policy: CRD_GUARD },
    { attempt: "azureIdentityBinding", resource: "azureidentitybindings", policy: CRD_GUARD },
    { attempt: "podIdentityException", resource: "azurepodidentityexceptions", policy: CRD_GUARD },
] as const;

/** The Kubernetes API's service-account token of the impostor, with a serial so rotations differ. */
function kubeToken(serial: number): string {
    return makeJwt({ iss: "https://kubernetes.default.svc.cluster.local", sub: IMPOSTOR_SUBJECT, aud: ["https://kubernetes.default.svc"], jti: `impostor-${serial}` });
}

/** One impostor case: the API server, Entra and the impostor's token files. */
interface ImpostorScenario {
    kube: FakeKubeApi;
    entra: FakeServer;
    tokens: TokenLog;
    dir: string;
    kubeTokenFile: string;
    impostorTokenFile: string;
    /** Every Kubernetes token the case used, rotated ones included. */
    kubeTokens: string[];
}

/** The guards as deployed: each refuses the writes it is there to refuse. */
function refusedByTheGuards(kube: FakeKubeApi): void {
    kube.answer("pods", { kind: "policyDenial", policy: LABEL_GUARD, message: LABEL_GUARD_MESSAGE });
    for (const resource of ["azureidentities", "azureidentitybindings", "azurepodidentityexceptions"]) {
        kube.answer(resource, { kind: "policyDenial", policy: CRD_GUARD, message: CRD_GUARD_MESSAGE });
    }
}

/** Runs `body` with a fake API server whose guards refuse everything and an Entra that trusts only the workload's token. */
async function withImpostorScenario(body: (s: ImpostorScenario) => Promise<void>): Promise<void> {
    const dir = fs.mkdtempSync(path.join(workDir, "impostor-"));
    const tokens = new TokenLog();
    const first = kubeToken(0);
    const [kube, entra] = await Promise.all([startFakeKubeApi({ tls: kubeTls, token: first }), startFakeServer(tls)]);
    const s: ImpostorScenario = { kube, entra, tokens, dir, kubeTokenFile: path.join(dir, "token"), impostorTokenFile: path.join(dir, "azure-identity-token"), kubeTokens: [first] };
    fs.writeFileSync(s.kubeTokenFile, first);
    fs.writeFileSync(s.impostorTokenFile, IMPOSTOR_TOKEN);
    refusedByTheGuards(kube);
    entra.reset(entraHandler({ tokens, tenantId: TENANT_ID, clientId: CLIENT_ID, assertion: FEDERATED_TOKEN }));
    try {
        await body(s);
    } finally {
        await Promise.all([kube.close(), entra.close()]);
    }
}

/** The pod-identity modes' impostor Job. */
function impostorEnv(s: ImpostorScenario, overrides: Record<string, string> = {}): Record<string, string> {
    return {
        VERIFY_MODE: "impostor",
        TOKEN_SOURCE: "imds",
        WORKLOAD,
        IMPOSTOR_CHECKS: POD_IDENTITY_CHECKS,
        IMPOSTOR_NAMESPACE,
        TARGET_NAMESPACE: WORKLOAD,
        BINDING_SELECTOR,
        IDENTITY_RESOURCE_ID,
        TARGET_CLIENT_ID: CLIENT_ID,
        LABEL_GUARD_POLICY: LABEL_GUARD,
        CRD_GUARD_POLICY: CRD_GUARD,
        KUBE_API_URL: s.kube.url,
        KUBE_TOKEN_FILE: s.kubeTokenFile,
        KUBE_CA_FILE: kubeTls.certPath,
        ACCESS_BUDGET_SECONDS: "3",
        TOKEN_BUDGET_SECONDS: "3",
        ...FAST,
        ...overrides,
    };
}

/** Workload ID's impostor Job: the token exchange only, no Kubernetes API. */
function tokenExchangeEnv(s: ImpostorScenario, overrides: Record<string, string> = {}): Record<string, string> {
    return {
        VERIFY_MODE: "impostor",
        TOKEN_SOURCE: "workloadIdentity",
        WORKLOAD,
        IMPOSTOR_CHECKS: "tokenExchange",
        IMPOSTOR_NAMESPACE,
        TARGET_NAMESPACE: WORKLOAD,
        TARGET_CLIENT_ID: CLIENT_ID,
        AZURE_TENANT_ID: TENANT_ID,
        AZURE_AUTHORITY_HOST: `${s.entra.url}/`,
        IMPOSTOR_TOKEN_FILE: s.impostorTokenFile,
        TOKEN_BUDGET_SECONDS: "3",
        ...FAST,
        ...overrides,
    };
}

/** No output may contain a Kubernetes token, the impostor's or the workload's Entra assertion, or an issued token. */
function expectNoImpostorSecrets(run: { stdout: string; stderr: string }, s: ImpostorScenario): void {
    for (const sensitive of [...s.kubeTokens, IMPOSTOR_TOKEN, FEDERATED_TOKEN, ...s.tokens.issued]) {
        expect(run.stdout).not.toContain(sensitive);
        expect(run.stderr).not.toContain(sensitive);
    }
}

/** The attempts every guard refused, as the verdict lists them: each with the guard's own words. */
function refusedAttempts(): ImpostorAttempt[] {
    return WRITES.map((w) => ({ attempt: w.attempt, status: 403, refusedBy: w.policy, binding: w.policy, message: w.policy === LABEL_GUARD ? LABEL_GUARD_MESSAGE : CRD_GUARD_MESSAGE }));
}

/** A clock that never waits: each pause moves it on at once, so budgets are counted, not waited for. */
function virtualClock(): { clock: Clock; sleeps: number[] } {
    let now = 0;
    const sleeps: number[] = [];
    return {
        sleeps,
        clock: {
            now: () => now,
            sleep: async (ms: number) => {
                sleeps.push(ms);
                now += ms;
            },
        },
    };
}

/** The Job's run (`run`) in this process, with `clock`; its progress lines are returned with the verdict. */
async function verifyInProcess(env: Record<string, string>, clock: Clock): Promise<{ verdict: ImpostorVerdict; exitCode: number; lines: string[] }> {
    const lines: string[] = [];
    const { exitCode, verdictLine } = await verifier.run(env, (line) => lines.push(line), { clock });
    return { verdict: JSON.parse(verdictLine) as ImpostorVerdict, exitCode, lines };
}

describe("verifier/impostor.js: how an answer of the API server reads", () => {
    /** The impostor's part of the config read, failing with the reader's error when it refused. */
    const impostorConfig = (result: ConfigResult): { checks: string[]; kubeApi: unknown } => {
        if (!result.ok) {
            throw new Error(result.error);
        }
        return (result.config as unknown as { impostor: { checks: string[]; kubeApi: unknown } }).impostor;
    };

    const denial = (policy: string, binding = policy) =>
        JSON.stringify({
            kind: "Status",
            status: "Failure",
            reason: "Forbidden",
            code: 403,
            message: `pods "impostor-alpha" is forbidden: ValidatingAdmissionPolicy '${policy}' with binding '${binding}' denied request: ${LABEL_GUARD_MESSAGE}`,
        });

    test("a ValidatingAdmissionPolicy's denial names its policy and binding, read from the API server's wording", () => {
        expect(impostor.parsePolicyDenial(`pods "x" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: failed expression: x`)).toEqual({
            policy: "p",
            binding: "b",
            message: "failed expression: x",
        });
        expect(impostor.parsePolicyDenial(`pods "x" is forbidden: ValidatingAdmissionPolicy 'p' denied request: failed to configure policy: x`)).toEqual({
            policy: "p",
            binding: undefined,
            message: "failed to configure policy: x",
        });
        expect(impostor.parsePolicyDenial(`pods "x" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true`)).toBeUndefined();
    });

    test("only the expected policy's denial is a refusal, whatever the status its reason chose; the policy's name in the message alone is not", () => {
        expect(impostor.readAdmissionAnswer(403, denial(LABEL_GUARD, "guard-binding"), LABEL_GUARD)).toEqual({
            kind: "refused",
            policy: LABEL_GUARD,
            binding: "guard-binding",
            message: LABEL_GUARD_MESSAGE,
        });
        expect(impostor.readAdmissionAnswer(422, denial(LABEL_GUARD).replace('"Forbidden"', '"Invalid"'), LABEL_GUARD)).toMatchObject({ kind: "refused" });
        const other = JSON.stringify({ kind: "Status", code: 403, message: `pods "x" is forbidden: ValidatingAdmissionPolicy 'other' with binding 'other' denied request: unlike ${LABEL_GUARD}` });
        expect(impostor.readAdmissionAnswer(403, other, LABEL_GUARD)).toMatchObject({ kind: "otherPolicy", policy: "other" });
    });

    test("RBAC's refusal, 404, admission, server errors and other refusals each read as themselves", () => {
        const rbac = JSON.stringify({
            kind: "Status",
            code: 403,
            message: `pods is forbidden: User "${IMPOSTOR_USER}" cannot create resource "pods" in API group "" in the namespace "tenant-b"`,
        });
        expect(impostor.readAdmissionAnswer(403, rbac, LABEL_GUARD).kind).toBe("rbac");
        // The authorizer answers 403 only: its wording under another status is something else's.
        expect(impostor.readAdmissionAnswer(400, rbac, LABEL_GUARD).kind).toBe("other");
        expect(impostor.readAdmissionAnswer(404, JSON.stringify({ kind: "Status", code: 404, message: "the server could not find the requested resource" }), LABEL_GUARD).kind).toBe("notServed");
        expect(impostor.readAdmissionAnswer(201, "{}", LABEL_GUARD).kind).toBe("admitted");
        expect([408, 429, 500, 503].map((status) => impostor.readAdmissionAnswer(status, "", LABEL_GUARD).kind)).toEqual(["retry", "retry", "retry", "retry"]);
        const podSecurity = JSON.stringify({ kind: "Status", code: 403, message: `pods "x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false` });
        expect(impostor.readAdmissionAnswer(403, podSecurity, LABEL_GUARD).kind).toBe("other");
        expect(impostor.readAdmissionAnswer(400, "not json", LABEL_GUARD)).toEqual({ kind: "other", message: "" });
    });

    test("an admitted write is a 2xx; a body that is not a Status has no message", () => {
        const read = (status: number, body = "{}") => impostor.readAdmissionAnswer(status, body, LABEL_GUARD);
        expect([199, 200, 299, 300].map((status) => read(status).kind)).toEqual(["other", "admitted", "admitted", "other"]);
        for (const body of ["null", "[]", "7", JSON.stringify({ message: 42 })]) {
            expect([body, read(422, body)]).toEqual([body, { kind: "other", message: "" }]);
        }
        expect(read(422, JSON.stringify({ message: "spec.containers: Required value" }))).toEqual({ kind: "other", message: "spec.containers: Required value" });
    });

    test("readConfig asks for what the requested checks need, and only that", () => {
        const base = { VERIFY_MODE: "impostor", TOKEN_SOURCE: "imds", WORKLOAD, IMPOSTOR_NAMESPACE, TARGET_NAMESPACE: WORKLOAD };
        const pod = verifier.readConfig({ ...base, IMPOSTOR_CHECKS: "labelledPod" });
        expect(!pod.ok && pod.missing).toEqual(["BINDING_SELECTOR", "LABEL_GUARD_POLICY", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"]);
        const crds = verifier.readConfig({ ...base, IMPOSTOR_CHECKS: "azureIdentity, podIdentityException", KUBE_API_URL: "https://127.0.0.1:6443" });
        expect(!crds.ok && crds.missing).toEqual(["BINDING_SELECTOR", "IDENTITY_RESOURCE_ID", "TARGET_CLIENT_ID", "CRD_GUARD_POLICY"]);
        const exchange = verifier.readConfig({ ...base, IMPOSTOR_CHECKS: "tokenExchange" });
        expect(!exchange.ok && exchange.missing).toEqual(["TARGET_CLIENT_ID", "AZURE_TENANT_ID", "IMPOSTOR_TOKEN_FILE"]);
        const same = verifier.readConfig({
            ...base,
            TARGET_NAMESPACE: IMPOSTOR_NAMESPACE,
            IMPOSTOR_CHECKS: "tokenExchange",
            TARGET_CLIENT_ID: CLIENT_ID,
            AZURE_TENANT_ID: TENANT_ID,
            IMPOSTOR_TOKEN_FILE: "/t",
        });
        expect(!same.ok && same.error).toBe("IMPOSTOR_NAMESPACE must differ from TARGET_NAMESPACE (both 'tenant-b'): the impostor plays another tenant of the cluster");
    });

    test("a variable that is missing is named as missing, not also as invalid; spaces in the list of checks are no part of a name", () => {
        const env = {
            VERIFY_MODE: "impostor",
            TOKEN_SOURCE: "imds",
            WORKLOAD,
            IMPOSTOR_CHECKS: " labelledPod , podIdentityException ",
            BINDING_SELECTOR,
            LABEL_GUARD_POLICY: LABEL_GUARD,
            CRD_GUARD_POLICY: CRD_GUARD,
            KUBERNETES_SERVICE_HOST: "10.0.0.1",
        };
        const missing = verifier.readConfig(env);
        expect(!missing.ok && missing.error).toBe("missing environment variables IMPOSTOR_NAMESPACE, TARGET_NAMESPACE, KUBERNETES_SERVICE_PORT");
        const complete = verifier.readConfig({ ...env, IMPOSTOR_NAMESPACE, TARGET_NAMESPACE: WORKLOAD, KUBERNETES_SERVICE_PORT: "443" });
        expect(impostorConfig(complete).checks).toEqual(["labelledPod", "podIdentityException"]);
    });

    test("the API server is reached at KUBERNETES_SERVICE_HOST and _PORT over https, unless KUBE_API_URL says otherwise", () => {
        const env = {
            VERIFY_MODE: "impostor",
            TOKEN_SOURCE: "imds",
            WORKLOAD,
            IMPOSTOR_NAMESPACE,
            TARGET_NAMESPACE: WORKLOAD,
            IMPOSTOR_CHECKS: "podIdentityException",
            CRD_GUARD_POLICY: CRD_GUARD,
            KUBERNETES_SERVICE_HOST: "fd00::1",
            KUBERNETES_SERVICE_PORT: "443",
        };
        expect(impostorConfig(verifier.readConfig(env)).kubeApi).toEqual({
            url: "https://[fd00::1]:443",
            tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
            caFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        });
        expect(impostorConfig(verifier.readConfig({ ...env, KUBE_API_URL: "https://127.0.0.1:6443", KUBE_TOKEN_FILE: "/t", KUBE_CA_FILE: "/c" })).kubeApi).toEqual({
            url: "https://127.0.0.1:6443",
            tokenFile: "/t",
            caFile: "/c",
        });
    });
});

describe("verifier.js in impostor mode", () => {
    test.concurrent("passes when the label guard refuses the labelled pod and the CRD guard the AzureIdentity, its binding and the exception", () =>
        withImpostorScenario(async (s) => {
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s));
            expect([run.code, run.verdict.error]).toEqual([0, undefined]);
            expect(run.verdict).toEqual({
                verdict: "pass",
                mode: "impostor",
                tokenSource: "imds",
                workload: WORKLOAD,
                namespace: IMPOSTOR_NAMESPACE,
                target: WORKLOAD,
                attempts: refusedAttempts(),
                elapsedSeconds: expect.any(Number),
            });
            // What the impostor tried to create, in its own namespace.
            expect(s.kube.requests.map((r) => [r.method, r.path])).toEqual([
                ["POST", `/api/v1/namespaces/${IMPOSTOR_NAMESPACE}/pods`],
                ["POST", `/apis/aadpodidentity.k8s.io/v1/namespaces/${IMPOSTOR_NAMESPACE}/azureidentities`],
                ["POST", `/apis/aadpodidentity.k8s.io/v1/namespaces/${IMPOSTOR_NAMESPACE}/azureidentitybindings`],
                ["POST", `/apis/aadpodidentity.k8s.io/v1/namespaces/${IMPOSTOR_NAMESPACE}/azurepodidentityexceptions`],
            ]);
            const [pod, identity, binding, exception] = s.kube.requests.map((r) => r.body as { metadata: { name: string; labels: Record<string, string> }; spec: Record<string, unknown> });
            expect(pod.metadata.labels.aadpodidbinding).toBe(BINDING_SELECTOR);
            expect(identity.spec).toEqual({ type: 0, resourceID: IDENTITY_RESOURCE_ID, clientID: CLIENT_ID });
            expect(binding.spec).toEqual({ azureIdentity: identity.metadata.name, selector: BINDING_SELECTOR });
            expect(exception.spec).toEqual({ podLabels: { app: "impostor" } });
            expect([identity, binding, exception].map((o) => o.metadata)).toEqual(
                ["impostor-alpha", "impostor-alpha-binding", "impostor-alpha-exception"].map((name) => ({ name, namespace: IMPOSTOR_NAMESPACE, labels: { app: "impostor" } })),
            );
            expect(s.entra.requests).toHaveLength(0);
            // The log says what each write is and which guard must refuse it, then who did.
            expect(run.stderr.split("\n")).toEqual([
                `verifier: impostor: labelledPod: creating (dry run) pod impostor-alpha labelled aadpodidbinding=alpha in namespace ${IMPOSTOR_NAMESPACE}; ValidatingAdmissionPolicy '${LABEL_GUARD}' must refuse it`,
                `verifier: impostor: labelledPod: refused by ValidatingAdmissionPolicy '${LABEL_GUARD}'`,
                ...["azureIdentity", "azureIdentityBinding", "podIdentityException"].flatMap((attempt) => [
                    expect.stringMatching(
                        new RegExp(`^verifier: impostor: ${attempt}: creating \\(dry run\\) .+ in namespace ${IMPOSTOR_NAMESPACE}; ValidatingAdmissionPolicy '${CRD_GUARD}' must refuse it$`),
                    ),
                    `verifier: impostor: ${attempt}: refused by ValidatingAdmissionPolicy '${CRD_GUARD}'`,
                ]),
                "",
            ]);
            expectNoImpostorSecrets(run, s);
        }),
    );

    test.concurrent("reads its token without the file's line end, and the API server's URL without its trailing slashes", () =>
        withImpostorScenario(async (s) => {
            fs.writeFileSync(s.kubeTokenFile, `${s.kubeTokens[0]}\n`);
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod", KUBE_API_URL: `${s.kube.url}//` }));
            expect([run.code, run.verdict.error]).toEqual([0, undefined]);
            expect(s.kube.requests.map((r) => [r.method, r.path])).toEqual([["POST", `/api/v1/namespaces/${IMPOSTOR_NAMESPACE}/pods`]]);
            expect(run.verdict.elapsedSeconds).toBeLessThan(60);
        }),
    );

    test.concurrent("the labelled pod meets Pod Security Standards restricted, so that only the label guard has a reason to refuse it", () =>
        withImpostorScenario(async (s) => {
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod", VERIFIER_IMAGE: "mcr.microsoft.com/azurelinux/base/nodejs:20" }));
            expect(run.code).toBe(0);
            // The whole pod: restricted's every control, and nothing a guard other than the label's could refuse.
            const seccompProfile = { type: "RuntimeDefault" };
            expect(s.kube.requestsFor("pods")[0].body).toEqual({
                apiVersion: "v1",
                kind: "Pod",
                metadata: { name: "impostor-alpha", namespace: IMPOSTOR_NAMESPACE, labels: { app: "impostor", aadpodidbinding: BINDING_SELECTOR } },
                spec: {
                    automountServiceAccountToken: false,
                    restartPolicy: "Never",
                    securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile },
                    containers: [
                        {
                            name: "impostor",
                            image: "mcr.microsoft.com/azurelinux/base/nodejs:20",
                            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, runAsNonRoot: true, seccompProfile },
                            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
                        },
                    ],
                },
            });
        }),
    );

    test.concurrent("every request is a dry run carrying the bearer token, read afresh from the token file for each request", () =>
        withImpostorScenario(async (s) => {
            // The kubelet rotates the projected token between two requests: the fake takes only the new one.
            s.kube.onRequest = () => {
                const next = kubeToken(s.kubeTokens.length);
                s.kubeTokens.push(next);
                fs.writeFileSync(`${s.kubeTokenFile}.staged`, next);
                fs.renameSync(`${s.kubeTokenFile}.staged`, s.kubeTokenFile);
                s.kube.token = next;
            };
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s));
            expect([run.code, run.verdict.error]).toEqual([0, undefined]);
            expect(s.kube.requests).toHaveLength(4);
            expect(s.kube.requests.map((r) => r.query.getAll("dryRun"))).toEqual([["All"], ["All"], ["All"], ["All"]]);
            expect(s.kube.requests.map((r) => r.authorization)).toEqual(s.kubeTokens.slice(0, 4).map((t) => `Bearer ${t}`));
            expect(s.kube.requests.map((r) => r.status)).toEqual([403, 403, 403, 403]);
            expectNoImpostorSecrets(run, s);
        }),
    );

    test.concurrent("the fake API server refuses a write that is not a dry run (so the dry runs above are proven)", () =>
        withImpostorScenario(async (s) => {
            const write = (query: string) =>
                request(`${s.kube.url}/api/v1/namespaces/${IMPOSTOR_NAMESPACE}/pods${query}`, {
                    method: "POST",
                    headers: { Authorization: `Bearer ${s.kube.token}`, "Content-Type": "application/json" },
                    body: JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } }),
                    ca: kubeTls.cert,
                });
            expect((await write("")).status).toBe(400);
            expect((await write("?dryRun=None")).status).toBe(400);
            expect((await write("?dryRun=All")).status).toBe(403);
        }),
    );

    test.concurrent("never prints the Kubernetes token, even when the API server's message quotes it, and repeats at most 300 characters", () =>
        withImpostorScenario(async (s) => {
            const token = s.kubeTokens[0];
            s.kube.answer("pods", { kind: "policyDenial", policy: LABEL_GUARD, message: `the request carried ${token}` });
            // The 300-character cut falls inside the token: redacted first, no part of it survives.
            s.kube.answer("azureidentities", { kind: "policyDenial", policy: CRD_GUARD, message: `${"a".repeat(295)}${token}` });
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod,azureIdentity" }));
            expect(run.code).toBe(0);
            expect(run.verdict.attempts?.[0].message).toBe("the request carried [redacted]");
            expect(run.verdict.attempts?.[1].message).toBe(`${"a".repeat(295)}[r...`);
            expect(run.stdout + run.stderr).not.toContain(token.slice(0, 12));
            expectNoImpostorSecrets(run, s);
        }),
    );

    test.concurrent.each(WRITES.map((w) => ({ ...w })))("fails naming $attempt when the API server admits it", ({ attempt, resource, policy }) =>
        withImpostorScenario(async (s) => {
            s.kube.answer(resource, { kind: "admit" });
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({ verdict: "fail", mode: "impostor", step: "impostor", namespace: IMPOSTOR_NAMESPACE, target: WORKLOAD });
            expect(run.verdict.error).toMatch(new RegExp(`^${attempt} was not refused as it must be: the API server admitted .+ \\(HTTP 201, dry run\\): ValidatingAdmissionPolicy '${policy}' \\(`));
            // Every attempt still ran and is listed; only the admitted one failed.
            expect(run.verdict.attempts?.map((a) => [a.attempt, a.status, a.refusedBy ?? "not refused"])).toEqual(
                WRITES.map((w) => (w.attempt === attempt ? [w.attempt, 201, "not refused"] : [w.attempt, 403, w.policy])),
            );
            expectNoImpostorSecrets(run, s);
        }),
    );

    test.concurrent("fails, saying the attempt proves nothing, when RBAC refuses the write before the policy could", () =>
        withImpostorScenario(async (s) => {
            s.kube.answer("azureidentities", { kind: "rbacDenial" });
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict.error).toBe(
                `azureIdentity was not refused as it must be: AzureIdentity impostor-alpha naming the workload's identity was refused by the authorizer (RBAC), not by ValidatingAdmissionPolicy '${CRD_GUARD}' (CRD_GUARD_POLICY): ` +
                    `the impostor lacks the right to create azureidentities.aadpodidentity.k8s.io in namespace ${IMPOSTOR_NAMESPACE}, so the attempt proves nothing`,
            );
            expect(run.verdict.attempts?.[1]).toMatchObject({
                attempt: "azureIdentity",
                status: 403,
                message: `azureidentities.aadpodidentity.k8s.io is forbidden: User "${IMPOSTOR_USER}" cannot create resource "azureidentities" in API group "aadpodidentity.k8s.io" in the namespace "${IMPOSTOR_NAMESPACE}"`,
            });
            expect(run.verdict.attempts?.[1].refusedBy).toBeUndefined();
        }),
    );

    test.concurrent("when RBAC refuses every write, each attempt names the resource it could not create and its guard's variable", () =>
        withImpostorScenario(async (s) => {
            for (const resource of ["pods", "azureidentities", "azureidentitybindings", "azurepodidentityexceptions"]) {
                s.kube.answer(resource, { kind: "rbacDenial" });
            }
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s));
            expect(run.code).toBe(1);
            const guardAndResource = (run.verdict.attempts ?? []).map((a) => [a.attempt, /\(([A-Z_]+)\): the impostor lacks the right to create (\S+) in namespace/.exec(a.error ?? "")?.slice(1)]);
            expect(guardAndResource).toEqual([
                ["labelledPod", ["LABEL_GUARD_POLICY", "pods"]],
                ["azureIdentity", ["CRD_GUARD_POLICY", "azureidentities.aadpodidentity.k8s.io"]],
                ["azureIdentityBinding", ["CRD_GUARD_POLICY", "azureidentitybindings.aadpodidentity.k8s.io"]],
                ["podIdentityException", ["CRD_GUARD_POLICY", "azurepodidentityexceptions.aadpodidentity.k8s.io"]],
            ]);
        }),
    );

    test.concurrent("fails when a different ValidatingAdmissionPolicy refuses the labelled pod", () =>
        withImpostorScenario(async (s) => {
            s.kube.answer("pods", { kind: "policyDenial", policy: "aadpodidbinding-guard-beta", message: `mentions ${LABEL_GUARD} but is not it` });
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict.error).toBe(
                `labelledPod was not refused as it must be: pod impostor-alpha labelled aadpodidbinding=alpha was refused by ValidatingAdmissionPolicy 'aadpodidbinding-guard-beta', ` +
                    `not by ValidatingAdmissionPolicy '${LABEL_GUARD}' (LABEL_GUARD_POLICY): the attempt proves nothing of the guard`,
            );
            expect(run.verdict.attempts?.[0].refusedBy).toBeUndefined();
        }),
    );

    test.concurrent("fails when the API server does not serve aad-pod-identity's kinds (404)", () =>
        withImpostorScenario(async (s) => {
            for (const resource of ["azureidentities", "azureidentitybindings", "azurepodidentityexceptions"]) {
                s.kube.answer(resource, { kind: "notFound" });
            }
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict.error).toMatch(/^azureIdentity was not refused as it must be: the API server does not serve azureidentities\.aadpodidentity\.k8s\.io \(HTTP 404\)/);
            expect(run.verdict.attempts?.map((a) => a.status)).toEqual([403, 404, 404, 404]);
        }),
    );

    test.concurrent("fails when the service-account token file is missing, naming it", () =>
        withImpostorScenario(async (s) => {
            const absent = path.join(s.dir, "no-token");
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod", KUBE_TOKEN_FILE: absent }));
            expect(run.code).toBe(1);
            expect(run.verdict.error).toBe(
                `labelledPod was not refused as it must be: pod impostor-alpha labelled aadpodidbinding=alpha could not be tried: could not read the service-account token ${absent} (ENOENT)`,
            );
            expect(run.verdict.attempts).toEqual([{ attempt: "labelledPod", status: null, error: expect.any(String) }]);
            // A file that is not there is not asked for again within the budget.
            expect(run.stderr).not.toContain("retrying");
            expect(s.kube.requests).toHaveLength(0);
        }),
    );

    test.concurrent("fails, naming the file, when the service-account token file is empty or the cluster's CA cannot be read", () =>
        withImpostorScenario(async (s) => {
            const tried = "labelledPod was not refused as it must be: pod impostor-alpha labelled aadpodidbinding=alpha could not be tried";
            const empty = path.join(s.dir, "empty-token");
            fs.writeFileSync(empty, " \n");
            const noToken = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod", KUBE_TOKEN_FILE: empty }));
            expect([noToken.code, noToken.verdict.error]).toEqual([1, `${tried}: the service-account token ${empty} is empty`]);
            expect(noToken.stderr).not.toContain("retrying");
            const absentCa = path.join(s.dir, "no-ca.crt");
            const noCa = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod", KUBE_CA_FILE: absentCa }));
            expect([noCa.code, noCa.verdict.error]).toEqual([1, `${tried}: could not read the cluster's CA ${absentCa} (ENOENT)`]);
            expect(s.kube.requests).toHaveLength(0);
            expectNoImpostorSecrets(noCa, s);
        }),
    );

    test.concurrent("fails tokenExchange, naming the file, when the impostor's own token is missing or empty, and asks Entra nothing", () =>
        withImpostorScenario(async (s) => {
            const absent = path.join(s.dir, "no-azure-identity-token");
            const missing = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s, { IMPOSTOR_TOKEN_FILE: absent }));
            expect([missing.code, missing.verdict.error]).toEqual([
                1,
                `tokenExchange was not refused as it must be: the exchange could not be tried: could not read the impostor's token ${absent} (ENOENT)`,
            ]);
            fs.writeFileSync(s.impostorTokenFile, "\n");
            const empty = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s));
            expect([empty.code, empty.verdict.error]).toEqual([
                1,
                `tokenExchange was not refused as it must be: the exchange could not be tried: the impostor's token ${s.impostorTokenFile} is empty`,
            ]);
            expect(empty.verdict.attempts).toEqual([{ attempt: "tokenExchange", status: null, error: expect.any(String) }]);
            // Neither is read again within the budget.
            expect([missing.stderr, empty.stderr]).toEqual([expect.not.stringContaining("retrying"), expect.not.stringContaining("retrying")]);
            expect(s.entra.requests).toHaveLength(0);
        }),
    );

    test.concurrent("tokenExchange is inconclusive, not passed, when Entra cannot be reached", () =>
        withImpostorScenario(async (s) => {
            const port = await closedPort();
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s, { AZURE_AUTHORITY_HOST: `https://${UNUSED_HOST}:${port}/`, TOKEN_BUDGET_SECONDS: "0" }));
            expect(run.code).toBe(1);
            expect(run.verdict.error).toMatch(/^tokenExchange was not refused as it must be: inconclusive: Entra ID gave no definitive answer within [\d.]+s \(1 attempt; last: .*ECONNREFUSED.*\)$/);
            expect(run.stderr).toContain("verifier: impostor: tokenExchange: NOT properly refused: inconclusive: ");
            expectNoImpostorSecrets(run, s);
        }),
    );

    test("retries the API server's 500 and 503 within the access budget, honouring Retry-After, then passes", () =>
        withImpostorScenario(async (s) => {
            s.kube.answer(
                "pods",
                { kind: "serverError", status: 500 },
                { kind: "serverError", status: 503, retryAfterSeconds: 7 },
                { kind: "policyDenial", policy: LABEL_GUARD, message: LABEL_GUARD_MESSAGE },
            );
            const { clock, sleeps } = virtualClock();
            const result = await verifyInProcess(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod", ACCESS_BUDGET_SECONDS: "60", RETRY_INTERVAL_SECONDS: "5" }), clock);
            expect([result.exitCode, result.verdict.error]).toEqual([0, undefined]);
            expect(result.verdict).toMatchObject({ verdict: "pass", attempts: [{ attempt: "labelledPod", status: 403, refusedBy: LABEL_GUARD }], elapsedSeconds: 12 });
            expect(sleeps).toEqual([5000, 7000]);
            expect(s.kube.requests.map((r) => r.status)).toEqual([500, 503, 403]);
            expect(result.lines).toContain("verifier: impostor: labelledPod: attempt 1 failed (HTTP 500: Internal error occurred: etcdserver: request timed out); retrying in 5s, 60s left");
        }));

    test.concurrent("fails when another admission than the guard refuses the labelled pod, quoting it and saying the guard did not", () =>
        withImpostorScenario(async (s) => {
            const violation = 'runAsNonRoot != true (pod or container "impostor" must set securityContext.runAsNonRoot=true)';
            s.kube.answer("pods", { kind: "podSecurity", violation });
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod" }));
            const error = `the API server refused pod impostor-alpha labelled aadpodidbinding=alpha with HTTP 403, but not through ValidatingAdmissionPolicy '${LABEL_GUARD}' (LABEL_GUARD_POLICY)`;
            expect([run.code, run.verdict.error]).toEqual([1, `labelledPod was not refused as it must be: ${error}`]);
            expect(run.verdict.attempts).toEqual([
                { attempt: "labelledPod", status: 403, error, message: `pods "impostor-alpha" is forbidden: violates PodSecurity "restricted:latest": ${violation}` },
            ]);
            expect(run.stderr).toContain(`verifier: impostor: labelledPod: NOT properly refused: ${error}\n`);
        }),
    );

    test.concurrent("quotes a refusal on one line, whole up to 300 characters", () =>
        withImpostorScenario(async (s) => {
            const said = `pods "impostor-alpha" is forbidden: violates PodSecurity "restricted:latest": `;
            const violation = 'runAsNonRoot != true  (pod or container\n"impostor" must set securityContext.runAsNonRoot=true), ';
            const oneLine = `${said}${violation}`.replace(/\s+/g, " ");
            const pad = "x".repeat(300 - oneLine.length);
            s.kube.answer("pods", { kind: "podSecurity", violation: `${violation}${pad}` }, { kind: "podSecurity", violation: `${violation}${pad}y` });
            const whole = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod" }));
            expect(whole.verdict.attempts?.[0].message).toBe(`${oneLine}${pad}`);
            const cut = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod" }));
            expect(cut.verdict.attempts?.[0].message).toBe(`${oneLine}${pad.slice(0, -3)}...`);
        }),
    );

    test("fails as inconclusive after one attempt when a proxy before the API server answers without a Status, and says so in the singular", () =>
        withImpostorScenario(async (s) => {
            s.kube.answer("pods", { kind: "proxyError", status: 502 });
            const { clock } = virtualClock();
            const result = await verifyInProcess(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod", ACCESS_BUDGET_SECONDS: "0" }), clock);
            expect([result.exitCode, result.verdict.error]).toEqual([
                1,
                "labelledPod was not refused as it must be: inconclusive: the API server gave no answer to pod impostor-alpha labelled aadpodidbinding=alpha within 0s (1 attempt; last: HTTP 502)",
            ]);
            expect(result.verdict.attempts).toEqual([{ attempt: "labelledPod", status: 502, error: expect.any(String) }]);
        }));

    test("fails as inconclusive when the API server answers 500 for the whole access budget, and still tries the other writes", () =>
        withImpostorScenario(async (s) => {
            s.kube.answer("pods", { kind: "serverError", status: 500 });
            const { clock, sleeps } = virtualClock();
            const result = await verifyInProcess(impostorEnv(s, { ACCESS_BUDGET_SECONDS: "20", RETRY_INTERVAL_SECONDS: "5" }), clock);
            expect(result.exitCode).toBe(1);
            expect(result.verdict.error).toBe(
                "labelledPod was not refused as it must be: inconclusive: the API server gave no answer to pod impostor-alpha labelled aadpodidbinding=alpha within 20s " +
                    "(5 attempts; last: HTTP 500: Internal error occurred: etcdserver: request timed out)",
            );
            expect(sleeps).toEqual([5000, 5000, 5000, 5000]);
            expect(s.kube.requestsFor("pods")).toHaveLength(5);
            expect(result.verdict.attempts?.map((a) => [a.attempt, a.status, a.refusedBy])).toEqual([
                ["labelledPod", 500, undefined],
                ["azureIdentity", 403, CRD_GUARD],
                ["azureIdentityBinding", 403, CRD_GUARD],
                ["podIdentityException", 403, CRD_GUARD],
            ]);
        }));

    test("fails as inconclusive when the API server cannot be reached for the whole access budget", () =>
        withImpostorScenario(async (s) => {
            const port = await closedPort();
            const { clock } = virtualClock();
            const result = await verifyInProcess(
                impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod", KUBE_API_URL: `https://${UNUSED_HOST}:${port}`, ACCESS_BUDGET_SECONDS: "10", RETRY_INTERVAL_SECONDS: "5" }),
                clock,
            );
            expect(result.exitCode).toBe(1);
            expect(result.verdict.error).toMatch(/^labelledPod was not refused as it must be: inconclusive: the API server gave no answer to .+ within 10s \(3 attempts; last: .*ECONNREFUSED.*\)$/);
            expect(result.verdict.attempts).toEqual([{ attempt: "labelledPod", status: null, error: expect.stringMatching(/^inconclusive: /) }]);
        }));

    test.concurrent("passes tokenExchange when Entra finds no federated credential for the impostor's service account (AADSTS70021)", () =>
        withImpostorScenario(async (s) => {
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s));
            expect([run.code, run.verdict.error]).toEqual([0, undefined]);
            expect(run.verdict).toEqual({
                verdict: "pass",
                mode: "impostor",
                tokenSource: "workloadIdentity",
                workload: WORKLOAD,
                namespace: IMPOSTOR_NAMESPACE,
                target: WORKLOAD,
                attempts: [{ attempt: "tokenExchange", status: 400, refusedBy: "Entra ID", code: "AADSTS70021" }],
                elapsedSeconds: expect.any(Number),
            });
            expect(s.entra.requests).toHaveLength(1);
            const form = new URLSearchParams(s.entra.requests[0].body);
            expect([form.get("client_id"), form.get("client_assertion"), form.get("scope")]).toEqual([CLIENT_ID, IMPOSTOR_TOKEN, "https://vault.azure.net/.default"]);
            expect(s.kube.requests).toHaveLength(0);
            expect(run.stderr.split("\n")).toEqual([
                `verifier: impostor: tokenExchange: offering the impostor's own service-account token to Entra ID for client id ${CLIENT_ID}; it must be refused`,
                "verifier: impostor: tokenExchange: refused by Entra ID (AADSTS70021)",
                "",
            ]);
            expectNoEntraFreeText(run);
            expectNoImpostorSecrets(run, s);
        }),
    );

    test.concurrent.each([700211, 700212, 700213])("passes tokenExchange on the narrower refusal AADSTS%i, which Entra answers with 401", (code) =>
        withImpostorScenario(async (s) => {
            s.entra.reset(() => entraError(401, "invalid_client", code, "the assertion's issuer, audience or subject matches no federated credential"));
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s));
            expect([run.code, run.verdict.attempts]).toEqual([0, [{ attempt: "tokenExchange", status: 401, refusedBy: "Entra ID", code: `AADSTS${code}` }]]);
        }),
    );

    test.concurrent("asks Entra again after an answer that is no refusal (503), naming its code, and passes on the refusal that follows", () =>
        withImpostorScenario(async (s) => {
            s.entra.reset(failingTimes(1, { status: 503, body: { error: "temporarily_unavailable" } }, () => entraNoMatchingFederatedIdentity(IMPOSTOR_SUBJECT)));
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s));
            expect([run.code, run.verdict.attempts]).toEqual([0, [{ attempt: "tokenExchange", status: 400, refusedBy: "Entra ID", code: "AADSTS70021" }]]);
            expect(run.stderr).toContain("verifier: impostor: tokenExchange: attempt 1 failed (HTTP 503 (temporarily_unavailable)); retrying in 0.1s");
            expect(s.entra.requests).toHaveLength(2);
        }),
    );

    test.concurrent("asks Entra again after throttling (429, waiting as Retry-After asks), a timeout (408) and a 500, and passes on the refusal that follows", () =>
        withImpostorScenario(async (s) => {
            s.entra.reset(inTurn([entraTooManyRequests(1), { status: 408, body: "" }, { status: 500, body: { error: "server_error" } }], () => entraNoMatchingFederatedIdentity(IMPOSTOR_SUBJECT)));
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s));
            expect([run.code, run.verdict.attempts]).toEqual([0, [{ attempt: "tokenExchange", status: 400, refusedBy: "Entra ID", code: "AADSTS70021" }]]);
            expect(s.entra.requests).toHaveLength(4);
            expect(s.entra.requests[1].receivedAt - s.entra.requests[0].receivedAt).toBeGreaterThanOrEqual(950);
            for (const line of ["attempt 1 failed (HTTP 429); retrying in 1s", "attempt 2 failed (HTTP 408); retrying in 0.1s", "attempt 3 failed (HTTP 500 (server_error)); retrying in 0.1s"]) {
                expect(run.stderr).toContain(`verifier: impostor: tokenExchange: ${line}`);
            }
        }),
    );

    test.concurrent("tokenExchange that Entra keeps answering without a refusal is inconclusive, saying how often it asked", () =>
        withImpostorScenario(async (s) => {
            s.entra.reset(() => ({ status: 503, body: "busy" }));
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s, { TOKEN_BUDGET_SECONDS: "0.3" }));
            expect(run.code).toBe(1);
            expect(run.verdict.error).toMatch(/^tokenExchange was not refused as it must be: inconclusive: Entra ID gave no definitive answer within 0\.\d+s \([2-9]\d* attempts; last: HTTP 503\)$/);
        }),
    );

    test.concurrent("fails tokenExchange when Entra issues the workload's token to the impostor's service account", () =>
        withImpostorScenario(async (s) => {
            // A federated credential that trusts the impostor's subject too.
            s.entra.reset(entraHandler({ tokens: s.tokens, tenantId: TENANT_ID, clientId: CLIENT_ID, assertion: IMPOSTOR_TOKEN }));
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict).toMatchObject({ verdict: "fail", mode: "impostor", step: "impostor" });
            expect(run.verdict.error).toBe(
                `tokenExchange was not refused as it must be: Entra ID issued a token for client id ${CLIENT_ID} to the impostor's own service account in namespace ${IMPOSTOR_NAMESPACE} (HTTP 200): ` +
                    "a federated credential of the workload's identity trusts it",
            );
            expect(run.verdict.attempts).toEqual([{ attempt: "tokenExchange", status: 200, error: expect.any(String) }]);
            expect(s.tokens.issued).toHaveLength(1);
            expectNoImpostorSecrets(run, s);
        }),
    );

    test.concurrent("fails tokenExchange, saying it proves nothing, when Entra refuses for another reason than federation", () =>
        withImpostorScenario(async (s) => {
            const unknownClient = "00000000-0000-0000-0000-0000000000aa";
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s, { TARGET_CLIENT_ID: unknownClient }));
            expect(run.code).toBe(1);
            expect(run.verdict.error).toBe(
                "tokenExchange was not refused as it must be: Entra ID refused the exchange with HTTP 400 (unauthorized_client, AADSTS700016), " +
                    "but not for want of a matching federated credential (AADSTS70021): the attempt proves nothing",
            );
            expect(run.verdict.attempts?.[0]).toMatchObject({ attempt: "tokenExchange", status: 400, code: "AADSTS700016" });
            expectNoEntraFreeText(run);
        }),
    );

    test.concurrent.each([403, 300])("fails tokenExchange, saying it proves nothing, when Entra answers %i with no code", (status) =>
        withImpostorScenario(async (s) => {
            s.entra.reset(() => ({ status, body: "" }));
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict.error).toBe(
                `tokenExchange was not refused as it must be: Entra ID refused the exchange with HTTP ${status}, but not for want of a matching federated credential (AADSTS70021): the attempt proves nothing`,
            );
            expect(run.verdict.attempts).toEqual([{ attempt: "tokenExchange", status, error: expect.any(String) }]);
        }),
    );

    test.concurrent("fails tokenExchange, saying it proves nothing, when Entra names the federation code with a status it does not refuse with", () =>
        withImpostorScenario(async (s) => {
            s.entra.reset(() => ({ status: 403, body: JSON.stringify({ error: "invalid_client", error_description: "AADSTS70021: free text", error_codes: [70021] }) }));
            const run = await runVerifier<ImpostorVerdict>(tokenExchangeEnv(s));
            expect(run.code).toBe(1);
            expect(run.verdict.error).toBe(
                "tokenExchange was not refused as it must be: Entra ID refused the exchange with HTTP 403 (invalid_client, AADSTS70021), " +
                    "but not for want of a matching federated credential (AADSTS70021): the attempt proves nothing",
            );
            expect(run.verdict.attempts).toEqual([{ attempt: "tokenExchange", status: 403, code: "AADSTS70021", error: expect.any(String) }]);
            expectNoEntraFreeText(run);
        }),
    );

    test.concurrent("exits 2 when IMPOSTOR_CHECKS is missing", () =>
        withImpostorScenario(async (s) => {
            const { IMPOSTOR_CHECKS: _omitted, ...env } = impostorEnv(s);
            const run = await runVerifier<ImpostorVerdict>(env);
            expect(run.code).toBe(2);
            expect(run.verdict).toEqual({ verdict: "fail", mode: "impostor", step: "config", error: "missing environment variable IMPOSTOR_CHECKS", missing: ["IMPOSTOR_CHECKS"] });
            expect(s.kube.requests).toHaveLength(0);
        }),
    );

    test.concurrent("exits 2 naming an unknown check in IMPOSTOR_CHECKS and the ones allowed", () =>
        withImpostorScenario(async (s) => {
            const run = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: "labelledPod,stealSecret" }));
            expect(run.code).toBe(2);
            expect(run.verdict).toMatchObject({ verdict: "fail", mode: "impostor", step: "config", missing: [] });
            expect(run.verdict.error).toBe("IMPOSTOR_CHECKS names unknown check 'stealSecret' (allowed: 'labelledPod', 'azureIdentity', 'podIdentityException', 'tokenExchange')");
            expect(s.kube.requests).toHaveLength(0);
        }),
    );

    test.concurrent("exits 2 when a check asked alone lacks its guard's policy or the API server's address", () =>
        withImpostorScenario(async (s) => {
            const without = async (check: string, variable: "LABEL_GUARD_POLICY" | "CRD_GUARD_POLICY" | "KUBE_API_URL") => {
                const { [variable]: _omitted, ...env } = impostorEnv(s, { IMPOSTOR_CHECKS: check });
                const run = await runVerifier<ImpostorVerdict>(env);
                return [run.code, run.verdict.missing];
            };
            expect(await without("labelledPod", "LABEL_GUARD_POLICY")).toEqual([2, ["LABEL_GUARD_POLICY"]]);
            expect(await without("azureIdentity", "CRD_GUARD_POLICY")).toEqual([2, ["CRD_GUARD_POLICY"]]);
            expect(await without("podIdentityException", "CRD_GUARD_POLICY")).toEqual([2, ["CRD_GUARD_POLICY"]]);
            expect(await without("azureIdentity", "KUBE_API_URL")).toEqual([2, ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"]]);
            expect(await without("podIdentityException", "KUBE_API_URL")).toEqual([2, ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"]]);
            expect(s.kube.requests).toHaveLength(0);
        }),
    );

    test.concurrent("exits 2 when IMPOSTOR_CHECKS names no check", () =>
        withImpostorScenario(async (s) => {
            const empty = await runVerifier<ImpostorVerdict>(impostorEnv(s, { IMPOSTOR_CHECKS: " , " }));
            expect([empty.code, empty.verdict.error]).toEqual([2, expect.stringMatching(/^IMPOSTOR_CHECKS names no check/)]);
            expect(s.kube.requests).toHaveLength(0);
        }),
    );
});
