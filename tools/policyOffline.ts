// Runs the policy pack against an offline plan (the JSON `npm run plan -- --json` prints) without
// the Pulumi engine or the pack's gRPC server. Every resource step is handed to every resource
// policy, and the whole plan to every stack policy, with the same arguments @pulumi/policy's
// analyzer builds (type, inputs behind its unknown-checking proxy, URN, name, options, provider,
// isType/asType, getConfig, notApplicable) and the same rules for enforcement levels, policy
// config, "not applicable" and values that are unknown during a preview.
import * as policySdk from "@pulumi/policy";
import { IDENTITY_MODES, KEY_VAULT_AUTHORIZATIONS } from "../config";
import type { PreviewStep } from "./plan/types";
import { providerUrn, urnName } from "./plan/urn";
import type {
    EnforcementLevel,
    Policies,
    PolicyPackConfig,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

/** The part of a plan document the evaluation reads. */
export interface PlanDocument {
    steps: PreviewStep[];
}

/** One reported violation, with the plan it was found in. */
export interface Violation {
    policyName: string;
    enforcementLevel: "advisory" | "mandatory";
    /** Plan label, such as `workloadIdentity/rbac`. */
    label: string;
    /** The resource in violation; undefined when a stack policy blames the stack as a whole. */
    urn?: string;
    message: string;
}

/** What one policy did with one resource (or one stack). */
export interface PolicyOutcome {
    /** False when the policy was disabled, filtered by type, or declared itself not applicable. */
    applied: boolean;
    violations: Violation[];
    /** The reasons the policy, or each of its validations that did, gave for not applying (`notApplicable`). */
    notApplicable?: string[];
}

/** Settings of an evaluation. */
export interface EvaluationOptions {
    /** Names the plan in every violation. */
    label?: string;
    /** Policy pack config, as `pulumi preview --policy-pack-config` would pass it. */
    config?: PolicyPackConfig;
    /** Stack tags handed to the policies. */
    stackTags?: Record<string, string>;
}

/** The result of evaluating a plan. */
export interface Evaluation {
    violations: Violation[];
    /** Resource validations performed: (resource policy, resource) pairs where the policy applied. */
    resourceValidations: number;
}

/** The enforcement level of a policy pack that sets none, as in @pulumi/policy. */
const PACK_DEFAULT_LEVEL: EnforcementLevel = "advisory";
/** How the offline plan spells a value that is unknown during a preview. */
const PLAN_UNKNOWN = "[unknown]";

/** The unknown-checking proxy and its error, as the analyzer uses them (typed here; the SDK's declarations omit them). */
const checkUnknowns: <T extends object>(value: T) => T = policySdk.unknownCheckingProxy;
const UnknownValueError: new (...args: never[]) => Error = policySdk.UnknownValueError;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal module of @pulumi/policy without typings
const proxyInternals: { unknownStringValue: string } = require("@pulumi/policy/proxy");

/** Thrown by `notApplicable`, as the analyzer's own NotApplicableError. */
class NotApplicableError extends Error {
    readonly reason?: string;

    constructor(reason?: string) {
        // An outcome, not a failure: nobody reads its stack, which would cost more than the policy.
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        super(reason ?? "not applicable");
        Error.stackTraceLimit = limit;
        this.reason = reason;
    }
}

function throwNotApplicable(reason?: string): never {
    throw new NotApplicableError(reason);
}

/** True for a resource policy: one that validates resources. */
export function isResourcePolicy(policy: Policies[number]): policy is ResourceValidationPolicy {
    return "validateResource" in policy && policy.validateResource !== undefined;
}

/** True for a stack policy: one that validates the whole stack. */
export function isStackPolicy(policy: Policies[number]): policy is StackValidationPolicy {
    return "validateStack" in policy && typeof policy.validateStack === "function";
}

/** The Pulumi type a resource class or a typed validation carries, if any. */
function pulumiTypeOf(value: object): string | undefined {
    const type: unknown = Reflect.get(value, "__pulumiType");
    return typeof type === "string" && type.length > 0 ? type : undefined;
}

/** Whether `type` is the type of `resourceClass`, by the analyzer's rules. */
function isTypeOf(type: string, resourceClass: object): boolean {
    const pulumiType = pulumiTypeOf(resourceClass);
    if (pulumiType !== undefined) {
        return type === pulumiType;
    }
    const isInstance: unknown = Reflect.get(resourceClass, "isInstance");
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

/** The enforcement level a policy runs at under `config`. */
export function enforcementLevelOf(policy: Policies[number], config?: PolicyPackConfig): EnforcementLevel {
    const configured = (entry: PolicyPackConfig[string] | undefined): EnforcementLevel | undefined => (typeof entry === "string" ? entry : entry?.enforcementLevel);
    return configured(config?.[policy.name]) ?? configured(config?.all) ?? policy.enforcementLevel ?? PACK_DEFAULT_LEVEL;
}

/** The config a policy's getConfig returns: its schema's defaults overlaid with `config`. */
export function policyConfigOf(policy: Policies[number], config?: PolicyPackConfig): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
        const fallback: unknown = Reflect.get(schema, "default");
        if (fallback !== undefined) {
            values[key] = fallback;
        }
    }
    const entry = config?.[policy.name];
    if (typeof entry === "object" && entry !== null) {
        for (const [key, value] of Object.entries(entry)) {
            if (key !== "enforcementLevel") {
                values[key] = value;
            }
        }
    }
    return values;
}

