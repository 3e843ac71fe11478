// The identity modes' drivers, one each (driver.ts says what a driver decides), for the modes
// identityModes.ts names: a new mode is its entry there and its driver module here, in DRIVERS.
import { IDENTITY_MODES } from "../../identityModes";
import type { IdentityMode } from "../../identityModes";
import type { IdentityModeDriver } from "./driver";
import { podIdentityAddon } from "./podIdentityAddon";
import { podIdentityOss } from "./podIdentityOss";
import { workloadIdentity } from "./workloadIdentity";

/** Every mode's driver, one per mode of identityModes.ts. */
const DRIVERS: readonly IdentityModeDriver<IdentityMode>[] = [podIdentityAddon, podIdentityOss, workloadIdentity];

const missing = IDENTITY_MODES.filter((mode) => !DRIVERS.some((d) => d.name === mode));
if (missing.length > 0) {
    throw new Error(`no driver for identity mode ${missing.join(", ")}`);
}

export { DEFAULT_IDENTITY_MODE, IDENTITY_MODES } from "../../identityModes";
export type { IdentityMode } from "../../identityModes";

/** The driver of `mode`. */
export function identityModeDriver(mode: IdentityMode): IdentityModeDriver<IdentityMode> {
    const driver = DRIVERS.find((d) => d.name === mode);
    if (driver === undefined) {
        throw new Error(`no driver for identity mode ${String(mode)}`);
    }
    return driver;
}

export type { IdentityModeDriver } from "./driver";
