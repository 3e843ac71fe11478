// Pod identity attachment: the dynamic provider's decisions (check, diff) and its operations against a
// loopback HTTPS fake of Azure Resource Manager (tests/fakes/arm.ts). Its serialization is in
// podIdentitySerialization.test.ts.
import { checkAttachmentInputs, createPodIdentityProvider, diffAttachment, parseAttachmentState, POD_IDENTITY_PROVIDER } from "../components/podIdentityAttachment";
import type { PodIdentityAttachmentState } from "../components/podIdentityAttachment";
import { attachmentId } from "../components/podIdentityArm";
import { FakeArm } from "./fakes/arm";
import { CLUSTER, cluster, entry, FAST, identityOf, keys, RG, SUB, useFakeArm } from "./fakes/podIdentityFixture";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const fake = useFakeArm();

/** The provider with the fake's clients, fast retries and a short gathering window. */
function fakeProvider(): ReturnType<typeof createPodIdentityProvider> {
    return createPodIdentityProvider({ clientFactory: (subscriptionId) => fake.client({}, subscriptionId), retryPolicy: FAST, gatherMs: 5 });
}

describe("dynamic provider", () => {
    const inputs: PodIdentityAttachmentState = {
        subscriptionId: SUB,
        resourceGroupName: RG,
        clusterName: CLUSTER,
        clusterRevision: "rev-1",
        name: "alpha",
        namespace: "alpha",
        bindingSelector: "alpha",
        identity: identityOf("alpha"),
    };

    test("diff: equal inputs are no change; selector, identity and cluster revision update in place", () => {
        expect(diffAttachment(inputs, { ...inputs })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(diffAttachment(inputs, { ...inputs, identity: { ...inputs.identity, clientId: inputs.identity.clientId.toUpperCase() } }).changes).toBe(false);
        for (const news of [
            { ...inputs, bindingSelector: "alpha-2" },
            { ...inputs, identity: identityOf("alpha-2") },
            { ...inputs, clusterRevision: "rev-2" },
            { ...inputs, identity: UNKNOWN },
        ]) {
            expect(diffAttachment(inputs, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        }
    });

    test("diff: another cluster or entry key replaces; a change of case in Azure names does not", () => {
        const cases: Array<[Partial<PodIdentityAttachmentState>, string[]]> = [
            [{ subscriptionId: "00000000-0000-0000-0000-000000000002" }, ["subscriptionId"]],
            [{ resourceGroupName: "rg-other" }, ["resourceGroupName"]],
            [{ clusterName: "aks-other" }, ["clusterName"]],
            [{ namespace: "alpha-ns" }, ["namespace"]],
            [{ name: "alpha-id" }, ["name"]],
            [{ clusterName: "aks-other", bindingSelector: "x" }, ["clusterName"]],
        ];
        for (const [change, replaces] of cases) {
            expect(diffAttachment(inputs, { ...inputs, ...change })).toEqual({ changes: true, replaces, deleteBeforeReplace: false });
        }
        expect(diffAttachment(inputs, { ...inputs, clusterName: UNKNOWN }).replaces).toEqual(["clusterName"]);
        expect(diffAttachment(inputs, { ...inputs, resourceGroupName: RG.toUpperCase(), subscriptionId: SUB.toUpperCase() })).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
    });

    test("check reports missing or empty inputs and lets unknown preview values through", async () => {
        expect(checkAttachmentInputs(inputs)).toEqual([]);
        expect(checkAttachmentInputs({ ...inputs, clusterName: UNKNOWN, identity: UNKNOWN })).toEqual([]);
        expect(checkAttachmentInputs({ ...inputs, clusterRevision: "" })).toEqual([]);
        expect(checkAttachmentInputs({ ...inputs, namespace: "", identity: { resourceId: "r", clientId: "c" } }).map((f) => f.property)).toEqual(["namespace", "identity.objectId"]);
        const check = POD_IDENTITY_PROVIDER.check;
        expect(check).toBeDefined();
        if (check) {
            expect((await check(inputs, { ...inputs, name: "" })).failures?.map((f) => f.property)).toEqual(["name"]);
        }
    });

    test("check names each bad input with its reason; blank is empty; an object is required", () => {
        expect(checkAttachmentInputs(null)).toEqual([{ property: "", reason: "inputs must be an object" }]);
        expect(checkAttachmentInputs("alpha")).toEqual([{ property: "", reason: "inputs must be an object" }]);
        expect(checkAttachmentInputs({ ...inputs, namespace: "  ", clusterRevision: 7, identity: { resourceId: " ", clientId: "c", objectId: "o" } })).toEqual([
            { property: "namespace", reason: "namespace must be a non-empty string" },
            { property: "clusterRevision", reason: "clusterRevision must be a string" },
            { property: "identity.resourceId", reason: "identity.resourceId must be a non-empty string" },
        ]);
        expect(checkAttachmentInputs({ ...inputs, identity: { ...inputs.identity, clientId: UNKNOWN } })).toEqual([]);
    });

    test("state read back must be complete and known: unknown preview values fail it", () => {
        expect(parseAttachmentState({ ...inputs })).toEqual(inputs);
        expect(() => parseAttachmentState({ ...inputs, clusterName: UNKNOWN, clusterRevision: UNKNOWN, identity: { ...inputs.identity, objectId: UNKNOWN } })).toThrow(
            "Invalid pod identity attachment properties: clusterName must be a non-empty string; clusterRevision must be a string; identity.objectId must be a non-empty string",
        );
        expect(() => parseAttachmentState({ ...inputs, identity: UNKNOWN })).toThrow(
            "Invalid pod identity attachment properties: identity.resourceId must be a non-empty string; identity.clientId must be a non-empty string; identity.objectId must be a non-empty string",
        );
    });

    test("check returns valid inputs as they are, with no failures", async () => {
        const check = POD_IDENTITY_PROVIDER.check;
        if (!check) throw new Error("the provider lacks check");
        expect(await check(inputs, inputs)).toEqual({ inputs });
    });

    test("an attachment without properties and with an id that is not one cannot be read", async () => {
        const provider = fakeProvider();
        if (!provider.read) throw new Error("the provider lacks read");
        await expect(provider.read("not-an-attachment", undefined)).rejects.toThrow(
            'Pod identity attachment "not-an-attachment" has incomplete properties and its id is not <cluster ARM id>/podIdentities/<namespace>/<name>',
        );
    });

    test("a cluster's batch ends with its last change: no request follows", async () => {
        const provider = fakeProvider();
        await provider.create({ ...inputs });
        const settled = fake.arm.requests.length;
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(fake.arm.requests.length).toBe(settled);
    });

    test("create, read, update and delete through the provider against the fake", async () => {
        const provider = fakeProvider();
        const { read, update, delete: remove } = provider;
        if (!read || !update || !remove) {
            throw new Error("the provider lacks read, update or delete");
        }

        const created = await provider.create({ ...inputs });
        expect(created.id).toBe(`${FakeArm.clusterId(SUB, RG, CLUSTER)}/podIdentities/alpha/alpha`);
        expect(created.outs).toEqual(inputs);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta", "alpha/alpha"]);

        expect(await read(created.id, inputs)).toEqual({ id: created.id, props: inputs });
        expect(await read(created.id)).toMatchObject({ id: created.id, props: { namespace: "alpha", bindingSelector: "alpha", clusterRevision: "" } });

        const news = { ...inputs, bindingSelector: "alpha-2", clusterRevision: "rev-2" };
        expect(await update(created.id, inputs, news)).toEqual({ outs: news });
        expect(fake.arm.podIdentities(SUB, RG, CLUSTER)?.[2]).toMatchObject({ name: "alpha", bindingSelector: "alpha-2" });

        await remove(created.id, news);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER))).toEqual(["beta/beta", "delta/delta"]);
        expect(await read(created.id, news)).toEqual({ id: "" });
        await remove(created.id, news);
        fake.arm.deleteCluster(SUB, RG, CLUSTER);
        await remove(created.id, news);
        expect(await read(created.id, news)).toEqual({ id: "" });
    });

    test("attachments that become ready together share one cluster update", async () => {
        const provider = fakeProvider();
        fake.arm.mode = "lro";
        await Promise.all(["alpha", "gamma", "epsilon"].map((w) => provider.create({ ...inputs, ...entry(w) })));
        expect(fake.arm.count("PUT")).toBe(1);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER)).sort()).toEqual(["alpha/alpha", "beta/beta", "delta/delta", "epsilon/epsilon", "gamma/gamma"]);
    });

    test("changes that arrive during an update share the next one; writes to one cluster never overlap", async () => {
        const provider = fakeProvider();
        const remove = provider.delete;
        if (!remove) throw new Error("the provider lacks delete");
        fake.arm.mode = "lro";
        fake.arm.lroPolls = 3;
        const first = provider.create({ ...inputs, ...entry("alpha") });
        while (fake.arm.count("PUT") === 0) {
            await new Promise((resolve) => setTimeout(resolve, 2));
        }
        const later = [provider.create({ ...inputs, ...entry("gamma") }), remove(attachmentId(SUB, cluster, "delta", "delta"), { ...inputs, ...entry("delta") })];
        await Promise.all([first, ...later]);
        expect(fake.arm.count("PUT")).toBe(2);
        expect(fake.arm.count("PUT", 409) + fake.arm.count("PUT", 412)).toBe(0);
        expect(keys(fake.arm.podIdentities(SUB, RG, CLUSTER)).sort()).toEqual(["alpha/alpha", "beta/beta", "gamma/gamma"]);
    });

    test("in a shared update, an entry the add-on fails fails its own attachment only", async () => {
        const provider = fakeProvider();
        fake.arm.failEntries = ["gamma"];
        const results = await Promise.allSettled(["alpha", "gamma"].map((w) => provider.create({ ...inputs, ...entry(w) })));
        expect(results[0].status).toBe("fulfilled");
        expect(results[1]).toMatchObject({
            status: "rejected",
            reason: {
                message: expect.stringMatching(
                    /^Could not attach pod identity "gamma\/gamma" to AKS cluster "aks-dev" in resource group "rg-aks": the pod-identity add-on reports the entry as Failed/,
                ),
            },
        });
        expect(fake.arm.count("PUT")).toBe(1);
    });

    test("an update that fails outright fails every attachment that shared it", async () => {
        const provider = fakeProvider();
        fake.arm.script("PUT", { status: 403, code: "AuthorizationFailed", times: Infinity });
        const results = await Promise.allSettled(["alpha", "gamma"].map((w) => provider.create({ ...inputs, ...entry(w) })));
        expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
        expect(results[0]).toMatchObject({ reason: { message: expect.stringMatching(/^Could not update 2 pod identities of AKS cluster "aks-dev".*HTTP 403 AuthorizationFailed/) } });
        expect(fake.arm.count("PUT")).toBe(1);
    });
});
