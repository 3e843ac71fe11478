// A loopback HTTPS fake of the Kubernetes API as the impostor meets it: namespaced creates of pods
// and of aad-pod-identity's objects, each answered as scripted per resource (a
// ValidatingAdmissionPolicy's denial, an RBAC refusal, Pod Security admission's refusal, admission,
// 404, or a server error) in the real API server's Status format, or as a proxy in its path answers,
// in plain text. It authenticates the bearer token, records every request, and refuses any write
// that is not a server-side dry run (`dryRun=All`) with 400, so a test proves the verifier never
// writes for real.
import { randomUUID } from "crypto";
import { startFakeServer, type FakeResponse, type FakeServer, type ReceivedRequest, type TlsMaterial } from "./azure";

/** What the fake answers a create of one resource. */
export type KubeAnswer =
    /** A ValidatingAdmissionPolicy's denial: 403 for `reason: Forbidden` (the default), 422 for a validation without a reason. */
    | { kind: "policyDenial"; policy: string; binding?: string; message?: string; status?: 403 | 422 }
    /** The authorizer's refusal: the caller may not create this resource here. */
    | { kind: "rbacDenial"; user?: string; reason?: string }
    /** Admitted: 201 with the object echoed, as a dry run answers. */
    | { kind: "admit" }
    /** The resource is not served (its CRD is not installed). */
    | { kind: "notFound" }
    /** Pod Security admission's refusal of a pod that breaks the namespace's level. */
    | { kind: "podSecurity"; violation: string }
    /** A proxy's answer in the path to the API server, not a Kubernetes Status: a plain-text 502 or 504. */
    | { kind: "proxyError"; status: 502 | 504 }
    /** 500 InternalError, 503 ServiceUnavailable or 429 TooManyRequests (with `Retry-After` when given). */
    | { kind: "serverError"; status?: 429 | 500 | 503; retryAfterSeconds?: number };

/** One request as the fake understood it. */
export interface KubeRequest {
    method: string;
    path: string;
    query: URLSearchParams;
    authorization: string | undefined;
    contentType: string | undefined;
    /** The parsed JSON body, or the raw text when it is not JSON. */
    body: unknown;
    /** The collection the path names, e.g. `pods`, `azureidentities`; undefined when it names none. */
    resource: string | undefined;
    group: string | undefined;
    namespace: string | undefined;
    /** The status the fake answered. */
    status: number;
}

/** The kinds the fake knows, by resource: the API version and kind a body must carry. */
const KINDS: Readonly<Record<string, { group: string; version: string; kind: string }>> = {
    pods: { group: "", version: "v1", kind: "Pod" },
    azureidentities: { group: "aadpodidentity.k8s.io", version: "v1", kind: "AzureIdentity" },
    azureidentitybindings: { group: "aadpodidentity.k8s.io", version: "v1", kind: "AzureIdentityBinding" },
    azurepodidentityexceptions: { group: "aadpodidentity.k8s.io", version: "v1", kind: "AzurePodIdentityException" },
};

/** The service account the fake's RBAC refusals name by default. */
export const IMPOSTOR_USER = "system:serviceaccount:tenant-b:impostor";

/** A Kubernetes `Status` failure body. */
function status(code: number, reason: string, message: string, details?: Record<string, unknown>, headers?: Record<string, string>): FakeResponse {
    return { status: code, headers, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details === undefined ? {} : { details }), code } };
}

/** `pods`, or `azureidentities.aadpodidentity.k8s.io`: how the API server names a resource in messages. */
function qualified(resource: string, group: string): string {
    return group === "" ? resource : `${resource}.${group}`;
}

/** `/api/v1/namespaces/<ns>/<resource>` or `/apis/<group>/<version>/namespaces/<ns>/<resource>`. */
function parsePath(pathname: string): { group: string; version: string; namespace: string; resource: string } | undefined {
    const core = /^\/api\/(v1)\/namespaces\/([^/]+)\/([^/]+)$/.exec(pathname);
    if (core !== null) {
        return { group: "", version: core[1], namespace: decodeURIComponent(core[2]), resource: core[3] };
    }
    const grouped = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)$/.exec(pathname);
    return grouped === null ? undefined : { group: grouped[1], version: grouped[2], namespace: decodeURIComponent(grouped[3]), resource: grouped[4] };
}

export class FakeKubeApi {
    readonly requests: KubeRequest[] = [];
    /** The token the fake accepts in `Authorization: Bearer ...`; a test may rotate it. */
    token: string;
    /** Called for each authenticated request before it is answered (e.g. to rotate the token). */
    onRequest: ((request: KubeRequest) => void) | undefined;
    private readonly scripts = new Map<string, KubeAnswer[]>();

    constructor(
        private readonly server: FakeServer,
        token: string,
    ) {
        this.token = token;
        server.reset((request) => this.handle(request));
    }

    /** `https://127.0.0.1:<port>`. */
    get url(): string {
        return this.server.url;
    }

    /**
     * Scripts the answers to creates of `resource` (its plural, e.g. `pods`, `azureidentities`): one
     * per request, in order, the last one repeated. A resource without a script is not served (404).
     */
    answer(resource: string, ...answers: KubeAnswer[]): void {
        if (answers.length === 0) {
            throw new Error(`no answer scripted for ${resource}`);
        }
        this.scripts.set(resource, [...answers]);
    }

    /** The recorded requests to one resource. */
    requestsFor(resource: string): KubeRequest[] {
        return this.requests.filter((r) => r.resource === resource);
    }

    close(): Promise<void> {
        return this.server.close();
    }

