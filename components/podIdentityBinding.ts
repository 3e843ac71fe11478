// One workload's identity wiring inside the cluster: its namespace, its pod identity (attached to
// the cluster after creation, as the add-on requires), the kubelet's right to assign that identity
// to the nodes, and the SecretProviderClass through which the CSI driver mounts its Key Vault
// objects with the pod's own identity.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { WorkloadConfig } from "../config";
import { PodIdentityAttachment } from "./podIdentityAttachment";
import { grantRole } from "./roles";

/** The workload's user-assigned identity. */
export interface BoundIdentity {
    resourceId: pulumi.Input<string>;
    clientId: pulumi.Input<string>;
    /** Object id of its service principal. */
    principalId: pulumi.Input<string>;
}

/** The cluster the identity is bound in. */
export interface BindingCluster {
    subscriptionId: pulumi.Input<string>;
    resourceGroupName: pulumi.Input<string>;
    clusterName: pulumi.Input<string>;
    /** See AksCluster.revision: a change re-asserts the pod identity after a cluster update. */
    revision: string;
    /** Object id of the kubelet identity, which assigns workload identities to the nodes. */
    kubeletObjectId: pulumi.Input<string>;
}

/** The Key Vault objects the workload mounts. */
export interface BindingVault {
    vaultName: pulumi.Input<string>;
    tenantId: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    keyName: pulumi.Input<string>;
}

export interface PodIdentityBindingArgs {
    workload: WorkloadConfig;
    identity: BoundIdentity;
    cluster: BindingCluster;
    vault: BindingVault;
    /** Kubernetes provider of the cluster. */
    provider: k8s.Provider;
    /** Azure cloud name for the Key Vault provider. Defaults to "AzurePublicCloud". */
    cloudName?: string;
}

/** Labels every namespace of this stack carries: Pod Security Standards "restricted", enforced. */
export function namespaceLabels(workload: string): Record<string, string> {
    return {
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "aks-identity-vault",
        "aks-identity-vault/workload": workload,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    };
}

/** One Key Vault object the CSI driver fetches. */
export interface VaultObject {
    objectName: string;
    objectType: "secret" | "key" | "cert";
}

/**
 * The `objects` parameter of an Azure SecretProviderClass: a YAML document whose `array` lists one
 * YAML string per object (the provider's documented format). Exported for testing.
 */
export function secretProviderObjects(objects: VaultObject[]): string {
    return stringify({ array: objects.map((o) => stringify({ objectName: o.objectName, objectType: o.objectType, objectVersion: "" })) });
}

/**
 * The SecretProviderClass spec for the pod-identity modes: the CSI driver asks for tokens as the
 * mounting pod (`usePodIdentity`), never as the node. Exported for testing.
 */
export function secretProviderClassSpec(args: { vaultName: string; tenantId: string; secretName: string; keyName: string; cloudName: string }) {
    return {
        provider: "azure",
        parameters: {
            usePodIdentity: "true",
            useVMManagedIdentity: "false",
            keyvaultName: args.vaultName,
            tenantId: args.tenantId,
            cloudName: args.cloudName,
            objects: secretProviderObjects([
                { objectName: args.secretName, objectType: "secret" },
                { objectName: args.keyName, objectType: "key" },
            ]),
        },
        // Mirrored into a Kubernetes Secret while a pod mounts the volume.
        secretObjects: [{ secretName: args.secretName, type: "Opaque", data: [{ objectName: args.secretName, key: "value" }] }],
    };
}

export class PodIdentityBinding extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    /** Name of the SecretProviderClass in the namespace. */
    public readonly secretProviderClassName: pulumi.Output<string>;
    /** What pods need before they can use the identity: the attachment and the kubelet's grant. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: PodIdentityBindingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:binding:PodIdentityBinding", name, {}, opts);
        const { workload } = args;
        const k8sOpts = { parent: this, provider: args.provider };

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: workload.namespace, labels: namespaceLabels(workload.name) } },
            k8sOpts,
        );

        // `az aks pod-identity add` grants this too: the kubelet assigns the identity to the nodes.
        const kubeletGrant = grantRole(
            `${name}-kubelet-operator`,
            {
                principalId: args.cluster.kubeletObjectId,
                role: "managedIdentityOperator",
                scope: args.identity.resourceId,
                subscriptionId: args.cluster.subscriptionId,
                description: `The cluster's kubelet assigns workload ${workload.name}'s identity to the nodes.`,
            },
            { parent: this },
        );

        const attachment = new PodIdentityAttachment(
            `${name}-pod-identity`,
            {
                subscriptionId: args.cluster.subscriptionId,
                resourceGroupName: args.cluster.resourceGroupName,
                clusterName: args.cluster.clusterName,
                clusterRevision: args.cluster.revision,
                name: workload.name,
                namespace: namespace.metadata.name,
                bindingSelector: workload.bindingSelector,
                identity: { resourceId: args.identity.resourceId, clientId: args.identity.clientId, objectId: args.identity.principalId },
            },
            { parent: this, dependsOn: [kubeletGrant] },
        );

        const spec = pulumi
            .all([args.vault.vaultName, args.vault.tenantId, args.vault.secretName, args.vault.keyName])
            .apply(([vaultName, tenantId, secretName, keyName]) =>
                secretProviderClassSpec({ vaultName, tenantId, secretName, keyName, cloudName: args.cloudName ?? "AzurePublicCloud" }),
            );
        const secretProviderClass = new k8s.apiextensions.CustomResource(
            `${name}-secret-provider`,
            {
                apiVersion: "secrets-store.csi.x-k8s.io/v1",
                kind: "SecretProviderClass",
                metadata: { name: `${workload.name}-keyvault`, namespace: namespace.metadata.name, labels: { "app.kubernetes.io/managed-by": "pulumi" } },
                spec,
            },
            k8sOpts,
        );

        this.namespace = namespace.metadata.name;
        this.secretProviderClassName = secretProviderClass.metadata.name;
        this.ready = [attachment, kubeletGrant];
        this.registerOutputs({ namespace: this.namespace, secretProviderClassName: this.secretProviderClassName });
    }
}
