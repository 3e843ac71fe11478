// `npm run e2e -- --mode <identityMode>`: the real-cloud test, as the e2e workflow runs it and as an
// operator can: a throwaway stack from empty, `pulumi up`, every verification Job's verdict, a second
// preview that must show no change, `pulumi refresh` and a preview that must show none either, then
// teardown (unprotect, destroy, remove the stack) whatever happened before, and a check that the
// resource group is gone. It drives the `pulumi`, `az`, `kubelogin` and `kubectl` executables on the
// PATH, and prints a progress line per step and a table of the verdicts at the end.
//
// A stack this command creates carries the config value `e2e:run`; it refuses, without `--yes`, a
// stack that already has resources and no such mark: those are someone else's.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gitHubOidcAssertion } from "../components/modes/podIdentityAddon/arm";
import type { Environment } from "../components/modes/podIdentityAddon/arm";
import { baseNameForStack, CONFIG_KEYS, IDENTITY_MODES, PRINCIPAL_TYPES } from "../config";
import type { IdentityMode, PrincipalType } from "../config";
import { kubeloginSelfRenewingEnv } from "./kubelogin";

/** What one run is asked to do. */
export interface E2eOptions {
    mode: IdentityMode;
    stack: string;
    location: string;
    principalType: PrincipalType;
    /** Run against a stack that already has resources this command did not create (they are destroyed at the end). */
    yes: boolean;
    /** Only tear the stack down (the workflow's always-run step after a cancelled or crashed run). */
    teardownOnly: boolean;
    /** Marks the stack as this command's: the workflow's run id, or the time. */
    runId: string;
    /** When the run started (RFC 3339), tagged on every resource it creates for the sweeper. */
    startedAt: string;
    /** Only delete the e2e resource groups older than `SWEEP_AFTER_HOURS` (the workflow's scheduled sweep). */
    sweep: boolean;
    /** More of the stack's config (`--config key=value`): a network choice, the runners' VNet. */
    config: Array<[string, string]>;
}

/** The keys `npm run e2e` sets itself, which `--config` may not. */
const E2E_OWN_KEYS = ["identityMode", "deployerPrincipalType", "tags"];

/** How old a run's resource group may be before the sweep deletes it: a day, several runs' length. */
export const SWEEP_AFTER_HOURS = 24;
/** The tag the sweep reads: when the run that made the group started. */
export const STARTED_TAG = "e2eStarted";
/** The names of the resource groups e2e stacks make: `rg-aiv-e2e-...`. */
const E2E_GROUP_PREFIX = "rg-aiv-e2e-";

/** A GitHub Actions OIDC login for the Azure CLI: a fresh federated token, and whom it logs in as. */
export interface FederatedLogin {
    clientId: string;
    tenantId: string;
    subscriptionId: string;
    /** Asks GitHub for a new ID token (audience api://AzureADTokenExchange); each lives minutes only. */
    token(): Promise<string>;
    /**
     * Where the run keeps the newest token, which the Azure SDK's WorkloadIdentityCredential reads
     * again as it needs: AZURE_FEDERATED_TOKEN_FILE of the tools the run starts. (kubelogin asks
     * GitHub itself: {@link toolEnv}.)
     */
    tokenFile: string;
}

/**
 * How often a run in GitHub Actions renews its login: GitHub's ID tokens live about five minutes
 * (Azure/login#180), and the Azure CLI cannot renew one itself (Azure/azure-cli#28708).
 */
export const RENEW_LOGIN_SECONDS = 120;

/** Runs `task` every `seconds` until the returned function is called; the real one is a timer. */
export type Every = (seconds: number, task: () => Promise<void>) => () => void;

const timerEvery: Every = (seconds, task) => {
    const timer = setInterval(() => void task(), seconds * 1000);
    return () => clearInterval(timer);
};

export const E2E_USAGE = `usage: npm run e2e -- --mode <${IDENTITY_MODES.join("|")}> [--stack NAME] [--location REGION] [--principal-type ${PRINCIPAL_TYPES.join("|")}] [--config key=value ...] [--yes] [--teardown-only] | npm run e2e -- --sweep`;

/** The config key that marks a stack as created by this command. */
export const RUN_MARK = "e2e:run";

