// The identity modes are drivers: config accepts exactly the drivers' names, each driver answers
// every question the components ask of a mode, and no code outside components/modes/ names a mode.
import * as fs from "fs";
import * as path from "path";
import { IDENTITY_MODES, identityModeDriver } from "../../components/modes";
import type { IdentityMode } from "../../components/modes";
import { aadPodIdentityValues } from "../../components/modes/podIdentityOss/aadPodIdentity";
import { IDENTITY_TYPES } from "../../config";
import { PLAN_CONFIGURATIONS } from "../../tools/policyOffline";

describe("The identity-mode drivers", () => {
    const ROOT = path.join(__dirname, "..", "..");

    /** The TypeScript files under `dir` (relative to the root), recursively. */
    function sources(dir: string): string[] {
        return fs
            .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
            .filter((f) => f.endsWith(".ts"))
            .map((f) => path.join(dir, f));
    }

    /** `text` without its comments (line and block), so that prose may name a mode. */
    function code(text: string): string {
        return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
    }

    test("the modes are the drivers' names, each driver found by its own name", () => {
        for (const mode of IDENTITY_MODES) {
            expect(identityModeDriver(mode).name).toBe(mode);
        }
        expect(PLAN_CONFIGURATIONS.map((c) => c.label.split("/")[0])).toEqual(IDENTITY_MODES.flatMap((m) => [m, m]));
    });

    test("asking for the driver of a mode there is none for fails, naming the mode", () => {
        // Config refuses such a mode before any driver is asked; the lookup fails on its own too.
        const unknownMode: string = "nextMode";
        expect(() => identityModeDriver(unknownMode as IdentityMode)).toThrow("no driver for identity mode nextMode");
    });

    test.each(IDENTITY_MODES)("%s: a driver with every part a component asks for", (mode) => {
        const driver = identityModeDriver(mode);
        expect(driver.summary.length).toBeGreaterThan(20);
        expect(driver.identityTypes).toContain("managedIdentity");
        expect(driver.identityTypes.every((t) => IDENTITY_TYPES.includes(t))).toBe(true);
        expect(typeof driver.cluster.podIdentityAddon).toBe("boolean");
        expect(driver.pods.tokenEgress.length).toBeGreaterThan(0);
        expect(Object.keys(driver.pods.labels({ bindingSelector: "alpha" })).length).toBeGreaterThan(0);
        expect(driver.pods.secretProviderIdentity("client").useVMManagedIdentity).toBeUndefined();
        expect(typeof driver.deploy).toBe("function");
    });

    test("at most one mode runs each piece of cluster machinery, and only the add-on's needs the add-on", () => {
        const drivers = IDENTITY_MODES.map(identityModeDriver);
        expect(drivers.filter((d) => d.cluster.podIdentityAddon).map((d) => d.name)).toEqual(["podIdentityAddon"]);
        expect(drivers.filter((d) => d.cluster.workloadIdentity).map((d) => d.name)).toEqual(["workloadIdentity"]);
    });

    test("no code outside components/modes/ names an identity mode: components ask the driver", () => {
        const files = ["index.ts", "config.ts", ...sources("components").filter((f) => !f.startsWith(path.join("components", "modes") + path.sep))];
        const named = files.flatMap((file) => {
            const text = code(fs.readFileSync(path.join(ROOT, file), "utf8"));
            return IDENTITY_MODES.filter((mode) => new RegExp(`["'\`]${mode}["'\`]`).test(text)).map((mode) => `${file}: "${mode}"`);
        });
        expect(named).toEqual([]);
    });
});

describe("the aad-pod-identity release's values", () => {
    /**
     * The defaults the pinned chart declares for the keys the stack sets: Azure/aad-pod-identity
     * charts/aad-pod-identity/values.yaml at v1.8.17 (chart 4.1.18), lines 19, 26, 121, 250 and 263.
     * The chart ships no values schema, so a key it does not declare would be ignored silently.
     */
    const CHART_DEFAULTS: Readonly<Record<string, unknown>> = {
        forceNamespaced: "false",
        installMICException: "true",
        "mic.syncRetryDuration": "",
        "nmi.allowNetworkPluginKubenet": false,
        "rbac.enabled": true,
    };

    /** Every leaf of `value` by its dotted path. */
    function leaves(value: unknown, prefix = ""): Array<[string, unknown]> {
        return typeof value === "object" && value !== null && !Array.isArray(value)
            ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, prefix === "" ? key : `${prefix}.${key}`))
            : [[prefix, value]];
    }

    test("every value the release sets is a key the chart declares, of the type of its default", () => {
        const set = leaves(aadPodIdentityValues());
        expect(set.length).toBeGreaterThan(0);
        for (const [key, value] of set) {
            expect([key, key in CHART_DEFAULTS, typeof value]).toEqual([key, true, typeof CHART_DEFAULTS[key]]);
        }
    });

    test("a misspelt or mistyped value is caught", () => {
        const declared = (values: unknown) => leaves(values).every(([key, value]) => key in CHART_DEFAULTS && typeof value === typeof CHART_DEFAULTS[key]);
        expect(declared(aadPodIdentityValues())).toBe(true);
        expect(declared({ ...aadPodIdentityValues(), forceNameSpaced: "true" })).toBe(false);
        expect(declared({ ...aadPodIdentityValues(), forceNamespaced: true })).toBe(false);
    });
});
