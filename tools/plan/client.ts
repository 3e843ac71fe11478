// Asking the plan servers (server.ts) for plans: a plan command's exit code and output, computed once
// per key for everyone who asks during a run (a jest run, `npm run policy`).
import { createHash } from "crypto";
import * as http from "http";
import * as path from "path";
import { configKey, loadStackConfig } from "./stackConfig";

/** The environment variable that holds the sockets of a run's plan servers. */
export const PLAN_SERVERS = "AIV_PLAN_SERVERS";

/** What a plan command printed and its exit code. */
export interface PlanProcess {
    code: number;
    stdout: string;
    stderr: string;
}

/** A plan command, and the key under which the server keeps its result for the rest of the run. */
export interface PlanRequest {
    key: string;
    argv: string[];
}

/**
 * Sends a plan command to the plan server listening on `socket`, on a connection of its own: Node's
 * global agent keeps connections alive, and a request sent on one the server is closing as idle
 * (after its five-second keep-alive timeout) fails with ECONNRESET.
 */
export function askPlanServer(socket: string, request: PlanRequest): Promise<PlanProcess> {
    return new Promise((resolve, reject) => {
        const req = http.request({ socketPath: socket, method: "POST", path: "/", agent: false }, (res) => {
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
 * goes to the same server, which computes it once. The server is chosen by `route`, the key unless
 * given: commands that start from the same first run (the plan of a config, and the runs after it,
 * routed by its planKey) go to the server that holds it.
 */
export function runPlan(args: string[], key = JSON.stringify(args), route = key): Promise<PlanProcess> {
    const sockets = (process.env[PLAN_SERVERS] ?? "").split(path.delimiter).filter((s) => s !== "");
    if (sockets.length === 0) {
        throw new Error(`no plan servers: ${PLAN_SERVERS} is not set (jest's globalSetup starts them; see tools/plan/server.ts)`);
    }
    const server = parseInt(createHash("sha256").update(route).digest("hex").slice(0, 8), 16) % sockets.length;
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
    return createHash("sha256")
        .update(configKey(stack, loadStackConfig({ stack, overrides })))
        .digest("hex")
        .slice(0, 24);
}
