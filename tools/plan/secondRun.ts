// The run after the first, offline: `pulumi up`, then `pulumi refresh`, then `pulumi preview` again.
// The first run's registrations and the mocks' answers are the state a `pulumi up` would leave; the
// read-back model (readBack.ts) turns it into what a refresh stores, as the providers compute it from
// what Azure and Kubernetes answer later; the program then runs again against that state, its
// resources answered with their refreshed outputs, and each registration is compared with the stored
// inputs as the engine does: ignoreChanges first, then every input. A run that changes nothing shows
// every resource `same`.
import * as pulumi from "@pulumi/pulumi";
import { AzureMocks } from "./mocks";
import { runProgram } from "./harness";
import type { RunOptions } from "./harness";
import { isRecord, refreshed } from "./readBack";
import type { StoredResource } from "./readBack";
import type { Diagnostic, Plan } from "./types";
import { urnName } from "./urn";

type MockAnswer = { id: string | undefined; state: Record<string, unknown> };

/** The mocks of a first run, which keep what they answered: the outputs a `pulumi up` would store. */
class RecordingMocks implements pulumi.runtime.Mocks {
    readonly answers = new Map<string, MockAnswer>();
    /** Resources that share a type and name with one before them: the state could not tell them apart. */
    readonly duplicates: string[] = [];
    private readonly azure = new AzureMocks();

    newResource(args: pulumi.runtime.MockResourceArgs): MockAnswer {
        const answer = this.azure.newResource(args);
        const key = `${args.type}::${args.name}`;
        if (this.answers.has(key)) {
            this.duplicates.push(`two resources of type ${args.type} are named ${args.name}: the state could not tell them apart`);
        } else {
            this.answers.set(key, answer);
        }
        return answer;
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        return this.azure.call(args);
    }
}

/**
 * A first run of the program: its plan, as `npm run plan` prints it, and what the mocks answered,
 * which is the state a `pulumi up` would leave.
 */
export interface RecordedRun {
    plan: Plan;
    answers: ReadonlyMap<string, MockAnswer>;
    duplicates: readonly string[];
}

/** Runs the program as a first run, answered by the mocks as `runProgram` answers it, and records their answers. */
export async function recordedRun(options: RunOptions): Promise<RecordedRun> {
    const recording = new RecordingMocks();
    const plan = await runProgram({ ...options, mocks: recording });
    return { plan, answers: recording.answers, duplicates: recording.duplicates };
}

/**
 * The mocks of a run against existing state: a resource the state holds answers with its stored
 * outputs, as the engine gives a program the outputs of a resource it does not change; a new one is
 * answered as on a first run.
 */
class StateMocks implements pulumi.runtime.Mocks {
    private readonly azure = new AzureMocks();

    constructor(private readonly state: ReadonlyMap<string, StoredResource>) {}

    newResource(args: pulumi.runtime.MockResourceArgs): MockAnswer {
        const stored = this.state.get(`${args.type}::${args.name}`);
        return stored === undefined ? this.azure.newResource(args) : { id: stored.id, state: stored.outputs };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        return this.azure.call(args);
    }
}

/**
 * Types whose provider reports no change whatever the program sends (their `diff`): a moment and a
 * creation record keep what they had at creation (components/timestamp.ts, creationRecord.ts).
 */
const NEVER_CHANGED = new Set(["pulumi-nodejs:dynamic:Timestamp", "pulumi-nodejs:dynamic:CreationRecord"]);

/** What the second run would do to one resource, in the shape of a `pulumi preview --json` step. */
export interface SecondRunStep {
    op: "same" | "update" | "create" | "delete";
    urn: string;
    type: string;
    /** The inputs that differ, as paths (`agentPoolProfiles[1].name`), sorted; empty unless `update`. */
    diffs: string[];
    /** For an update, the inputs the provider would be sent (after ignoreChanges). */
    inputs?: Record<string, unknown>;
    /** For an update, the inputs the state held. */
    oldInputs?: Record<string, unknown>;
}

export interface SecondRun {
    steps: SecondRunStep[];
    diagnostics: Diagnostic[];
    changeSummary: Record<SecondRunStep["op"], number>;
}

// ---------------------------------------------------------------------------------------------
// Property paths, as ignoreChanges writes them (`a.b`, `a[0].b`). Exported for testing.

/** Splits an ignoreChanges path into keys and indexes. */
export function parsePath(path: string): (string | number)[] {
    const parts: (string | number)[] = [];
    const pattern = /([^.[\]]+)|\[(\d+)\]/g;
    let match: RegExpExecArray | null;
    while ((match = pattern.exec(path)) !== null) {
        parts.push(match[2] !== undefined ? Number(match[2]) : match[1]);
    }
    if (parts.length === 0) {
        throw new Error(`not a property path: ${JSON.stringify(path)}`);
    }
    return parts;
}

/**
 * Resets the value at `path` in `target` to the one in `old`, as the engine's PropertyPath.Reset does: it
 * removes a key `old` lacks, and fails (false) where only one side has an element of a list, since it
 * neither grows nor shrinks a list (sdk/go/common/resource/properties_path.go).
 */
