// The open-source aad-pod-identity (MIC and NMI), installed from its Helm chart for identityMode
// podIdentityOss: namespaced, so an identity serves only pods in its own namespace, and refusing to run
// on kubenet. MIC assigns identities to the node scale set with the kubelet identity, which gets a
// role of MIC's own two actions on the node resource group ("Managed Identity Operator" on each
// workload identity is granted per workload by the driver, index.ts in this folder).
import * as authorization from "@pulumi/azure-native/authorization";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { grantRole } from "../../roles";
import type { AllowedException } from "../crdGuard";

/**
 * The chart, pinned: the last release of the project, which was archived in October 2023, fetched from
 * the commit that added it (Azure/aad-pod-identity tag v1.8.17), which cannot change, rather than the
 * repository's index on its `master` branch, which names the same file by the branch. The index gives
 * its sha256 as ffc6d41aa3d8a4e36bfff77332f433e0288324051224bc8183584cc2f991fa28.
 */
export const AAD_POD_IDENTITY_CHART = {
    chart: "https://raw.githubusercontent.com/Azure/aad-pod-identity/d17ea6a41aed5284fda895d6d48f50cc5f9f175f/charts/aad-pod-identity-4.1.18.tgz",
    version: "4.1.18",
} as const;

/**
 * How often MIC retries an identity assignment that failed: MIC retries one only in its next sync
 * cycle, which a Kubernetes event or its periodic sync starts, every 3600 s unless set
 * (Azure/aad-pod-identity cmd/mic/main.go `syncRetryDuration`). An assignment tried before the
 * kubelet's grants apply would otherwise wait up to an hour, past the verification Jobs' deadline.
 */
export const MIC_SYNC_RETRY_DURATION = "60s";

/** Chart values: namespaced matching, the kubenet guard and MIC's retries. Exported for testing. */
export function aadPodIdentityValues() {
    return {
        // The chart reads this as a string.
        forceNamespaced: "true",
        nmi: { allowNetworkPluginKubenet: false },
        mic: { syncRetryDuration: MIC_SYNC_RETRY_DURATION },
        installMICException: "true",
        rbac: { enabled: true },
    };
}

/** The namespace and release name of the chart: the chart names MIC's service account `<release>-mic`. */
const RELEASE = "aad-pod-identity";

/**
 * The Kubernetes user MIC writes as: the chart's service account `<name>-mic` in the release's
 * namespace (Azure/aad-pod-identity charts/aad-pod-identity/templates/_helper.tpl, mic-deployment.yaml).
 */
export const MIC_SERVICE_ACCOUNT = `system:serviceaccount:${RELEASE}:${RELEASE}-mic`;

/**
 * What MIC does on the node resource group, and nothing more: it reads a node scale set and updates
 * its identities (Azure/aad-pod-identity pkg/cloudprovider/vmss.go: `Get`, then `Update` with the
 * scale set's `Identity`; the troubleshooting page names the refusal of `Microsoft.Compute/<VMType>/write`
 * on the scale set). AKS runs every pool as a scale set, so no single VM is touched; assigning an
 * identity also needs `userAssignedIdentities/assign/action` on the identity, which Managed Identity
 * Operator on each workload identity gives. Virtual Machine Contributor, which aad-pod-identity's docs
 * suggest, adds run-command, extensions, disks and network interfaces on every node. Exported for testing.
 */
export const MIC_NODE_ACTIONS = ["Microsoft.Compute/virtualMachineScaleSets/read", "Microsoft.Compute/virtualMachineScaleSets/write"] as const;

/** The label AKS puts on its add-ons' pods in kube-system. */
export const AKS_ADDON_POD_LABELS: Readonly<Record<string, string>> = { "kubernetes.azure.com/managedby": "aks" };

/**
 * The exceptions this mode needs, as they are written: the chart's `mic` (MIC's own pods, in standard
 * mode) and `aks-addon-exception` for AKS's add-ons (charts/aad-pod-identity/templates/mic-exception.yaml,
 * `installMICException`). Exported for the guard.
 */
export function ossExceptions(): AllowedException[] {
    return [
        { namespace: RELEASE, name: "mic", podLabels: { app: "mic", component: "mic", "app.kubernetes.io/component": "mic" } },
        { namespace: "kube-system", name: "aks-addon-exception", podLabels: AKS_ADDON_POD_LABELS },
    ];
}

