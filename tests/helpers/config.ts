import * as pulumi from "@pulumi/pulumi";
import {
    CONFIG_KEYS,
    CONFIG_SCHEMA,
    ConfigError,
    DEFAULTS,
    RawConfig,
    StackConfig,
    baseNameForStack,
    checkConfigKeys,
    cidrContains,
    cidrsOverlap,
    isPinnedImageReference,
    isUnsupportedSystemPoolSize,
    loadConfig,
    poolsNodesAtMost,
    subnetNodeCapacity,
    parseConfig,
    parseImageReference,
    parseIpv4Cidr,
    RESERVED_NAMESPACES,
    vmSizeVcpus,
} from "../../config";
import { listOr, valueAt } from "../../config/schema";

describe("Config", () => {
    const parse = (raw: RawConfig, stack = "dev", location: string | undefined = "uksouth"): StackConfig => parseConfig(raw, { stack, location });

    /** Runs parseConfig and returns the ConfigError's message, failing if it does not throw one. */
    function errorOf(raw: RawConfig, location: string | null = "uksouth"): string {
        try {
            parseConfig(raw, { stack: "dev", location: location ?? undefined });
        } catch (err) {
            expect(err).toBeInstanceOf(ConfigError);
            return (err as Error).message;
        }
        throw new Error(`expected a ConfigError for ${JSON.stringify(raw)}`);
    }

    describe("parseConfig with no project keys set", () => {
        // Parsed in each test, so that each test covers the code it runs.
        let config: StackConfig;
        beforeEach(() => {
            config = parse({});
        });

        test("the default AKS subnet leaves room for a team's first edits: a third system node, a user pool of up to 27, with both surge nodes", () => {
            expect(subnetNodeCapacity(config.network.aksSubnetPrefix)).toBe(32);
            expect(() => parse({ nodeCount: "3" })).not.toThrow();
            expect(() => parse({ nodeCount: "3", userNodeCountMax: "27" })).not.toThrow();
            expect(() => parse({ nodeCount: "3", userNodeCountMax: "28" })).toThrow("holds 32 nodes");
        });

        test("applies every default", () => {
            expect(config.identityMode).toBe("podIdentityAddon");
            expect(config.keyVaultAuthorization).toBe("rbac");
            expect(config.network).toEqual({
                vnetAddressSpace: "10.76.0.0/21",
                aksSubnetPrefix: "10.76.4.0/22",
                privateEndpointSubnetPrefix: "10.76.2.0/26",
                apiServerSubnetPrefix: "10.76.3.0/28",
                firewallSubnetPrefix: "10.76.0.0/26",
                flowLogRetentionDays: 30,
                // Network Watcher's own, which Azure enables in each region of a subscription.
                networkWatcher: { resourceGroupName: "NetworkWatcherRG", name: "NetworkWatcher_uksouth" },
                runnerVnetId: "",
            });
            expect(config.cluster).toEqual({
                nodeCount: 2,
                nodeVmSize: "Standard_D4ds_v5",
                userPool: { minCount: 2, maxCount: 4, vmSize: "Standard_D4ds_v5" },
                availabilityZones: ["1", "2", "3"],
                defender: true,
                tier: "Standard",
                kubernetesVersion: "",
                apiServerAuthorizedIpRanges: [],
                apiServerAccess: "public",
                egress: "loadBalancer",
                serviceCidr: "10.0.0.0/16",
                dnsServiceIp: "10.0.0.10",
                deployerPrincipalType: "User",
                deployerObjectId: "",
            });
            expect(config.demo).toEqual({ enabled: true, verifierImage: "node:22.14.0-alpine3.21@sha256:9bef0ef1e268f60627da9ba7d7605e8831d5b56ad07487d24d1aa386336d1944", verificationRun: "" });
            // The default names one image for good: a digest, beside the tag that says which release it is.
            expect(parseImageReference(config.demo.verifierImage)).toMatchObject({ tag: "22.14.0-alpine3.21", digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
            expect(config.logging).toEqual({ retentionDays: 30, fullKubeAudit: false });
            expect(config.lifecycle).toEqual({ secretLifetimeDays: 365, keyLifetimeDays: 365 });
            expect(config.protectStatefulResources).toBe(true);
            expect(config.etcdEncryption).toBe(false);
            expect(config.workloads).toEqual([{ name: "alpha", namespace: "alpha", bindingSelector: "alpha", serviceAccount: "alpha-workload", identityType: "managedIdentity", syncSecret: false }]);
        });

        test("the default VM size is of a current generation (v5 or later) and meets Microsoft's 4 vCPUs for system pools", () => {
            const generation = Number(/_v(\d+)$/.exec(config.cluster.nodeVmSize)?.[1] ?? 0);
            expect(generation).toBeGreaterThanOrEqual(5);
            expect(vmSizeVcpus(config.cluster.nodeVmSize)).toBeGreaterThanOrEqual(4);
            expect(isUnsupportedSystemPoolSize(config.cluster.nodeVmSize)).toBe(false);
        });

        test("derives the name prefix and tags from the stack", () => {
            expect(config.baseName).toBe("aiv-dev");
            expect(config.location).toBe("uksouth");
            expect(config.tags).toEqual({ project: "aks-identity-vault", stack: "dev", "managed-by": "pulumi" });
        });
    });

    describe("the schema", () => {
        test.each(CONFIG_KEYS)("%s: its default, set as the engine would hand it over, passes its own rules and reads back as the default", (key) => {
            const value = DEFAULTS[key];
            const text = typeof value === "string" ? value : JSON.stringify(value);
            const config = parse({ [key]: text });
            expect(config).toEqual(parse({}));
            expect(CONFIG_SCHEMA[key].description.length).toBeGreaterThan(20);
            expect(CONFIG_SCHEMA[key].allowed.length).toBeGreaterThan(10);
        });
    });

    describe("config keys the program would ignore are refused, with one line", () => {
        test("the project's keys, the providers it uses, Pulumi's own and the real-cloud test's mark pass", () => {
            expect(() => checkConfigKeys(["aks-identity-vault:identityMode", "azure-native:location", "azuread:tenantId", "random:x", "pulumi:tags", "e2e:run"])).not.toThrow();
        });

        test.each<[string, string]>([
            ["aks-identity-vault:identyMode", "Unknown config key aks-identity-vault:identyMode: known keys are"],
            ["azure-native:identityMode", "Config key azure-native:identityMode is ignored: identityMode is this project's key, set it as aks-identity-vault:identityMode"],
            ["aks-identity-vault-dev:nodeCount", "Config key aks-identity-vault-dev:nodeCount is ignored: nodeCount is this project's key"],
            ["kubernetes:context", "Config key kubernetes:context is ignored: this program reads the namespaces aks-identity-vault, azure-native, azuread, random, pulumi, e2e only."],
            ["azure:location", "Config key azure:location is ignored: this program reads the namespaces"],
        ])("%s", (key, message) => {
            expect(() => checkConfigKeys(["azure-native:location", key])).toThrow(message);
        });
    });

    describe("parseConfig accepts valid values", () => {
        test("an API server subnet outside a custom VNet, without etcd encryption (it is then unused)", () => {
            const config = parse({ vnetAddressSpace: "10.50.0.0/16", aksSubnetPrefix: "10.50.1.0/24", privateEndpointSubnetPrefix: "10.50.2.0/26" });
            expect(config.network.apiServerSubnetPrefix).toBe("10.76.3.0/28");
        });

        test("a Network Watcher of the subscription's own naming", () => {
            expect(parse({ networkWatcher: "rg-network-watchers/nw-uksouth" }).network.networkWatcher).toEqual({ resourceGroupName: "rg-network-watchers", name: "nw-uksouth" });
        });

        test("a firewall subnet over the endpoints' subnet while egress is not firewall (it is then unused)", () => {
            expect(parse({ firewallSubnetPrefix: "10.76.2.0/26" }).network.firewallSubnetPrefix).toBe("10.76.2.0/26");
        });

        test.each([
            ["public", "loadBalancer"],
            ["public", "natGateway"],
            ["public", "firewall"],
            ["private", "loadBalancer"],
            ["private", "natGateway"],
            ["private", "firewall"],
        ])("apiServerAccess %s with egress %s", (access, egress) => {
            expect(parse({ apiServerAccess: access, egress }).cluster).toMatchObject({ apiServerAccess: access, egress });
        });

        test.each(["podIdentityAddon", "podIdentityOss", "workloadIdentity"])("identityMode %s", (mode) => {
            expect(parse({ identityMode: mode }).identityMode).toBe(mode);
        });

        test.each(["rbac", "accessPolicy"])("keyVaultAuthorization %s", (mode) => {
            expect(parse({ keyVaultAuthorization: mode }).keyVaultAuthorization).toBe(mode);
        });

        test("a service CIDR elsewhere, with its DNS service address", () => {
            const config = parse({ serviceCidr: "172.16.0.0/20" });
            expect(config.cluster.dnsServiceIp).toBe("172.16.0.10");
        });

        test("a verifier image pinned by digest from another registry", () => {
            const image = `myregistry.azurecr.io/mirror/node:22.14.0-alpine3.21@sha256:${"a".repeat(64)}`;
            expect(parse({ verifierImage: image }).demo.verifierImage).toBe(image);
        });

        test("a custom address plan", () => {
            const config = parse({ vnetAddressSpace: "172.20.0.0/16", aksSubnetPrefix: "172.20.0.0/20", privateEndpointSubnetPrefix: "172.20.16.0/28", nodeCount: "12" });
            expect(config.network.aksSubnetPrefix).toBe("172.20.0.0/20");
            expect(config.cluster.nodeCount).toBe(12);
        });

        test("several workloads with an explicit binding selector", () => {
            const workloads = [
                { name: "alpha", namespace: "team-a" },
                { name: "beta", namespace: "team-b", bindingSelector: "beta-reader" },
            ];
            expect(parse({ workloads: JSON.stringify(workloads) }).workloads).toEqual([
                { name: "alpha", namespace: "team-a", bindingSelector: "alpha", serviceAccount: "alpha-workload", identityType: "managedIdentity", syncSecret: false },
                { name: "beta", namespace: "team-b", bindingSelector: "beta-reader", serviceAccount: "beta-workload", identityType: "managedIdentity", syncSecret: false },
            ]);
        });

        test("a service-principal workload with its own service account, in podIdentityOss mode", () => {
            const workloads = [{ name: "legacy", namespace: "legacy", serviceAccount: "legacy-app", identityType: "servicePrincipal" }];
            expect(parse({ identityMode: "podIdentityOss", workloads: JSON.stringify(workloads) }).workloads[0]).toMatchObject({ serviceAccount: "legacy-app", identityType: "servicePrincipal" });
        });

        test("authorized IP ranges and protection off", () => {
            const config = parse({ apiServerAuthorizedIpRanges: '["203.0.113.0/24","198.51.100.7/32"]', protectStatefulResources: "false" });
            expect(config.cluster.apiServerAuthorizedIpRanges).toEqual(["203.0.113.0/24", "198.51.100.7/32"]);
            expect(config.protectStatefulResources).toBe(false);
        });
    });

    describe("parseConfig refuses bad values with one line naming the key, the value and what is allowed", () => {
        const cases: Array<[string, RawConfig, string, string]> = [
            ["an unknown identityMode", { identityMode: "aadPodIdentity" }, 'aks-identity-vault:identityMode = "aadPodIdentity"', "podIdentityAddon, podIdentityOss, workloadIdentity"],
            ["an unknown keyVaultAuthorization", { keyVaultAuthorization: "RBAC" }, 'aks-identity-vault:keyVaultAuthorization = "RBAC"', "rbac, accessPolicy"],
            ["a CIDR with an octet out of range", { vnetAddressSpace: "10.76.0.300/22" }, 'aks-identity-vault:vnetAddressSpace = "10.76.0.300/22"', "IPv4 CIDR"],
            ["a CIDR without a prefix length", { aksSubnetPrefix: "10.76.1.0" }, 'aks-identity-vault:aksSubnetPrefix = "10.76.1.0"', "IPv4 CIDR"],
            ["a CIDR with host bits set", { aksSubnetPrefix: "10.76.1.7/24" }, 'aks-identity-vault:aksSubnetPrefix = "10.76.1.7/24"', "no host bits"],
            ["an AKS subnet outside the VNet", { aksSubnetPrefix: "10.77.1.0/24" }, 'aks-identity-vault:aksSubnetPrefix = "10.77.1.0/24"', "inside vnetAddressSpace 10.76.0.0/21"],
            ["an endpoint subnet larger than the VNet", { privateEndpointSubnetPrefix: "10.76.0.0/20" }, 'aks-identity-vault:privateEndpointSubnetPrefix = "10.76.0.0/20"', "inside vnetAddressSpace"],
            [
                "overlapping subnets",
                { privateEndpointSubnetPrefix: "10.76.5.128/26" },
                'aks-identity-vault:privateEndpointSubnetPrefix = "10.76.5.128/26"',
                "must not overlap aksSubnetPrefix 10.76.4.0/22",
            ],
            [
                "an API server subnet smaller than a /28, with etcd encryption",
                { apiServerSubnetPrefix: "10.76.3.0/29", etcdEncryption: "true" },
                'aks-identity-vault:apiServerSubnetPrefix = "10.76.3.0/29"',
                "must be a /28 or larger",
            ],
            [
                "an API server subnet outside the VNet, with etcd encryption",
                {
                    vnetAddressSpace: "10.50.0.0/16",
                    aksSubnetPrefix: "10.50.1.0/24",
                    privateEndpointSubnetPrefix: "10.50.2.0/26",
                    etcdEncryption: "true",
                },
                'aks-identity-vault:apiServerSubnetPrefix = "10.76.3.0/28"',
                "must lie inside vnetAddressSpace 10.50.0.0/16 (the API server joins the VNet: apiServerAccess is private or etcdEncryption is on",
            ],
            [
                "an API server subnet over the endpoints, with etcd encryption",
                { apiServerSubnetPrefix: "10.76.2.0/28", etcdEncryption: "true" },
                'aks-identity-vault:apiServerSubnetPrefix = "10.76.2.0/28"',
                "must not overlap privateEndpointSubnetPrefix 10.76.2.0/26",
            ],
            [
                "a workload that syncs without etcd encryption",
                { workloads: '[{"name":"alpha","namespace":"alpha","syncSecret":true}]' },
                "aks-identity-vault:workloads[0].syncSecret = true",
                "needs etcdEncryption true",
            ],
            ["a Group deployer without its object id", { deployerPrincipalType: "Group" }, 'aks-identity-vault:deployerPrincipalType = "Group"', "needs deployerObjectId"],
            ["a deployer object id that is not a GUID", { deployerObjectId: "me@example.com" }, 'aks-identity-vault:deployerObjectId = "me@example.com"', "Entra object id (a GUID)"],
            ["an unknown cluster tier", { clusterTier: "Premium" }, 'aks-identity-vault:clusterTier = "Premium"', "Free, Standard"],
            ["a Kubernetes version with a v", { kubernetesVersion: "v1.33" }, 'aks-identity-vault:kubernetesVersion = "v1.33"', "a minor version such as 1.33"],
            ["a Kubernetes patch version, which the channel would move past", { kubernetesVersion: "1.33.2" }, 'aks-identity-vault:kubernetesVersion = "1.33.2"', "a minor version such as 1.33"],
            ["a verification run with capitals", { verificationRun: "Run1" }, 'aks-identity-vault:verificationRun = "Run1"', "lower-case letters, digits and hyphens"],
            ["a verification run over 20 characters", { verificationRun: "a".repeat(21) }, "aks-identity-vault:verificationRun", "1-20 lower-case"],
            ["syncSecret not a boolean", { workloads: '[{"name":"alpha","namespace":"alpha","syncSecret":"yes"}]' }, "aks-identity-vault:workloads[0].syncSecret", "true or false"],
            ["nodeCount 0", { nodeCount: "0" }, 'aks-identity-vault:nodeCount = "0"', "whole number from 1"],
            ["nodeCount negative", { nodeCount: "-3" }, 'aks-identity-vault:nodeCount = "-3"', "whole number from 1"],
            ["nodeCount not a number", { nodeCount: "two" }, 'aks-identity-vault:nodeCount = "two"', "whole number"],
            ["nodeCount fractional", { nodeCount: "2.5" }, 'aks-identity-vault:nodeCount = "2.5"', "whole number"],
            ["a namespace with capitals", { workloads: '[{"name":"alpha","namespace":"Team_A"}]' }, 'aks-identity-vault:workloads[0].namespace = "Team_A"', "Kubernetes namespace name"],
            ["a namespace over 63 characters", { workloads: JSON.stringify([{ name: "alpha", namespace: "a".repeat(64) }]) }, "aks-identity-vault:workloads[0].namespace", "at most 63"],
            ["the default namespace", { workloads: '[{"name":"alpha","namespace":"default"}]' }, 'aks-identity-vault:workloads[0].namespace = "default"', "must not be 'default'"],
            ["a kube- namespace", { workloads: '[{"name":"alpha","namespace":"kube-system"}]' }, 'aks-identity-vault:workloads[0].namespace = "kube-system"', "kube-"],
            [
                "two workloads with one name",
                { workloads: '[{"name":"alpha","namespace":"a"},{"name":"alpha","namespace":"b"}]' },
                'aks-identity-vault:workloads[1].name = "alpha"',
                "workloads[0] already uses it",
            ],
            [
                "two workloads with one namespace",
                { workloads: '[{"name":"alpha","namespace":"shared"},{"name":"beta","namespace":"shared"}]' },
                'aks-identity-vault:workloads[1].namespace = "shared"',
                "workloads[0] already uses it",
            ],
            [
                "two workloads with one binding selector",
                { workloads: '[{"name":"alpha","namespace":"a"},{"name":"beta","namespace":"b","bindingSelector":"alpha"}]' },
                'aks-identity-vault:workloads[1].bindingSelector = "alpha"',
                "own bindingSelector",
            ],
            ["a workload name with a double hyphen", { workloads: '[{"name":"al--pha","namespace":"a"}]' }, 'aks-identity-vault:workloads[0].name = "al--pha"', "single hyphens"],
            ["a workload name too short for a container", { workloads: '[{"name":"ab","namespace":"a"}]' }, 'aks-identity-vault:workloads[0].name = "ab"', "3-24"],
            ["a workload without a namespace", { workloads: '[{"name":"alpha"}]' }, "aks-identity-vault:workloads[0].namespace", "Kubernetes namespace"],
            ["a workload with an unknown field", { workloads: '[{"name":"alpha","namespace":"a","identity":"x"}]' }, "aks-identity-vault:workloads[0]", "unknown field(s) identity"],
            [
                "a service-principal workload outside podIdentityOss",
                { workloads: '[{"name":"alpha","namespace":"a","identityType":"servicePrincipal"}]' },
                'aks-identity-vault:workloads[0].identityType = "servicePrincipal"',
                "needs identityMode podIdentityOss",
            ],
            [
                "an unknown identity type",
                { workloads: '[{"name":"alpha","namespace":"a","identityType":"msi"}]' },
                'aks-identity-vault:workloads[0].identityType = "msi"',
                "managedIdentity, servicePrincipal",
            ],
            [
                "a service account with capitals",
                { workloads: '[{"name":"alpha","namespace":"a","serviceAccount":"App"}]' },
                'aks-identity-vault:workloads[0].serviceAccount = "App"',
                "service account name",
            ],
            ["an empty workload list", { workloads: "[]" }, "aks-identity-vault:workloads = []", "at least one workload"],
            ["workloads that are not JSON", { workloads: "alpha" }, 'aks-identity-vault:workloads = "alpha"', "valid JSON"],
            ["workloads that are an object", { workloads: '{"name":"alpha"}' }, "aks-identity-vault:workloads", "JSON list"],
            ["an authorized range that is not a CIDR", { apiServerAuthorizedIpRanges: '["203.0.113.0/33"]' }, 'aks-identity-vault:apiServerAuthorizedIpRanges[0] = "203.0.113.0/33"', "IPv4 CIDR"],
            ["an authorized range with host bits", { apiServerAuthorizedIpRanges: '["203.0.113.9/24"]' }, 'aks-identity-vault:apiServerAuthorizedIpRanges[0] = "203.0.113.9/24"', "no host bits"],
            ["an authorized range admitting everyone", { apiServerAuthorizedIpRanges: '["0.0.0.0/0"]' }, 'aks-identity-vault:apiServerAuthorizedIpRanges[0] = "0.0.0.0/0"', "admits everyone"],
            ["authorized ranges that are a string", { apiServerAuthorizedIpRanges: '"203.0.113.0/24"' }, "aks-identity-vault:apiServerAuthorizedIpRanges", "JSON list"],
            ["protectStatefulResources not a boolean", { protectStatefulResources: "yes" }, 'aks-identity-vault:protectStatefulResources = "yes"', "true or false"],
            ["a service CIDR overlapping the VNet", { serviceCidr: "10.76.0.0/16" }, 'aks-identity-vault:serviceCidr = "10.76.0.0/16"', "must not overlap vnetAddressSpace"],
            ["a service CIDR smaller than /24", { serviceCidr: "10.0.0.0/28" }, 'aks-identity-vault:serviceCidr = "10.0.0.0/28"', "at least /24"],
            ["an unknown deployer principal type", { deployerPrincipalType: "user" }, 'aks-identity-vault:deployerPrincipalType = "user"', "User, ServicePrincipal, Group"],
            ["a verifier image on latest", { verifierImage: "node:latest" }, 'aks-identity-vault:verifierImage = "node:latest"', "pinned"],
            ["a verifier image without a tag", { verifierImage: "node" }, 'aks-identity-vault:verifierImage = "node"', "pinned"],
            ["a VM size that is not one", { nodeVmSize: "large" }, 'aks-identity-vault:nodeVmSize = "large"', "Azure VM size"],
            // What Azure, AKS or Kubernetes would refuse later, refused first.
            [
                "a service CIDR larger than /12",
                { serviceCidr: "10.0.0.0/11" },
                'aks-identity-vault:serviceCidr = "10.0.0.0/11"',
                "no larger than /12: Kubernetes refuses service ranges of more than 20 host bits",
            ],
            ["a service CIDR in a range AKS reserves", { serviceCidr: "172.30.0.0/16" }, 'aks-identity-vault:serviceCidr = "172.30.0.0/16"', "must not overlap 172.30.0.0/16, which AKS reserves"],
            ["a service CIDR around a range AKS reserves", { serviceCidr: "172.16.0.0/12" }, 'aks-identity-vault:serviceCidr = "172.16.0.0/12"', "must not overlap 172.30.0.0/16"],
            ["a service CIDR on the link-local range", { serviceCidr: "169.254.0.0/16" }, 'aks-identity-vault:serviceCidr = "169.254.0.0/16"', "must not overlap 169.254.0.0/16, which AKS reserves"],
            ["a service CIDR on the documentation range", { serviceCidr: "192.0.2.0/24" }, 'aks-identity-vault:serviceCidr = "192.0.2.0/24"', "must not overlap 192.0.2.0/24"],
            ["a VNet on the link-local range", { vnetAddressSpace: "169.254.0.0/22" }, 'aks-identity-vault:vnetAddressSpace = "169.254.0.0/22"', "Azure does not allow in a virtual network"],
            ["a VNet on loopback", { vnetAddressSpace: "127.0.0.0/16" }, 'aks-identity-vault:vnetAddressSpace = "127.0.0.0/16"', "must not overlap 127.0.0.0/8"],
            ["a VNet holding Azure's DNS address", { vnetAddressSpace: "168.63.128.0/22" }, 'aks-identity-vault:vnetAddressSpace = "168.63.128.0/22"', "must not overlap 168.63.129.16/32"],
            ["a VNet in a range AKS reserves", { vnetAddressSpace: "172.31.0.0/22" }, 'aks-identity-vault:vnetAddressSpace = "172.31.0.0/22"', "which AKS reserves"],
            [
                "an endpoint subnet smaller than /29",
                { privateEndpointSubnetPrefix: "10.76.2.0/30" },
                'aks-identity-vault:privateEndpointSubnetPrefix = "10.76.2.0/30"',
                "/29 or larger: Azure's smallest IPv4 subnet is /29",
            ],
            ["an AKS subnet smaller than /29", { aksSubnetPrefix: "10.76.1.0/31" }, 'aks-identity-vault:aksSubnetPrefix = "10.76.1.0/31"', "/29 or larger"],
            [
                "a workload named after the cluster's identity",
                { workloads: '[{"name":"aks","namespace":"a"}]' },
                'aks-identity-vault:workloads[0].name = "aks"',
                "its identity id-aiv-dev-aks would be one of the cluster's own identities",
            ],
            [
                "a workload named after the canary",
                { workloads: '[{"name":"canary","namespace":"a"}]' },
                'aks-identity-vault:workloads[0].name = "canary"',
                "is the canary's name: its container and secret are granted to nobody",
            ],
            [
                "a workload named after the kubelet's identity",
                { workloads: '[{"name":"aks-kubelet","namespace":"a"}]' },
                'aks-identity-vault:workloads[0].name = "aks-kubelet"',
                "id-aiv-dev-aks-kubelet",
            ],
            [
                "the namespace of aad-pod-identity, in any mode",
                { workloads: '[{"name":"alpha","namespace":"aad-pod-identity"}]' },
                'aks-identity-vault:workloads[0].namespace = "aad-pod-identity"',
                "AKS, its add-ons or this stack create",
            ],
            ["the namespace of AKS's Calico", { workloads: '[{"name":"alpha","namespace":"calico-system"}]' }, 'aks-identity-vault:workloads[0].namespace = "calico-system"', "calico-system"],
            [
                "the namespace of the Azure Policy add-on",
                { workloads: '[{"name":"alpha","namespace":"gatekeeper-system"}]' },
                'aks-identity-vault:workloads[0].namespace = "gatekeeper-system"',
                "gatekeeper-system",
            ],
            [
                "the default service account",
                { workloads: '[{"name":"alpha","namespace":"a","serviceAccount":"default"}]' },
                'aks-identity-vault:workloads[0].serviceAccount = "default"',
                "Kubernetes creates in every namespace",
            ],
            [
                "the unbound Job's service account",
                { workloads: '[{"name":"alpha","namespace":"a","serviceAccount":"alpha-unbound"}]' },
                'aks-identity-vault:workloads[0].serviceAccount = "alpha-unbound"',
                "unbound verification Job",
            ],
            [
                "authorized ranges with a private API server",
                { apiServerAccess: "private", apiServerAuthorizedIpRanges: '["203.0.113.0/24"]' },
                'aks-identity-vault:apiServerAuthorizedIpRanges = ["203.0.113.0/24"]',
                "must be empty with apiServerAccess private",
            ],
            ["an API server access that is neither", { apiServerAccess: "internal" }, 'aks-identity-vault:apiServerAccess = "internal"', "must be one of public, private"],
            ["an egress AKS has no outbound type for", { egress: "proxy" }, 'aks-identity-vault:egress = "proxy"', "must be one of loadBalancer, natGateway, firewall"],
            [
                "a firewall subnet smaller than a /26",
                { egress: "firewall", firewallSubnetPrefix: "10.76.0.0/27" },
                'aks-identity-vault:firewallSubnetPrefix = "10.76.0.0/27"',
                "must be a /26 or larger: Azure Firewall's subnet must be at least a /26",
            ],
            [
                "a firewall subnet over the endpoints' subnet",
                { egress: "firewall", firewallSubnetPrefix: "10.76.2.0/26" },
                'aks-identity-vault:firewallSubnetPrefix = "10.76.2.0/26"',
                "must not overlap privateEndpointSubnetPrefix 10.76.2.0/26",
            ],
            [
                "an API server subnet over the AKS subnet, with a private API server",
                { apiServerAccess: "private", apiServerSubnetPrefix: "10.76.4.0/28" },
                'aks-identity-vault:apiServerSubnetPrefix = "10.76.4.0/28"',
                "must not overlap aksSubnetPrefix 10.76.4.0/22",
            ],
            ["a Network Watcher without its resource group", { networkWatcher: "NetworkWatcher_uksouth" }, 'aks-identity-vault:networkWatcher = "NetworkWatcher_uksouth"', "<resource group>/<name>"],
            [
                "a runners' VNet for a public API server",
                { runnerVnetId: "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-runners/providers/Microsoft.Network/virtualNetworks/vnet-runners" },
                "aks-identity-vault:runnerVnetId",
                "serves a private API server",
            ],
            ["a runners' VNet that is not a VNet's id", { apiServerAccess: "private", runnerVnetId: "vnet-runners" }, 'aks-identity-vault:runnerVnetId = "vnet-runners"', "virtual network's ARM id"],
            ["a flow log kept for no days", { flowLogRetentionDays: "0" }, 'aks-identity-vault:flowLogRetentionDays = "0"', "must be a whole number from 1 to 365"],
            ["a B-series VM size", { nodeVmSize: "Standard_B4ms" }, 'aks-identity-vault:nodeVmSize = "Standard_B4ms"', "B-series or Av1"],
            ["an Av1 VM size", { nodeVmSize: "Standard_A4" }, 'aks-identity-vault:nodeVmSize = "Standard_A4"', "B-series or Av1"],
            ["a one-vCPU VM size", { nodeVmSize: "Standard_D1_v2" }, 'aks-identity-vault:nodeVmSize = "Standard_D1_v2"', "fewer than 2 vCPUs"],
            ["a constrained-core size with one vCPU", { nodeVmSize: "Standard_E4-1ds_v5" }, 'aks-identity-vault:nodeVmSize = "Standard_E4-1ds_v5"', "fewer than 2 vCPUs"],
            ["an image digest of the wrong length", { verifierImage: `node@sha256:${"a".repeat(63)}` }, "aks-identity-vault:verifierImage", "image reference"],
            ["an image with an upper-case repository", { verifierImage: "Node:22.1" }, 'aks-identity-vault:verifierImage = "Node:22.1"', "image reference"],
            ["an image tag of 129 characters", { verifierImage: `node:${"a".repeat(129)}` }, "aks-identity-vault:verifierImage", "image reference"],
            [
                "an image from a mirror with a port but no tag",
                { verifierImage: "myregistry.example.com:5000/mirror/node" },
                'aks-identity-vault:verifierImage = "myregistry.example.com:5000/mirror/node"',
                "pinned",
            ],
        ];

        test.each(cases)("%s", (_label, raw, named, allowed) => {
            const message = errorOf(raw);
            expect(message).toContain(named);
            expect(message).toContain(allowed);
            expect(message).not.toContain("\n");
        });

        test("a missing location names azure-native:location", () => {
            expect(errorOf({}, null)).toMatch(/^Missing config azure-native:location: /);
        });

        test("a display-name location is refused", () => {
            expect(errorOf({}, "UK South")).toContain('azure-native:location = "UK South": must be an Azure region name such as uksouth (lower case, no spaces)');
        });

        test("a location that is not a region of Azure's public cloud is refused, naming examples and where to look", () => {
            expect(errorOf({}, "uksouth2")).toBe(
                "Invalid config azure-native:location = \"uksouth2\": must be a region of Azure's public cloud such as uksouth, westeurope or eastus2 (Microsoft's list as read on 2026-12-04; `az account list-locations -o table` shows yours).",
            );
            expect(() => parse({}, "dev", "swedencentral")).not.toThrow();
        });

        test("in a region without availability zones the pools name none by default, and zones named there are refused", () => {
            expect(parse({}, "dev", "ukwest").cluster.availabilityZones).toEqual([]);
            expect(parse({}, "dev", "uksouth").cluster.availabilityZones).toEqual(["1", "2", "3"]);
            expect(errorOf({ availabilityZones: '["1"]' }, "ukwest")).toBe(
                'Invalid config aks-identity-vault:availabilityZones = ["1"]: must be [] in ukwest, which has no availability zones (Microsoft\'s regions list), so AKS refuses them.',
            );
            expect(parse({ availabilityZones: "[]" }, "dev", "ukwest").cluster.availabilityZones).toEqual([]);
        });

        test.each([
            ["nodeVmSize", "Standard_NC6s_v3", "NCv3", "2025-09-30"],
            ["userNodeVmSize", "Standard_A4", "Av1", "2024-08-31"],
            ["userNodeVmSize", "Standard_NV12s_v3", "NVv3", "2026-09-30"],
        ])("a retired VM size for %s (%s) is refused, naming its series and the day it went", (key, size, series, day) => {
            expect(errorOf({ [key]: size })).toBe(
                `Invalid config aks-identity-vault:${key} = "${size}": is of the ${series} series, which Azure retired on ${day} and no longer provisions; use a current size such as Standard_D4ds_v5.`,
            );
        });

        test("a size Azure retires later, or not at all, is accepted", () => {
            expect(() => parse({ nodeVmSize: "Standard_DS3_v2", userNodeVmSize: "Standard_D4s_v5" })).not.toThrow();
        });

        test("a Kubernetes minor older than the one AKS still serves is refused; that one, the supported ones and newer ones are accepted", () => {
            expect(errorOf({ kubernetesVersion: "1.33" })).toBe(
                'Invalid config aks-identity-vault:kubernetesVersion = "1.33": is a minor AKS no longer supports (on 2026-12-04 it supports 1.35, 1.36, 1.37, and 1.34 only on the way up); use 1.34 or later, one minor at a time, or leave it empty for the stable channel.',
            );
            for (const version of ["1.34", "1.35", "1.37", "1.38", "2.0"]) {
                expect(parse({ kubernetesVersion: version }).cluster.kubernetesVersion).toBe(version);
            }
        });

        test("demo false: the config says so; a workload that mirrors its demo secret needs the demo", () => {
            expect(parse({ demo: "false" }).demo.enabled).toBe(false);
            expect(parse({}).demo.enabled).toBe(true);
            expect(errorOf({ demo: "false", etcdEncryption: "true", workloads: '[{"name":"alpha","namespace":"alpha","syncSecret":true}]' })).toBe(
                "Invalid config aks-identity-vault:workloads[0].syncSecret = true: needs demo true: it mirrors the workload's demo secret, which demo false leaves out (pulumi config set demo true).",
            );
        });

        test("a team's own tags join the stack's on every resource; the stack's own names stay the stack's", () => {
            const config = parse({ tags: '{"costCentre":"cc-1234","owner":"Platform Team (EMEA)"}' });
            expect(config.tags).toEqual({ costCentre: "cc-1234", owner: "Platform Team (EMEA)", project: "aks-identity-vault", stack: "dev", "managed-by": "pulumi" });
            expect(parse({ tags: JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`t${i}`, "v"]))) }).tags).toHaveProperty("t9", "v");
        });

        test.each([
            ["the stack's own name", '{"Project":"x"}', 'aks-identity-vault:tags.Project = "x": is a tag the stack sets itself (project, stack, managed-by, workload, purpose); choose another name.'],
            ["a per-resource name of the stack", '{"workload":"x"}', 'aks-identity-vault:tags.workload = "x": is a tag the stack sets itself'],
            ["two names that differ only in case", '{"owner":"a","Owner":"b"}', 'aks-identity-vault:tags.Owner = "b": has the name of tag owner but for case'],
            ["a name with a space", '{"cost centre":"x"}', "aks-identity-vault:tags.cost centre"],
            ["a name starting with a digit", '{"1owner":"x"}', "must be a tag name of 1-128 letters, digits, '-' and '_', starting with a letter"],
            ["a name Azure forbids", '{"a/b":"x"}', "must be a tag name"],
            ["a value too long", `{"owner":"${"v".repeat(257)}"}`, "must be at most 256 characters"],
            ["a value not a string", '{"owner":5}', "aks-identity-vault:tags.owner = 5: must be a string"],
            ["eleven tags", JSON.stringify(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`t${i}`, "v"]))), "must hold at most 10 tags"],
            ["a list", '["owner"]', "must be a JSON object of tag names to values"],
        ])("tags: %s is refused in one line", (_what, tags, message) => {
            const error = errorOf({ tags });
            expect(error).toContain(message);
            expect(error).not.toContain("\n");
        });

        test("a stack name with no letters or digits is refused", () => {
            expect(() => baseNameForStack("--")).toThrow(ConfigError);
        });

        test("a stack name whose derived names would be too long for Azure is refused, naming the limit", () => {
            expect(baseNameForStack("s".repeat(50))).toHaveLength(54);
            expect(() => baseNameForStack("s".repeat(51))).toThrow(
                `Invalid stack name "${"s".repeat(51)}": the names derived from it would be too long for Azure (the cluster's DNS prefix aiv-${"s".repeat(51)} is 55 characters, at most 54); use a stack name of at most 50 letters, digits and hyphens.`,
            );
        });

        test("the error hides its stack trace from pulumi (a RunError)", () => {
            const error = new ConfigError("x");
            expect(error.name).toBe("ConfigError");
            // pulumi's language host prints only the message of a RunError.
            expect(Object.getPrototypeOf(Object.getPrototypeOf(error)).constructor.name).toBe("RunError");
        });
    });

    describe("VM sizes and image references", () => {
        test("the vCPUs a size's name states, constrained cores included", () => {
            expect(vmSizeVcpus("Standard_D4ds_v5")).toBe(4);
            expect(vmSizeVcpus("Standard_DS2_v2")).toBe(2);
            expect(vmSizeVcpus("Standard_E8-2ds_v5")).toBe(2);
            expect(vmSizeVcpus("Standard_M416ms_v2")).toBe(416);
            expect(vmSizeVcpus("Standard_Custom")).toBeUndefined();
        });

        test("B-series and Av1 are unsupported for system pools; Av2 is not Av1", () => {
            expect(["Standard_B2s", "Standard_b4ms", "Standard_A1", "Standard_A11"].map(isUnsupportedSystemPoolSize)).toEqual([true, true, true, true]);
            expect(["Standard_A2_v2", "Standard_D4ds_v5", "Standard_DS2_v2"].map(isUnsupportedSystemPoolSize)).toEqual([false, false, false]);
        });

        test("an image reference's parts, with a registry port", () => {
            expect(parseImageReference("myregistry.example.com:5000/mirror/node:22.14.0-alpine3.21")).toEqual({
                domain: "myregistry.example.com:5000",
                path: "mirror/node",
                tag: "22.14.0-alpine3.21",
            });
            expect(parseImageReference("node")).toEqual({ path: "node" });
            expect(parseImageReference(`${"a".repeat(250)}/bbbbbb:1`)).toBeUndefined();
            expect(parseImageReference(`node@sha256:${"A".repeat(64)}`)).toBeUndefined();
            expect(parseImageReference(`node@md5:${"a".repeat(32)}`)).toBeUndefined();
            expect(isPinnedImageReference(parseImageReference("reg:5000/node"))).toBe(false);
            expect(isPinnedImageReference(undefined)).toBe(false);
        });
    });

    describe("address maths", () => {
        test("parseIpv4Cidr accepts canonical CIDRs only", () => {
            expect(parseIpv4Cidr("10.76.0.0/22")?.[1]).toBe(22);
            expect(parseIpv4Cidr("10.76.1.0/22")).toBeUndefined();
            expect(parseIpv4Cidr("010.76.0.0/22")).toBeUndefined();
            expect(parseIpv4Cidr("fd00::/8")).toBeUndefined();
            expect(parseIpv4Cidr("")).toBeUndefined();
        });

        test("containment and overlap", () => {
            expect(cidrContains("10.76.0.0/22", "10.76.3.0/24")).toBe(true);
            expect(cidrContains("10.76.0.0/22", "10.76.4.0/24")).toBe(false);
            expect(cidrContains("10.76.1.0/24", "10.76.0.0/22")).toBe(false);
            expect(cidrContains("10.76.0.0/22", "10.76.0.0/22")).toBe(true);
            expect(cidrsOverlap("10.76.1.0/24", "10.76.1.128/25")).toBe(true);
            expect(cidrsOverlap("10.76.1.128/25", "10.76.1.0/24")).toBe(true);
            expect(cidrsOverlap("10.76.1.0/24", "10.76.2.0/24")).toBe(false);
        });

        test("the address helpers refuse a CIDR with host bits, naming it", () => {
            expect(() => cidrContains("10.76.0.1/22", "10.76.0.0/24")).toThrow("not a canonical IPv4 CIDR: 10.76.0.1/22");
        });

        test("Azure CNI node capacity: 31 addresses per node after Azure's five", () => {
            // /24: 256 - 5 reserved = 251 addresses, 31 per node: 8 nodes. /20: 4091 addresses: 131 nodes.
            expect(subnetNodeCapacity("10.76.1.0/24")).toBe(8);
            expect(subnetNodeCapacity("10.76.0.0/20")).toBe(131);
            expect(subnetNodeCapacity("10.76.1.0/28")).toBe(0);
        });

        test("the pools' most nodes: each at its largest, plus a surge node each", () => {
            expect(poolsNodesAtMost({ nodeCount: 2, userPool: { maxCount: 4 } })).toBe(8);
            expect(poolsNodesAtMost({ nodeCount: 1, userPool: { maxCount: 1 } })).toBe(4);
        });

        test("the default address plan is valid and its nodes fit", () => {
            expect(cidrContains(DEFAULTS.vnetAddressSpace, DEFAULTS.aksSubnetPrefix)).toBe(true);
            expect(cidrContains(DEFAULTS.vnetAddressSpace, DEFAULTS.privateEndpointSubnetPrefix)).toBe(true);
            expect(cidrsOverlap(DEFAULTS.aksSubnetPrefix, DEFAULTS.privateEndpointSubnetPrefix)).toBe(false);
            expect(subnetNodeCapacity(DEFAULTS.aksSubnetPrefix)).toBeGreaterThanOrEqual(poolsNodesAtMost({ nodeCount: DEFAULTS.nodeCount, userPool: { maxCount: DEFAULTS.userNodeCountMax } }));
        });
    });

    describe("baseNameForStack", () => {
        test.each([
            ["dev", "aiv-dev"],
            ["Prod_EU.1", "aiv-prod-eu-1"],
            ["--x--", "aiv-x"],
            ["a__b", "aiv-a-b"],
        ])("%s becomes %s", (stack, expected) => {
            expect(baseNameForStack(stack)).toBe(expected);
        });
    });

    describe("each refusal is one line naming the key, the value and what is allowed", () => {
        const workload = (fields: Record<string, unknown>): RawConfig => ({ workloads: JSON.stringify([{ name: "alpha", namespace: "a", ...fields }]) });
        const KEY = "aks-identity-vault";

        test.each<[string, RawConfig, string]>([
            [
                "a value longer than 80 characters is cut short",
                { identityMode: "x".repeat(100) },
                `Invalid config ${KEY}:identityMode = "${"x".repeat(76)}...: must be one of podIdentityAddon, podIdentityOss, workloadIdentity.`,
            ],
            [
                "a value of 80 characters is shown whole",
                { identityMode: "y".repeat(78) },
                `Invalid config ${KEY}:identityMode = "${"y".repeat(78)}": must be one of podIdentityAddon, podIdentityOss, workloadIdentity.`,
            ],
            [
                "namespace starting with '-'",
                workload({ namespace: "-abc" }),
                `Invalid config ${KEY}:workloads[0].namespace = "-abc": must be a Kubernetes namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit.`,
            ],
            [
                "namespace ending with '-'",
                workload({ namespace: "abc-" }),
                `Invalid config ${KEY}:workloads[0].namespace = "abc-": must be a Kubernetes namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit.`,
            ],
            [
                "name with a double hyphen",
                workload({ name: "abc--def" }),
                `Invalid config ${KEY}:workloads[0].name = "abc--def": must be 3-24 lower-case letters, digits and single hyphens, starting with a letter and ending with a letter or digit.`,
            ],
            [
                "name ending with a symbol",
                workload({ name: "abcd!" }),
                `Invalid config ${KEY}:workloads[0].name = "abcd!": must be 3-24 lower-case letters, digits and single hyphens, starting with a letter and ending with a letter or digit.`,
            ],
            ["name missing", { workloads: JSON.stringify([{ namespace: "a" }]) }, `Missing config ${KEY}:workloads[0].name: required: 3-24 lower-case letters, digits and single hyphens.`],
            ["name not a string", workload({ name: 5 }), `Invalid config ${KEY}:workloads[0].name = 5: must be a string: 3-24 lower-case letters, digits and single hyphens.`],
            ["entry not an object", { workloads: "[1]" }, `Invalid config ${KEY}:workloads[0] = 1: must be an object with name and namespace.`],
            [
                "entry with an unknown field",
                workload({ colour: "red" }),
                `Invalid config ${KEY}:workloads[0] = {"name":"alpha","namespace":"a","colour":"red"}: unknown field(s) colour; allowed: name, namespace, bindingSelector, serviceAccount, syncSecret, identityType.`,
            ],
            [
                "selector starting with '-'",
                workload({ bindingSelector: "-a" }),
                `Invalid config ${KEY}:workloads[0].bindingSelector = "-a": must be a Kubernetes label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit.`,
            ],
            [
                "selector ending with '-'",
                workload({ bindingSelector: "a-" }),
                `Invalid config ${KEY}:workloads[0].bindingSelector = "a-": must be a Kubernetes label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit.`,
            ],
            ["empty selector", workload({ bindingSelector: "" }), `Invalid config ${KEY}:workloads[0].bindingSelector = "": must not be empty.`],
            ["selector of 64 characters", workload({ bindingSelector: "a".repeat(64) }), `Invalid config ${KEY}:workloads[0].bindingSelector = "${"a".repeat(64)}": must be at most 63 characters.`],
            [
                "service account with '.-'",
                workload({ serviceAccount: "a.-b" }),
                `Invalid config ${KEY}:workloads[0].serviceAccount = "a.-b": must be a Kubernetes service account name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.`,
            ],
            [
                "service account of 254 characters",
                workload({ serviceAccount: "a".repeat(254) }),
                `Invalid config ${KEY}:workloads[0].serviceAccount = "${"a".repeat(76)}...: must be at most 253 characters.`,
            ],
            ["VM size with a prefix", { nodeVmSize: "xStandard_D2" }, `Invalid config ${KEY}:nodeVmSize = "xStandard_D2": must be an Azure VM size such as Standard_D4ds_v5.`],
            ["VM size with a space", { nodeVmSize: "Standard_D2 v2" }, `Invalid config ${KEY}:nodeVmSize = "Standard_D2 v2": must be an Azure VM size such as Standard_D4ds_v5.`],
            [
                "image starting with '_'",
                { verifierImage: "_node:22.1" },
                `Invalid config ${KEY}:verifierImage = "_node:22.1": must be an image reference such as node:22.14.0-alpine3.21 or myregistry.example.com:5000/mirror/node:22.14.0-alpine3.21.`,
            ],
            [
                "image with a space",
                { verifierImage: "node:22.1 x" },
                `Invalid config ${KEY}:verifierImage = "node:22.1 x": must be an image reference such as node:22.14.0-alpine3.21 or myregistry.example.com:5000/mirror/node:22.14.0-alpine3.21.`,
            ],
            ["authorized range not a string", { apiServerAuthorizedIpRanges: "[5]" }, `Invalid config ${KEY}:apiServerAuthorizedIpRanges[0] = 5: must be a string.`],
            ["service CIDR smaller than /24", { serviceCidr: "172.16.0.0/25" }, `Invalid config ${KEY}:serviceCidr = "172.16.0.0/25": must be an IPv4 CIDR of at least /24 such as 10.0.0.0/16.`],
            ["node count not a number", { nodeCount: "x" }, `Invalid config ${KEY}:nodeCount = "x": must be a whole number from 1 to 100.`],
            ["node count above the maximum", { nodeCount: "101" }, `Invalid config ${KEY}:nodeCount = "101": must be a whole number from 1 to 100.`],
            [
                "more system nodes than the AKS subnet holds with the user pool",
                { aksSubnetPrefix: "10.76.1.0/24", nodeCount: "3" },
                `Invalid config ${KEY}:aksSubnetPrefix = "10.76.1.0/24": holds 8 nodes (Azure CNI takes 31 addresses per node), but the pools can reach 9: nodeCount 3 and userNodeCountMax 4, each pool with 1 surge node; use a larger aksSubnetPrefix or fewer nodes.`,
            ],
            [
                "a user pool that can outgrow the AKS subnet",
                { aksSubnetPrefix: "10.76.1.0/24", userNodeCountMax: "5" },
                `Invalid config ${KEY}:aksSubnetPrefix = "10.76.1.0/24": holds 8 nodes (Azure CNI takes 31 addresses per node), but the pools can reach 9: nodeCount 2 and userNodeCountMax 5, each pool with 1 surge node; use a larger aksSubnetPrefix or fewer nodes.`,
            ],
            ["a user pool minimum above its maximum", { userNodeCountMin: "5", userNodeCountMax: "4" }, `Invalid config ${KEY}:userNodeCountMin = 5: must be at most userNodeCountMax 4.`],
            ["a user pool of no nodes", { userNodeCountMin: "0" }, `Invalid config ${KEY}:userNodeCountMin = "0": must be a whole number from 1 to 100.`],
            [
                "a one-vCPU user pool size",
                { userNodeVmSize: "Standard_D1_v2" },
                `Invalid config ${KEY}:userNodeVmSize = "Standard_D1_v2": has fewer than 2 vCPUs; use a size such as Standard_D4ds_v5.`,
            ],
            ["a zone Azure does not have", { availabilityZones: '["1","4"]' }, `Invalid config ${KEY}:availabilityZones[1] = "4": must be one of 1, 2, 3.`],
            ["a zone named twice", { availabilityZones: '["1","1"]' }, `Invalid config ${KEY}:availabilityZones = ["1","1"]: must not name a zone twice.`],
            ["Defender neither on nor off", { defender: "yes" }, `Invalid config ${KEY}:defender = "yes": must be true or false.`],
            ["a retention below the workspace's", { logRetentionDays: "7" }, `Invalid config ${KEY}:logRetentionDays = "7": must be a whole number from 30 to 730.`],
            ["a retention above the workspace's", { logRetentionDays: "731" }, `Invalid config ${KEY}:logRetentionDays = "731": must be a whole number from 30 to 730.`],
            ["a full kube-audit switch neither on nor off", { fullKubeAudit: "1" }, `Invalid config ${KEY}:fullKubeAudit = "1": must be true or false.`],
            ["a secret that never lives", { secretLifetimeDays: "0" }, `Invalid config ${KEY}:secretLifetimeDays = "0": must be a whole number from 1 to 3650.`],
            ["a key too short-lived to rotate", { keyLifetimeDays: "43" }, `Invalid config ${KEY}:keyLifetimeDays = "43": must be a whole number from 44 to 3650.`],
            ["selector not a string", workload({ bindingSelector: 5 }), `Invalid config ${KEY}:workloads[0].bindingSelector = 5: must be a string: a Kubernetes label value.`],
            ["service account not a string", workload({ serviceAccount: 5 }), `Invalid config ${KEY}:workloads[0].serviceAccount = 5: must be a string: a Kubernetes service account name.`],
            [
                "entry with two unknown fields",
                workload({ colour: "red", size: 1 }),
                `Invalid config ${KEY}:workloads[0] = {"name":"alpha","namespace":"a","colour":"red","size":1}: unknown field(s) colour, size; allowed: name, namespace, bindingSelector, serviceAccount, syncSecret, identityType.`,
            ],
        ])("%s", (_case, raw, message) => {
            expect(errorOf(raw)).toBe(message);
        });

        test("more than 200 authorized ranges", () => {
            const ranges = Array.from({ length: 201 }, (_, i) => `10.${Math.floor(i / 256)}.${i % 256}.0/24`);
            expect(errorOf({ apiServerAuthorizedIpRanges: JSON.stringify(ranges) })).toMatch(
                /^Invalid config aks-identity-vault:apiServerAuthorizedIpRanges = \[.{76}\.\.\.: AKS accepts at most 200 ranges\.$/,
            );
        });

        test("more than 100 workloads", () => {
            const workloads = Array.from({ length: 101 }, (_, i) => ({ name: `team${i}`, namespace: `team${i}` }));
            expect(errorOf({ workloads: JSON.stringify(workloads) })).toMatch(/^Invalid config aks-identity-vault:workloads = \[.{76}\.\.\.: must list at most 100 workloads\.$/);
        });

        test("an empty region is missing, not malformed", () => {
            expect(errorOf({}, "")).toBe("Missing config azure-native:location: set an Azure region, for example `pulumi config set azure-native:location uksouth`.");
        });

        test("a region name with a symbol", () => {
            expect(errorOf({}, "uksouth!")).toBe('Invalid config azure-native:location = "uksouth!": must be an Azure region name such as uksouth (lower case, no spaces).');
        });

        test("a stack name without letters or digits", () => {
            expect(() => baseNameForStack("--")).toThrow('Invalid stack name "--": it must contain at least one letter or digit.');
        });

        test.each<[string, RawConfig]>([
            ["a one-letter service account", workload({ serviceAccount: "a" })],
            ["a dotted service account", workload({ serviceAccount: "a.b" })],
            ["a service account with a longer dotted part", workload({ serviceAccount: "a.bc" })],
            ["a one-letter selector", workload({ bindingSelector: "a" })],
            ["a /24 service CIDR", { serviceCidr: "172.16.0.0/24" }],
            ["as many nodes as the AKS subnet fits", { nodeCount: "3", userNodeCountMax: "3" }],
            ["a user pool of one fixed size", { userNodeCountMin: "4", userNodeCountMax: "4" }],
            ["no availability zones, for a region without them", { availabilityZones: "[]" }],
            ["the shortest key lifetime", { keyLifetimeDays: "44" }],
            ["the longest retention", { logRetentionDays: "730" }],
            ["a /12 service CIDR", { serviceCidr: "10.16.0.0/12" }],
            ["a /29 endpoint subnet", { privateEndpointSubnetPrefix: "10.76.2.0/29" }],
            ["a service CIDR next to the ranges AKS reserves", { serviceCidr: "172.29.0.0/16" }],
            ["a verifier image from a mirror with a port", { verifierImage: "myregistry.example.com:5000/mirror/node:22.14.0-alpine3.21" }],
            ["a verifier image from localhost with a port", { verifierImage: "localhost:5000/node:22" }],
            ["a verifier image pinned by a sha512 digest", { verifierImage: `node@sha512:${"b".repeat(128)}` }],
            ["a two-vCPU VM size", { nodeVmSize: "Standard_D2s_v5" }],
            ["an Av2 VM size", { nodeVmSize: "Standard_A2_v2" }],
            ["a workload whose name only starts like the cluster's identity", { workloads: '[{"name":"aks-team","namespace":"a"}]' }],
            ["another workload's unbound account", { workloads: '[{"name":"alpha","namespace":"a","serviceAccount":"beta-unbound"}]' }],
            ["a service account with a dot between two words", { workloads: '[{"name":"alpha","namespace":"a","serviceAccount":"alpha.workload"}]' }],
            ["a verification run of one character", { verificationRun: "a" }],
            ["a verification run of two", { verificationRun: "ab" }],
            ["a verification run with a hyphen inside", { verificationRun: "run-12" }],
        ])("accepts %s", (_case, raw) => {
            expect(() => parse(raw)).not.toThrow();
        });

        test("a node count with spaces around it is read as the number", () => {
            expect(parse({ nodeCount: " 1 " }).cluster.nodeCount).toBe(1);
        });

        test("protectStatefulResources reads true and false", () => {
            expect(parse({ protectStatefulResources: "true" }).protectStatefulResources).toBe(true);
            expect(parse({ protectStatefulResources: "false" }).protectStatefulResources).toBe(false);
        });
    });

    describe("edges the config's mutants showed untried", () => {
        test("a refusal gives the whole reason, and an API server subnet or firewall subnet outside the VNet says why it is needed", () => {
            expect(errorOf({ apiServerSubnetPrefix: "10.76.3.0/29", etcdEncryption: "true" })).toBe(
                'Invalid config aks-identity-vault:apiServerSubnetPrefix = "10.76.3.0/29": must be a /28 or larger: AKS\'s API Server VNet Integration needs at least a /28.',
            );
            expect(errorOf({ egress: "firewall", firewallSubnetPrefix: "10.77.0.0/26" })).toBe(
                'Invalid config aks-identity-vault:firewallSubnetPrefix = "10.77.0.0/26": must lie inside vnetAddressSpace 10.76.0.0/21 (egress is firewall).',
            );
            expect(errorOf({ aksSubnetPrefix: "10.77.1.0/24" })).toBe('Invalid config aks-identity-vault:aksSubnetPrefix = "10.77.1.0/24": must lie inside vnetAddressSpace 10.76.0.0/21.');
        });

        test.each([
            ["nodeVmSize", (config: StackConfig) => config.cluster.nodeVmSize],
            ["userNodeVmSize", (config: StackConfig) => config.cluster.userPool.vmSize],
        ] as const)("%s: the whole name is a size, and 2 vCPUs are enough", (key, sizeOf) => {
            for (const size of ["Standard_D4ds_v5!", "MyStandard_D4ds_v5"]) {
                expect(errorOf({ [key]: size })).toBe(`Invalid config aks-identity-vault:${key} = "${size}": must be an Azure VM size such as Standard_D4ds_v5.`);
            }
            expect(sizeOf(parse({ [key]: "Standard_D2ds_v5" }))).toBe("Standard_D2ds_v5");
        });

        test("VM sizes: a constrained-core size counts its active vCPUs, and a prefixed name is of no series", () => {
            expect(vmSizeVcpus("Standard_E64-16ds_v5")).toBe(16);
            expect(vmSizeVcpus("Promo_Standard_D4ds_v5")).toBeUndefined();
            expect(["Standard_A2_v2", "Promo_Standard_B2s"].map(isUnsupportedSystemPoolSize)).toEqual([false, false]);
        });

        test("a list of choices in words: one, two, or more", () => {
            expect([[], ["a"], ["a", "b"], ["a", "b", "c"]].map(listOr)).toEqual(["", "a", "a or b", "a, b or c"]);
        });

        test("a zone list that is not one says what it must be", () => {
            expect(errorOf({ availabilityZones: '"1"' })).toMatch(/must be a JSON list of zones such as \["1","2","3"\]\.$/);
        });

        test("a minor version with a two-digit major is a minor version; a patch version is not", () => {
            expect(errorOf({ kubernetesVersion: "1.34.1" })).toMatch(/must be empty or a minor version such as 1\.33\.$/);
            expect(parse({ kubernetesVersion: "10.1" }).cluster.kubernetesVersion).toBe("10.1");
        });

        test("the impostor's namespace is reserved: no workload may live where the stack plays another tenant", () => {
            expect(errorOf({ workloads: JSON.stringify([{ name: "alpha", namespace: "aiv-impostor" }]) })).toContain('workloads[0].namespace = "aiv-impostor": must not be a namespace');
        });

        test("a reserved namespace is refused naming the reserved ones, default aside", () => {
            const reserved = RESERVED_NAMESPACES.filter((n) => n !== "default");
            expect(errorOf({ workloads: JSON.stringify([{ name: "alpha", namespace: reserved[0] }]) })).toContain(
                `must not be a namespace AKS, its add-ons or this stack create for themselves (${reserved.join(", ")})`,
            );
        });

        test("deployerObjectId: a GUID is taken, anything else of that shape is not", () => {
            const guid = "0f8fad5b-d9cb-469f-a165-70867728950e";
            expect(parse({ deployerObjectId: guid }).cluster.deployerObjectId).toBe(guid);
            expect(parse({ deployerPrincipalType: "Group", deployerObjectId: guid }).cluster.deployerObjectId).toBe(guid);
            for (const bad of [
                "0f8fad5-d9cb-469f-a165-70867728950e",
                "0f8fad5b-d9c-469f-a165-70867728950e",
                "0f8fad5b-d9cb-469-a165-70867728950e",
                "0f8fad5b-d9cb-469f-a16-70867728950e",
                "0f8fad5b-d9cb-469f-a165-70867728950",
            ]) {
                expect(errorOf({ deployerObjectId: bad })).toMatch(/must be empty or an Entra object id \(a GUID\)\.$/);
            }
        });

        test("a runner VNet is taken with a private API server", () => {
            const runner = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-runners/providers/Microsoft.Network/virtualNetworks/vnet-runners";
            expect(parse({ apiServerAccess: "private", runnerVnetId: runner }).network.runnerVnetId).toBe(runner);
        });

        test("a region is lower-case letters and digits, starting with a letter", () => {
            expect(errorOf({}, "1uksouth")).toMatch(/^Invalid config azure-native:location = "1uksouth": /);
        });

        test("a workload's identity type its mode cannot serve names the modes that can", () => {
            expect(errorOf({ identityMode: "podIdentityAddon", workloads: JSON.stringify([{ name: "alpha", namespace: "alpha", identityType: "servicePrincipal" }]) })).toMatch(
                /needs identityMode podIdentityOss \(identityMode is podIdentityAddon\); use managedIdentity\.$/,
            );
        });

        test("a key with a colon at its very start has an empty namespace, which the program does not read", () => {
            expect(() => checkConfigKeys([":nodeCount"])).toThrow("Config key :nodeCount is ignored: nodeCount is this project's key");
            expect(() => checkConfigKeys(["nodeCount"])).toThrow("Config key nodeCount is ignored: nodeCount is this project's key");
        });

        test("image references: a long name counts its registry, and parts left out are absent, not undefined", () => {
            expect(parseImageReference(`registry.example.com/${"a".repeat(240)}:1`)).toBeUndefined();
            expect(parseImageReference(`${"a".repeat(240)}:1`)).toStrictEqual({ path: "a".repeat(240), tag: "1" });
            expect(parseImageReference("a".repeat(255))).toStrictEqual({ path: "a".repeat(255) });
            expect(parseImageReference("node")).toStrictEqual({ path: "node" });
            expect(parseImageReference(`node@sha256:${"a".repeat(64)}`)).toStrictEqual({ path: "node", digest: `sha256:${"a".repeat(64)}` });
        });

        test("a stack name loses every hyphen it would start or end with", () => {
            expect(baseNameForStack("--Dev--")).toBe("aiv-dev");
        });

        test("a path through a value that is not an object reads nothing", () => {
            expect(valueAt({ a: "text" }, ["a", "length"])).toBeUndefined();
            expect(valueAt({ a: null }, ["a", "b"])).toBeUndefined();
            expect(valueAt({ a: { b: 1 } }, ["a", "b"])).toBe(1);
        });
    });

    describe("loadConfig reads the stack's Pulumi config", () => {
        beforeEach(async () => {
            await pulumi.runtime.setMocks({ newResource: (args) => ({ id: args.name, state: args.inputs }), call: (args) => args.inputs }, "aks-identity-vault", "qa", true);
        });

        test("the project's keys, the region and the stack name; the providers' own keys pass", () => {
            pulumi.runtime.setAllConfig({
                "aks-identity-vault:identityMode": "workloadIdentity",
                "aks-identity-vault:nodeCount": "1",
                "azure-native:location": "westeurope",
                "azure-native:subscriptionId": "sub",
            });
            const config = loadConfig();
            expect(config.identityMode).toBe("workloadIdentity");
            expect(config.cluster.nodeCount).toBe(1);
            expect(config.location).toBe("westeurope");
            expect(config.baseName).toBe("aiv-qa");
            expect(config.keyVaultAuthorization).toBe(DEFAULTS.keyVaultAuthorization);
        });

        test("a key in a namespace the program does not read is refused, not ignored", () => {
            pulumi.runtime.setAllConfig({ "other:setting": "x", "azure-native:location": "westeurope" });
            expect(() => loadConfig()).toThrow("Config key other:setting is ignored: this program reads the namespaces");
        });

        test("an unknown key of the project is refused, naming the known ones", () => {
            pulumi.runtime.setAllConfig({ "aks-identity-vault:nodecount": "3", "azure-native:location": "westeurope" });
            expect(() => loadConfig()).toThrow(new ConfigError(`Unknown config key aks-identity-vault:nodecount: known keys are ${CONFIG_KEYS.join(", ")}.`));
        });

        test("a missing region is refused", () => {
            pulumi.runtime.setAllConfig({});
            expect(() => loadConfig()).toThrow(/^Missing config azure-native:location: /);
        });
    });
});