/** Reads the command line; one line naming the flag and what is allowed when it cannot. */
export function parseE2eArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, now: Date = new Date()): E2eOptions | { error: string } {
    const values = new Map<string, string>();
    const flags = new Set<string>();
    const config: Array<[string, string]> = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--yes" || arg === "--teardown-only" || arg === "--sweep") {
            flags.add(arg);
        } else if (arg === "--config") {
            const pair = argv[i + 1] ?? "";
            const [key, ...rest] = pair.split("=");
            if (rest.length === 0 || !(CONFIG_KEYS as readonly string[]).includes(key) || E2E_OWN_KEYS.includes(key)) {
                return { error: `--config needs key=value with a key of the stack's config other than ${E2E_OWN_KEYS.join(", ")} (got ${JSON.stringify(pair)}). ${E2E_USAGE}` };
            }
            config.push([key, rest.join("=")]);
            i++;
        } else if (["--mode", "--stack", "--location", "--principal-type"].includes(arg)) {
            const value = argv[i + 1];
            if (value === undefined || value.startsWith("--")) {
                return { error: `${arg} needs a value. ${E2E_USAGE}` };
            }
            values.set(arg, value);
            i++;
        } else {
            return { error: `unknown argument ${JSON.stringify(arg)}. ${E2E_USAGE}` };
        }
    }
    const mode = values.get("--mode") ?? (flags.has("--sweep") ? IDENTITY_MODES[0] : undefined);
    if (mode === undefined || !(IDENTITY_MODES as readonly string[]).includes(mode)) {
        return { error: `--mode must be one of ${IDENTITY_MODES.join(", ")}${mode === undefined ? "" : ` (got ${JSON.stringify(mode)})`}. ${E2E_USAGE}` };
    }
    const principalType = values.get("--principal-type") ?? "User";
    if (!(PRINCIPAL_TYPES as readonly string[]).includes(principalType)) {
        return { error: `--principal-type must be one of ${PRINCIPAL_TYPES.join(", ")} (got ${JSON.stringify(principalType)}). ${E2E_USAGE}` };
    }
    const runId =
        env.GITHUB_RUN_ID === undefined
            ? now
                  .toISOString()
                  .replace(/[^0-9]/g, "")
                  .slice(0, 14)
            : `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? "1"}`;
    const stack = values.get("--stack") ?? `e2e-${mode.replace(/[A-Z]/g, (c) => c.toLowerCase()).slice(0, 12)}-${runId}`;
    try {
        baseNameForStack(stack);
    } catch (err) {
        return { error: `--stack: ${err instanceof Error ? err.message : String(err)}` };
    }
    return {
        mode: mode as IdentityMode,
        stack,
        location: values.get("--location") ?? "uksouth",
        principalType: principalType as PrincipalType,
        yes: flags.has("--yes"),
        teardownOnly: flags.has("--teardown-only"),
        runId,
        startedAt: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
        sweep: flags.has("--sweep"),
        config,
    };
}

/**
 * The GitHub Actions OIDC login the environment offers (id-token: write gives the request URL and
 * token; the workflow names the identity), or undefined outside GitHub Actions. Exported for testing.
 */
export function federatedLoginFrom(
    env: Environment,
    get?: (url: string, bearer: string) => Promise<{ status: number; body: string }>,
    tokenFile: string = path.join(os.tmpdir(), `aiv-e2e-federated-token-${process.pid}`),
): FederatedLogin | undefined {
    const clientId = env.ARM_CLIENT_ID;
    const tenantId = env.ARM_TENANT_ID;
    const subscriptionId = env.ARM_SUBSCRIPTION_ID;
    if (env.ACTIONS_ID_TOKEN_REQUEST_URL === undefined || env.ACTIONS_ID_TOKEN_REQUEST_TOKEN === undefined || clientId === undefined || tenantId === undefined || subscriptionId === undefined) {
        return undefined;
    }
    // The same request the pod-identity writer makes for each Entra token.
    return { clientId, tenantId, subscriptionId, tokenFile, token: gitHubOidcAssertion(env, get) };
}

/** The e2e resource groups a sweep deletes: tagged by a run that started over `hours` before `now`. Exported for testing. */
export function staleGroups(listed: string, now: Date, hours: number = SWEEP_AFTER_HOURS): string[] {
    let groups: Array<{ name?: unknown; tags?: Record<string, unknown> | null }>;
    try {
        groups = JSON.parse(listed) as typeof groups;
    } catch {
        return [];
    }
    const cutoff = now.getTime() - hours * 3600 * 1000;
    return groups.flatMap((g) => {
        const started = Date.parse(String(g.tags?.[STARTED_TAG] ?? ""));
        return typeof g.name === "string" && g.name.startsWith(E2E_GROUP_PREFIX) && Number.isFinite(started) && started < cutoff ? [g.name] : [];
    });
}

