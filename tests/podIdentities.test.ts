// The add-on's pod identities as one resource: the dynamic provider's decisions (check, diff, the
// changes of an update) and its operations against a loopback HTTPS fake of Azure Resource Manager
// (tests/fakes/arm.ts), where the cluster already holds two entries of another writer, `beta` and
// `delta`. Its serialization is in serialization.test.ts.
import {
    checkPodIdentitiesInputs,
    createPodIdentitiesProvider,
    diffPodIdentities,
    parsePodIdentitiesState,
    POD_IDENTITIES_PROVIDER,
    podIdentityChanges,
    podIdentityKey,
} from "../components/modes/podIdentityAddon/podIdentities";
import type { PodIdentitiesState } from "../components/modes/podIdentityAddon/podIdentities";
import { FakeArm } from "./fakes/arm";
import { beta, CLUSTER, entry, FAST, identityOf, keys, RG, SUB, useFakeArm } from "./fakes/podIdentityFixture";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const fake = useFakeArm();

/** The provider with the fake's clients and fast retries. */
function fakeProvider(): ReturnType<typeof createPodIdentitiesProvider> {
    return createPodIdentitiesProvider({ clientFactory: (subscriptionId) => fake.client({}, subscriptionId), retryPolicy: FAST });
}

/** The entries of `workloads`, by key. */
function entries(...workloads: string[]): PodIdentitiesState["identities"] {
    return Object.fromEntries(workloads.map((w) => [podIdentityKey(entry(w)), entry(w)]));
}

/** State for the entries of `workloads`. */
function stateOf(...workloads: string[]): PodIdentitiesState {
    return { subscriptionId: SUB, resourceGroupName: RG, clusterName: CLUSTER, clusterRevision: "rev-1", identities: entries(...workloads) };
}

