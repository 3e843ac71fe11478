// Pod identity attachment: the ARM logic through the real Azure SDK client against a loopback HTTPS
// fake of Azure Resource Manager (tests/fakes/arm.ts), the pure helpers, the provider's decisions,
// and the serialization Pulumi applies to the dynamic provider.
import { createRequire } from "module";
import type { ContainerServiceClient, ContainerServiceClientOptionalParams } from "@azure/arm-containerservice";
import { RestError } from "@azure/arm-containerservice";
import { ClientAssertionCredential, ClientSecretCredential, DefaultAzureCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/identity";
import * as pulumi from "@pulumi/pulumi";
import {
    armSettingsFromEnv,
    applyPodIdentityChanges,
    attachmentId,
    checkAttachmentInputs,
    createContainerServiceClient,
    createCredential,
    createPodIdentityProvider,
    credentialSourceFromEnv,
    DEFAULT_RETRY_POLICY,
    diffAttachment,
    isRetryable,
    parseAttachmentId,
    POD_IDENTITY_PROVIDER,
    PodIdentityAttachment,
    readPodIdentity,
    removePodIdentity,
    retryAfterMs,
    retryDelayMs,
    upsertPodIdentity,
    withEntry,
    withoutEntry,
} from "../components/podIdentityAttachment";
import type { PodIdentityAttachmentState, PodIdentityEntry, RetryPolicy } from "../components/podIdentityAttachment";
import { FAKE_TOKEN, FakeArm } from "./fakes/arm";
import type { FakePodIdentity } from "./fakes/arm";

const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "rg-aks";
const CLUSTER = "aks-dev";
const cluster = { resourceGroupName: RG, clusterName: CLUSTER };
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Fast retries for the fake; the budget is an upper bound, reached only by the budget test. */
const FAST: RetryPolicy = { budgetMs: 5_000, initialDelayMs: 5, maxDelayMs: 20, pollIntervalMs: 5 };

function identityOf(workload: string): PodIdentityEntry["identity"] {
    return {
        resourceId: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${workload}`,
        clientId: `client-${workload}`,
        objectId: `object-${workload}`,
    };
}

function entry(workload: string, selector = workload): PodIdentityEntry {
    return { name: workload, namespace: workload, bindingSelector: selector, identity: identityOf(workload) };
}

const beta: FakePodIdentity = { ...entry("beta"), provisioningState: "Assigned" };
const delta: FakePodIdentity = { ...entry("delta"), provisioningState: "Assigned" };

function keys(list: FakePodIdentity[] | undefined): string[] {
    return (list ?? []).map((e) => `${e.namespace}/${e.name}`);
}

let arm: FakeArm;
const scopesAsked: string[] = [];
const credential: TokenCredential = {
    getToken: async (scopes) => {
        scopesAsked.push(...(Array.isArray(scopes) ? scopes : [scopes]));
        return { token: FAKE_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
};

/** The real SDK client, pointed at the fake through the documented endpoint variable. */
function client(extra: ContainerServiceClientOptionalParams = {}, subscriptionId = SUB): ContainerServiceClient {
    return createContainerServiceClient(subscriptionId, {
        env: { AZURE_RESOURCE_MANAGER_ENDPOINT: arm.url },
        credential,
        clientOptions: { tlsOptions: { ca: arm.ca }, ...extra },
    });
}

beforeAll(async () => {
    arm = await FakeArm.start();
});

afterAll(async () => {
    await arm.close();
});

beforeEach(() => {
    arm.reset();
    arm.addCluster(SUB, RG, CLUSTER, [beta, delta]);
});

describe("pure helpers", () => {
    test("withEntry replaces an entry in place or appends it, keeping the others", () => {
        const list = [entry("beta"), entry("alpha"), entry("delta")];
        const changed = withEntry(list, entry("alpha", "alpha-2"));
        expect(changed.map((e) => `${e.name}:${e.bindingSelector}`)).toEqual(["beta:beta", "alpha:alpha-2", "delta:delta"]);
        expect(changed[0]).toBe(list[0]);
        expect(withEntry(list, entry("gamma")).map((e) => e.name)).toEqual(["beta", "alpha", "delta", "gamma"]);
        expect(list.map((e) => e.bindingSelector)).toEqual(["beta", "alpha", "delta"]);
        const sameNameOtherNamespace = { ...entry("alpha"), namespace: "other" };
        expect(withEntry(list, sameNameOtherNamespace)).toHaveLength(4);
    });

    test("withoutEntry removes only the entry of that namespace and name", () => {
        const list = [entry("beta"), entry("alpha"), entry("delta")];
        expect(withoutEntry(list, "alpha", "alpha").map((e) => e.name)).toEqual(["beta", "delta"]);
        expect(withoutEntry(list, "other", "alpha")).toHaveLength(3);
        expect(withoutEntry([], "alpha", "alpha")).toEqual([]);
    });

    test("isRetryable: conflicts, precondition failures, throttling, 5xx and network errors; not authorization or locks", () => {
        const rest = (statusCode: number, code: string): RestError => new RestError(code, { statusCode, code });
        expect(isRetryable(rest(409, "OperationNotAllowed"))).toBe(true);
        expect(isRetryable(rest(409, "AnotherOperationInProgress"))).toBe(true);
        expect(isRetryable(rest(409, "Conflict"))).toBe(true);
        expect(isRetryable(rest(412, "PreconditionFailed"))).toBe(true);
        expect(isRetryable(rest(429, "TooManyRequests"))).toBe(true);
        expect(isRetryable(rest(503, "ServiceUnavailable"))).toBe(true);
        expect(isRetryable(rest(500, "InternalServerError"))).toBe(true);
        expect(isRetryable(new RestError("socket hang up", { code: "REQUEST_SEND_ERROR" }))).toBe(true);
        expect(isRetryable(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe(true);
        expect(isRetryable(new Error("Operation was canceled"))).toBe(true);
        expect(isRetryable(new Error("The long-running operation has failed. OperationNotAllowed. Another operation is in progress."))).toBe(true);

        expect(isRetryable(rest(409, "ScopeLocked"))).toBe(false);
        expect(isRetryable(rest(403, "AuthorizationFailed"))).toBe(false);
        expect(isRetryable(rest(404, "ResourceNotFound"))).toBe(false);
        expect(isRetryable(rest(400, "OperationNotAllowed"))).toBe(false);
        expect(isRetryable(rest(501, "NotImplemented"))).toBe(false);
        expect(isRetryable(new Error("The long-running operation has failed. InvalidParameter. Bad selector."))).toBe(false);
        expect(isRetryable(Object.assign(new Error("The operation was aborted."), { name: "AbortError" }))).toBe(false);
        expect(isRetryable("nope")).toBe(false);
    });

    test("retryDelayMs backs off exponentially up to maxDelayMs, with jitter, and retries a 412 quickly", () => {
        const policy: RetryPolicy = { budgetMs: 60_000, initialDelayMs: 100, maxDelayMs: 1_000 };
        const conflict = new RestError("busy", { statusCode: 409, code: "OperationNotAllowed" });
        expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(conflict, n, policy, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
        expect([1, 2, 3].map((n) => retryDelayMs(conflict, n, policy, () => 0))).toEqual([50, 100, 200]);
        const stale = new RestError("stale", { statusCode: 412, code: "PreconditionFailed" });
        expect(retryDelayMs(stale, 5, policy, () => 0.5)).toBe(50);
        expect(DEFAULT_RETRY_POLICY.budgetMs).toBe(20 * 60_000);
    });

    test("retryAfterMs reads Retry-After (seconds or date) and retry-after-ms of real SDK errors", async () => {
        const raw = client({ retryOptions: { maxRetries: 0 } });
        const errorFor = async (headers: Record<string, string>): Promise<unknown> => {
            arm.script("GET", { status: 429, code: "TooManyRequests", headers, times: 1 });
            return raw.managedClusters.get(RG, CLUSTER).then(
                () => undefined,
                (error: unknown) => error,
            );
        };
        const seconds = await errorFor({ "retry-after": "7" });
        expect(retryAfterMs(seconds)).toBe(7_000);
        expect(retryDelayMs(seconds, 1, FAST)).toBe(7_000);
        expect(retryAfterMs(await errorFor({ "retry-after-ms": "250" }))).toBe(250);
        const now = Date.parse("2030-01-01T00:00:00Z");
        expect(retryAfterMs(await errorFor({ "retry-after": "Tue, 01 Jan 2030 00:00:30 GMT" }), now)).toBe(30_000);
        expect(retryAfterMs(new RestError("no response", { statusCode: 429 }))).toBeUndefined();
    });

    test("attachment ids name the cluster, namespace and name, and parse back", () => {
        const id = attachmentId(SUB, cluster, "alpha", "alpha-id");
        expect(id).toBe(`${FakeArm.clusterId(SUB, RG, CLUSTER)}/podIdentities/alpha/alpha-id`);
        expect(parseAttachmentId(id)).toEqual({ subscriptionId: SUB, resourceGroupName: RG, clusterName: CLUSTER, namespace: "alpha", name: "alpha-id" });
        expect(parseAttachmentId(FakeArm.clusterId(SUB, RG, CLUSTER))).toBeUndefined();
    });

    test("the ARM endpoint and scope come from AZURE_RESOURCE_MANAGER_ENDPOINT, ARM_ENVIRONMENT or the public cloud", () => {
        expect(armSettingsFromEnv({})).toEqual({ endpoint: "https://management.azure.com", scope: "https://management.azure.com/.default" });
        expect(armSettingsFromEnv({ AZURE_RESOURCE_MANAGER_ENDPOINT: "https://management.example.test/" })).toEqual({
            endpoint: "https://management.example.test",
            scope: "https://management.example.test/.default",
        });
        expect(armSettingsFromEnv({ ARM_ENVIRONMENT: "usgovernment" })).toEqual({
            endpoint: "https://management.usgovcloudapi.net",
            scope: "https://management.usgovcloudapi.net/.default",
            authorityHost: "https://login.microsoftonline.us",
        });
        expect(
            armSettingsFromEnv({
                AZURE_RESOURCE_MANAGER_ENDPOINT: "https://arm.local:8443",
                AZURE_RESOURCE_MANAGER_SCOPE: "https://management.core.windows.net/.default",
                AZURE_AUTHORITY_HOST: "https://login.local",
            }),
        ).toEqual({ endpoint: "https://arm.local:8443", scope: "https://management.core.windows.net/.default", authorityHost: "https://login.local" });
        expect(() => armSettingsFromEnv({ AZURE_RESOURCE_MANAGER_ENDPOINT: "http://127.0.0.1:8080" })).toThrow(/must be an https URL/);
        expect(() => armSettingsFromEnv({ AZURE_RESOURCE_MANAGER_ENDPOINT: "not a url" })).toThrow(/is not a URL/);
        expect(() => armSettingsFromEnv({ ARM_ENVIRONMENT: "german" })).toThrow(/ARM_ENVIRONMENT "german"/);
    });

    test("credentials: complete ARM_* service principal variables, else DefaultAzureCredential", () => {
        const sp = { ARM_CLIENT_ID: "c", ARM_TENANT_ID: "t" };
        expect(credentialSourceFromEnv({ ...sp, ARM_CLIENT_SECRET: "s" })).toBe("armClientSecret");
        expect(credentialSourceFromEnv({ ...sp, ARM_OIDC_TOKEN: "jwt" })).toBe("armOidcToken");
        expect(credentialSourceFromEnv({ ...sp, ARM_OIDC_TOKEN_FILE_PATH: "/var/run/token" })).toBe("armOidcToken");
        expect(credentialSourceFromEnv({ ARM_CLIENT_ID: "c", ARM_CLIENT_SECRET: "s" })).toBe("default");
        expect(credentialSourceFromEnv({ AZURE_CLIENT_ID: "c", AZURE_TENANT_ID: "t", AZURE_CLIENT_SECRET: "s" })).toBe("default");
        expect(createCredential({ ...sp, ARM_CLIENT_SECRET: "s" })).toBeInstanceOf(ClientSecretCredential);
        expect(createCredential({ ...sp, ARM_OIDC_TOKEN: "jwt" })).toBeInstanceOf(ClientAssertionCredential);
        expect(createCredential({ ARM_USE_MSI: "true", ARM_CLIENT_ID: "c" })).toBeInstanceOf(DefaultAzureCredential);
    });
});

describe("ARM operations through the SDK against a fake Azure Resource Manager", () => {
    test("upsert adds an entry and keeps the others; the PUT carries If-Match, the add-on settings as read and no read-only property", async () => {
        scopesAsked.length = 0;
        const attached = await upsertPodIdentity(client(), cluster, entry("alpha"), FAST);

        expect(attached).toMatchObject({ ...entry("alpha"), provisioningState: "Assigned" });
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha"]);
        expect(arm.podIdentities(SUB, RG, CLUSTER)?.[2]).toMatchObject(entry("alpha"));

        const [get, put] = arm.requests;
        expect([get.method, put.method]).toEqual(["GET", "PUT"]);
        expect(put.path).toBe(FakeArm.clusterId(SUB, RG, CLUSTER));
        expect(put.apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}(-preview)?$/);
        expect(put.apiVersion).toBe(get.apiVersion);
        expect(put.ifMatch).toBe('"etag-1"');
        expect(put.authorization).toBe(`Bearer ${FAKE_TOKEN}`);
        expect(scopesAsked).toContain(`${arm.url}/.default`);
        expect(arm.readOnlyLeaks).toEqual([]);
        expect(put.body).toMatchObject({
            location: "westeurope",
            tags: { env: "test" },
            properties: {
                kubernetesVersion: "1.29",
                dnsPrefix: CLUSTER,
                podIdentityProfile: {
                    enabled: true,
                    allowNetworkPluginKubenet: false,
                    userAssignedIdentityExceptions: [{ name: "kube-proxy", namespace: "kube-system", podLabels: { app: "kube-proxy" } }],
                },
            },
        });
    });

    test("upsert of an entry already in place writes nothing", async () => {
        await upsertPodIdentity(client(), cluster, entry("beta"), FAST);
        expect(arm.count("GET")).toBe(1);
        expect(arm.count("PUT")).toBe(0);
    });

    test("upsert changes an entry's selector and identity in place", async () => {
        const changed: PodIdentityEntry = { ...entry("beta", "beta-v2"), identity: identityOf("beta-v2") };
        await upsertPodIdentity(client(), cluster, changed, FAST);
        const list = arm.podIdentities(SUB, RG, CLUSTER);
        expect(keys(list)).toEqual(["beta/beta", "delta/delta"]);
        expect(list?.[0]).toMatchObject(changed);
        expect(list?.[1]).toMatchObject(entry("delta"));
    });

    test("upsert follows a long-running update (201 + Azure-AsyncOperation) to its end", async () => {
        arm.mode = "lro";
        arm.lroPolls = 3;
        const attached = await upsertPodIdentity(client(), cluster, entry("alpha"), FAST);
        expect(attached.provisioningState).toBe("Assigned");
        expect(arm.requests.filter((r) => r.path.includes("/operations/")).length).toBe(4);
        expect(arm.requests.map((r) => `${r.method} ${r.status}`)).toEqual([
            "GET 200",
            "PUT 201",
            "GET 200",
            "GET 200",
            "GET 200",
            "GET 200",
            "GET 200",
        ]);
        expect(arm.clusterBody(SUB, RG, CLUSTER)).toMatchObject({ properties: { provisioningState: "Succeeded" } });
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha"]);
    });

    test("upsert uses the ETag header when the body has none", async () => {
        arm.etagIn = { body: false, header: true };
        await upsertPodIdentity(client(), cluster, entry("alpha"), FAST);
        expect(arm.requests.find((r) => r.method === "PUT")?.ifMatch).toBe('"etag-1"');
    });

    test("remove deletes only that entry", async () => {
        expect(await removePodIdentity(client(), cluster, "beta", "beta", FAST)).toBe(true);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["delta/delta"]);
        expect(arm.readOnlyLeaks).toEqual([]);
        expect(await removePodIdentity(client(), cluster, "delta", "delta", FAST)).toBe(true);
        expect(arm.podIdentities(SUB, RG, CLUSTER)).toEqual([]);
        expect(arm.clusterBody(SUB, RG, CLUSTER)).toMatchObject({ properties: { podIdentityProfile: { enabled: true, userAssignedIdentities: [] } } });
    });

    test("remove succeeds without writing when the entry or the cluster is already gone", async () => {
        expect(await removePodIdentity(client(), cluster, "alpha", "alpha", FAST)).toBe(false);
        arm.deleteCluster(SUB, RG, CLUSTER);
        expect(await removePodIdentity(client(), cluster, "beta", "beta", FAST)).toBe(false);
        expect(await removePodIdentity(client(), { resourceGroupName: "rg-gone", clusterName: "gone" }, "beta", "beta", FAST)).toBe(false);
        expect(arm.count("PUT")).toBe(0);
    });

    test("remove writes nothing once the add-on is off, so switching identity mode never turns it back on", async () => {
        const body = arm.clusterBody(SUB, RG, CLUSTER) as { properties: { podIdentityProfile: { enabled: boolean } } };
        body.properties.podIdentityProfile.enabled = false;
        expect(await removePodIdentity(client(), cluster, "beta", "beta", FAST)).toBe(false);
        expect(arm.count("PUT")).toBe(0);
        expect(arm.clusterBody(SUB, RG, CLUSTER)).toMatchObject({ properties: { podIdentityProfile: { enabled: false } } });
    });

    test("a batch of attaches and detaches is one read and one write, with an outcome per change in order", async () => {
        const outcomes = await applyPodIdentityChanges(client(), cluster, [{ attach: entry("alpha") }, { detach: { namespace: "delta", name: "delta" } }, { detach: { namespace: "x", name: "x" } }, { attach: entry("beta") }], FAST);
        expect(outcomes).toEqual([{ attached: { ...entry("alpha"), provisioningState: "Assigned" } }, { removed: true }, { removed: false }, { attached: { ...entry("beta"), provisioningState: "Assigned" } }]);
        expect(arm.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PUT 200"]);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "alpha/alpha"]);
    });

    test("a batch with nothing to change writes nothing", async () => {
        expect(await applyPodIdentityChanges(client(), cluster, [{ attach: entry("beta") }, { detach: { namespace: "x", name: "x" } }], FAST)).toEqual([
            { attached: { ...entry("beta"), provisioningState: "Assigned" } },
            { removed: false },
        ]);
        expect(arm.count("PUT")).toBe(0);
    });

    test("with the add-on off, detaches alone write nothing, but a batch that attaches turns it on without the detached entries", async () => {
        const body = arm.clusterBody(SUB, RG, CLUSTER) as { properties: { podIdentityProfile: { enabled: boolean } } };
        body.properties.podIdentityProfile.enabled = false;
        expect(await applyPodIdentityChanges(client(), cluster, [{ detach: { namespace: "beta", name: "beta" } }], FAST)).toEqual([{ removed: false }]);
        expect(arm.count("PUT")).toBe(0);
        expect(await applyPodIdentityChanges(client(), cluster, [{ detach: { namespace: "beta", name: "beta" } }, { attach: entry("delta") }], FAST)).toEqual([
            { removed: false },
            { attached: { ...entry("delta"), provisioningState: "Assigned" } },
        ]);
        expect(arm.count("PUT")).toBe(1);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["delta/delta"]);
        expect(arm.clusterBody(SUB, RG, CLUSTER)).toMatchObject({ properties: { podIdentityProfile: { enabled: true } } });
    });

    test("on a missing cluster, attaches fail and detaches remove nothing", async () => {
        arm.deleteCluster(SUB, RG, CLUSTER);
        expect(await applyPodIdentityChanges(client(), cluster, [{ attach: entry("alpha") }, { detach: { namespace: "beta", name: "beta" } }], FAST)).toEqual([
            { failed: "the cluster does not exist (HTTP 404)" },
            { removed: false },
        ]);
    });

    test("an entry the add-on reports as Failed is re-written on the next attach, and its error is named", async () => {
        arm.failEntries = ["alpha"];
        await expect(upsertPodIdentity(client(), cluster, entry("alpha"), FAST)).rejects.toThrow(
            'Could not attach pod identity "alpha/alpha" to AKS cluster "aks-dev" in resource group "rg-aks": the pod-identity add-on reports the entry as Failed: IdentityNotFound the identity could not be assigned',
        );
        arm.failEntries = [];
        await upsertPodIdentity(client(), cluster, entry("alpha"), FAST);
        expect(arm.count("PUT")).toBe(2);
    });

    test("read returns the entry when present and undefined when it or the cluster is gone", async () => {
        expect(await readPodIdentity(client(), cluster, "beta", "beta", FAST)).toEqual({ ...entry("beta"), provisioningState: "Assigned" });
        expect(await readPodIdentity(client(), cluster, "alpha", "alpha", FAST)).toBeUndefined();
        arm.deleteCluster(SUB, RG, CLUSTER);
        expect(await readPodIdentity(client(), cluster, "beta", "beta", FAST)).toBeUndefined();
    });

    test("two concurrent upserts that read the same ETag both end up in the list (412, re-read, retry)", async () => {
        arm.holdGets(2);
        await Promise.all([
            upsertPodIdentity(client(), cluster, entry("alpha"), FAST),
            upsertPodIdentity(client(), cluster, entry("gamma"), FAST),
        ]);
        expect(arm.count("PUT", 412)).toBe(1);
        expect(arm.count("PUT", 200)).toBe(2);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER)).sort()).toEqual(["alpha/alpha", "beta/beta", "delta/delta", "gamma/gamma"]);
    });

    test("concurrent long-running updates: the second waits out 409 OperationNotAllowed and keeps the first's entry", async () => {
        arm.mode = "lro";
        arm.lroPolls = 3;
        arm.holdGets(2);
        await Promise.all([
            upsertPodIdentity(client(), cluster, entry("alpha"), FAST),
            removePodIdentity(client(), cluster, "delta", "delta", FAST),
        ]);
        expect(arm.count("PUT", 409)).toBeGreaterThanOrEqual(1);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER)).sort()).toEqual(["alpha/alpha", "beta/beta"]);
    });

    test("409 OperationNotAllowed on the first attempts is retried, re-reading the cluster each time", async () => {
        arm.script("PUT", { status: 409, code: "OperationNotAllowed", times: 3 });
        await upsertPodIdentity(client(), cluster, entry("alpha"), FAST);
        expect(arm.requests.map((r) => `${r.method} ${r.status}`)).toEqual([
            "GET 200",
            "PUT 409",
            "GET 200",
            "PUT 409",
            "GET 200",
            "PUT 409",
            "GET 200",
            "PUT 200",
        ]);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha"]);
    });

    test("429 with Retry-After is honored, by the SDK's throttling policy and by the retry loop when the SDK does not retry", async () => {
        // Two clusters side by side, so that the two one-second waits overlap.
        arm.addCluster(SUB, RG, "aks-two", [beta]);
        arm.script("GET", { status: 429, code: "TooManyRequests", headers: { "retry-after": "1" }, times: 1, clusterName: CLUSTER });
        arm.script("PUT", { status: 429, code: "TooManyRequests", headers: { "retry-after": "1" }, times: 1, clusterName: "aks-two" });
        await Promise.all([
            upsertPodIdentity(client(), cluster, entry("alpha"), FAST),
            upsertPodIdentity(client({ retryOptions: { maxRetries: 0 } }), { resourceGroupName: RG, clusterName: "aks-two" }, entry("alpha"), FAST),
        ]);

        const bySdk = arm.requestsFor(CLUSTER);
        expect(bySdk.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 429", "GET 200", "PUT 200"]);
        expect(bySdk[1].at - bySdk[0].at).toBeGreaterThanOrEqual(950);

        const byLoop = arm.requestsFor("aks-two");
        expect(byLoop.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PUT 429", "GET 200", "PUT 200"]);
        expect(byLoop[2].at - byLoop[1].at).toBeGreaterThanOrEqual(950);

        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toContain("alpha/alpha");
        expect(keys(arm.podIdentities(SUB, RG, "aks-two"))).toEqual(["beta/beta", "alpha/alpha"]);
    });

    test("a permanent 403 AuthorizationFailed fails at once, naming the cluster and the Azure error code", async () => {
        arm.script("PUT", {
            status: 403,
            code: "AuthorizationFailed",
            message: "The client 'deployer' does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/write'.",
            times: Infinity,
        });
        const started = Date.now();
        await expect(upsertPodIdentity(client(), cluster, entry("alpha"), FAST)).rejects.toThrow(
            /^Could not attach pod identity "alpha\/alpha" to AKS cluster "aks-dev" in resource group "rg-aks": HTTP 403 AuthorizationFailed: The client 'deployer'/,
        );
        expect(arm.count("PUT")).toBe(1);
        expect(Date.now() - started).toBeLessThan(1_000);
    });

    test("upsert on a missing cluster fails at once", async () => {
        arm.deleteCluster(SUB, RG, CLUSTER);
        await expect(upsertPodIdentity(client(), cluster, entry("alpha"), FAST)).rejects.toThrow(/AKS cluster "aks-dev".*does not exist/);
        expect(arm.count("GET")).toBe(1);
    });

    test("endless 409 exhausts the retry budget with a clear message", async () => {
        arm.script("PUT", { status: 409, code: "OperationNotAllowed", message: "Another operation is in progress.", times: Infinity });
        const policy: RetryPolicy = { budgetMs: 60, initialDelayMs: 5, maxDelayMs: 20, pollIntervalMs: 5 };
        const started = Date.now();
        await expect(upsertPodIdentity(client(), cluster, entry("alpha"), policy)).rejects.toThrow(
            /^Gave up trying to attach pod identity "alpha\/alpha" to AKS cluster "aks-dev" in resource group "rg-aks" after \d+ attempts in \d+ ms \(retry budget 60 ms.*\); last answer: HTTP 409 OperationNotAllowed: Another operation is in progress\./,
        );
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(arm.count("PUT", 409)).toBeGreaterThanOrEqual(1);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta"]);
    });
});

describe("dynamic provider", () => {
    const inputs: PodIdentityAttachmentState = {
        subscriptionId: SUB,
        resourceGroupName: RG,
        clusterName: CLUSTER,
        clusterRevision: "rev-1",
        name: "alpha",
        namespace: "alpha",
        bindingSelector: "alpha",
        identity: identityOf("alpha"),
    };

    test("diff: equal inputs are no change; selector, identity and cluster revision update in place", () => {
        expect(diffAttachment(inputs, { ...inputs })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(diffAttachment(inputs, { ...inputs, identity: { ...inputs.identity, clientId: inputs.identity.clientId.toUpperCase() } }).changes).toBe(false);
        for (const news of [
            { ...inputs, bindingSelector: "alpha-2" },
            { ...inputs, identity: identityOf("alpha-2") },
            { ...inputs, clusterRevision: "rev-2" },
            { ...inputs, identity: UNKNOWN },
        ]) {
            expect(diffAttachment(inputs, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        }
    });

    test("diff: another cluster or entry key replaces; a change of case in Azure names does not", () => {
        const cases: Array<[Partial<PodIdentityAttachmentState>, string[]]> = [
            [{ subscriptionId: "00000000-0000-0000-0000-000000000002" }, ["subscriptionId"]],
            [{ resourceGroupName: "rg-other" }, ["resourceGroupName"]],
            [{ clusterName: "aks-other" }, ["clusterName"]],
            [{ namespace: "alpha-ns" }, ["namespace"]],
            [{ name: "alpha-id" }, ["name"]],
            [{ clusterName: "aks-other", bindingSelector: "x" }, ["clusterName"]],
        ];
        for (const [change, replaces] of cases) {
            expect(diffAttachment(inputs, { ...inputs, ...change })).toEqual({ changes: true, replaces, deleteBeforeReplace: false });
        }
        expect(diffAttachment(inputs, { ...inputs, clusterName: UNKNOWN }).replaces).toEqual(["clusterName"]);
        expect(diffAttachment(inputs, { ...inputs, resourceGroupName: RG.toUpperCase(), subscriptionId: SUB.toUpperCase() })).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
    });

    test("check reports missing or empty inputs and lets unknown preview values through", async () => {
        expect(checkAttachmentInputs(inputs)).toEqual([]);
        expect(checkAttachmentInputs({ ...inputs, clusterName: UNKNOWN, identity: UNKNOWN })).toEqual([]);
        expect(checkAttachmentInputs({ ...inputs, clusterRevision: "" })).toEqual([]);
        expect(checkAttachmentInputs({ ...inputs, namespace: "", identity: { resourceId: "r", clientId: "c" } }).map((f) => f.property)).toEqual([
            "namespace",
            "identity.objectId",
        ]);
        const check = POD_IDENTITY_PROVIDER.check;
        expect(check).toBeDefined();
        if (check) {
            expect((await check(inputs, { ...inputs, name: "" })).failures?.map((f) => f.property)).toEqual(["name"]);
        }
    });

    test("create, read, update and delete through the provider against the fake", async () => {
        const provider = createPodIdentityProvider({ clientFactory: (subscriptionId) => client({}, subscriptionId), retryPolicy: FAST, gatherMs: 5 });
        const { read, update, delete: remove } = provider;
        if (!read || !update || !remove) {
            throw new Error("the provider lacks read, update or delete");
        }

        const created = await provider.create({ ...inputs });
        expect(created.id).toBe(`${FakeArm.clusterId(SUB, RG, CLUSTER)}/podIdentities/alpha/alpha`);
        expect(created.outs).toEqual(inputs);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha"]);

        expect(await read(created.id, inputs)).toEqual({ id: created.id, props: inputs });
        expect(await read(created.id)).toMatchObject({ id: created.id, props: { namespace: "alpha", bindingSelector: "alpha", clusterRevision: "" } });

        const news = { ...inputs, bindingSelector: "alpha-2", clusterRevision: "rev-2" };
        expect(await update(created.id, inputs, news)).toEqual({ outs: news });
        expect(arm.podIdentities(SUB, RG, CLUSTER)?.[2]).toMatchObject({ name: "alpha", bindingSelector: "alpha-2" });

        await remove(created.id, news);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta"]);
        expect(await read(created.id, news)).toEqual({ id: "" });
        await remove(created.id, news);
        arm.deleteCluster(SUB, RG, CLUSTER);
        await remove(created.id, news);
        expect(await read(created.id, news)).toEqual({ id: "" });
    });

    test("attachments that become ready together share one cluster update", async () => {
        const provider = createPodIdentityProvider({ clientFactory: (subscriptionId) => client({}, subscriptionId), retryPolicy: FAST, gatherMs: 5 });
        arm.mode = "lro";
        await Promise.all(["alpha", "gamma", "epsilon"].map((w) => provider.create({ ...inputs, ...entry(w) })));
        expect(arm.count("PUT")).toBe(1);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER)).sort()).toEqual(["alpha/alpha", "beta/beta", "delta/delta", "epsilon/epsilon", "gamma/gamma"]);
    });

    test("changes that arrive during an update share the next one; writes to one cluster never overlap", async () => {
        const provider = createPodIdentityProvider({ clientFactory: (subscriptionId) => client({}, subscriptionId), retryPolicy: FAST, gatherMs: 5 });
        const remove = provider.delete;
        if (!remove) throw new Error("the provider lacks delete");
        arm.mode = "lro";
        arm.lroPolls = 3;
        const first = provider.create({ ...inputs, ...entry("alpha") });
        while (arm.count("PUT") === 0) {
            await new Promise((resolve) => setTimeout(resolve, 2));
        }
        const later = [provider.create({ ...inputs, ...entry("gamma") }), remove(attachmentId(SUB, cluster, "delta", "delta"), { ...inputs, ...entry("delta") })];
        await Promise.all([first, ...later]);
        expect(arm.count("PUT")).toBe(2);
        expect(arm.count("PUT", 409) + arm.count("PUT", 412)).toBe(0);
        expect(keys(arm.podIdentities(SUB, RG, CLUSTER)).sort()).toEqual(["alpha/alpha", "beta/beta", "gamma/gamma"]);
    });

    test("in a shared update, an entry the add-on fails fails its own attachment only", async () => {
        const provider = createPodIdentityProvider({ clientFactory: (subscriptionId) => client({}, subscriptionId), retryPolicy: FAST, gatherMs: 5 });
        arm.failEntries = ["gamma"];
        const results = await Promise.allSettled(["alpha", "gamma"].map((w) => provider.create({ ...inputs, ...entry(w) })));
        expect(results[0].status).toBe("fulfilled");
        expect(results[1]).toMatchObject({ status: "rejected", reason: { message: expect.stringMatching(/^Could not attach pod identity "gamma\/gamma" to AKS cluster "aks-dev" in resource group "rg-aks": the pod-identity add-on reports the entry as Failed/) } });
        expect(arm.count("PUT")).toBe(1);
    });

    test("an update that fails outright fails every attachment that shared it", async () => {
        const provider = createPodIdentityProvider({ clientFactory: (subscriptionId) => client({}, subscriptionId), retryPolicy: FAST, gatherMs: 5 });
        arm.script("PUT", { status: 403, code: "AuthorizationFailed", times: Infinity });
        const results = await Promise.allSettled(["alpha", "gamma"].map((w) => provider.create({ ...inputs, ...entry(w) })));
        expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
        expect(results[0]).toMatchObject({ reason: { message: expect.stringMatching(/^Could not update 2 pod identities of AKS cluster "aks-dev".*HTTP 403 AuthorizationFailed/) } });
        expect(arm.count("PUT")).toBe(1);
    });
});

describe("Pulumi serialization of the dynamic provider", () => {
    /** Loads a serialized provider module the way Pulumi's dynamic provider host does, and returns its provider. */
    function loadSerialized(text: string, exportName = "handler"): unknown {
        const loaded = { exports: {} };
        const load = new Function("exports", "require", "module", text);
        load(loaded.exports, createRequire(__filename), loaded);
        const handler: unknown = Reflect.get(loaded.exports, exportName);
        if (typeof handler !== "function") {
            throw new Error("the serialized module exports no handler");
        }
        const provider: unknown = handler();
        return provider;
    }

    test("registering a PodIdentityAttachment under mocks serializes its provider, which then runs on its own", async () => {
        const registered: Array<{ type: string; name: string; provider: unknown }> = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    const inputs: Record<string, unknown> = { ...args.inputs };
                    registered.push({ type: args.type, name: args.name, provider: inputs["__provider"] });
                    return { id: `${args.name}-id`, state: inputs };
                },
                call: (args) => args.inputs,
            },
            "pod-identity-test",
            "test",
            false,
        );
        const attachment = new PodIdentityAttachment("alpha", {
            subscriptionId: SUB,
            resourceGroupName: RG,
            clusterName: pulumi.output(CLUSTER),
            clusterRevision: "rev-1",
            name: "alpha",
            namespace: "alpha",
            bindingSelector: "alpha",
            identity: { resourceId: pulumi.output(identityOf("alpha").resourceId), clientId: "client-alpha", objectId: "object-alpha" },
        });
        const [id, clusterName, identity] = await new Promise<[string, string, unknown]>((resolve) =>
            pulumi.all([attachment.id, attachment.clusterName, attachment.identity]).apply(([i, c, d]) => resolve([i, c, d])),
        );
        expect(id).toBe("alpha-id");
        expect(clusterName).toBe(CLUSTER);
        expect(identity).toEqual({ resourceId: identityOf("alpha").resourceId, clientId: "client-alpha", objectId: "object-alpha" });
        expect(registered).toHaveLength(1);
        expect(registered[0].type).toBe("pulumi-nodejs:dynamic:PodIdentityAttachment");

        const text = registered[0].provider;
        if (typeof text !== "string") {
            throw new Error("the registered resource has no serialized provider");
        }
        expect(text).toContain("exports.handler");
        expect(text).toContain('require("@azure/arm-containerservice")');
        expect(text).toContain('require("@azure/identity")');
        expect(text).not.toContain("PodIdentityAttachment extends");
        expect(text).not.toContain("@pulumi/pulumi");
        // It carries the provider's own functions and loads the libraries it needs, none captured inline.
        expect([...new Set(text.match(/require\("[^"]+"\)/g))].sort()).toEqual(['require("@azure/arm-containerservice")', 'require("@azure/identity")', 'require("fs")']);

        const provider = loadSerialized(text);
        const diff: unknown = typeof provider === "object" && provider !== null ? Reflect.get(provider, "diff") : undefined;
        if (typeof diff !== "function") {
            throw new Error("the deserialized provider has no diff");
        }
        const olds = { subscriptionId: SUB, resourceGroupName: RG, clusterName: CLUSTER, namespace: "a", name: "a", bindingSelector: "a" };
        const result: unknown = await Reflect.apply(diff, provider, ["id", olds, { ...olds, name: "b" }]);
        expect(result).toEqual({ changes: true, replaces: ["name"], deleteBeforeReplace: false });
    });
});
