// One plan server per core for the whole jest run (see tools/plan/server.ts): test files that need the plan
// of the same configuration share one computation, and every plan shares one load of the libraries.
import * as os from "os";
import * as path from "path";
import { RUN_STATE } from "./globalTeardown";
import { startPlanServers } from "../tools/plan/server";
import { PLAN_SERVERS } from "../tools/plan/client";

export default async function globalSetup(): Promise<void> {
    const servers = await startPlanServers(os.availableParallelism());
    process.env[PLAN_SERVERS] = servers.sockets.join(path.delimiter);
    Reflect.set(globalThis, RUN_STATE, servers);
}
