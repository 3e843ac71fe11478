// A loopback HTTPS fake of the one Kubernetes API the deployer-access wait calls: POST of an
// authorization.k8s.io/v1 SelfSubjectAccessReview. It answers as an API server with a webhook
// authorizer does while a role assignment propagates: 201 with `status.allowed` false (and the
// authorizer's reason) until it is told the grant applies, then true. Scripted answers (401, 403,
// 429, 500, a body that is not a review, no answer, half an answer) come first, in order. Requests
// without the expected bearer token get 401, as the API server's authenticator answers.
import type { IncomingMessage, ServerResponse } from "http";
import * as https from "https";
import { generate } from "selfsigned";

/** The token the fake accepts in `Authorization: Bearer ...`. */
export const FAKE_KUBE_TOKEN = "fake-kube-token";

/** An answer served instead of the review's outcome. */
export interface ScriptedKubeAnswer {
    status: number;
    /** The body; a Kubernetes Status object with this message when it is a string. */
    body?: string | Record<string, unknown>;
    /** Takes the request and never answers, as behind a connection that went dead; `status` is ignored. */
    hang?: boolean;
    /** Sends the status and the start of the body, then drops the connection. */
    breakOff?: boolean;
}

/** One review the fake received. */
export interface ReceivedReview {
    authorization: string | undefined;
    contentType: string | undefined;
    accept: string | undefined;
    body: unknown;
    /** The status answered; 0 for a request left without an answer. */
    status: number;
}

export class FakeKubernetesApi {
    /** `https://127.0.0.1:<port>`. */
    public readonly url: string;
    /** PEM certificate of the server, to put in a kubeconfig's certificate-authority-data. */
    public readonly ca: string;
    public reviews: ReceivedReview[] = [];
    /** Reviews answered "not allowed" before the grant applies; Infinity never applies it. */
    public deniedRounds = 0;
    /** The authorizer's reason on a denied review. */
    public denyReason = "Azure RBAC: the principal has no role on this cluster";
    /** Answers served first, in order, one per request. */
    public script: ScriptedKubeAnswer[] = [];

    private constructor(
        private readonly server: https.Server,
        ca: string,
    ) {
        const address = server.address();
        if (address === null || typeof address === "string") {
            throw new Error("the fake API server is not listening on a TCP port");
        }
        this.url = `https://127.0.0.1:${address.port}`;
        this.ca = ca;
    }

    /** Starts a fake on a free loopback port. */
    static async start(): Promise<FakeKubernetesApi> {
        const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], {
            keyType: "ec",
            curve: "P-256",
            algorithm: "sha256",
            extensions: [
                { name: "basicConstraints", cA: true },
                { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
            ],
        });
        let fake: FakeKubernetesApi | undefined;
        const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
            let text = "";
            req.setEncoding("utf8");
            req.on("data", (chunk: string) => (text += chunk));
            req.on("end", () => (fake === undefined ? res.writeHead(503).end() : fake.handle(req, res, text)));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        fake = new FakeKubernetesApi(server, pems.cert);
        return fake;
    }

    /** Forgets reviews and scripts; the grant applies at once again. */
    reset(): void {
        this.reviews = [];
        this.deniedRounds = 0;
        this.script = [];
        this.denyReason = "Azure RBAC: the principal has no role on this cluster";
    }

    async close(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    /** A kubeconfig for this server whose user runs `command args...` as its exec plugin. */
    kubeconfig(exec: { command: string; args: string[]; env?: Array<{ name: string; value: string }> }, ca = this.ca): string {
        const quote = (value: string) => JSON.stringify(value);
        return [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: fake",
            "  cluster:",
            `    certificate-authority-data: ${Buffer.from(ca).toString("base64")}`,
            `    server: ${this.url}`,
            "contexts:",
            "- name: fake",
            "  context:",
            "    cluster: fake",
            "    user: deployer",
            "current-context: fake",
            "users:",
            "- name: deployer",
            "  user:",
            "    exec:",
            "      apiVersion: client.authentication.k8s.io/v1beta1",
            `      command: ${quote(exec.command)}`,
            "      args:",
            ...exec.args.map((a) => `      - ${quote(a)}`),
            ...(exec.env === undefined ? [] : ["      env:", ...exec.env.flatMap((e) => [`      - name: ${quote(e.name)}`, `        value: ${quote(e.value)}`])]),
            "      interactiveMode: IfAvailable",
            "",
        ].join("\n");
    }

    private handle(req: IncomingMessage, res: ServerResponse, text: string): void {
        let body: unknown;
        try {
            body = JSON.parse(text);
        } catch {
            body = text;
        }
        const record = (status: number): void => {
            this.reviews.push({ authorization: req.headers.authorization, contentType: req.headers["content-type"], accept: req.headers.accept, body, status });
        };
        const answer = (status: number, payload: Record<string, unknown>): void => {
            record(status);
            res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(payload));
        };
        if (req.method !== "POST" || req.url !== "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
            answer(404, { kind: "Status", apiVersion: "v1", status: "Failure", message: "the server could not find the requested resource", code: 404 });
            return;
        }
        const scripted = this.script.shift();
        if (scripted?.hang === true) {
            record(0);
            return;
        }
        if (scripted?.breakOff === true) {
            record(scripted.status);
            res.writeHead(scripted.status, { "content-type": "application/json", "content-length": "1000" }).write('{"status":', () => res.socket?.destroy());
            return;
        }
        if (scripted !== undefined) {
            const payload =
                typeof scripted.body === "object"
                    ? scripted.body
                    : { kind: "Status", apiVersion: "v1", status: "Failure", message: scripted.body ?? `scripted ${scripted.status}`, code: scripted.status };
            answer(scripted.status, payload);
            return;
        }
        if (req.headers.authorization !== `Bearer ${FAKE_KUBE_TOKEN}`) {
            answer(401, { kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
            return;
        }
        const deniedSoFar = this.reviews.filter((r) => r.status === 201 && typeof r.body === "object").length;
        const allowed = deniedSoFar >= this.deniedRounds;
        const spec: unknown = typeof body === "object" && body !== null ? Reflect.get(body, "spec") : undefined;
        answer(201, {
            kind: "SelfSubjectAccessReview",
            apiVersion: "authorization.k8s.io/v1",
            spec,
            status: allowed ? { allowed: true, reason: "Azure RBAC: allowed" } : { allowed: false, reason: this.denyReason },
        });
    }
}
