// Runs the real program (index.ts) under the shared mocks and records every registration request
// the Pulumi SDK sends, in order: type, name, inputs, parent, provider, dependencies and options.
// The offline plan and the tests read the program through this one function, so what they show is
// what the program registers, never a second description of it.
import { createHash } from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import type { RegisterResourceOutputsRequest, RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { AzureMocks } from "./mocks";
import { installProviderCache } from "./providerCache";
import type { Diagnostic, Plan, Step } from "./types";
import { urnName } from "./urn";

export const PROJECT_NAME = "aks-identity-vault";
const ROOT = path.join(__dirname, "..", "..");
const PROGRAM = path.join(ROOT, "index.ts");

// Markers of the Pulumi wire format (sdk/nodejs/runtime/rpc.ts).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The stack frames an error keeps while the program runs: the one that says where it was thrown. */
const PROGRAM_STACK_TRACE_LIMIT = 1;

/** An error's stack in the shape V8 writes by default (`Error: message` and a line per frame), where the code runs: no source map is read. */
export function plainStackTrace(error: Error, frames: readonly NodeJS.CallSite[]): string {
    return [`${error.name}: ${error.message}`, ...frames.map((frame) => `    at ${String(frame)}`)].join("\n");
}

export interface RunOptions {
    /** Stack name. */
    stack: string;
    /** Full config keys (`aks-identity-vault:identityMode`, `azure-native:location`) to string values. */
    config: Record<string, string>;
    /** What answers the program's registrations and invokes: Azure as `AzureMocks` models it, unless given. */
    mocks?: pulumi.runtime.Mocks;
}

/** The SDK module whose `registerResource` every resource constructor calls, synchronously. */
interface ResourceRuntime {
    registerResource: (res: unknown, parent: unknown, type: string, name: string, ...rest: unknown[]) => void;
}

/** How the declaration order knows a resource: its type and name. */
function declarationKey(type: string, name: string): string {
    return `${type}::${name}`;
}

/**
 * Notes, until the returned function is called, the order in which resources are declared (type and
 * name): the program's own order. The order registrations reach the engine is not: a resource is
 * sent once everything it depends on has an URN, and a dynamic provider's serialization finishes
 * when the inspector answers, so that order changes with timing.
 */
function noteDeclarationOrder(order: Map<string, number>): () => void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtime = require("@pulumi/pulumi/runtime/resource") as ResourceRuntime;
    const original = runtime.registerResource;
    runtime.registerResource = function (this: unknown, res, parent, type, name, ...rest) {
        const key = declarationKey(type, name);
        if (!order.has(key)) {
            order.set(key, order.size);
        }
        return original.call(this, res, parent, type, name, ...rest);
    };
    return () => {
        runtime.registerResource = original;
    };
}

/**
 * The steps in the order the program declared their resources, each default provider just before
 * the first resource that uses it; resources declared outside `order` keep their registration order
 * after those that are in it. Exported for testing.
 */
export function inDeclarationOrder(steps: readonly Step[], order: ReadonlyMap<string, number>): Step[] {
    const key = (s: Step) => declarationKey(s.newState.type, urnName(s.urn));
    const isDefaultProvider = (s: Step) => s.newState.type.startsWith("pulumi:providers:") && !order.has(key(s));
    const rank = (s: Step, index: number) => order.get(key(s)) ?? order.size + index;
    const resources = steps
        .map((s, index) => ({ s, index }))
        .filter(({ s }) => !isDefaultProvider(s))
        .sort((a, b) => rank(a.s, a.index) - rank(b.s, b.index))
        .map(({ s }) => s);
    const pending = new Map(steps.filter(isDefaultProvider).map((p) => [p.urn, p]));
    const ordered: Step[] = [];
    for (const s of resources) {
        const provider = pending.get(s.newState.provider.slice(0, s.newState.provider.lastIndexOf("::")));
        if (provider !== undefined) {
            ordered.push(provider);
            pending.delete(provider.urn);
        }
        ordered.push(s);
    }
    return [...ordered, ...pending.values()];
}

/** Turns wire-format values into what `pulumi preview --json` prints; secrets become "[secret]". */
export function planValue(value: unknown): unknown {
    if (value === UNKNOWN) {
        return "[unknown]";
    }
    if (Array.isArray(value)) {
        return value.map(planValue);
    }
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        switch (record[SIG_KEY]) {
            case SECRET_SIG:
                return "[secret]";
            case RESOURCE_SIG:
                return record.urn;
            case ASSET_SIG:
            case ARCHIVE_SIG:
                return "[asset]";
        }
        return Object.fromEntries(
            Object.keys(record)
                .sort()
                .map((key) => [key, planValue(record[key])]),
        );
    }
    return value;
}