describe("decisions", () => {
    const inputs = stateOf("alpha", "gamma");

    test("diff: equal inputs are no change; an entry added, removed or changed, or a new revision, updates in place", () => {
        expect(diffPodIdentities(inputs, stateOf("alpha", "gamma"))).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        const upperCased = { ...inputs, identities: { ...inputs.identities, "alpha/alpha": { ...entry("alpha"), identity: { ...identityOf("alpha"), clientId: "CLIENT-ALPHA" } } } };
        expect(diffPodIdentities(inputs, upperCased).changes).toBe(false);
        for (const news of [
            stateOf("alpha", "gamma", "epsilon"),
            stateOf("alpha"),
            { ...inputs, identities: { ...inputs.identities, "alpha/alpha": entry("alpha", "alpha-2") } },
            { ...inputs, identities: { ...inputs.identities, "gamma/gamma": { ...entry("gamma"), identity: identityOf("gamma-2") } } },
            { ...inputs, clusterRevision: "rev-2" },
            { ...inputs, identities: UNKNOWN },
        ]) {
            expect(diffPodIdentities(inputs, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        }
    });

    test("diff: another cluster replaces; a change of case in Azure names does not", () => {
        expect(diffPodIdentities(inputs, { ...inputs, subscriptionId: "00000000-0000-0000-0000-000000000002" }).replaces).toEqual(["subscriptionId"]);
        expect(diffPodIdentities(inputs, { ...inputs, resourceGroupName: "rg-other" }).replaces).toEqual(["resourceGroupName"]);
        expect(diffPodIdentities(inputs, { ...inputs, clusterName: UNKNOWN }).replaces).toEqual(["clusterName"]);
        expect(diffPodIdentities(inputs, { ...inputs, resourceGroupName: RG.toUpperCase(), clusterName: CLUSTER.toUpperCase() })).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
    });

    test("check names each bad input with its reason and lets values unknown in preview through", () => {
        expect(checkPodIdentitiesInputs(inputs)).toEqual([]);
        expect(checkPodIdentitiesInputs({ ...inputs, clusterName: UNKNOWN, identities: { "alpha/alpha": { ...entry("alpha"), identity: UNKNOWN } } })).toEqual([]);
        expect(checkPodIdentitiesInputs({ ...inputs, clusterRevision: "" })).toEqual([]);
        expect(checkPodIdentitiesInputs(null)).toEqual([{ property: "", reason: "inputs must be an object" }]);
        expect(checkPodIdentitiesInputs({ ...inputs, clusterName: " ", clusterRevision: 7, identities: [] })).toEqual([
            { property: "clusterName", reason: "clusterName must be a non-empty string" },
            { property: "clusterRevision", reason: "clusterRevision must be a string" },
            { property: "identities", reason: "identities must be an object of entries by <namespace>/<name>" },
        ]);
        expect(
            checkPodIdentitiesInputs({
                ...inputs,
                identities: { "alpha/alpha": { ...entry("alpha"), bindingSelector: "", identity: { resourceId: "r", clientId: "c" } }, "x/y": entry("gamma"), "z/z": "no" },
            }),
        ).toEqual([
            { property: 'identities["alpha/alpha"].bindingSelector', reason: 'identities["alpha/alpha"].bindingSelector must be a non-empty string' },
            { property: 'identities["alpha/alpha"].identity.objectId', reason: 'identities["alpha/alpha"].identity.objectId must be a non-empty string' },
            { property: 'identities["x/y"]', reason: 'identities["x/y"] holds the entry gamma/gamma; each entry sits under its own <namespace>/<name>' },
            { property: 'identities["z/z"]', reason: 'identities["z/z"] must be an entry' },
        ]);
    });

    test("the provider's check returns valid inputs as they are, and the failures of bad ones", async () => {
        const check = POD_IDENTITIES_PROVIDER.check;
        if (!check) throw new Error("the provider lacks check");
        expect(await check(inputs, inputs)).toEqual({ inputs });
        expect((await check(inputs, { ...inputs, subscriptionId: "" })).failures?.map((f) => f.property)).toEqual(["subscriptionId"]);
    });

    test("state read back must be complete and known: unknown preview values fail it", () => {
        expect(parsePodIdentitiesState({ ...inputs })).toEqual(inputs);
        expect(() => parsePodIdentitiesState({ ...inputs, clusterRevision: UNKNOWN, identities: { "alpha/alpha": { ...entry("alpha"), identity: UNKNOWN } } })).toThrow(
            'Invalid pod identities properties: clusterRevision must be a string; identities["alpha/alpha"].identity.resourceId must be a non-empty string; identities["alpha/alpha"].identity.clientId must be a non-empty string; identities["alpha/alpha"].identity.objectId must be a non-empty string',
        );
    });

    test("the changes of an update: detach what it owned and no longer wants, attach all it wants; nothing else", () => {
        expect(podIdentityChanges(entries("gamma", "alpha", "zeta"), entries("epsilon", "alpha"))).toEqual([
            { detach: { namespace: "gamma", name: "gamma" } },
            { detach: { namespace: "zeta", name: "zeta" } },
            { attach: entry("alpha") },
            { attach: entry("epsilon") },
        ]);
        expect(podIdentityChanges({}, {})).toEqual([]);
    });
});

describe("operations against the fake", () => {
    test("create attaches every entry in one cluster update, next to the other writer's", async () => {
        fake.arm.mode = "lro";
        const created = await fakeProvider().create(stateOf("alpha", "gamma", "epsilon"));
        expect(created.id).toBe(`${FakeArm.clusterId(SUB, RG, CLUSTER)}/podIdentities`);
        expect(created.outs).toEqual(stateOf("alpha", "gamma", "epsilon"));
        expect(fake.arm.count("PUT")).toBe(1);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha", "epsilon/epsilon", "gamma/gamma"]);
    });

    test("adding one workload and removing another is one cluster update that keeps the other writer's entries", async () => {
        const provider = fakeProvider();
        if (!provider.update) throw new Error("the provider lacks update");
        await provider.create(stateOf("alpha", "gamma"));
        const before = fake.arm.count("PUT");
        expect(await provider.update("id", stateOf("alpha", "gamma"), stateOf("alpha", "epsilon"))).toEqual({ outs: stateOf("alpha", "epsilon") });
        expect(fake.arm.count("PUT") - before).toBe(1);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha", "epsilon/epsilon"]);
    });

    test("an update that changes nothing the cluster holds writes nothing; after a cluster update dropped the entries, a new revision attaches them again", async () => {
        const provider = fakeProvider();
        if (!provider.update) throw new Error("the provider lacks update");
        await provider.create(stateOf("alpha"));
        const puts = fake.arm.count("PUT");
        await provider.update("id", stateOf("alpha"), { ...stateOf("alpha"), clusterRevision: "rev-2" });
        expect(fake.arm.count("PUT")).toBe(puts);
        fake.arm.addCluster(SUB, RG, CLUSTER, [beta]);
        await provider.update("id", { ...stateOf("alpha"), clusterRevision: "rev-2" }, { ...stateOf("alpha"), clusterRevision: "rev-3" });
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "alpha/alpha"]);
    });

    test("read keeps the owned entries the cluster still holds, as it holds them; the cluster gone is an empty id", async () => {
        const provider = fakeProvider();
        if (!provider.read) throw new Error("the provider lacks read");
        await provider.create(stateOf("alpha", "gamma"));
        expect(await provider.read("id", stateOf("alpha", "gamma"))).toEqual({ id: "id", props: stateOf("alpha", "gamma") });
        fake.arm.addCluster(SUB, RG, CLUSTER, [beta, { ...entry("gamma", "gamma-2"), provisioningState: "Assigned" }]);
        expect(await provider.read("id", stateOf("alpha", "gamma"))).toEqual({ id: "id", props: { ...stateOf(), identities: { "gamma/gamma": entry("gamma", "gamma-2") } } });
        fake.arm.deleteCluster(SUB, RG, CLUSTER);
        expect(await provider.read("id", stateOf("alpha", "gamma"))).toEqual({ id: "" });
    });

    test("delete detaches only its own entries, in one update; again, or with the cluster gone, it writes nothing", async () => {
        const provider = fakeProvider();
        const remove = provider.delete;
        if (!remove) throw new Error("the provider lacks delete");
        await provider.create(stateOf("alpha", "gamma"));
        const puts = fake.arm.count("PUT");
        await remove("id", stateOf("alpha", "gamma"));
        expect(fake.arm.count("PUT") - puts).toBe(1);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta"]);
        await remove("id", stateOf("alpha", "gamma"));
        fake.arm.deleteCluster(SUB, RG, CLUSTER);
        await remove("id", stateOf("alpha", "gamma"));
        expect(fake.arm.count("PUT") - puts).toBe(1);
    });

    test("an entry the add-on fails fails the operation, naming that entry only", async () => {
        fake.arm.failEntries = ["gamma"];
        await expect(fakeProvider().create(stateOf("alpha", "gamma"))).rejects.toThrow(
            /^Could not attach pod identity "gamma\/gamma" to AKS cluster "aks-dev" in resource group "rg-aks": the pod-identity add-on reports the entry as Failed[^\n]*$/,
        );
        expect(fake.arm.count("PUT")).toBe(1);
    });

    test("an update that Azure refuses fails the operation with Azure's answer", async () => {
        fake.arm.script("PUT", { status: 403, code: "AuthorizationFailed", times: Infinity });
        await expect(fakeProvider().create(stateOf("alpha", "gamma"))).rejects.toThrow(/^Could not update 2 pod identities of AKS cluster "aks-dev".*HTTP 403 AuthorizationFailed/);
        expect(fake.arm.count("PUT")).toBe(1);
    });

    test("the cluster missing fails a create, naming each entry", async () => {
        fake.arm.deleteCluster(SUB, RG, CLUSTER);
        await expect(fakeProvider().create(stateOf("alpha", "gamma"))).rejects.toThrow(
            'Could not attach pod identity "alpha/alpha" to AKS cluster "aks-dev" in resource group "rg-aks": the cluster does not exist (HTTP 404)\nCould not attach pod identity "gamma/gamma"',
        );
    });
});

