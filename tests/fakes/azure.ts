// Loopback stand-ins for the Azure endpoints the verifier talks to: a self-signed certificate,
// unsigned JWT access tokens in the shape Azure issues, small scripted HTTP(S) servers for the
// instance metadata endpoint, Microsoft Entra ID and Key Vault, and a real Azurite blob service.
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { randomUUID } from "crypto";
import { generate } from "selfsigned";

/** Tenant of every fake token. */
export const TENANT_ID = "0c7e4a1b-5d2f-4e8a-9b3c-6f1d2e3a4b5c";

/** A PEM certificate for 127.0.0.1 and localhost, with its key, also written to files. */
export interface TlsMaterial {
    cert: string;
    key: string;
    certPath: string;
    keyPath: string;
}

/** Generates a self-signed certificate valid for 127.0.0.1 and localhost and writes it to `dir`. */
export async function createTlsMaterial(dir: string): Promise<TlsMaterial> {
    const pems = await generate([{ name: "commonName", value: "localhost" }], {
        keyType: "ec",
        algorithm: "sha256",
        extensions: [
            { name: "basicConstraints", cA: true },
            { name: "keyUsage", digitalSignature: true, keyCertSign: true },
            { name: "extKeyUsage", serverAuth: true },
            {
                name: "subjectAltName",
                altNames: [
                    { type: 2, value: "localhost" },
                    { type: 7, ip: "127.0.0.1" },
                    // The public clouds' data-plane host names, which the fake resolver sends to loopback.
                    { type: 2, value: "*.vault.azure.net" },
                    { type: 2, value: "*.blob.core.windows.net" },
                ],
            },
        ],
    });
    const certPath = path.join(dir, "cert.pem");
    const keyPath = path.join(dir, "key.pem");
    fs.writeFileSync(certPath, pems.cert);
    fs.writeFileSync(keyPath, pems.private);
    return { cert: pems.cert, key: pems.private, certPath, keyPath };
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

function base64url(value: string): string {
    return Buffer.from(value, "utf8").toString("base64url");
}

/** An unsigned-verified JWT: Azurite's basic OAuth and the fakes read its claims only. */
export function makeJwt(claims: Record<string, unknown>): string {
    return `${base64url(JSON.stringify({ alg: "RS256", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;
}

/** The claims of a JWT, or undefined when it is not one. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) {
        return undefined;
    }
    try {
        const claims: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
        return claims !== null && typeof claims === "object" ? (claims as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

/** An access token for `audience` as Entra would issue it (v1 issuer, one hour of validity). */
export function accessToken(audience: string): string {
    const now = Math.floor(Date.now() / 1000);
    return makeJwt({
        aud: audience,
        iss: `https://sts.windows.net/${TENANT_ID}/`,
        iat: now - 60,
        nbf: now - 60,
        exp: now + 3600,
        tid: TENANT_ID,
        oid: randomUUID(),
        uti: randomUUID(),
    });
}

/** The audience of a `Bearer` authorization header, if it carries a JWT. */
export function bearerAudience(header: string | undefined): string | undefined {
    const match = /^Bearer (.+)$/.exec(header ?? "");
    const aud = match ? jwtClaims(match[1])?.aud : undefined;
    return typeof aud === "string" ? aud : undefined;
}

/** Every token the fakes hand out, so tests can check none of them is ever printed. */
export class TokenLog {
    readonly issued: string[] = [];

    issue(audience: string): string {
        const token = accessToken(audience);
        this.issued.push(token);
        return token;
    }
}

// ---------------------------------------------------------------------------------------------
// Scripted servers
// ---------------------------------------------------------------------------------------------

/** A request as a fake server received it. */
export interface ReceivedRequest {
    method: string;
    url: URL;
    headers: http.IncomingHttpHeaders;
    body: string;
    /** `Date.now()` when the request's body had been read. */
    receivedAt: number;
}

/** What a fake server answers. Object bodies are sent as JSON. */
export interface FakeResponse {
    status: number;
    headers?: Record<string, string>;
    body?: string | object;
    /** How long the server holds the request before it answers, as NMI does while it looks for an identity. */
    delayMs?: number;
}

