// The only place that reads Pulumi config. Everything the stack needs is read here once, validated,
// and handed to the components as one typed object. Bad input stops the run before any resource is
// registered, with one line that names the key, the value and what is allowed. The rules live by what
// they are about in config/: the schema of every key (schema.ts), the typed result (types.ts), the
// network (network.ts), names (names.ts), tags (tags.ts), VM sizes (cluster.ts), the numeric limits
// (limits.ts) and how a refusal reads (errors.ts); this file parses and composes them.
import * as pulumi from "@pulumi/pulumi";
import { AKS_OLDEST_MINOR, AKS_SUPPORTED_MINORS, AZURE_REGIONS, CATALOG_DATE, compareMinors, isRetired, retiringSeries, ZONE_REGIONS } from "./azureCatalog";
import { modesAllowing } from "./identityModes";
import { baseNameForStack, checkStackNames, checkUnique } from "./config/names";
import { ConfigError, describePath, fail, PROJECT, projectKey } from "./config/errors";
import { MAX_PODS_PER_NODE, UPGRADE_SURGE_NODES } from "./config/limits";
import { AKS_RESERVED_RANGES, checkReservedRanges, checkSubnets, cidrHost, cidrsOverlap, networkWatcherOf, poolsNodesAtMost, subnetNodeCapacity, VNET_FORBIDDEN_RANGES } from "./config/network";
import { check, CONFIG_KEYS, CONFIG_SCHEMA, parseJson } from "./config/schema";
import type { ConfigKey, ConfigValues, KeyDeclaration, RawConfig } from "./config/schema";
import { checkUserTags } from "./config/tags";
import type { NetworkConfig, StackConfig } from "./config/types";

export { PROJECT, ConfigError, showValue } from "./config/errors";
export { IDENTITY_MODES, IDENTITY_TYPES } from "./identityModes";
export type { IdentityMode, IdentityType } from "./identityModes";
export * from "./config/types";
export * from "./config/limits";
export { STACK_TAG_NAMES, MAX_USER_TAGS } from "./config/tags";
export * from "./config/network";
export * from "./config/names";
export * from "./config/cluster";
export { CONFIG_SCHEMA, CONFIG_KEYS, DEFAULTS } from "./config/schema";
export type { ConfigKey, ConfigValues, KeyDeclaration, RawConfig } from "./config/schema";

/**
 * Validates raw config and returns the typed configuration, or throws a ConfigError whose message
 * is one line naming the key, the value and what is allowed. Pure: exported for testing.
 */
