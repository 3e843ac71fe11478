// One plan server per core for the whole jest run (see tools/plan/server.ts): test files that need the plan
// of the same configuration share one computation, and every plan shares one load of the libraries.
import * as os from "os";
import { RUN_STATE } from "./globalTeardown";
import { startPlanServers } from "../tools/plan/server";

export default async function globalSetup(): Promise<void> {
    const servers = await startPlanServers(os.availableParallelism());
    Object.assign(process.env, servers.env);
    Reflect.set(globalThis, RUN_STATE, servers);
}
