// Pulumi serialization of the pod identity dynamic provider: what the engine stores and later runs on
// its own. Left out of mutation testing (jest.mutate.config.js): serializing instrumented code would
// capture the mutation tester's own state, and the provider's logic is tested in
// podIdentities.test.ts and podIdentityArm.test.ts.
import { createRequire } from "module";
import * as pulumi from "@pulumi/pulumi";
import { PodIdentities } from "../components/modes/podIdentityAddon/podIdentities";
import { CLUSTER, identityOf, RG, SUB } from "./fakes/podIdentityFixture";

describe("Pulumi serialization of the dynamic provider", () => {
    /** Loads a serialized provider module the way Pulumi's dynamic provider host does, and returns its provider. */
    function loadSerialized(text: string, exportName = "handler"): unknown {
        const loaded = { exports: {} };
        const load = new Function("exports", "require", "module", text);
        load(loaded.exports, createRequire(__filename), loaded);
        const handler: unknown = Reflect.get(loaded.exports, exportName);
        if (typeof handler !== "function") {
            throw new Error("the serialized module exports no handler");
        }
        const provider: unknown = handler();
        return provider;
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
});
