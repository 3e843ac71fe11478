// The real-cloud test: the e2e workflow, checked by a GitHub Actions workflow validator from npm
// (@action-validator/core, GitHub's workflow schema), and `npm run e2e`'s steps run against fake
// `pulumi`, `az`, `kubelogin` and `kubectl` executables (tests/fakes/cli.ts): their order, the
// teardown after a failure, the refusal of a stack with someone else's resources, and the verdict
// summary from sample Job logs.
import { validateWorkflow } from "@action-validator/core";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { kubeconfigForAzureCli } from "../components/aksCluster";
import { BUILT_IN_ROLES } from "../components/roles";
import { kubeloginCredential } from "../tools/kubelogin";
import { userKubeconfig } from "../tools/plan/mocks";
import { FAKE_TOOLS, fakeExec, writeFakeTools, type Rule } from "./fakes/cli";
import {
    E2eOptions,
    Every,
    Exec,
    FederatedLogin,
    RENEW_LOGIN_SECONDS,
    federatedLoginFrom,
    parseE2eArgs,
    processExec,
    resourcesIn,
    runE2e,
    staleGroups,
    summaryTable,
    toolEnv,
    verdictDetail,
    verdictOf,
} from "../tools/e2e";

const ROOT = path.join(__dirname, "..");
/** The kubelogin arguments of the kubeconfig the stack gives its Kubernetes provider. */
const STACK_KUBELOGIN_ARGS = (parse(kubeconfigForAzureCli(userKubeconfig("aks-c"))) as { users: Array<{ user: { exec: { args: string[] } } }> }).users[0].user.exec.args;
/** What GitHub Actions gives a job's steps when the job may ask for ID tokens. */
const GITHUB_ID_TOKEN_RUNTIME = { ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example/?v=1", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "bearer-1" };
const WORKFLOW = fs.readFileSync(path.join(ROOT, ".github", "workflows", "e2e.yml"), "utf8");

describe("the e2e workflow", () => {
    const workflow = parse(WORKFLOW) as {
        on: Record<string, unknown> & { workflow_dispatch: { inputs: Record<string, { options: string[] }> } };
        permissions: Record<string, string>;
        jobs: Record<
            string,
            {
                "runs-on": string;
                env: Record<string, string>;
                strategy: { matrix: { mode: string } };
                concurrency: { group: string; "cancel-in-progress": boolean };
                steps: Array<Record<string, unknown>>;
            }
        >;
        env: Record<string, string>;
    };
    const job = workflow.jobs.e2e;

    test("is a valid GitHub Actions workflow, and a broken copy is not", () => {
        expect(validateWorkflow(WORKFLOW).errors).toEqual([]);
        expect(validateWorkflow(WORKFLOW.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest")).errors.length).toBeGreaterThan(0);
    });

    test("runs a private, firewalled stack on demand from the runner group inside the runners' VNet, and everything else on GitHub's hosted runners", () => {
        expect(workflow.on.workflow_dispatch.inputs.network.options).toEqual(["public", "private-firewall"]);
        expect(job["runs-on"]).toBe("${{ github.event_name == 'workflow_dispatch' && inputs.network == 'private-firewall' && fromJSON('{\"group\":\"aiv-e2e-private\"}') || 'ubuntu-latest' }}");
        expect(job.env).toMatchObject({ E2E_RUNNER_VNET_ID: "${{ vars.E2E_RUNNER_VNET_ID }}" });
    });

    test("runs on demand and nightly, per mode, the add-on and Workload ID at least", () => {
        expect(Object.keys(workflow.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
        expect(job.strategy.matrix.mode).toContain('["podIdentityAddon","workloadIdentity"]');
    });

    test("logs in with a federated credential, never a stored secret", () => {
        expect(workflow.permissions["id-token"]).toBe("write");
        const login = job.steps.find((s) => String(s.uses).startsWith("azure/login@"));
        expect(login?.with).toEqual({ "client-id": "${{ vars.AZURE_CLIENT_ID }}", "tenant-id": "${{ vars.AZURE_TENANT_ID }}", "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}" });
        expect(WORKFLOW).not.toMatch(/secrets\.|client-secret|creds:/);
    });

    test("runs the command for its mode in a stack of its own, and tears down even when a step failed", () => {
        const runs = job.steps.filter((s) => typeof s.run === "string").map((s) => ({ run: String(s.run), if: s.if }));
        const deploy = runs.find((r) => r.run.includes("--principal-type ServicePrincipal"));
        expect(deploy?.if).toBeUndefined();
        // The script as bash runs it, with npm recording its arguments: the network choice adds config.
        const argsOf = (network: string): string[] => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-e2e-step-"));
            fs.writeFileSync(path.join(dir, "npm"), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', { mode: 0o755 });
            const out = execFileSync("bash", ["-e", "-c", deploy?.run ?? "false"], {
                env: { PATH: `${dir}${path.delimiter}/usr/bin${path.delimiter}/bin`, E2E_MODE: "workloadIdentity", E2E_STACK: "e2e-wi-1-1", E2E_NETWORK: network, E2E_RUNNER_VNET_ID: "/vnet/id" },
                encoding: "utf8",
            });
            return out.trim().split("\n");
        };
        const base = ["run", "e2e", "--", "--mode", "workloadIdentity", "--stack", "e2e-wi-1-1", "--principal-type", "ServicePrincipal"];
        expect(argsOf("public")).toEqual(base);
        expect(argsOf("private-firewall")).toEqual([...base, "--config", "apiServerAccess=private", "--config", "egress=firewall", "--config", "runnerVnetId=/vnet/id"]);
        expect(runs[runs.length - 1]).toEqual({ run: 'npm run e2e -- --mode "$E2E_MODE" --stack "$E2E_STACK" --teardown-only', if: "always()" });
        expect(WORKFLOW).toMatch(/E2E_STACK: e2e-.*\$\{\{ github\.run_id \}\}-\$\{\{ github\.run_attempt \}\}/);
    });

    test("gives every step a timeout of its own, within the job's", () => {
        for (const [name, j] of Object.entries(workflow.jobs)) {
            for (const step of j.steps) {
                expect([name, step.name ?? step.uses ?? step.run, typeof step["timeout-minutes"]]).toEqual([name, step.name ?? step.uses ?? step.run, "number"]);
            }
        }
    });

    test("sweeps, on its nightly schedule only, the e2e resource groups a run left over a day ago", () => {
        const sweep = workflow.jobs.sweep as unknown as { if: string; steps: Array<Record<string, unknown>> };
        expect(sweep.if).toBe("github.event_name == 'schedule'");
        expect(sweep.steps.map((st) => st.run).filter((r) => r !== undefined)).toEqual(["npm ci --loglevel=warn", "npm run e2e -- --sweep"]);
    });

    test("never lets two runs share a stack: one run per mode at a time, none cancelled halfway", () => {
        expect(job.concurrency).toEqual({ group: "e2e-${{ matrix.mode }}", "cancel-in-progress": false });
    });
});

describe("both workflows", () => {
    const files = ["ci.yml", "e2e.yml"].map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8") }));
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    type Step = Record<string, unknown> & { with?: Record<string, unknown>; env?: Record<string, string> };
    type Job = { env?: Record<string, string>; steps: Step[] };
    const jobsOf = (text: string) => Object.entries((parse(text) as { jobs: Record<string, Job> }).jobs);

    test.each(files)("$file is a valid GitHub Actions workflow", ({ text }) => {
        expect(validateWorkflow(text).errors).toEqual([]);
    });

    test.each(files)("$file pins every action to a full commit, with its release beside it", ({ text }) => {
        const uses = [...text.matchAll(/uses: (\S+)(.*)$/gm)];
        expect(uses.length).toBeGreaterThan(0);
        for (const [, reference, comment] of uses) {
            expect([reference, comment]).toEqual([expect.stringMatching(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/), expect.stringMatching(/^ # v\d+(\.\d+)*$/)]);
        }
    });

    test.each(files)("$file installs the Pulumi CLI of the SDK's own version, never latest", ({ text }) => {
        const versions = [...text.matchAll(/pulumi-version: (\S+)/g)].map((m) => m[1]);
        expect(versions.length).toBeGreaterThan(0);
        expect(new Set(versions)).toEqual(new Set([lock.packages["node_modules/@pulumi/pulumi"].version]));
    });

    test.each(files)("$file writes no ${{ }} expression inside a script", ({ text }) => {
        for (const [, job] of jobsOf(text)) {
            for (const step of job.steps) {
                expect(String(step.run ?? "")).not.toContain("${{");
            }
        }
    });

    test.each(files)("$file gives azure-native GitHub's own OIDC, which it renews, for the whole run", ({ text }) => {
        const env = { ...((parse(text) as { env?: Record<string, string> }).env ?? {}) };
        for (const [, job] of jobsOf(text)) {
            if (job.steps.some((s) => String(s.uses).startsWith("azure/login@"))) {
                expect({ ...env, ...job.env }).toMatchObject({ ARM_USE_OIDC: "true", ARM_CLIENT_ID: "${{ vars.AZURE_CLIENT_ID }}", ARM_TENANT_ID: "${{ vars.AZURE_TENANT_ID }}" });
            }
        }
    });

    test.each(files)("$file: kubelogin, whatever login the stack's kubeconfig names, asks GitHub for a new ID token itself in every job that installs it", ({ text }) => {
        const workflow = parse(text) as { env?: Record<string, string>; permissions?: Record<string, string> };
        const jobs = jobsOf(text).filter(([, job]) => job.steps.some((s) => String(s.uses).startsWith("azure/use-kubelogin@")));
        expect(jobs.length).toBeGreaterThan(0);
        expect(STACK_KUBELOGIN_ARGS).toEqual(expect.arrayContaining(["--login", "azurecli"]));
        for (const [name, job] of jobs) {
            const permissions = { ...workflow.permissions, ...(job as { permissions?: Record<string, string> }).permissions };
            expect([name, permissions["id-token"]]).toEqual([name, "write"]);
            const env: Record<string, string | undefined> = { ...workflow.env, ...job.env, ...GITHUB_ID_TOKEN_RUNTIME };
            expect([name, kubeloginCredential(STACK_KUBELOGIN_ARGS, env)]).toEqual([name, { login: "workloadidentity", credential: "githubActions" }]);
            // kubelogin's identity is the one azure-native and the Azure CLI log in as.
            expect([name, env.AZURE_CLIENT_ID, env.AZURE_TENANT_ID]).toEqual([name, env.ARM_CLIENT_ID, env.ARM_TENANT_ID]);
            // The version installed has the GitHub Actions credential (Azure/kubelogin v0.2.0 and later).
            const installed = job.steps.find((s) => String(s.uses).startsWith("azure/use-kubelogin@"))?.with?.["kubelogin-version"];
            expect(String(installed)).toMatch(/^v0\.2\.\d+$/);
        }
    });

    test("the pull request's preview reads the shared state: PULUMI_BACKEND_URL, which wins over Pulumi.yaml's file backend; no cloud-url login, which does not", () => {
        const preview = jobsOf(files[0].text).find(([name]) => name === "preview")?.[1];
        expect(preview?.env?.PULUMI_BACKEND_URL).toBe("${{ vars.PULUMI_BACKEND_URL }}");
        const pulumi = preview?.steps.find((st) => String(st.uses).startsWith("pulumi/actions@"));
        expect(pulumi?.with).not.toHaveProperty("cloud-url");
        expect(pulumi?.with).toMatchObject({ command: "preview", "stack-name": "dev", refresh: true });
    });
});

describe("npm run e2e's arguments", () => {
    test("a mode is required, and the stack, location and principal type have defaults", () => {
        const options = parseE2eArgs(["--mode", "workloadIdentity"], { GITHUB_RUN_ID: "42" });
        expect(options).toEqual({
            mode: "workloadIdentity",
            stack: "e2e-workloadiden-42-1",
            location: "uksouth",
            principalType: "User",
            yes: false,
            teardownOnly: false,
            runId: "42-1",
            startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
            sweep: false,
            config: [],
        });
        expect(parseE2eArgs(["--mode", "workloadIdentity", "--config", "apiServerAccess=private", "--config", "runnerVnetId=/subscriptions/x/y=z"], {})).toMatchObject({
            config: [
                ["apiServerAccess", "private"],
                ["runnerVnetId", "/subscriptions/x/y=z"],
            ],
        });
        expect(parseE2eArgs(["--mode", "podIdentityAddon", "--stack", "e2e-x", "--yes", "--principal-type", "ServicePrincipal"], {})).toMatchObject({
            stack: "e2e-x",
            yes: true,
            principalType: "ServicePrincipal",
        });
    });

    test.each([
        [[], /^--mode must be one of podIdentityAddon, podIdentityOss, workloadIdentity\. usage:/],
        [["--mode", "pods"], /^--mode must be one of .* \(got "pods"\)/],
        [["--mode", "workloadIdentity", "--stack"], /^--stack needs a value/],
        [["--mode", "workloadIdentity", "--force"], /^unknown argument "--force"/],
        [["--mode", "workloadIdentity", "--principal-type", "Robot"], /^--principal-type must be one of User, ServicePrincipal, Group \(got "Robot"\)/],
        [["--mode", "workloadIdentity", "--stack", "!!"], /^--stack: Invalid stack name "!!"/],
        [["--mode", "workloadIdentity", "--config", "egress"], /^--config needs key=value with a key of the stack's config other than identityMode, deployerPrincipalType, tags \(got "egress"\)/],
        [["--mode", "workloadIdentity", "--config", "nosuchkey=1"], /^--config needs key=value/],
        [["--mode", "workloadIdentity", "--config", "identityMode=podIdentityOss"], /^--config needs key=value/],
    ])("%j is refused in one line", (argv, message) => {
        const result = parseE2eArgs(argv, {});
        expect("error" in result && result.error).toMatch(message);
    });
});

describe("verdicts and the summary", () => {
    const pass = {
        verdict: "pass",
        mode: "bound",
        secretSha256Prefix: "3f5b2c9a1d7e",
        privatePath: { subnet: "10.76.2.0/26", hosts: { "kv.vault.azure.net": { addresses: ["10.76.2.5"] }, "st.blob.core.windows.net": { addresses: ["10.76.2.4"] } } },
        canary: { secret: "refused", containerRead: "refused", containerWrite: "refused" },
    };

    test("a Job's verdict is the last JSON line of its log with a verdict", () => {
        expect(verdictOf(`progress\n${JSON.stringify(pass)}\n`)).toEqual(pass);
        expect(verdictOf('{"other":1}\nnot json\n')).toBeUndefined();
    });

    test("the detail says what each verdict proved, or where it failed", () => {
        expect(verdictDetail(pass)).toBe("secret 3f5b2c9a1d7e mounted and synced; private path 10.76.2.5, 10.76.2.4; canary secret refused, container refused/refused");
        expect(verdictDetail({ ...pass, canary: { ...pass.canary, secret: "readable by design: access policies ..." } })).toContain("canary secret readable by design,");
        expect(verdictDetail({ verdict: "pass", mode: "unbound", refusal: "HTTP 403 Forbidden" })).toBe("refused: HTTP 403 Forbidden");
        expect(verdictDetail({ verdict: "fail", step: "canary", error: "Key Vault let this identity read the canary" })).toBe("step canary: Key Vault let this identity read the canary");
    });

    test("the summary is a Markdown table, a row per Job", () => {
        expect(summaryTable([{ workload: "alpha", job: "alpha-verify-bound", verdict: "pass", detail: "a | b" }])).toBe(
            "| workload | job | verdict | detail |\n| --- | --- | --- | --- |\n| alpha | alpha-verify-bound | pass | a \\| b |\n",
        );
    });

    test("a stack's resources are counted without the stack and its providers", () => {
        const exported = JSON.stringify({ deployment: { resources: [{ type: "pulumi:pulumi:Stack" }, { type: "pulumi:providers:azure-native" }, { type: "azure-native:resources:ResourceGroup" }] } });
        expect(resourcesIn(exported)).toBe(1);
        expect(resourcesIn('{"version":3,"deployment":{}}')).toBe(0);
    });
});

// ---------------------------------------------------------------------------------------------
// The command against fake executables

const STACK = "e2e-test-1";
const STARTED = "2026-12-04T02:23:00Z";
/** The clock the sweep reads: a day and a half after STARTED. */
const NOW = new Date("2026-12-05T14:23:00Z");
const BOUND_PASS = JSON.stringify({
    verdict: "pass",
    mode: "bound",
    workload: "alpha",
    secretSha256Prefix: "3f5b2c9a1d7e",
    privatePath: { subnet: "10.76.2.0/26", hosts: { "kv.vault.azure.net": { addresses: ["10.76.2.5"] } } },
    canary: { secret: "refused", containerRead: "refused", containerWrite: "refused" },
});
const UNBOUND_PASS = JSON.stringify({ verdict: "pass", mode: "unbound", workload: "alpha", refusal: "HTTP 403 Forbidden (no AzureIdentityBinding)" });
const IMPOSTOR_PASS = JSON.stringify({
    verdict: "pass",
    mode: "impostor",
    workload: "alpha",
    attempts: [{ attempt: "tokenExchange", status: 401, refusedBy: "Entra ID", code: "AADSTS700213" }],
});
const OUTPUTS = JSON.stringify({
    resourceGroupName: "rg-aiv-e2e-test-1",
    clusterName: "aks-aiv-e2e-test-1",
    impostorNamespace: "aiv-impostor",
    workloads: { alpha: { namespace: "alpha", verifierJobs: ["alpha-verify-bound", "alpha-verify-unbound"], impostorJob: "alpha-verify-impostor" } },
});
/** A world in which everything works: an empty new stack, passing Jobs, no drift, the group gone. */
const HAPPY: Rule[] = [
    { tool: "pulumi", args: ["config", "get", "e2e:run"], code: 1, stderr: "error: configuration key 'e2e:run' not found" },
    { tool: "pulumi", args: ["stack", "export"], stdout: JSON.stringify({ version: 3, deployment: { resources: [] } }) },
    { tool: "pulumi", args: ["stack", "output"], stdout: OUTPUTS },
    { tool: "az", args: ["group", "exists"], stdout: "false\n" },
];

interface Run {
    code: number;
    calls: string[];
    output: string;
}

/** `text` with the run's kubeconfig, which lives in a temporary folder of its own, as `<kubeconfig>`. */
const withoutKubeconfigFolder = (text: string): string => text.replace(/\/\S*aiv-e2e-[^/]+\/kubeconfig/g, "<kubeconfig>");

/** How a test's tools are run: as processes on the PATH (the fake executables), or answered in this process. */
type Tools = "processes" | "in-process";

/**
 * Runs the command with `options` against fake tools answering by `rules` (first match wins), in
 * this process unless `how` asks for the fake executables, which processExec starts as the real
 * command starts the real tools.
 */
async function runAgainstFakes(
    rules: Rule[],
    options: Partial<E2eOptions> = {},
    login?: FederatedLogin,
    tools: readonly string[] = FAKE_TOOLS,
    every?: Every,
    how: Tools = "in-process",
): Promise<Run> {
    // The fake executables, their answers and their log live in a folder of the run's own.
    const dir = how === "processes" ? fs.mkdtempSync(path.join(os.tmpdir(), "aiv-e2e-test-")) : undefined;
    const log = dir === undefined ? undefined : path.join(dir, "calls.log");
    const inProcess: string[] = [];
    let exec: Exec;
    if (dir !== undefined && log !== undefined) {
        const bin = path.join(dir, "bin");
        fs.writeFileSync(log, "");
        writeFakeTools(bin, log, rules, tools);
        // Only the fakes, and what a shell script needs: a tool left out is not on the PATH.
        exec = processExec(dir, { PATH: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin` });
    } else {
        exec = fakeExec(rules, inProcess, tools);
    }
    let output = "";
    const code = await runE2e(
        {
            mode: "workloadIdentity",
            stack: STACK,
            location: "uksouth",
            principalType: "ServicePrincipal",
            yes: false,
            teardownOnly: false,
            runId: "42-1",
            startedAt: STARTED,
            sweep: false,
            config: [],
            ...options,
        },
        exec,
        { write: (text) => (output += text) },
        login,
        () => NOW,
        every,
    );
    const logged = log === undefined ? inProcess : fs.readFileSync(log, "utf8").split("\n");
    const calls = logged.filter((l) => l !== "").map(withoutKubeconfigFolder);
    if (dir !== undefined) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return { code, calls, output };
}

const S = ["--stack", STACK, "--non-interactive"];
const TEARDOWN = [
    `pulumi state unprotect --all --yes ${S.join(" ")}`,
    `pulumi destroy --yes --skip-preview ${S.join(" ")}`,
    `pulumi stack rm --yes ${S.join(" ")}`,
    "az group exists --name rg-aiv-e2e-test-1",
];

describe("npm run e2e against fake executables", () => {
    /** Rules whose kubectl answers `bound` for the bound Job's logs and `unbound` for the unbound one's. */
    function world(bound: string, unbound: string, overrides: Rule[] = []): Rule[] {
        return [
            ...overrides,
            { tool: "kubectl", args: [], includes: "job/alpha-verify-bound", stdout: bound },
            { tool: "kubectl", args: [], includes: "job/alpha-verify-unbound", stdout: unbound },
            { tool: "kubectl", args: [], includes: "job/alpha-verify-impostor", stdout: `${IMPOSTOR_PASS}\n` },
            ...HAPPY,
        ];
    }

    test.each<[string, Rule[], readonly string[]]>([
        ["a run that passes", world(`verifying\n${BOUND_PASS}\n`, `${UNBOUND_PASS}\n`), FAKE_TOOLS],
        [
            "a destroy that fails without the Azure CLI on the PATH",
            world(BOUND_PASS, UNBOUND_PASS, [{ tool: "pulumi", args: ["destroy"], code: 255, stderr: "error: deleting failed" }]),
            ["pulumi", "kubelogin", "kubectl"],
        ],
    ])("the fake executables, started by processExec as the command starts the real tools, answer %s as the in-process fakes do", async (_what, rules, tools) => {
        const started = await runAgainstFakes(rules, {}, undefined, tools, undefined, "processes");
        const answered = await runAgainstFakes(rules, {}, undefined, tools);
        expect(started.calls.length).toBeGreaterThan(5);
        expect({ ...answered, output: withoutKubeconfigFolder(answered.output) }).toEqual({ ...started, output: withoutKubeconfigFolder(started.output) });
    });

    test("runs every step in order, reads each Job's verdict and tears down", async () => {
        const run = await runAgainstFakes(world(`verifying\n${BOUND_PASS}\n`, `${UNBOUND_PASS}\n`));
        expect(run.calls).toEqual([
            `pulumi stack select --create ${STACK} --non-interactive`,
            `pulumi config get e2e:run ${S.join(" ")}`,
            `pulumi stack export ${S.join(" ")}`,
            `pulumi config set e2e:run 42-1 ${S.join(" ")}`,
            `pulumi config set azure-native:location uksouth ${S.join(" ")}`,
            `pulumi config set identityMode workloadIdentity ${S.join(" ")}`,
            `pulumi config set deployerPrincipalType ServicePrincipal ${S.join(" ")}`,
            `pulumi config set tags {"e2eStarted":"${STARTED}","e2eRun":"42-1"} ${S.join(" ")}`,
            `pulumi up --yes --skip-preview ${S.join(" ")}`,
            `pulumi stack output --json --show-secrets=false ${S.join(" ")}`,
            "az aks get-credentials --resource-group rg-aiv-e2e-test-1 --name aks-aiv-e2e-test-1 --file <kubeconfig> --overwrite-existing",
            "kubelogin convert-kubeconfig -l azurecli --kubeconfig <kubeconfig>",
            "kubectl --kubeconfig <kubeconfig> logs -n alpha job/alpha-verify-bound",
            "kubectl --kubeconfig <kubeconfig> logs -n alpha job/alpha-verify-unbound",
            "kubectl --kubeconfig <kubeconfig> logs -n aiv-impostor job/alpha-verify-impostor",
            `pulumi preview --expect-no-changes --diff ${S.join(" ")}`,
            `pulumi refresh --yes --skip-preview ${S.join(" ")}`,
            `pulumi preview --expect-no-changes --diff ${S.join(" ")}`,
            ...TEARDOWN,
        ]);
        expect(run.code).toBe(0);
        expect(run.output).toContain("| alpha | alpha-verify-bound | pass | secret 3f5b2c9a1d7e mounted and synced; private path 10.76.2.5; canary secret refused, container refused/refused |");
        expect(run.output).toContain("| alpha | alpha-verify-unbound | pass | refused: HTTP 403 Forbidden (no AzureIdentityBinding) |");
        expect(run.output).toContain("| alpha | alpha-verify-impostor | pass | tokenExchange refused by Entra ID (AADSTS700213) |");
        expect(run.output).toMatch(/e2e workloadIdentity: passed\n$/);
    });

    test("a private, firewalled run sets its network choices and the runners' VNet before pulumi up, and its bound verdict says egress denied", async () => {
        const runners = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-runners/providers/Microsoft.Network/virtualNetworks/vnet-runners";
        const firewalled = JSON.stringify({ ...JSON.parse(BOUND_PASS), egress: "denied", egressProbe: "1.1.1.1:443", egressRefusal: "ECONNRESET" });
        const run = await runAgainstFakes(world(`${firewalled}\n`, `${UNBOUND_PASS}\n`), {
            config: [
                ["apiServerAccess", "private"],
                ["egress", "firewall"],
                ["runnerVnetId", runners],
            ],
        });
        const up = run.calls.indexOf(`pulumi up --yes --skip-preview ${S.join(" ")}`);
        expect(run.calls.slice(up - 3, up)).toEqual([
            `pulumi config set apiServerAccess private ${S.join(" ")}`,
            `pulumi config set egress firewall ${S.join(" ")}`,
            `pulumi config set runnerVnetId ${runners} ${S.join(" ")}`,
        ]);
        expect(run.output).toContain("egress denied (1.1.1.1:443: ECONNRESET) |");
        expect(run.code).toBe(0);
    });

    test("a failed pulumi up still tears everything down, and the run fails", async () => {
        const run = await runAgainstFakes(world(BOUND_PASS, UNBOUND_PASS, [{ tool: "pulumi", args: ["up"], code: 255, stderr: "error: update failed" }]));
        expect(run.code).toBe(1);
        expect(run.calls.slice(run.calls.indexOf(`pulumi up --yes --skip-preview ${S.join(" ")}`) + 1)).toEqual(TEARDOWN);
        expect(run.calls.some((c) => c.startsWith("kubectl"))).toBe(false);
        expect(run.output).toContain("failed (exit 255): error: update failed");
        expect(run.output).toMatch(/e2e workloadIdentity: FAILED: pulumi up\n$/);
    });

    test("a failing verdict fails the run after the rest, with the step in the summary", async () => {
        const failed = JSON.stringify({ verdict: "fail", mode: "bound", step: "canary", error: "Key Vault let this identity read the canary secret canary" });
        const run = await runAgainstFakes(world(failed, UNBOUND_PASS));
        expect(run.code).toBe(1);
        expect(run.output).toContain("| alpha | alpha-verify-bound | fail | step canary: Key Vault let this identity read the canary secret canary |");
        expect(run.calls.slice(-4)).toEqual(TEARDOWN);
        expect(run.output).toMatch(/FAILED: verdicts\n$/);
    });

    test("a Job without a verdict line is a failure too", async () => {
        const run = await runAgainstFakes(world("", UNBOUND_PASS));
        expect(run.code).toBe(1);
        expect(run.output).toContain("| alpha | alpha-verify-bound | missing | no verdict line (the log has none) |");
    });

    test("a preview that shows changes after up fails the run (drift)", async () => {
        const run = await runAgainstFakes(world(BOUND_PASS, UNBOUND_PASS, [{ tool: "pulumi", args: ["preview"], code: 255, stderr: "error: no changes were expected but changes were proposed" }]));
        expect(run.code).toBe(1);
        expect(run.output).toMatch(/FAILED: preview after up, preview after refresh\n$/);
        expect(run.calls.slice(-4)).toEqual(TEARDOWN);
    });

    test("a resource group left behind fails the run and says how to remove it", async () => {
        const run = await runAgainstFakes(world(BOUND_PASS, UNBOUND_PASS, [{ tool: "az", args: ["group", "exists"], stdout: "true\n" }]));
        expect(run.code).toBe(1);
        expect(run.output).toContain("rg-aiv-e2e-test-1 still exists: delete it by hand (az group delete --name rg-aiv-e2e-test-1)");
        expect(run.output).toMatch(/FAILED: teardown\n$/);
    });

    const foreign: Rule[] = [
        {
            tool: "pulumi",
            args: ["stack", "export"],
            stdout: JSON.stringify({ deployment: { resources: [{ type: "pulumi:pulumi:Stack" }, { type: "azure-native:resources:ResourceGroup" }, { type: "azure-native:keyvault:Vault" }] } }),
        },
    ];

    test("refuses, without --yes, a stack that has resources it did not create, and touches nothing", async () => {
        const run = await runAgainstFakes(world(BOUND_PASS, UNBOUND_PASS, foreign));
        expect(run.code).toBe(2);
        expect(run.output).toContain(`e2e: refusing: stack ${STACK} already has 2 resources this command did not create, and the run ends by destroying them; pass --yes`);
        expect(run.calls).toEqual([`pulumi stack select --create ${STACK} --non-interactive`, `pulumi config get e2e:run ${S.join(" ")}`, `pulumi stack export ${S.join(" ")}`]);
    });

    test("runs against such a stack with --yes, and against its own leftovers without it", async () => {
        const withYes = await runAgainstFakes(world(BOUND_PASS, UNBOUND_PASS, foreign), { yes: true });
        expect(withYes.code).toBe(0);
        expect(withYes.calls).toContain(`pulumi up --yes --skip-preview ${S.join(" ")}`);
        const own = await runAgainstFakes(world(BOUND_PASS, UNBOUND_PASS, [{ tool: "pulumi", args: ["config", "get", "e2e:run"], stdout: "41-1\n" }, ...foreign]));
        expect(own.code).toBe(0);
    });

    test("--teardown-only tears the stack down, or checks only the group when there is no stack", async () => {
        const teardown = await runAgainstFakes(HAPPY, { teardownOnly: true });
        expect(teardown.calls).toEqual([`pulumi stack select ${STACK} --non-interactive`, ...TEARDOWN]);
        expect(teardown.code).toBe(0);
        const none = await runAgainstFakes([{ tool: "pulumi", args: ["stack", "select"], code: 255, stderr: "error: no stack named" }, ...HAPPY], { teardownOnly: true });
        expect(none.calls).toEqual([`pulumi stack select ${STACK} --non-interactive`, "az group exists --name rg-aiv-e2e-test-1"]);
        expect(none.code).toBe(0);
    });
});

describe("the teardown a team can rely on", () => {
    const LOGIN: FederatedLogin = {
        clientId: "client-1",
        tenantId: "tenant-1",
        subscriptionId: "sub-1",
        token: async () => "github-id-token-secret",
        tokenFile: path.join(os.tmpdir(), `aiv-e2e-test-token-${process.pid}`),
    };
    const happy = (overrides: Rule[] = []): Rule[] => [
        ...overrides,
        { tool: "kubectl", args: [], includes: "job/alpha-verify-bound", stdout: `${BOUND_PASS}\n` },
        { tool: "kubectl", args: [], includes: "job/alpha-verify-unbound", stdout: `${UNBOUND_PASS}\n` },
        { tool: "kubectl", args: [], includes: "job/alpha-verify-impostor", stdout: `${IMPOSTOR_PASS}\n` },
        ...HAPPY,
    ];

    test("in GitHub Actions, logs the Azure CLI in again with a fresh token before the teardown, and never prints the token", async () => {
        const run = await runAgainstFakes(happy(), {}, LOGIN);
        const login = run.calls.lastIndexOf("az login --service-principal --username client-1 --tenant tenant-1 --federated-token github-id-token-secret --output none");
        expect(login).toBeGreaterThan(run.calls.indexOf(`pulumi refresh --yes --skip-preview ${S.join(" ")}`));
        expect(run.calls.slice(login + 1, login + 3)).toEqual(["az account set --subscription sub-1", TEARDOWN[0]]);
        expect(run.output).toContain("--federated-token *** --output none");
        expect(run.output).not.toContain("github-id-token-secret");
        expect(run.code).toBe(0);
    });

    test("while the steps run, the login is renewed every two minutes: a new token in the token file and the Azure CLI logged in with it, quietly", async () => {
        let tokens = 0;
        const login: FederatedLogin = { ...LOGIN, token: async () => `token-${++tokens}` };
        const ticks: Array<() => Promise<void>> = [];
        let stopped = false;
        const every: Every = (seconds, task) => {
            expect(seconds).toBe(RENEW_LOGIN_SECONDS);
            ticks.push(task);
            return () => {
                stopped = true;
            };
        };
        const renewAt = happy([{ tool: "pulumi", args: ["up"], stdout: "updated\n" }]);
        const run = await runAgainstFakes(renewAt, {}, login, undefined, every);
        // Once before the first step of the test, then on each tick the timer would give.
        const renewals = () => run.calls.filter((c) => /^az login .* --federated-token token-\d+ --output none$/.test(c));
        expect(renewals()[0]).toContain("--federated-token token-1");
        expect(run.calls.indexOf(renewals()[0])).toBeLessThan(run.calls.indexOf(`pulumi up --yes --skip-preview ${S.join(" ")}`));
        expect(ticks).toHaveLength(1);
        expect(stopped).toBe(true);
        expect(fs.readFileSync(login.tokenFile, "utf8")).toMatch(/^token-\d+$/);
        expect(run.output).not.toMatch(/token-\d/);
        await ticks[0]();
        expect(fs.readFileSync(login.tokenFile, "utf8")).toBe(`token-${tokens}`);
        fs.rmSync(login.tokenFile, { force: true });
    });

    test("a destroy that fails deletes the run's resource group, then checks that it is gone", async () => {
        const run = await runAgainstFakes(happy([{ tool: "pulumi", args: ["destroy"], code: 255, stderr: "error: deleting failed" }]));
        expect(run.calls.slice(-3)).toEqual([TEARDOWN[1], "az group delete --name rg-aiv-e2e-test-1 --yes", TEARDOWN[3]]);
        expect(run.code).toBe(1);
        expect(run.output).toMatch(/FAILED: teardown\n$/);
    });

    test("without the Azure CLI, the teardown says it could not check the resource group, rather than to delete it by hand", async () => {
        const run = await runAgainstFakes(happy(), { teardownOnly: true }, undefined, ["pulumi", "kubelogin", "kubectl"]);
        expect(run.output).toContain("e2e: the Azure CLI is not on the PATH, so whether rg-aiv-e2e-test-1 is gone was not checked.");
        expect(run.output).not.toContain("delete it by hand");
        expect(run.code).toBe(1);
    });

    test("a preview that shows changes prints its diff, not only its last lines", async () => {
        const diff = "~ azure-native:containerservice:ManagedCluster aks-cluster update [diff: ~agentPoolProfiles]\n    ~ count: 2 => 4\nResources:\n    ~ 1 to update\n";
        const run = await runAgainstFakes(happy([{ tool: "pulumi", args: ["preview"], code: 255, stdout: diff, stderr: "error: no changes were expected but changes were proposed\n" }]));
        expect(run.output).toContain(`failed (exit 255); its output:\n${diff}error: no changes were expected`);
        expect(run.code).toBe(1);
    });

    test("every resource of a run carries when it started, which the sweep reads", async () => {
        const run = await runAgainstFakes(happy());
        expect(run.calls).toContain(`pulumi config set tags {"e2eStarted":"${STARTED}","e2eRun":"42-1"} ${S.join(" ")}`);
    });

    test("the sweep deletes the e2e resource groups a run started over a day ago, and nothing else", async () => {
        const listed = JSON.stringify([
            { name: "rg-aiv-e2e-old-1", tags: { e2eStarted: "2026-12-04T02:00:00Z" } },
            { name: "rg-aiv-e2e-fresh-1", tags: { e2eStarted: "2026-12-05T10:00:00Z" } },
            { name: "rg-aiv-e2e-untagged", tags: null },
            { name: "rg-aiv-prod", tags: { e2eStarted: "2020-01-01T00:00:00Z" } },
        ]);
        expect(staleGroups(listed, NOW)).toEqual(["rg-aiv-e2e-old-1"]);
        const run = await runAgainstFakes([{ tool: "az", args: ["group", "list"], stdout: listed }], { sweep: true }, LOGIN);
        expect(run.calls).toEqual([
            "az login --service-principal --username client-1 --tenant tenant-1 --federated-token github-id-token-secret --output none",
            "az account set --subscription sub-1",
            "az group list --query [?starts_with(name, 'rg-aiv-e2e-')].{name:name, tags:tags} --output json",
            "az group delete --name rg-aiv-e2e-old-1 --yes --no-wait",
        ]);
        expect(run.output).toContain("e2e sweep: deleting 1 of 1: rg-aiv-e2e-old-1");
        expect(run.code).toBe(0);
    });

    test("the fresh login is offered only inside GitHub Actions with the identity named, and asks GitHub for the exchange audience", async () => {
        expect(federatedLoginFrom({})).toBeUndefined();
        const asked: string[] = [];
        const env = {
            ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example/?v=1",
            ACTIONS_ID_TOKEN_REQUEST_TOKEN: "bearer-1",
            ARM_CLIENT_ID: "c",
            ARM_TENANT_ID: "t",
            ARM_SUBSCRIPTION_ID: "s",
        };
        const login = federatedLoginFrom(env, async (url, bearer) => {
            asked.push(`${url} ${bearer}`);
            return { status: 200, body: JSON.stringify({ value: "fresh" }) };
        });
        expect(await login?.token()).toBe("fresh");
        expect(asked).toEqual(["https://token.actions.example/?v=1&audience=api%3A%2F%2FAzureADTokenExchange bearer-1"]);
        expect(federatedLoginFrom({ ...env, ARM_CLIENT_ID: undefined })).toBeUndefined();
    });

    test("in GitHub Actions the tools a run starts have kubelogin ask GitHub itself, and outside it the environment is left alone", () => {
        const env = { ...GITHUB_ID_TOKEN_RUNTIME, ARM_CLIENT_ID: "c", ARM_TENANT_ID: "t", ARM_SUBSCRIPTION_ID: "s" };
        const login = federatedLoginFrom(env, async () => ({ status: 200, body: "{}" }), "/tmp/token");
        const tools = toolEnv(env, login);
        expect(kubeloginCredential(STACK_KUBELOGIN_ARGS, tools)).toEqual({ login: "workloadidentity", credential: "githubActions" });
        expect(tools).toMatchObject({ AZURE_CLIENT_ID: "c", AZURE_TENANT_ID: "t", AZURE_FEDERATED_TOKEN_FILE: "/tmp/token" });
        const laptop = { PATH: "/usr/bin" };
        expect(toolEnv(laptop, undefined)).toBe(laptop);
        expect(kubeloginCredential(STACK_KUBELOGIN_ARGS, laptop)).toEqual({ login: "azurecli", credential: "azureCli" });
    });
});

test("docs/e2e.md's condition lets the e2e principal assign exactly the built-in roles the stack grants", () => {
    const doc = fs.readFileSync(path.join(ROOT, "docs", "e2e.md"), "utf8");
    const lists = [...doc.matchAll(/GuidEquals \{([^}]+)\}/g)].map((m) => m[1].split(",").map((id) => id.trim()));
    expect(lists).toHaveLength(2);
    for (const ids of lists) {
        expect([...ids].sort()).toEqual(Object.values(BUILT_IN_ROLES).sort());
    }
});
