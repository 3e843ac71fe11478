import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PodIdentityBinding, PodIdentityBindingArgs } from "../../components/podIdentityBinding";
import type { IdentityMode } from "../../config";
import { buildOne, named, ofType, registrations, settled } from "./build";

const IDENTITY_ID = "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-unit-alpha";
const MODES: IdentityMode[] = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"];
const ROLE = "azure-native:authorization:RoleAssignment";
const SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass";
const GUARD = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const GUARD_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
const DELAY = "pulumi-nodejs:dynamic:RolePropagationDelay";

function args(identityMode: IdentityMode, provider: k8s.Provider, overrides: Partial<PodIdentityBindingArgs> = {}): PodIdentityBindingArgs {
    return {
        workload: { name: "alpha", namespace: "team-alpha", bindingSelector: "alpha-selector", serviceAccount: "alpha-workload", identityType: "managedIdentity" },
        identityMode,
        identity: { type: "managedIdentity", resourceId: IDENTITY_ID, identityName: "id-aiv-unit-alpha", clientId: "client-alpha", principalId: "principal-alpha" },
        identityResourceGroupName: "rg-unit",
        cluster: {
            subscriptionId: "sub-unit",
            controlPlaneObjectId: "control-plane-object",
            kubeletObjectId: "kubelet-object",
            oidcIssuerUrl: "https://issuer.example/unit/",
        },
        vault: { vaultName: "kv-aiv-unit-abc123", tenantId: "tenant-unit", secretName: "alpha-demo", keyName: "alpha-demo-key" },
        provider,
        ...overrides,
    };
}

async function built(identityMode: IdentityMode, overrides: (provider: k8s.Provider) => Partial<PodIdentityBindingArgs> = () => ({})) {
    const { component: binding, plan } = await buildOne(() => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "unit" });
        return new PodIdentityBinding("alpha", args(identityMode, provider, overrides(provider)));
    });
    return { binding, plan };
}

test.each(MODES)("registers exactly the reviewed namespace, service account, identity wiring and SecretProviderClass (%s)", async (mode) => {
    expect(registrations((await built(mode)).plan)).toMatchSnapshot();
});

test("the namespace enforces the restricted Pod Security Standard; the service account mounts no API token", async () => {
    const { plan, binding } = await built("podIdentityAddon");
    const namespace = named(plan, "kubernetes:core/v1:Namespace", "alpha-namespace").newState.inputs;
    expect(namespace).toMatchObject({ metadata: { name: "team-alpha", labels: { "pod-security.kubernetes.io/enforce": "restricted", "aks-identity-vault/workload": "alpha" } } });
    const account = named(plan, "kubernetes:core/v1:ServiceAccount", "alpha-service-account").newState.inputs;
    expect(account).toMatchObject({ automountServiceAccountToken: false, metadata: { name: "alpha-workload", namespace: "team-alpha" } });
    expect(await settled(binding.namespace)).toBe("team-alpha");
    expect(await settled(binding.serviceAccountName)).toBe("alpha-workload");
    expect(await settled(binding.secretProviderClassName)).toBe("alpha-keyvault");
});

// `az aks pod-identity add` grants Managed Identity Operator on the pod identity to the cluster's own
// identity, not the kubelet's (aks-preview _podidentity.py, _ensure_managed_identity_operator_permission),
// then waits 30 s before the cluster update that uses it.
test("add-on: the control plane, not the kubelet, may assign this identity only; the entry to attach waits for the grant to apply", async () => {
    const { plan, binding } = await built("podIdentityAddon");
    const operator = named(plan, ROLE, "alpha-control-plane-operator");
    expect(operator.newState.inputs).toMatchObject({
        principalId: "control-plane-object",
        principalType: "ServicePrincipal",
        scope: IDENTITY_ID,
        roleDefinitionId: expect.stringMatching(/f1a07417-d97a-45cb-824c-7a7467783830$/),
    });
    expect(ofType(plan, ROLE).map((r) => r.newState.inputs.principalId)).toEqual(["control-plane-object"]);
    const propagation = named(plan, DELAY, "alpha-operator-propagation");
    expect(propagation.newState.inputs).toMatchObject({ seconds: 30, grants: [expect.stringContaining("/roleAssignments/")] });
    expect(propagation.newState.dependencies).toContain(operator.urn);
    expect(ofType(plan, "pulumi-nodejs:dynamic:PodIdentities")).toEqual([]);
    const podIdentity = binding.podIdentity;
    if (podIdentity === undefined) throw new Error("an add-on binding has an entry to attach");
    expect(podIdentity.after.map((r) => r)).toEqual([binding.ready[1]]);
    expect(await settled(pulumi.output(podIdentity.entry))).toEqual({
        name: "alpha",
        namespace: "team-alpha",
        bindingSelector: "alpha-selector",
        identity: { resourceId: IDENTITY_ID, clientId: "client-alpha", objectId: "principal-alpha" },
    });
    expect(binding.ready.length).toBe(3);
});

