// Pulumi serialization of the two waits' dynamic providers: what the engine stores and later runs on
// its own. Left out of mutation testing (jest.mutate.config.js), as the pod identity provider's is:
// serializing instrumented code would capture the mutation tester's own state; the providers' logic
// is tested in clusterAccess.test.ts.
import { createRequire } from "module";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccessWait, RolePropagationDelay } from "../components/waits";

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
    return provider as Record<string, unknown>;
}

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
