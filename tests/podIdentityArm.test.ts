// Pod identity ARM logic: the pure helpers, and the reads and writes through the real Azure SDK client
// against a loopback HTTPS fake of Azure Resource Manager (tests/fakes/arm.ts). Nothing here loads
// Pulumi.
import { RestError } from "@azure/arm-containerservice";
import { ClientAssertionCredential, ClientSecretCredential, DefaultAzureCredential } from "@azure/identity";
import {
    armSettingsFromEnv,
    applyPodIdentityChanges,
    createCredential,
    credentialSourceFromEnv,
    gitHubOidcAssertion,
    describeError,
    DEFAULT_RETRY_POLICY,
    isRetryable,
    podIdentitiesId,
    readPodIdentities,
    retryAfterMs,
    retryDelayMs,
    sameEntry,
    sameIdentity,
    withEntry,
    withoutEntry,
} from "../components/modes/podIdentityAddon/arm";
import type { PodIdentityEntry, RetryPolicy } from "../components/modes/podIdentityAddon/arm";
import { FAKE_TOKEN, FakeArm } from "./fakes/arm";
import { startFakeServer } from "./fakes/azure";
import { attach, beta, CLUSTER, cluster, detach, entry, FAST, identityOf, keys, RG, SUB, useFakeArm } from "./fakes/podIdentityFixture";

const fake = useFakeArm();

/** An ARM error with a status and code, as the SDK raises it. */
const rest = (statusCode: number | undefined, code: string | undefined, message = "m"): RestError => new RestError(message, { statusCode, code });

/** The error `promise` rejects with; fails the test when it resolves or rejects with something else. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
    const failure: unknown = await promise.then(
        () => undefined,
        (e: unknown) => e,
    );
    if (!(failure instanceof Error)) {
        throw new Error("expected the promise to reject with an Error");
    }
    return failure;
}

/** The SDK's own error for a GET answered 429 with `headers`, from a client that does not retry it. */
async function throttled(headers: Record<string, string>): Promise<RestError> {
    fake.arm.script("GET", { status: 429, code: "TooManyRequests", headers, times: 1 });
    const error = await rejection(fake.client({ retryOptions: { maxRetries: 0 } }).managedClusters.get(RG, CLUSTER));
    if (!(error instanceof RestError)) {
        throw new Error("expected a RestError");
    }
    return error;
}

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
        const seconds = await throttled({ "retry-after": "7" });
        expect(retryAfterMs(seconds)).toBe(7_000);
        expect(retryDelayMs(seconds, 1, FAST)).toBe(7_000);
        expect(retryAfterMs(await throttled({ "retry-after-ms": "250" }))).toBe(250);
        const now = Date.parse("2030-01-01T00:00:00Z");
        expect(retryAfterMs(await throttled({ "retry-after": "Tue, 01 Jan 2030 00:00:30 GMT" }), now)).toBe(30_000);
        expect(retryAfterMs(new RestError("no response", { statusCode: 429 }))).toBeUndefined();
    });

    test("the pod identities' id is the cluster's ARM id and /podIdentities", () => {
        expect(podIdentitiesId(SUB, cluster)).toBe(`${FakeArm.clusterId(SUB, RG, CLUSTER)}/podIdentities`);
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
                AZURE_RESOURCE_MANAGER_ENDPOINT: "https://fake.arm.local:8443",
                AZURE_RESOURCE_MANAGER_SCOPE: "https://management.core.windows.net/.default",
                AZURE_AUTHORITY_HOST: "https://login.local",
            }),
        ).toEqual({ endpoint: "https://fake.arm.local:8443", scope: "https://management.core.windows.net/.default", authorityHost: "https://login.local" });
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

    test("credentials in GitHub Actions with ARM_USE_OIDC: a new GitHub ID token for every Entra token, as azure-native does", async () => {
        const github = { ARM_USE_OIDC: "true", ARM_CLIENT_ID: "c", ARM_TENANT_ID: "t", ACTIONS_ID_TOKEN_REQUEST_URL: "https://gh.example/token?v=1", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "req" };
        expect(credentialSourceFromEnv(github)).toBe("armGitHubOidc");
        expect(createCredential(github)).toBeInstanceOf(ClientAssertionCredential);
        // Without the request variables (outside GitHub Actions) or without ARM_USE_OIDC: the default chain.
        expect(credentialSourceFromEnv({ ...github, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined })).toBe("default");
        expect(credentialSourceFromEnv({ ...github, ARM_USE_OIDC: "false" })).toBe("default");
        const asked: string[] = [];
        let n = 0;
        const assertion = gitHubOidcAssertion(github, async (url, bearer) => {
            asked.push(`${url} ${bearer}`);
            return { status: 200, body: JSON.stringify({ value: `jwt-${++n}` }) };
        });
        expect([await assertion(), await assertion()]).toEqual(["jwt-1", "jwt-2"]);
        expect(asked).toEqual(Array(2).fill("https://gh.example/token?v=1&audience=api%3A%2F%2FAzureADTokenExchange req"));
        await expect(gitHubOidcAssertion(github, async () => ({ status: 403, body: "{}" }))()).rejects.toThrow("GitHub Actions gave no ID token (HTTP 403)");
    });
});

