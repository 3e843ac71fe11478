// Each of the verifier's modules on its own, at the edges of what it decides: which statuses are
// retried, which inputs are refused and with what words, what a request carries. The Job's whole
// run is tests/verifier.test.ts; here a run's context is scripted (its clock, its requests'
// answers), and only the HTTP and TLS clients meet a loopback server.
import * as dgram from "dgram";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as nodeTls from "tls";
import { createTlsMaterial, type TlsMaterial } from "./fakes/azure";
import { startFakeDns } from "./fakes/dns";
import { policies } from "../policy/policies";
import { isResourcePolicy, validateResourceStep } from "../tools/policyOffline";
import type { PreviewStep } from "../tools/plan/types";

interface Failure {
    kind: "refused" | "unreachable" | "local";
    detail: string;
}
interface HttpResponse {
    status: number;
    statusText: string;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}
interface HttpRequest {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: string;
}
type RetryResult<T> = { ok: true; value: T; attempts: number; elapsedMs: number } | { ok: false; failure: Failure; attempts: number; elapsedMs: number };
type Config = { mode: string; tokenSource: string; budgets: Record<string, number> } & Record<string, unknown>;
type ConfigResult = { ok: true; config: Config } | { ok: false; mode: string | undefined; missing: string[]; error: string };
interface Reporter {
    remember(value: string): void;
    redact(text: string): string;
    log(line: string): void;
}
interface Context {
    config: Config;
    clock: { now(): number; sleep(ms: number): Promise<void> };
    reporter: Reporter;
    send(request: HttpRequest, timeoutMs: number): Promise<HttpResponse>;
    progress: { step: string };
}
/** What the private path reads of the `bound` mode's targets (config.js's readBoundTargets). */
interface BoundTargets {
    keyVaultUri: string;
    blobEndpoint: string;
    privateEndpointSubnet: string;
    dnsServer?: string;
}
type ProbeAnswer = { reached: true } | { reached: false; error: string };

/** The modules' exports these tests call (the modules are plain JavaScript, typed here). */
interface Modules {
    config: {
        nonEmpty(env: Record<string, string | undefined>, name: string): string | undefined;
        isHttpUrl(value: string): boolean;
        alternatives(values: readonly string[]): string;
        readConfig(env: Record<string, string | undefined>): ConfigResult;
    };
    http: {
        withoutTrailingSlash(url: string): string;
        parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined;
        field(value: unknown, key: string): unknown;
        azureErrorCodes(body: string, headers: Record<string, string | undefined>): string[];
        describeHttpFailure(response: HttpResponse): string;
        errorCode(err: unknown): string | undefined;
        describeError(err: unknown): string;
        sendHttp(request: HttpRequest, timeoutMs: number, pinned?: Map<string, string>): Promise<HttpResponse>;
        MAX_RESPONSE_BYTES: number;
    };
    privatePath: {
        parseIpv4Cidr(cidr: string): { network: number; prefix: number } | undefined;
        ipv4Number(address: string): number | undefined;
        checkPrivatePath(resolutions: Array<{ host: string; addresses: string[]; cnames: string[] }>, subnet: string): { ok: true } | { ok: false; detail: string };
        checkPrivatePathWithRetry(ctx: Context, targets: BoundTargets): Promise<RetryResult<Array<{ host: string; addresses: string[]; cnames: string[] }>>>;
    };
    egress: {
        parseProbeTarget(value: string): { ok: true; target: { host: string; port: number } } | { ok: false; error: string };
        tlsProbe(target: { host: string; port: number }, timeoutMs: number): Promise<ProbeAnswer>;
        egressVerdict(target: { host: string; port: number }, answer: ProbeAnswer): Record<string, string>;
    };
    canary: {
        classifyCanaryStatus(status: number): "refused" | "allowed" | "retry" | "stop";
        canaryWithRetry(ctx: Context, label: string, request: HttpRequest): Promise<RetryResult<"refused" | "allowed">>;
    };
    dataPlane: {
        classifyAccessStatus(status: number): "ok" | "retry" | "stop";
        blobBody(workload: string, time: Date, secretHash: string): string;
        accessWithRetry<T>(ctx: Context, label: string, request: HttpRequest, onSuccess: (response: HttpResponse) => T): Promise<RetryResult<T>>;
    };
    tokens: {
        classifyUnboundTokenStatus(status: number): "granted" | "refused" | "retry";
        tokenServiceName(config: { tokenSource: string }): string;
        requestToken(ctx: Context, resource: string): Promise<{ kind: string; detail?: string; token?: string; permanent?: boolean }>;
        acquireToken(ctx: Context, resource: string, label: string): Promise<RetryResult<string>>;
    };
    mount: {
        secretValue(ctx: Context): (response: HttpResponse) => string | undefined;
        describeFileError(err: unknown): string;
        compareFile(what: string, file: string, expected: string, secretName: string): string | undefined;
        MOUNTED_SECRET: string;
    };
    impostor: {
        kubeAttempts(config: unknown, workload: string): Array<{ name: string; resource: string; object: Record<string, unknown> }>;
    };
    report: {
        failureSentence(service: string, doing: string, result: { failure: Failure; attempts: number; elapsedMs: number }): string;
        createReporter(writeLine: (line: string) => void): Reporter;
        redact(text: string, sensitive: readonly string[]): string;
    };
}

const VERIFIER_DIR = path.resolve(__dirname, "..", "verifier");
function load<K extends keyof Modules>(name: K): Modules[K] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the verifier is plain JavaScript, typed here by Modules
    return require(path.join(VERIFIER_DIR, `${name}.js`)) as Modules[K];
}
const config = load("config");
const httpModule = load("http");
const privatePath = load("privatePath");
const egress = load("egress");
const canary = load("canary");
const dataPlane = load("dataPlane");
const tokens = load("tokens");
const mount = load("mount");
const report = load("report");
const impostor = load("impostor");

const NOW = Date.parse("2024-05-01T10:00:00Z");
const BOUND = {
    VERIFY_MODE: "bound",
    TOKEN_SOURCE: "imds",
    WORKLOAD: "alpha",
    KEYVAULT_URI: "https://kv.vault.azure.net/",
    SECRET_NAME: "alpha-demo",
    SECRET_FILE: "/mnt/secrets/alpha-demo",
    BLOB_ENDPOINT: "https://st.blob.core.windows.net/",
    BLOB_CONTAINER: "alpha",
    CANARY_SECRET_NAME: "canary",
    CANARY_CONTAINER: "canary",
    KEYVAULT_AUTHORIZATION: "rbac",
    PRIVATE_ENDPOINT_SUBNET: "10.76.2.0/26",
};