    private handle(received: ReceivedRequest): FakeResponse {
        let body: unknown;
        try {
            body = JSON.parse(received.body);
        } catch {
            body = received.body;
        }
        const target = parsePath(received.url.pathname);
        const request: KubeRequest = {
            method: received.method,
            path: received.url.pathname,
            query: received.url.searchParams,
            authorization: received.headers.authorization,
            contentType: received.headers["content-type"],
            body,
            resource: target?.resource,
            group: target?.group,
            namespace: target?.namespace,
            status: 0,
        };
        this.requests.push(request);
        const answer = this.answerFor(request, target);
        request.status = answer.status;
        return answer;
    }

    /** Authentication, routing, the dry-run rule, the body's checks, then the scripted answer. */
    private answerFor(request: KubeRequest, target: ReturnType<typeof parsePath>): FakeResponse {
        if (request.authorization !== `Bearer ${this.token}`) {
            return status(401, "Unauthorized", "Unauthorized");
        }
        this.onRequest?.(request);
        const known = target === undefined ? undefined : KINDS[target.resource];
        if (target === undefined || known === undefined || known.group !== target.group || known.version !== target.version) {
            return status(404, "NotFound", "the server could not find the requested resource", {});
        }
        if (request.method !== "POST") {
            return status(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`, {});
        }
        const dryRun = request.query.getAll("dryRun");
        if (dryRun.length !== 1 || dryRun[0] !== "All") {
            return status(400, "BadRequest", `this fake API server takes dry runs only (dryRun=All); got dryRun=${JSON.stringify(dryRun)}`);
        }
        if (!String(request.contentType).startsWith("application/json")) {
            return status(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json`);
        }
        const object = typeof request.body === "object" && request.body !== null ? (request.body as Record<string, unknown>) : undefined;
        const apiVersion = known.group === "" ? known.version : `${known.group}/${known.version}`;
        if (object === undefined || object.apiVersion !== apiVersion || object.kind !== known.kind) {
            return status(400, "BadRequest", `the object is not a ${apiVersion} ${known.kind}`);
        }
        const metadata = (typeof object.metadata === "object" && object.metadata !== null ? object.metadata : {}) as Record<string, unknown>;
        if (metadata.namespace !== undefined && metadata.namespace !== target.namespace) {
            return status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
        }
        const script = this.scripts.get(target.resource);
        if (script === undefined) {
            return status(404, "NotFound", "the server could not find the requested resource", {});
        }
        const name = typeof metadata.name === "string" && metadata.name !== "" ? metadata.name : "Unknown";
        const next = script.length > 1 ? script.shift() : script[0];
        return this.respond(next as KubeAnswer, { ...target, name, object, metadata });
    }

    private respond(
        answer: KubeAnswer,
        target: { group: string; namespace: string; resource: string; name: string; object: Record<string, unknown>; metadata: Record<string, unknown> },
    ): FakeResponse {
        const resource = qualified(target.resource, target.group);
        const group = target.group === "" ? {} : { group: target.group };
        switch (answer.kind) {
            case "policyDenial": {
                // dispatcher.go: the denial is wrapped by admission.NewForbidden (`<resource> "<name>" is forbidden: ...`)
                // and takes the status of the validation's reason; the denial is repeated as a cause.
                const denial = `ValidatingAdmissionPolicy '${answer.policy}' with binding '${answer.binding ?? answer.policy}' denied request: ${answer.message ?? "failed expression"}`;
                const code = answer.status ?? 403;
                return status(code, code === 403 ? "Forbidden" : "Invalid", `${resource} "${target.name}" is forbidden: ${denial}`, {
                    name: target.name,
                    ...group,
                    kind: target.resource,
                    causes: [{ message: denial }],
                });
            }
            case "rbacDenial": {
                // responsewriters/errors.go: a create has no name yet, so the message has none either.
                const refusal = `User "${answer.user ?? IMPOSTOR_USER}" cannot create resource "${target.resource}" in API group "${target.group}" in the namespace "${target.namespace}"`;
                return status(403, "Forbidden", `${resource} is forbidden: ${refusal}${answer.reason === undefined ? "" : `: ${answer.reason}`}`, { ...group, kind: target.resource });
            }
            case "admit":
                return {
                    status: 201,
                    body: {
                        ...target.object,
                        metadata: { ...target.metadata, namespace: target.namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
                    },
                };
            case "notFound":
                return status(404, "NotFound", "the server could not find the requested resource", {});
            case "podSecurity":
                // pod-security-admission: `violates PodSecurity "<level>:<version>": <what each check forbids>`.
                return status(403, "Forbidden", `${resource} "${target.name}" is forbidden: violates PodSecurity "restricted:latest": ${answer.violation}`, {
                    name: target.name,
                    kind: target.resource,
                });
            case "proxyError":
                return { status: answer.status, headers: { "Content-Type": "text/plain" }, body: answer.status === 502 ? "Bad Gateway" : "Gateway Timeout" };
            case "serverError": {
                const code = answer.status ?? 500;
                const headers = answer.retryAfterSeconds === undefined ? undefined : { "Retry-After": String(answer.retryAfterSeconds) };
                if (code === 429) {
                    return status(429, "TooManyRequests", "Too many requests, please try again later.", { retryAfterSeconds: answer.retryAfterSeconds ?? 1 }, headers);
                }
                if (code === 503) {
                    return status(503, "ServiceUnavailable", "the server is currently unable to handle the request", {}, headers);
                }
                return status(500, "InternalError", "Internal error occurred: etcdserver: request timed out", { causes: [{ message: "etcdserver: request timed out" }] }, headers);
            }
        }
    }
}

/** Starts a fake Kubernetes API on 127.0.0.1 with `tls` (its certificate is the cluster's CA) that accepts `token`. */
export async function startFakeKubeApi(options: { tls: TlsMaterial; token: string }): Promise<FakeKubeApi> {
    return new FakeKubeApi(await startFakeServer(options.tls), options.token);
}
