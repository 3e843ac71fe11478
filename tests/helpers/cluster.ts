// Pure helpers of the cluster, the binding and the demo workloads, tested without mocks.
import { parse } from "yaml";
import { clusterRevision, kubeconfigForAzureCli } from "../../components/aksCluster";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../components/demoWorkloads";
import { identityModeDriver } from "../../components/modes";
import type { IdentityMode } from "../../components/modes";
import { NMI_ENDPOINT } from "../../components/modes/podIdentityCommon";
import { FEDERATED_CREDENTIAL_NAME_PATTERN, federatedCredentialName } from "../../components/modes/workloadIdentity";
import { defaultDenyPolicySpec, namespaceLabels, secretProviderClassSpec, secretProviderObjects, workloadEgressPolicySpec } from "../../components/podIdentityBinding";
import { egressRuleAdmits } from "../../policy/policies/azureBehaviour";
import { userKubeconfig } from "../../tools/plan/mocks";

describe("The cluster, the binding and the demo workloads", () => {
    /** What the driver of `mode` asks of pods. */
    const podsOf = (mode: IdentityMode) => identityModeDriver(mode).pods;

    describe("kubeconfigForAzureCli", () => {
        type Kubeconfig = { users: Array<{ user: { exec: { command: string; args: string[] } } }>; clusters: Array<{ cluster: { server: string } }> };
        // Computed in each test (beforeEach), so that each test covers the code it runs.
        let converted: Kubeconfig;
        beforeEach(() => {
            converted = parse(kubeconfigForAzureCli(userKubeconfig("aks-aiv-dev"))) as Kubeconfig;
        });

        test("switches kubelogin from device code to the Azure CLI's login, keeping the AKS server id", () => {
            expect(converted.users[0].user.exec.command).toBe("kubelogin");
            expect(converted.users[0].user.exec.args).toEqual(["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]);
        });

        test("keeps the cluster entry", () => {
            expect(converted.clusters[0].cluster.server).toMatch(/^https:\/\/aks-aiv-dev-dns/);
        });

        test("refuses a kubelogin entry without a server id", () => {
            const broken = userKubeconfig("x").replace("      - --server-id\n      - 6dae42f8-4368-4678-94ff-3960e28e3630\n", "");
            expect(() => kubeconfigForAzureCli(broken)).toThrow("--server-id");
            const flagless = userKubeconfig("x").replace("      - --server-id\n", "");
            expect(() => kubeconfigForAzureCli(flagless)).toThrow("--server-id");
        });
    });

    describe("clusterRevision", () => {
        const inputs = {
            resourceName: "aks-aiv-dev",
            tags: { project: "aks-identity-vault", stack: "dev" },
            agentPoolProfiles: [{ name: "system", count: 2, vnetSubnetID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/snet-aks" }],
            securityProfile: { defender: { logAnalyticsWorkspaceResourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log-a" } },
        };

        test("is stable for the same inputs, whatever the order of their keys", () => {
            const reordered = {
                securityProfile: inputs.securityProfile,
                agentPoolProfiles: inputs.agentPoolProfiles,
                tags: { stack: "dev", project: "aks-identity-vault" },
                resourceName: "aks-aiv-dev",
            };
            expect(clusterRevision(reordered, "3.28.0")).toBe(clusterRevision(inputs, "3.28.0"));
            expect(clusterRevision(inputs, "3.28.0")).toMatch(/^[0-9a-f]{16}$/);
        });

        // Each of these goes out in the cluster's PUT, which AKS answers by dropping the pod identities
        // the PUT does not carry: each must make the attachments write their entries again.
        test.each<[string, Record<string, unknown>]>([
            ["node count", { agentPoolProfiles: [{ ...inputs.agentPoolProfiles[0], count: 3 }] }],
            ["tags", { tags: { ...inputs.tags, team: "platform" } }],
            ["the Defender workspace", { securityProfile: { defender: { logAnalyticsWorkspaceResourceId: ".../workspaces/log-b" } } }],
            ["the nodes' subnet", { agentPoolProfiles: [{ ...inputs.agentPoolProfiles[0], vnetSubnetID: ".../subnets/snet-aks-2" }] }],
        ])("changes with %s", (_label, change) => {
            expect(clusterRevision({ ...inputs, ...change }, "3.28.0")).not.toBe(clusterRevision(inputs, "3.28.0"));
        });

        test("changes with the provider that sends the PUT", () => {
            expect(clusterRevision(inputs, "3.29.0")).not.toBe(clusterRevision(inputs, "3.28.0"));
        });

        test("reads inputs as the PUT's JSON: keys in any order at any depth, undefined left out, null kept, arrays in order and apart from objects", () => {
            const revision = (value: unknown) => clusterRevision(value, "3.28.0");
            expect(revision({ d: 4, c: { z: 1, y: 2, x: 3 }, b: 2, a: 1 })).toBe(revision({ a: 1, b: 2, c: { x: 3, y: 2, z: 1 }, d: 4 }));
            expect(revision({ ...inputs, linuxProfile: undefined })).toBe(revision(inputs));
            expect(revision({ ...inputs, linuxProfile: null })).not.toBe(revision(inputs));
            expect(revision({ x: [undefined] })).toBe(revision({ x: [null] }));
            expect(revision({ x: [1, 2] })).not.toBe(revision({ x: [2, 1] }));
            expect(revision({ x: [1, 2] })).not.toBe(revision({ x: [12] }));
            expect(revision({ x: [1, 2] })).not.toBe(revision({ x: { 0: 1, 1: 2 } }));
        });
    });

    describe("SecretProviderClass", () => {
        const args = { clientId: "c-1", vaultName: "kv-aiv-dev-abc123", tenantId: "t-1", secretName: "alpha-demo", keyName: "alpha-demo-key", cloudName: "AzurePublicCloud", syncSecret: false };
        let spec: ReturnType<typeof secretProviderClassSpec>;
        beforeEach(() => {
            spec = secretProviderClassSpec({ ...args, pods: podsOf("podIdentityAddon") });
        });

        test("uses the Azure provider with the pod's identity", () => {
            expect(spec.provider).toBe("azure");
            expect(spec.parameters).toMatchObject({ usePodIdentity: "true", useVMManagedIdentity: "false", keyvaultName: "kv-aiv-dev-abc123", tenantID: "t-1", cloudName: "AzurePublicCloud" });
        });

        test("names the tenant with tenantID, never the deprecated tenantId", () => {
            for (const identityMode of ["podIdentityAddon", "podIdentityOss", "workloadIdentity"] as const) {
                const parameters: Record<string, string | undefined> = secretProviderClassSpec({ ...args, pods: podsOf(identityMode) }).parameters;
                expect(parameters.tenantID).toBe("t-1");
                expect(Object.keys(parameters)).not.toContain("tenantId");
            }
        });

        test("with Workload ID, names the identity's client id instead of the pod identity", () => {
            const wi = secretProviderClassSpec({ ...args, pods: podsOf("workloadIdentity") });
            expect(wi.parameters).toMatchObject({ usePodIdentity: "false", useVMManagedIdentity: "false", clientID: "c-1" });
            expect(secretProviderClassSpec({ ...args, pods: podsOf("podIdentityOss") }).parameters).not.toHaveProperty("clientID");
        });

        test("lists the secret and the key in the provider's objects format", () => {
            const objects = parse(spec.parameters.objects) as { array: string[] };
            expect(objects.array.map((o) => parse(o))).toEqual([
                { objectName: "alpha-demo", objectType: "secret", objectVersion: "" },
                { objectName: "alpha-demo-key", objectType: "key", objectVersion: "" },
            ]);
        });

        test("keeps the secret in Key Vault: nothing is mirrored into a Kubernetes Secret unless the workload syncs", () => {
            expect(spec).not.toHaveProperty("secretObjects");
        });

        test("a workload that syncs mirrors its secret into a Kubernetes Secret of the secret's name", () => {
            const synced = secretProviderClassSpec({ ...args, syncSecret: true, pods: podsOf("podIdentityAddon") });
            expect(synced.secretObjects).toEqual([{ secretName: "alpha-demo", type: "Opaque", data: [{ objectName: "alpha-demo", key: "value" }] }]);
        });

        test("objects of one entry render as the walkthroughs show them", () => {
            expect(secretProviderObjects([{ objectName: "s", objectType: "secret" }])).toBe('array:\n  - |\n    objectName: s\n    objectType: secret\n    objectVersion: ""\n');
        });
    });

    describe("federated credential names", () => {
        test("keep the name every credential without a dot already has", () => {
            expect(federatedCredentialName("alpha", "alpha-workload")).toBe("alpha-alpha-workload");
        });

        test("turn the dots of a service account, which Azure refuses, into underscores", () => {
            expect(federatedCredentialName("alpha", "app.v2.reader")).toBe("alpha-app_v2_reader");
        });

        test("are valid for Azure for the longest names config accepts, and still tell two accounts apart", () => {
            const namespace = "n".repeat(63);
            const first = federatedCredentialName(namespace, `${"a".repeat(240)}.x`);
            const second = federatedCredentialName(namespace, `${"a".repeat(240)}.y`);
            for (const name of [first, second, federatedCredentialName("a", "b"), federatedCredentialName(namespace, "s".repeat(56))]) {
                expect(name).toMatch(FEDERATED_CREDENTIAL_NAME_PATTERN);
            }
            expect(first).toHaveLength(120);
            expect(first).not.toBe(second);
            expect(federatedCredentialName(namespace, "s".repeat(56))).toBe(`${namespace}-${"s".repeat(56)}`);
        });

        test("the pattern is Azure's: 3-120 letters, digits, '-' and '_', alphanumeric first", () => {
            expect("ab").not.toMatch(FEDERATED_CREDENTIAL_NAME_PATTERN);
            expect("_ab").not.toMatch(FEDERATED_CREDENTIAL_NAME_PATTERN);
            expect("a.b").not.toMatch(FEDERATED_CREDENTIAL_NAME_PATTERN);
            expect("a".repeat(121)).not.toMatch(FEDERATED_CREDENTIAL_NAME_PATTERN);
            expect(`A-_${"1".repeat(117)}`).toMatch(FEDERATED_CREDENTIAL_NAME_PATTERN);
        });
    });

    test("namespaces enforce the restricted Pod Security Standard", () => {
        expect(namespaceLabels("alpha")).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted", "aks-identity-vault/workload": "alpha" });
    });

    test("demo pods run as the restricted profile requires", () => {
        expect(restrictedPodSecurityContext()).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(restrictedPodSecurityContext().runAsUser).toBeGreaterThan(0);
        expect(restrictedContainerSecurityContext()).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
    });

    describe("namespace NetworkPolicies", () => {
        let spec: ReturnType<typeof workloadEgressPolicySpec>;
        beforeEach(() => {
            spec = workloadEgressPolicySpec({ pods: podsOf("podIdentityAddon"), privateEndpointSubnetPrefix: "10.76.2.0/26" });
        });

        test("the default deny selects every pod of the namespace and allows nothing either way", () => {
            expect(defaultDenyPolicySpec()).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [], egress: [] });
        });

        test("the workload's allowances select every pod of the namespace and deny all ingress", () => {
            expect(spec.podSelector).toEqual({});
            expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
            expect(spec.ingress).toEqual([]);
        });

        test("allows egress only to DNS, the endpoints on 443 and NMI where it redirects the metadata endpoint", () => {
            expect(spec.egress).toHaveLength(3);
            expect(spec.egress[1]).toEqual({ to: [{ ipBlock: { cidr: "10.76.2.0/26" } }], ports: [{ protocol: "TCP", port: 443 }] });
            expect(spec.egress[2]).toEqual({ to: [{ ipBlock: { cidr: "127.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 2579 }] });
            expect(JSON.stringify(spec.egress)).not.toContain("0.0.0.0/0");
        });

        // NMI DNATs pod traffic for 169.254.169.254:80 to 127.0.0.1:2579, and Calico applies the pod's egress
        // policy to the translated address: a rule for the metadata address never matches a redirected
        // request, and would admit a pod to the node's own identity when NMI is not redirecting.
        /** A pod's token request, as Calico judges it: after NMI's DNAT (`redirected`), and straight to the metadata address (`direct`). */
        const tokenPath = (egress: readonly unknown[]) => {
            const admitted = (address: string, port: number) => egress.some((rule) => egressRuleAdmits(rule, address, port));
            const translated = { address: NMI_ENDPOINT.cidr.replace(/\/32$/, ""), port: NMI_ENDPOINT.port };
            return { redirected: admitted(translated.address, translated.port), direct: admitted("169.254.169.254", 80) };
        };
        test.each(["podIdentityAddon", "podIdentityOss"] as const)("%s: a token request, as Calico sees it after NMI's DNAT, is admitted, and the metadata address itself is not", (identityMode) => {
            const policy = workloadEgressPolicySpec({ pods: podsOf(identityMode), privateEndpointSubnetPrefix: "10.76.2.0/26" });
            expect(tokenPath(policy.egress)).toEqual({ redirected: true, direct: false });
            // The check is the policy pack's own rule evaluation: a rule wide enough to take in the
            // metadata address (all of link-local on port 80) is caught.
            const widened = [...policy.egress, { to: [{ ipBlock: { cidr: "169.254.0.0/16" } }], ports: [{ protocol: "TCP", port: 80 }] }];
            expect(tokenPath(widened)).toEqual({ redirected: true, direct: true });
            // Without NMI's address, the redirected request is refused.
            expect(tokenPath(policy.egress.filter((rule) => !egressRuleAdmits(rule, "127.0.0.1", NMI_ENDPOINT.port)))).toEqual({ redirected: false, direct: false });
        });

        test("with the firewall's egress proof, admits its probe's address and port alone, after the others, so that only the firewall refuses it", () => {
            const withProbe = workloadEgressPolicySpec({ pods: podsOf("podIdentityAddon"), privateEndpointSubnetPrefix: "10.76.2.0/26", egressProbe: { address: "1.1.1.1", port: 443 } });
            expect(withProbe.egress.slice(0, 3)).toEqual(spec.egress);
            expect(withProbe.egress.slice(3)).toEqual([{ to: [{ ipBlock: { cidr: "1.1.1.1/32" } }], ports: [{ protocol: "TCP", port: 443 }] }]);
        });

        test("with Workload ID, reaches Entra ID on public addresses instead of NMI", () => {
            const wi = workloadEgressPolicySpec({ pods: podsOf("workloadIdentity"), privateEndpointSubnetPrefix: "10.76.2.0/26" });
            expect(wi.egress).toHaveLength(3);
            expect(wi.egress[2].to[0]).toEqual({ ipBlock: { cidr: "0.0.0.0/0", except: expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]) } });
            expect(wi.egress[2].ports).toEqual([{ protocol: "TCP", port: 443 }]);
            expect(JSON.stringify(wi.egress)).not.toContain("2579");
        });
    });
});
