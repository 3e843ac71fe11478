// Stops the plan servers globalSetup.ts started.
import type { PlanServers } from "../tools/plan/server";

/** Where globalSetup leaves the servers for this teardown: jest runs both in its own process. */
export const RUN_STATE = "aivPlanServers";

function isPlanServers(value: unknown): value is PlanServers {
    return typeof value === "object" && value !== null && typeof Reflect.get(value, "stop") === "function";
}

export default function globalTeardown(): void {
    const servers: unknown = Reflect.get(globalThis, RUN_STATE);
    if (isPlanServers(servers)) {
        servers.stop();
    }
}