type Callback = (err: unknown, response: unknown) => void;

/**
 * The URN the Pulumi engine gives a resource: its type is qualified by the parent's whole type
 * chain, except under the root Stack (sdk/go/common/resource/urn.go, NewURN).
 */
export function engineUrn(stack: string, parentUrn: string, type: string, name: string): string {
    const parentType = parentUrn === "" ? "" : parentUrn.split("::")[2];
    const qualified = parentType === "" || parentType === "pulumi:pulumi:Stack" ? type : `${parentType}$${type}`;
    return `urn:pulumi:${stack}::${PROJECT_NAME}::${qualified}::${name}`;
}

function defaultProviderUrn(stack: string, pkg: string, version: string): string {
    const name = version === "" ? "default" : `default_${version.replace(/[.-]/g, "_")}`;
    return `urn:pulumi:${stack}::${PROJECT_NAME}::pulumi:providers:${pkg}::${name}`;
}

function consoleDiagnostics(diagnostics: Diagnostic[]): () => void {
    const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error };
    const capture =
        (fallback: Diagnostic["severity"]) =>
        (...args: unknown[]) => {
            const text = args.map(String).join(" ");
            const match = /^(debug|info|warning|error): \[runtime\] ([\s\S]*)$/.exec(text);
            diagnostics.push(match ? { severity: match[1] as Diagnostic["severity"], message: match[2] } : { severity: fallback, message: text });
        };
    console.log = capture("info");
    console.info = capture("info");
    console.warn = capture("warning");
    console.error = capture("error");
    return () => Object.assign(console, saved);
}

/** Whether a loaded module is the program's (index.ts, config.ts, components/), not the tools' or a library's. */
function isProgramModule(file: string): boolean {
    const relative = path.relative(ROOT, file);
    return !relative.startsWith("..") && !relative.split(path.sep).some((part) => part === "node_modules" || part === "tools");
}

/**
 * Runs index.ts as `pulumi preview` would, against the mocks, and returns what it registered.
 * The program's modules are loaded afresh, as in a new process, so it can run again. Throws what
 * the program throws (a ConfigError for bad config).
 */
