// One workload's binding in each identity mode: the binding component with the mode driver's
// resources for it, and what the mode writes once every workload is bound.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { identityModeDriver } from "../../components/modes";
import type { IdentityMode } from "../../components/modes";
import type { ModeStackArgs } from "../../components/modes/driver";
import { PodIdentityBinding, PodIdentityBindingArgs } from "../../components/podIdentityBinding";
import { buildOne, named, ofType, registrations, settled } from "./build";

describe("PodIdentityBinding", () => {
    const IDENTITY_ID = "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-unit-alpha";
    const MODES: IdentityMode[] = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"];
    const ROLE = "azure-native:authorization:RoleAssignment";
    const SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass";
    const GUARD = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
    const GUARD_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
    const DELAY = "pulumi-nodejs:dynamic:RolePropagationDelay";
    const POD_IDENTITIES = "pulumi-nodejs:dynamic:PodIdentities";

    /** What each test may change: the binding's arguments, and the stack's as the mode sees them. */
    interface Overrides {
        binding?: Partial<Omit<PodIdentityBindingArgs, "mode" | "provider">>;
        stack?: Partial<Omit<ModeStackArgs, "cluster">>;
    }

    async function built(identityMode: IdentityMode, overrides: Overrides = {}) {
        let ready: pulumi.Resource[] = [];
        const { component: binding, plan } = await buildOne(() => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "unit" });
            const cluster = new pulumi.ComponentResource("unit:index:Cluster", "aks");
            const mode = identityModeDriver(identityMode).deploy({
                subscriptionId: "sub-unit",
                tenantId: "tenant-unit",
                resourceGroupName: "rg-unit",
                cluster: {
                    component: cluster,
                    clusterName: "aks-aiv-unit",
                    revision: "rev-1",
                    writes: [],
                    nodeResourceGroup: "rg-unit-aks-nodes",
                    controlPlaneObjectId: "control-plane-object",
                    kubeletObjectId: "kubelet-object",
                    oidcIssuerUrl: "https://issuer.example/unit/",
                    provider,
                },
                ...overrides.stack,
            });
            const component = new PodIdentityBinding("alpha", {
                workload: { name: "alpha", namespace: "team-alpha", bindingSelector: "alpha-selector", serviceAccount: "alpha-workload", identityType: "managedIdentity", syncSecret: false },
                identity: { type: "managedIdentity", resourceId: IDENTITY_ID, identityName: "id-aiv-unit-alpha", clientId: "client-alpha", principalId: "principal-alpha" },
                vault: { vaultName: "kv-aiv-unit-abc123", tenantId: "tenant-unit", secretName: "alpha-demo", keyName: "alpha-demo-key" },
                privateEndpointSubnetPrefix: "10.76.2.0/26",
                ...overrides.binding,
                mode,
                provider,
            });
            ready = [...component.ready, ...mode.complete()];
            return component;
        });
        return { binding, plan, ready };
    }

    test.each(MODES)("registers exactly the reviewed namespace, service account, identity wiring and SecretProviderClass (%s)", async (mode) => {
        expect(registrations((await built(mode)).plan)).toMatchSnapshot();
    });

    test("without the demo's vault objects, no SecretProviderClass; the namespace, account and policies stay", async () => {
        const { binding, plan } = await built("workloadIdentity", { binding: { vault: undefined } });
        expect(ofType(plan, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")).toEqual([]);
        expect(binding.secretProviderClassName).toBeUndefined();
        expect(ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")).toHaveLength(2);
        expect(await settled(binding.serviceAccountName)).toBe("alpha-workload");
    });

    test("the namespace enforces the restricted Pod Security Standard; the service account mounts no API token", async () => {
        const { plan, binding } = await built("podIdentityAddon");
        const namespace = named(plan, "kubernetes:core/v1:Namespace", "alpha-namespace").newState.inputs;
        expect(namespace).toMatchObject({ metadata: { name: "team-alpha", labels: { "pod-security.kubernetes.io/enforce": "restricted", "aks-identity-vault/workload": "alpha" } } });
        const account = named(plan, "kubernetes:core/v1:ServiceAccount", "alpha-service-account").newState.inputs;
        expect(account).toMatchObject({ automountServiceAccountToken: false, metadata: { name: "alpha-workload", namespace: "team-alpha" } });
        expect(await settled(binding.namespace)).toBe("team-alpha");
        expect(await settled(binding.serviceAccountName)).toBe("alpha-workload");
        expect(binding.secretProviderClassName && (await settled(binding.secretProviderClassName))).toBe("alpha-keyvault");
    });

    // `az aks pod-identity add` grants Managed Identity Operator on the pod identity to the cluster's own
    // identity, not the kubelet's (aks-preview _podidentity.py, _ensure_managed_identity_operator_permission),
    // then waits 30 s before the cluster update that uses it.
    test("add-on: the control plane, not the kubelet, may assign this identity only; the entry to attach waits for the grant to apply", async () => {
        const { plan, binding, ready } = await built("podIdentityAddon");
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
        const podIdentities = named(plan, POD_IDENTITIES, "aks-pod-identities");
        expect(podIdentities.newState.parent).toMatch(/unit:index:Cluster::aks$/);
        expect(podIdentities.newState.inputs).toMatchObject({
            subscriptionId: "sub-unit",
            resourceGroupName: "rg-unit",
            clusterName: "aks-aiv-unit",
            clusterRevision: "rev-1",
            identities: {
                "team-alpha/alpha": {
                    name: "alpha",
                    namespace: "team-alpha",
                    bindingSelector: "alpha-selector",
                    identity: { resourceId: IDENTITY_ID, clientId: "client-alpha", objectId: "principal-alpha" },
                },
            },
        });
        expect(podIdentities.newState.dependencies).toEqual(expect.arrayContaining([propagation.urn, named(plan, "kubernetes:core/v1:Namespace", "alpha-namespace").urn]));
        // The grant, its wait, the label guard and the namespace's two NetworkPolicies; then the guard on
        // aad-pod-identity's objects and the one write of the entries.
        expect(binding.ready).toHaveLength(5);
        expect(ready).toHaveLength(7);
    });

    test("the namespace denies all traffic by default, allows the workload's needs by a policy of their own, and pods wait for both", async () => {
        for (const mode of MODES) {
            const { plan, binding } = await built(mode);
            const deny = named(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "alpha-default-deny");
            expect(deny.newState.inputs).toMatchObject({
                metadata: { name: "default-deny", namespace: "team-alpha" },
                spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [], egress: [] },
            });
            const egress = named(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "alpha-workload-egress").newState.inputs as { spec: { podSelector: unknown; egress: unknown[] } };
            expect(egress.spec.podSelector).toEqual({});
            expect(egress.spec.egress).toHaveLength(3);
            expect(JSON.stringify(egress.spec.egress)).toContain("10.76.2.0/26");
            const urns = await Promise.all(binding.ready.map((r) => settled(r.urn)));
            expect(urns).toEqual(expect.arrayContaining([deny.urn, expect.stringMatching(/::alpha-workload-egress$/)]));
        }
    });

    test.each(["podIdentityAddon", "podIdentityOss"] as const)("%s: one guard on aad-pod-identity's objects names this namespace's identity and selector, and pods wait for it", async (mode) => {
        const { plan, ready } = await built(mode);
        const guards = ofType(plan, GUARD).filter((g) => (g.newState.inputs as { metadata: { name: string } }).metadata.name === "aadpodidentity-guard");
        expect(guards).toHaveLength(1);
        const variables = JSON.stringify((guards[0].newState.inputs as { spec: { variables: unknown } }).spec.variables);
        expect(variables).toContain(`'team-alpha': {'selector': 'alpha-selector', 'type': '0', 'clientID': 'client-alpha', 'resourceID': '${IDENTITY_ID.toLowerCase()}'}`);
        const binding = ofType(plan, GUARD_BINDING).find((b) => (b.newState.inputs as { metadata: { name: string } }).metadata.name === "aadpodidentity-guard");
        expect(binding?.newState.inputs).toMatchObject({ spec: { policyName: "aadpodidentity-guard", validationActions: ["Deny"] } });
        const urns = await Promise.all(ready.map((r) => settled(r.urn)));
        expect(urns).toContain(binding?.urn);
    });

    test("Workload ID: no aad-pod-identity guard, since nothing serves those objects", async () => {
        const { plan } = await built("workloadIdentity");
        expect(ofType(plan, GUARD).map((g) => (g.newState.inputs as { metadata: { name: string } }).metadata.name)).toEqual([]);
    });

    test("add-on: the wait after the grant can be set", async () => {
        const { plan } = await built("podIdentityAddon", { stack: { rolePropagationSeconds: 90 } });
        expect(named(plan, DELAY, "alpha-operator-propagation").newState.inputs).toMatchObject({ seconds: 90 });
    });

    test("open source: the kubelet, which MIC runs as, may assign the identity; the control plane gets nothing", async () => {
        const { plan } = await built("podIdentityOss");
        expect(ofType(plan, ROLE).map((r) => [r.urn.split("::").pop(), r.newState.inputs.principalId, r.newState.inputs.scope])).toEqual([
            ["aad-pod-identity-kubelet-mic-role", "kubelet-object", "/subscriptions/sub-unit/resourceGroups/rg-unit-aks-nodes"],
            ["alpha-kubelet-operator", "kubelet-object", IDENTITY_ID],
        ]);
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
        const { plan, ready } = await built("podIdentityOss");
        const identity = named(plan, "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity", "alpha-azure-identity");
        expect(identity.newState.inputs).toMatchObject({ metadata: { name: "alpha", namespace: "team-alpha" }, spec: { type: 0, resourceID: IDENTITY_ID, clientID: "client-alpha" } });
        const binding = named(plan, "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentityBinding", "alpha-azure-identity-binding");
        expect(binding.newState.inputs).toMatchObject({ metadata: { name: "alpha-binding", namespace: "team-alpha" }, spec: { azureIdentity: "alpha", selector: "alpha-selector" } });
        for (const s of [identity, binding]) {
            expect(s.newState.dependencies).toEqual(
                expect.arrayContaining([named(plan, "kubernetes:helm.sh/v3:Release", "aad-pod-identity-release").urn, named(plan, ROLE, "aad-pod-identity-kubelet-mic-role").urn]),
            );
            expect(s.newState.dependencies.some((d) => d.endsWith("::alpha-kubelet-operator"))).toBe(true);
        }
        expect(ofType(plan, POD_IDENTITIES)).toEqual([]);
        // The grant, the AzureIdentity, its binding, the label guard, the namespace's two NetworkPolicies and the guard on the objects.
        expect(ready).toHaveLength(7);
        expect(ofType(plan, "kubernetes:core/v1:Secret")).toHaveLength(0);
    });

    test("open source, service principal: type 1 reading its password from a Secret, kept secret; the kubelet gets no operator grant", async () => {
        const { plan, binding } = await built("podIdentityOss", {
            binding: { identity: { type: "servicePrincipal", resourceId: "", identityName: "id-aiv-unit-alpha", clientId: "client-alpha", principalId: "principal-alpha", clientSecret: "s3cret" } },
        });
        const secret = named(plan, "kubernetes:core/v1:Secret", "alpha-service-principal-secret");
        expect(secret.newState.inputs).toMatchObject({ metadata: { name: "alpha-service-principal", namespace: "team-alpha" }, type: "Opaque", stringData: "[secret]" });
        const identity = named(plan, "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity", "alpha-azure-identity");
        expect(identity.newState.inputs).toMatchObject({
            spec: { type: 1, clientID: "client-alpha", tenantID: "tenant-unit", clientPassword: { name: "alpha-service-principal", namespace: "team-alpha" } },
        });
        expect(identity.newState.dependencies).toContain(secret.urn);
        expect(ofType(plan, ROLE).map((r) => r.urn.split("::").pop())).toEqual(["aad-pod-identity-kubelet-mic-role"]);
        expect(binding.ready).toHaveLength(6);
    });

    test("Workload ID: a service account with dots gets a federated credential name Azure accepts", async () => {
        const { plan } = await built("workloadIdentity", {
            binding: { workload: { name: "alpha", namespace: "team-alpha", bindingSelector: "alpha", serviceAccount: "app.v2", identityType: "managedIdentity", syncSecret: false } },
        });
        const federation = named(plan, "azure-native:managedidentity:FederatedIdentityCredential", "alpha-federation").newState.inputs;
        expect(federation).toMatchObject({ federatedIdentityCredentialResourceName: "team-alpha-app_v2", subject: "system:serviceaccount:team-alpha:app.v2" });
    });

    test("Workload ID: a federated credential for exactly this service account, and the client id on the account", async () => {
        const { plan, binding, ready } = await built("workloadIdentity");
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
        // The credential and the namespace's two NetworkPolicies.
        expect(binding.ready).toHaveLength(3);
        expect(ready).toEqual(binding.ready);
    });

    test("the SecretProviderClass reads this workload's secret and key from the vault, as the pod and never as the node", async () => {
        for (const mode of MODES) {
            const { plan } = await built(mode, { binding: { cloudName: mode === "podIdentityOss" ? "AzureUSGovernmentCloud" : undefined } });
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
});