/** What a tool printed and its exit code. */
export interface ToolResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** The exit code of a tool that is not on the PATH (the shell's, and processExec's). */
const NOT_FOUND = 127;

/** Runs one tool; the real one spawns it on the PATH. */
export type Exec = (tool: string, args: string[]) => Promise<ToolResult>;

/** Spawns `tool` with `args` in `cwd`, with `env`, capturing its output. */
export function processExec(cwd: string, env: NodeJS.ProcessEnv = process.env): Exec {
    return (tool, args) =>
        new Promise((resolve) => {
            const child = spawn(tool, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
            child.on("error", (err) => resolve({ code: NOT_FOUND, stdout, stderr: `${stderr}${err.message}\n` }));
            child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
        });
}

/** One verification Job's verdict, as the summary shows it. */
export interface VerdictRow {
    workload: string;
    job: string;
    verdict: "pass" | "fail" | "missing";
    detail: string;
}

/** The verdict in a Job's log: its last line that is a JSON object with a `verdict`. Exported for testing. */
export function verdictOf(log: string): Record<string, unknown> | undefined {
    const lines = log.split("\n").filter((l) => l.trim() !== "");
    for (const line of lines.reverse()) {
        try {
            const value: unknown = JSON.parse(line);
            if (typeof value === "object" && value !== null && "verdict" in value) {
                return value as Record<string, unknown>;
            }
        } catch {
            // Not the verdict line.
        }
    }
    return undefined;
}

/** The short detail of a verdict for the summary. Exported for testing. */
export function verdictDetail(verdict: Record<string, unknown>): string {
    if (verdict.verdict !== "pass") {
        return `step ${String(verdict.step)}: ${String(verdict.error)}`;
    }
    if (verdict.mode === "unbound") {
        return `refused: ${String(verdict.refusal)}`;
    }
    if (verdict.mode === "impostor") {
        const attempts = (verdict.attempts as Array<{ attempt: string; refusedBy?: string; code?: string }> | undefined) ?? [];
        return attempts.map((a) => `${a.attempt} refused by ${String(a.refusedBy)}${a.code === undefined ? "" : ` (${a.code})`}`).join("; ");
    }
    const canary = verdict.canary as Record<string, string> | undefined;
    const hosts = (verdict.privatePath as { hosts?: Record<string, { addresses: string[] }> } | undefined)?.hosts ?? {};
    const addresses = Object.values(hosts).flatMap((h) => h.addresses);
    return [
        `secret ${String(verdict.secretSha256Prefix)} mounted and synced`,
        `private path ${addresses.join(", ")}`,
        `canary secret ${canary?.secret?.startsWith("readable by design") === true ? "readable by design" : (canary?.secret ?? "?")}, container ${canary?.containerRead ?? "?"}/${canary?.containerWrite ?? "?"}`,
        ...(verdict.egress === undefined ? [] : [`egress ${String(verdict.egress)} (${String(verdict.egressProbe)}: ${String(verdict.egressRefusal)})`]),
    ].join("; ");
}

/** The verdict table, in Markdown. Exported for testing. */
export function summaryTable(rows: readonly VerdictRow[]): string {
    const lines = ["| workload | job | verdict | detail |", "| --- | --- | --- | --- |", ...rows.map((r) => `| ${r.workload} | ${r.job} | ${r.verdict} | ${r.detail.replace(/\|/g, "\\|")} |`)];
    return `${lines.join("\n")}\n`;
}

/** The resources of a `pulumi stack export` other than the stack and its providers. Exported for testing. */
export function resourcesIn(exported: string): number {
    try {
        const value = JSON.parse(exported) as { deployment?: { resources?: Array<{ type?: string }> } };
        return (value.deployment?.resources ?? []).filter((r) => r.type !== "pulumi:pulumi:Stack" && !(r.type ?? "").startsWith("pulumi:providers:")).length;
    } catch {
        return 0;
    }
}

interface Reporter {
    write(text: string): void;
}

/** Runs the whole test, or only its teardown; returns the exit code: 0 all passed, 1 something failed, 2 refused or bad input. */
export async function runE2e(options: E2eOptions, exec: Exec, out: Reporter, login?: FederatedLogin, now: () => Date = () => new Date(), every: Every = timerEvery): Promise<number> {
    const stackArgs = ["--stack", options.stack, "--non-interactive"];
    const resourceGroup = `rg-${baseNameForStack(options.stack)}`;
    let step = 0;
    /**
     * Runs a step and says how it went; returns its result. `secret` is an argument never printed;
     * a failing step with `showOutput` prints all it wrote (a preview's diff), not just its last lines.
     */
    const run = async (what: string, tool: string, args: string[], how: { secret?: string; showOutput?: boolean } = {}): Promise<ToolResult> => {
        step++;
        const shown = args.map((a) => (how.secret !== undefined && a === how.secret ? "***" : a));
        out.write(`e2e [${step}] ${what}: ${tool} ${shown.join(" ")}\n`);
        const result = await exec(tool, args);
        if (result.code === 0) {
            out.write(`e2e [${step}] ok\n`);
        } else if (how.showOutput === true) {
            out.write(`e2e [${step}] failed (exit ${result.code}); its output:\n${result.stdout}${result.stderr}\n`);
        } else {
            out.write(`e2e [${step}] failed (exit ${result.code}): ${lastLines(result.stderr || result.stdout)}\n`);
        }
        return result;
    };

    /**
     * In GitHub Actions, logs the Azure CLI in again with a fresh federated token: the one azure/login
     * used expired minutes after the job began (Azure/azure-cli#28708), and the teardown needs the CLI.
     */
    const freshLogin = async (): Promise<void> => {
        if (login === undefined) {
            return;
        }
        let token: string;
        try {
            token = await login.token();
        } catch (err) {
            out.write(`e2e: no fresh GitHub ID token (${err instanceof Error ? err.message : String(err)}); the teardown uses the login it has\n`);
            return;
        }
        await run(
            "log the Azure CLI in again with a fresh federated token",
            "az",
            ["login", "--service-principal", "--username", login.clientId, "--tenant", login.tenantId, "--federated-token", token, "--output", "none"],
            { secret: token },
        );
        await run("select the subscription", "az", ["account", "set", "--subscription", login.subscriptionId]);
    };

    /**
     * Renews the login quietly while the steps run: a new token in the token file, and the Azure CLI
     * logged in with it, for the run's own `az` steps.
     * Says only what fails.
     */
    const renew = async (): Promise<void> => {
        if (login === undefined) {
            return;
        }
        try {
            const token = await login.token();
            fs.writeFileSync(login.tokenFile, token, { mode: 0o600 });
            const result = await exec("az", ["login", "--service-principal", "--username", login.clientId, "--tenant", login.tenantId, "--federated-token", token, "--output", "none"]);
            if (result.code !== 0) {
                out.write(`e2e: renewing the Azure CLI's login failed (exit ${result.code}): ${lastLines(result.stderr).split(token).join("***")}\n`);
            }
        } catch (err) {
            out.write(`e2e: renewing the login failed: ${err instanceof Error ? err.message : String(err)}\n`);
        }
    };

    if (options.sweep) {
        await freshLogin();
        const listed = await run(`list the e2e resource groups (${E2E_GROUP_PREFIX}*)`, "az", [
            "group",
            "list",
            "--query",
            `[?starts_with(name, '${E2E_GROUP_PREFIX}')].{name:name, tags:tags}`,
            "--output",
            "json",
        ]);
        if (listed.code !== 0) {
            return 1;
        }
        const stale = staleGroups(listed.stdout, now());
        let failed = 0;
        for (const group of stale) {
            failed += (await run(`delete ${group}, left by a run over ${SWEEP_AFTER_HOURS} hours ago`, "az", ["group", "delete", "--name", group, "--yes", "--no-wait"])).code === 0 ? 0 : 1;
        }
        out.write(`e2e sweep: ${stale.length === 0 ? "no e2e resource group is older than a day" : `deleting ${stale.length - failed} of ${stale.length}: ${stale.join(", ")}`}\n`);
        return failed === 0 ? 0 : 1;
    }

    const teardown = async (hasStack = true): Promise<boolean> => {
        out.write(`e2e: tearing down ${options.stack}\n`);
        await freshLogin();
        let destroyed = true;
        if (hasStack) {
            await run("unprotect every resource", "pulumi", ["state", "unprotect", "--all", "--yes", ...stackArgs]);
            destroyed = (await run("destroy the stack", "pulumi", ["destroy", "--yes", "--skip-preview", ...stackArgs])).code === 0;
            if (destroyed) {
                await run("remove the stack and its config", "pulumi", ["stack", "rm", "--yes", ...stackArgs]);
            }
        }
        if (!destroyed) {
            // The run's own group holds everything it made: deleting it is the teardown of last resort.
            await run(`destroy failed: delete the run's resource group ${resourceGroup}`, "az", ["group", "delete", "--name", resourceGroup, "--yes"]);
        }
        const exists = await run(`check that ${resourceGroup} is gone`, "az", ["group", "exists", "--name", resourceGroup]);
        if (exists.code === NOT_FOUND) {
            out.write(`e2e: the Azure CLI is not on the PATH, so whether ${resourceGroup} is gone was not checked.\n`);
            return false;
        }
        const gone = exists.code === 0 && exists.stdout.trim() === "false";
        out.write(
            gone
                ? `e2e: ${resourceGroup} is gone. Key Vault keeps the deleted vault for its 90-day retention (purge protection) and Log Analytics the workspace for 14 days; both names are this run's own.\n`
                : `e2e: ${resourceGroup} still exists: delete it by hand (az group delete --name ${resourceGroup}).\n`,
        );
        return destroyed && gone;
    };

    if (options.teardownOnly) {
        const selected = await run(`select the stack ${options.stack}`, "pulumi", ["stack", "select", options.stack, "--non-interactive"]);
        if (selected.code !== 0) {
            out.write(`e2e: no stack ${options.stack} to tear down; checking the resource group only\n`);
        }
        return (await teardown(selected.code === 0)) ? 0 : 1;
    }

    // The stack: created empty, or this command's own from an earlier run, or refused.
    const selected = await run(`select or create the stack ${options.stack}`, "pulumi", ["stack", "select", "--create", options.stack, "--non-interactive"]);
    if (selected.code !== 0) {
        return 1;
    }
    const mark = await run("read the stack's e2e mark", "pulumi", ["config", "get", RUN_MARK, ...stackArgs]);
    const exported = await run("count the stack's resources", "pulumi", ["stack", "export", ...stackArgs]);
    const existing = resourcesIn(exported.stdout);
    if (existing > 0 && mark.code !== 0 && !options.yes) {
        out.write(
            `e2e: refusing: stack ${options.stack} already has ${existing} resources this command did not create, and the run ends by destroying them; pass --yes to run against it anyway, or choose another --stack\n`,
        );
        return 2;
    }

    const failures: string[] = [];
    let rows: VerdictRow[] = [];
    /** The steps between creating the stack and tearing it down; stops at the first that leaves nothing to test. */
    const test = async (): Promise<void> => {
        for (const [key, value] of [
            [RUN_MARK, options.runId],
            ["azure-native:location", options.location],
            ["identityMode", options.mode],
            ["deployerPrincipalType", options.principalType],
            // The run's start on every resource, which the scheduled sweep reads.
            ["tags", JSON.stringify({ [STARTED_TAG]: options.startedAt, e2eRun: options.runId })],
            ...options.config,
        ]) {
            if ((await run(`set ${key}`, "pulumi", ["config", "set", key, value, ...stackArgs])).code !== 0) {
                failures.push(`config set ${key}`);
                return;
            }
        }
        if ((await run("pulumi up from an empty stack", "pulumi", ["up", "--yes", "--skip-preview", ...stackArgs])).code !== 0) {
            failures.push("pulumi up");
            return;
        }
        rows = await readVerdicts(exec, run, stackArgs);
        if (rows.length === 0 || rows.some((r) => r.verdict !== "pass")) {
            failures.push("verdicts");
        }
        if ((await run("a second preview must show no change", "pulumi", ["preview", "--expect-no-changes", "--diff", ...stackArgs], { showOutput: true })).code !== 0) {
            failures.push("preview after up");
        }
        if ((await run("refresh from Azure", "pulumi", ["refresh", "--yes", "--skip-preview", ...stackArgs])).code !== 0) {
            failures.push("refresh");
            return;
        }
        if ((await run("after the refresh, a preview must show no change", "pulumi", ["preview", "--expect-no-changes", "--diff", ...stackArgs], { showOutput: true })).code !== 0) {
            failures.push("preview after refresh");
        }
    };
    await renew();
    const stopRenewing = login === undefined ? () => undefined : every(RENEW_LOGIN_SECONDS, renew);
    try {
        await test();
    } catch (err) {
        failures.push(`unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
        stopRenewing();
    }
    // Whatever happened above: the stack's resources are never left behind.
    if (!(await teardown())) {
        failures.push("teardown");
    }
    out.write(`\n${rows.length > 0 ? summaryTable(rows) : "no verdicts were read\n"}`);
    out.write(failures.length === 0 ? `e2e ${options.mode}: passed\n` : `e2e ${options.mode}: FAILED: ${failures.join(", ")}\n`);
    return failures.length === 0 ? 0 : 1;
}

/** The verification Jobs' verdicts, read from their logs with the stack's own cluster credentials. */
async function readVerdicts(exec: Exec, run: (what: string, tool: string, args: string[]) => Promise<ToolResult>, stackArgs: string[]): Promise<VerdictRow[]> {
    const outputs = await run("read the stack's outputs", "pulumi", ["stack", "output", "--json", "--show-secrets=false", ...stackArgs]);
    let parsed: {
        resourceGroupName?: string;
        clusterName?: string;
        impostorNamespace?: string;
        workloads?: Record<string, { namespace: string; verifierJobs?: string[]; impostorJob?: string }>;
    } = {};
    try {
        parsed = JSON.parse(outputs.stdout) as typeof parsed;
    } catch {
        return [];
    }
    const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aiv-e2e-")), "kubeconfig");
    const credentials = await run("fetch the cluster's credentials", "az", [
        "aks",
        "get-credentials",
        "--resource-group",
        String(parsed.resourceGroupName),
        "--name",
        String(parsed.clusterName),
        "--file",
        kubeconfig,
        "--overwrite-existing",
    ]);
    const converted =
        credentials.code === 0 ? await run("log in to the cluster through the Azure CLI", "kubelogin", ["convert-kubeconfig", "-l", "azurecli", "--kubeconfig", kubeconfig]) : credentials;
    const rows: VerdictRow[] = [];
    for (const [workload, w] of Object.entries(parsed.workloads ?? {})) {
        // The workload's own Jobs, then the impostor's against it, from the impostor's namespace.
        const jobs = [
            ...(w.verifierJobs ?? []).map((job) => ({ job, namespace: w.namespace })),
            ...(w.impostorJob !== undefined && parsed.impostorNamespace !== undefined ? [{ job: w.impostorJob, namespace: parsed.impostorNamespace }] : []),
        ];
        for (const { job, namespace } of jobs) {
            const logs = converted.code === 0 ? await exec("kubectl", ["--kubeconfig", kubeconfig, "logs", "-n", namespace, `job/${job}`]) : converted;
            const verdict = logs.code === 0 ? verdictOf(logs.stdout) : undefined;
            rows.push(
                verdict === undefined
                    ? { workload, job, verdict: "missing", detail: `no verdict line (${logs.code === 0 ? "the log has none" : lastLines(logs.stderr)})` }
                    : { workload, job, verdict: verdict.verdict === "pass" ? "pass" : "fail", detail: verdictDetail(verdict) },
            );
        }
    }
    return rows;
}

/** Keeps a step's tail for its progress line. */
function lastLines(text: string): string {
    return text.trim().split("\n").slice(-3).join(" / ");
}

/**
 * The environment of the tools a run starts. In GitHub Actions: the renewed token where the Azure
 * SDK looks for one, and kubelogin switched to its workload identity login, which asks GitHub for a
 * new ID token itself, whatever login the stack's kubeconfig names. Exported for testing.
 */
export function toolEnv(env: NodeJS.ProcessEnv, login: FederatedLogin | undefined): NodeJS.ProcessEnv {
    return login === undefined ? env : { ...env, AZURE_FEDERATED_TOKEN_FILE: login.tokenFile, ...kubeloginSelfRenewingEnv(login.clientId, login.tenantId) };
}

/** The command: `npm run e2e -- ...`. */
export async function main(argv: string[], io: { stdout: Reporter; stderr: Reporter } = process): Promise<number> {
    const options = parseE2eArgs(argv);
    if ("error" in options) {
        io.stderr.write(`error: ${options.error}\n`);
        return 2;
    }
    const login = federatedLoginFrom(process.env);
    return runE2e(options, processExec(path.join(__dirname, ".."), toolEnv(process.env, login)), io.stdout, login);
}
