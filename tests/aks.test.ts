// The cluster, the pod identities and the demo workloads as the plan registers them (identity mode
// podIdentityAddon, the default).
import type { Plan, Step } from "../tools/plan/types";
import { MOCK_DEPLOYER, MOCK_SUBSCRIPTION_ID } from "../tools/plan/mocks";
import { inputAt, planFor, step, stepsOfType } from "./support";

const T = {
    cluster: "azure-native:containerservice:ManagedCluster",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    role: "azure-native:authorization:RoleAssignment",
    podIdentities: "pulumi-nodejs:dynamic:PodIdentities",
    delay: "pulumi-nodejs:dynamic:RolePropagationDelay",
    namespace: "kubernetes:core/v1:Namespace",
    spc: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    job: "kubernetes:batch/v1:Job",
    pod: "kubernetes:core/v1:Pod",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    k8sProvider: "pulumi:providers:kubernetes",
    vault: "azure-native:keyvault:Vault",
};

const ROLE = (guid: string) => `/subscriptions/${MOCK_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const MANAGED_IDENTITY_OPERATOR = ROLE("f1a07417-d97a-45cb-824c-7a7467783830");

/** The pod spec of a Job or a Pod. */
function podSpec(s: Step): Record<string, unknown> {
    const path = s.newState.type === T.job ? "spec.template.spec" : "spec";
    return inputAt(s, path) as Record<string, unknown>;
}

function podLabels(s: Step): Record<string, string> {
    return (inputAt(s, s.newState.type === T.job ? "spec.template.metadata.labels" : "metadata.labels") ?? {}) as Record<string, string>;
}

describe("dev stack: AKS with the pod-identity add-on", () => {
    let plan: Plan;
    let cluster: Step;
    beforeAll(async () => {
        plan = await planFor();
        cluster = step(plan, T.cluster, "aks-cluster");
    });

    describe("ManagedCluster", () => {
        test("enables the pod-identity add-on with no identities, and never on kubenet", () => {
            expect(inputAt(cluster, "podIdentityProfile")).toEqual({ enabled: true, allowNetworkPluginKubenet: false });
        });

        test("leaves the identity list to the stack's one PodIdentities resource", () => {
            expect(cluster.newState.ignoreChanges).toEqual(expect.arrayContaining(["podIdentityProfile.userAssignedIdentities"]));
        });

        test.each([
            ["networkProfile.networkPlugin", "azure"],
            ["networkProfile.networkPolicy", "calico"],
            ["networkProfile.serviceCidr", "10.0.0.0/16"],
            ["networkProfile.dnsServiceIP", "10.0.0.10"],
            ["aadProfile.managed", true],
            ["aadProfile.enableAzureRBAC", true],
            ["disableLocalAccounts", true],
            ["enableRBAC", true],
            ["autoUpgradeProfile.upgradeChannel", "stable"],
            ["autoUpgradeProfile.nodeOSUpgradeChannel", "NodeImage"],
            ["addonProfiles.azureKeyvaultSecretsProvider.enabled", true],
            ["addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation", "true"],
            ["identity.type", "UserAssigned"],
        ])("%s is %p", (path, expected) => {
            expect(inputAt(cluster, path)).toBe(expected);
        });

        test("its two node pools from config in the AKS subnet: the system pool and the autoscaled user pool", () => {
            const pools = inputAt(cluster, "agentPoolProfiles") as Array<Record<string, unknown>>;
            expect(pools).toHaveLength(2);
            expect(pools[0]).toMatchObject({ name: "system", count: 2, vmSize: "Standard_D4ds_v5", mode: "System", maxPods: 30, enableNodePublicIP: false });
            expect(pools[1]).toMatchObject({ name: "user", mode: "User", enableAutoScaling: true, minCount: 2, maxCount: 4, count: 2, maxPods: 30, enableNodePublicIP: false });
            for (const pool of pools) {
                expect(String(pool.vnetSubnetID)).toMatch(/subnets\/snet-aks$/);
            }
        });

        test("user-assigned control-plane and kubelet identities exist, with their grants applied, before the cluster", () => {
            const controlPlane = step(plan, T.identity, "aks-control-plane-identity");
            const kubelet = step(plan, T.identity, "aks-kubelet-identity");
            expect(inputAt(cluster, "identity.userAssignedIdentities")).toEqual([expect.stringMatching(/userAssignedIdentities\/id-aiv-dev-aks$/)]);
            expect(inputAt(cluster, "identityProfile.kubeletidentity.resourceId")).toMatch(/userAssignedIdentities\/id-aiv-dev-aks-kubelet$/);
            const grants = [step(plan, T.role, "aks-control-plane-kubelet-operator"), step(plan, T.role, "aks-control-plane-subnet")];
            const propagation = step(plan, T.delay, "aks-control-plane-propagation");
            expect(cluster.newState.dependencies).toContain(propagation.urn);
            for (const grant of grants) {
                expect(propagation.newState.dependencies).toContain(grant.urn);
                expect(grant.newState.dependencies).toContain(controlPlane.urn);
            }
            expect(grants[0].newState.inputs).toMatchObject({ roleDefinitionId: MANAGED_IDENTITY_OPERATOR, scope: expect.stringMatching(/id-aiv-dev-aks-kubelet$/) });
            expect(grants[1].newState.inputs).toMatchObject({ roleDefinitionId: ROLE("4d97b98b-1d4f-4787-a291-c67834d212e7"), scope: expect.stringMatching(/subnets\/snet-aks$/) });
            expect(kubelet.newState.inputs.resourceName).toBe("id-aiv-dev-aks-kubelet");
        });

        test("is protected", () => {
            expect(cluster.newState.protect).toBe(true);
        });

        test("the deploying principal is AKS RBAC Cluster Admin on this cluster only", () => {
            const admin = step(plan, T.role, "aks-deployer-admin");
            expect(admin.newState.inputs).toMatchObject({
                principalId: MOCK_DEPLOYER.objectId,
                principalType: "User",
                roleDefinitionId: ROLE("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"),
                scope: expect.stringMatching(/managedClusters\/aks-aiv-dev$/),
            });
        });

        test("the plan warns that the add-on is deprecated", () => {
            expect(plan.diagnostics).toContainEqual({ severity: "warning", message: expect.stringContaining("deprecated") });
        });

        test("no authorized IP ranges: no access profile, and the plan warns", () => {
            expect(cluster.newState.inputs.apiServerAccessProfile).toBeUndefined();
            expect(plan.diagnostics).toContainEqual({ severity: "warning", message: expect.stringContaining("apiServerAuthorizedIpRanges is empty") });
        });
    });

    test("the Kubernetes provider gets a kubeconfig from the cluster, as a secret", () => {
        const provider = stepsOfType(plan, T.k8sProvider);
        expect(provider).toHaveLength(1);
        expect(provider[0].newState.inputs.kubeconfig).toBe("[secret]");
        expect(provider[0].newState.parent).toMatch(/aks-identity-vault:aks:AksCluster::aks$/);
    });

    describe("pod identity of workload alpha", () => {
        test("is an entry of the cluster's one PodIdentities resource, which depends on the cluster and carries the binding selector", () => {
            const podIdentities = step(plan, T.podIdentities, "aks-pod-identities");
            expect(podIdentities.newState.parent).toMatch(/aks-identity-vault:aks:AksCluster::aks$/);
            expect(podIdentities.newState.inputs).toMatchObject({
                clusterName: "aks-aiv-dev",
                resourceGroupName: "rg-aiv-dev",
                identities: {
                    "alpha/alpha": {
                        name: "alpha",
                        namespace: "alpha",
                        bindingSelector: "alpha",
                        identity: { resourceId: expect.stringMatching(/id-aiv-dev-alpha$/), clientId: expect.any(String), objectId: expect.any(String) },
                    },
                },
            });
            expect(podIdentities.newState.dependencies).toEqual(expect.arrayContaining([cluster.urn, step(plan, T.namespace, "alpha-namespace").urn]));
            expect(podIdentities.newState.inputs.clusterRevision).toMatch(/^[0-9a-f]{16}$/);
        });

        test("the control-plane identity is Managed Identity Operator on the workload identity, applied before the entry is written", () => {
            const grant = step(plan, T.role, "alpha-control-plane-operator");
            const controlPlane = step(plan, T.identity, "aks-control-plane-identity");
            expect(grant.newState.inputs).toMatchObject({
                roleDefinitionId: MANAGED_IDENTITY_OPERATOR,
                principalType: "ServicePrincipal",
                scope: expect.stringMatching(/userAssignedIdentities\/id-aiv-dev-alpha$/),
            });
            expect(grant.newState.propertyDependencies.principalId).toEqual([controlPlane.urn]);
            const propagation = step(plan, T.delay, "alpha-operator-propagation");
            expect(propagation.newState.dependencies).toContain(grant.urn);
            expect(step(plan, T.podIdentities, "aks-pod-identities").newState.dependencies).toContain(propagation.urn);
        });

        test("the namespace enforces the restricted Pod Security Standard", () => {
            expect(inputAt(step(plan, T.namespace, "alpha-namespace"), "metadata.labels")).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
        });

        test("the SecretProviderClass reads the vault with the pod's identity", () => {
            const spc = step(plan, T.spc, "alpha-secret-provider");
            expect(spc.newState.inputs.apiVersion).toBe("secrets-store.csi.x-k8s.io/v1");
            expect(inputAt(spc, "spec.provider")).toBe("azure");
            expect(inputAt(spc, "spec.parameters.usePodIdentity")).toBe("true");
            expect(inputAt(spc, "spec.parameters.keyvaultName")).toBe(step(plan, T.vault, "keyvault-vault").newState.inputs.vaultName);
            expect(inputAt(spc, "spec.parameters.objects")).toContain("objectName: alpha-demo\n");
            expect(inputAt(spc, "spec.parameters.objects")).toContain("objectName: alpha-demo-key\n");
            // The secret stays in Key Vault: no workload syncs by default.
            expect(inputAt(spc, "spec.secretObjects")).toBeUndefined();
        });
    });

    describe("demo workloads of alpha", () => {
        let bound: Step;
        let unbound: Step;
        beforeAll(() => {
            bound = step(plan, T.job, "alpha-verify-bound");
            unbound = step(plan, T.job, "alpha-verify-unbound");
        });

        test("a Job that failed is replaced, so the next pulumi up runs the verification again", () => {
            for (const job of [bound, unbound]) {
                expect(inputAt(job, "metadata.annotations")).toEqual({ "pulumi.com/replaceUnready": "true" });
            }
        });

        test("the bound Job carries the binding label and mounts the CSI volume", () => {
            expect(podLabels(bound).aadpodidbinding).toBe("alpha");
            expect(JSON.stringify(podSpec(bound).volumes)).toContain('"driver":"secrets-store.csi.k8s.io"');
            expect(inputAt(bound, "spec.backoffLimit")).toBe(0);
        });

        test("the unbound Job has neither the label nor the CSI volume", () => {
            expect(podLabels(unbound).aadpodidbinding).toBeUndefined();
            expect(JSON.stringify(podSpec(unbound).volumes)).not.toContain("secrets-store.csi.k8s.io");
            expect(JSON.stringify(podSpec(unbound).containers)).toContain('"name":"VERIFY_MODE","value":"unbound"');
        });

        test("no pod stays behind holding the secret: the stack runs no Pod or Deployment, only Jobs", () => {
            expect(plan.steps.filter((s) => ["kubernetes:core/v1:Pod", "kubernetes:apps/v1:Deployment"].includes(s.newState.type))).toEqual([]);
            const bounds = podSpec(bound) as { volumes: Array<Record<string, unknown>>; containers: Array<{ volumeMounts: Array<{ mountPath: string }> }> };
            expect(bounds.volumes).toContainEqual(expect.objectContaining({ csi: expect.objectContaining({ driver: "secrets-store.csi.k8s.io", readOnly: true }) }));
            expect(bounds.containers[0].volumeMounts.map((m) => m.mountPath)).toContain("/mnt/secrets-store");
        });

        test("the Jobs wait for the pod identity, the grants and the private endpoints", () => {
            const podIdentities = step(plan, T.podIdentities, "aks-pod-identities").urn;
            expect(bound.newState.dependencies).toEqual(
                expect.arrayContaining([
                    podIdentities,
                    step(plan, T.role, "keyvault-alpha-secrets-user").urn,
                    step(plan, T.role, "storage-alpha-blob-contributor").urn,
                    step(plan, "azure-native:network:PrivateDnsZoneGroup", "keyvault-vault-endpoint-dns").urn,
                    step(plan, "azure-native:network:PrivateDnsZoneGroup", "storage-blob-endpoint-dns").urn,
                    step(plan, "azure-native:privatedns:VirtualNetworkLink", "dns-vault-link").urn,
                    step(plan, "azure-native:privatedns:VirtualNetworkLink", "dns-blob-link").urn,
                ]),
            );
            expect(unbound.newState.dependencies).toContain(podIdentities);
        });

        test.each(["alpha-verify-bound", "alpha-verify-unbound"])("%s meets the restricted profile with requests and limits", (name) => {
            const s = plan.steps.find((x) => x.urn.endsWith(`::${name}`)) as Step;
            const spec = podSpec(s) as {
                securityContext: Record<string, unknown>;
                automountServiceAccountToken: boolean;
                serviceAccountName: string;
                containers: Array<{ image: string; securityContext: Record<string, unknown>; resources: { requests: unknown; limits: unknown } }>;
            };
            expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
            expect(spec.automountServiceAccountToken).toBe(false);
            expect(spec.serviceAccountName).toMatch(/^alpha-/);
            for (const container of spec.containers) {
                expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
                expect(container.resources.requests).toBeDefined();
                expect(container.resources.limits).toBeDefined();
                expect(container.image).toMatch(/^node:\d+\.\d+\.\d+-alpine\d+\.\d+@sha256:[0-9a-f]{64}$/);
            }
        });

        test("the namespace denies all traffic by default and the Jobs wait for its allowances", () => {
            const deny = step(plan, T.networkPolicy, "alpha-default-deny");
            expect(inputAt(deny, "spec")).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [], egress: [] });
            const egress = step(plan, T.networkPolicy, "alpha-workload-egress");
            expect(inputAt(egress, "spec.ingress")).toEqual([]);
            for (const s of [bound, unbound]) {
                expect(s.newState.dependencies).toEqual(expect.arrayContaining([deny.urn, egress.urn]));
            }
        });

        test("the verifier ships in a ConfigMap and runs from it", () => {
            const script = step(plan, "kubernetes:core/v1:ConfigMap", "alpha-verifier-script");
            expect((inputAt(script, "data") as Record<string, string>)["verifier.js"]).toContain("VERIFY_MODE");
            expect(JSON.stringify(podSpec(bound).containers)).toContain("/opt/verifier/verifier.js");
        });
    });

    test("outputs say how to read the verdicts", () => {
        const workloads = plan.outputs.workloads as Record<string, Record<string, string>>;
        expect(plan.outputs.clusterName).toBe("aks-aiv-dev");
        expect(workloads.alpha.verdicts).toBe("kubectl logs -n alpha job/alpha-verify-bound; kubectl logs -n alpha job/alpha-verify-unbound; kubectl logs -n aiv-impostor job/alpha-verify-impostor");
    });
});

describe("apiServerAuthorizedIpRanges set", () => {
    test("restricts the API server and does not warn about it", async () => {
        const plan = await planFor(['apiServerAuthorizedIpRanges=["203.0.113.0/24"]']);
        expect(inputAt(step(plan, T.cluster, "aks-cluster"), "apiServerAccessProfile.authorizedIPRanges")).toEqual(["203.0.113.0/24"]);
        expect(plan.diagnostics.filter((d) => d.message.includes("apiServerAuthorizedIpRanges"))).toEqual([]);
    });
});