/** A plan value with its unknowns turned back into the sentinels the analyzer sees. */
function restoreUnknowns(value: unknown): unknown {
    if (value === PLAN_UNKNOWN) {
        return proxyInternals.unknownStringValue;
    }
    if (Array.isArray(value)) {
        return value.map(restoreUnknowns);
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restoreUnknowns(v)]));
    }
    return value;
}

/**
 * Each step's inputs with their unknowns restored, made once per step and shared by the policies that
 * read it. The analyzer gives each validation its own copy; a shared one stays faithful to that while
 * no policy writes to what it reads, which `readOnly` enforces.
 */
const restoredInputs = new WeakMap<PreviewStep, Record<string, unknown>>();

/** Refuses a write to a resource's properties: a policy reads them and may not change them for the next. */
function refuseWrite(): never {
    throw new TypeError("a policy may not change the properties it validates");
}

/** `value` behind a proxy that refuses writes at any depth (not frozen: the unknown-checking proxy wraps only what is writable). */
function readOnly<T>(value: T): T {
    if (typeof value !== "object" || value === null) {
        return value;
    }
    return new Proxy(value, {
        get: (target, key) => readOnly(Reflect.get(target, key)),
        set: refuseWrite,
        deleteProperty: refuseWrite,
        defineProperty: refuseWrite,
    });
}

/** A step's inputs as policies read them: unknowns restored, behind the unknown-checking proxy. */
function propsOf(step: PreviewStep): Record<string, unknown> {
    let inputs = restoredInputs.get(step);
    if (inputs === undefined) {
        const restored = restoreUnknowns(step.newState.inputs ?? {});
        inputs = readOnly(typeof restored === "object" && restored !== null && !Array.isArray(restored) ? (restored as Record<string, unknown>) : {});
        restoredInputs.set(step, inputs);
    }
    return checkUnknowns(inputs);
}