export type Handler = (request: ReceivedRequest) => FakeResponse;

/** A loopback HTTP(S) server whose answers come from a replaceable handler. */
export class FakeServer {
    readonly requests: ReceivedRequest[] = [];
    handler: Handler = () => ({ status: 404, body: { error: "no handler" } });

    constructor(
        private readonly server: http.Server,
        readonly url: string,
    ) {}

    /** Forgets past requests and installs a new handler. */
    reset(handler: Handler): void {
        this.requests.length = 0;
        this.handler = handler;
    }

    handle(request: ReceivedRequest): FakeResponse {
        this.requests.push(request);
        return this.handler(request);
    }

    close(): Promise<void> {
        return new Promise((resolve) => {
            this.server.closeAllConnections();
            this.server.close(() => resolve());
        });
    }
}

/** Starts a fake server on 127.0.0.1 and a port chosen by the system; HTTPS when given TLS. */
export async function startFakeServer(tls?: TlsMaterial): Promise<FakeServer> {
    let fake: FakeServer | undefined;
    const listener: http.RequestListener = (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const received: ReceivedRequest = {
                method: req.method ?? "GET",
                url: new URL(req.url ?? "/", "http://127.0.0.1"),
                headers: req.headers,
                body: Buffer.concat(chunks).toString("utf8"),
                receivedAt: Date.now(),
            };
            const answer = fake ? fake.handle(received) : { status: 503 };
            const json = typeof answer.body === "object";
            const body = answer.body === undefined ? "" : json ? JSON.stringify(answer.body) : String(answer.body);
            const reply = () => {
                res.writeHead(answer.status, { "Content-Type": json ? "application/json" : "text/plain", ...answer.headers });
                res.end(body);
            };
            if (answer.delayMs === undefined) {
                reply();
            } else {
                // A client that gives up first gets no answer, and the fake holds no timer for it.
                const held = setTimeout(reply, answer.delayMs);
                res.on("close", () => clearTimeout(held));
            }
        });
    };
    const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, listener) : http.createServer(listener);
    const port = await listen(server);
    fake = new FakeServer(server, `${tls ? "https" : "http"}://127.0.0.1:${port}`);
    return fake;
}

function listen(server: net.Server): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            if (address !== null && typeof address === "object") {
                resolve(address.port);
            } else {
                reject(new Error("server has no port"));
            }
        });
    });
}

/**
 * A firewall on the way to a public address that no rule admits, as Azure Firewall treats a TLS
 * connection it cannot match: it takes the connection, reads the client's first bytes (the
 * ClientHello, to match its server name) and resets it. Returns the `host:port` to aim at.
 */