test("add-on: the wait after the grant can be set", async () => {
    const { plan } = await built("podIdentityAddon", () => ({ rolePropagationSeconds: 90 }));
    expect(named(plan, DELAY, "alpha-operator-propagation").newState.inputs).toMatchObject({ seconds: 90 });
});

test("open source: the kubelet, which MIC runs as, may assign the identity; the control plane gets nothing", async () => {
    const { plan } = await built("podIdentityOss");
    expect(ofType(plan, ROLE).map((r) => [r.urn.split("::").pop(), r.newState.inputs.principalId])).toEqual([["alpha-kubelet-operator", "kubelet-object"]]);
    expect(ofType(plan, DELAY)).toHaveLength(0);
});

test("pod-identity modes guard the label: only this namespace and service account may claim the selector", async () => {
    for (const mode of ["podIdentityAddon", "podIdentityOss"] as const) {
        const { plan } = await built(mode);
        const policy = named(plan, GUARD, "alpha-label-guard").newState.inputs as { metadata: { name: string }; spec: Record<string, unknown> };
        expect(policy.metadata.name).toBe("aadpodidbinding-guard-alpha");
        expect(policy.spec).toMatchObject({
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] }] },
        });
        expect(JSON.stringify(policy.spec.validations)).toContain("request.namespace == 'team-alpha' && object.spec.serviceAccountName == 'alpha-workload'");
        expect(named(plan, GUARD_BINDING, "alpha-label-guard-binding").newState.inputs).toMatchObject({ spec: { policyName: "aadpodidbinding-guard-alpha", validationActions: ["Deny"] } });
    }
    const { plan } = await built("workloadIdentity");
    expect(ofType(plan, GUARD)).toHaveLength(0);
    expect(ofType(plan, GUARD_BINDING)).toHaveLength(0);
});

test("open source, managed identity: a namespaced AzureIdentity of type 0 and its binding, after the platform", async () => {
    let platformUrn = "";
    const { plan, binding: component } = await built("podIdentityOss", (provider) => {
        const release = new k8s.core.v1.ConfigMap("platform", { metadata: { name: "platform" } }, { provider });
        platformUrn = "platform";
        return { platform: [release] };
    });
    const identity = named(plan, "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity", "alpha-azure-identity");
    expect(identity.newState.inputs).toMatchObject({ metadata: { name: "alpha", namespace: "team-alpha" }, spec: { type: 0, resourceID: IDENTITY_ID, clientID: "client-alpha" } });
    const binding = named(plan, "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentityBinding", "alpha-azure-identity-binding");
    expect(binding.newState.inputs).toMatchObject({ metadata: { name: "alpha-binding", namespace: "team-alpha" }, spec: { azureIdentity: "alpha", selector: "alpha-selector" } });
    for (const s of [identity, binding]) {
        expect(s.newState.dependencies.some((d) => d.endsWith(`::${platformUrn}`))).toBe(true);
        expect(s.newState.dependencies.some((d) => d.endsWith("::alpha-kubelet-operator"))).toBe(true);
    }
    expect(component.podIdentity).toBeUndefined();
    expect(ofType(plan, "kubernetes:core/v1:Secret")).toHaveLength(0);
});