/** The type part of a URN (the last type of its parent chain). */
function urnType(urn: string): string {
    const qualified = urn.split("::")[2] ?? "";
    return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/** The resource options the analyzer reports for a step. */
function optionsOf(state: PreviewStep["newState"]): PolicyResourceOptions {
    const options: PolicyResourceOptions = {
        protect: state.protect === true,
        ignoreChanges: state.ignoreChanges ?? [],
        aliases: (state.aliases ?? []).filter((a): a is string => typeof a === "string"),
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
    };
    // The plan records deleteBeforeReplace as false when unset; only a true value was set explicitly.
    if (state.deleteBeforeReplace === true) {
        options.deleteBeforeReplace = true;
    }
    if (state.parent !== undefined && state.parent !== "") {
        options.parent = state.parent;
    }
    return options;
}

/** The provider of a step, from its `<provider urn>::<id>` reference. */
function providerOf(state: PreviewStep["newState"], steps: ReadonlyMap<string, PreviewStep>): PolicyProviderResource | undefined {
    const urn = providerUrn(state.provider ?? "");
    if (urn === undefined) {
        return undefined;
    }
    const step = steps.get(urn);
    return { type: step?.newState.type ?? urnType(urn), props: step === undefined ? {} : propsOf(step), urn, name: urnName(urn) };
}

/** Stack tags as the read-only map the analyzer hands over. */
function stackTagsOf(options: EvaluationOptions): ReadonlyMap<string, string> {
    return new Map(Object.entries(options.stackTags ?? {}));
}

/** What resource and stack validations both see of a step: its type, inputs, URN, name and options. */
function resourceBasics(step: PreviewStep) {
    const type = step.newState.type;
    return {
        type,
        props: propsOf(step),
        urn: step.urn,
        name: urnName(step.urn),
        opts: optionsOf(step.newState),
        isType: (resourceClass: object) => isTypeOf(type, resourceClass),
    };
}

/** The arguments a resource validation receives for one step. */
export function resourceValidationArgs(step: PreviewStep, steps: ReadonlyMap<string, PreviewStep>, config: Record<string, unknown>, options: EvaluationOptions = {}): ResourceValidationArgs {
    const basics = resourceBasics(step);
    const { type, props } = basics;
    const args: ResourceValidationArgs = {
        ...basics,
        stackTags: stackTagsOf(options),
        asType: ((resourceClass: object) => (isTypeOf(type, resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: (<T extends object>() => config as T) as ResourceValidationArgs["getConfig"],
        notApplicable: throwNotApplicable,
    };
    const provider = providerOf(step.newState, steps);
    if (provider !== undefined) {
        args.provider = provider;
    }
    return args;
}

/** The resources a stack validation receives, with parents and dependencies linked. */
export function policyResources(steps: readonly PreviewStep[]): PolicyResource[] {
    const byUrn = new Map(steps.map((s) => [s.urn, s]));
    const resources = new Map<string, PolicyResource>();
    for (const step of steps) {
        const basics = resourceBasics(step);
        const { type, props } = basics;
        const resource: PolicyResource = {
            ...basics,
            dependencies: [],
            propertyDependencies: {},
            asType: ((resourceClass: object) => (isTypeOf(type, resourceClass) ? props : undefined)) as PolicyResource["asType"],
        };
        const provider = providerOf(step.newState, byUrn);
        if (provider !== undefined) {
            resource.provider = provider;
        }
        resources.set(step.urn, resource);
    }
    const lookup = (urns: readonly string[] | undefined): PolicyResource[] => (urns ?? []).flatMap((urn) => resources.get(urn) ?? []);
    for (const step of steps) {
        const resource = resources.get(step.urn);
        if (resource === undefined) {
            continue;
        }
        const parent = resources.get(step.newState.parent ?? "");
        if (parent !== undefined) {
            resource.parent = parent;
        }
        resource.dependencies = lookup(step.newState.dependencies);
        for (const [property, urns] of Object.entries(step.newState.propertyDependencies ?? {})) {
            resource.propertyDependencies[property] = lookup(urns);
        }
    }
    return [...resources.values()];
}

/** The level a violation is reported at: remediation policies report as mandatory. */
function reportedLevel(level: EnforcementLevel): "advisory" | "mandatory" {
    return level === "advisory" ? "advisory" : "mandatory";
}

/** Runs one validation, turning "not applicable" and unknown values into outcomes as the analyzer does. */
async function runValidation(
    policy: Policies[number],
    level: EnforcementLevel,
    label: string,
    urn: string | undefined,
    run: (report: (message: string, urn?: string) => void) => Promise<void> | void,
): Promise<PolicyOutcome> {
    const violations: Violation[] = [];
    const report = (message: string, blamed?: string): void => {
        violations.push({ policyName: policy.name, enforcementLevel: reportedLevel(level), label, urn: urn ?? blamed, message });
    };
    try {
        await run(report);
        return { applied: true, violations };
    } catch (err) {
        if (err instanceof NotApplicableError) {
            return { applied: false, violations, notApplicable: [err.reason ?? ""] };
        }
        if (err instanceof UnknownValueError) {
            violations.push({ policyName: policy.name, enforcementLevel: "advisory", label, urn, message: `can't run policy '${policy.name}' during preview: ${err.message}` });
            return { applied: true, violations };
        }
        const detail = err instanceof Error ? err.message : String(err);
        throw new Error(`policy ${policy.name} failed on ${urn ?? "the stack"}${label === "" ? "" : ` (${label})`}: ${detail}`, { cause: err });
    }
}

/** Runs a resource policy on one plan step. */
export async function validateResourceStep(policy: ResourceValidationPolicy, step: PreviewStep, steps: ReadonlyMap<string, PreviewStep>, options: EvaluationOptions = {}): Promise<PolicyOutcome> {
    const level = enforcementLevelOf(policy, options.config);
    const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    if (level === "disabled" || validations.length === 0) {
        return { applied: false, violations: [] };
    }
    const onlyType = validations.length === 1 ? pulumiTypeOf(validations[0]) : undefined;
    if (onlyType !== undefined && onlyType !== step.newState.type) {
        return { applied: false, violations: [] };
    }
    const config = policyConfigOf(policy, options.config);
    const outcome: PolicyOutcome = { applied: false, violations: [] };
    for (const validation of validations) {
        const result = await runValidation(policy, level, options.label ?? "", step.urn, (report) => validation(resourceValidationArgs(step, steps, config, options), report));
        outcome.applied = outcome.applied || result.applied;
        outcome.violations.push(...result.violations);
        if (result.notApplicable !== undefined) {
            outcome.notApplicable = [...(outcome.notApplicable ?? []), ...result.notApplicable];
        }
    }
    return outcome;
}

/** Runs a stack policy on a whole plan. */
export async function validateStackSteps(policy: StackValidationPolicy, steps: readonly PreviewStep[], options: EvaluationOptions = {}): Promise<PolicyOutcome> {
    const level = enforcementLevelOf(policy, options.config);
    if (level === "disabled") {
        return { applied: false, violations: [] };
    }
    const onlyType = pulumiTypeOf(policy.validateStack);
    if (onlyType !== undefined && !steps.some((s) => s.newState.type === onlyType)) {
        return { applied: false, violations: [] };
    }
    const config = policyConfigOf(policy, options.config);
    const args: StackValidationArgs = {
        resources: policyResources(steps),
        stackTags: stackTagsOf(options),
        getConfig: (<T extends object>() => config as T) as StackValidationArgs["getConfig"],
        notApplicable: throwNotApplicable,
    };
    return runValidation(policy, level, options.label ?? "", undefined, (report) => policy.validateStack(args, report));
}

/** Runs every policy of a pack against a plan: every resource policy on every step, then the stack policies. */
export async function evaluatePlan(policies: Policies, plan: PlanDocument, options: EvaluationOptions = {}): Promise<Evaluation> {
    const steps = new Map(plan.steps.map((s) => [s.urn, s]));
    const evaluation: Evaluation = { violations: [], resourceValidations: 0 };
    for (const step of plan.steps) {
        for (const policy of policies.filter(isResourcePolicy)) {
            const outcome = await validateResourceStep(policy, step, steps, options);
            evaluation.resourceValidations += outcome.applied ? 1 : 0;
            evaluation.violations.push(...outcome.violations);
        }
    }
    for (const policy of policies.filter(isStackPolicy)) {
        evaluation.violations.push(...(await validateStackSteps(policy, plan.steps, options)).violations);
    }
    return evaluation;
}

/** One line per violation: level, policy, plan, resource and message. */
export function formatViolation(violation: Violation): string {
    const message = violation.message.replace(/\s*\n\s*/g, " ");
    return `${violation.enforcementLevel} ${violation.policyName} [${violation.label}] ${violation.urn ?? "(stack)"}: ${message}`;
}

/** The closing line of `npm run policy`. */
export function summaryLine(policyCount: number, resourceValidations: number, mandatoryViolations: number): string {
    return `${policyCount} policies, ${resourceValidations} resources checked, ${mandatoryViolations} mandatory violations`;
}

/** One configuration of the stack the pack is checked against. */
export interface PlanConfiguration {
    /** `identityMode/keyVaultAuthorization`. */
    label: string;
    /** `-c key=value` overrides of the plan command. */
    overrides: string[];
}

/**
 * The network choices beside the default (a public API server, egress through the load balancer), each
 * in every identity mode with Azure RBAC on the vault: the plans the egress, private API server and flow
 * log policies meet their subjects in.
 */
export const NETWORK_PLAN_CONFIGURATIONS: readonly PlanConfiguration[] = IDENTITY_MODES.flatMap((identityMode) =>
    (
        [
            ["public", "natGateway"],
            ["public", "firewall"],
            ["private", "loadBalancer"],
            ["private", "firewall"],
        ] as const
    ).map(([access, egress]) => ({
        label: `${identityMode}/rbac/${access}/${egress}`,
        overrides: [`identityMode=${identityMode}`, "keyVaultAuthorization=rbac", `apiServerAccess=${access}`, `egress=${egress}`],
    })),
);

/** Every identity mode (one per driver) crossed with every Key Vault authorization mode: the plans `npm run policy` checks. */
export const PLAN_CONFIGURATIONS: readonly PlanConfiguration[] = IDENTITY_MODES.flatMap((identityMode) =>
    KEY_VAULT_AUTHORIZATIONS.map((authorization) => ({
        label: `${identityMode}/${authorization}`,
        overrides: [`identityMode=${identityMode}`, `keyVaultAuthorization=${authorization}`],
    })),
);