export interface AadPodIdentityArgs {
    subscriptionId: pulumi.Input<string>;
    /** Resource group AKS created for the nodes (their scale set lives there). */
    nodeResourceGroup: pulumi.Input<string>;
    /** Object id of the cluster's kubelet identity, which MIC acts as. */
    kubeletObjectId: pulumi.Input<string>;
    provider: k8s.Provider;
    /** What MIC and NMI need outside the cluster before they start (the firewall's rule to the API server). Defaults to none. */
    after?: pulumi.Resource[];
}

export class AadPodIdentity extends pulumi.ComponentResource {
    /** The Helm release: its CRDs must exist before AzureIdentity and AzureIdentityBinding objects. */
    public readonly release: k8s.helm.v3.Release;
    /** The kubelet's grant on the node resource group. */
    public readonly nodeGrant: pulumi.Resource;
    /** What lets AKS's own add-ons reach the metadata endpoint past NMI. */
    public readonly addonException: k8s.apiextensions.CustomResource;

    constructor(name: string, args: AadPodIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:podidentity:AadPodIdentity", name, {}, opts);

        // NMI runs on the host network with NET_ADMIN to redirect the metadata endpoint: this namespace
        // must admit privileged pods, and nothing else runs in it.
        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: RELEASE,
                    labels: {
                        "app.kubernetes.io/managed-by": "pulumi",
                        "pod-security.kubernetes.io/enforce": "privileged",
                        "pod-security.kubernetes.io/warn": "privileged",
                    },
                },
            },
            { parent: this, provider: args.provider },
        );

        // A role of MIC's own actions, assignable in the node resource group only; its id is a GUID
        // Pulumi generates once and keeps in state, its name unique in the tenant by the group's name.
        const nodeGroup = pulumi.interpolate`/subscriptions/${args.subscriptionId}/resourceGroups/${args.nodeResourceGroup}`;
        const micRole = new authorization.RoleDefinition(
            `${name}-mic-role`,
            {
                scope: nodeGroup,
                roleName: pulumi.interpolate`aad-pod-identity MIC (${args.nodeResourceGroup})`,
                description: "aad-pod-identity's MIC reads the node scale sets and updates their identities; nothing else.",
                roleType: "CustomRole",
                permissions: [{ actions: [...MIC_NODE_ACTIONS], notActions: [], dataActions: [], notDataActions: [] }],
                assignableScopes: [nodeGroup],
            },
            { parent: this },
        );
        this.nodeGrant = grantRole(
            `${name}-kubelet-mic-role`,
            {
                principalId: args.kubeletObjectId,
                // The tenant-wide form of the definition's id, as role assignments name every role.
                role: { definitionId: pulumi.interpolate`/subscriptions/${args.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${micRole.name}` },
                scope: nodeGroup,
                subscriptionId: args.subscriptionId,
                description: "aad-pod-identity's MIC assigns workload identities to the node scale sets.",
            },
            { parent: this },
        );

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: RELEASE,
                chart: AAD_POD_IDENTITY_CHART.chart,
                version: AAD_POD_IDENTITY_CHART.version,
                namespace: namespace.metadata.name,
                values: aadPodIdentityValues(),
                atomic: true,
                cleanupOnFail: true,
            },
            { parent: this, provider: args.provider, dependsOn: [this.nodeGrant, ...(args.after ?? [])] },
        );

        // NMI intercepts every pod's call to the metadata endpoint, AKS's own add-ons' too (Azure Policy,
        // Defender, the Key Vault provider), which authenticate with managed identities bound to no
        // AzureIdentity. The exception lets AKS's add-on pods through, as the AKS pod-identity add-on does
        // with the same object ("failure to apply mic-exception.yaml in AKS clusters will result in token
        // failures for AKS addons", Azure/aad-pod-identity docs, getting-started; AKS docs,
        // use-azure-ad-pod-identity). The chart's installMICException covers MIC only.
        this.addonException = new k8s.apiextensions.CustomResource(
            `${name}-aks-addon-exception`,
            {
                apiVersion: "aadpodidentity.k8s.io/v1",
                kind: "AzurePodIdentityException",
                metadata: { name: "aks-addon-exception", namespace: "kube-system" },
                spec: { podLabels: AKS_ADDON_POD_LABELS },
            },
            { parent: this, provider: args.provider, dependsOn: [this.release] },
        );

        this.registerOutputs({ release: this.release.status });
    }
}
