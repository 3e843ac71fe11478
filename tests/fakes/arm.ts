// A loopback HTTPS fake of the part of Azure Resource Manager the pod identity attachment talks to:
// GET and PUT of `Microsoft.ContainerService/managedClusters/{name}`, with ETag / If-Match, bearer
// token check, synchronous (200) or long-running (201 + Azure-AsyncOperation) updates, 409 while an
// update is running, scripted failures and a barrier that makes concurrent readers see the same state.
// The certificate is self-signed; clients trust it through the SDK's `tlsOptions.ca`.
import type { IncomingMessage, ServerResponse } from "http";
import * as https from "https";
import { generate } from "selfsigned";

/** Token the fake accepts in `Authorization: Bearer ...`. */
export const FAKE_TOKEN = "fake-arm-token";

/** A pod identity as the fake stores it (ARM JSON). */
export interface FakePodIdentity {
    name: string;
    namespace: string;
    bindingSelector?: string;
    identity: { resourceId?: string; clientId?: string; objectId?: string };
    provisioningState?: string;
}

/** A canned answer served instead of the normal one. */
export interface ScriptedAnswer {
    status: number;
    code: string;
    message?: string;
    headers?: Record<string, string>;
    /** How many requests get this answer; Infinity for all of them. */
    times: number;
    /** Only requests for this cluster get it; any cluster when absent. */
    clusterName?: string;
    /** The request gets no answer at all, as one Azure never answers, until the client gives up on it. */
    unanswered?: boolean;
}

/** One request the fake received. */
export interface RecordedRequest {
    method: string;
    path: string;
    apiVersion: string | null;
    ifMatch: string | undefined;
    authorization: string | undefined;
    body: unknown;
    status: number;
    at: number;
}

type Json = Record<string, unknown>;

interface Cluster {
    subscriptionId: string;
    body: Json;
    etag: string;
}

interface Operation {
    clusterKey: string;
    pollsLeft: number;
    done: boolean;
}

function asObject(value: unknown): Json {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};
}

const CLUSTER_PATH = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)$/i;
const OPERATION_PATH = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.ContainerService\/locations\/[^/]+\/operations\/([^/]+)$/i;

/** Read-only properties of a managed cluster (per the SDK typings); a PUT must not send them. */
const READ_ONLY_TOP = ["id", "name", "type", "eTag", "systemData"];
const READ_ONLY_PROPERTIES = ["provisioningState", "powerState", "maxAgentPools", "currentKubernetesVersion", "fqdn", "privateFQDN", "azurePortalFQDN", "resourceUID"];

export class FakeArm {
    /** The request header that names the generation of the client that sent it. */
    static readonly GENERATION_HEADER = "x-fake-arm-generation";

    /** Base URL, `https://127.0.0.1:<port>`. */
    public readonly url: string;
    /** PEM certificate to trust. */
    public readonly ca: string;
    /** Every request, in arrival order. */
    public requests: RecordedRequest[] = [];
    /** Read-only properties found in PUT bodies, as paths. */
    public readOnlyLeaks: string[] = [];
    /** `sync` answers PUT with 200; `lro` with 201 and an Azure-AsyncOperation to poll `lroPolls` times. */
    public mode: "sync" | "lro" = "sync";
    public lroPolls = 2;
    /** Names of entries the add-on reports as Failed after a write. */
    public failEntries: string[] = [];
    /** Where GET answers carry the ETag. */
    public etagIn: { body: boolean; header: boolean } = { body: true, header: true };
    /**
     * How many times the fake was reset. A request whose GENERATION_HEADER names an earlier one comes
     * from a client of a test that has ended (a request aborted at its deadline can still arrive), and
     * is refused without touching what the current test set up.
     */
    public generation = 0;

    private clusters = new Map<string, Cluster>();
    private operations = new Map<string, Operation>();
    private scripts: Record<"GET" | "PUT", ScriptedAnswer[]> = { GET: [], PUT: [] };
    private getBarrier: { size: number; waiting: Array<() => void> } | undefined;
    private counter = 0;

