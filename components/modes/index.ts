// The identity modes: one driver each (driver.ts says what a driver decides). The list of modes, the
// `identityMode` values config accepts and what each allows all come from here; a new mode is one new
// driver module added to DRIVERS.
import type { IdentityModeDriver } from "./driver";
import { podIdentityAddon } from "./podIdentityAddon";
import { podIdentityOss } from "./podIdentityOss";
import { workloadIdentity } from "./workloadIdentity";

/** Every mode's driver, in the order the docs list them. */
const DRIVERS = [podIdentityAddon, podIdentityOss, workloadIdentity] as const;

/** How workloads obtain their Azure identity: the name of a driver. */
export type IdentityMode = (typeof DRIVERS)[number]["name"];

/** The mode names, as config accepts them. */
export const IDENTITY_MODES: readonly [IdentityMode, ...IdentityMode[]] = [DRIVERS[0].name, ...DRIVERS.slice(1).map((d) => d.name)];

/**
 * The mode of a stack that sets no `identityMode`: the add-on, what stacks ran before the setting
 * existed, so that leaving it unset never switches a deployed stack's mode.
 */
export const DEFAULT_IDENTITY_MODE: IdentityMode = podIdentityAddon.name;

/** The driver of `mode`. */
export function identityModeDriver(mode: IdentityMode): IdentityModeDriver<IdentityMode> {
    const driver = DRIVERS.find((d) => d.name === mode);
    if (driver === undefined) {
        throw new Error(`no driver for identity mode ${String(mode)}`);
    }
    return driver;
}

export type { IdentityModeDriver } from "./driver";