/** A run's context whose requests get `answers` in turn (an Error is a network failure), on a clock that only moves when slept. */
function scriptedContext(env: Record<string, string>, answers: Array<Partial<HttpResponse> | Error>) {
    const read = config.readConfig(env);
    if (!read.ok) {
        throw new Error(read.error);
    }
    const lines: string[] = [];
    const sent: Array<{ request: HttpRequest; timeoutMs: number }> = [];
    let now = NOW;
    const ctx: Context = {
        config: read.config,
        clock: { now: () => now, sleep: async (ms) => void (now += ms) },
        reporter: report.createReporter((line) => lines.push(line)),
        send: async (request, timeoutMs) => {
            sent.push({ request, timeoutMs });
            const answer = answers.shift();
            if (answer === undefined) {
                throw new Error("no more scripted answers");
            }
            if (answer instanceof Error) {
                throw answer;
            }
            return { status: 200, statusText: "", headers: {}, body: "", ...answer };
        },
        progress: { step: "config" },
    };
    return { ctx, lines, sent };
}

/** Starts `server` on loopback, runs `body` with its port, then stops it and every connection it took. */
async function withServer(server: net.Server, body: (port: number) => Promise<void>): Promise<void> {
    const sockets: net.Socket[] = [];
    server.on("connection", (socket: net.Socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
        await body((server.address() as net.AddressInfo).port);
    } finally {
        sockets.forEach((s) => s.destroy());
        await new Promise<void>((resolve) => server.close(() => resolve()));
    }
}

describe("config.js: what the Job is told, and what it refuses", () => {
    test("a variable that is empty or blank is absent; a set one is trimmed", () => {
        expect(config.nonEmpty({ A: "  kv  " }, "A")).toBe("kv");
        expect(config.nonEmpty({ A: "   " }, "A")).toBeUndefined();
        expect(config.nonEmpty({ A: "" }, "A")).toBeUndefined();
        expect(config.nonEmpty({}, "A")).toBeUndefined();
    });

    test("only http and https URLs are URLs here", () => {
        expect(["https://kv.vault.azure.net", "http://169.254.169.254"].map(config.isHttpUrl)).toEqual([true, true]);
        expect(["ftp://kv.vault.azure.net", "file:///etc/passwd", "kv.vault.azure.net", ""].map(config.isHttpUrl)).toEqual([false, false, false, false]);
    });

    test("the allowed values read as a sentence", () => {
        expect([[], ["a"], ["a", "b"], ["a", "b", "c"]].map(config.alternatives)).toEqual(["", "'a'", "'a' or 'b'", "'a', 'b' or 'c'"]);
    });

    test("blank values count as missing, and set values are used trimmed", () => {
        const read = config.readConfig({ ...BOUND, WORKLOAD: "  alpha ", SECRET_NAME: " " });
        expect(read).toEqual({ ok: false, mode: "bound", missing: ["SECRET_NAME"], error: "missing environment variable SECRET_NAME" });
        const trimmed = config.readConfig({ ...BOUND, WORKLOAD: "  alpha " });
        expect(trimmed.ok && trimmed.config.workload).toBe("alpha");
    });

    test("every URL the Job would call must be http(s), each named in one error with the rest", () => {
        const read = config.readConfig({ ...BOUND, KEYVAULT_URI: "kv.vault.azure.net", BLOB_ENDPOINT: "ftp://st", IMDS_ENDPOINT: "169.254.169.254", AZURE_AUTHORITY_HOST: "login" });
        expect(read).toEqual({
            ok: false,
            mode: "bound",
            missing: [],
            error: "IMDS_ENDPOINT must be an http(s) URL; AZURE_AUTHORITY_HOST must be an http(s) URL; KEYVAULT_URI must be an http(s) URL; BLOB_ENDPOINT must be an http(s) URL",
        });
    });

    test("IMDS is the link-local endpoint unless IMDS_ENDPOINT says otherwise", () => {
        const read = config.readConfig(BOUND);
        // Azure's instance metadata endpoint, the address NMI intercepts on the node.
        expect(read.ok && read.config.imdsEndpoint).toBe("http://169.254.169.254");
        const other = config.readConfig({ ...BOUND, IMDS_ENDPOINT: "http://127.0.0.1:8080" });
        expect(other.ok && other.config.imdsEndpoint).toBe("http://127.0.0.1:8080");
    });

    test("budgets and the retry interval may be zero; a request's timeouts may not; fractions are milliseconds", () => {
        const zero = config.readConfig({ ...BOUND, TOKEN_BUDGET_SECONDS: "0", ACCESS_BUDGET_SECONDS: "0", RETRY_INTERVAL_SECONDS: "0", REQUEST_TIMEOUT_SECONDS: "0.25" });
        expect(zero.ok && zero.config.budgets).toEqual({ tokenMs: 0, accessMs: 0, intervalMs: 0, requestTimeoutMs: 250, tokenRequestTimeoutMs: 110_000 });
        const refused = config.readConfig({ ...BOUND, REQUEST_TIMEOUT_SECONDS: "0", TOKEN_BUDGET_SECONDS: "-0.5", ACCESS_BUDGET_SECONDS: "soon" });
        expect(!refused.ok && refused.error).toBe(
            "TOKEN_BUDGET_SECONDS must be a non-negative number of seconds (got '-0.5'); ACCESS_BUDGET_SECONDS must be a non-negative number of seconds (got 'soon'); REQUEST_TIMEOUT_SECONDS must be a positive number of seconds (got '0')",
        );
    });

    test("an EGRESS_PROBE that is not an IPv4 address and port is named in the config verdict", () => {
        expect(config.readConfig(BOUND)).toMatchObject({ ok: true });
        const result = config.readConfig({ ...BOUND, EGRESS_PROBE: "one.one.one.one:443" });
        expect(result).toMatchObject({ ok: false, error: "EGRESS_PROBE must be <IPv4 address>:<port> (got 'one.one.one.one:443')" });
        const parsed = config.readConfig({ ...BOUND, EGRESS_PROBE: " 203.0.113.9:443 " });
        expect(parsed.ok && parsed.config.targets).toMatchObject({ egressProbe: { host: "203.0.113.9", port: 443 } });
    });

    test("one missing variable is named in the singular, several in the plural, before what is invalid", () => {
        const one = config.readConfig({ VERIFY_MODE: "unbound", TOKEN_SOURCE: "imds" });
        expect(one).toEqual({ ok: false, mode: "unbound", missing: ["WORKLOAD"], error: "missing environment variable WORKLOAD" });
        const two = config.readConfig({ TOKEN_SOURCE: "imds", RETRY_INTERVAL_SECONDS: "x" });
        expect(two).toEqual({
            ok: false,
            mode: undefined,
            missing: ["VERIFY_MODE", "WORKLOAD"],
            error: "missing environment variables VERIFY_MODE, WORKLOAD; RETRY_INTERVAL_SECONDS must be a non-negative number of seconds (got 'x')",
        });
    });
});

describe("impostor.js: its configuration, and the pod it writes", () => {
    const IMPOSTOR = {
        VERIFY_MODE: "impostor",
        TOKEN_SOURCE: "imds",
        WORKLOAD: "alpha",
        IMPOSTOR_CHECKS: "labelledPod",
        IMPOSTOR_NAMESPACE: "tenant-b",
        TARGET_NAMESPACE: "alpha",
        BINDING_SELECTOR: "alpha",
        LABEL_GUARD_POLICY: "aadpodidbinding-guard-alpha",
        KUBERNETES_SERVICE_HOST: "10.0.0.1",
        KUBERNETES_SERVICE_PORT: "443",
    };
    const impostorConfig = (env: Record<string, string>) => {
        const read = config.readConfig(env);
        return read.ok ? read.config.impostor : read.error;
    };

    test("in a pod, the API server is the service the kubelet names, an IPv6 address in brackets, with the pod's own token and CA", () => {
        expect(impostorConfig(IMPOSTOR)).toMatchObject({
            checks: ["labelledPod"],
            kubeApi: { url: "https://10.0.0.1:443", tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token", caFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" },
            image: "registry.k8s.io/pause:3.10",
        });
        expect(impostorConfig({ ...IMPOSTOR, KUBERNETES_SERVICE_HOST: "fd00::1" })).toMatchObject({ kubeApi: { url: "https://[fd00::1]:443" } });
        expect(impostorConfig({ ...IMPOSTOR, KUBE_API_URL: "https://127.0.0.1:6443" })).toMatchObject({ kubeApi: { url: "https://127.0.0.1:6443" } });
    });

    test("the API server's address is checked: a port is a number of at most five digits, a URL is http(s)", () => {
        for (const port of ["https", "443x", "x443", "123456"]) {
            expect(impostorConfig({ ...IMPOSTOR, KUBERNETES_SERVICE_PORT: port })).toBe(`KUBERNETES_SERVICE_PORT must be a port number (got '${port}')`);
        }
        expect(impostorConfig({ ...IMPOSTOR, KUBE_API_URL: "kubernetes.default.svc" })).toBe("KUBE_API_URL must be an http(s) URL");
        expect(impostorConfig({ ...IMPOSTOR, KUBERNETES_SERVICE_HOST: "" })).toBe("missing environment variable KUBERNETES_SERVICE_HOST");
    });

    test("the checks are read trimmed, unknown ones named in the singular or plural, and a value a check does not need may be absent", () => {
        const exchange = { ...IMPOSTOR, IMPOSTOR_CHECKS: " tokenExchange ", TARGET_CLIENT_ID: "c1", AZURE_TENANT_ID: "t1", IMPOSTOR_TOKEN_FILE: "/var/run/token" };
        expect(impostorConfig(exchange)).toMatchObject({
            checks: ["tokenExchange"],
            bindingSelector: "alpha",
            labelGuardPolicy: "aadpodidbinding-guard-alpha",
            crdGuardPolicy: "",
            kubeApi: undefined,
            entra: { authorityHost: "https://login.microsoftonline.com/", tenantId: "t1", tokenFile: "/var/run/token" },
        });
        expect(impostorConfig({ ...IMPOSTOR, IMPOSTOR_CHECKS: "labelledPod,stealSecret,readKeys" })).toBe(
            "IMPOSTOR_CHECKS names unknown checks 'stealSecret', 'readKeys' (allowed: 'labelledPod', 'azureIdentity', 'podIdentityException', 'tokenExchange')",
        );
    });

    test("the impostor plays another tenant: its namespace may not be the workload's", () => {
        expect(impostorConfig({ ...IMPOSTOR, IMPOSTOR_NAMESPACE: "alpha" })).toBe(
            "IMPOSTOR_NAMESPACE must differ from TARGET_NAMESPACE (both 'alpha'): the impostor plays another tenant of the cluster",
        );
    });

    test("the labelled pod meets every pod policy the stack's own pods meet, so that only the label guard has a reason to refuse it", async () => {
        const [pod] = impostor.kubeAttempts(impostorConfig(IMPOSTOR), "alpha");
        const step: PreviewStep = { op: "create", urn: "urn:pulumi:dev::aks-identity-vault::kubernetes:core/v1:Pod::impostor-alpha", newState: { type: "kubernetes:core/v1:Pod", inputs: pod.object } };
        const violated: string[] = [];
        for (const policy of policies.filter(isResourcePolicy)) {
            const outcome = await validateResourceStep(policy, step, new Map([[step.urn, step]]));
            violated.push(...outcome.violations.map((v) => `${policy.name}: ${v.message}`));
        }
        // It is created only as a dry run, as the namespace's default account: it needs no account of its own.
        expect(violated).toEqual(["k8s-no-default-service-account: The pod runs as service account default."]);
    });
});

describe("http.js: Azure's answers, read without repeating their text", () => {
    test("trailing slashes go, all of them, and nothing else", () => {
        expect(httpModule.withoutTrailingSlash("https://kv.vault.azure.net//")).toBe("https://kv.vault.azure.net");
        expect(httpModule.withoutTrailingSlash("https://st/c/b")).toBe("https://st/c/b");
    });

    test("Retry-After in seconds may be padded or fractional; anything else that is not a date is no hint", () => {
        const read = (value: string | string[] | undefined) => httpModule.parseRetryAfter(value, NOW);
        expect([" 3", "3 ", "12", "1.25", "1.5", ["2", "9"]].map(read)).toEqual([3000, 3000, 12_000, 1250, 1500, 2000]);
        for (const value of ["", "  ", "3x", "x3", "3s"]) {
            expect([value, read(value)]).toEqual([value, undefined]);
        }
        expect(read("Wed, 01 May 2024 09:59:00 GMT")).toBe(0);
    });

    test("a field is read only from an object", () => {
        expect(httpModule.field({ code: "X" }, "code")).toBe("X");
        expect(httpModule.field("text", "length")).toBeUndefined();
        expect(httpModule.field(null, "code")).toBeUndefined();
    });

    test("error codes come from the header, Key Vault's and Entra's JSON and Storage's XML, once each", () => {
        expect(httpModule.azureErrorCodes("", { "x-ms-error-code": "ContainerNotFound" })).toEqual(["ContainerNotFound"]);
        expect(httpModule.azureErrorCodes("<Error><Code>AuthorizationFailure</Code><Message>no</Message></Error>", {})).toEqual(["AuthorizationFailure"]);
        const keyVault = JSON.stringify({ error: { code: "Forbidden", innererror: { code: "ForbiddenByRbac" } } });
        expect(httpModule.azureErrorCodes(keyVault, { "x-ms-error-code": "Forbidden" })).toEqual(["Forbidden", "ForbiddenByRbac"]);
        expect(httpModule.azureErrorCodes(JSON.stringify({ error: "invalid_client", error_codes: [700_213, 50_000] }), {})).toEqual(["invalid_client", "AADSTS700213"]);
        // An Entra code list that is not a list of numbers, or is empty, names no AADSTS code.
        for (const codes of [[], ["700213"], { 0: 700_213 }]) {
            expect(httpModule.azureErrorCodes(JSON.stringify({ error_codes: codes }), {})).toEqual([]);
        }
        expect(httpModule.azureErrorCodes(JSON.stringify({ error: "the secret is: hunter2" }), {})).toEqual([]);
    });

    test("a refusal names its status text once, without the code that repeats it", () => {
        const answer = (statusText: string, code: string): HttpResponse => ({ status: 429, statusText, headers: {}, body: JSON.stringify({ error: { code } }) });
        expect(httpModule.describeHttpFailure(answer("Too Many Requests ", "TooManyRequests"))).toBe("HTTP 429 Too Many Requests");
        expect(httpModule.describeHttpFailure(answer("  ", "Throttled"))).toBe("HTTP 429 (Throttled)");
    });

    test("a network error is its first line and its code, at most 200 characters", () => {
        const withCode = (message: string, code?: unknown) => Object.assign(new Error(message), { code });
        expect(httpModule.errorCode(withCode("x", "ECONNRESET"))).toBe("ECONNRESET");
        expect(httpModule.errorCode(withCode("x", 104))).toBeUndefined();
        expect(httpModule.describeError(withCode("connect ECONNREFUSED 10.0.0.1:443", "ECONNREFUSED"))).toBe("connect ECONNREFUSED 10.0.0.1:443");
        expect(httpModule.describeError(withCode(" socket hang up \nat TLSSocket", "ECONNRESET"))).toBe("socket hang up (ECONNRESET)");
        expect(httpModule.describeError(withCode("", "ETIMEDOUT"))).toBe("ETIMEDOUT");
        expect(httpModule.describeError({ code: "EAI_AGAIN" })).toBe("EAI_AGAIN");
        expect(httpModule.describeError("text")).toBe("unknown network error");
        expect(httpModule.describeError(new Error("a".repeat(200)))).toBe("a".repeat(200));
        expect(httpModule.describeError(new Error("b".repeat(201)))).toBe(`${"b".repeat(197)}...`);
    });
});

describe("http.js: sendHttp on the wire", () => {
    let server: http.Server;
    let base: string;
    const received: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string; local?: string }> = [];
    beforeAll(async () => {
        server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
            req.on("end", () => {
                received.push({ method: req.method, url: req.url, headers: req.headers, body, local: req.socket.localAddress });
                if (req.url === "/large") {
                    res.writeHead(200).end("x".repeat(httpModule.MAX_RESPONSE_BYTES + 1));
                } else if (req.url === "/limit") {
                    res.writeHead(200).end("x".repeat(httpModule.MAX_RESPONSE_BYTES));
                } else if (req.url === "/stalled") {
                    res.writeHead(200, { "content-length": "100" }).write("0123456789");
                } else if (req.url === "/broken") {
                    // A tenth of the body promised, then the connection is gone.
                    res.writeHead(200, { "content-length": "100" }).write("0123456789", () => req.socket.destroy());
                } else {
                    res.writeHead(201, "Made").end("fine");
                }
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    test("a body goes with its length in bytes, and the answer comes back whole", async () => {
        received.length = 0;
        const response = await httpModule.sendHttp({ method: "PUT", url: `${base}/c/b`, headers: { "x-test": "1" }, body: "ünï" }, 2000);
        expect(response).toMatchObject({ status: 201, statusText: "Made", body: "fine" });
        expect(received).toMatchObject([{ method: "PUT", url: "/c/b", body: "ünï", headers: { "content-length": "5", "x-test": "1" } }]);
    });

    test("a pinned host name is connected to at its checked address, not resolved", async () => {
        received.length = 0;
        const port = (server.address() as net.AddressInfo).port;
        const response = await httpModule.sendHttp({ method: "GET", url: `http://kv.vault.azure.net:${port}/secrets/s`, headers: {} }, 2000, new Map([["kv.vault.azure.net", "127.0.0.1"]]));
        expect(response.status).toBe(201);
        expect(received).toMatchObject([{ url: "/secrets/s", headers: { host: `kv.vault.azure.net:${port}` } }]);
    });

    test("a host name that is not pinned is resolved as any other", async () => {
        received.length = 0;
        const port = (server.address() as net.AddressInfo).port;
        expect((await httpModule.sendHttp({ method: "GET", url: `http://localhost:${port}/token`, headers: {} }, 2000)).status).toBe(201);
        expect(received).toMatchObject([{ url: "/token", headers: { host: `localhost:${port}` } }]);
    });

    test("a pinned host name is connected to at its address also where Node asks for one address, not all", async () => {
        // Node asks a lookup for every address when it may try each family in turn (its default
        // since 20), and for one when that is turned off.
        const autoSelect = net.getDefaultAutoSelectFamily();
        net.setDefaultAutoSelectFamily(false);
        try {
            received.length = 0;
            const port = (server.address() as net.AddressInfo).port;
            const response = await httpModule.sendHttp({ method: "GET", url: `http://st.blob.core.windows.net:${port}/c`, headers: {} }, 2000, new Map([["st.blob.core.windows.net", "127.0.0.1"]]));
            expect(response.status).toBe(201);
            expect(received).toMatchObject([{ url: "/c", headers: { host: `st.blob.core.windows.net:${port}` } }]);
        } finally {
            net.setDefaultAutoSelectFamily(autoSelect);
        }
    });

    test("an answer of exactly the limit comes back whole", async () => {
        const response = await httpModule.sendHttp({ method: "GET", url: `${base}/limit`, headers: {} }, 2000);
        expect([response.status, response.body.length]).toEqual([200, httpModule.MAX_RESPONSE_BYTES]);
    });

    test("an answer broken off in its body is an error when it breaks, not a wait until the timeout", async () => {
        // The timer cannot end it: it destroys a connection the break has already closed.
        await expect(httpModule.sendHttp({ method: "GET", url: `${base}/broken`, headers: {} }, 5000)).rejects.toMatchObject({ message: "aborted", code: "ECONNRESET" });
    });

    test("an answer that stops in its body is given up at the timeout too, which bounds the request to its end", async () => {
        await expect(httpModule.sendHttp({ method: "GET", url: `${base}/stalled`, headers: {} }, 50)).rejects.toThrow("no response within 0.05s");
    });

    test("an answer larger than the limit is refused, and so is a scheme other than http(s)", async () => {
        await expect(httpModule.sendHttp({ method: "GET", url: `${base}/large`, headers: {} }, 2000)).rejects.toThrow(`response larger than ${httpModule.MAX_RESPONSE_BYTES} bytes`);
        await expect(httpModule.sendHttp({ method: "GET", url: "ftp://st/c", headers: {} }, 2000)).rejects.toThrow("unsupported protocol ftp:");
    });

    test("a server that never answers is given up at the timeout, which the error states", () =>
        withServer(net.createServer(), async (port) => {
            const request = { method: "GET", url: `http://127.0.0.1:${port}/`, headers: {} };
            await expect(httpModule.sendHttp(request, 50)).rejects.toThrow("no response within 0.05s");
        }));
});

describe("privatePath.js: a CIDR is an IPv4 network and a prefix of 0 to 32", () => {
    test("each part is checked", () => {
        expect(privatePath.parseIpv4Cidr("10.76.2.0/26")).toEqual({ network: 10 * 256 ** 3 + 76 * 256 ** 2 + 2 * 256, prefix: 26 });
        expect(privatePath.parseIpv4Cidr("0.0.0.0/0")).toEqual({ network: 0, prefix: 0 });
        expect(privatePath.parseIpv4Cidr("10.0.0.0/32")).toEqual({ network: 10 * 256 ** 3, prefix: 32 });
        for (const cidr of ["10.0.0.0/33", "10.0.0.0/123", "10.0.0.0/x", "10.0.0.0/ 8", "10.0.0.0/8x", "x10.0.0.0/8", "10.0.0.0", "10.0.0.0/8/8", "10.0.0/8", "::1/128"]) {
            expect([cidr, privatePath.parseIpv4Cidr(cidr)]).toEqual([cidr, undefined]);
        }
        expect(privatePath.ipv4Number("10.0.0.1")).toBe(10 * 256 ** 3 + 1);
        expect(privatePath.ipv4Number("10.0.0")).toBeUndefined();
    });

    test("an address outside the subnet is named with the alias chain that led to it", () => {
        const blob = { host: "st.blob.core.windows.net", addresses: ["20.150.1.1"], cnames: ["st.privatelink.blob.core.windows.net", "blob.x.store.core.windows.net"] };
        expect(privatePath.checkPrivatePath([blob], "10.76.2.0/26")).toEqual({
            ok: false,
            detail: "st.blob.core.windows.net resolved to 20.150.1.1 (via st.privatelink.blob.core.windows.net, blob.x.store.core.windows.net); 20.150.1.1 outside the private-endpoint subnet 10.76.2.0/26",
        });
    });
});

describe("privatePath.js: the names asked of the VNet's resolver", () => {
    const VAULT = "kv.vault.azure.net";
    const BLOB = "st.blob.core.windows.net";

    test("a name with addresses and no alias resolves without one; every address outside is named, and each attempt is logged", async () => {
        const resolver = await startFakeDns({ [VAULT]: { addresses: ["10.76.2.4"] }, [BLOB]: { addresses: ["10.76.2.5"] } });
        try {
            const run = scriptedContext({ ...BOUND, DNS_SERVER: resolver.server }, []);
            const targets = run.ctx.config.targets as BoundTargets;
            expect(await privatePath.checkPrivatePathWithRetry(run.ctx, targets)).toEqual({
                ok: true,
                value: [
                    { host: VAULT, addresses: ["10.76.2.4"], cnames: [] },
                    { host: BLOB, addresses: ["10.76.2.5"], cnames: [] },
                ],
                attempts: 1,
                elapsedMs: 0,
            });
            // The blob endpoint's public addresses, as where no privatelink record is in the VNet's zones.
            resolver.zone.set(BLOB, { addresses: ["20.150.1.1", "20.150.1.2"] });
            const publicPath = scriptedContext({ ...BOUND, DNS_SERVER: resolver.server, ACCESS_BUDGET_SECONDS: "1", RETRY_INTERVAL_SECONDS: "1" }, []);
            const detail = `${BLOB} resolved to 20.150.1.1, 20.150.1.2; 20.150.1.1, 20.150.1.2 outside the private-endpoint subnet 10.76.2.0/26`;
            expect(await privatePath.checkPrivatePathWithRetry(publicPath.ctx, targets)).toEqual({ ok: false, failure: { kind: "refused", detail }, attempts: 2, elapsedMs: 1000 });
            expect(publicPath.lines).toEqual([`verifier: privatePath: attempt 1 failed (${detail}); retrying in 1s, 1s left`]);
        } finally {
            await resolver.close();
        }
    });

    test("a resolver that does not answer is asked once per attempt, which ends with the name unresolved", async () => {
        const silent = dgram.createSocket("udp4");
        let queries = 0;
        silent.on("message", () => queries++);
        await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", resolve));
        try {
            const run = scriptedContext({ ...BOUND, DNS_SERVER: `127.0.0.1:${silent.address().port}`, ACCESS_BUDGET_SECONDS: "0", REQUEST_TIMEOUT_SECONDS: "0.2" }, []);
            const targets = run.ctx.config.targets as BoundTargets;
            expect(await privatePath.checkPrivatePathWithRetry(run.ctx, targets)).toEqual({
                ok: false,
                failure: { kind: "unreachable", detail: `${VAULT} could not be resolved (ETIMEOUT)` },
                attempts: 1,
                elapsedMs: 0,
            });
            // Unless told otherwise, Node's resolver asks four times, over some twenty seconds.
            expect(queries).toBe(1);
        } finally {
            await new Promise<void>((resolve) => silent.close(() => resolve()));
        }
    });
});

describe("egress.js: the probe's address and what reaching it means", () => {
    test("EGRESS_PROBE is exactly an IPv4 address and a port from 1 to 65535", () => {
        expect(egress.parseProbeTarget("1.1.1.1:443")).toEqual({ ok: true, target: { host: "1.1.1.1", port: 443 } });
        expect(egress.parseProbeTarget("1.1.1.1:1")).toEqual({ ok: true, target: { host: "1.1.1.1", port: 1 } });
        expect(egress.parseProbeTarget("1.1.1.1:65535")).toEqual({ ok: true, target: { host: "1.1.1.1", port: 65535 } });
        for (const value of ["1.1.1.1:0", "1.1.1.1:65536", "1.1.1.1", "x1.1.1.1:443", "1.1.1.1:443x", "256.1.1.1:443", "one.one:443"]) {
            expect(egress.parseProbeTarget(value)).toEqual({ ok: false, error: `EGRESS_PROBE must be <IPv4 address>:<port> (got '${value}')` });
        }
    });

    describe("tlsProbe", () => {
        let dir: string;
        let tlsMaterial: TlsMaterial;
        beforeAll(async () => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "egress-probe-"));
            tlsMaterial = await createTlsMaterial(dir);
        });
        afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

        test("a completed handshake is reached, whatever the certificate", () =>
            withServer(nodeTls.createServer({ cert: tlsMaterial.cert, key: tlsMaterial.key }), async (port) => {
                const answer = await egress.tlsProbe({ host: "127.0.0.1", port }, 2000);
                expect(answer).toEqual({ reached: true });
                expect(egress.egressVerdict({ host: "127.0.0.1", port }, answer)).toEqual({ egress: "admitted", egressProbe: `127.0.0.1:${port}` });
            }));

        test("an address that takes the connection but never answers is not reached, and says for how long it waited", () =>
            withServer(net.createServer(), async (port) => {
                const answer = await egress.tlsProbe({ host: "127.0.0.1", port }, 50);
                expect(answer).toEqual({ reached: false, error: "no answer in 50 ms" });
                expect(egress.egressVerdict({ host: "127.0.0.1", port }, answer)).toEqual({ egress: "denied", egressProbe: `127.0.0.1:${port}`, egressRefusal: "no answer in 50 ms" });
            }));

        test("a reset connection is not reached, and says how it ended", () =>
            withServer(
                net.createServer((socket) => socket.resetAndDestroy()),
                async (port) => {
                    // Reset before or after the client's hello: ECONNRESET, or EPIPE for a hello written too late.
                    expect(await egress.tlsProbe({ host: "127.0.0.1", port }, 2000)).toEqual({ reached: false, error: expect.stringMatching(/^(ECONNRESET|EPIPE)$/) });
                },
            ));
    });
});

describe("the data plane's and the canary's answers, status by status", () => {
    test("access: 2xx is done; 401, 403, 408, 429 and 5xx are retried; anything else is final", () => {
        const statuses = [200, 204, 299, 300, 304, 400, 401, 403, 404, 408, 409, 429, 499, 500, 503];
        expect(statuses.map((s) => [s, dataPlane.classifyAccessStatus(s)])).toEqual(statuses.map((s) => [s, s < 300 ? "ok" : [401, 403, 408, 429].includes(s) || s >= 500 ? "retry" : "stop"]));
        expect(dataPlane.classifyAccessStatus(199)).toBe("stop");
    });

    test("a canary: 403 is the refusal; 2xx and 404 are access; 401, 408, 429 and 5xx are no answer yet", () => {
        const statuses = [199, 200, 299, 300, 400, 401, 403, 404, 408, 409, 429, 499, 500, 504];
        expect(statuses.map((s) => [s, canary.classifyCanaryStatus(s)])).toEqual([
            [199, "stop"],
            [200, "allowed"],
            [299, "allowed"],
            [300, "stop"],
            [400, "stop"],
            [401, "retry"],
            [403, "refused"],
            [404, "allowed"],
            [408, "retry"],
            [409, "stop"],
            [429, "retry"],
            [499, "stop"],
            [500, "retry"],
            [504, "retry"],
        ]);
    });

    test("an unbound token: 2xx is granted; 400, 401, 403 and 404 are a refusal; anything else is no answer yet", () => {
        const statuses = [199, 200, 299, 300, 400, 401, 403, 404, 408, 429, 500];
        expect(statuses.map((s) => [s, tokens.classifyUnboundTokenStatus(s)])).toEqual([
            [199, "retry"],
            [200, "granted"],
            [299, "granted"],
            [300, "retry"],
            [400, "refused"],
            [401, "refused"],
            [403, "refused"],
            [404, "refused"],
            [408, "retry"],
            [429, "retry"],
            [500, "retry"],
        ]);
    });

    test("the blob says who wrote it, when, and the secret's hash only", () => {
        expect(dataPlane.blobBody("alpha", new Date(NOW), "ba7816bf8f01")).toBe("aks-identity-vault verifier\nworkload: alpha\ntime: 2024-05-01T10:00:00.000Z\nsecretSha256Prefix: ba7816bf8f01\n");
    });

    test("a final answer stops at once; a retried one waits as Retry-After asks; either is described without its body", async () => {
        const request = { method: "GET", url: "https://kv.vault.azure.net/secrets/s", headers: {} };
        const final = scriptedContext(BOUND, [{ status: 404, statusText: "Not Found", body: JSON.stringify({ error: { code: "SecretNotFound", message: "hunter2" } }) }]);
        expect(await dataPlane.accessWithRetry(final.ctx, "keyvault", request, () => "read")).toEqual({
            ok: false,
            failure: { kind: "refused", detail: "HTTP 404 Not Found (SecretNotFound)" },
            attempts: 1,
            elapsedMs: 0,
        });
        const retried = scriptedContext({ ...BOUND, RETRY_INTERVAL_SECONDS: "1" }, [{ status: 503, statusText: "Service Unavailable", headers: { "retry-after": "7" } }, { status: 200 }]);
        expect(await dataPlane.accessWithRetry(retried.ctx, "keyvault", request, () => "read")).toEqual({ ok: true, value: "read", attempts: 2, elapsedMs: 7000 });
        expect(retried.lines).toEqual(["verifier: keyvault: attempt 1 failed (HTTP 503 Service Unavailable); retrying in 7s, 600s left"]);
    });

    test("a canary that is unexpectedly answered stops; one that keeps failing waits as Retry-After asks", async () => {
        const request = { method: "GET", url: "https://kv.vault.azure.net/secrets/canary", headers: {} };
        const odd = scriptedContext(BOUND, [{ status: 409, statusText: "Conflict" }]);
        expect(await canary.canaryWithRetry(odd.ctx, "canary", request)).toEqual({ ok: false, failure: { kind: "refused", detail: "HTTP 409 Conflict" }, attempts: 1, elapsedMs: 0 });
        const busy = scriptedContext({ ...BOUND, RETRY_INTERVAL_SECONDS: "1" }, [{ status: 429, statusText: "Too Many Requests", headers: { "retry-after": "4" } }, { status: 403 }]);
        expect(await canary.canaryWithRetry(busy.ctx, "canary", request)).toEqual({ ok: true, value: "refused", attempts: 2, elapsedMs: 4000 });
    });

    test("a canary secret that is read is remembered, so that it is never printed", async () => {
        const run = scriptedContext(BOUND, [{ status: 200, body: JSON.stringify({ value: "canary-value" }) }]);
        const result = await canary.canaryWithRetry(run.ctx, "canary", { method: "GET", url: "https://kv.vault.azure.net/secrets/canary", headers: {} });
        expect(result).toMatchObject({ ok: true, value: "allowed" });
        expect(run.ctx.reporter.redact("saw canary-value")).toBe("saw [redacted]");
        const refused = scriptedContext(BOUND, [{ status: 403, body: JSON.stringify({ value: "not-a-secret" }) }]);
        await canary.canaryWithRetry(refused.ctx, "canary", { method: "GET", url: "https://kv.vault.azure.net/secrets/canary", headers: {} });
        expect(refused.ctx.reporter.redact("not-a-secret")).toBe("not-a-secret");
    });
});

describe("tokens.js: one token request, and retrying it", () => {
    const WORKLOAD_ID = { ...BOUND, TOKEN_SOURCE: "workloadIdentity" };
    /** The four variables Workload ID's webhook injects. */
    const FEDERATED = { AZURE_CLIENT_ID: "c1", AZURE_TENANT_ID: "t1", AZURE_FEDERATED_TOKEN_FILE: "/var/run/token", AZURE_AUTHORITY_HOST: "https://login.microsoftonline.com/" };

    test("the token service is named after the token source", () => {
        expect(tokens.tokenServiceName({ tokenSource: "imds" })).toBe("IMDS");
        expect(tokens.tokenServiceName({ tokenSource: "workloadIdentity" })).toBe("Microsoft Entra ID");
    });

    test("a pod without Workload ID's variables asks nothing, and names each one it lacks", async () => {
        const run = scriptedContext({ ...WORKLOAD_ID, AZURE_CLIENT_ID: "c1", AZURE_FEDERATED_TOKEN_FILE: "/var/run/token" }, []);
        expect(await tokens.requestToken(run.ctx, "https://vault.azure.net")).toEqual({
            kind: "noIdentity",
            detail: "no federated identity in this pod (AZURE_TENANT_ID, AZURE_AUTHORITY_HOST not set)",
            permanent: true,
        });
        expect(run.sent).toEqual([]);
        const result = await tokens.acquireToken(run.ctx, "https://vault.azure.net", "Key Vault");
        expect(result).toEqual({ ok: false, failure: { kind: "local", detail: "no federated identity in this pod (AZURE_TENANT_ID, AZURE_AUTHORITY_HOST not set)" }, attempts: 1, elapsedMs: 0 });
        const noAuthority = scriptedContext({ ...WORKLOAD_ID, AZURE_CLIENT_ID: "c1", AZURE_TENANT_ID: "t1", AZURE_FEDERATED_TOKEN_FILE: "/var/run/token" }, []);
        expect(await tokens.requestToken(noAuthority.ctx, "https://vault.azure.net")).toMatchObject({ detail: "no federated identity in this pod (AZURE_AUTHORITY_HOST not set)", permanent: true });
    });

    test("each of Workload ID's four variables is needed on its own", async () => {
        for (const name of Object.keys(FEDERATED)) {
            const run = scriptedContext({ ...WORKLOAD_ID, ...FEDERATED, [name]: "" }, []);
            expect([name, await tokens.requestToken(run.ctx, "https://vault.azure.net")]).toEqual([
                name,
                { kind: "noIdentity", detail: `no federated identity in this pod (${name} not set)`, permanent: true },
            ]);
            expect(run.sent).toEqual([]);
        }
    });

    test("the federated token is sent as the file holds it, without the line end a file may add", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "federated-token-"));
        try {
            const file = path.join(dir, "azure-identity-token");
            fs.writeFileSync(file, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2ln\n");
            const run = scriptedContext({ ...WORKLOAD_ID, ...FEDERATED, AZURE_FEDERATED_TOKEN_FILE: file }, [{ status: 200, body: JSON.stringify({ access_token: "tok" }) }]);
            expect(await tokens.requestToken(run.ctx, "https://vault.azure.net")).toEqual({ kind: "token", token: "tok" });
            expect(new URLSearchParams(run.sent[0].request.body).get("client_assertion")).toBe("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2ln");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a federated token file not there yet is retried, as the kubelet may still be writing it", async () => {
        const missing = path.join(os.tmpdir(), "no-such-dir-aiv", "azure-identity-token");
        const run = scriptedContext({ ...WORKLOAD_ID, ...FEDERATED, AZURE_FEDERATED_TOKEN_FILE: missing, TOKEN_BUDGET_SECONDS: "2", RETRY_INTERVAL_SECONDS: "1" }, []);
        expect(await tokens.acquireToken(run.ctx, "https://vault.azure.net", "Key Vault")).toEqual({
            ok: false,
            failure: { kind: "local", detail: `no federated token file at ${missing} (ENOENT)` },
            attempts: 3,
            elapsedMs: 2000,
        });
        expect(run.sent).toEqual([]);
    });

    test("a success without a token is an HTTP failure; a token is remembered", async () => {
        const withoutToken = [{ body: "{}" }, { body: JSON.stringify({ access_token: "" }) }, { body: JSON.stringify({ access_token: 7 }) }, { body: "not json" }];
        const run = scriptedContext(BOUND, [...withoutToken.map((answer) => ({ status: 200, ...answer })), { status: 299, body: JSON.stringify({ access_token: "tok-123" }) }]);
        for (const answer of withoutToken) {
            expect([answer.body, await tokens.requestToken(run.ctx, "https://vault.azure.net")]).toEqual([
                answer.body,
                expect.objectContaining({ kind: "http", detail: "HTTP 200 without an access_token" }),
            ]);
        }
        expect(await tokens.requestToken(run.ctx, "https://vault.azure.net")).toEqual({ kind: "token", token: "tok-123" });
        expect(run.ctx.reporter.redact("tok-123")).toBe("[redacted]");
        expect(run.sent.map((s) => s.timeoutMs)).toEqual([110_000, 110_000, 110_000, 110_000, 110_000]);
    });

    test("a 3xx is no token; a network failure is retried as unreachable, and so is a refusal, as long as Retry-After asks", async () => {
        const run = scriptedContext({ ...BOUND, RETRY_INTERVAL_SECONDS: "1" }, [
            { status: 300, statusText: "Multiple Choices" },
            Object.assign(new Error("connect ECONNREFUSED 169.254.169.254:80"), { code: "ECONNREFUSED" }),
            { status: 429, statusText: "Too Many Requests", headers: { "retry-after": "9" } },
            { status: 200, body: JSON.stringify({ access_token: "tok" }) },
        ]);
        const result = await tokens.acquireToken(run.ctx, "https://vault.azure.net", "Key Vault");
        expect(result).toEqual({ ok: true, value: "tok", attempts: 4, elapsedMs: 11_000 });
        expect(run.lines).toEqual([
            "verifier: Key Vault token: attempt 1 failed (HTTP 300 Multiple Choices); retrying in 1s, 300s left",
            "verifier: Key Vault token: attempt 2 failed (connect ECONNREFUSED 169.254.169.254:80); retrying in 1s, 299s left",
            "verifier: Key Vault token: attempt 3 failed (HTTP 429 Too Many Requests); retrying in 9s, 298s left",
        ]);
    });
    test("a token never got ends on its last failure: a service that could not be reached, or one that refused", async () => {
        const once = { ...BOUND, TOKEN_BUDGET_SECONDS: "0" };
        const unreachable = scriptedContext(once, [Object.assign(new Error("connect ECONNREFUSED 169.254.169.254:80"), { code: "ECONNREFUSED" })]);
        expect(await tokens.acquireToken(unreachable.ctx, "https://vault.azure.net", "Key Vault")).toEqual({
            ok: false,
            failure: { kind: "unreachable", detail: "connect ECONNREFUSED 169.254.169.254:80" },
            attempts: 1,
            elapsedMs: 0,
        });
        const refused = scriptedContext(once, [{ status: 400, statusText: "Bad Request", body: JSON.stringify({ error: "invalid_request" }) }]);
        expect(await tokens.acquireToken(refused.ctx, "https://vault.azure.net", "Key Vault")).toEqual({
            ok: false,
            failure: { kind: "refused", detail: "HTTP 400 Bad Request (invalid_request)" },
            attempts: 1,
            elapsedMs: 0,
        });
    });
});