    private constructor(
        private readonly server: https.Server,
        ca: string,
    ) {
        const address = server.address();
        if (address === null || typeof address === "string") {
            throw new Error("the fake ARM server is not listening on a TCP port");
        }
        this.url = `https://127.0.0.1:${address.port}`;
        this.ca = ca;
    }

    /** Starts a fake on a free loopback port. */
    static async start(): Promise<FakeArm> {
        const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], {
            keyType: "ec",
            curve: "P-256",
            algorithm: "sha256",
            extensions: [
                { name: "basicConstraints", cA: true },
                {
                    name: "subjectAltName",
                    altNames: [
                        { type: 7, ip: "127.0.0.1" },
                        { type: 2, value: "localhost" },
                    ],
                },
            ],
        });
        let fake: FakeArm | undefined;
        const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (chunk: Buffer) => chunks.push(chunk));
            req.on("end", () => {
                if (fake === undefined) {
                    res.writeHead(503).end();
                    return;
                }
                fake.handle(req, res, Buffer.concat(chunks).toString("utf8"));
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        fake = new FakeArm(server, pems.cert);
        return fake;
    }

    /** Stops the fake and drops its connections. */
    async close(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    /** Forgets clusters, requests, scripts and modes. */
    reset(): void {
        this.clusters.clear();
        this.operations.clear();
        this.requests = [];
        this.readOnlyLeaks = [];
        this.scripts = { GET: [], PUT: [] };
        this.getBarrier = undefined;
        this.mode = "sync";
        this.lroPolls = 2;
        this.failEntries = [];
        this.etagIn = { body: true, header: true };
        this.counter = 0;
        this.generation += 1;
    }

    /** ARM id of a cluster. */
    static clusterId(subscriptionId: string, resourceGroupName: string, clusterName: string): string {
        return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/${clusterName}`;
    }

    /** Adds a running cluster with the pod-identity add-on and these entries. */
    addCluster(subscriptionId: string, resourceGroupName: string, clusterName: string, entries: FakePodIdentity[] = []): void {
        const id = FakeArm.clusterId(subscriptionId, resourceGroupName, clusterName);
        const body: Json = {
            id,
            name: clusterName,
            type: "Microsoft.ContainerService/ManagedClusters",
            location: "westeurope",
            tags: { env: "test" },
            sku: { name: "Base", tier: "Free" },
            identity: { type: "SystemAssigned", principalId: "00000000-0000-0000-0000-00000000aaaa", tenantId: "00000000-0000-0000-0000-00000000bbbb" },
            systemData: { createdBy: "someone", createdAt: "2024-01-01T00:00:00Z" },
            properties: {
                provisioningState: "Succeeded",
                powerState: { code: "Running" },
                maxAgentPools: 100,
                kubernetesVersion: "1.29",
                currentKubernetesVersion: "1.29.7",
                dnsPrefix: clusterName,
                fqdn: `${clusterName}-abc.hcp.westeurope.azmk8s.io`,
                azurePortalFQDN: `${clusterName}-abc.portal.hcp.westeurope.azmk8s.io`,
                agentPoolProfiles: [
                    {
                        name: "system",
                        count: 2,
                        vmSize: "Standard_D2s_v5",
                        mode: "System",
                        osType: "Linux",
                        provisioningState: "Succeeded",
                        currentOrchestratorVersion: "1.29.7",
                        orchestratorVersion: "1.29",
                    },
                ],
                enableRBAC: true,
                networkProfile: { networkPlugin: "azure", serviceCidr: "10.0.0.0/16", dnsServiceIP: "10.0.0.10" },
                podIdentityProfile: {
                    enabled: true,
                    allowNetworkPluginKubenet: false,
                    userAssignedIdentities: entries.map((e) => ({ provisioningState: "Assigned", ...e })),
                    userAssignedIdentityExceptions: [{ name: "kube-proxy", namespace: "kube-system", podLabels: { app: "kube-proxy" } }],
                },
                nodeResourceGroup: `MC_${resourceGroupName}_${clusterName}_westeurope`,
            },
        };
        this.clusters.set(id.toLowerCase(), { subscriptionId, body, etag: this.nextEtag() });
    }

    /** Deletes a cluster. */
    deleteCluster(subscriptionId: string, resourceGroupName: string, clusterName: string): void {
        this.clusters.delete(FakeArm.clusterId(subscriptionId, resourceGroupName, clusterName).toLowerCase());
    }

    /** The pod identities of a cluster, or undefined when it does not exist. */
    podIdentities(subscriptionId: string, resourceGroupName: string, clusterName: string): FakePodIdentity[] | undefined {
        const cluster = this.clusters.get(FakeArm.clusterId(subscriptionId, resourceGroupName, clusterName).toLowerCase());
        if (cluster === undefined) {
            return undefined;
        }
        const profile = asObject(asObject(cluster.body.properties).podIdentityProfile);
        const list = Array.isArray(profile.userAssignedIdentities) ? profile.userAssignedIdentities : [];
        return list.map((e): FakePodIdentity => {
            const o = asObject(e);
            const identity = asObject(o.identity);
            return {
                name: String(o.name),
                namespace: String(o.namespace),
                ...(typeof o.bindingSelector === "string" ? { bindingSelector: o.bindingSelector } : {}),
                identity: { resourceId: String(identity.resourceId), clientId: String(identity.clientId), objectId: String(identity.objectId) },
                ...(typeof o.provisioningState === "string" ? { provisioningState: o.provisioningState } : {}),
            };
        });
    }

    /** The stored ARM JSON of a cluster. */
    clusterBody(subscriptionId: string, resourceGroupName: string, clusterName: string): Json | undefined {
        return this.clusters.get(FakeArm.clusterId(subscriptionId, resourceGroupName, clusterName).toLowerCase())?.body;
    }

    /** Serves `answer` to the next `answer.times` requests of `method` on clusters (or on `answer.clusterName`). */
    script(method: "GET" | "PUT", answer: ScriptedAnswer): void {
        this.scripts[method].push({ ...answer });
    }

    /** Holds the next `size` cluster GETs until all of them have arrived, then answers them together. */
    holdGets(size: number): void {
        this.getBarrier = { size, waiting: [] };
    }

    /** Requests of a method (and optionally a status). */
    count(method: string, status?: number): number {
        return this.requests.filter((r) => r.method === method && (status === undefined || r.status === status)).length;
    }

    /** Requests on one cluster, in arrival order. */
    requestsFor(clusterName: string): RecordedRequest[] {
        return this.requests.filter((r) => r.path.toLowerCase().endsWith(`/managedclusters/${clusterName.toLowerCase()}`));
    }

    /** An entry with the add-on's verdict on it: `state`, or Failed with an error for `failEntries`. */
    private provisioned(entry: Json, state: string): Json {
        if (typeof entry.name === "string" && this.failEntries.includes(entry.name)) {
            return { ...entry, provisioningState: "Failed", provisioningInfo: { error: { error: { code: "IdentityNotFound", message: "the identity could not be assigned" } } } };
        }
        return { ...entry, provisioningState: state };
    }

    private nextEtag(): string {
        this.counter += 1;
        return `"etag-${this.counter}"`;
    }

    private handle(req: IncomingMessage, res: ServerResponse, text: string): void {
        const generation = req.headers[FakeArm.GENERATION_HEADER];
        if (generation !== undefined && generation !== String(this.generation)) {
            res.writeHead(410).end();
            return;
        }
        const url = new URL(req.url ?? "/", this.url);
        let body: unknown = undefined;
        if (text !== "") {
            try {
                body = JSON.parse(text);
            } catch {
                body = text;
            }
        }
        const record: RecordedRequest = {
            method: req.method ?? "",
            path: url.pathname,
            apiVersion: url.searchParams.get("api-version"),
            ifMatch: typeof req.headers["if-match"] === "string" ? req.headers["if-match"] : undefined,
            authorization: req.headers.authorization,
            body,
            status: 0,
            at: Date.now(),
        };
        this.requests.push(record);
        const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
            record.status = status;
            res.writeHead(status, { "content-type": "application/json", "x-ms-request-id": `req-${this.requests.length}`, ...headers });
            res.end(payload === undefined ? "" : JSON.stringify(payload));
        };
        const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}): void => send(status, { error: { code, message } }, headers);

        if (req.headers.authorization !== `Bearer ${FAKE_TOKEN}`) {
            fail(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing or invalid.");
            return;
        }
        if (record.apiVersion === null) {
            fail(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
            return;
        }
        const operation = OPERATION_PATH.exec(url.pathname);
        if (operation && req.method === "GET") {
            this.pollOperation(operation[1], send, fail);
            return;
        }
        const match = CLUSTER_PATH.exec(url.pathname);
        if (!match || (req.method !== "GET" && req.method !== "PUT")) {
            fail(404, "NotFound", `No route for ${req.method} ${url.pathname}`);
            return;
        }
        const method = req.method;
        const queue = this.scripts[method];
        const index = queue.findIndex((a) => a.clusterName === undefined || a.clusterName.toLowerCase() === match[3].toLowerCase());
        const scripted = index < 0 ? undefined : queue[index];
        if (scripted !== undefined) {
            scripted.times -= 1;
            if (scripted.times <= 0) {
                queue.splice(index, 1);
            }
            if (scripted.unanswered === true) {
                return;
            }
            fail(scripted.status, scripted.code, scripted.message ?? `Scripted ${scripted.code}.`, scripted.headers);
            return;
        }
        const key = url.pathname.toLowerCase();
        if (method === "GET") {
            const answer = (): void => this.getCluster(key, match[3], send, fail);
            const barrier = this.getBarrier;
            if (barrier !== undefined) {
                barrier.waiting.push(answer);
                if (barrier.waiting.length >= barrier.size) {
                    this.getBarrier = undefined;
                    barrier.waiting.forEach((release) => release());
                }
                return;
            }
            answer();
            return;
        }
        this.putCluster(key, match[1], record, send, fail);
    }

    private view(cluster: Cluster): { payload: Json; headers: Record<string, string> } {
        const payload = this.etagIn.body ? { ...cluster.body, eTag: cluster.etag } : { ...cluster.body };
        return { payload, headers: this.etagIn.header ? { etag: cluster.etag } : {} };
    }

    private getCluster(
        key: string,
        name: string,
        send: (status: number, payload: unknown, headers?: Record<string, string>) => void,
        fail: (status: number, code: string, message: string) => void,
    ): void {
        const cluster = this.clusters.get(key);
        if (cluster === undefined) {
            fail(404, "ResourceNotFound", `The Resource 'Microsoft.ContainerService/managedClusters/${name}' was not found.`);
            return;
        }
        const { payload, headers } = this.view(cluster);
        send(200, payload, headers);
    }

    private putCluster(
        key: string,
        subscriptionId: string,
        record: RecordedRequest,
        send: (status: number, payload: unknown, headers?: Record<string, string>) => void,
        fail: (status: number, code: string, message: string) => void,
    ): void {
        const cluster = this.clusters.get(key);
        if (cluster === undefined) {
            if (record.ifMatch !== undefined) {
                fail(412, "PreconditionFailed", "The resource does not exist; If-Match cannot be satisfied.");
            } else {
                fail(400, "PodIdentityAddonUserAssignedIdentitiesNotAllowedInCreation", "The fake does not create clusters.");
            }
            return;
        }
        const properties = asObject(cluster.body.properties);
        if (properties.provisioningState !== "Succeeded") {
            fail(409, "OperationNotAllowed", "Operation is not allowed because there's an in progress update managed cluster operation on the managed cluster.");
            return;
        }
        if (record.ifMatch !== undefined && record.ifMatch !== "*" && record.ifMatch !== cluster.etag) {
            fail(412, "PreconditionFailed", `The ETag ${record.ifMatch} does not match the resource's current ETag.`);
            return;
        }
        const sent = asObject(record.body);
        this.checkReadOnly(sent);
        const sentProperties = asObject(sent.properties);
        const profile = asObject(sentProperties.podIdentityProfile);
        const entries = Array.isArray(profile.userAssignedIdentities) ? profile.userAssignedIdentities : [];
        const lro = this.mode === "lro";
        const state = lro ? "Updating" : "Succeeded";
        cluster.body = {
            ...sent,
            id: cluster.body.id,
            name: cluster.body.name,
            type: cluster.body.type,
            systemData: cluster.body.systemData,
            properties: {
                ...sentProperties,
                provisioningState: state,
                powerState: properties.powerState,
                maxAgentPools: properties.maxAgentPools,
                currentKubernetesVersion: properties.currentKubernetesVersion,
                fqdn: properties.fqdn,
                azurePortalFQDN: properties.azurePortalFQDN,
                podIdentityProfile: {
                    ...profile,
                    userAssignedIdentities: entries.map((e) => this.provisioned(asObject(e), lro ? "Updating" : "Assigned")),
                },
            },
        };
        cluster.etag = this.nextEtag();
        const { payload, headers } = this.view(cluster);
        if (!lro) {
            send(200, payload, headers);
            return;
        }
        const operationId = `op-${this.counter}`;
        this.operations.set(operationId, { clusterKey: key, pollsLeft: this.lroPolls, done: false });
        const location = `${this.url}/subscriptions/${subscriptionId}/providers/Microsoft.ContainerService/locations/westeurope/operations/${operationId}?api-version=${record.apiVersion ?? ""}`;
        send(201, payload, { ...headers, "azure-asyncoperation": location });
    }

    private pollOperation(operationId: string, send: (status: number, payload: unknown) => void, fail: (status: number, code: string, message: string) => void): void {
        const operation = this.operations.get(operationId);
        if (operation === undefined) {
            fail(404, "NotFound", `No operation ${operationId}.`);
            return;
        }
        if (!operation.done && operation.pollsLeft > 0) {
            operation.pollsLeft -= 1;
            send(200, { name: operationId, status: "InProgress", startTime: new Date().toISOString() });
            return;
        }
        if (!operation.done) {
            operation.done = true;
            const cluster = this.clusters.get(operation.clusterKey);
            if (cluster !== undefined) {
                const properties = asObject(cluster.body.properties);
                const profile = asObject(properties.podIdentityProfile);
                const entries = Array.isArray(profile.userAssignedIdentities) ? profile.userAssignedIdentities : [];
                cluster.body = {
                    ...cluster.body,
                    properties: {
                        ...properties,
                        provisioningState: "Succeeded",
                        podIdentityProfile: { ...profile, userAssignedIdentities: entries.map((e) => this.provisioned(asObject(e), "Assigned")) },
                    },
                };
            }
        }
        send(200, { name: operationId, status: "Succeeded", startTime: new Date().toISOString(), endTime: new Date().toISOString() });
    }

    private checkReadOnly(sent: Json): void {
        for (const key of READ_ONLY_TOP) {
            if (key in sent) {
                this.readOnlyLeaks.push(key);
            }
        }
        const properties = asObject(sent.properties);
        for (const key of READ_ONLY_PROPERTIES) {
            if (key in properties) {
                this.readOnlyLeaks.push(`properties.${key}`);
            }
        }
        const identity = asObject(sent.identity);
        for (const key of ["principalId", "tenantId"]) {
            if (key in identity) {
                this.readOnlyLeaks.push(`identity.${key}`);
            }
        }
        const pools = Array.isArray(properties.agentPoolProfiles) ? properties.agentPoolProfiles : [];
        pools.forEach((pool, i) => {
            for (const key of ["provisioningState", "currentOrchestratorVersion"]) {
                if (key in asObject(pool)) {
                    this.readOnlyLeaks.push(`properties.agentPoolProfiles[${i}].${key}`);
                }
            }
        });
        const profile = asObject(properties.podIdentityProfile);
        const entries = Array.isArray(profile.userAssignedIdentities) ? profile.userAssignedIdentities : [];
        entries.forEach((entry, i) => {
            for (const key of ["provisioningState", "provisioningInfo"]) {
                if (key in asObject(entry)) {
                    this.readOnlyLeaks.push(`properties.podIdentityProfile.userAssignedIdentities[${i}].${key}`);
                }
            }
        });
    }
}
