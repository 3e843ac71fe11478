// Asking the plan servers (server.ts) for plans: a plan command's exit code and output, computed once
// per key for everyone who asks during a run (a jest run, `npm run policy`).
import { createHash } from "crypto";
import * as http from "http";
import * as path from "path";
import { configKey, loadStackConfig } from "./stackConfig";

/** The environment variable that holds the sockets of a run's plan servers. */
export const PLAN_SERVERS = "AIV_PLAN_SERVERS";

/** The environment variable that holds the socket of the servers' dispatcher (dispatcher.ts), when there is one. */
export const PLAN_DISPATCHER = "AIV_PLAN_DISPATCHER";

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
    /**
     * The first run the command starts from (the planKey of its config), for the dispatcher: commands
     * with one route go to the server that holds it. The key when absent.
     */
    route?: string;
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
            res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body) as PlanProcess) : reject(new Error(`the plan server on ${socket} answered ${String(res.statusCode)}: ${body}`))));
            res.on("error", reject);
        });
        req.on("error", reject);
        req.end(JSON.stringify(request));
    });
}

/**
 * Runs the plan command with `args` on the plan servers, through their dispatcher (PLAN_DISPATCHER),
 * which computes each key once on the first free server; commands that start from the same first run
 * (the plan of a config, and the runs after it, routed by its planKey) go to the server that holds it.
 * Without a dispatcher, a server named by PLAN_SERVERS is chosen by a hash of `route`, the key unless given.
 */
export function runPlan(args: string[], key = JSON.stringify(args), route = key): Promise<PlanProcess> {
    const dispatcher = process.env[PLAN_DISPATCHER];
    if (dispatcher !== undefined && dispatcher !== "") {
        return askPlanServer(dispatcher, { key, argv: args, route });
    }
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