export function runProgram(options: RunOptions): Promise<Plan> {
    for (const file of Object.keys(require.cache)) {
        if (isProgramModule(file)) {
            delete require.cache[file];
        }
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return record(options, () => require(PROGRAM) as Record<string, unknown>);
}

/**
 * Runs `program` inside a Stack against the mocks, as the language host runs a Pulumi program, and
 * returns what it registered once every registration has settled. Unit tests pass a program that
 * builds one component; `runProgram` passes index.ts.
 */
export async function record(options: RunOptions, program: () => Record<string, unknown> | void): Promise<Plan> {
    installProviderCache();
    const mocks = options.mocks ?? new AzureMocks();
    await pulumi.runtime.setMocks(mocks, PROJECT_NAME, options.stack, true);
    pulumi.runtime.setAllConfig(options.config);

    const installed = pulumi.runtime.getMonitor();
    if (!(installed instanceof MockMonitor)) {
        throw new Error("the Pulumi runtime did not install the mock monitor");
    }
    const monitor: MockMonitor = installed;
    // The mock monitor keeps only the parent's last type segment and qualifies top-level resources
    // with the Stack's type; the engine does neither. URNs here must be the engine's, since a
    // changed URN is a replaced resource.
    Object.defineProperty(monitor, "newUrn", {
        value: (parent: string, type: string, name: string) => engineUrn(options.stack, parent, type, name),
    });

    const steps: Step[] = [];
    const providers = new Set<string>();
    const stackOutputs: Record<string, unknown> = {};

    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: RegisterResourceRequest, callback: Callback) => {
        const type = req.getType();
        const custom = req.getCustom();
        let provider = req.getProvider();
        if (custom && provider === "" && !type.startsWith("pulumi:providers:")) {
            const pkg = type.split(":")[0];
            const providerUrn = defaultProviderUrn(options.stack, pkg, req.getVersion());
            if (!providers.has(providerUrn)) {
                providers.add(providerUrn);
                steps.push({
                    op: "create",
                    urn: providerUrn,
                    newState: {
                        type: `pulumi:providers:${pkg}`,
                        custom: true,
                        parent: "",
                        provider: "",
                        inputs: { version: req.getVersion() },
                        dependencies: [],
                        propertyDependencies: {},
                        protect: false,
                        retainOnDelete: false,
                        deleteBeforeReplace: false,
                        ignoreChanges: [],
                        aliases: [],
                    },
                });
            }
            provider = `${providerUrn}::${UNKNOWN}`;
        }
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps, key) => {
            propertyDependencies[key] = [...deps.getUrnsList()].sort();
        });
        const inputs = planValue(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
        if (type.startsWith("pulumi-nodejs:dynamic:") && typeof inputs.__provider === "string") {
            // The serialized provider code: its digest shows in a diff when the code changes.
            inputs.__provider = `[dynamic provider, sha256 ${createHash("sha256").update(inputs.__provider).digest("hex").slice(0, 16)}]`;
        }
        const step: Step = {
            op: "create",
            urn: "",
            newState: {
                type,
                custom,
                parent: req.getParent(),
                provider,
                inputs,
                dependencies: [...new Set(req.getDependenciesList())].sort(),
                propertyDependencies: Object.fromEntries(
                    Object.keys(propertyDependencies)
                        .sort()
                        .map((k) => [k, propertyDependencies[k]]),
                ),
                protect: req.getProtect() ?? false,
                retainOnDelete: req.getRetainondelete() ?? false,
                deleteBeforeReplace: req.getDeletebeforereplace(),
                ignoreChanges: req.getIgnorechangesList(),
                aliases: req.getAliasesList().map((alias) => {
                    if (alias.hasUrn()) {
                        return alias.getUrn();
                    }
                    // An alias spec: every part left empty means "as the resource has it" (the
                    // engine's rule), and the result is the URN the resource used to have.
                    const spec = alias.getSpec();
                    const parent = spec?.getNoparent() ? "" : spec?.getParenturn() || req.getParent();
                    return engineUrn(spec?.getStack() || options.stack, parent, spec?.getType() || type, spec?.getName() || req.getName());
                }),
            },
        };
        steps.push(step);
        return register(req, (err: unknown, response: unknown) => {
            if (response !== undefined && response !== null && typeof (response as { getUrn?: unknown }).getUrn === "function") {
                step.urn = (response as { getUrn(): string }).getUrn();
            }
            callback(err, response);
        });
    };

    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: RegisterResourceOutputsRequest, callback: Callback) => {
        if (req.getUrn().includes("::pulumi:pulumi:Stack::")) {
            Object.assign(stackOutputs, planValue(req.getOutputs()?.toJavaScript() ?? {}));
        }
        return registerOutputs(req, callback);
    };

    const diagnostics: Diagnostic[] = [];
    const restoreConsole = consoleDiagnostics(diagnostics);
    // The Pulumi SDK takes a stack trace of every promise it tracks, for a leak report when the
    // process exits: about a fifth of a large plan's time. `disconnect` below waits for all of them,
    // so the plan can leak none, and the traces are kept short while the program runs.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = PROGRAM_STACK_TRACE_LIMIT;
    // The SDK reads each of those traces at once, so they are formatted plainly too: where a source-map
    // formatter is installed (jest's), mapping one trace per promise costs more than the program.
    // A stack read after the run, as a program's error's is, gets the formatter installed then.
    const prepareStackTrace = Error.prepareStackTrace;
    Error.prepareStackTrace = plainStackTrace;
    // The Node language host runs the program inside a Stack resource whose outputs are the
    // program's exports; this does the same. A program that throws (bad config) is caught inside
    // the Stack, so that the SDK's promises derived from the Stack's outputs do not reject
    // unhandled, and rethrown once the runtime has settled.
    let programError: unknown;
    const declared = new Map<string, number>();
    const stopNoting = noteDeclarationOrder(declared);
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            try {
                return program() ?? {};
            } catch (err) {
                programError = err;
                return {};
            }
        });
        // Waits for every outstanding registration, including the serialization of dynamic
        // providers, which runs before their registration request is sent.
        await pulumi.runtime.disconnect();
    } finally {
        stopNoting();
        Error.stackTraceLimit = stackTraceLimit;
        Error.prepareStackTrace = prepareStackTrace;
        restoreConsole();
    }
    if (programError !== undefined) {
        throw programError;
    }

    const missing = steps.filter((s) => s.urn === "");
    if (missing.length > 0) {
        throw new Error(`registrations without a URN: ${missing.map((s) => s.newState.type).join(", ")}`);
    }
    return {
        steps: inDeclarationOrder(steps, declared),
        outputs: Object.fromEntries(
            Object.keys(stackOutputs)
                .sort()
                .map((k) => [k, stackOutputs[k]]),
        ),
        diagnostics,
        changeSummary: { create: steps.length },
    };
}
