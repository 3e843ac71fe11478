// What the two pod-identity modes (the AKS add-on and the open-source aad-pod-identity) share: pods
// claim an identity with the `aadpodidbinding` label, NMI answers their token requests where it
// redirects the metadata endpoint, and an admission policy lets only the workload's own pods carry
// its label.
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { WorkloadConfig } from "../../config";
import { celString, denyingPolicy } from "./admission";
import { CRD_GUARD_POLICY_NAME } from "./crdGuard";
import type { ModePods } from "./driver";

/**
 * Where a pod's token request really goes in the pod-identity modes. NMI (the open-source project's
 * and the add-on's) listens on 127.0.0.1:2579 and DNATs pod traffic for 169.254.169.254:80 there
 * (Azure/aad-pod-identity cmd/nmi/main.go `defaultNmiHost`, pkg/nmi/iptables/iptables.go); Calico
 * applies a pod's egress policy to the address after that DNAT, so the policy must admit this one
 * (aad-pod-identity troubleshooting: "ensure there is a network policy that allows traffic to
 * 127.0.0.1:2579"). Admitting 169.254.169.254 itself would only let a pod past a missing NMI to the
 * node's own identity.
 */
export const NMI_ENDPOINT = { cidr: "127.0.0.1/32", port: 2579 } as const;

/**
 * Pods in both pod-identity modes: the `aadpodidbinding` label claims the identity, the CSI driver
 * asks for tokens as the mounting pod (`usePodIdentity`), the token comes from NMI, and a pod without
 * the label must be refused.
 */
export const POD_IDENTITY_PODS: ModePods = {
    labels: (workload) => ({ aadpodidbinding: workload.bindingSelector }),
    serviceAccountAnnotations: () => ({}),
    secretProviderIdentity: () => ({ usePodIdentity: "true" }),
    tokenEgress: [{ to: [{ ipBlock: { cidr: NMI_ENDPOINT.cidr } }], ports: [{ protocol: "TCP", port: NMI_ENDPOINT.port }] }],
    tokenSource: "imds",
    passClientId: true,
    impostor: { checks: ["labelledPod", "azureIdentity", "podIdentityException"], labelGuardPolicy: (workload) => labelGuardPolicyName(workload), crdGuardPolicy: CRD_GUARD_POLICY_NAME },
    unbound: { labels: () => ({}), serviceAccountAnnotations: () => ({}) },
};

/**
 * The label guard: a pod may carry `aadpodidbinding: <selector>` only in the workload's namespace and
 * as the workload's service account. Without it any pod in any namespace could claim the identity by
 * setting the label (Azure/aad-pod-identity#106). Exported for testing.
 */
export function labelGuardValidation(workload: { bindingSelector: string; namespace: string; serviceAccount: string }) {
    const selector = celString(workload.bindingSelector);
    const claims = `has(object.metadata.labels) && 'aadpodidbinding' in object.metadata.labels && object.metadata.labels['aadpodidbinding'] == ${selector}`;
    const allowed = `request.namespace == ${celString(workload.namespace)} && object.spec.serviceAccountName == ${celString(workload.serviceAccount)}`;
    return {
        expression: `!(${claims}) || (${allowed})`,
        messageExpression:
            celString(
                `pods labelled aadpodidbinding=${workload.bindingSelector} must run in namespace ${workload.namespace} as service account ${workload.serviceAccount}; this pod is in namespace `,
            ) + ` + request.namespace + ' as service account ' + object.spec.serviceAccountName`,
        reason: "Forbidden",
    };
}

/** Name of the workload's label guard (its ValidatingAdmissionPolicy and binding). */
export function labelGuardPolicyName(workload: Pick<WorkloadConfig, "name">): string {
    return `aadpodidbinding-guard-${workload.name}`;
}

/** Registers the workload's label guard (a ValidatingAdmissionPolicy and its binding); returns the binding, which pods wait for. */
export function labelGuard(name: string, workload: WorkloadConfig, opts: { parent: pulumi.Resource; provider: k8s.Provider }): pulumi.Resource {
    const policyName = labelGuardPolicyName(workload);
    const labels = { "app.kubernetes.io/managed-by": "pulumi", "aks-identity-vault/workload": workload.name };
    return denyingPolicy(
        { policy: `${name}-label-guard`, binding: `${name}-label-guard-binding` },
        policyName,
        labels,
        {
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] }] },
            validations: [labelGuardValidation(workload)],
        },
        opts,
    );
}
