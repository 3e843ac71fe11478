// Pure helpers of the cluster, the binding and the demo workloads, tested without mocks.
import { parse } from "yaml";
import { ClusterSpec, clusterRevision, kubeconfigForAzureCli } from "../components/aksCluster";
import { demoNetworkPolicySpec, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../components/demoWorkloads";
import { namespaceLabels, secretProviderClassSpec, secretProviderObjects } from "../components/podIdentityBinding";
import { userKubeconfig } from "./mocks";

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
    });
});

describe("clusterRevision", () => {
    const spec: ClusterSpec = {
        nodeCount: 2,
        nodeVmSize: "Standard_DS2_v2",
        apiServerAuthorizedIpRanges: [],
        serviceCidr: "10.0.0.0/16",
        dnsServiceIp: "10.0.0.10",
        identityMode: "podIdentityAddon",
        secretRotationPollInterval: "2m",
    };

    test("is stable for the same settings", () => {
        expect(clusterRevision({ ...spec })).toBe(clusterRevision(spec));
        expect(clusterRevision(spec)).toMatch(/^[0-9a-f]{16}$/);
    });

    test.each<[string, Partial<ClusterSpec>]>([
        ["node count", { nodeCount: 3 }],
        ["VM size", { nodeVmSize: "Standard_D4s_v5" }],
        ["authorized ranges", { apiServerAuthorizedIpRanges: ["203.0.113.0/24"] }],
        ["identity mode", { identityMode: "workloadIdentity" }],
    ])("changes with the %s", (_label, change) => {
        expect(clusterRevision({ ...spec, ...change })).not.toBe(clusterRevision(spec));
    });
});

describe("SecretProviderClass", () => {
    const args = { clientId: "c-1", vaultName: "kv-aiv-dev-abc123", tenantId: "t-1", secretName: "alpha-demo", keyName: "alpha-demo-key", cloudName: "AzurePublicCloud" };
    let spec: ReturnType<typeof secretProviderClassSpec>;
    beforeEach(() => {
        spec = secretProviderClassSpec({ ...args, identityMode: "podIdentityAddon" });
    });

    test("uses the Azure provider with the pod's identity", () => {
        expect(spec.provider).toBe("azure");
        expect(spec.parameters).toMatchObject({ usePodIdentity: "true", useVMManagedIdentity: "false", keyvaultName: "kv-aiv-dev-abc123", tenantId: "t-1", cloudName: "AzurePublicCloud" });
    });

    test("with Workload ID, names the identity's client id instead of the pod identity", () => {
        const wi = secretProviderClassSpec({ ...args, identityMode: "workloadIdentity" });
        expect(wi.parameters).toMatchObject({ usePodIdentity: "false", useVMManagedIdentity: "false", clientID: "c-1" });
        expect(secretProviderClassSpec({ ...args, identityMode: "podIdentityOss" }).parameters).not.toHaveProperty("clientID");
    });

    test("lists the secret and the key in the provider's objects format", () => {
        const objects = parse(spec.parameters.objects) as { array: string[] };
        expect(objects.array.map((o) => parse(o))).toEqual([
            { objectName: "alpha-demo", objectType: "secret", objectVersion: "" },
            { objectName: "alpha-demo-key", objectType: "key", objectVersion: "" },
        ]);
    });

    test("syncs the secret into a Kubernetes Secret", () => {
        expect(spec.secretObjects).toEqual([{ secretName: "alpha-demo", type: "Opaque", data: [{ objectName: "alpha-demo", key: "value" }] }]);
    });

    test("objects of one entry render as the walkthroughs show them", () => {
        expect(secretProviderObjects([{ objectName: "s", objectType: "secret" }])).toBe('array:\n  - |\n    objectName: s\n    objectType: secret\n    objectVersion: ""\n');
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

describe("demo NetworkPolicy", () => {
    let spec: ReturnType<typeof demoNetworkPolicySpec>;
    beforeEach(() => {
        spec = demoNetworkPolicySpec({ workload: "alpha", identityMode: "podIdentityAddon", privateEndpointSubnetPrefix: "10.76.2.0/26", aksSubnetPrefix: "10.76.1.0/24" });
    });

    test("denies all ingress", () => {
        expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
        expect(spec.ingress).toEqual([]);
    });

    test("allows egress only to DNS, the endpoints on 443, IMDS and the node's NMI", () => {
        const destinations = spec.egress.map((rule) => JSON.stringify([rule.to, rule.ports]));
        expect(destinations).toHaveLength(4);
        expect(spec.egress[1]).toEqual({ to: [{ ipBlock: { cidr: "10.76.2.0/26" } }], ports: [{ protocol: "TCP", port: 443 }] });
        expect(spec.egress[2]).toEqual({ to: [{ ipBlock: { cidr: "169.254.169.254/32" } }], ports: [{ protocol: "TCP", port: 80 }] });
        expect(spec.egress[3]).toEqual({ to: [{ ipBlock: { cidr: "10.76.1.0/24" } }], ports: [{ protocol: "TCP", port: 2579 }] });
        expect(JSON.stringify(spec.egress)).not.toContain("0.0.0.0/0");
    });

    test("with Workload ID, reaches Entra ID on public addresses instead of IMDS and NMI", () => {
        const wi = demoNetworkPolicySpec({ workload: "alpha", identityMode: "workloadIdentity", privateEndpointSubnetPrefix: "10.76.2.0/26", aksSubnetPrefix: "10.76.1.0/24" });
        expect(wi.egress).toHaveLength(3);
        expect(wi.egress[2].to[0]).toEqual({ ipBlock: { cidr: "0.0.0.0/0", except: expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]) } });
        expect(wi.egress[2].ports).toEqual([{ protocol: "TCP", port: 443 }]);
        expect(JSON.stringify(wi.egress)).not.toContain("2579");
    });
});