test("open source, service principal: type 1 reading its password from a Secret, kept secret; the kubelet gets no operator grant", async () => {
    const { plan, binding } = await built("podIdentityOss", () => ({
        identity: { type: "servicePrincipal", resourceId: "", identityName: "id-aiv-unit-alpha", clientId: "client-alpha", principalId: "principal-alpha", clientSecret: "s3cret" },
    }));
    const secret = named(plan, "kubernetes:core/v1:Secret", "alpha-service-principal-secret");
    expect(secret.newState.inputs).toMatchObject({ metadata: { name: "alpha-service-principal", namespace: "team-alpha" }, type: "Opaque", stringData: "[secret]" });
    const identity = named(plan, "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity", "alpha-azure-identity");
    expect(identity.newState.inputs).toMatchObject({
        spec: { type: 1, clientID: "client-alpha", tenantID: "tenant-unit", clientPassword: { name: "alpha-service-principal", namespace: "team-alpha" } },
    });
    expect(identity.newState.dependencies).toContain(secret.urn);
    expect(ofType(plan, ROLE)).toHaveLength(0);
    expect(binding.ready).toHaveLength(4);
});

test("Workload ID: a service account with dots gets a federated credential name Azure accepts", async () => {
    const { plan } = await built("workloadIdentity", () => ({
        workload: { name: "alpha", namespace: "team-alpha", bindingSelector: "alpha", serviceAccount: "app.v2", identityType: "managedIdentity" },
    }));
    const federation = named(plan, "azure-native:managedidentity:FederatedIdentityCredential", "alpha-federation").newState.inputs;
    expect(federation).toMatchObject({ federatedIdentityCredentialResourceName: "team-alpha-app_v2", subject: "system:serviceaccount:team-alpha:app.v2" });
});

test("Workload ID: a federated credential for exactly this service account, and the client id on the account", async () => {
    const { plan, binding } = await built("workloadIdentity");
    expect(named(plan, "azure-native:managedidentity:FederatedIdentityCredential", "alpha-federation").newState.inputs).toEqual({
        federatedIdentityCredentialResourceName: "team-alpha-alpha-workload",
        resourceName: "id-aiv-unit-alpha",
        resourceGroupName: "rg-unit",
        issuer: "https://issuer.example/unit/",
        subject: "system:serviceaccount:team-alpha:alpha-workload",
        audiences: ["api://AzureADTokenExchange"],
    });
    expect(named(plan, "kubernetes:core/v1:ServiceAccount", "alpha-service-account").newState.inputs).toMatchObject({
        metadata: { annotations: { "azure.workload.identity/client-id": "client-alpha" } },
    });
    expect(ofType(plan, ROLE)).toHaveLength(0);
    expect(binding.podIdentity).toBeUndefined();
    expect(binding.ready).toHaveLength(1);
});

test("the SecretProviderClass reads this workload's secret and key from the vault, as the pod and never as the node", async () => {
    for (const mode of MODES) {
        const { plan } = await built(mode, () => ({ cloudName: mode === "podIdentityOss" ? "AzureUSGovernmentCloud" : undefined }));
        const spc = named(plan, SPC, "alpha-secret-provider").newState.inputs as { metadata: Record<string, unknown>; spec: { parameters: Record<string, string> } };
        expect(spc.metadata).toMatchObject({ name: "alpha-keyvault", namespace: "team-alpha" });
        expect(spc.spec.parameters).toMatchObject({
            useVMManagedIdentity: "false",
            usePodIdentity: mode === "workloadIdentity" ? "false" : "true",
            keyvaultName: "kv-aiv-unit-abc123",
            tenantID: "tenant-unit",
            cloudName: mode === "podIdentityOss" ? "AzureUSGovernmentCloud" : "AzurePublicCloud",
        });
        expect(spc.spec.parameters.clientID).toBe(mode === "workloadIdentity" ? "client-alpha" : undefined);
        expect(spc.spec.parameters.objects).toContain("objectName: alpha-demo\n");
        expect(spc.spec.parameters.objects).toContain("objectName: alpha-demo-key\n");
    }
});
