// The real-cloud test: the e2e workflow, checked by a GitHub Actions workflow validator from npm
// (@action-validator/core, GitHub's workflow schema), and `npm run e2e`'s steps run against fake
// `pulumi`, `az`, `kubelogin` and `kubectl` executables (tests/fakes/cli.ts): their order, the
// teardown after a failure, the refusal of a stack with someone else's resources, and the verdict
// summary from sample Job logs.
import { validateWorkflow } from "@action-validator/core";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { writeFakeTools, type Rule } from "./fakes/cli";
import { E2eOptions, parseE2eArgs, processExec, resourcesIn, runE2e, summaryTable, verdictDetail, verdictOf } from "../tools/e2e";

const ROOT = path.join(__dirname, "..");
const WORKFLOW = fs.readFileSync(path.join(ROOT, ".github", "workflows", "e2e.yml"), "utf8");

describe("the e2e workflow", () => {
    const workflow = parse(WORKFLOW) as {
        on: Record<string, unknown>;
        permissions: Record<string, string>;
        jobs: Record<string, { strategy: { matrix: { mode: string } }; concurrency: { group: string; "cancel-in-progress": boolean }; steps: Array<Record<string, unknown>> }>;
    };
    const job = workflow.jobs.e2e;

    test("is a valid GitHub Actions workflow, and a broken copy is not", () => {
        expect(validateWorkflow(WORKFLOW).errors).toEqual([]);
        expect(validateWorkflow(WORKFLOW.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest")).errors.length).toBeGreaterThan(0);
    });

    test("runs on demand and nightly, per mode, the add-on and Workload ID at least", () => {
        expect(Object.keys(workflow.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
        expect(job.strategy.matrix.mode).toContain('["podIdentityAddon","workloadIdentity"]');
    });

    test("logs in with a federated credential, never a stored secret", () => {
        expect(workflow.permissions["id-token"]).toBe("write");
        const login = job.steps.find((s) => s.uses === "azure/login@v2");
        expect(login?.with).toEqual({ "client-id": "${{ vars.AZURE_CLIENT_ID }}", "tenant-id": "${{ vars.AZURE_TENANT_ID }}", "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}" });
        expect(WORKFLOW).not.toMatch(/secrets\.|client-secret|creds:/);
    });

    test("runs the command for its mode in a stack of its own, and tears down even when a step failed", () => {
        const runs = job.steps.filter((s) => typeof s.run === "string").map((s) => ({ run: String(s.run), if: s.if }));
        expect(runs).toContainEqual({ run: 'npm run e2e -- --mode ${{ matrix.mode }} --stack "$E2E_STACK" --principal-type ServicePrincipal', if: undefined });
        expect(runs[runs.length - 1]).toEqual({ run: 'npm run e2e -- --mode ${{ matrix.mode }} --stack "$E2E_STACK" --teardown-only', if: "always()" });
        expect(WORKFLOW).toMatch(/E2E_STACK: e2e-.*\$\{\{ github\.run_id \}\}-\$\{\{ github\.run_attempt \}\}/);
    });

    test("never lets two runs share a stack: one run per mode at a time, none cancelled halfway", () => {
        expect(job.concurrency).toEqual({ group: "e2e-${{ matrix.mode }}", "cancel-in-progress": false });
    });
});

describe("npm run e2e's arguments", () => {
    test("a mode is required, and the stack, location and principal type have defaults", () => {
        const options = parseE2eArgs(["--mode", "workloadIdentity"], { GITHUB_RUN_ID: "42" });
        expect(options).toEqual({ mode: "workloadIdentity", stack: "e2e-workloadiden-42-1", location: "uksouth", principalType: "User", yes: false, teardownOnly: false, runId: "42-1" });
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

/** Runs the command with `options` against fake tools answering by `rules` (first match wins). */
async function runAgainstFakes(rules: Rule[], options: Partial<E2eOptions> = {}): Promise<Run> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-e2e-test-"));
    const bin = path.join(dir, "bin");
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(log, "");
    writeFakeTools(bin, log, rules);
    const exec = processExec(dir, { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` });
    let output = "";
    const code = await runE2e({ mode: "workloadIdentity", stack: STACK, location: "uksouth", principalType: "ServicePrincipal", yes: false, teardownOnly: false, runId: "42-1", ...options }, exec, {
        write: (text) => (output += text),
    });
    const calls = fs
        .readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        // The kubeconfig lives in a temporary folder of its own.
        .map((l) => l.replace(/\/\S*aiv-e2e-[^/]+\/kubeconfig/g, "<kubeconfig>"));
    fs.rmSync(dir, { recursive: true, force: true });
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
