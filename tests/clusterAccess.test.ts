// The deployer-access wait: reading a kubeconfig, running its credential plugin as client-go does,
// and asking a loopback fake of the API server with SelfSubjectAccessReviews until the deployer's
// grant applies, within a budget; then the wait's dynamic provider and the propagation delay's.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { kubeconfigForAzureCli } from "../components/aksCluster";
import {
    AccessCheck,
    AccessDependencies,
    AccessReviewError,
    ClusterEndpoint,
    ExecPlugin,
    accessReviewBody,
    describeCheck,
    endpointFromKubeconfig,
    isRetryableStatus,
    reviewOutcome,
    runExecPlugin,
    sendAccessReview,
    tokenFromExecCredential,
    waitForAccess,
} from "../components/clusterAccess";
import { checkAccessWaitInputs, checkDelayInputs, createAccessWaitProvider, createDelayProvider, diffAccessWait, diffDelay, serverOf } from "../components/waits";
import { FAKE_KUBE_TOKEN, FakeKubernetesApi } from "./fakes/kubernetes";
import { userKubeconfig } from "../tools/plan/mocks";

const PLUGIN = path.join(__dirname, "fakes", "execCredential.js");
const NAMESPACES: AccessCheck = { verb: "create", group: "", resource: "namespaces" };
/** Fast rounds for the fake; the budget is reached only where a test waits it out. */
const FAST = { budgetMs: 3_000, intervalMs: 20, requestTimeoutMs: 2_000 };
/** An API server no request reaches, for the waits whose reviews a test answers itself. */
const ANSWERED_HERE: ClusterEndpoint = { server: "https://cluster.example:443", credential: { token: "t" } };
/** Reviews that never allow. */
const DENY_ALL: Pick<AccessDependencies, "review"> = { review: async () => ({ allowed: false }) };

/**
 * Time that passes only when the wait sleeps, from `start`, so that the rounds do not depend on how
 * fast this machine answers.
 */
function virtualClock(start = 0): Pick<AccessDependencies, "now" | "sleep"> {
    let now = start;
    return { now: () => now, sleep: async (ms) => void (now += ms) };
}

let api: FakeKubernetesApi;
let dir: string;
beforeAll(async () => {
    api = await FakeKubernetesApi.start();
});
afterAll(async () => {
    await api.close();
});
beforeEach(() => {
    api.reset();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-access-"));
});
afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig for the fake whose exec plugin is the fake plugin, with these extra env entries. */
function kubeconfig(env: Record<string, string> = {}, ca?: string): string {
    const entries = Object.entries({ FAKE_EXEC_TOKEN: FAKE_KUBE_TOKEN, ...env }).map(([name, value]) => ({ name, value }));
    return api.kubeconfig({ command: process.execPath, args: [PLUGIN, "get-token", "--login", "azurecli"], env: entries }, ca);
}

/** The exec infos the fake plugin was run with, one per run. */
function pluginRuns(log: string): Array<{ info: Record<string, unknown>; args: string[] }> {
    return fs.existsSync(log)
        ? fs
              .readFileSync(log, "utf8")
              .trim()
              .split("\n")
              .map((l) => JSON.parse(l) as { info: Record<string, unknown>; args: string[] })
        : [];
}

/**
 * A kubeconfig whose current context `x` has these fields, with a cluster `c` and a user `u` of these
 * fields (YAML flow mappings), each list left out when its entry is.
 */
function oneContext(context: string, cluster?: string, user?: string): string {
    return [
        "current-context: x",
        `contexts: [{name: x, context: ${context}}]`,
        ...(cluster === undefined ? [] : [`clusters: [{name: c, cluster: ${cluster}}]`]),
        ...(user === undefined ? [] : [`users: [{name: u, user: ${user}}]`]),
        "",
    ].join("\n");
}

