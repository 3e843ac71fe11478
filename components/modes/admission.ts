// What the admission guards of the pod-identity modes share: CEL string literals, and a
// ValidatingAdmissionPolicy registered with the binding that makes it deny.
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** A CEL string literal: the value quoted, its backslashes and quotes escaped. */
export function celString(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * Registers a ValidatingAdmissionPolicy named `policyName` and its binding of the same name with
 * `validationActions: [Deny]`, as Pulumi resources `names.policy` and `names.binding`; returns the
 * binding, which what the policy protects waits for.
 */
export function denyingPolicy(
    names: { policy: string; binding: string },
    policyName: string,
    labels: Record<string, string>,
    spec: pulumi.Input<k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec>,
    opts: pulumi.CustomResourceOptions,
): pulumi.Resource {
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(names.policy, { metadata: { name: policyName, labels }, spec }, opts);
    return new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        names.binding,
        { metadata: { name: policyName, labels }, spec: { policyName: policy.metadata.name, validationActions: ["Deny"] } },
        opts,
    );
}
