// The guard on aad-pod-identity's objects, evaluated as the API server evaluates a
// ValidatingAdmissionPolicy (tests/admission.ts), against the stack's own writes and a tenant's.
import { crdGuardPolicySpec } from "../../components/modes/crdGuard";
import type { CrdGuardSpec } from "../../components/modes/crdGuard";
import { ADDON_EXCEPTIONS } from "../../components/modes/podIdentityAddon";
import { MIC_SERVICE_ACCOUNT, ossExceptions } from "../../components/modes/podIdentityOss/aadPodIdentity";
import { admit as evaluate } from "../admission";
import type { Json } from "../admission";

const ALPHA_ID = "/subscriptions/0000/resourceGroups/rg-aiv-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-dev-alpha";
const BETA_ID = "/subscriptions/0000/resourceGroups/rg-aiv-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-dev-beta";
const ALPHA_CLIENT = "11111111-1111-4111-8111-111111111111";
const BETA_CLIENT = "22222222-2222-4222-8222-222222222222";

const workloads: CrdGuardSpec["workloads"] = [
    { namespace: "alpha", bindingSelector: "alpha", identityType: "managedIdentity", clientId: ALPHA_CLIENT, resourceId: ALPHA_ID },
    { namespace: "team-beta", bindingSelector: "beta", identityType: "managedIdentity", clientId: BETA_CLIENT, resourceId: BETA_ID },
];
const addonGuard = () => crdGuardPolicySpec({ workloads, exceptions: ADDON_EXCEPTIONS, controllers: [] });
const ossGuard = () =>
    crdGuardPolicySpec({
        workloads: [...workloads, { namespace: "gamma", bindingSelector: "gamma", identityType: "servicePrincipal", clientId: "33333333-3333-4333-8333-333333333333", resourceId: "" }],
        exceptions: ossExceptions(),
        controllers: [MIC_SERVICE_ACCOUNT],
    });

type Guard = ReturnType<typeof crdGuardPolicySpec>;

interface Request {
    resource: string;
    namespace: string;
    user: string;
    object: Json;
    operation?: "CREATE" | "UPDATE";
}

/** The guard's decision on one request. */
function admit(guard: Guard, r: Request): { allowed: boolean; messages: string[] } {
    return evaluate(guard, {
        object: r.object,
        request: {
            namespace: r.namespace,
            operation: r.operation ?? "CREATE",
            resource: { group: "aadpodidentity.k8s.io", version: "v1", resource: r.resource },
            userInfo: { username: r.user, groups: ["system:authenticated"] },
        },
    });
}

const identity = (namespace: string, spec: Json, name = "alpha"): { namespace: string; object: Json } => ({
    namespace,
    object: { apiVersion: "aadpodidentity.k8s.io/v1", kind: "AzureIdentity", metadata: { name, namespace }, spec },
});
const binding = (namespace: string, selector: string): { namespace: string; object: Json } => ({
    namespace,
    object: { apiVersion: "aadpodidentity.k8s.io/v1", kind: "AzureIdentityBinding", metadata: { name: "b", namespace }, spec: { azureIdentity: "alpha", selector } },
});
const exception = (namespace: string, name: string, podLabels: Record<string, string>): { namespace: string; object: Json } => ({
    namespace,
    object: { apiVersion: "aadpodidentity.k8s.io/v1", kind: "AzurePodIdentityException", metadata: { name, namespace }, spec: { podLabels } },
});

const tenant = "oid:tenant-admin@example.com";
const aks = "aks-control-plane";