describe("mount.js and report.js: files and sentences", () => {
    test("a secret's value is a string in the answer's JSON, or nothing", () => {
        const run = scriptedContext(BOUND, []);
        const read = mount.secretValue(run.ctx);
        const answer = (body: string): HttpResponse => ({ status: 200, statusText: "OK", headers: {}, body });
        expect(read(answer(JSON.stringify({ value: "s3cret" })))).toBe("s3cret");
        expect(run.ctx.reporter.redact("s3cret")).toBe("[redacted]");
        expect([read(answer(JSON.stringify({ value: 42 }))), read(answer("not json")), read(answer("null"))]).toEqual([undefined, undefined, undefined]);
    });

    test("a file that cannot be read says why by its code, and what the code usually means", () => {
        const code = (c: unknown) => Object.assign(new Error("x"), { code: c });
        expect(mount.describeFileError(code("EACCES"))).toBe("EACCES: permission denied: the volume's file mode or the pod's user keeps the verifier out");
        expect(mount.describeFileError(code("EISDIR"))).toBe("EISDIR: a directory, not a file: point the variable at the key's file inside the volume");
        expect(mount.describeFileError(code("EIO"))).toBe("EIO");
        expect(mount.describeFileError(new Error("no code"))).toBe("unreadable");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mount-"));
        try {
            expect(mount.compareFile(mount.MOUNTED_SECRET, dir, "s", "alpha-demo")).toBe(
                `could not read the mounted secret file ${dir} (EISDIR: a directory, not a file: point the variable at the key's file inside the volume)`,
            );
            const file = path.join(dir, "alpha-demo");
            fs.writeFileSync(file, "ünï");
            expect(mount.compareFile(mount.MOUNTED_SECRET, file, "ünï", "alpha-demo")).toBeUndefined();
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a request that could not be made says the service could not be asked", () => {
        expect(report.failureSentence("Microsoft Entra ID", "a Key Vault token", { failure: { kind: "local", detail: "no token file" }, attempts: 2, elapsedMs: 5000 })).toBe(
            "Microsoft Entra ID could not be asked for a Key Vault token: no token file for 5s (2 attempts)",
        );
    });

    test("the reporter keeps each remembered value out of every line, and ignores an empty one", () => {
        const lines: string[] = [];
        const reporter = report.createReporter((line) => lines.push(line));
        reporter.remember("");
        reporter.remember("abc");
        reporter.remember("abc");
        reporter.log("token abc, empty ''");
        expect(lines).toEqual(["verifier: token [redacted], empty ''"]);
        expect(reporter.redact("xabcx")).toBe("x[redacted]x");
        // An empty value hides nothing (splitting on it would cut the text between every character).
        expect(report.redact("abc", ["", "b"])).toBe("a[redacted]c");
    });
});
