// What `pulumi refresh` stores, modelled offline: what Azure answers later that differs from what it
// answered right after the stack wrote a resource, and what each provider makes of that answer.
//
// azure-native keeps the read after each write (read-after-write) as a resource's outputs. A refresh
// reads the resource again, projects the old and the new outputs onto the resource's writable
// inputs, and applies the difference to the stored inputs (pulumi/pulumi-azure-native
// provider/pkg/provider/provider.go Read; diff.go applyDiff). So a default Azure filled in when the
// resource was written never reaches the inputs, and a value that changed since does. A list the
// provider keeps as sub-resources (a vault's access policies, a VNet's subnets, an NSG's rules) is left
// out of that projection when the program does not set it (maintainSubResourceIfUnset). The Kubernetes
// provider prunes the live object to the keys of the old inputs (pulumi/pulumi-kubernetes
// provider/pkg/provider/provider.go Read, pruneLiveState), a Helm release keeps its inputs, and a
// dynamic provider without `read` keeps its state. docs/azure-behaviour.md rows 74-79 give each rule
// its source.
/** A resource as a `pulumi up` leaves it in the state. */
export interface StoredResource {
    urn: string;
    type: string;
    /** The name in the URN. */
    name: string;
    id: string | undefined;
    /** What the program sent, in the plan's form. */
    inputs: Record<string, unknown>;
    /** What the provider read back. */
    outputs: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** What Azure answers, some time after the stack's writes, for a resource of one type. */
type LaterRead = (resource: StoredResource, state: ReadonlyMap<string, StoredResource>) => Json;

/** Whether a value is an object of keys (not a list). */
export function isRecord(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function clone<T>(value: T): T {
    return structuredClone(value);
}

function resourcesOfType(state: ReadonlyMap<string, StoredResource>, type: string): StoredResource[] {
    return [...state.values()].filter((r) => r.type === type);
}

/** The version a channel moves a `major.minor.patch` to: its next patch. */
function nextPatch(version: unknown): unknown {
    const match = typeof version === "string" ? /^(\d+)\.(\d+)\.(\d+)$/.exec(version) : null;
    return match === null ? version : `${match[1]}.${match[2]}.${Number(match[3]) + 1}`;
}

/**
 * The cluster as AKS answers later: the upgrade channels have moved the versions they own (the
 * cluster's when it named none, every pool's), the autoscaler has moved the user pool to its maximum,
 * the add-on's pod identities are the cluster's, and a pool made by an AgentPool resource is listed
 * among its pools (rows 74-76).
 */
const managedCluster: LaterRead = (cluster, state) => {
    const later = clone(cluster.outputs);
    if (cluster.inputs.kubernetesVersion === undefined) {
        later.kubernetesVersion = nextPatch(later.kubernetesVersion);
    }
    const pools = Array.isArray(later.agentPoolProfiles) ? (later.agentPoolProfiles as Json[]) : [];
    for (const pool of pools) {
        pool.orchestratorVersion = nextPatch(pool.orchestratorVersion);
        if (pool.enableAutoScaling === true && typeof pool.maxCount === "number") {
            pool.count = pool.maxCount;
        }
    }
    for (const standalone of resourcesOfType(state, "azure-native:containerservice:AgentPool")) {
        if (standalone.inputs.resourceName === cluster.outputs.name) {
            const { agentPoolName, resourceGroupName, resourceName, ...profile } = standalone.outputs;
            void resourceGroupName;
            void resourceName;
            pools.push({ ...profile, name: agentPoolName });
        }
    }
    later.agentPoolProfiles = pools;
    const identities = resourcesOfType(state, "pulumi-nodejs:dynamic:PodIdentities").find((p) => p.inputs.clusterName === cluster.outputs.name);
    if (identities !== undefined && isRecord(later.podIdentityProfile) && isRecord(identities.outputs.identities)) {
        later.podIdentityProfile = { ...later.podIdentityProfile, userAssignedIdentities: Object.values(identities.outputs.identities) };
    }
    return later;
};

/** A vault lists the access policies that AccessPolicy resources wrote into it (row 77). */
const vault: LaterRead = (resource, state) => {
    const later = clone(resource.outputs);
    const written = resourcesOfType(state, "azure-native:keyvault:AccessPolicy")
        .filter((p) => p.inputs.vaultName === resource.outputs.name)
        .map((p) => p.outputs.policy);
    if (isRecord(later.properties)) {
        later.properties = { ...later.properties, accessPolicies: [...((later.properties.accessPolicies as unknown[] | undefined) ?? []), ...written] };
    }
    return later;
};

/** A VNet lists the subnets that Subnet resources wrote into it (row 77). */
const virtualNetwork: LaterRead = (resource, state) => {
    const later = clone(resource.outputs);
    later.subnets = resourcesOfType(state, "azure-native:network:Subnet")
        .filter((s) => s.inputs.virtualNetworkName === resource.outputs.name)
        .map((s) => ({ name: s.outputs.name, addressPrefix: s.outputs.addressPrefix }));
    // A peering written on either side appears on this VNet's list too.
    later.virtualNetworkPeerings = resourcesOfType(state, "azure-native:network:VirtualNetworkPeering")
        .filter((p) => p.inputs.virtualNetworkName === resource.outputs.name)
        .map((p) => ({ name: p.outputs.name, remoteVirtualNetwork: p.outputs.remoteVirtualNetwork }));
    return later;
};

/** A route table lists the routes written into it (the firewall's default route is a Route of its own). */
const routeTable: LaterRead = (resource, state) => {
    const later = clone(resource.outputs);
    later.routes = resourcesOfType(state, "azure-native:network:Route")
        .filter((r) => r.inputs.routeTableName === resource.outputs.name)
        .map((r) => ({ name: r.outputs.name, addressPrefix: r.outputs.addressPrefix, nextHopType: r.outputs.nextHopType, nextHopIpAddress: r.outputs.nextHopIpAddress }));
    return later;
};

/** How much later the version a rotation makes expires than the one before, in the model: 30 days. */
const ROTATED_LATER_SECONDS = 30 * 24 * 3600;

/** A key with a rotation policy has rotated: its current version expires later (row 78). */
const key: LaterRead = (resource) => {
    const later = clone(resource.outputs);
    const properties = later.properties;
    if (isRecord(properties) && isRecord(properties.attributes) && isRecord(properties.rotationPolicy)) {
        const expires = properties.attributes.expires;
        properties.attributes = { ...properties.attributes, expires: typeof expires === "number" ? expires + ROTATED_LATER_SECONDS : expires };
    }
    return later;
};

const LATER_READS: Readonly<Record<string, LaterRead>> = {
    "azure-native:containerservice:ManagedCluster": managedCluster,
    "azure-native:keyvault:Vault": vault,
    "azure-native:network:VirtualNetwork": virtualNetwork,
    "azure-native:network:RouteTable": routeTable,
    "azure-native:keyvault:Key": key,
};

/**
 * The inline lists azure-native keeps as sub-resources: left out of a refresh's projection when the
 * program leaves them unset (provider/pkg/gen/properties.go genProperty, maintainSubResourceIfUnset).
 */
const MAINTAINED_SUB_RESOURCES: Readonly<Record<string, readonly (readonly string[])[]>> = {
    "azure-native:keyvault:Vault": [["properties", "accessPolicies"]],
    "azure-native:network:VirtualNetwork": [["subnets"], ["virtualNetworkPeerings"]],
    "azure-native:network:NetworkSecurityGroup": [["securityRules"]],
    "azure-native:network:RouteTable": [["routes"]],
};

function has(value: unknown, path: readonly string[]): boolean {
    let current = value;
    for (const part of path) {
        if (!isRecord(current) || !(part in current)) {
            return false;
        }
        current = current[part];
    }
    return true;
}

function without(value: Json, path: readonly string[]): Json {
    const copy = clone(value);
    let current: Json = copy;
    for (const part of path.slice(0, -1)) {
        if (!isRecord(current[part])) {
            return copy;
        }
        current = current[part] as Json;
    }
    delete current[path[path.length - 1]];
    return copy;
}

/** The outputs as azure-native projects them for a refresh: maintained sub-resources the program left unset removed. */
function projection(resource: StoredResource, outputs: Json): Json {
    return (MAINTAINED_SUB_RESOURCES[resource.type] ?? []).filter((path) => !has(resource.inputs, path)).reduce(without, outputs);
}

/** A difference between two values: the new value where it changed, and whether the key went away. */
type Delta = { kind: "same" } | { kind: "deleted" } | { kind: "changed"; before: unknown; after: unknown };

function delta(before: unknown, after: unknown): Delta {
    if (JSON.stringify(before) === JSON.stringify(after)) {
        return { kind: "same" };
    }
    return after === undefined ? { kind: "deleted" } : { kind: "changed", before, after };
}

/**
 * azure-native's applyDiff: the stored inputs with the change between the old and new outputs
 * applied, recursively; a list takes the new list's length, and an element beyond the inputs' or the
 * old outputs' is copied whole. Exported for testing.
 */
export function applyOutputChange(inputs: unknown, oldOutputs: unknown, newOutputs: unknown): unknown {
    const d = delta(oldOutputs, newOutputs);
    if (d.kind === "same") {
        return inputs;
    }
    if (d.kind === "deleted") {
        return undefined;
    }
    if (isRecord(d.before) && isRecord(d.after) && (inputs === undefined || isRecord(inputs))) {
        const base: Json = inputs === undefined ? {} : clone(inputs);
        for (const k of new Set([...Object.keys(d.before), ...Object.keys(d.after)])) {
            const merged = applyOutputChange(base[k], d.before[k], d.after[k]);
            if (merged === undefined) {
                delete base[k];
            } else {
                base[k] = merged;
            }
        }
        return base;
    }
    if (Array.isArray(d.before) && Array.isArray(d.after) && Array.isArray(inputs)) {
        return d.after.map((element, i) => (i >= inputs.length || i >= (d.before as unknown[]).length ? clone(element) : applyOutputChange(inputs[i], (d.before as unknown[])[i], element)));
    }
    return clone(d.after);
}

/** A resource after a refresh: what its provider reads back and stores as its inputs and outputs. */
function refreshOne(resource: StoredResource, state: ReadonlyMap<string, StoredResource>): StoredResource {
    const read = LATER_READS[resource.type];
    if (read === undefined) {
        // Nothing of it changes after its write (azure-native), the live object pruned to the inputs is
        // the inputs (Kubernetes), a release keeps its inputs (Helm), or the provider keeps its state.
        return resource;
    }
    const later = read(resource, state);
    const inputs = applyOutputChange(resource.inputs, projection(resource, resource.outputs), projection(resource, later));
    return { ...resource, inputs: isRecord(inputs) ? inputs : {}, outputs: later };
}

/** The state after `pulumi refresh`: every resource read back. */
export function refreshed(state: ReadonlyMap<string, StoredResource>): Map<string, StoredResource> {
    return new Map([...state].map(([key, resource]) => [key, refreshOne(resource, state)]));
}