export async function startDenyingFirewall(): Promise<{ target: string; connections: () => number; close: () => Promise<void> }> {
    let connections = 0;
    const server = net.createServer((socket) => {
        connections++;
        socket.once("data", () => socket.resetAndDestroy());
        socket.on("error", () => undefined);
    });
    const port = await listen(server);
    return { target: `127.0.0.1:${port}`, connections: () => connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A loopback port on which nothing listens: bound by the system, then released. */
export async function closedPort(): Promise<number> {
    const server = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, UNUSED_HOST, () => {
            const address = server.address();
            return address !== null && typeof address === "object" ? resolve(address.port) : reject(new Error("server has no port"));
        });
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

/**
 * The loopback address of closed ports: the fakes and Azurite listen on 127.0.0.1 only, so a port
 * freed here is never taken again by one of them while a test expects it refused.
 */
export const UNUSED_HOST = "127.0.0.2";

/**
 * A handler that answers `response` for `ms` milliseconds from the first request it sees (so the
 * first request always fails, however late it comes) and defers to `then` afterwards.
 */
export function failingFor(ms: number, response: FakeResponse, then: Handler): Handler {
    let until: number | undefined;
    return (request) => {
        until ??= Date.now() + ms;
        return Date.now() < until ? response : then(request);
    };
}

/** A handler that answers `response` to the first `count` requests and defers to `then` afterwards. */
export function failingTimes(count: number, response: FakeResponse, then: Handler): Handler {
    return inTurn(
        Array.from({ length: count }, () => response),
        then,
    );
}

/** A handler that answers the first requests with `responses`, one each in turn, and defers to `then` afterwards. */
export function inTurn(responses: readonly FakeResponse[], then: Handler): Handler {
    let seen = 0;
    return (request) => (seen < responses.length ? responses[seen++] : then(request));
}

/** Key Vault's answer when a role assignment has not reached the data plane. */
export const KEYVAULT_FORBIDDEN: FakeResponse = {
    status: 403,
    body: {
        error: {
            code: "Forbidden",
            message: "Caller is not authorized to perform action on resource. Assignment: (not found)",
            innererror: { code: "ForbiddenByRbac" },
        },
    },
};

/** The instance metadata endpoint as NMI serves it: checks the header and the query. */
export function imdsHandler(options: { tokens: TokenLog; clientId?: string }): Handler {
    return (request) => {
        const query = request.url.searchParams;
        const resource = query.get("resource");
        if (request.headers.metadata !== "true") {
            return { status: 400, body: { error: "invalid_request", error_description: "Required metadata header not specified" } };
        }
        if (request.url.pathname !== "/metadata/identity/oauth2/token" || query.get("api-version") !== "2018-02-01" || resource === null) {
            return { status: 400, body: { error: "invalid_request", error_description: "bad request" } };
        }
        if (options.clientId !== undefined && query.get("client_id") !== options.clientId) {
            return { status: 400, body: { error: "invalid_request", error_description: "Identity not found" } };
        }
        const expiresOn = Math.floor(Date.now() / 1000) + 3600;
        return {
            status: 200,
            body: {
                access_token: options.tokens.issue(resource),
                expires_in: "3599",
                expires_on: String(expiresOn),
                not_before: String(expiresOn - 3660),
                resource,
                token_type: "Bearer",
            },
        };
    };
}

/**
 * An error of Microsoft Entra ID's token endpoint as it sends them: an OAuth `error`, an
 * `error_description` that starts with the AADSTS code and ends with trace and correlation ids,
 * and the numeric code again in `error_codes`.
 */
export function entraError(status: number, error: string, code: number, message: string): FakeResponse {
    const timestamp = new Date()
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z");
    const traceId = randomUUID();
    const correlationId = randomUUID();
    return {
        status,
        body: {
            error,
            error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
            error_codes: [code],
            timestamp,
            trace_id: traceId,
            correlation_id: correlationId,
            error_uri: `https://login.microsoftonline.com/error?code=${code}`,
        },
    };
}

/** The issuer of the cluster's service-account tokens, as Entra quotes it back. */
export const CLUSTER_OIDC_ISSUER = "https://westeurope.oic.prod-aks.azure.com/0c7e4a1b-5d2f-4e8a-9b3c-6f1d2e3a4b5c/4f1e2d3c-b5a6-4978-8a9b-0c1d2e3f4a5b/";

/**
 * Entra's refusal of a service-account token that no federated identity credential trusts (yet):
 * a credential created moments ago, or a pod running under another service account. Entra has
 * sent it as 400 `invalid_request` and, more recently, as 401 `invalid_client`.
 */
export function entraNoMatchingFederatedIdentity(subject: string, variant: "invalid_request" | "invalid_client" = "invalid_request"): FakeResponse {
    const message =
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${CLUSTER_OIDC_ISSUER}'. ` +
        `Assertion Subject: '${subject}'. Assertion Audience: 'api://AzureADTokenExchange'. ` +
        "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation";
    return variant === "invalid_request" ? entraError(400, "invalid_request", 70021, message) : entraError(401, "invalid_client", 70021, message);
}

/** Entra's throttling answer: 429 with a plain-text body and the seconds to wait in `Retry-After`. */
export function entraTooManyRequests(retryAfterSeconds: number): FakeResponse {
    return { status: 429, headers: { "Retry-After": String(retryAfterSeconds) }, body: "Too Many Requests" };
}

/** What the Entra token endpoint expects of a client-credentials request with a federated token. */
export interface EntraExpectation {
    tokens: TokenLog;
    tenantId: string;
    clientId: string;
    assertion: string;
}

/** Microsoft Entra ID's token endpoint: checks the tenant, the form fields and the assertion. */
export function entraHandler(expected: EntraExpectation): Handler {
    return (request) => {
        const form = new URLSearchParams(request.body);
        const scope = form.get("scope") ?? "";
        const wellFormed =
            request.method === "POST" &&
            request.url.pathname === `/${expected.tenantId}/oauth2/v2.0/token` &&
            String(request.headers["content-type"]).startsWith("application/x-www-form-urlencoded") &&
            form.get("grant_type") === "client_credentials" &&
            form.get("client_assertion_type") === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" &&
            scope.endsWith("/.default");
        if (!wellFormed) {
            return entraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.");
        }
        const clientId = form.get("client_id") ?? "";
        if (clientId !== expected.clientId) {
            return entraError(
                400,
                "unauthorized_client",
                700016,
                `Application with identifier '${clientId}' was not found in the directory '${expected.tenantId}'. ` +
                    "This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. " +
                    "You may have sent your authentication request to the wrong tenant.",
            );
        }
        if (form.get("client_assertion") !== expected.assertion) {
            const subject = jwtClaims(form.get("client_assertion") ?? "")?.sub;
            return entraNoMatchingFederatedIdentity(typeof subject === "string" ? subject : "system:serviceaccount:default:default");
        }
        return {
            status: 200,
            body: { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: expected.tokens.issue(scope.slice(0, -"/.default".length)) },
        };
    };
}

/** Key Vault's `GET secrets/{name}`: checks the API version and the token's audience. */
export function keyVaultHandler(options: { baseUrl: string; secretName: string; value: string; forbidden?: readonly string[]; others?: Readonly<Record<string, string>> }): Handler {
    return (request) => {
        if (bearerAudience(request.headers.authorization) !== "https://vault.azure.net") {
            return { status: 401, body: { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } } };
        }
        if (request.method !== "GET" || request.url.searchParams.get("api-version") !== "7.4") {
            return { status: 400, body: { error: { code: "BadParameter", message: "bad request" } } };
        }
        // Secrets the identity holds no role on: Key Vault refuses them before it looks them up.
        const name = request.url.pathname.replace(/^\/secrets\//, "");
        if (options.forbidden?.includes(name)) {
            return KEYVAULT_FORBIDDEN;
        }
        const other = options.others?.[name];
        if (other !== undefined) {
            return { status: 200, body: { value: other, id: `${options.baseUrl}/secrets/${name}/fedcba9876543210`, attributes: { enabled: true } } };
        }
        if (request.url.pathname !== `/secrets/${options.secretName}`) {
            return { status: 404, body: { error: { code: "SecretNotFound", message: "not found" } } };
        }
        return {
            status: 200,
            body: { value: options.value, id: `${options.baseUrl}/secrets/${options.secretName}/0123456789abcdef`, attributes: { enabled: true } },
        };
    };
}

// ---------------------------------------------------------------------------------------------
// HTTPS client for the test process
// ---------------------------------------------------------------------------------------------

/** A request from the test process itself, trusting `ca`. */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; ca?: string; timeoutMs?: number }): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const target = new URL(url);
        const transport = target.protocol === "https:" ? https : http;
        const req = transport.request(target, { method: options.method ?? "GET", headers: options.headers, ca: options.ca, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.setTimeout(options.timeoutMs ?? 5000, () => req.destroy(new Error(`no response from ${url}`)));
        req.on("error", reject);
        req.end(options.body);
    });
}

