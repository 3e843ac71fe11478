// Pulumi serialization of the dynamic providers (the add-on's pod identities, the two waits, the
// timestamp): what
// the engine stores and later runs on its own, through the SDK's real closure serializer (the offline
// plan reuses its texts, tools/plan/providerCache.ts; this file never does). Left out of mutation
// testing (jest.mutate.config.js): serializing instrumented code would capture the mutation tester's
// own state; the providers' logic is tested in podIdentities.test.ts, podIdentityArm.test.ts and
// clusterAccess.test.ts.
import { createRequire } from "module";
import * as pulumi from "@pulumi/pulumi";
import { PodIdentities } from "../components/modes/podIdentityAddon/podIdentities";
import { Timestamp } from "../components/timestamp";
import { ClusterAccessWait, RolePropagationDelay } from "../components/waits";
import { CLUSTER, identityOf, RG, SUB } from "./fakes/podIdentityFixture";

/** Loads a serialized provider module the way Pulumi's dynamic provider host does, and returns its provider. */
function loadSerialized(text: string): Record<string, unknown> {
    const loaded = { exports: {} };
    new Function("exports", "require", "module", text)(loaded.exports, createRequire(__filename), loaded);
    const handler: unknown = Reflect.get(loaded.exports, "handler");
    if (typeof handler !== "function") {
        throw new Error("the serialized module exports no handler");
    }
    const provider: unknown = handler();
    if (typeof provider !== "object" || provider === null) {
        throw new Error("the handler returned no provider");
    }
    return Object.fromEntries(Object.entries(provider));
}

