// Helpers for tests that read the whole program. A plan is computed exactly as `npm run plan`
// computes it, in its own process: the program, its dynamic provider's serialization and the
// mocks run as they do for a reviewer. Plans are cached for the length of one jest run (see
// globalSetup.ts), so test files that need the same configuration share one computation.
import { execFile } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import type { Plan, Step } from "./harness";
import { loadStackConfig } from "./stackConfig";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "..");
const memory = new Map<string, Promise<Plan>>();

/** Result of running the plan command in its own process. */
export interface PlanProcess {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a command in the project root and captures its exit code and output, failing or not. */
export async function capture(command: string, args: string[]): Promise<PlanProcess> {
    try {
        const { stdout, stderr } = await run(command, args, { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
        return { code: 0, stdout, stderr };
    } catch (err) {
        const failed = err as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
}

/** Runs `scripts/plan.ts` with `args` in a child process, as `npm run plan -- <args>` does. */
export function planProcess(args: string[]): Promise<PlanProcess> {
    return capture(process.execPath, ["-r", "sucrase/register/ts", "scripts/plan.ts", ...args]);
}

/** The `--json` plan of `stack` with `-c key=value` overrides, as text; throws with the command's error. */
export async function planJson(stack: string, overrides: string[]): Promise<string> {
    const result = await planProcess(["--json", "--stack", stack, ...overrides.flatMap((o) => ["-c", o])]);
    if (result.code !== 0) {
        throw new Error(`plan ${JSON.stringify(overrides)} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return result.stdout;
}

/**
 * The cache key of a plan: the config the program would see, not the overrides that produced it, so
 * `-c identityMode=podIdentityAddon` and no override at all (the default) share one plan.
 */
export function planKey(stack: string, overrides: string[]): string {
    const config = loadStackConfig({ stack, overrides });
    const canonical = Object.keys(config)
        .sort()
        .map((k) => [k, config[k]]);
    return createHash("sha256").update(JSON.stringify([stack, canonical])).digest("hex").slice(0, 24);
}

async function computePlan(key: string, stack: string, overrides: string[]): Promise<Plan> {
    const cacheDir = process.env.AIV_PLAN_CACHE;
    const cached = cacheDir === undefined ? undefined : path.join(cacheDir, `${key}.json`);
    if (cached !== undefined && fs.existsSync(cached)) {
        return JSON.parse(fs.readFileSync(cached, "utf8")) as Plan;
    }
    const json = await planJson(stack, overrides);
    if (cached !== undefined) {
        const partial = `${cached}.${process.pid}.tmp`;
        fs.writeFileSync(partial, json);
        fs.renameSync(partial, cached);
    }
    return JSON.parse(json) as Plan;
}

/** The plan of `stack` with `-c key=value` overrides. */
export function planFor(overrides: string[] = [], stack = "dev"): Promise<Plan> {
    const key = planKey(stack, overrides);
    let plan = memory.get(key);
    if (plan === undefined) {
        plan = computePlan(key, stack, overrides);
        memory.set(key, plan);
    }
    return plan;
}

/** The steps of one resource type. */
export function stepsOfType(plan: Plan, type: string): Step[] {
    return plan.steps.filter((s) => s.newState.type === type);
}

/** The one step of a type whose URN ends with `::name`. */
export function step(plan: Plan, type: string, name: string): Step {
    const found = plan.steps.filter((s) => s.newState.type === type && s.urn.endsWith(`::${name}`));
    if (found.length !== 1) {
        throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
    }
    return found[0];
}

/** Reads a nested input by dotted path. */
export function inputAt(s: Step, path: string): unknown {
    return path.split(".").reduce<unknown>((value, key) => (value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined), s.newState.inputs);
}