function reset(old: unknown, target: unknown, path: readonly (string | number)[]): boolean {
    const [head, ...rest] = path;
    if (typeof head === "number") {
        if (!Array.isArray(old) || !Array.isArray(target)) {
            return !Array.isArray(old) && !Array.isArray(target);
        }
        if (head >= old.length && head >= target.length) {
            return rest.length === 0;
        }
        if (head >= old.length || head >= target.length) {
            return false;
        }
        if (rest.length === 0) {
            target[head] = structuredClone(old[head]);
            return true;
        }
        return reset(old[head], target[head], rest);
    }
    if (rest.length === 0) {
        if (isRecord(old) && head in old) {
            if (!isRecord(target)) {
                return false;
            }
            target[head] = structuredClone(old[head]);
        } else if (isRecord(target)) {
            delete target[head];
        }
        return true;
    }
    if (!isRecord(old) || !isRecord(target)) {
        return !isRecord(old) && !isRecord(target);
    }
    if (head in old && !(head in target)) {
        return false;
    }
    if (!(head in old) && !(head in target)) {
        return true;
    }
    return reset(old[head], target[head], rest);
}

/**
 * The inputs the engine sends after ignoreChanges: each ignored path takes the old value, or is
 * removed when the old inputs have none; a path only one side can follow fails the preview
 * (pkg/resource/deploy/step_generator.go, processIgnoreChanges).
 */
export function applyIgnoreChanges(newInputs: Record<string, unknown>, oldInputs: Record<string, unknown>, ignoreChanges: readonly string[]): Record<string, unknown> {
    const result = structuredClone(newInputs);
    const invalid = ignoreChanges.filter((ignored) => !reset(oldInputs, result, parsePath(ignored)));
    if (invalid.length > 0) {
        throw new Error(`cannot ignore changes to the following properties because one or more elements of the path are missing: ${JSON.stringify(invalid.join(", "))}`);
    }
    return result;
}

/** The paths at which two input values differ, down to the first value that is not an object or list on both sides. */
export function differingPaths(before: unknown, after: unknown, prefix = ""): string[] {
    const bothArrays = Array.isArray(before) && Array.isArray(after);
    const bothObjects = !bothArrays && isRecord(before) && isRecord(after);
    if (bothArrays) {
        const length = Math.max(before.length, after.length);
        return Array.from({ length }, (_, i) => differingPaths(before[i], after[i], `${prefix}[${i}]`)).flat();
    }
    if (bothObjects) {
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
        return keys.flatMap((key) => differingPaths(before[key], after[key], prefix === "" ? key : `${prefix}.${key}`));
    }
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

/** The custom resources of a plan (not its providers), each with its name and the key the state keeps it under. */
function resourcesOf(plan: Plan): Array<{ step: Plan["steps"][number]; name: string; key: string }> {
    return plan.steps
        .filter((step) => step.newState.custom && !step.newState.type.startsWith("pulumi:providers:"))
        .map((step) => {
            const name = urnName(step.urn);
            return { step, name, key: `${step.newState.type}::${name}` };
        });
}

/** The state a `pulumi up` of `plan` leaves: each custom resource's inputs, id and outputs. */
function stateOf(plan: Plan, answers: ReadonlyMap<string, MockAnswer>): Map<string, StoredResource> {
    const state = new Map<string, StoredResource>();
    for (const { step, name, key } of resourcesOf(plan)) {
        const answer = answers.get(key);
        if (answer === undefined) {
            throw new Error(`no answer recorded for ${key}`);
        }
        state.set(key, { urn: step.urn, type: step.newState.type, name, id: answer.id, inputs: step.newState.inputs, outputs: answer.state });
    }
    return state;
}

/**
 * Models a refresh of the state the `first` run leaves, runs the program again on `second` (the same
 * config unless the operator changed it) against that state, and says what the second run would change.
 */
export async function secondRun(first: RecordedRun, second: RunOptions): Promise<SecondRun> {
    if (first.duplicates.length > 0) {
        throw new Error(first.duplicates[0]);
    }
    const state = refreshed(stateOf(first.plan, first.answers));
    const secondPlan = await runProgram({ ...second, mocks: new StateMocks(state) });

    const steps: SecondRunStep[] = [];
    const seen = new Set<string>();
    for (const { step, key } of resourcesOf(secondPlan)) {
        const stored = state.get(key);
        if (stored === undefined) {
            steps.push({ op: "create", urn: step.urn, type: step.newState.type, diffs: [] });
            continue;
        }
        seen.add(key);
        const sent = applyIgnoreChanges(step.newState.inputs, stored.inputs, step.newState.ignoreChanges);
        const diffs = NEVER_CHANGED.has(step.newState.type) ? [] : differingPaths(stored.inputs, sent);
        steps.push(
            diffs.length === 0
                ? { op: "same", urn: step.urn, type: step.newState.type, diffs }
                : { op: "update", urn: step.urn, type: step.newState.type, diffs, inputs: sent, oldInputs: stored.inputs },
        );
    }
    for (const [key, stored] of state) {
        if (!seen.has(key)) {
            steps.push({ op: "delete", urn: stored.urn, type: stored.type, diffs: [] });
        }
    }
    const changeSummary: SecondRun["changeSummary"] = { same: 0, update: 0, create: 0, delete: 0 };
    for (const s of steps) {
        changeSummary[s.op]++;
    }
    return { steps, diagnostics: secondPlan.diagnostics, changeSummary };
}
