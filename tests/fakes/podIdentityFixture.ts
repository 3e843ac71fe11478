// What the pod identity tests share: one cluster `aks-dev` in the fake Azure Resource Manager
// (tests/fakes/arm.ts) holding the entries `beta` and `delta`, the real SDK client pointed at it, and
// retries fast enough for a fake.
import type { ContainerServiceClient, ContainerServiceClientOptionalParams } from "@azure/arm-containerservice";
import type { TokenCredential } from "@azure/identity";
import { applyPodIdentityChanges, changeFailure, createContainerServiceClient } from "../../components/modes/podIdentityAddon/arm";
import type { AttachedPodIdentity, ClusterRef, ManagedClusterApi, PodIdentityChange, PodIdentityEntry, PodIdentityOutcome, RetryPolicy } from "../../components/modes/podIdentityAddon/arm";
import { FAKE_TOKEN, FakeArm } from "./arm";
import type { FakePodIdentity } from "./arm";

export const SUB = "00000000-0000-0000-0000-000000000001";
export const RG = "rg-aks";
export const CLUSTER = "aks-dev";
export const cluster = { resourceGroupName: RG, clusterName: CLUSTER };

/** Fast retries for the fake; the budget is an upper bound, reached only by the budget test. */
export const FAST: RetryPolicy = { budgetMs: 5_000, initialDelayMs: 5, maxDelayMs: 20, pollIntervalMs: 5 };

export function identityOf(workload: string): PodIdentityEntry["identity"] {
    return {
        resourceId: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${workload}`,
        clientId: `client-${workload}`,
        objectId: `object-${workload}`,
    };
}

export function entry(workload: string, selector = workload): PodIdentityEntry {
    return { name: workload, namespace: workload, bindingSelector: selector, identity: identityOf(workload) };
}

export const beta: FakePodIdentity = { ...entry("beta"), provisioningState: "Assigned" };
export const delta: FakePodIdentity = { ...entry("delta"), provisioningState: "Assigned" };

/** The outcome of one change through `applyPodIdentityChanges`; throws its failure. */
async function applyOne(client: ManagedClusterApi, target: ClusterRef, change: PodIdentityChange, policy: RetryPolicy): Promise<PodIdentityOutcome> {
    const [outcome] = await applyPodIdentityChanges(client, target, [change], policy);
    if ("failed" in outcome) {
        throw new Error(changeFailure(change, target, outcome.failed));
    }
    return outcome;
}

/** Attaches one entry, as a one-change `applyPodIdentityChanges`, and returns it as attached. */
export async function attach(client: ManagedClusterApi, target: ClusterRef, attached: PodIdentityEntry, policy: RetryPolicy): Promise<AttachedPodIdentity> {
    const outcome = await applyOne(client, target, { attach: attached }, policy);
    if (!("attached" in outcome)) {
        throw new Error("no entry was attached");
    }
    return outcome.attached;
}

/** Detaches one entry, as a one-change `applyPodIdentityChanges`; true when it removed it. */
export async function detach(client: ManagedClusterApi, target: ClusterRef, namespace: string, name: string, policy: RetryPolicy): Promise<boolean> {
    const outcome = await applyOne(client, target, { detach: { namespace, name } }, policy);
    return "removed" in outcome && outcome.removed;
}

/** `namespace/name` of each entry. */
export function keys(list: FakePodIdentity[] | undefined): string[] {
    return (list ?? []).map((e) => `${e.namespace}/${e.name}`);
}

/** A pipeline policy added to the SDK client's own. */
type AdditionalPolicy = NonNullable<ContainerServiceClientOptionalParams["additionalPolicies"]>[number];

/** The fake ARM of a test file and the real SDK client pointed at it. */
export interface FakeArmFixture {
    /** The fake, started before the file's tests and reset before each. */
    readonly arm: FakeArm;
    /** The token scopes the client asked for. */
    readonly scopesAsked: string[];
    /**
     * The real SDK client, pointed at the fake through the documented endpoint variable. Its requests
     * name the test they belong to, so the fake refuses those that outlive it.
     */
    client(extra?: ContainerServiceClientOptionalParams, subscriptionId?: string): ContainerServiceClient;
}

/** Starts the fake for the calling test file, and puts `aks-dev` with `beta` and `delta` in it before each test. */
export function useFakeArm(): FakeArmFixture {
    let arm: FakeArm | undefined;
    const scopesAsked: string[] = [];
    const credential: TokenCredential = {
        getToken: async (scopes) => {
            scopesAsked.push(...(Array.isArray(scopes) ? scopes : [scopes]));
            return { token: FAKE_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
        },
    };
    const started = (): FakeArm => {
        if (arm === undefined) {
            throw new Error("the fake ARM is started in beforeAll");
        }
        return arm;
    };
    beforeAll(async () => {
        arm = await FakeArm.start();
    });
    afterAll(async () => {
        await arm?.close();
    });
    beforeEach(() => {
        started().reset();
        started().addCluster(SUB, RG, CLUSTER, [beta, delta]);
    });
    return {
        get arm() {
            return started();
        },
        scopesAsked,
        client: (extra = {}, subscriptionId = SUB) => {
            const generation = String(started().generation);
            const stamp: AdditionalPolicy = {
                position: "perCall",
                policy: {
                    name: "fakeArmGeneration",
                    sendRequest: (request, next) => {
                        request.headers.set(FakeArm.GENERATION_HEADER, generation);
                        return next(request);
                    },
                },
            };
            return createContainerServiceClient(subscriptionId, {
                env: { AZURE_RESOURCE_MANAGER_ENDPOINT: started().url },
                credential,
                clientOptions: { tlsOptions: { ca: started().ca }, ...extra, additionalPolicies: [stamp, ...(extra.additionalPolicies ?? [])] },
            });
        },
    };
}