export function parseConfig(raw: RawConfig, context: { stack: string; location: string | undefined }): StackConfig {
    const location = context.location;
    if (location === undefined || location === "") {
        throw new ConfigError("Missing config azure-native:location: set an Azure region, for example `pulumi config set azure-native:location uksouth`.");
    }
    if (!/^[a-z][a-z0-9]+$/.test(location)) {
        fail("azure-native:location", location, "must be an Azure region name such as uksouth (lower case, no spaces)");
    }
    if (!AZURE_REGIONS.includes(location)) {
        fail(
            "azure-native:location",
            location,
            `must be a region of Azure's public cloud such as uksouth, westeurope or eastus2 (Microsoft's list as read on ${CATALOG_DATE}; \`az account list-locations -o table\` shows yours)`,
        );
    }
    const baseName = baseNameForStack(context.stack);
    /** The key's value: its default when unset, else the set value (parsed as JSON for lists) validated by its schema. */
    const read = <K extends ConfigKey>(key: K): ConfigValues[K] => {
        const declaration: KeyDeclaration<ConfigValues[K]> = CONFIG_SCHEMA[key];
        const text = raw[key];
        if (text === undefined) {
            return declaration.default;
        }
        const value = declaration.type === "stringList" || declaration.type === "objectList" || declaration.type === "object" ? parseJson(key, text) : text;
        return check(key, declaration.schema(), value);
    };

    const identityMode = read("identityMode");
    const keyVaultAuthorization = read("keyVaultAuthorization");
    const network: NetworkConfig = {
        vnetAddressSpace: read("vnetAddressSpace"),
        aksSubnetPrefix: read("aksSubnetPrefix"),
        privateEndpointSubnetPrefix: read("privateEndpointSubnetPrefix"),
        apiServerSubnetPrefix: read("apiServerSubnetPrefix"),
        firewallSubnetPrefix: read("firewallSubnetPrefix"),
        flowLogRetentionDays: read("flowLogRetentionDays"),
        networkWatcher: networkWatcherOf(read("networkWatcher"), location),
        runnerVnetId: read("runnerVnetId"),
    };
    const nodeCount = read("nodeCount");
    const nodeVmSize = read("nodeVmSize");
    const userPool = { minCount: read("userNodeCountMin"), maxCount: read("userNodeCountMax"), vmSize: read("userNodeVmSize") };
    // A region without zones takes none by default; zones named there are refused (AKS answers
    // AvailabilityZoneNotSupported).
    const regionHasZones = ZONE_REGIONS.includes(location);
    const availabilityZones = raw.availabilityZones === undefined && !regionHasZones ? [] : [...read("availabilityZones")];
    if (availabilityZones.length > 0 && !regionHasZones) {
        fail(projectKey("availabilityZones"), availabilityZones, `must be [] in ${location}, which has no availability zones (Microsoft's regions list), so AKS refuses them`);
    }
    for (const [key, size] of [
        ["nodeVmSize", nodeVmSize],
        ["userNodeVmSize", userPool.vmSize],
    ] as const) {
        const series = retiringSeries(size);
        if (series !== undefined && isRetired(series)) {
            fail(projectKey(key), size, `is of the ${series.series} series, which Azure retired on ${series.retires} and no longer provisions; use a current size such as Standard_D4ds_v5`);
        }
    }
    const defender = read("defender");
    const tier = read("clusterTier");
    const kubernetesVersion = read("kubernetesVersion");
    if (kubernetesVersion !== "" && compareMinors(kubernetesVersion, AKS_OLDEST_MINOR) < 0) {
        fail(
            projectKey("kubernetesVersion"),
            kubernetesVersion,
            `is a minor AKS no longer supports (on ${CATALOG_DATE} it supports ${AKS_SUPPORTED_MINORS.join(", ")}, and ${AKS_OLDEST_MINOR} only on the way up); use ${AKS_OLDEST_MINOR} or later, one minor at a time, or leave it empty for the stable channel`,
        );
    }
    const logging = { retentionDays: read("logRetentionDays"), fullKubeAudit: read("fullKubeAudit") };
    const lifecycle = { secretLifetimeDays: read("secretLifetimeDays"), keyLifetimeDays: read("keyLifetimeDays") };
    const apiServerAuthorizedIpRanges = [...read("apiServerAuthorizedIpRanges")];
    const apiServerAccess = read("apiServerAccess");
    const egress = read("egress");
    if (apiServerAccess === "private" && apiServerAuthorizedIpRanges.length > 0) {
        fail(
            projectKey("apiServerAuthorizedIpRanges"),
            apiServerAuthorizedIpRanges,
            'must be empty with apiServerAccess private: authorized ranges limit a public address, which a private API server does not have (AKS docs, api-server-authorized-ip-ranges: "You can\'t use this feature with private clusters")',
        );
    }
    const serviceCidr = read("serviceCidr");
    const deployerPrincipalType = read("deployerPrincipalType");
    const deployerObjectId = read("deployerObjectId");
    if (deployerPrincipalType === "Group" && deployerObjectId === "") {
        fail(
            projectKey("deployerPrincipalType"),
            deployerPrincipalType,
            "needs deployerObjectId: the group's own object id, since the role would otherwise go to the caller's id as if it were a group's (pulumi config set deployerObjectId <group object id>)",
        );
    }
    const demoEnabled = read("demo");
    const verifierImage = read("verifierImage");
    const verificationRun = read("verificationRun");
    const protectStatefulResources = read("protectStatefulResources");
    const workloadEntries = read("workloads");
    const userTags = read("tags");
    checkUserTags(userTags);
    const etcdEncryption = read("etcdEncryption");

    checkReservedRanges("vnetAddressSpace", network.vnetAddressSpace, VNET_FORBIDDEN_RANGES, "Azure does not allow in a virtual network");
    checkReservedRanges("vnetAddressSpace", network.vnetAddressSpace, AKS_RESERVED_RANGES, "AKS reserves");
    checkSubnets(network, { apiServer: etcdEncryption || apiServerAccess === "private", firewall: egress === "firewall" });
    if (network.runnerVnetId !== "" && apiServerAccess !== "private") {
        fail(
            projectKey("runnerVnetId"),
            network.runnerVnetId,
            "serves a private API server, which runners reach through the peering; with apiServerAccess public they reach it over the internet (set apiServerAccess private, or leave runnerVnetId empty)",
        );
    }
    checkReservedRanges("serviceCidr", serviceCidr, AKS_RESERVED_RANGES, "AKS reserves");
    if (cidrsOverlap(serviceCidr, network.vnetAddressSpace)) {
        fail(projectKey("serviceCidr"), serviceCidr, `must not overlap vnetAddressSpace ${network.vnetAddressSpace}: Kubernetes service addresses must not be routable in the VNet`);
    }
    if (userPool.minCount > userPool.maxCount) {
        fail(projectKey("userNodeCountMin"), userPool.minCount, `must be at most userNodeCountMax ${userPool.maxCount}`);
    }
    const capacity = subnetNodeCapacity(network.aksSubnetPrefix);
    const needed = poolsNodesAtMost({ nodeCount, userPool });
    if (needed > capacity) {
        fail(
            projectKey("aksSubnetPrefix"),
            network.aksSubnetPrefix,
            `holds ${capacity} nodes (Azure CNI takes ${MAX_PODS_PER_NODE + 1} addresses per node), but the pools can reach ${needed}: nodeCount ${nodeCount} and userNodeCountMax ${userPool.maxCount}, each pool with ${UPGRADE_SURGE_NODES} surge node; use a larger aksSubnetPrefix or fewer nodes`,
        );
    }

    const workloads = workloadEntries.map((w) => ({
        name: w.name,
        namespace: w.namespace,
        bindingSelector: w.bindingSelector ?? w.name,
        serviceAccount: w.serviceAccount ?? `${w.name}-workload`,
        identityType: w.identityType ?? "managedIdentity",
        syncSecret: w.syncSecret ?? false,
    }));
    workloads.forEach((w, index) => {
        if (!modesAllowing(w.identityType).includes(identityMode)) {
            const supporting = modesAllowing(w.identityType);
            fail(describePath("workloads", [index, "identityType"]), w.identityType, `needs identityMode ${supporting.join(" or ")} (identityMode is ${identityMode}); use managedIdentity`);
        }
    });
    checkUnique(workloads, "name");
    checkUnique(workloads, "namespace");
    checkUnique(workloads, "bindingSelector");
    workloads.forEach((w, index) => checkStackNames(w, index, baseName));
    workloads.forEach((w, index) => {
        if (w.syncSecret && !demoEnabled) {
            fail(describePath("workloads", [index, "syncSecret"]), true, "needs demo true: it mirrors the workload's demo secret, which demo false leaves out (pulumi config set demo true)");
        }
        if (w.syncSecret && !etcdEncryption) {
            fail(
                describePath("workloads", [index, "syncSecret"]),
                true,
                "needs etcdEncryption true: the mirrored Kubernetes Secret sits in etcd, which must then be encrypted with the stack's key (pulumi config set etcdEncryption true)",
            );
        }
    });

    return {
        stack: context.stack,
        location,
        baseName,
        identityMode,
        keyVaultAuthorization,
        network,
        cluster: {
            nodeCount,
            nodeVmSize,
            userPool,
            availabilityZones,
            defender,
            tier,
            kubernetesVersion,
            apiServerAuthorizedIpRanges,
            apiServerAccess,
            egress,
            serviceCidr,
            dnsServiceIp: cidrHost(serviceCidr, 10),
            deployerPrincipalType,
            deployerObjectId,
        },
        demo: { enabled: demoEnabled, verifierImage, verificationRun },
        logging,
        lifecycle,
        workloads,
        etcdEncryption,
        protectStatefulResources,
        tags: { ...userTags, project: PROJECT, stack: context.stack, "managed-by": "pulumi" },
    };
}