// ---------------------------------------------------------------------------------------------
// Azurite
// ---------------------------------------------------------------------------------------------

/** A proxy in front of Azurite that refuses some containers as Azure RBAC does. */
export interface RbacProxy {
    /** Path-style endpoint of the emulator account through the proxy, with a trailing slash. */
    endpoint: string;
    /** The proxy's port, for endpoints under other host names that resolve to loopback. */
    port: number;
    /** Containers refused (403 AuthorizationPermissionMismatch, as Storage answers an identity without a data role). */
    denied: Set<string>;
    close(): Promise<void>;
}

/**
 * Azure RBAC in front of Azurite, which authenticates OAuth tokens but has no role assignments: a
 * request to a container in `denied` is refused with the 403 Storage gives an identity without a
 * data role on it; every other request is forwarded to Azurite, whatever host name it was sent to.
 */
export async function startRbacProxy(options: { azurite: Azurite; tls: TlsMaterial; denied: readonly string[] }): Promise<RbacProxy> {
    const target = new URL(options.azurite.endpoint);
    const denied = new Set(options.denied);
    const account = target.pathname.split("/").filter((p) => p !== "")[0];
    const server = https.createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
        const url = new URL(req.url ?? "/", "https://proxy");
        const [pathAccount, container] = url.pathname.split("/").filter((p) => p !== "");
        if (pathAccount === account && container !== undefined && denied.has(decodeURIComponent(container))) {
            req.resume();
            res.writeHead(403, { "Content-Type": "application/xml", "x-ms-error-code": "AuthorizationPermissionMismatch" });
            res.end(
                '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.</Message></Error>',
            );
            return;
        }
        const headers = { ...req.headers, host: target.host };
        const upstream = https.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers, ca: options.tls.cert, agent: false }, (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
        });
        upstream.on("error", () => res.writeHead(502).end());
        req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    return {
        endpoint: `https://127.0.0.1:${port}/${account}/`,
        port,
        denied,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/** A running Azurite blob service over HTTPS with basic OAuth. */
export interface Azurite {
    /** Path-style endpoint of the emulator account, with a trailing slash. */
    endpoint: string;
    stop(): Promise<void>;
}

/**
 * Starts `azurite-blob` on 127.0.0.1 and a port chosen by the system (read from its output), in
 * memory, with `workspace` as its working directory; waits (bounded) until it answers HTTPS.
 */
export async function startAzurite(options: { projectRoot: string; workspace: string; tls: TlsMaterial; timeoutMs: number }): Promise<Azurite> {
    const bin = path.join(options.projectRoot, "node_modules", ".bin", "azurite-blob");
    const args = [
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        "0",
        "--oauth",
        "basic",
        "--cert",
        options.tls.certPath,
        "--key",
        options.tls.keyPath,
        "--inMemoryPersistence",
        "--disableTelemetry",
        "--skipApiVersionCheck",
        "--loose",
        "--silent",
    ];
    const child = spawn(bin, args, { cwd: options.workspace, stdio: ["ignore", "pipe", "pipe"] });
    const stop = () => stopProcess(child, 5000);
    try {
        const port = await listeningPort(child, options.timeoutMs);
        const endpoint = `https://127.0.0.1:${port}/devstoreaccount1/`;
        await waitForHttps(endpoint, options.tls.cert, options.timeoutMs);
        return { endpoint, stop };
    } catch (err) {
        await stop();
        throw err;
    }
}

/** The port Azurite reports in its "successfully listens on https://127.0.0.1:<port>" line. */
function listeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
        let output = "";
        const timer = setTimeout(() => finish(new Error(`Azurite did not start within ${timeoutMs}ms: ${output}`)), timeoutMs);
        const onData = (chunk: Buffer) => {
            output += chunk.toString("utf8");
            const match = /listens on https:\/\/127\.0\.0\.1:(\d+)/.exec(output);
            if (match) {
                finish(undefined, Number(match[1]));
            }
        };
        const onExit = (code: number | null) => finish(new Error(`Azurite exited with ${code}: ${output}`));
        function finish(err: Error | undefined, port?: number) {
            clearTimeout(timer);
            child.stdout?.off("data", onData);
            child.stderr?.off("data", onData);
            child.off("exit", onExit);
            if (err !== undefined || port === undefined) {
                reject(err ?? new Error("no port"));
            } else {
                resolve(port);
            }
        }
        child.stdout?.on("data", onData);
        child.stderr?.on("data", onData);
        child.once("exit", onExit);
    });
}

/** Polls `url` until any HTTP answer comes back, within `timeoutMs`. */
async function waitForHttps(url: string, ca: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            await request(url, { ca, timeoutMs: 1000 });
            return;
        } catch (err) {
            if (Date.now() + 100 > deadline) {
                throw err;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    }
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.resolve();
    }
    return new Promise((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        child.once("exit", () => {
            clearTimeout(timer);
            resolve();
        });
        child.kill("SIGTERM");
    });
}
