// In-process unit tests of one component: build it under the shared mocks, then read what it
// registered. Each test builds its own component, so a test covers only the code it runs, and a
// mutation test of that code runs only the tests that can notice the change.
import * as pulumi from "@pulumi/pulumi";
import { record } from "../../tools/plan/harness";
import { AzureMocks } from "../../tools/plan/mocks";
import type { Plan, Step, StepState } from "../../tools/plan/types";
import { urnName } from "../../tools/plan/urn";

/** Where unit-tested components place their resources. */
export const PLACEMENT = { resourceGroupName: "rg-unit", location: "uksouth", baseName: "aiv-unit", tags: { stack: "unit" } };

/** What the Storage account and the Key Vault share: the subscription, the endpoint subnet and two workloads. */
/** The stack's Log Analytics workspace, as the components are given it. */
export const DIAGNOSTICS = { workspaceId: "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.OperationalInsights/workspaces/log-aiv-unit" };

export const SHARED_SERVICE = {
    ...PLACEMENT,
    diagnostics: DIAGNOSTICS,
    subscriptionId: "sub-unit",
    privateEndpointSubnetId: "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet-endpoints",
    workloads: [
        { name: "alpha", principalId: "principal-alpha" },
        { name: "beta", principalId: "principal-beta" },
    ],
};

/** Builds what `program` declares under the mocks (Azure as `AzureMocks` models it, unless given) and returns every registration, settled. */
export function build(program: () => void, config: Record<string, string> = {}, mocks?: pulumi.runtime.Mocks): Promise<Plan> {
    return record({ stack: "unit", config, ...(mocks === undefined ? {} : { mocks }) }, () => {
        program();
    });
}

/** Builds the component `create` returns, and returns it with what was registered. */
export async function buildOne<T>(create: () => T, config: Record<string, string> = {}, mocks?: pulumi.runtime.Mocks): Promise<{ component: T; plan: Plan }> {
    let component: T | undefined;
    const plan = await build(
        () => {
            component = create();
        },
        config,
        mocks,
    );
    if (component === undefined) {
        throw new Error("the component was not built");
    }
    return { component, plan };
}

/**
 * `build` run once per distinct (JSON) argument in this run, its result shared: the tests read plans
 * and never change them, and building a component is most of a unit test's time. Under mutation
 * testing (AIV_FRESH_BUILDS=1, set by jest.mutate.config.js) every test builds afresh: Stryker runs
 * for a mutant only the tests that executed the mutated code, and a test that read a shared plan
 * would not count as one.
 */
export function memoized<A, R>(build: (args: A) => Promise<R>): (args: A) => Promise<R> {
    if (process.env.AIV_FRESH_BUILDS === "1") {
        return build;
    }
    const results = new Map<string, Promise<R>>();
    return (args) => {
        const key = JSON.stringify(args);
        let result = results.get(key);
        if (result === undefined) {
            result = build(args);
            results.set(key, result);
        }
        return result;
    };
}

/**
 * `AzureMocks`, except that the resource of `type` named `name` comes back as `answer` makes it from
 * what the program sent: Azure answering other than the shared mocks do, or a state a resource
 * already has on a later run.
 */
export function answering(type: string, name: string, answer: (state: Record<string, unknown>) => Record<string, unknown>): pulumi.runtime.Mocks {
    const azure = new AzureMocks();
    return {
        newResource: (args) => {
            const created = azure.newResource(args);
            return args.type === type && args.name === name ? { ...created, state: answer(created.state) } : created;
        },
        call: (args) => azure.call(args),
    };
}

/** The steps whose type is `type`. */
export function ofType(plan: Plan, type: string): Step[] {
    return plan.steps.filter((s) => s.newState.type === type);
}

/** The one step of `type` named `name`; throws naming what was found otherwise. */
export function named(plan: Plan, type: string, name: string): Step {
    const found = plan.steps.filter((s) => s.newState.type === type && s.urn.endsWith(`::${name}`));
    if (found.length !== 1) {
        throw new Error(`expected one ${type} named ${name}, found ${found.length} among ${plan.steps.map((s) => s.urn.split("::").pop()).join(", ")}`);
    }
    return found[0];
}

/** The URN of the step of `type` named `name`. */
export function urnOf(plan: Plan, type: string, name: string): string {
    return named(plan, type, name).urn;
}

/** The value an output settles to (mocked values are known, even in preview). */
export function settled<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** The names of the resources a step's state depends on. */
export function dependencyNames(state: StepState): string[] {
    return state.dependencies.map(urnName);
}

/** The plain values of a pod's first container's environment (those from a source left out), by name. */
export function containerEnv(pod: { containers: Array<{ env: Array<{ name: string; value?: string }> }> }): Record<string, string> {
    return Object.fromEntries(pod.containers[0].env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
}

/**
 * What a component asks Azure and Kubernetes for, resource by resource, in a form a reviewer can
 * read in a snapshot diff: type and name, parent, inputs, and every option that differs from the
 * default. Providers and the Stack are left out.
 */
export function registrations(plan: Plan): Array<Record<string, unknown>> {
    return plan.steps
        .filter((s) => !s.newState.type.startsWith("pulumi:providers:") && s.newState.type !== "pulumi:pulumi:Stack")
        .map((s) => {
            const state = s.newState;
            const entry: Record<string, unknown> = { resource: `${state.type} ${urnName(s.urn)}`, parent: urnName(state.parent) };
            if (Object.keys(state.inputs).length > 0) {
                // The serialized provider's digest is the plan's business (npm run plan shows it);
                // here it would only repeat the provider's source, which its own tests cover.
                entry.inputs = "__provider" in state.inputs ? { ...state.inputs, __provider: "[dynamic provider]" } : state.inputs;
            }
            if (state.protect) entry.protect = true;
            if (state.retainOnDelete) entry.retainOnDelete = true;
            if (state.deleteBeforeReplace) entry.deleteBeforeReplace = true;
            if (state.ignoreChanges.length > 0) entry.ignoreChanges = state.ignoreChanges;
            // azure-native aliases every resource to its other API versions; only the program's own count.
            const aliases = state.aliases.filter((a) => typeof a !== "string" || !/azure-native:[a-zA-Z]+\/v\d/.test(a));
            if (aliases.length > 0) entry.aliases = aliases;
            if (state.dependencies.length > 0) entry.dependsOn = state.dependencies.map(urnName);
            return entry;
        });
}
