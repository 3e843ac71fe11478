// identityMode podIdentityOss: the open-source aad-pod-identity, installed once per cluster
// (aadPodIdentity.ts). Per workload, a namespaced AzureIdentity (type 0 for a managed identity, which
// MIC assigns to the nodes as the kubelet identity, so the kubelet is made Managed Identity Operator on
// it; type 1 for a service principal, whose password NMI reads from a Secret) and its
// AzureIdentityBinding. Pods claim the identity with the aadpodidbinding label, which the label guard
// reserves for the workload's own pods.
import { IDENTITY_MODE_CATALOG } from "../../../identityModes";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { grantRole } from "../../roles";
import { crdGuard } from "../crdGuard";
import type { GuardedWorkloadInput } from "../crdGuard";
import type { IdentityModeDriver, ModeDeployment, ModeStackArgs, WorkloadBinding } from "../driver";
import { labelGuard, POD_IDENTITY_PODS as PODS } from "../podIdentityCommon";
import { AadPodIdentity, MIC_SERVICE_ACCOUNT, ossExceptions } from "./aadPodIdentity";

/** AzureIdentity (type 0 managed identity, type 1 service principal with its secret) and its binding, after `dependsOn`. */
function azureIdentity(binding: WorkloadBinding, tenantId: pulumi.Input<string>, dependsOn: pulumi.Resource[]): pulumi.Resource[] {
    const { name, workload, identity, namespace, opts } = binding;
    const crOpts = { ...opts, dependsOn };
    const labels = { "app.kubernetes.io/managed-by": "pulumi", "aks-identity-vault/workload": workload.name };
    let identitySpec: Record<string, pulumi.Input<string | number | Record<string, pulumi.Input<string>>>>;
    const created: pulumi.Resource[] = [];
    if (identity.type === "managedIdentity") {
        identitySpec = { type: 0, resourceID: identity.resourceId, clientID: identity.clientId };
    } else {
        // The password lives only here (and, encrypted, in the stack's state); NMI reads it.
        const secret = new k8s.core.v1.Secret(
            `${name}-service-principal-secret`,
            {
                metadata: { name: `${workload.name}-service-principal`, namespace: namespace.metadata.name, labels },
                type: "Opaque",
                stringData: { clientSecret: identity.clientSecret ?? "" },
            },
            opts,
        );
        created.push(secret);
        identitySpec = { type: 1, clientID: identity.clientId, tenantID: tenantId, clientPassword: { name: secret.metadata.name, namespace: namespace.metadata.name } };
    }
    const azureIdentity = new k8s.apiextensions.CustomResource(
        `${name}-azure-identity`,
        { apiVersion: "aadpodidentity.k8s.io/v1", kind: "AzureIdentity", metadata: { name: workload.name, namespace: namespace.metadata.name, labels }, spec: identitySpec },
        { ...crOpts, dependsOn: [...dependsOn, ...created] },
    );
    const azureIdentityBinding = new k8s.apiextensions.CustomResource(
        `${name}-azure-identity-binding`,
        {
            apiVersion: "aadpodidentity.k8s.io/v1",
            kind: "AzureIdentityBinding",
            metadata: { name: `${workload.name}-binding`, namespace: namespace.metadata.name, labels },
            spec: { azureIdentity: azureIdentity.metadata.name, selector: workload.bindingSelector },
        },
        crOpts,
    );
    return [...created, azureIdentity, azureIdentityBinding];
}

function deploy(stack: ModeStackArgs): ModeDeployment {
    const platform = new AadPodIdentity("aad-pod-identity", {
        subscriptionId: stack.subscriptionId,
        nodeResourceGroup: stack.cluster.nodeResourceGroup,
        kubeletObjectId: stack.cluster.kubeletObjectId,
        provider: stack.cluster.provider,
        after: stack.cluster.egressReady,
    });
    const guarded: GuardedWorkloadInput[] = [];
    return {
        pods: PODS,
        bind: (binding) => {
            const { workload, identity } = binding;
            guarded.push({ namespace: workload.namespace, bindingSelector: workload.bindingSelector, identityType: identity.type, clientId: identity.clientId, resourceId: identity.resourceId });
            const ready: pulumi.Resource[] = [];
            if (binding.identity.type === "managedIdentity") {
                // aad-pod-identity's MIC runs with the kubelet's credentials and assigns the identity to the nodes.
                ready.push(
                    grantRole(
                        `${binding.name}-kubelet-operator`,
                        {
                            principalId: stack.cluster.kubeletObjectId,
                            role: "managedIdentityOperator",
                            scope: binding.identity.resourceId,
                            subscriptionId: stack.subscriptionId,
                            description: `The cluster's kubelet assigns workload ${binding.workload.name}'s identity to the nodes.`,
                        },
                        { parent: binding.opts.parent },
                    ),
                );
            }
            ready.push(...azureIdentity(binding, stack.tenantId, [...ready, platform.release, platform.nodeGrant]));
            return [...ready, labelGuard(binding.name, binding.workload, binding.opts)];
        },
        // MIC keeps the AzureAssignedIdentity objects; the deployer writes the workloads' objects and,
        // through the chart, the exceptions.
        complete: () => [
            crdGuard("aad-pod-identity-guard", { workloads: guarded, exceptions: ossExceptions(), controllers: [MIC_SERVICE_ACCOUNT] }, { parent: platform, provider: stack.cluster.provider }),
        ],
    };
}

export const podIdentityOss: IdentityModeDriver<"podIdentityOss"> = {
    name: "podIdentityOss",
    ...IDENTITY_MODE_CATALOG.podIdentityOss,
    warning: "identityMode podIdentityOss installs the open-source aad-pod-identity, archived since October 2023 and no longer patched. Plan the move to identityMode workloadIdentity.",
    cluster: { podIdentityAddon: false, workloadIdentity: false },
    // MIC and NMI watch the API server from aad-pod-identity; NMI asks the node's IMDS for tokens.
    egress: { podsCallEntra: false, podsCallApiServer: true },
    // NMI runs on the host network with NET_ADMIN in aad-pod-identity.
    privilegedNamespaces: ["aad-pod-identity"],
    pods: PODS,
    deploy,
};
