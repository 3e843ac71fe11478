// Helpers for tests that read the whole program. A plan is what `npm run plan` computes, computed by
// a plan server of the jest run (see tools/plan/server.ts and globalSetup.ts), each configuration once
// for all test files.
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { planJson, planKey } from "../tools/plan/client";
import type { PlanProcess } from "../tools/plan/client";
import type { Plan, Step } from "../tools/plan/types";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "..");
const memory = new Map<string, Promise<Plan>>();

/** Runs a command in the project root and captures its exit code and output, failing or not. */
export async function capture(command: string, args: string[], env: Record<string, string> = {}): Promise<PlanProcess> {
    try {
        const { stdout, stderr } = await run(command, args, { cwd: ROOT, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, ...env } });
        return { code: 0, stdout, stderr };
    } catch (err) {
        const failed = err as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
}

/** The plan of `stack` with `-c key=value` overrides. */
export function planFor(overrides: string[] = [], stack = "dev"): Promise<Plan> {
    const key = planKey(stack, overrides);
    let plan = memory.get(key);
    if (plan === undefined) {
        plan = planJson(stack, overrides).then((json) => JSON.parse(json) as Plan);
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