test("registering PodIdentities under mocks serializes its provider, which then runs on its own", async () => {
    const registered: Array<{ type: string; name: string; provider: unknown }> = [];
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                const inputs: Record<string, unknown> = { ...args.inputs };
                registered.push({ type: args.type, name: args.name, provider: inputs["__provider"] });
                return { id: `${args.name}-id`, state: inputs };
            },
            call: (args) => args.inputs,
        },
        "pod-identity-test",
        "test",
        false,
    );
    const identity = { resourceId: pulumi.output(identityOf("alpha").resourceId), clientId: "client-alpha", objectId: "object-alpha" };
    const podIdentities = new PodIdentities("aks-pod-identities", {
        subscriptionId: SUB,
        resourceGroupName: RG,
        clusterName: pulumi.output(CLUSTER),
        clusterRevision: "rev-1",
        identities: { "alpha/alpha": { name: "alpha", namespace: pulumi.output("alpha"), bindingSelector: "alpha", identity } },
    });
    const [id, clusterName, identities] = await new Promise<[string, string, unknown]>((resolve) =>
        pulumi.all([podIdentities.id, podIdentities.clusterName, podIdentities.identities]).apply(([i, c, d]) => resolve([i, c, d])),
    );
    expect(id).toBe("aks-pod-identities-id");
    expect(clusterName).toBe(CLUSTER);
    expect(identities).toEqual({
        "alpha/alpha": {
            name: "alpha",
            namespace: "alpha",
            bindingSelector: "alpha",
            identity: { resourceId: identityOf("alpha").resourceId, clientId: "client-alpha", objectId: "object-alpha" },
        },
    });
    expect(registered).toHaveLength(1);
    expect(registered[0].type).toBe("pulumi-nodejs:dynamic:PodIdentities");

    const text = registered[0].provider;
    if (typeof text !== "string") {
        throw new Error("the registered resource has no serialized provider");
    }
    expect(text).toContain("exports.handler");
    expect(text).toContain('require("@azure/arm-containerservice")');
    expect(text).toContain('require("@azure/identity")');
    expect(text).not.toContain("PodIdentities extends");
    expect(text).not.toContain("@pulumi/pulumi");
    // It carries the provider's own functions and loads the libraries it needs, none captured inline.
    expect([...new Set(text.match(/require\("[^"]+"\)/g))].sort()).toEqual(['require("@azure/arm-containerservice")', 'require("@azure/identity")', 'require("fs")']);

    const provider = loadSerialized(text);
    const diff: unknown = typeof provider === "object" && provider !== null ? Reflect.get(provider, "diff") : undefined;
    if (typeof diff !== "function") {
        throw new Error("the deserialized provider has no diff");
    }
    const olds = { subscriptionId: SUB, resourceGroupName: RG, clusterName: CLUSTER, clusterRevision: "rev-1", identities: {} };
    const result: unknown = await Reflect.apply(diff, provider, ["id", olds, { ...olds, clusterName: "aks-other" }]);
    expect(result).toEqual({ changes: true, replaces: ["clusterName"], deleteBeforeReplace: false });
});

test("both waits serialize providers that load only what they need and run on their own", async () => {
    const registered: Array<{ type: string; provider: unknown }> = [];
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push({ type: args.type, provider: args.inputs["__provider"] });
                return { id: `${args.name}-id`, state: args.inputs };
            },
            call: (args) => args.inputs,
        },
        "waits-test",
        "test",
        false,
    );
    const delay = new RolePropagationDelay("delay", { seconds: 1, reason: "test", grants: ["g"] });
    const access = new ClusterAccessWait("access", { kubeconfig: pulumi.secret("apiVersion: v1"), checks: [{ verb: "create", group: "", resource: "namespaces" }], grants: ["g"], budgetSeconds: 1 });
    await new Promise<void>((resolve) => pulumi.all([delay.id, access.id]).apply(() => resolve()));
    expect(registered.map((r) => r.type)).toEqual(["pulumi-nodejs:dynamic:RolePropagationDelay", "pulumi-nodejs:dynamic:ClusterAccessWait"]);

    const [delayText, accessText] = registered.map((r) => r.provider);
    if (typeof delayText !== "string" || typeof accessText !== "string") {
        throw new Error("a registered wait has no serialized provider");
    }
    for (const text of [delayText, accessText]) {
        expect(text).toContain("exports.handler");
        expect(text).not.toContain("@pulumi/pulumi");
        expect(text).not.toContain("extends pulumi.dynamic.Resource");
    }
    expect([...new Set(delayText.match(/require\("[^"]+"\)/g))].sort()).toEqual(['require("crypto")']);
    expect([...new Set(accessText.match(/require\("[^"]+"\)/g))].sort()).toEqual(['require("child_process")', 'require("crypto")', 'require("https")', 'require("yaml")']);

    const delayProvider = loadSerialized(delayText);
    const diff = delayProvider.diff;
    if (typeof diff !== "function") {
        throw new Error("the deserialized delay provider has no diff");
    }
    expect(await Reflect.apply(diff, delayProvider, ["id", { seconds: 1, reason: "r", grants: ["a"] }, { seconds: 1, reason: "r", grants: ["b"] }])).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
    });

    const accessProvider = loadSerialized(accessText);
    const check = accessProvider.check;
    if (typeof check !== "function") {
        throw new Error("the deserialized access provider has no check");
    }
    const checked: unknown = await Reflect.apply(check, accessProvider, [{}, { kubeconfig: "", checks: [], grants: [], budgetSeconds: 1 }]);
    expect(checked).toMatchObject({ failures: [{ property: "kubeconfig" }, { property: "checks" }] });
});

test("the timestamp serializes a provider that loads nothing, reads the clock once and never changes", async () => {
    const registered: unknown[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push(args.inputs["__provider"]);
                return { id: `${args.name}-id`, state: args.inputs };
            },
            call: (args) => args.inputs,
        },
        "timestamp-test",
        "test",
        false,
    );
    const created = new Timestamp("created", { purpose: "test" });
    await new Promise<void>((resolve) => created.id.apply(() => resolve()));
    const [text] = registered;
    if (typeof text !== "string") {
        throw new Error("the timestamp has no serialized provider");
    }
    expect(text).not.toContain("@pulumi/pulumi");
    expect(text.match(/require\("[^"]+"\)/g)).toBeNull();
    const provider = loadSerialized(text);
    const create = provider.create;
    const diff = provider.diff;
    if (typeof create !== "function" || typeof diff !== "function") {
        throw new Error("the deserialized timestamp provider has no create or diff");
    }
    const before = Math.floor(Date.now() / 1000);
    const result = (await Reflect.apply(create, provider, [{ purpose: "test" }])) as { id: string; outs: { purpose: string; rfc3339: string; unix: number } };
    expect(result.outs.unix).toBeGreaterThanOrEqual(before);
    expect(result.outs.unix).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(result.outs.rfc3339).toBe(new Date(result.outs.unix * 1000).toISOString().replace(".000Z", "Z"));
    expect(result.id).toBe(`test@${result.outs.rfc3339}`);
    expect(await Reflect.apply(diff, provider, ["id", result.outs, { purpose: "another" }])).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
});
