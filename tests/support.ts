// Helpers for tests that read the whole program. A plan is what `npm run plan` computes, computed by
// a plan server of the jest run (see planServer.ts and globalSetup.ts), each configuration once for
// all test files.
import { execFile } from "child_process";
import { createHash } from "crypto";
import * as http from "http";
import * as path from "path";
import { promisify } from "util";
import type { Plan, Step } from "./harness";
import type { PlanRequest } from "./planServer";
import { loadStackConfig } from "./stackConfig";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "..");
const memory = new Map<string, Promise<Plan>>();

/** The environment variable that holds the sockets of a jest run's plan servers. */
export const PLAN_SERVERS = "AIV_PLAN_SERVERS";

/** What the plan command printed and its exit code. */
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

/** Sends a plan command to the plan server listening on `socket`. */
export function askPlanServer(socket: string, request: PlanRequest): Promise<PlanProcess> {
    return new Promise((resolve, reject) => {
        const req = http.request({ socketPath: socket, method: "POST", path: "/" }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve(JSON.parse(body) as PlanProcess));
            res.on("error", reject);
        });
        req.on("error", reject);
        req.end(JSON.stringify(request));
    });
}

/**
 * Runs the plan command with `args` on one of the plan servers named by PLAN_SERVERS; a key always
 * goes to the same server, which computes it once.
 */
export function runPlan(args: string[], key = JSON.stringify(args)): Promise<PlanProcess> {
    const sockets = (process.env[PLAN_SERVERS] ?? "").split(path.delimiter).filter((s) => s !== "");
    if (sockets.length === 0) {
        throw new Error(`no plan servers: ${PLAN_SERVERS} is not set (jest's globalSetup starts them; see planServer.ts)`);
    }
    const server = parseInt(createHash("sha256").update(key).digest("hex").slice(0, 8), 16) % sockets.length;
    return askPlanServer(sockets[server], { key, argv: args });
}

/** The `--json` plan of `stack` with `-c key=value` overrides, as text; throws with the command's error. */
export async function planJson(stack: string, overrides: string[]): Promise<string> {
    const result = await runPlan(["--json", "--stack", stack, ...overrides.flatMap((o) => ["-c", o])], planKey(stack, overrides));
    if (result.code !== 0) {
        throw new Error(`plan ${JSON.stringify(overrides)} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return result.stdout;
}

/**
 * The key of a plan: the config the program would see, not the overrides that produced it, so
 * `-c identityMode=podIdentityAddon` and no override at all (the default) share one plan.
 */
export function planKey(stack: string, overrides: string[]): string {
    const config = loadStackConfig({ stack, overrides });
    const canonical = Object.keys(config)
        .sort()
        .map((k) => [k, config[k]]);
    return createHash("sha256").update(JSON.stringify([stack, canonical])).digest("hex").slice(0, 24);
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
