// Following references between resources in a stack validation. Relationships are read from the
// property dependencies Pulumi records (an endpoint's `subnet` depends on the Subnet resource), which
// both `pulumi preview` and the offline plans carry, with names as a fallback for values that were
// written out literally.
import { PolicyResource } from "@pulumi/policy";
import { TYPES } from "./types";
import { field, firstText, list, sameText, strings, text } from "./values";

/** The resources of one type. */
export function ofType(resources: readonly PolicyResource[], type: string): PolicyResource[] {
    return resources.filter((r) => r.type === type);
}

/** The resources of `type` that `resource`'s property `property` was computed from. */
export function linkedThrough(resource: PolicyResource, property: string, type: string): PolicyResource[] {
    return (resource.propertyDependencies[property] ?? []).filter((r) => r.type === type);
}

/**
 * Whether `resource`'s property `property` refers to `target`. When Pulumi recorded dependencies of
 * that property on resources of the target's type, they decide; otherwise `byValue` compares the
 * literal values (which may be unknown during a preview, so it is only read when needed).
 */
export function refersTo(resource: PolicyResource, property: string, target: PolicyResource, byValue: () => boolean): boolean {
    const linked = linkedThrough(resource, property, target.type);
    return linked.length > 0 ? linked.some((r) => r.urn === target.urn) : byValue();
}

/**
 * The Azure name of a resource: its name input (`vaultName`, `subnetName`...) while planned, or
 * the `name` output once deployed.
 */
export function azureName(resource: PolicyResource, inputKey: string): string | undefined {
    return firstText(resource.props, inputKey, "name");
}

/** True when an ARM id (or a name) refers to `target`, whose Azure name is read from `inputKey`. */
export function idNames(id: string | undefined, target: PolicyResource, inputKey: string): boolean {
    const name = azureName(target, inputKey);
    if (id === undefined || name === undefined) {
        return false;
    }
    const segments = id.split("/").filter((s) => s !== "");
    return sameText(segments[segments.length - 1], name);
}

/** The private-link connections of an endpoint, automatic and manual. */
export function endpointConnections(endpoint: PolicyResource): unknown[] {
    return [...list(field(endpoint.props, "privateLinkServiceConnections")), ...list(field(endpoint.props, "manualPrivateLinkServiceConnections"))];
}

/**
 * The private endpoints that expose `target` (a vault, a storage account) for the private-link
 * sub-resource `groupId`; `nameKey` is the target's name input (`vaultName`, `accountName`).
 */
export function privateEndpointsFor(resources: readonly PolicyResource[], target: PolicyResource, nameKey: string, groupId: string): PolicyResource[] {
    return ofType(resources, TYPES.privateEndpoint).filter((endpoint) =>
        endpointConnections(endpoint).some(
            (connection) =>
                strings(field(connection, "groupIds")).some((g) => sameText(g, groupId)) &&
                refersTo(endpoint, "privateLinkServiceConnections", target, () => idNames(text(field(connection, "privateLinkServiceId")), target, nameKey)),
        ),
    );
}

/** True when an ARM subnet id names `subnet` (and its virtual network, when both are known). */
export function idNamesSubnet(id: string | undefined, subnet: PolicyResource): boolean {
    if (id === undefined) {
        return false;
    }
    const segments = id.split("/").filter((s) => s !== "");
    const subnetName = azureName(subnet, "subnetName");
    const vnetName = text(field(subnet.props, "virtualNetworkName"));
    const vnetIndex = segments.findIndex((s) => sameText(s, "virtualNetworks"));
    const sameVnet = vnetName === undefined || vnetIndex < 0 || sameText(segments[vnetIndex + 1], vnetName);
    return sameVnet && sameText(segments[segments.length - 1], subnetName);
}

/** The Subnet resource a private endpoint is placed in, when the stack declares it. */
export function endpointSubnet(resources: readonly PolicyResource[], endpoint: PolicyResource): PolicyResource | undefined {
    const linked = linkedThrough(endpoint, "subnet", TYPES.subnet);
    if (linked.length > 0) {
        return linked[0];
    }
    const id = text(field(endpoint.props, "subnet", "id"));
    return ofType(resources, TYPES.subnet).find((subnet) => idNamesSubnet(id, subnet));
}

/**
 * Everything `resource` waits for before the engine creates it: its dependencies, theirs, and what
 * its provider waits for, transitively. Returns a function of a resource, memoized over `resources`.
 */
export function waitsFor(resources: readonly PolicyResource[]): (resource: PolicyResource) => ReadonlySet<PolicyResource> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const memo = new Map<string, Set<PolicyResource>>();
    const visit = (resource: PolicyResource): Set<PolicyResource> => {
        const known = memo.get(resource.urn);
        if (known !== undefined) {
            return known;
        }
        const found = new Set<PolicyResource>();
        memo.set(resource.urn, found); // A cycle resolves to what was found so far rather than looping.
        const provider = resource.provider === undefined ? undefined : byUrn.get(resource.provider.urn);
        for (const direct of [...resource.dependencies, ...(provider === undefined ? [] : [provider])]) {
            found.add(direct);
            visit(direct).forEach((r) => found.add(r));
        }
        return found;
    };
    return visit;
}