/**
 * Config namespaces the program reads, besides its own: the providers whose default instance it uses
 * (azure-native, azuread, random), Pulumi's own (`pulumi:tags` and the like), and `e2e`, where the
 * real-cloud test marks the stacks it creates. The Kubernetes provider is always given explicitly, so
 * `kubernetes:` keys would be ignored.
 */
export const CONFIG_NAMESPACES = [PROJECT, "azure-native", "azuread", "random", "pulumi", "e2e"] as const;

/**
 * Refuses, with one line, a config key the program would silently ignore: an unknown key of the
 * project, a key of the project set under another namespace, or a namespace the program does not
 * read. Exported for testing.
 */
export function checkConfigKeys(fullKeys: readonly string[]): void {
    const known = new Set<string>(CONFIG_KEYS);
    for (const fullKey of fullKeys) {
        const colon = fullKey.indexOf(":");
        const namespace = colon < 0 ? "" : fullKey.slice(0, colon);
        const key = fullKey.slice(colon + 1);
        if (namespace === PROJECT) {
            if (!known.has(key)) {
                throw new ConfigError(`Unknown config key ${fullKey}: known keys are ${CONFIG_KEYS.join(", ")}.`);
            }
        } else if (known.has(key) && namespace !== "pulumi") {
            // Pulumi's own keys (`pulumi:tags`, the stack's tags in Pulumi Cloud) are Pulumi's, even where a name is also the project's.
            throw new ConfigError(`Config key ${fullKey} is ignored: ${key} is this project's key, set it as ${PROJECT}:${key} (pulumi config set ${key} <value>).`);
        } else if (!(CONFIG_NAMESPACES as readonly string[]).includes(namespace)) {
            throw new ConfigError(`Config key ${fullKey} is ignored: this program reads the namespaces ${CONFIG_NAMESPACES.join(", ")} only.`);
        }
    }
}

/**
 * Reads the stack's config from Pulumi once and validates it. A key it would ignore (an unknown key
 * of the project, one of its keys under another namespace, a namespace it does not read) is refused.
 */
export function loadConfig(): StackConfig {
    checkConfigKeys(Object.keys(pulumi.runtime.allConfig()));
    const config = new pulumi.Config(PROJECT);
    const raw: RawConfig = {};
    for (const key of CONFIG_KEYS) {
        const value = config.get(key);
        if (value !== undefined) {
            raw[key] = value;
        }
    }
    return parseConfig(raw, { stack: pulumi.getStack(), location: new pulumi.Config("azure-native").get("location") });
}
