// The plan servers' dispatcher: one queue of plan commands for all the servers of a run, each command
// handed to a server when it is free. Choosing a server by a hash of the command left one server
// with both plans of fifty workloads while the other ran out of work; a queue keeps both busy until
// the last command. It runs in the process that started the servers (jest's global setup, `npm run
// policy`), and client.ts sends it the commands.
import * as http from "http";
import type { PlanProcess, PlanRequest } from "./client";

/** A command waiting for a server. */
interface Waiting {
    request: PlanRequest;
    settle: (result: PlanProcess) => void;
    fail: (reason: unknown) => void;
}

/**
 * Hands plan commands to `servers` servers as they become free, in the order they came, and computes
 * each key once. Commands with the same route go to the server the first of them went to, which holds
 * the first run they start from (command.ts, FirstRuns); a command waiting for its server does not
 * hold up the commands behind it.
 */
export class PlanDispatcher {
    private readonly results = new Map<string, Promise<PlanProcess>>();
    /** The server each route's first command went to. */
    private readonly homes = new Map<string, number>();
    private readonly waiting: Waiting[] = [];
    private readonly free: number[];

    constructor(
        servers: number,
        private readonly run: (server: number, request: PlanRequest) => Promise<PlanProcess>,
    ) {
        this.free = Array.from({ length: servers }, (_, i) => i);
    }

    /** The result of the command `request.key` names, computed when a server is free unless it already was. */
    submit(request: PlanRequest): Promise<PlanProcess> {
        let result = this.results.get(request.key);
        if (result === undefined) {
            result = new Promise<PlanProcess>((settle, fail) => this.waiting.push({ request, settle, fail }));
            this.results.set(request.key, result);
            this.dispatch();
        }
        return result;
    }

    private dispatch(): void {
        for (const server of [...this.free]) {
            const next = this.waiting.findIndex((w) => (this.homes.get(routeOf(w.request)) ?? server) === server);
            if (next === -1) {
                continue;
            }
            const [command] = this.waiting.splice(next, 1);
            const route = routeOf(command.request);
            if (!this.homes.has(route)) {
                this.homes.set(route, server);
            }
            this.free.splice(this.free.indexOf(server), 1);
            this.run(server, { key: command.request.key, argv: command.request.argv })
                .then(command.settle, command.fail)
                .finally(() => {
                    this.free.push(server);
                    this.dispatch();
                });
        }
    }
}

function routeOf(request: PlanRequest): string {
    return request.route ?? request.key;
}

/** A running dispatcher: the socket clients send commands to, and how to stop it. */
export interface RunningDispatcher {
    socket: string;
    close(): void;
}

/** Serves a PlanDispatcher over the plan servers on `sockets` at `socket`, answering as a plan server does. */
export function startPlanDispatcher(socket: string, sockets: string[], ask: (socket: string, request: PlanRequest) => Promise<PlanProcess>): Promise<RunningDispatcher> {
    const dispatcher = new PlanDispatcher(sockets.length, (server, request) => ask(sockets[server], request));
    const server = http.createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => (body += chunk));
        req.on("end", () => {
            dispatcher.submit(JSON.parse(body) as PlanRequest).then(
                (run) => {
                    res.setHeader("content-type", "application/json");
                    res.end(JSON.stringify(run));
                },
                (err: unknown) => res.writeHead(502).end(String(err)),
            );
        });
    });
    return new Promise((resolve, reject) => {
        server.on("error", reject);
        server.listen(socket, () => resolve({ socket, close: () => server.close() }));
    });
}