describe("reading the kubeconfig", () => {
    test("the AKS kubeconfig, switched to the Azure CLI, names the server, its CA and kubelogin", () => {
        const endpoint = endpointFromKubeconfig(kubeconfigForAzureCli(userKubeconfig("aks-aiv-dev")));
        expect(endpoint.server).toBe("https://aks-aiv-dev-dns-00000000.hcp.uksouth.azmk8s.io:443");
        expect(endpoint.certificateAuthority).toBe("-----BEGIN CERTIFICATE-----");
        expect(endpoint.credential).toEqual({
            exec: {
                apiVersion: "client.authentication.k8s.io/v1beta1",
                command: "kubelogin",
                args: ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"],
                env: [],
            },
        });
    });

    test("a static token, the first context when none is current, and exec env entries", () => {
        const config = [
            "clusters:",
            "- name: c",
            "  cluster:",
            "    server: https://api.example:6443",
            "contexts:",
            "- name: x",
            "  context: {cluster: c, user: u}",
            "users:",
            "- name: u",
            "  user: {token: t0k}",
            "",
        ].join("\n");
        expect(endpointFromKubeconfig(config)).toEqual({ server: "https://api.example:6443", credential: { token: "t0k" } });
        expect(endpointFromKubeconfig(kubeconfig({ A: "1" })).credential).toMatchObject({
            exec: {
                env: [
                    { name: "FAKE_EXEC_TOKEN", value: FAKE_KUBE_TOKEN },
                    { name: "A", value: "1" },
                ],
            },
        });
    });

    test("the current context among several, each with its own cluster and user; an empty current-context is none", () => {
        const config = (current: string) =>
            [
                `current-context: "${current}"`,
                "contexts:",
                "- {name: x, context: {cluster: c1, user: u1}}",
                "- {name: y, context: {cluster: c2, user: u2}}",
                "clusters:",
                "- {name: c1, cluster: {server: 'https://one.example:443'}}",
                "- {name: c2, cluster: {server: 'https://two.example:443'}}",
                "users:",
                "- {name: u1, user: {token: first}}",
                "- {name: u2, user: {token: second}}",
                "",
            ].join("\n");
        expect(endpointFromKubeconfig(config("y"))).toEqual({ server: "https://two.example:443", credential: { token: "second" } });
        expect(endpointFromKubeconfig(config(""))).toEqual({ server: "https://one.example:443", credential: { token: "first" } });
    });

    test("an exec plugin's args and env keep their strings only; without them, none, and the v1 ExecCredential", () => {
        const withExec = (exec: string) => oneContext("{cluster: c, user: u}", "{server: 'https://api'}", `{exec: ${exec}}`);
        expect(endpointFromKubeconfig(withExec("{command: k, args: [a, 1, b], env: [{name: A, value: '1'}, {name: B}, {value: x}, {name: C, value: 2}]}")).credential).toEqual({
            exec: { apiVersion: "client.authentication.k8s.io/v1", command: "k", args: ["a", "b"], env: [{ name: "A", value: "1" }] },
        });
        expect(endpointFromKubeconfig(withExec("{command: k}")).credential).toEqual({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: "k", args: [], env: [] } });
    });

    test("YAML that does not parse is named by the first line of the parser's error", () => {
        expect(() => endpointFromKubeconfig("a: [")).toThrow(
            new AccessReviewError("the kubeconfig is not YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 5:"),
        );
    });

    test.each([
        ["not YAML", "a: [", "the kubeconfig is not YAML"],
        ["not a mapping", "- a", "the kubeconfig is not a YAML mapping"],
        ["empty", "", "the kubeconfig is not a YAML mapping"],
        ["a context with no cluster", oneContext("{user: u}"), 'the kubeconfig has no cluster named ""'],
        ["a context with no user", oneContext("{cluster: c}", "{server: 'https://api'}"), 'the kubeconfig has no user named ""'],
        ["a cluster without a server", oneContext("{cluster: c, user: u}", "{}", "{token: t}"), 'the kubeconfig\'s server "" is not an https URL'],
        ["no context", "clusters: []", "the kubeconfig has no context"],
        ["a context naming no cluster", oneContext("{cluster: c, user: u}"), 'the kubeconfig has no cluster named "c"'],
        ["a plain HTTP server", oneContext("{cluster: c, user: u}", "{server: 'http://api'}", "{token: t}"), 'the kubeconfig\'s server "http://api" is not an https URL'],
        ["a user without credentials", oneContext("{cluster: c, user: u}", "{server: 'https://api'}", "{}"), "neither an exec plugin nor a token"],
        ["an exec plugin without a command", oneContext("{cluster: c, user: u}", "{server: 'https://api'}", "{exec: {args: []}}"), "names no command"],
    ])("refuses %s", (_label, text, message) => {
        expect(() => endpointFromKubeconfig(text)).toThrow(message);
    });
});

