// Stops the plan servers globalSetup.ts started and removes their sockets' directory.
import * as fs from "fs";

/** Where globalSetup leaves what this teardown undoes: jest runs both in its own process. */
export const RUN_STATE = "aivPlanServers";

interface RunState {
    directory: string;
    stop(): void;
}

function isRunState(value: unknown): value is RunState {
    return typeof value === "object" && value !== null && typeof Reflect.get(value, "directory") === "string" && typeof Reflect.get(value, "stop") === "function";
}

export default function globalTeardown(): void {
    const state: unknown = Reflect.get(globalThis, RUN_STATE);
    if (isRunState(state)) {
        state.stop();
        fs.rmSync(state.directory, { recursive: true, force: true });
    }
}
