// What a plan is: the shape of `pulumi preview --json`, which the offline plan prints and the graph
// and the policy evaluation read. One step type for all of them; a plan printed by the real engine
// may leave empty fields out, which `completeState` fills in as the engine means them.

/** The state a step would give a resource: `newState` of `pulumi preview --json`. */
export interface StepState {
    type: string;
    custom: boolean;
    /** URN of the parent, "" for none. */
    parent: string;
    /** Provider reference `<urn>::<id>`, "" for none. */
    provider: string;
    inputs: Record<string, unknown>;
    /** URNs the resource waits for. */
    dependencies: string[];
    /** Per input, the URNs its value came from. */
    propertyDependencies: Record<string, string[]>;
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    aliases: unknown[];
}

/** One step of a plan, as the offline plan prints it: every field present. */
export interface Step {
    op: "create";
    urn: string;
    newState: StepState;
}

/** One step as any `pulumi preview --json` may print it: the engine omits empty fields. */
export interface PreviewStep {
    op?: string;
    urn: string;
    newState: Partial<StepState> & Pick<StepState, "type">;
}

/** A step's state with the fields a preview left out filled in: false, "", and empty lists and maps. */
export function completeState(state: PreviewStep["newState"]): StepState {
    return {
        type: state.type,
        custom: state.custom ?? false,
        parent: state.parent ?? "",
        provider: state.provider ?? "",
        inputs: state.inputs ?? {},
        dependencies: state.dependencies ?? [],
        propertyDependencies: state.propertyDependencies ?? {},
        protect: state.protect ?? false,
        retainOnDelete: state.retainOnDelete ?? false,
        deleteBeforeReplace: state.deleteBeforeReplace ?? false,
        ignoreChanges: state.ignoreChanges ?? [],
        aliases: state.aliases ?? [],
    };
}

export interface Diagnostic {
    severity: "debug" | "info" | "warning" | "error";
    message: string;
}

/** A whole plan: `pulumi preview --json`'s steps, outputs, diagnostics and change summary. */
export interface Plan {
    steps: Step[];
    outputs: Record<string, unknown>;
    diagnostics: Diagnostic[];
    changeSummary: { create: number };
}
