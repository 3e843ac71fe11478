// A plan server: one process that runs plan commands (`npm run plan -- <args>`) one after another,
// so that the many plans of a jest run share one load of the libraries (the Pulumi SDK, azure-native,
// the Azure SDK), which is most of a small plan's time. Each command loads the project's own modules
// afresh (the program, its components, the harness and the mocks), as a new process would, and runs
// in a Pulumi runtime that the harness sets up anew; plan.test.ts checks that a plan computed after
// another is byte-identical to the one `npm run plan` prints in a fresh process.
//
// jest's globalSetup starts one server per core and `npm run policy` two, with a dispatcher that hands
// each command to the first free server (dispatcher.ts); client.ts sends it the commands;
// scripts/planServer.ts is the process's entry point.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { describeFailure, UNEXPECTED_FAILURE } from "../cli";
import { askPlanServer, PLAN_DISPATCHER, PLAN_SERVERS, type PlanProcess, type PlanRequest } from "./client";
import type { FirstRuns } from "./command";
import { startPlanDispatcher, type RunningDispatcher } from "./dispatcher";

const ROOT = path.join(__dirname, "..", "..");
const READY = "listening\n";

/** Whether a loaded module is the project's own code rather than a library's. */
function isProjectModule(file: string): boolean {
    const relative = path.relative(ROOT, file);
    return !relative.startsWith("..") && !relative.split(path.sep).includes("node_modules") && file !== __filename;
}

/**
 * Runs one plan command in this process, with the project's modules loaded afresh; first runs of the
 * program are shared with the commands before and after it (command.ts, FirstRuns).
 */
async function runPlanCommand(argv: string[], firstRuns: FirstRuns): Promise<PlanProcess> {
    for (const file of Object.keys(require.cache)) {
        if (isProjectModule(file)) {
            delete require.cache[file];
        }
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { main } = require("./command") as typeof import("./command");
    let stdout = "";
    let stderr = "";
    const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } };
    try {
        const code = await main(argv, io, firstRuns);
        return { code, stdout, stderr };
    } catch (err) {
        return { code: UNEXPECTED_FAILURE, stdout, stderr: stderr + describeFailure(err) };
    }
}

/** Serves plan commands on a Unix socket until the parent closes this process's stdin. */
export function serve(socket: string): void {
    const results = new Map<string, Promise<PlanProcess>>();
    const firstRuns: FirstRuns = new Map();
    let latest: Promise<unknown> = Promise.resolve();
    const server = http.createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => (body += chunk));
        req.on("end", () => {
            const request = JSON.parse(body) as PlanRequest;
            let result = results.get(request.key);
            if (result === undefined) {
                // One command at a time: a plan runs in the process's one Pulumi runtime.
                result = latest.then(() => runPlanCommand(request.argv, firstRuns));
                latest = result;
                results.set(request.key, result);
            }
            void result.then((run) => {
                res.setHeader("content-type", "application/json");
                res.end(JSON.stringify(run));
            });
        });
    });
    server.listen(socket, () => process.stdout.write(READY));
    process.stdin.on("end", () => process.exit(0));
    process.stdin.resume();
}

/** Running plan servers: their sockets, their dispatcher's, and how to stop them. */
export interface PlanServers {
    sockets: string[];
    /** PLAN_SERVERS, and PLAN_DISPATCHER with the socket of their dispatcher, for the processes that ask for plans. */
    env: Record<string, string>;
    /** Stops the servers and their dispatcher, and removes their sockets. */
    stop(): void;
}

/**
 * V8's young generation for a plan server, in MB per semi-space (the default is 16). A plan keeps most
 * of what it allocates until it ends, so with the default each collection of the young generation
 * copies much of it; with 128 the servers' CPU for a jest run's commands fell by about a third.
 */
const SEMI_SPACE_MB = 128;

function startServer(socket: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, [`--max-semi-space-size=${SEMI_SPACE_MB}`, "-r", path.join(ROOT, "tools", "register.js"), path.join(ROOT, "scripts", "planServer.ts"), socket], {
        cwd: ROOT,
        stdio: ["pipe", "pipe", "inherit"],
    });
    return new Promise((resolve, reject) => {
        let output = "";
        child.stdout?.setEncoding("utf8");
        child.stdout?.on("data", (chunk: string) => {
            output += chunk;
            if (output.includes(READY)) {
                resolve(child);
            }
        });
        child.on("error", reject);
        child.on("exit", (code) => reject(new Error(`the plan server on ${socket} exited (${String(code)}) before it listened`)));
    });
}

/**
 * Starts `count` plan servers and, in this process, their dispatcher; they stop when told or when this
 * process ends.
 */
export async function startPlanServers(count: number): Promise<PlanServers> {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-plans-"));
    const sockets = Array.from({ length: count }, (_, i) => path.join(directory, `plan-${i}.sock`));
    const started = await Promise.allSettled(sockets.map(startServer));
    const children = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    let dispatcher: RunningDispatcher | undefined;
    const stop = (): void => {
        dispatcher?.close();
        for (const child of children) {
            child.stdin?.end();
        }
        fs.rmSync(directory, { recursive: true, force: true });
    };
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed !== undefined) {
        stop();
        throw failed.reason;
    }
    try {
        dispatcher = await startPlanDispatcher(path.join(directory, "dispatcher.sock"), sockets, askPlanServer);
    } catch (err) {
        stop();
        throw err;
    }
    return { sockets, env: { [PLAN_SERVERS]: sockets.join(path.delimiter), [PLAN_DISPATCHER]: dispatcher.socket }, stop };
}