describe("The guard on aad-pod-identity's objects", () => {
    describe("admits the stack's own writes", () => {
        test.each<[string, () => Guard, Request]>([
            [
                "the add-on: AKS writes alpha's AzureIdentity from the cluster's entry",
                addonGuard,
                { resource: "azureidentities", user: aks, ...identity("alpha", { type: 0, resourceID: ALPHA_ID, clientID: ALPHA_CLIENT }) },
            ],
            [
                "the add-on: an AzureIdentity whose ARM id and client id differ only in case",
                addonGuard,
                { resource: "azureidentities", user: aks, ...identity("alpha", { type: 0, resourceID: ALPHA_ID.toLowerCase(), clientID: ALPHA_CLIENT.toUpperCase() }) },
            ],
            ["the add-on: AKS writes team-beta's binding with beta's selector", addonGuard, { resource: "azureidentitybindings", user: aks, ...binding("team-beta", "beta") }],
            [
                "the add-on: AKS adds aks-addon-exception to kube-system",
                addonGuard,
                { resource: "azurepodidentityexceptions", user: aks, ...exception("kube-system", "aks-addon-exception", { "kubernetes.azure.com/managedby": "aks" }) },
            ],
            [
                "oss: the deployer writes alpha's AzureIdentity",
                ossGuard,
                { resource: "azureidentities", user: "deployer", ...identity("alpha", { type: 0, resourceID: ALPHA_ID, clientID: ALPHA_CLIENT }) },
            ],
            [
                "oss: a service principal's AzureIdentity names a password in its own namespace",
                ossGuard,
                {
                    resource: "azureidentities",
                    user: "deployer",
                    ...identity("gamma", { type: 1, clientID: "33333333-3333-4333-8333-333333333333", tenantID: "t", clientPassword: { name: "gamma-service-principal", namespace: "gamma" } }),
                },
            ],
            [
                "oss: the chart writes MIC's exception, labels in any order",
                ossGuard,
                { resource: "azurepodidentityexceptions", user: "deployer", ...exception("aad-pod-identity", "mic", { "app.kubernetes.io/component": "mic", component: "mic", app: "mic" }) },
            ],
            [
                "oss: the chart writes aks-addon-exception",
                ossGuard,
                { resource: "azurepodidentityexceptions", user: "deployer", ...exception("kube-system", "aks-addon-exception", { "kubernetes.azure.com/managedby": "aks" }) },
            ],
            [
                "oss: MIC creates an AzureAssignedIdentity",
                ossGuard,
                { resource: "azureassignedidentities", user: MIC_SERVICE_ACCOUNT, namespace: "alpha", object: { metadata: { name: "x", namespace: "alpha" }, spec: {} } },
            ],
            ["oss: MIC's type upgrade rewrites an AzureIdentity", ossGuard, { resource: "azureidentities", user: MIC_SERVICE_ACCOUNT, operation: "UPDATE", ...identity("alpha", { type: "0" }) }],
        ])("%s", (_label, guard, request) => {
            expect(admit(guard(), request)).toEqual({ allowed: true, messages: [] });
        });
    });

    describe("refuses a tenant who tries to take another workload's identity", () => {
        test.each<[string, () => Guard, Request, string]>([
            [
                "an AzureIdentity in the tenant's own namespace naming alpha's identity",
                addonGuard,
                { resource: "azureidentities", user: tenant, ...identity("aiv-impostor", { type: 0, resourceID: ALPHA_ID, clientID: ALPHA_CLIENT }) },
                "an AzureIdentity in namespace aiv-impostor may name only the identity of the workload that namespace belongs to",
            ],
            [
                "an AzureIdentity in team-beta naming alpha's identity",
                addonGuard,
                { resource: "azureidentities", user: tenant, ...identity("team-beta", { type: 0, resourceID: ALPHA_ID, clientID: ALPHA_CLIENT }) },
                "an AzureIdentity in namespace team-beta may name only the identity of the workload that namespace belongs to",
            ],
            [
                "an AzureIdentity in team-beta with beta's client id but alpha's ARM id",
                ossGuard,
                { resource: "azureidentities", user: tenant, ...identity("team-beta", { type: 0, resourceID: ALPHA_ID, clientID: BETA_CLIENT }) },
                "an AzureIdentity in namespace team-beta may name only the identity of the workload that namespace belongs to",
            ],
            [
                "an AzureIdentity in team-beta of a service principal, where beta has a managed identity",
                ossGuard,
                { resource: "azureidentities", user: tenant, ...identity("team-beta", { type: 1, clientID: BETA_CLIENT, clientPassword: { name: "s", namespace: "team-beta" } }) },
                "an AzureIdentity in namespace team-beta may name only the identity of the workload that namespace belongs to",
            ],
            [
                "a service principal's AzureIdentity whose password lives in another namespace",
                ossGuard,
                {
                    resource: "azureidentities",
                    user: tenant,
                    ...identity("gamma", { type: 1, clientID: "33333333-3333-4333-8333-333333333333", clientPassword: { name: "s", namespace: "team-beta" } }),
                },
                "an AzureIdentity in namespace gamma may name only the identity of the workload that namespace belongs to",
            ],
            [
                "an AzureIdentity without a client id",
                addonGuard,
                { resource: "azureidentities", user: tenant, ...identity("alpha", { type: 0, resourceID: ALPHA_ID }) },
                "an AzureIdentity in namespace alpha may name only the identity of the workload that namespace belongs to",
            ],
            [
                "a binding in team-beta selecting alpha's pods' label value",
                addonGuard,
                { resource: "azureidentitybindings", user: tenant, ...binding("team-beta", "alpha") },
                "an AzureIdentityBinding in namespace team-beta may select only the binding selector of the workload that namespace belongs to",
            ],
            [
                "a binding in the tenant's own namespace",
                ossGuard,
                { resource: "azureidentitybindings", user: tenant, ...binding("aiv-impostor", "alpha") },
                "an AzureIdentityBinding in namespace aiv-impostor may select only the binding selector of the workload that namespace belongs to",
            ],
            [
                "an exception in the tenant's own namespace",
                addonGuard,
                { resource: "azurepodidentityexceptions", user: tenant, ...exception("aiv-impostor", "escape", { app: "impostor" }) },
                "AzurePodIdentityException aiv-impostor/escape is not one this cluster needs: an exception lets pods past NMI to the node identity",
            ],
            [
                "an exception in a workload namespace under the add-on's name",
                addonGuard,
                { resource: "azurepodidentityexceptions", user: tenant, ...exception("alpha", "aks-addon-exception", { "kubernetes.azure.com/managedby": "aks" }) },
                "AzurePodIdentityException alpha/aks-addon-exception is not one this cluster needs: an exception lets pods past NMI to the node identity",
            ],
            [
                "aks-addon-exception widened by one more label",
                addonGuard,
                {
                    resource: "azurepodidentityexceptions",
                    user: tenant,
                    operation: "UPDATE",
                    ...exception("kube-system", "aks-addon-exception", { "kubernetes.azure.com/managedby": "aks", app: "impostor" }),
                },
                "AzurePodIdentityException kube-system/aks-addon-exception is not one this cluster needs: an exception lets pods past NMI to the node identity",
            ],
            [
                "MIC's exception in the add-on mode, where no MIC runs",
                addonGuard,
                { resource: "azurepodidentityexceptions", user: tenant, ...exception("aad-pod-identity", "mic", { app: "mic", component: "mic", "app.kubernetes.io/component": "mic" }) },
                "AzurePodIdentityException aad-pod-identity/mic is not one this cluster needs: an exception lets pods past NMI to the node identity",
            ],
            [
                "an AzureAssignedIdentity written by anyone but MIC",
                ossGuard,
                { resource: "azureassignedidentities", user: tenant, namespace: "alpha", object: { metadata: { name: "x", namespace: "alpha" }, spec: {} } },
                "only the pod-identity controller may write azureassignedidentities",
            ],
            [
                "an AzureAssignedIdentity in the add-on mode, where nothing writes them",
                addonGuard,
                { resource: "azureassignedidentities", user: MIC_SERVICE_ACCOUNT, namespace: "alpha", object: { metadata: { name: "x", namespace: "alpha" }, spec: {} } },
                "only the pod-identity controller may write azureassignedidentities",
            ],
        ])("%s", (_label, guard, request, message) => {
            expect(admit(guard(), request)).toEqual({ allowed: false, messages: [message] });
        });
    });

    test("matches every kind of the group on create and update, fails closed", () => {
        const guard = addonGuard();
        expect(guard.failurePolicy).toBe("Fail");
        expect(guard.matchConstraints.resourceRules).toEqual([{ apiGroups: ["aadpodidentity.k8s.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["*"] }]);
        expect(guard.validations.every((v) => v.reason === "Forbidden")).toBe(true);
    });

    test("with two controllers, each may write the assigned identities and nobody else may", () => {
        const second = "system:serviceaccount:kube-system:second-controller";
        const guard = crdGuardPolicySpec({ workloads, exceptions: [], controllers: [MIC_SERVICE_ACCOUNT, second] });
        const assigned = { resource: "azureassignedidentities", namespace: "alpha", object: { metadata: { name: "x", namespace: "alpha" }, spec: {} } };
        expect([MIC_SERVICE_ACCOUNT, second, tenant].map((user) => admit(guard, { ...assigned, user }).allowed)).toEqual([true, true, false]);
    });

    test("a quote in a namespace or selector stays inside its CEL string literal", () => {
        const guard = crdGuardPolicySpec({
            workloads: [{ namespace: "a'b", bindingSelector: "s'x", identityType: "managedIdentity", clientId: ALPHA_CLIENT, resourceId: ALPHA_ID }],
            exceptions: [],
            controllers: [],
        });
        expect(admit(guard, { resource: "azureidentitybindings", user: tenant, ...binding("a'b", "s'x") }).allowed).toBe(true);
        expect(admit(guard, { resource: "azureidentitybindings", user: tenant, ...binding("a'b", "s") }).allowed).toBe(false);
    });
});