describe("the credential plugin's answer and the review", () => {
    const v1 = "client.authentication.k8s.io/v1";

    test("an ExecCredential's token and expiry", () => {
        const text = JSON.stringify({ kind: "ExecCredential", apiVersion: v1, status: { token: "abc", expirationTimestamp: "2030-01-01T00:00:00Z" } });
        expect(tokenFromExecCredential(text, v1)).toEqual({ token: "abc", expiresAt: Date.parse("2030-01-01T00:00:00Z") });
        expect(tokenFromExecCredential(JSON.stringify({ kind: "ExecCredential", apiVersion: v1, status: { token: "abc" } }), v1)).toStrictEqual({ token: "abc" });
        const unreadable = JSON.stringify({ kind: "ExecCredential", apiVersion: v1, status: { token: "abc", expirationTimestamp: "tomorrow" } });
        expect(tokenFromExecCredential(unreadable, v1)).toStrictEqual({ token: "abc" });
    });

    test.each([
        ["not JSON", "token", "printed no JSON ExecCredential"],
        [
            "another version",
            JSON.stringify({ kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1beta1", status: { token: "a" } }),
            "no ExecCredential of client.authentication.k8s.io/v1",
        ],
        ["another kind", JSON.stringify({ kind: "Credential", apiVersion: "client.authentication.k8s.io/v1", status: { token: "a" } }), "no ExecCredential of client.authentication.k8s.io/v1"],
        ["a client certificate", JSON.stringify({ kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1", status: { clientCertificateData: "x" } }), "has no status.token"],
    ])("refuses %s", (_label, text, message) => {
        expect(() => tokenFromExecCredential(text, v1)).toThrow(message);
    });

    test("the review asks about one verb on one resource, cluster-wide or in a namespace", () => {
        expect(accessReviewBody(NAMESPACES)).toStrictEqual({
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectAccessReview",
            spec: { resourceAttributes: { verb: "create", group: "", resource: "namespaces" } },
        });
        expect(accessReviewBody({ verb: "create", group: "batch", resource: "jobs", namespace: "alpha" }).spec).toEqual({
            resourceAttributes: { verb: "create", group: "batch", resource: "jobs", namespace: "alpha" },
        });
        expect(describeCheck(NAMESPACES)).toBe("create namespaces");
        expect(describeCheck({ verb: "create", group: "batch", resource: "jobs", namespace: "alpha" })).toBe("create jobs.batch in alpha");
    });

    test("the API server's answer: allowed or not, with the reason; errors that may pass and those that will not", () => {
        expect(reviewOutcome(201, JSON.stringify({ status: { allowed: true } }))).toEqual({ allowed: true });
        expect(reviewOutcome(200, JSON.stringify({ status: { allowed: false, reason: "no role" } }))).toEqual({ allowed: false, reason: "no role" });
        const error = (status: number, body: string) => {
            try {
                reviewOutcome(status, body);
            } catch (e) {
                return e instanceof AccessReviewError ? [e.message, e.status, e.retryable] : e;
            }
            return "no error";
        };
        expect(error(403, JSON.stringify({ kind: "Status", message: "forbidden: propagating" }))).toEqual(["the API server answered HTTP 403: forbidden: propagating", 403, true]);
        expect(error(404, "not here")).toEqual(["the API server answered HTTP 404: not here", 404, false]);
        expect(error(502, "  bad gateway\n")).toEqual(["the API server answered HTTP 502: bad gateway", 502, true]);
        expect(error(503, "")).toEqual(["the API server answered HTTP 503", 503, true]);
        expect(error(500, "x".repeat(400))).toEqual([`the API server answered HTTP 500: ${"x".repeat(300)}`, 500, true]);
        expect(error(201, "{")).toEqual(["the API server's answer is not JSON", 201, false]);
        expect(error(201, "{}")).toEqual(["the API server's answer has no status.allowed", 201, false]);
        expect([401, 403, 408, 429, 500, 503].map(isRetryableStatus)).toEqual([true, true, true, true, true, true]);
        expect([400, 404, 422].map(isRetryableStatus)).toEqual([false, false, false]);
    });
});

describe("running the credential plugin", () => {
    test("as client-go does: its args and env, KUBERNETES_EXEC_INFO of its version, non-interactive", async () => {
        const log = path.join(dir, "runs.log");
        const endpoint = endpointFromKubeconfig(kubeconfig({ FAKE_EXEC_LOG: log }));
        if (!("exec" in endpoint.credential)) {
            throw new Error("expected an exec plugin");
        }
        const token = await runExecPlugin(endpoint.credential.exec, 5_000);
        expect(token.token).toBe(FAKE_KUBE_TOKEN);
        expect(token.expiresAt).toBeGreaterThan(Date.now());
        expect(pluginRuns(log)).toEqual([
            { info: { apiVersion: "client.authentication.k8s.io/v1beta1", kind: "ExecCredential", spec: { interactive: false } }, args: ["get-token", "--login", "azurecli"] },
        ]);
    });

    test("a plugin that fails is reported with its last line, and is not retried", async () => {
        const log = path.join(dir, "runs.log");
        const endpoint = endpointFromKubeconfig(kubeconfig({ FAKE_EXEC_FAIL: "1", FAKE_EXEC_LOG: log }));
        await expect(waitForAccess(endpoint, [NAMESPACES], FAST)).rejects.toThrow(`the credential plugin ${process.execPath} exited 1: ERROR: Please run 'az login' to setup account.`);
        expect(pluginRuns(log)).toHaveLength(1);
        expect(api.reviews).toEqual([]);
    });

    test("a plugin that does not answer within the timeout is stopped, and says so", async () => {
        const hanging = { apiVersion: "client.authentication.k8s.io/v1", command: process.execPath, args: ["-e", "setTimeout(() => undefined, 60_000)"], env: [] };
        await expect(runExecPlugin(hanging, 200)).rejects.toThrow(`the credential plugin ${process.execPath} was stopped by SIGTERM`);
    });

    test("a plugin that is not installed says where to look, and leaves no timer behind to keep the process alive", async () => {
        const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
        const before = timers();
        await expect(runExecPlugin({ apiVersion: "client.authentication.k8s.io/v1", command: "kubelogin-not-installed-here", args: [], env: [] }, 5_000)).rejects.toThrow(
            "the credential plugin kubelogin-not-installed-here could not be started: spawn kubelogin-not-installed-here ENOENT (is kubelogin-not-installed-here on the PATH? AKS with Entra ID needs kubelogin)",
        );
        expect(timers()).toBe(before);
    });

    /** A plugin that runs this Node script. */
    const script = (code: string): ExecPlugin => ({ apiVersion: "client.authentication.k8s.io/v1", command: process.execPath, args: ["-e", code], env: [] });

    test("its standard input is closed, so a plugin that reads it is not left waiting for a person", async () => {
        const reader = script(
            `let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => console.log(JSON.stringify({ kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1", status: { token: "read-" + text.length } })));`,
        );
        await expect(runExecPlugin(reader, 5_000)).resolves.toEqual({ token: "read-0" });
    });

    test("a failure is told by its exit code alone when the plugin said nothing, else by its last line", async () => {
        await expect(runExecPlugin(script("process.exit(3)"), 5_000)).rejects.toThrow(new AccessReviewError(`the credential plugin ${process.execPath} exited 3`));
        await expect(runExecPlugin(script(`process.stderr.write("one\\ntwo\\nthree\\n"); process.exit(2)`), 5_000)).rejects.toThrow(
            new AccessReviewError(`the credential plugin ${process.execPath} exited 2: three`),
        );
    });

    test("a plugin that succeeds without an ExecCredential fails", async () => {
        await expect(runExecPlugin(script(`console.log("hello")`), 5_000)).rejects.toThrow(new AccessReviewError("the credential plugin printed no JSON ExecCredential"));
    });

    test("a plugin that cannot be started for another reason than its absence gets no hint", async () => {
        const file = path.join(dir, "kubelogin");
        fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o644 });
        await expect(runExecPlugin({ apiVersion: "client.authentication.k8s.io/v1", command: file, args: [], env: [] }, 5_000)).rejects.toThrow(
            new AccessReviewError(`the credential plugin ${file} could not be started: spawn ${file} EACCES`),
        );
    });
});

describe("waiting for the deployer's access, against the fake API server", () => {
    test("ends at the first review that allows, asked as the deployer with its bearer token", async () => {
        const granted = await waitForAccess(endpointFromKubeconfig(kubeconfig()), [NAMESPACES], FAST);
        expect(granted.rounds).toBe(1);
        expect(api.reviews).toEqual([{ authorization: `Bearer ${FAKE_KUBE_TOKEN}`, contentType: "application/json", accept: "application/json", body: accessReviewBody(NAMESPACES), status: 201 }]);
    });

    test("asks again while the grant propagates, and ends when it applies; the token is fetched once", async () => {
        api.deniedRounds = 3;
        const log = path.join(dir, "runs.log");
        const granted = await waitForAccess(endpointFromKubeconfig(kubeconfig({ FAKE_EXEC_LOG: log })), [NAMESPACES], FAST);
        expect(granted.rounds).toBe(4);
        expect(api.reviews.map((r) => r.status)).toEqual([201, 201, 201, 201]);
        expect(pluginRuns(log)).toHaveLength(1);
    });

    test("every check must be allowed in one round", async () => {
        const checks = [NAMESPACES, { verb: "create", group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicies" }];
        await waitForAccess(endpointFromKubeconfig(kubeconfig()), checks, FAST);
        expect(api.reviews.map((r) => r.body)).toEqual(checks.map(accessReviewBody));
    });

    test("throttling, server errors and a 403 on the review itself are asked again, with the same token", async () => {
        api.script = [{ status: 429 }, { status: 503 }, { status: 403, body: "selfsubjectaccessreviews is forbidden" }];
        const log = path.join(dir, "runs.log");
        const granted = await waitForAccess(endpointFromKubeconfig(kubeconfig({ FAKE_EXEC_LOG: log })), [NAMESPACES], FAST);
        expect(granted.rounds).toBe(4);
        expect(api.reviews.map((r) => r.status)).toEqual([429, 503, 403, 201]);
        expect(pluginRuns(log)).toHaveLength(1);
    });

    test("a 401 fetches a new token before the next round", async () => {
        api.script = [{ status: 401, body: "Unauthorized" }];
        const log = path.join(dir, "runs.log");
        await waitForAccess(endpointFromKubeconfig(kubeconfig({ FAKE_EXEC_LOG: log })), [NAMESPACES], FAST);
        expect(pluginRuns(log)).toHaveLength(2);
    });

    test("a token about to expire is fetched again", async () => {
        api.deniedRounds = 1;
        const log = path.join(dir, "runs.log");
        await waitForAccess(endpointFromKubeconfig(kubeconfig({ FAKE_EXEC_LOG: log, FAKE_EXEC_EXPIRY: new Date(Date.now() + 30_000).toISOString() })), [NAMESPACES], FAST);
        expect(pluginRuns(log)).toHaveLength(2);
    });

    test("an answer that will not change fails at once, naming it", async () => {
        api.script = [{ status: 404, body: "the server could not find the requested resource" }];
        await expect(waitForAccess(endpointFromKubeconfig(kubeconfig()), [NAMESPACES], FAST)).rejects.toThrow("the API server answered HTTP 404: the server could not find the requested resource");
        expect(api.reviews).toHaveLength(1);
    });

    test("gives up within its budget, naming the server, what is still refused and the authorizer's last reason", async () => {
        api.deniedRounds = Infinity;
        // On a virtual clock, 8 rounds 50 ms apart fit in 400 ms, a ninth would not.
        const failure = waitForAccess(endpointFromKubeconfig(kubeconfig()), [NAMESPACES], { budgetMs: 400, intervalMs: 50, requestTimeoutMs: 2_000 }, virtualClock());
        await expect(failure).rejects.toThrow(
            new RegExp(
                `^the API server ${api.url.replace(/\./g, "\\.")} still does not let this principal create namespaces after 350 ms and 8 rounds \\(budget 400 ms\\); last answer: not allowed yet \\(Azure RBAC: the principal has no role on this cluster\\)\\. Check the role assignment`,
            ),
        );
        expect(api.reviews).toHaveLength(8);
    });

    test("a review that keeps failing is named in the give-up, not the check before it that was allowed", async () => {
        const admission: AccessCheck = { verb: "create", group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicies" };
        const asked: string[] = [];
        const failure = waitForAccess(
            ANSWERED_HERE,
            [NAMESPACES, admission],
            { budgetMs: 100, intervalMs: 50, requestTimeoutMs: 1_000 },
            {
                ...virtualClock(),
                review: async (_endpoint, _token, check) => {
                    asked.push(describeCheck(check));
                    if (check === admission) {
                        throw new AccessReviewError("the API server answered HTTP 503: busy", 503, true);
                    }
                    return { allowed: true };
                },
            },
        );
        await expect(failure).rejects.toThrow(
            "the API server https://cluster.example:443 still does not let this principal create validatingadmissionpolicies.admissionregistration.k8s.io after 50 ms and 2 rounds (budget 100 ms); last answer: the API server answered HTTP 503: busy.",
        );
        expect(asked).toEqual([
            "create namespaces",
            "create validatingadmissionpolicies.admissionregistration.k8s.io",
            "create namespaces",
            "create validatingadmissionpolicies.admissionregistration.k8s.io",
        ]);
    });

    test("a review left without an answer is given up after the request's timeout, and asked again", async () => {
        api.script = [{ status: 0, hang: true }];
        const endpoint = endpointFromKubeconfig(kubeconfig());
        const granted = await waitForAccess(endpoint, [NAMESPACES], { budgetMs: 5_000, intervalMs: 20, requestTimeoutMs: 200 });
        expect(granted.rounds).toBe(2);
        expect(api.reviews.map((r) => r.status)).toEqual([0, 201]);
        api.script = [{ status: 0, hang: true }];
        await expect(sendAccessReview(endpoint, FAKE_KUBE_TOKEN, NAMESPACES, 200)).rejects.toThrow(new AccessReviewError(`the API server ${api.url} could not be reached: no answer within 200 ms`));
    });

    test("an answer over 1 MiB is cut off and asked again; one of exactly 1 MiB is read; one broken off is asked again", async () => {
        /** An allowed review padded to `length` characters of JSON. */
        const padded = (length: number) => {
            const review = { status: { allowed: true }, pad: "" };
            return { ...review, pad: "x".repeat(length - JSON.stringify(review).length) };
        };
        const endpoint = endpointFromKubeconfig(kubeconfig());
        api.script = [{ status: 201, body: padded(1024 * 1024 + 1) }];
        await expect(sendAccessReview(endpoint, FAKE_KUBE_TOKEN, NAMESPACES, 2_000)).rejects.toMatchObject({ message: "the API server's answer is larger than 1048576 bytes", retryable: true });
        api.script = [
            { status: 201, body: padded(1024 * 1024 + 1) },
            { status: 201, body: padded(1024 * 1024) },
        ];
        const granted = await waitForAccess(endpoint, [NAMESPACES], FAST);
        expect(granted.rounds).toBe(2);
        api.script = [{ status: 201, breakOff: true }];
        await expect(sendAccessReview(endpoint, FAKE_KUBE_TOKEN, NAMESPACES, 2_000)).rejects.toMatchObject({ message: "the API server's answer broke off: aborted", retryable: true });
    });

    test("a denial without a reason, given up after one round; the times are those of this wait", async () => {
        const clock = virtualClock(1_000_000);
        await expect(waitForAccess(ANSWERED_HERE, [NAMESPACES], { budgetMs: 50, intervalMs: 50, requestTimeoutMs: 1_000 }, { ...clock, ...DENY_ALL })).rejects.toThrow(
            "still does not let this principal create namespaces after 0 ms and 1 round (budget 50 ms); last answer: not allowed yet. Check",
        );
        let reviews = 0;
        const secondAllows = { review: async () => ({ allowed: (reviews += 1) > 1 }) };
        await expect(waitForAccess(ANSWERED_HERE, [NAMESPACES], { budgetMs: 1_000, intervalMs: 50, requestTimeoutMs: 1_000 }, { ...clock, ...secondAllows })).resolves.toEqual({
            rounds: 2,
            elapsedMs: 50,
        });
    });

    test.each([
        [{ budgetMs: 1_000, intervalMs: 500 }, "after 500 ms and 2 rounds (budget 1s)"],
        [{ budgetMs: 5_500, intervalMs: 5_000 }, "after 5s and 2 rounds (budget 6s)"],
        [{ budgetMs: 65_000, intervalMs: 20_000 }, "after 1m00s and 4 rounds (budget 1m05s)"],
    ])("times are told in ms below a second, then in seconds, then in minutes and seconds: %j", async (policy, told) => {
        await expect(waitForAccess(ANSWERED_HERE, [NAMESPACES], { ...policy, requestTimeoutMs: 1_000 }, { ...virtualClock(), ...DENY_ALL })).rejects.toThrow(told);
    });

    test("a token is fetched again once it has less than a minute left, not before", async () => {
        const clock = virtualClock();
        const fetchedAt: number[] = [];
        const token = async () => (fetchedAt.push(clock.now()), { token: "t", expiresAt: clock.now() + 60_050 });
        await expect(waitForAccess(ANSWERED_HERE, [NAMESPACES], { budgetMs: 150, intervalMs: 50, requestTimeoutMs: 1_000 }, { ...clock, ...DENY_ALL, token })).rejects.toThrow(
            "after 100 ms and 3 rounds",
        );
        // 60 050 ms left at 0, exactly a minute at 50, less at 100.
        expect(fetchedAt).toEqual([0, 100]);
    });

    test("a server it cannot verify is a network failure: asked again, then given up on", async () => {
        const other = await FakeKubernetesApi.start();
        try {
            await expect(waitForAccess(endpointFromKubeconfig(kubeconfig({}, other.ca)), [NAMESPACES], { budgetMs: 200, intervalMs: 50, requestTimeoutMs: 1_000 })).rejects.toThrow(
                /last answer: the API server https:\/\/127\.0\.0\.1:\d+ could not be reached: /,
            );
        } finally {
            await other.close();
        }
        expect(api.reviews).toEqual([]);
    });
});

describe("the ClusterAccessWait provider", () => {
    const provider = createAccessWaitProvider({ intervalMs: 20, requestTimeoutMs: 2_000 });
    const inputs = () => ({ kubeconfig: kubeconfig(), checks: [NAMESPACES], grants: ["grant-1"], budgetSeconds: 5 });

    test("create waits for access and keeps the server it asked, never the kubeconfig", async () => {
        api.deniedRounds = 2;
        const created = await provider.create(inputs());
        expect(created.outs).toEqual({ server: api.url, checks: [NAMESPACES], grants: ["grant-1"], budgetSeconds: 5 });
        expect(created.id).toMatch(new RegExp(`^${api.url.replace(/\./g, "\\.")}#access-[0-9a-f]{16}$`));
        expect(JSON.stringify(created.outs)).not.toContain("certificate-authority-data");
        expect(api.reviews).toHaveLength(3);
    });

    test("update asks again; a failure fails the update", async () => {
        api.deniedRounds = Infinity;
        const update = provider.update;
        if (update === undefined) {
            throw new Error("the provider has no update");
        }
        await expect(update("id", { server: api.url, checks: [NAMESPACES], grants: ["grant-1"], budgetSeconds: 1 }, { ...inputs(), budgetSeconds: 0.2 })).rejects.toThrow(
            "still does not let this principal create namespaces",
        );
    });

    test("diff: another server, grant, check or budget asks again; an unknown kubeconfig too; the same inputs change nothing", () => {
        const olds = { server: api.url, checks: [NAMESPACES], grants: ["grant-1"], budgetSeconds: 5 };
        expect(diffAccessWait(olds, inputs())).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(diffAccessWait(olds, { ...inputs(), grants: ["grant-2"] }).changes).toBe(true);
        expect(diffAccessWait(olds, { ...inputs(), checks: [{ ...NAMESPACES, verb: "get" }] }).changes).toBe(true);
        expect(diffAccessWait(olds, { ...inputs(), budgetSeconds: 6 }).changes).toBe(true);
        expect(diffAccessWait({ ...olds, server: "https://other:443" }, inputs()).changes).toBe(true);
        expect(diffAccessWait(olds, { ...inputs(), kubeconfig: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }).changes).toBe(true);
        expect(serverOf("not: [yaml")).toBeUndefined();
    });

    test("a change of the provider's code alone asks nothing again", () => {
        // The SDK hands a dynamic resource's diff to the new code, old and new inputs each with their
        // serialized provider (`__provider`), and takes no action of its own when only that changed.
        const olds = { server: api.url, checks: [NAMESPACES], grants: ["grant-1"], budgetSeconds: 5, __provider: "exports.handler = the old code" };
        const news = { ...inputs(), __provider: "exports.handler = the new code" };
        expect(diffAccessWait(olds, news)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        const delay = { seconds: 30, reason: "AKS uses the grant during the update", grants: ["grant-1"] };
        const oldDelay = { ...delay, __provider: "exports.handler = the old code" };
        const newDelay = { ...delay, __provider: "exports.handler = the new code" };
        expect(diffDelay(oldDelay, newDelay)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    });

    test("check refuses inputs that cannot work, and lets values unknown in preview through", () => {
        expect(checkAccessWaitInputs(inputs())).toEqual([]);
        expect(checkAccessWaitInputs({ ...inputs(), grants: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).toEqual([]);
        expect(checkAccessWaitInputs({ kubeconfig: "", checks: [], grants: "x", budgetSeconds: 0 }).map((f) => f.property)).toEqual(["kubeconfig", "checks", "grants", "budgetSeconds"]);
        expect(checkAccessWaitInputs({ ...inputs(), checks: [{ verb: "create", resource: "namespaces" }] }).map((f) => f.property)).toEqual(["checks"]);
        expect(checkAccessWaitInputs(null)).toEqual([
            { property: "kubeconfig", reason: "kubeconfig must be a non-empty string" },
            { property: "checks", reason: "checks must list at least one {verb, group, resource}" },
            { property: "grants", reason: "grants must be a list of role assignment ids" },
            { property: "budgetSeconds", reason: "budgetSeconds must be a number above 0 and at most 7200" },
        ]);
        for (const checks of [[NAMESPACES, { ...NAMESPACES, verb: "" }], [{ ...NAMESPACES, resource: 3 }], [{ ...NAMESPACES, resource: "" }]]) {
            expect(checkAccessWaitInputs({ ...inputs(), checks }).map((f) => f.property)).toEqual(["checks"]);
        }
        expect(checkAccessWaitInputs({ ...inputs(), budgetSeconds: 7200 })).toEqual([]);
        expect(checkAccessWaitInputs({ ...inputs(), budgetSeconds: 7201 }).map((f) => f.property)).toEqual(["budgetSeconds"]);
    });

    test("the provider's check passes good inputs on and names what is wrong with the others; read keeps the state as it is", async () => {
        await expect(provider.check?.(inputs(), inputs())).resolves.toEqual({ inputs: inputs() });
        const bad = { ...inputs(), budgetSeconds: 0 };
        await expect(provider.check?.(inputs(), bad)).resolves.toEqual({ inputs: bad, failures: [{ property: "budgetSeconds", reason: "budgetSeconds must be a number above 0 and at most 7200" }] });
        const outs = { server: api.url, checks: [NAMESPACES], grants: ["grant-1"], budgetSeconds: 5 };
        await expect(provider.read?.("id", outs)).resolves.toEqual({ id: "id", props: outs });
    });
});

describe("the RolePropagationDelay provider", () => {
    const slept: number[] = [];
    const provider = createDelayProvider({ sleep: async (ms) => void slept.push(ms) });
    const delay = { seconds: 30, reason: "AKS uses the grant during the update", grants: ["grant-1"] };
    beforeEach(() => {
        slept.length = 0;
    });

    test("create waits the stated seconds once the grants exist", async () => {
        const created = await provider.create(delay);
        expect(slept).toEqual([30_000]);
        expect(created).toEqual({ id: expect.stringMatching(/^role-propagation-[0-9a-f]{16}$/), outs: delay });
    });

    test("update waits again only when the grants are new", async () => {
        const update = provider.update;
        if (update === undefined) {
            throw new Error("the provider has no update");
        }
        await update("id", delay, { ...delay, reason: "reworded" });
        expect(slept).toEqual([]);
        await expect(update("id", delay, { ...delay, grants: ["grant-2"] })).resolves.toEqual({ outs: { ...delay, grants: ["grant-2"] } });
        expect(slept).toEqual([30_000]);
    });

    test("the provider's check passes good inputs on and names what is wrong with the others; read keeps the state as it is", async () => {
        await expect(provider.check?.(delay, delay)).resolves.toEqual({ inputs: delay });
        const bad = { ...delay, reason: "" };
        await expect(provider.check?.(delay, bad)).resolves.toEqual({ inputs: bad, failures: [{ property: "reason", reason: "reason must say why the delay exists" }] });
        await expect(provider.read?.("id", delay)).resolves.toEqual({ id: "id", props: delay });
    });

    test("diff and check", () => {
        expect(diffDelay(delay, delay)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(diffDelay(delay, { ...delay, grants: ["grant-1", "grant-2"] }).changes).toBe(true);
        expect(diffDelay(delay, { ...delay, seconds: 60 }).changes).toBe(true);
        expect(diffDelay(delay, { ...delay, reason: "reworded" }).changes).toBe(true);
        expect(diffDelay({ ...delay, grants: ["grant-1", "grant-2"] }, { ...delay, grants: ["grant-1", "grant-3"] }).changes).toBe(true);
        expect(checkDelayInputs(delay)).toEqual([]);
        expect(checkDelayInputs({ ...delay, grants: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).toEqual([]);
        expect(checkDelayInputs({ seconds: -1, reason: " ", grants: 3 })).toEqual([
            { property: "seconds", reason: "seconds must be a number from 0 to 3600" },
            { property: "reason", reason: "reason must say why the delay exists" },
            { property: "grants", reason: "grants must be a list of role assignment ids" },
        ]);
        expect([0, 3600].map((seconds) => checkDelayInputs({ ...delay, seconds }))).toEqual([[], []]);
        expect(checkDelayInputs({ ...delay, seconds: 3601 }).map((f) => f.property)).toEqual(["seconds"]);
    });

    test("the real provider waits with a timer", async () => {
        const started = Date.now();
        await createDelayProvider().create({ ...delay, seconds: 0.05 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    });
});
