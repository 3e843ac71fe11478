// The label guard's CEL, evaluated by a CEL implementation with the variables the API server binds
// for a ValidatingAdmissionPolicy (`object`, `request`).
import { run } from "@bufbuild/cel";
import { labelGuardValidation } from "../../components/modes/podIdentityCommon";

describe("The label guard", () => {
    type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
    type Cel = string | number | boolean | null | Cel[] | Map<string, Cel>;

    /** JSON as CEL sees admission objects: objects are maps. */
    function toCel(value: Json): Cel {
        if (Array.isArray(value)) {
            return value.map(toCel);
        }
        if (value !== null && typeof value === "object") {
            return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
        }
        return value;
    }

    // Built inside each test, so that each test covers the code it runs.
    const alphaGuard = () => labelGuardValidation({ bindingSelector: "alpha", namespace: "alpha", serviceAccount: "alpha-workload" });

    function admit(namespace: string, serviceAccount: string, labels?: Record<string, string>): { allowed: boolean; message: string } {
        const object = toCel({ metadata: labels === undefined ? { name: "p" } : { name: "p", labels }, spec: { serviceAccountName: serviceAccount } });
        const request = toCel({ namespace, operation: "CREATE" });
        const guard = alphaGuard();
        const allowed = run(guard.expression, { object, request });
        const message = run(guard.messageExpression, { object, request });
        if (typeof allowed !== "boolean" || typeof message !== "string") {
            throw new Error("the guard's expressions must evaluate to a bool and a string");
        }
        return { allowed, message };
    }

    describe("allowed", () => {
        test.each<[string, string, string, Record<string, string> | undefined]>([
            ["the workload's pod with its label", "alpha", "alpha-workload", { aadpodidbinding: "alpha", app: "x" }],
            ["a pod without labels", "beta", "default", undefined],
            ["a pod with other labels", "beta", "default", { app: "web" }],
            ["a pod claiming another workload's selector", "beta", "beta-workload", { aadpodidbinding: "beta" }],
            ["the workload's namespace and account without the label", "alpha", "alpha-workload", {}],
            ["another account in the namespace, without the label", "alpha", "alpha-unbound", { app: "verifier" }],
        ])("%s", (_label, namespace, account, labels) => {
            expect(admit(namespace, account, labels).allowed).toBe(true);
        });
    });

    describe("denied, with a message that says why", () => {
        test.each<[string, string, string]>([
            ["a pod in another namespace claiming the label", "beta", "alpha-workload"],
            ["a pod in the namespace under another account", "alpha", "default"],
            ["a pod in kube-system", "kube-system", "alpha-workload"],
            ["both wrong", "beta", "beta-workload"],
        ])("%s", (_label, namespace, account) => {
            const verdict = admit(namespace, account, { aadpodidbinding: "alpha" });
            expect(verdict.allowed).toBe(false);
            expect(verdict.message).toBe(
                `pods labelled aadpodidbinding=alpha must run in namespace alpha as service account alpha-workload; this pod is in namespace ${namespace} as service account ${account}`,
            );
        });
    });

    test("selectors and names are quoted as CEL string literals", () => {
        const odd = labelGuardValidation({ bindingSelector: "a.b_c-1", namespace: "ns", serviceAccount: "sa.x" });
        expect(odd.expression).toContain("== 'a.b_c-1'");
        expect(odd.expression).toContain("== 'sa.x'");
    });

    test("a quote or backslash in a value stays inside its CEL string literal", () => {
        const namespace = "it's\\here";
        const guard = labelGuardValidation({ bindingSelector: "o'k", namespace, serviceAccount: "sa" });
        const verdict = (podNamespace: string) =>
            run(guard.expression, {
                object: toCel({ metadata: { name: "p", labels: { aadpodidbinding: "o'k" } }, spec: { serviceAccountName: "sa" } }),
                request: toCel({ namespace: podNamespace, operation: "CREATE" }),
            });
        expect(verdict(namespace)).toBe(true);
        expect(verdict("its\\here")).toBe(false);
        expect(verdict("it's\\\\here")).toBe(false);
        expect(run(guard.messageExpression, { object: toCel({ spec: { serviceAccountName: "x" } }), request: toCel({ namespace: "y" }) })).toBe(
            "pods labelled aadpodidbinding=o'k must run in namespace it's\\here as service account sa; this pod is in namespace y as service account x",
        );
    });
});
