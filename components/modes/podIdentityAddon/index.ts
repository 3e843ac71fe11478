// identityMode podIdentityAddon: the AKS pod-identity add-on. Per workload, the cluster's own
// (control-plane) identity is made Managed Identity Operator on the workload identity, which the add-on
// assigns to the nodes as that identity, and the grant gets time to apply; once every workload is
// bound, one PodIdentities resource writes all their entries in one cluster update
// (podIdentities.ts over the ARM logic of arm.ts). Pods claim the identity with the aadpodidbinding
// label, which the label guard reserves for the workload's own pods.
import { IDENTITY_MODE_CATALOG } from "../../../identityModes";
import { grantRole } from "../../roles";
import { ROLE_PROPAGATION_SECONDS, RolePropagationDelay } from "../../waits";
import { crdGuard } from "../crdGuard";
import type { AllowedException, GuardedWorkloadInput } from "../crdGuard";
import type { IdentityModeDriver, ModeDeployment, ModeStackArgs } from "../driver";
import { labelGuard, POD_IDENTITY_PODS as PODS } from "../podIdentityCommon";
import { PodIdentities, podIdentityKey } from "./podIdentities";
import type { PodIdentityInput } from "./podIdentities";

/** The entries the workloads add, and the waits the write must come after. */
interface Pending {
    key: string;
    entry: PodIdentityInput;
    after: RolePropagationDelay;
}

/**
 * The exception AKS adds for its own add-ons when the pod-identity add-on is on (AKS docs,
 * use-azure-ad-pod-identity: "an AzurePodIdentityException named aks-addon-exception is added to the
 * kube-system namespace"), with the label AKS's add-on pods carry.
 */
export const ADDON_EXCEPTIONS: AllowedException[] = [{ namespace: "kube-system", name: "aks-addon-exception", podLabels: { "kubernetes.azure.com/managedby": "aks" } }];

function deploy(stack: ModeStackArgs): ModeDeployment {
    const pending: Pending[] = [];
    const guarded: GuardedWorkloadInput[] = [];
    return {
        pods: PODS,
        bind: ({ name, workload, identity, namespace, opts }) => {
            // What `az aks pod-identity add` grants before it adds the entry: the add-on assigns the
            // identity to the nodes as the cluster's own (control-plane) identity, and AKS uses the grant
            // during the update, so the update waits for it to apply.
            const operator = grantRole(
                `${name}-control-plane-operator`,
                {
                    principalId: stack.cluster.controlPlaneObjectId,
                    role: "managedIdentityOperator",
                    scope: identity.resourceId,
                    subscriptionId: stack.subscriptionId,
                    description: `The AKS pod-identity add-on assigns workload ${workload.name}'s identity to the nodes.`,
                },
                { parent: opts.parent },
            );
            const propagation = new RolePropagationDelay(
                `${name}-operator-propagation`,
                {
                    seconds: stack.rolePropagationSeconds ?? ROLE_PROPAGATION_SECONDS,
                    reason: "AKS assigns the pod identity as the control-plane identity; az aks pod-identity add waits 30 s after this grant for it to apply (azure-cli-extensions aks-preview _podidentity.py).",
                    grants: [operator.id],
                },
                { parent: opts.parent, dependsOn: [operator] },
            );
            pending.push({
                key: podIdentityKey(workload),
                entry: {
                    name: workload.name,
                    namespace: namespace.metadata.name,
                    bindingSelector: workload.bindingSelector,
                    identity: { resourceId: identity.resourceId, clientId: identity.clientId, objectId: identity.principalId },
                },
                after: propagation,
            });
            guarded.push({ namespace: workload.namespace, bindingSelector: workload.bindingSelector, identityType: identity.type, clientId: identity.clientId, resourceId: identity.resourceId });
            return [operator, propagation, labelGuard(name, workload, opts)];
        },
        complete: () => [
            // The add-on runs NMI alone (managed mode): AKS writes each AzureIdentity and binding from the
            // cluster's entries, and nothing writes the group's other kinds.
            crdGuard("aks-pod-identity-guard", { workloads: guarded, exceptions: ADDON_EXCEPTIONS, controllers: [] }, { parent: stack.cluster.component, provider: stack.cluster.provider }),
            ...(pending.length === 0
                ? []
                : [
                      new PodIdentities(
                          "aks-pod-identities",
                          {
                              subscriptionId: stack.subscriptionId,
                              resourceGroupName: stack.resourceGroupName,
                              clusterName: stack.cluster.clusterName,
                              clusterRevision: stack.cluster.revision,
                              identities: Object.fromEntries(pending.map((p) => [p.key, p.entry])),
                          },
                          { parent: stack.cluster.component, dependsOn: [...pending.map((p) => p.after), ...stack.cluster.writes] },
                      ),
                  ]),
        ],
    };
}

export const podIdentityAddon: IdentityModeDriver<"podIdentityAddon"> = {
    name: "podIdentityAddon",
    ...IDENTITY_MODE_CATALOG.podIdentityAddon,
    warning:
        "identityMode podIdentityAddon uses the AKS pod-identity add-on, which Microsoft has deprecated (support ended September 2025) in favour of Microsoft Entra Workload ID; the subscription needs the EnablePodIdentityPreview feature. Plan the move to identityMode workloadIdentity.",
    cluster: { podIdentityAddon: true, workloadIdentity: false },
    // NMI runs on the host network with NET_ADMIN: the add-on's in kube-system, which the initiative already leaves alone.
    // NMI (kube-system) asks the node's IMDS, which reaches Entra ID from the host.
    egress: { podsCallEntra: false, podsCallApiServer: false },
    privilegedNamespaces: [],
    pods: PODS,
    deploy,
};