describe("ARM operations through the SDK against a fake Azure Resource Manager", () => {
    test("upsert adds an entry and keeps the others; the PUT carries If-Match, the add-on settings as read and no read-only property", async () => {
        fake.scopesAsked.length = 0;
        const attached = await attach(fake.client(), cluster, entry("alpha"), FAST);

        expect(attached).toMatchObject({ ...entry("alpha"), provisioningState: "Assigned" });
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha"]);
        expect(fake.arm.podIdentities(SUB, RG, CLUSTER)?.[2]).toMatchObject(entry("alpha"));

        const [get, put] = fake.arm.requests;
        expect([get.method, put.method]).toEqual(["GET", "PUT"]);
        expect(put.path).toBe(FakeArm.clusterId(SUB, RG, CLUSTER));
        expect(put.apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}(-preview)?$/);
        expect(put.apiVersion).toBe(get.apiVersion);
        expect(put.ifMatch).toBe('"etag-1"');
        expect(put.authorization).toBe(`Bearer ${FAKE_TOKEN}`);
        expect(fake.scopesAsked).toContain(`${fake.arm.url}/.default`);
        expect(fake.arm.readOnlyLeaks).toEqual([]);
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
        await attach(fake.client(), cluster, entry("beta"), FAST);
        expect(fake.arm.count("GET")).toBe(1);
        expect(fake.arm.count("PUT")).toBe(0);
    });

    test("upsert changes an entry's selector and identity in place", async () => {
        const changed: PodIdentityEntry = { ...entry("beta", "beta-v2"), identity: identityOf("beta-v2") };
        await attach(fake.client(), cluster, changed, FAST);
        const list = fake.arm.podIdentities(SUB, RG, CLUSTER);
        expect(keys(list)).toEqual(["beta/beta", "delta/delta"]);
        expect(list?.[0]).toMatchObject(changed);
        expect(list?.[1]).toMatchObject(entry("delta"));
    });

    test("upsert follows a long-running update (201 + Azure-AsyncOperation) to its end", async () => {
        fake.arm.mode = "lro";
        fake.arm.lroPolls = 3;
        const attached = await attach(fake.client(), cluster, entry("alpha"), FAST);
        expect(attached.provisioningState).toBe("Assigned");
        expect(fake.arm.requests.filter((r) => r.path.includes("/operations/")).length).toBe(4);
        expect(fake.arm.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PUT 201", "GET 200", "GET 200", "GET 200", "GET 200", "GET 200"]);
        expect(fake.arm.clusterBody(SUB, RG, CLUSTER)).toMatchObject({ properties: { provisioningState: "Succeeded" } });
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha"]);
    });

    test("upsert uses the ETag header when the body has none", async () => {
        fake.arm.etagIn = { body: false, header: true };
        await attach(fake.client(), cluster, entry("alpha"), FAST);
        expect(fake.arm.requests.find((r) => r.method === "PUT")?.ifMatch).toBe('"etag-1"');
    });

    test("remove deletes only that entry", async () => {
        expect(await detach(fake.client(), cluster, "beta", "beta", FAST)).toBe(true);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["delta/delta"]);
        expect(fake.arm.readOnlyLeaks).toEqual([]);
        expect(await detach(fake.client(), cluster, "delta", "delta", FAST)).toBe(true);
        expect(fake.arm.podIdentities(SUB, RG, CLUSTER)).toEqual([]);
        expect(fake.arm.clusterBody(SUB, RG, CLUSTER)).toMatchObject({ properties: { podIdentityProfile: { enabled: true, userAssignedIdentities: [] } } });
    });

    test("remove succeeds without writing when the entry or the cluster is already gone", async () => {
        expect(await detach(fake.client(), cluster, "alpha", "alpha", FAST)).toBe(false);
        fake.arm.deleteCluster(SUB, RG, CLUSTER);
        expect(await detach(fake.client(), cluster, "beta", "beta", FAST)).toBe(false);
        expect(await detach(fake.client(), { resourceGroupName: "rg-gone", clusterName: "gone" }, "beta", "beta", FAST)).toBe(false);
        expect(fake.arm.count("PUT")).toBe(0);
    });

    test("remove writes nothing once the add-on is off, so switching identity mode never turns it back on", async () => {
        const body = fake.arm.clusterBody(SUB, RG, CLUSTER) as { properties: { podIdentityProfile: { enabled: boolean } } };
        body.properties.podIdentityProfile.enabled = false;
        expect(await detach(fake.client(), cluster, "beta", "beta", FAST)).toBe(false);
        expect(fake.arm.count("PUT")).toBe(0);
        expect(fake.arm.clusterBody(SUB, RG, CLUSTER)).toMatchObject({ properties: { podIdentityProfile: { enabled: false } } });
    });

    test("a batch of attaches and detaches is one read and one write, with an outcome per change in order", async () => {
        const outcomes = await applyPodIdentityChanges(
            fake.client(),
            cluster,
            [{ attach: entry("alpha") }, { detach: { namespace: "delta", name: "delta" } }, { detach: { namespace: "x", name: "x" } }, { attach: entry("beta") }],
            FAST,
        );
        expect(outcomes).toEqual([
            { attached: { ...entry("alpha"), provisioningState: "Assigned" } },
            { removed: true },
            { removed: false },
            { attached: { ...entry("beta"), provisioningState: "Assigned" } },
        ]);
        expect(fake.arm.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PUT 200"]);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "alpha/alpha"]);
    });

    test("a batch with nothing to change writes nothing", async () => {
        expect(await applyPodIdentityChanges(fake.client(), cluster, [{ attach: entry("beta") }, { detach: { namespace: "x", name: "x" } }], FAST)).toEqual([
            { attached: { ...entry("beta"), provisioningState: "Assigned" } },
            { removed: false },
        ]);
        expect(fake.arm.count("PUT")).toBe(0);
    });

    test("with the add-on off, detaches alone write nothing, but a batch that attaches turns it on without the detached entries", async () => {
        const body = fake.arm.clusterBody(SUB, RG, CLUSTER) as { properties: { podIdentityProfile: { enabled: boolean } } };
        body.properties.podIdentityProfile.enabled = false;
        expect(await applyPodIdentityChanges(fake.client(), cluster, [{ detach: { namespace: "beta", name: "beta" } }], FAST)).toEqual([{ removed: false }]);
        expect(fake.arm.count("PUT")).toBe(0);
        expect(await applyPodIdentityChanges(fake.client(), cluster, [{ detach: { namespace: "beta", name: "beta" } }, { attach: entry("delta") }], FAST)).toEqual([
            { removed: false },
            { attached: { ...entry("delta"), provisioningState: "Assigned" } },
        ]);
        expect(fake.arm.count("PUT")).toBe(1);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["delta/delta"]);
        expect(fake.arm.clusterBody(SUB, RG, CLUSTER)).toMatchObject({ properties: { podIdentityProfile: { enabled: true } } });
    });

    test("on a missing cluster, attaches fail and detaches remove nothing", async () => {
        fake.arm.deleteCluster(SUB, RG, CLUSTER);
        expect(await applyPodIdentityChanges(fake.client(), cluster, [{ attach: entry("alpha") }, { detach: { namespace: "beta", name: "beta" } }], FAST)).toEqual([
            { failed: "the cluster does not exist (HTTP 404)" },
            { removed: false },
        ]);
    });

    test("an entry the add-on reports as Failed is re-written on the next attach, and its error is named", async () => {
        fake.arm.failEntries = ["alpha"];
        await expect(attach(fake.client(), cluster, entry("alpha"), FAST)).rejects.toThrow(
            'Could not attach pod identity "alpha/alpha" to AKS cluster "aks-dev" in resource group "rg-aks": the pod-identity add-on reports the entry as Failed: IdentityNotFound the identity could not be assigned',
        );
        fake.arm.failEntries = [];
        await attach(fake.client(), cluster, entry("alpha"), FAST);
        expect(fake.arm.count("PUT")).toBe(2);
    });

    test("read returns every entry as the cluster holds it, and undefined when the cluster is gone", async () => {
        expect(await readPodIdentities(fake.client(), cluster, FAST)).toEqual([
            { ...entry("beta"), provisioningState: "Assigned" },
            { ...entry("delta"), provisioningState: "Assigned" },
        ]);
        fake.arm.deleteCluster(SUB, RG, CLUSTER);
        expect(await readPodIdentities(fake.client(), cluster, FAST)).toBeUndefined();
    });

    test("two concurrent upserts that read the same ETag both end up in the list (412, re-read, retry)", async () => {
        fake.arm.holdGets(2);
        await Promise.all([attach(fake.client(), cluster, entry("alpha"), FAST), attach(fake.client(), cluster, entry("gamma"), FAST)]);
        expect(fake.arm.count("PUT", 412)).toBe(1);
        expect(fake.arm.count("PUT", 200)).toBe(2);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER)).sort()).toEqual(["alpha/alpha", "beta/beta", "delta/delta", "gamma/gamma"]);
    });

    test("concurrent long-running updates: the second waits out 409 OperationNotAllowed and keeps the first's entry", async () => {
        fake.arm.mode = "lro";
        fake.arm.lroPolls = 3;
        fake.arm.holdGets(2);
        await Promise.all([attach(fake.client(), cluster, entry("alpha"), FAST), detach(fake.client(), cluster, "delta", "delta", FAST)]);
        expect(fake.arm.count("PUT", 409)).toBeGreaterThanOrEqual(1);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER)).sort()).toEqual(["alpha/alpha", "beta/beta"]);
    });

    test("409 OperationNotAllowed on the first attempts is retried, re-reading the cluster each time", async () => {
        fake.arm.script("PUT", { status: 409, code: "OperationNotAllowed", times: 3 });
        await attach(fake.client(), cluster, entry("alpha"), FAST);
        expect(fake.arm.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PUT 409", "GET 200", "PUT 409", "GET 200", "PUT 409", "GET 200", "PUT 200"]);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha"]);
    });

    test("429 with Retry-After is honored, by the SDK's throttling policy and by the retry loop when the SDK does not retry", async () => {
        // Two clusters side by side, so that the two one-second waits overlap.
        fake.arm.addCluster(SUB, RG, "aks-two", [beta]);
        fake.arm.script("GET", { status: 429, code: "TooManyRequests", headers: { "retry-after": "1" }, times: 1, clusterName: CLUSTER });
        fake.arm.script("PUT", { status: 429, code: "TooManyRequests", headers: { "retry-after": "1" }, times: 1, clusterName: "aks-two" });
        await Promise.all([
            attach(fake.client(), cluster, entry("alpha"), FAST),
            attach(fake.client({ retryOptions: { maxRetries: 0 } }), { resourceGroupName: RG, clusterName: "aks-two" }, entry("alpha"), FAST),
        ]);

        const bySdk = fake.arm.requestsFor(CLUSTER);
        expect(bySdk.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 429", "GET 200", "PUT 200"]);
        expect(bySdk[1].at - bySdk[0].at).toBeGreaterThanOrEqual(950);

        const byLoop = fake.arm.requestsFor("aks-two");
        expect(byLoop.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PUT 429", "GET 200", "PUT 200"]);
        expect(byLoop[2].at - byLoop[1].at).toBeGreaterThanOrEqual(950);

        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toContain("alpha/alpha");
        expect(keys(fake.arm.podIdentities(SUB, RG, "aks-two"))).toEqual(["beta/beta", "alpha/alpha"]);
    });

    test("a permanent 403 AuthorizationFailed fails at once, naming the cluster and the Azure error code", async () => {
        fake.arm.script("PUT", {
            status: 403,
            code: "AuthorizationFailed",
            message: "The client 'deployer' does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/write'.",
            times: Infinity,
        });
        await expect(attach(fake.client(), cluster, entry("alpha"), FAST)).rejects.toThrow(
            /^Could not attach pod identity "alpha\/alpha" to AKS cluster "aks-dev" in resource group "rg-aks": HTTP 403 AuthorizationFailed: The client 'deployer'/,
        );
        // One read and one write: the loop waits only before another attempt, so none means no wait.
        expect(fake.arm.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PUT 403"]);
    });

    test("upsert on a missing cluster fails at once", async () => {
        fake.arm.deleteCluster(SUB, RG, CLUSTER);
        await expect(attach(fake.client(), cluster, entry("alpha"), FAST)).rejects.toThrow(/AKS cluster "aks-dev".*does not exist/);
        expect(fake.arm.count("GET")).toBe(1);
    });

    test("endless 409 exhausts the retry budget with a clear message", async () => {
        fake.arm.script("PUT", { status: 409, code: "OperationNotAllowed", message: "Another operation is in progress.", times: Infinity });
        // A budget that fits many quick retries even on a busy machine, and far less than the test's time.
        const policy: RetryPolicy = { budgetMs: 500, initialDelayMs: 5, maxDelayMs: 20, pollIntervalMs: 5 };
        const failure = await rejection(attach(fake.client(), cluster, entry("alpha"), policy));
        expect(failure.message).toMatch(
            /^Gave up trying to attach pod identity "alpha\/alpha" to AKS cluster "aks-dev" in resource group "rg-aks" after \d+ attempts in \d+ ms \(retry budget 500 ms.*\); last answer: HTTP 409 OperationNotAllowed: Another operation is in progress\./,
        );
        // The waits between attempts, each at least half the first delay, all fit in the budget: however
        // fast or slow the machine, no more attempts than that. The message counts each attempt; the
        // last may have been cut off at the deadline before its write.
        const attempts = Number(/after (\d+) attempts/.exec(failure.message)?.[1]);
        expect([attempts - 1, attempts]).toContain(fake.arm.count("PUT", 409));
        expect(attempts).toBeGreaterThan(1);
        expect(attempts).toBeLessThanOrEqual(1 + policy.budgetMs / (policy.initialDelayMs / 2));
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta"]);
    });
});

describe("the edges of the helpers", () => {
    const coded = (code: string, message = "m"): Error => Object.assign(new Error(message), { code });

    test("an entry is its namespace and its name: same namespace, other name is another entry", () => {
        const list = [entry("beta"), entry("alpha")];
        expect(withEntry(list, { ...entry("alpha"), name: "other" }).map((e) => `${e.namespace}/${e.name}`)).toEqual(["beta/beta", "alpha/alpha", "alpha/other"]);
        expect(withoutEntry(list, "alpha", "other")).toHaveLength(2);
    });

    test("identities are the same only when all three ids match, ignoring case", () => {
        const alpha = identityOf("alpha");
        expect(sameIdentity(alpha, { ...alpha, clientId: alpha.clientId.toUpperCase() })).toBe(true);
        expect(sameIdentity(alpha, { ...alpha, objectId: "other" })).toBe(false);
        expect(sameIdentity(alpha, { ...alpha, resourceId: "other", clientId: "other" })).toBe(false);
        expect(sameIdentity(alpha, null)).toBe(false);
    });

    test("every conflict and network code is retryable without a status; others are not", () => {
        for (const code of ["OperationNotAllowed", "AnotherOperationInProgress", "Conflict", "OperationPreempted", "PreconditionFailed", "RetryableError"]) {
            expect([code, isRetryable(coded(code))]).toEqual([code, true]);
            expect([code, isRetryable(new Error(`The long-running operation has failed. ${code}. Try again.`))]).toEqual([code, true]);
        }
        for (const code of ["REQUEST_SEND_ERROR", "ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ECONNABORTED", "UND_ERR_SOCKET"]) {
            expect([code, isRetryable(coded(code))]).toEqual([code, true]);
        }
        expect(isRetryable(coded("InvalidParameter"))).toBe(false);
        expect(isRetryable(coded("", "Operation was canceled"))).toBe(true);
        expect(isRetryable(new Error("Polling: The long-running operation has failed. OperationNotAllowed. Busy."))).toBe(false);
    });

    test("statuses: 408, 412, 429 and 5xx but 501 and 505 are retryable; a 409 without a code is too", () => {
        const verdicts = [400, 404, 408, 409, 412, 429, 499, 500, 502, 503, 504, 505].map((status) => `${status}:${isRetryable(rest(status, undefined))}`);
        expect(verdicts).toEqual(["400:false", "404:false", "408:true", "409:true", "412:true", "429:true", "499:false", "500:true", "502:true", "503:true", "504:true", "505:false"]);
    });

    test("an error is described by its status, its code and its message, with what it has", () => {
        expect(describeError(rest(409, "OperationNotAllowed", "busy"))).toBe("HTTP 409 OperationNotAllowed: busy");
        expect(describeError(rest(500, undefined, "oops"))).toBe("HTTP 500: oops");
        expect(describeError(coded("ECONNRESET", "read ECONNRESET"))).toBe("ECONNRESET: read ECONNRESET");
        expect(describeError(new Error("plain"))).toBe("plain");
        expect(describeError("text")).toBe("text");
    });

    test("Azure's wait headers: retry-after-ms first, then x-ms-retry-after-ms, then Retry-After; bad or blank values are skipped", async () => {
        const error = await throttled({ "retry-after": "7" });
        if (error.response === undefined) {
            throw new Error("expected a RestError with a response");
        }
        const headers = error.response.headers;
        const waitWith = (values: Record<string, string | undefined>): number | undefined => {
            for (const [name, value] of Object.entries(values)) {
                if (value === undefined) {
                    headers.delete(name);
                } else {
                    headers.set(name, value);
                }
            }
            return retryAfterMs(error);
        };
        expect(waitWith({ "x-ms-retry-after-ms": "1500" })).toBe(1_500);
        expect(waitWith({ "retry-after-ms": "0" })).toBe(0);
        expect(waitWith({ "retry-after-ms": "-5", "x-ms-retry-after-ms": undefined })).toBe(7_000);
        expect(waitWith({ "retry-after-ms": "soon" })).toBe(7_000);
        expect(waitWith({ "retry-after-ms": undefined, "retry-after": "  " })).toBeUndefined();
        expect(waitWith({ "retry-after": "later" })).toBeUndefined();
    });

    test("ARM settings of each named cloud, trimmed values, and no authority unless one is known", () => {
        expect(armSettingsFromEnv({})).toStrictEqual({ endpoint: "https://management.azure.com", scope: "https://management.azure.com/.default" });
        expect(armSettingsFromEnv({ ARM_ENVIRONMENT: " Public " })).toStrictEqual({
            endpoint: "https://management.azure.com",
            scope: "https://management.azure.com/.default",
            authorityHost: "https://login.microsoftonline.com",
        });
        expect(armSettingsFromEnv({ ARM_ENVIRONMENT: "china" })).toStrictEqual({
            endpoint: "https://management.chinacloudapi.cn",
            scope: "https://management.chinacloudapi.cn/.default",
            authorityHost: "https://login.chinacloudapi.cn",
        });
        expect(
            armSettingsFromEnv({
                AZURE_RESOURCE_MANAGER_ENDPOINT: " https://arm.example.test/base// ",
                AZURE_RESOURCE_MANAGER_SCOPE: " https://arm.example.test/.default ",
                AZURE_AUTHORITY_HOST: " https://login.example.test ",
            }),
        ).toStrictEqual({ endpoint: "https://arm.example.test/base", scope: "https://arm.example.test/.default", authorityHost: "https://login.example.test" });
        expect(() => armSettingsFromEnv({ ARM_ENVIRONMENT: "german" })).toThrow('ARM_ENVIRONMENT "german" is not one of public, usgovernment, china; set AZURE_RESOURCE_MANAGER_ENDPOINT instead');
    });

    test("a federated ARM credential needs the client, the tenant and a token", () => {
        expect(credentialSourceFromEnv({ ARM_CLIENT_ID: "c", ARM_OIDC_TOKEN: "jwt" })).toBe("default");
        expect(credentialSourceFromEnv({ ARM_TENANT_ID: "t", ARM_OIDC_TOKEN_FILE_PATH: "/token" })).toBe("default");
        expect(credentialSourceFromEnv({ ARM_CLIENT_ID: "c", ARM_TENANT_ID: "t" })).toBe("default");
    });
});

describe("how the retry loop gives up", () => {
    test("a wait longer than the budget gives up after the one attempt, with the answer as the error's cause", async () => {
        fake.arm.script("PUT", { status: 409, code: "OperationNotAllowed", message: "Another operation is in progress.", times: Infinity });
        // The first wait (2.5-5 s with jitter) is longer than the budget; the budget leaves the one
        // attempt time to finish even on a busy machine.
        const policy: RetryPolicy = { budgetMs: 900, initialDelayMs: 5_000, maxDelayMs: 5_000, pollIntervalMs: 5 };
        const failure = await rejection(attach(fake.client(), cluster, entry("alpha"), policy));
        expect(failure.message).toMatch(
            /^Gave up trying to attach pod identity "alpha\/alpha" to AKS cluster "aks-dev" in resource group "rg-aks" after 1 attempt in \d+ ms \(retry budget 900 ms\); last answer: HTTP 409 OperationNotAllowed: Another operation is in progress\.$/,
        );
        expect(failure.cause).toBeInstanceOf(RestError);
        expect(fake.arm.count("PUT")).toBe(1);
    });

    test("Azure asking for a longer wait than the budget says so, in seconds or minutes", async () => {
        for (const [seconds, shown] of [
            ["30", "30s"],
            ["125", "2m05s"],
        ]) {
            fake.arm.reset();
            fake.arm.addCluster(SUB, RG, CLUSTER, [beta]);
            fake.arm.script("PUT", { status: 409, code: "OperationNotAllowed", headers: { "retry-after": seconds }, times: Infinity });
            await expect(attach(fake.client(), cluster, entry("alpha"), FAST)).rejects.toThrow(
                new RegExp(`after 1 attempt in \\d+ ms \\(retry budget 5s; Azure asked to wait ${shown}\\); last answer: HTTP 409 OperationNotAllowed`),
            );
        }
    });

    test("an answer that is not retryable fails at once with the answer as the error's cause", async () => {
        fake.arm.script("GET", { status: 403, code: "AuthorizationFailed", message: "no read", times: Infinity });
        const failure = await rejection(readPodIdentities(fake.client(), cluster, FAST));
        expect(failure.message).toBe('Could not read the pod identities of AKS cluster "aks-dev" in resource group "rg-aks": HTTP 403 AuthorizationFailed: no read');
        expect(failure.cause).toBeInstanceOf(RestError);
    });

    test("an attach whose read is refused fails with the refusal, not as a missing cluster", async () => {
        fake.arm.script("GET", { status: 403, code: "AuthorizationFailed", message: "no read", times: Infinity });
        await expect(attach(fake.client(), cluster, entry("alpha"), FAST)).rejects.toThrow(
            /^Could not attach pod identity "alpha\/alpha" to AKS cluster "aks-dev" .*HTTP 403 AuthorizationFailed: no read$/,
        );
    });

    test("a detach that fails names the entry it removes and the cluster", async () => {
        fake.arm.script("PUT", { status: 403, code: "AuthorizationFailed", message: "no write", times: Infinity });
        await expect(detach(fake.client(), cluster, "delta", "delta", FAST)).rejects.toThrow(
            'Could not remove pod identity "delta/delta" from AKS cluster "aks-dev" in resource group "rg-aks": HTTP 403 AuthorizationFailed: no write',
        );
    });

    test("a cluster deleted between the read and the write: attaches fail as missing, detaches remove nothing", async () => {
        fake.arm.script("PUT", { status: 404, code: "ResourceNotFound", message: "gone", times: Infinity });
        const outcomes = await applyPodIdentityChanges(fake.client(), cluster, [{ attach: entry("alpha") }, { detach: { namespace: "delta", name: "delta" } }], FAST);
        expect(outcomes).toEqual([{ failed: "the cluster does not exist (HTTP 404)" }, { removed: false }]);
    });

    test("an entry read back without a selector reads as an empty selector, with no provisioning state when Azure gives none", async () => {
        fake.arm.reset();
        fake.arm.addCluster(SUB, RG, CLUSTER, [{ name: "alpha", namespace: "alpha", identity: identityOf("alpha"), provisioningState: undefined }]);
        expect(await readPodIdentities(fake.client(), cluster, FAST)).toStrictEqual([{ name: "alpha", namespace: "alpha", bindingSelector: "", identity: identityOf("alpha") }]);
    });
});

describe("the comparisons, the wait headers and the retry loop's deadline at their edges", () => {
    test("sameEntry: the same namespace, name, selector and identity; a selector left out reads as empty", () => {
        const wanted = entry("alpha");
        expect(sameEntry({ ...wanted }, wanted)).toBe(true);
        expect(sameEntry({ ...wanted, name: "other" }, wanted)).toBe(false);
        expect(sameEntry({ ...wanted, bindingSelector: "other" }, wanted)).toBe(false);
        expect(sameEntry({ ...wanted, identity: identityOf("beta") }, wanted)).toBe(false);
        expect(sameEntry({ name: wanted.name, namespace: wanted.namespace, identity: wanted.identity }, { ...wanted, bindingSelector: "" })).toBe(true);
    });

    test("an entry read without its identity's ids reads them as empty", async () => {
        fake.arm.addCluster(SUB, RG, CLUSTER, [{ name: "bare", namespace: "bare", identity: {} }]);
        expect(await readPodIdentities(fake.client(), cluster, FAST)).toEqual([
            { name: "bare", namespace: "bare", bindingSelector: "", identity: { resourceId: "", clientId: "", objectId: "" }, provisioningState: "Assigned" },
        ]);
    });

    test("a wait of Infinity milliseconds is skipped for the next header", async () => {
        expect(retryAfterMs(await throttled({ "retry-after-ms": "Infinity", "retry-after": "7" }))).toBe(7_000);
    });

    test("giving up names a budget of a second as 1s and a minute's wait as 1m00s; a wait no longer than the longest delay is not called Azure's", async () => {
        fake.arm.script("PUT", { status: 409, code: "OperationNotAllowed", headers: { "retry-after": "2" }, times: 1 });
        const policy: RetryPolicy = { budgetMs: 1_000, initialDelayMs: 5, maxDelayMs: 2_000, pollIntervalMs: 5 };
        await expect(attach(fake.client(), cluster, entry("alpha"), policy)).rejects.toThrow(/after 1 attempt in \d+ ms \(retry budget 1s\); last answer: HTTP 409 OperationNotAllowed/);
        fake.arm.script("PUT", { status: 409, code: "OperationNotAllowed", headers: { "retry-after": "60" }, times: 1 });
        await expect(attach(fake.client(), cluster, entry("alpha"), FAST)).rejects.toThrow(/\(retry budget 5s; Azure asked to wait 1m00s\); last answer: HTTP 409 OperationNotAllowed/);
    });

    test("a request Azure never answers is cut off at the deadline, and the failure says no answer came", async () => {
        fake.arm.script("GET", { status: 0, code: "", unanswered: true, times: 1 });
        const policy: RetryPolicy = { budgetMs: 300, initialDelayMs: 5, maxDelayMs: 20, pollIntervalMs: 5 };
        const failure = await rejection(readPodIdentities(fake.client(), cluster, policy));
        expect(failure.message).toMatch(
            /^Gave up trying to read the pod identities of AKS cluster "aks-dev" in resource group "rg-aks" after 1 attempt in \d+ ms \(retry budget 300 ms; the last request was cut off at the deadline\); last answer: none$/,
        );
        expect(fake.arm.count("GET")).toBe(1);
    });
});

describe("GitHub's ID token for the token exchange, at its edges", () => {
    test("a request URL without a query gets one; an answer other than 200, or an empty token, is no token", async () => {
        const asked: string[] = [];
        const answer = (status: number, body: string) => async (url: string, bearer: string) => {
            asked.push(`${url} ${bearer}`);
            return { status, body };
        };
        expect(await gitHubOidcAssertion({ ACTIONS_ID_TOKEN_REQUEST_URL: "https://gh.example/token", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "req" }, answer(200, '{"value":"jwt"}'))()).toBe("jwt");
        await expect(gitHubOidcAssertion({}, answer(500, '{"value":"jwt"}'))()).rejects.toThrow("GitHub Actions gave no ID token (HTTP 500)");
        await expect(gitHubOidcAssertion({}, answer(200, '{"value":""}'))()).rejects.toThrow("GitHub Actions gave no ID token (HTTP 200)");
        expect(asked).toEqual(["https://gh.example/token?audience=api%3A%2F%2FAzureADTokenExchange req", "?audience=api%3A%2F%2FAzureADTokenExchange ", "?audience=api%3A%2F%2FAzureADTokenExchange "]);
    });

    test("by default the token is asked for over HTTP with the request token as a bearer", async () => {
        const github = await startFakeServer();
        try {
            github.reset(() => ({ status: 200, body: { value: "jwt-from-github" } }));
            expect(await gitHubOidcAssertion({ ACTIONS_ID_TOKEN_REQUEST_URL: `${github.url}/token`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "req" })()).toBe("jwt-from-github");
            expect(github.requests.map((r) => [r.method, `${r.url.pathname}${r.url.search}`, r.headers.authorization])).toEqual([
                ["GET", "/token?audience=api%3A%2F%2FAzureADTokenExchange", "bearer req"],
            ]);
        } finally {
            await github.close();
        }
    });
});
