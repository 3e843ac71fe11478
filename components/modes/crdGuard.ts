// The guard on aad-pod-identity's own objects, shared by the two pod-identity modes. NMI hands a pod
// the token of any AzureIdentity an AzureIdentityBinding in the pod's namespace selects, for any
// identity the nodes hold, and lets pods an AzurePodIdentityException matches past itself to the
// node's metadata endpoint (Azure/aad-pod-identity pkg/nmi, pkg/mic). So whoever may write those
// objects in a namespace could take another workload's identity, or leave NMI behind altogether.
// This ValidatingAdmissionPolicy admits a write only when the object is one the stack means to
// exist: an AzureIdentity in a workload's namespace naming that workload's identity, a binding there
// with that workload's selector, one of the exceptions the mode itself needs; every other kind of the
// group (AzureAssignedIdentity) only from the mode's own controller.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IdentityType } from "../../config";
import { celString, denyingPolicy } from "./admission";

/** The API group of aad-pod-identity's objects (the add-on's are the same). */
export const AAD_POD_IDENTITY_GROUP = "aadpodidentity.k8s.io";

/** Name of the guard's ValidatingAdmissionPolicy and of its binding. */
export const CRD_GUARD_POLICY_NAME = "aadpodidentity-guard";

/** One workload as the guard knows it: what an AzureIdentity and a binding in its namespace may say. */
export interface GuardedWorkload {
    namespace: string;
    bindingSelector: string;
    identityType: IdentityType;
    /** Client id of the workload's identity. */
    clientId: string;
    /** ARM id of its managed identity; empty for a service principal. */
    resourceId: string;
}

/** A workload as the mode binds it, its identity's ids still to come. */
export interface GuardedWorkloadInput extends Omit<GuardedWorkload, "clientId" | "resourceId"> {
    clientId: pulumi.Input<string>;
    resourceId: pulumi.Input<string>;
}

/** An AzurePodIdentityException the mode itself needs, exactly as its writer makes it. */
export interface AllowedException {
    namespace: string;
    name: string;
    podLabels: Readonly<Record<string, string>>;
}

/** What one mode's guard admits. */
export interface CrdGuardSpec {
    workloads: GuardedWorkload[];
    exceptions: AllowedException[];
    /**
     * Kubernetes users (service accounts) that may write the group's other kinds: the mode's own
     * controller, which keeps AzureAssignedIdentity objects. Empty where nothing writes them.
     */
    controllers: string[];
}

/** A CEL map literal of strings. */
function celStringMap(entries: Readonly<Record<string, string>>): string {
    return `{${Object.entries(entries)
        .map(([k, v]) => `${celString(k)}: ${celString(v)}`)
        .join(", ")}}`;
}

/**
 * The policy's `variables`, `validations` and match rules for one mode. ARM ids and client ids are
 * compared in lower case: Azure treats both case-insensitively, and AKS writes what ARM holds.
 * Exported for testing.
 */
export function crdGuardPolicySpec(spec: CrdGuardSpec) {
    const workloads = `{${spec.workloads
        .map(
            (w) =>
                `${celString(w.namespace)}: ${celStringMap({
                    selector: w.bindingSelector,
                    type: w.identityType === "managedIdentity" ? "0" : "1",
                    clientID: w.clientId.toLowerCase(),
                    resourceID: w.resourceId.toLowerCase(),
                })}`,
        )
        .join(", ")}}`;
    const exceptions = `[${spec.exceptions.map((e) => `{'namespace': ${celString(e.namespace)}, 'name': ${celString(e.name)}, 'podLabels': ${celStringMap(e.podLabels)}}`).join(", ")}]`;
    const own = "variables.workloads[request.namespace]";
    // A managed identity (type 0) names its ARM id; a service principal (type 1) a password in its own namespace.
    const identityMatches = [
        `request.namespace in variables.workloads`,
        `has(object.spec.clientID) && string(object.spec.clientID).lowerAscii() == ${own}.clientID`,
        `string(has(object.spec.type) ? int(object.spec.type) : 0) == ${own}.type`,
        `(${own}.type == '0' ? has(object.spec.resourceID) && string(object.spec.resourceID).lowerAscii() == ${own}.resourceID : has(object.spec.clientPassword) && has(object.spec.clientPassword.namespace) && object.spec.clientPassword.namespace == request.namespace)`,
    ].join(" && ");
    const bindingMatches = `request.namespace in variables.workloads && has(object.spec.selector) && object.spec.selector == ${own}.selector`;
    // Map equality: the same labels, whatever their order.
    const exceptionMatches = `has(object.spec.podLabels) && variables.exceptions.exists(e, e.namespace == request.namespace && e.name == object.metadata.name && e.podLabels == object.spec.podLabels)`;
    return {
        failurePolicy: "Fail",
        matchConstraints: {
            resourceRules: [{ apiGroups: [AAD_POD_IDENTITY_GROUP], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["*"] }],
        },
        variables: [
            { name: "workloads", expression: workloads },
            { name: "exceptions", expression: exceptions },
            { name: "controllers", expression: `[${spec.controllers.map(celString).join(", ")}]` },
            { name: "byController", expression: "request.userInfo.username in variables.controllers" },
        ],
        validations: [
            {
                expression: `request.resource.resource != 'azureidentities' || variables.byController || (${identityMatches})`,
                messageExpression: `'an AzureIdentity in namespace ' + request.namespace + ' may name only the identity of the workload that namespace belongs to'`,
                reason: "Forbidden",
            },
            {
                expression: `request.resource.resource != 'azureidentitybindings' || variables.byController || (${bindingMatches})`,
                messageExpression: `'an AzureIdentityBinding in namespace ' + request.namespace + ' may select only the binding selector of the workload that namespace belongs to'`,
                reason: "Forbidden",
            },
            {
                expression: `request.resource.resource != 'azurepodidentityexceptions' || variables.byController || (${exceptionMatches})`,
                messageExpression: `'AzurePodIdentityException ' + request.namespace + '/' + object.metadata.name + ' is not one this cluster needs: an exception lets pods past NMI to the node identity'`,
                reason: "Forbidden",
            },
            {
                expression: `request.resource.resource in ['azureidentities', 'azureidentitybindings', 'azurepodidentityexceptions'] || variables.byController`,
                messageExpression: `'only the pod-identity controller may write ' + request.resource.resource`,
                reason: "Forbidden",
            },
        ],
    };
}

/**
 * Registers the guard (a ValidatingAdmissionPolicy and its Deny binding) over the workloads the mode
 * bound; returns the binding, which the workloads' pods wait for.
 */
export function crdGuard(
    name: string,
    args: {
        workloads: GuardedWorkloadInput[];
        exceptions: AllowedException[];
        controllers: string[];
    },
    opts: { parent?: pulumi.Resource; provider: k8s.Provider; dependsOn?: pulumi.Input<pulumi.Resource>[] },
): pulumi.Resource {
    const labels = { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "aks-identity-vault" };
    const ids = pulumi.all(args.workloads.map((w) => pulumi.all([w.clientId, w.resourceId])));
    const spec = ids.apply((pairs) =>
        crdGuardPolicySpec({
            workloads: args.workloads.map((w, i) => ({ namespace: w.namespace, bindingSelector: w.bindingSelector, identityType: w.identityType, clientId: pairs[i][0], resourceId: pairs[i][1] })),
            exceptions: args.exceptions,
            controllers: args.controllers,
        }),
    );
    return denyingPolicy({ policy: `${name}-policy`, binding: `${name}-binding` }, CRD_GUARD_POLICY_NAME, labels, spec, opts);
}
