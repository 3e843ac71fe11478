// Helpers for tests that run the whole program: each run gets a fresh module registry, so the
// program is evaluated anew with its own config, exactly as one `pulumi preview` would.
import type { Plan, Step } from "./harness";

/** Runs the program for `stack` with `-c key=value` overrides and returns what it registered. */
export async function planFor(overrides: string[] = [], stack = "dev"): Promise<Plan> {
    let plan: Plan | undefined;
    await jest.isolateModulesAsync(async () => {
        const { runProgram } = await import("./harness");
        const { loadStackConfig } = await import("./stackConfig");
        plan = await runProgram({ stack, config: loadStackConfig({ stack, overrides }) });
    });
    if (plan === undefined) {
        throw new Error("the program did not run");
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
