import * as k8s from "@pulumi/kubernetes";
import { AadPodIdentity } from "../../components/modes/podIdentityOss/aadPodIdentity";
import { build, named, registrations } from "./build";

describe("AadPodIdentity", () => {
    async function built() {
        return build(() => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "unit" });
            new AadPodIdentity("aad-pod-identity", { subscriptionId: "sub-unit", nodeResourceGroup: "rg-unit-aks-nodes", kubeletObjectId: "kubelet-object", provider });
        });
    }

    test("registers exactly the reviewed namespace, kubelet grant and Helm release", async () => {
        expect(registrations(await built())).toMatchSnapshot();
    });

    test("the chart is pinned, namespaced and refuses kubenet, and installs after the kubelet may manage the node scale set", async () => {
        const plan = await built();
        const role = named(plan, "azure-native:authorization:RoleDefinition", "aad-pod-identity-mic-role");
        expect(role.newState.inputs).toMatchObject({
            scope: "/subscriptions/sub-unit/resourceGroups/rg-unit-aks-nodes",
            assignableScopes: ["/subscriptions/sub-unit/resourceGroups/rg-unit-aks-nodes"],
            roleName: "aad-pod-identity MIC (rg-unit-aks-nodes)",
            permissions: [{ actions: ["Microsoft.Compute/virtualMachineScaleSets/read", "Microsoft.Compute/virtualMachineScaleSets/write"], notActions: [], dataActions: [], notDataActions: [] }],
        });
        const grant = named(plan, "azure-native:authorization:RoleAssignment", "aad-pod-identity-kubelet-mic-role");
        expect(grant.newState.inputs).toMatchObject({
            principalId: "kubelet-object",
            scope: "/subscriptions/sub-unit/resourceGroups/rg-unit-aks-nodes",
            roleDefinitionId: expect.stringMatching(/^\/subscriptions\/sub-unit\/providers\/Microsoft\.Authorization\/roleDefinitions\/[0-9a-f-]{36}$/),
        });
        expect(String(grant.newState.inputs.roleDefinitionId)).not.toContain("9980e02c-c2be-4d73-94e8-173b1dc7cf3c");
        expect(grant.newState.dependencies).toContain(role.urn);
        const release = named(plan, "kubernetes:helm.sh/v3:Release", "aad-pod-identity-release");
        expect(release.newState.inputs).toMatchObject({
            name: "aad-pod-identity",
            chart: "https://raw.githubusercontent.com/Azure/aad-pod-identity/d17ea6a41aed5284fda895d6d48f50cc5f9f175f/charts/aad-pod-identity-4.1.18.tgz",
            version: "4.1.18",
            namespace: "aad-pod-identity",
            values: { forceNamespaced: "true", nmi: { allowNetworkPluginKubenet: false } },
            atomic: true,
        });
        // MIC retries a failed assignment only in its next sync cycle, hourly by default: a retry a minute
        // keeps an assignment tried before the kubelet's grants applied within the Jobs' deadline.
        expect(release.newState.inputs).toMatchObject({ values: { mic: { syncRetryDuration: "60s" } } });
        expect(release.newState.dependencies).toContain(grant.urn);
        expect(named(plan, "kubernetes:core/v1:Namespace", "aad-pod-identity-namespace").newState.inputs).toMatchObject({
            metadata: { name: "aad-pod-identity", labels: { "pod-security.kubernetes.io/enforce": "privileged" } },
        });
    });

    test("AKS's own add-on pods reach the metadata endpoint past NMI, once the chart's CRDs exist", async () => {
        const plan = await built();
        const exception = named(plan, "kubernetes:aadpodidentity.k8s.io/v1:AzurePodIdentityException", "aad-pod-identity-aks-addon-exception");
        expect(exception.newState.inputs).toEqual({
            apiVersion: "aadpodidentity.k8s.io/v1",
            kind: "AzurePodIdentityException",
            metadata: { name: "aks-addon-exception", namespace: "kube-system" },
            spec: { podLabels: { "kubernetes.azure.com/managedby": "aks" } },
        });
        expect(exception.newState.dependencies).toContain(named(plan, "kubernetes:helm.sh/v3:Release", "aad-pod-identity-release").urn);
    });
});