describe("decisions at their edges", () => {
    const inputs = stateOf("alpha", "gamma");

    test("diff: an entry given another namespace or name under its key changes; identities not known yet change even none; another cluster alone is a change", () => {
        for (const field of ["namespace", "name"] as const) {
            const moved = { ...inputs, identities: { ...inputs.identities, "alpha/alpha": { ...entry("alpha"), [field]: "other" } } };
            expect(diffPodIdentities(inputs, moved).changes).toBe(true);
        }
        expect(diffPodIdentities(stateOf(), { ...stateOf(), identities: UNKNOWN })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        expect(diffPodIdentities(inputs, { ...inputs, clusterName: "aks-other" })).toEqual({ changes: true, replaces: ["clusterName"], deleteBeforeReplace: false });
    });

    test("check: a null entry is named; an entry whose namespace or name is not known yet is not held to its key", () => {
        expect(checkPodIdentitiesInputs({ ...inputs, identities: { "alpha/alpha": null } })).toEqual([{ property: 'identities["alpha/alpha"]', reason: 'identities["alpha/alpha"] must be an entry' }]);
        for (const field of ["namespace", "name"] as const) {
            expect(checkPodIdentitiesInputs({ ...inputs, identities: { "alpha/alpha": { ...entry("alpha"), [field]: UNKNOWN } } })).toEqual([]);
        }
    });

    test("the changes of an update detach in the order of their keys, whatever order the state holds them in", () => {
        expect(podIdentityChanges(entries("zeta", "gamma"), {})).toEqual([{ detach: { namespace: "gamma", name: "gamma" } }, { detach: { namespace: "zeta", name: "zeta" } }]);
    });
});
