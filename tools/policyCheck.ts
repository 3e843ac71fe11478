// `npm run policy`: checks the policy pack in policy/ offline against the plans of every identity
// mode and Key Vault authorization mode (six plans) and of each network choice in every identity mode
// (twelve more), computed on two plan servers; prints one line
// per violation and a summary, and exits 1 when any mandatory policy is violated. It takes the plan's
// flags (--stack, --config-file, -c key=value), so a reviewer checks their own stack: in every mode
// combination, or only in the one their config names.
import { NETWORK_PLAN_CONFIGURATIONS, PlanDocument, PLAN_CONFIGURATIONS, evaluatePlan, formatViolation, summaryLine } from "./policyOffline";
import { policies } from "../policy/policies";
import { runPlan } from "./plan/client";
import { parseArgs, UsageError } from "./plan/command";
import { startPlanServers } from "./plan/server";

/** Plan servers: each computes its plans one after another, sharing one load of the libraries. */
const SERVERS = 2;

/** A plan of the stack the command was given, under `overrides` on top of its own. */
interface PlanRun {
    label: string;
    argv: string[];
}

/** A plan command's failure: its one line, as the plan printed it. */
class PlanRefused extends Error {}

/**
 * The plans to check: the stack's config under every mode combination, or, when its flags set the
 * identity mode or the vault's authorization, under the combinations those allow. Exported for testing.
 */
export function planRuns(argv: string[]): PlanRun[] {
    const args = parseArgs(argv);
    if (args.json || args.afterRefresh) {
        throw new UsageError("npm run policy takes --stack, --config-file and -c only");
    }
    const base = ["--json", "--stack", args.stack, ...(args.configFile === undefined ? [] : ["--config-file", args.configFile]), ...args.overrides.flatMap((o) => ["-c", o])];
    const chosen = (key: string): string | undefined =>
        [...args.overrides]
            .reverse()
            .find((o) => o.startsWith(`${key}=`) || o.startsWith(`aks-identity-vault:${key}=`))
            ?.split("=")[1];
    const mode = chosen("identityMode");
    const authorization = chosen("keyVaultAuthorization");
    // The project's own stack is also checked in each network choice; a stack given by name, file or a
    // choice of its own is checked as its config says.
    const ownNetwork = args.stack !== "dev" || args.configFile !== undefined || chosen("apiServerAccess") !== undefined || chosen("egress") !== undefined;
    return [...PLAN_CONFIGURATIONS, ...(ownNetwork ? [] : NETWORK_PLAN_CONFIGURATIONS)]
        .filter((c) => (mode === undefined || c.overrides[0] === `identityMode=${mode}`) && (authorization === undefined || c.overrides[1] === `keyVaultAuthorization=${authorization}`))
        .map((c) => ({
            label: c.label,
            argv: [
                ...base,
                ...c.overrides
                    .filter((o) => !(mode !== undefined && o.startsWith("identityMode=")) && !(authorization !== undefined && o.startsWith("keyVaultAuthorization=")))
                    .flatMap((o) => ["-c", o]),
            ],
        }));
}

/** Computes one plan, or throws with the plan command's one line. */
async function planOf(run: PlanRun): Promise<PlanDocument> {
    const result = await runPlan(run.argv);
    if (result.code !== 0) {
        throw new PlanRefused(result.stderr.trim().split("\n")[0] ?? `the plan exited ${result.code}`);
    }
    return JSON.parse(result.stdout) as PlanDocument;
}

/** Checks the pack against the plans, prints the violations and the summary; returns the exit code. */
export async function main(argv: string[] = []): Promise<number> {
    let runs: PlanRun[];
    try {
        runs = planRuns(argv);
    } catch (err) {
        if (err instanceof UsageError) {
            process.stderr.write(`${err.message}\n`);
            return 2;
        }
        throw err;
    }
    if (runs.length === 0) {
        process.stderr.write("error: the config names an identity mode or a vault authorization no combination has\n");
        return 1;
    }
    const servers = await startPlanServers(SERVERS);
    Object.assign(process.env, servers.env);
    let evaluations;
    try {
        evaluations = await Promise.all(runs.map(async (run) => evaluatePlan(policies, await planOf(run), { label: run.label }))).finally(servers.stop);
    } catch (err) {
        if (err instanceof PlanRefused) {
            process.stderr.write(`${err.message}\n`);
            return 1;
        }
        throw err;
    }
    let checked = 0;
    let mandatory = 0;
    for (const evaluation of evaluations) {
        checked += evaluation.resourceValidations;
        for (const violation of evaluation.violations) {
            mandatory += violation.enforcementLevel === "mandatory" ? 1 : 0;
            console.log(formatViolation(violation));
        }
    }
    console.log(summaryLine(policies.length, checked, mandatory));
    return mandatory > 0 ? 1 : 0;
}
