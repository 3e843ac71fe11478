// The two other identity modes as the plan registers them: the open-source aad-pod-identity with its
// CRDs, and Microsoft Entra Workload ID.
import type { Plan, Step } from "../tools/plan/types";
import { MOCK_SUBSCRIPTION_ID, MOCK_TENANT_ID } from "../tools/plan/mocks";
import { inputAt, planFor, step, stepsOfType } from "./support";

const T = {
    cluster: "azure-native:containerservice:ManagedCluster",
    role: "azure-native:authorization:RoleAssignment",
    podIdentities: "pulumi-nodejs:dynamic:PodIdentities",
    release: "kubernetes:helm.sh/v3:Release",
    azureIdentity: "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity",
    azureIdentityBinding: "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentityBinding",
    secret: "kubernetes:core/v1:Secret",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    spc: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    job: "kubernetes:batch/v1:Job",
    pod: "kubernetes:core/v1:Pod",
    federation: "azure-native:managedidentity:FederatedIdentityCredential",
    policy: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    policyBinding: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    application: "azuread:index/application:Application",
    servicePrincipal: "azuread:index/servicePrincipal:ServicePrincipal",
    password: "azuread:index/applicationPassword:ApplicationPassword",
    uai: "azure-native:managedidentity:UserAssignedIdentity",
};
const ROLE = (guid: string) => `/subscriptions/${MOCK_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

function env(s: Step): Record<string, unknown> {
    const containers = inputAt(s, s.newState.type === T.job ? "spec.template.spec.containers" : "spec.containers") as Array<{ env?: Array<{ name: string; value: unknown }> }>;
    return Object.fromEntries((containers[0].env ?? []).map((e) => [e.name, e.value]));
}

function templateLabels(s: Step): Record<string, string> {
    return (inputAt(s, "spec.template.metadata.labels") ?? {}) as Record<string, string>;
}

const LEGACY = 'workloads=[{"name":"alpha","namespace":"alpha"},{"name":"legacy","namespace":"legacy","identityType":"servicePrincipal"}]';

describe("identityMode=podIdentityOss", () => {
    let plan: Plan;
    beforeAll(async () => {
        plan = await planFor(["identityMode=podIdentityOss", LEGACY]);
    });

    test("installs the pinned aad-pod-identity chart, namespaced, with the kubenet guard on", () => {
        const release = stepsOfType(plan, T.release);
        expect(release).toHaveLength(1);
        expect(release[0].newState.inputs).toMatchObject({
            chart: "https://raw.githubusercontent.com/Azure/aad-pod-identity/d17ea6a41aed5284fda895d6d48f50cc5f9f175f/charts/aad-pod-identity-4.1.18.tgz",
            version: "4.1.18",
            values: { forceNamespaced: "true", nmi: { allowNetworkPluginKubenet: false } },
        });
    });

    test("turns the add-on off", () => {
        expect(inputAt(step(plan, T.cluster, "aks-cluster"), "podIdentityProfile.enabled")).toBe(false);
        expect(stepsOfType(plan, T.podIdentities)).toEqual([]);
    });

    test("the kubelet identity holds a custom role of MIC's scale-set read and write on the node resource group only, never Virtual Machine Contributor", () => {
        const role = step(plan, "azure-native:authorization:RoleDefinition", "aad-pod-identity-mic-role");
        expect(role.newState.inputs).toMatchObject({ assignableScopes: [`/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-aiv-dev-aks-nodes`] });
        const grant = step(plan, T.role, "aad-pod-identity-kubelet-mic-role");
        expect(grant.newState.inputs).toMatchObject({
            scope: `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-aiv-dev-aks-nodes`,
            principalType: "ServicePrincipal",
        });
        expect(String(grant.newState.inputs.roleDefinitionId)).not.toContain("9980e02c-c2be-4d73-94e8-173b1dc7cf3c");
        expect(step(plan, T.release, "aad-pod-identity-release").newState.dependencies).toContain(grant.urn);
    });

    test("a managed-identity workload gets an AzureIdentity of type 0, after the chart's CRDs, and the kubelet may assign it", () => {
        const identity = step(plan, T.azureIdentity, "alpha-azure-identity");
        expect(identity.newState.inputs).toMatchObject({
            apiVersion: "aadpodidentity.k8s.io/v1",
            metadata: { name: "alpha", namespace: "alpha" },
            spec: { type: 0, resourceID: expect.stringMatching(/userAssignedIdentities\/id-aiv-dev-alpha$/), clientID: expect.any(String) },
        });
        expect(identity.newState.dependencies).toContain(step(plan, T.release, "aad-pod-identity-release").urn);
        expect(step(plan, T.role, "alpha-kubelet-operator").newState.inputs.roleDefinitionId).toBe(ROLE("f1a07417-d97a-45cb-824c-7a7467783830"));
    });

    test("its AzureIdentityBinding selects pods by the binding selector", () => {
        expect(inputAt(step(plan, T.azureIdentityBinding, "alpha-azure-identity-binding"), "spec")).toEqual({ azureIdentity: "alpha", selector: "alpha" });
    });

    test("a service-principal workload gets an Entra application, its service principal and a password kept in a Secret", () => {
        const application = step(plan, T.application, "legacy-application");
        expect(application.newState.inputs.displayName).toBe("id-aiv-dev-legacy");
        expect(step(plan, T.servicePrincipal, "legacy-service-principal").newState.propertyDependencies.clientId).toEqual([application.urn]);
        expect(step(plan, T.password, "legacy-password").newState.inputs.endDateRelative).toBe("8760h");
        const secret = step(plan, T.secret, "legacy-service-principal-secret");
        expect(inputAt(secret, "stringData")).toBe("[secret]");
        expect(inputAt(secret, "metadata.namespace")).toBe("legacy");
        const identity = step(plan, T.azureIdentity, "legacy-azure-identity");
        expect(inputAt(identity, "spec")).toEqual({ type: 1, clientID: expect.any(String), tenantID: MOCK_TENANT_ID, clientPassword: { name: "legacy-service-principal", namespace: "legacy" } });
        expect(stepsOfType(plan, T.uai).map((u) => u.newState.inputs.resourceName)).not.toContain("id-aiv-dev-legacy");
    });

    test("the service principal, not a managed identity, is granted the workload's container, secret and key", () => {
        const sp = step(plan, T.servicePrincipal, "legacy-service-principal").urn;
        const scopes = stepsOfType(plan, T.role)
            .filter((r) => r.newState.propertyDependencies.principalId?.includes(sp))
            .map((r) => String(r.newState.inputs.scope).split("/").slice(-2).join("/"));
        expect(scopes.sort()).toEqual(["containers/legacy", "keys/legacy-demo-key", "secrets/legacy-demo"]);
        expect(stepsOfType(plan, T.role).filter((r) => r.urn.endsWith("::legacy-kubelet-operator"))).toEqual([]);
    });

    test("the SecretProviderClass keeps usePodIdentity", () => {
        expect(inputAt(step(plan, T.spc, "alpha-secret-provider"), "spec.parameters.usePodIdentity")).toBe("true");
    });

    test("the demo Jobs use the metadata endpoint and the binding label", () => {
        expect(env(step(plan, T.job, "alpha-verify-bound")).TOKEN_SOURCE).toBe("imds");
        expect(templateLabels(step(plan, T.job, "alpha-verify-bound")).aadpodidbinding).toBe("alpha");
        expect(templateLabels(step(plan, T.job, "alpha-verify-unbound")).aadpodidbinding).toBeUndefined();
    });

    test("the plan warns that the project is archived", () => {
        expect(plan.diagnostics).toContainEqual({ severity: "warning", message: expect.stringContaining("archived") });
    });
});

describe("identityMode=workloadIdentity", () => {
    let plan: Plan;
    let cluster: Step;
    beforeAll(async () => {
        plan = await planFor(["identityMode=workloadIdentity"]);
        cluster = step(plan, T.cluster, "aks-cluster");
    });

    test("turns on the OIDC issuer and workload identity, and the add-on off", () => {
        expect(inputAt(cluster, "oidcIssuerProfile.enabled")).toBe(true);
        expect(inputAt(cluster, "securityProfile.workloadIdentity.enabled")).toBe(true);
        expect(inputAt(cluster, "podIdentityProfile.enabled")).toBe(false);
        expect(stepsOfType(plan, T.podIdentities)).toEqual([]);
        expect(stepsOfType(plan, T.release)).toEqual([]);
    });

    test("federates the workload identity with its service account through the cluster's issuer", () => {
        const federation = step(plan, T.federation, "alpha-federation");
        expect(federation.newState.inputs).toMatchObject({
            resourceName: "id-aiv-dev-alpha",
            resourceGroupName: "rg-aiv-dev",
            subject: "system:serviceaccount:alpha:alpha-workload",
            audiences: ["api://AzureADTokenExchange"],
            issuer: expect.stringMatching(/^https:\/\/uksouth\.oic\.prod-aks\.azure\.com\//),
        });
        expect(federation.newState.dependencies).toContain(cluster.urn);
        expect(plan.outputs.oidcIssuerUrl).toBe(federation.newState.inputs.issuer);
    });

    test("annotates the workload's service account with the identity's client id", () => {
        const account = step(plan, T.serviceAccount, "alpha-service-account");
        const workloads = plan.outputs.workloads as Record<string, Record<string, string>>;
        expect(inputAt(account, "metadata.name")).toBe("alpha-workload");
        expect((inputAt(account, "metadata.annotations") as Record<string, string>)["azure.workload.identity/client-id"]).toBe(workloads.alpha.identityClientId);
    });

    test("the bound Job runs as that account, labelled for Workload ID, exchanging its token", () => {
        const bound = step(plan, T.job, "alpha-verify-bound");
        expect(templateLabels(bound)["azure.workload.identity/use"]).toBe("true");
        expect(templateLabels(bound).aadpodidbinding).toBeUndefined();
        expect(inputAt(bound, "spec.template.spec.serviceAccountName")).toBe("alpha-workload");
        expect(env(bound).TOKEN_SOURCE).toBe("workloadIdentity");
        expect(bound.newState.dependencies).toContain(step(plan, T.federation, "alpha-federation").urn);
    });

    test("the unbound Job claims the identity from an account no credential trusts", () => {
        const unbound = step(plan, T.job, "alpha-verify-unbound");
        expect(templateLabels(unbound)["azure.workload.identity/use"]).toBe("true");
        expect(inputAt(unbound, "spec.template.spec.serviceAccountName")).toBe("alpha-unbound");
        const account = step(plan, T.serviceAccount, "alpha-unbound-sa");
        expect(inputAt(account, "metadata.annotations")).toEqual({ "azure.workload.identity/client-id": expect.any(String) });
        const subjects = stepsOfType(plan, T.federation).map((f) => f.newState.inputs.subject);
        expect(subjects).not.toContain("system:serviceaccount:alpha:alpha-unbound");
    });

    test("the SecretProviderClass names the client id instead of the pod identity", () => {
        const spc = step(plan, T.spc, "alpha-secret-provider");
        expect(inputAt(spc, "spec.parameters")).toMatchObject({ usePodIdentity: "false", clientID: expect.any(String) });
    });

    test("no label guard and no kubelet grants: nothing assigns identities to nodes", () => {
        expect(stepsOfType(plan, T.policy)).toEqual([]);
        expect(stepsOfType(plan, T.role).filter((r) => r.urn.endsWith("::alpha-kubelet-operator"))).toEqual([]);
    });

    test("does not warn about a deprecated mode", () => {
        expect(plan.diagnostics.filter((d) => /deprecated|archived/.test(d.message))).toEqual([]);
    });
});

describe.each(["podIdentityAddon", "podIdentityOss"])("label guard in %s", (mode) => {
    test("an admission policy and its binding let only the workload's pods carry its label", async () => {
        const plan = await planFor([`identityMode=${mode}`]);
        const policy = step(plan, T.policy, "alpha-label-guard");
        expect(inputAt(policy, "spec.failurePolicy")).toBe("Fail");
        expect(inputAt(policy, "spec.matchConstraints.resourceRules")).toEqual([{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] }]);
        const validations = inputAt(policy, "spec.validations") as Array<Record<string, string>>;
        expect(validations[0].expression).toContain("'alpha-workload'");
        const binding = step(plan, T.policyBinding, "alpha-label-guard-binding");
        expect(inputAt(binding, "spec")).toEqual({ policyName: "aadpodidbinding-guard-alpha", validationActions: ["Deny"] });
        expect(step(plan, T.job, "alpha-verify-bound").newState.dependencies).toContain(binding.urn);
    });
});
