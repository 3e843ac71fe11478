// One workload's identity wiring inside the cluster: its namespace and service account, what its
// identity mode binds (the mode's driver adds it: components/modes/), and the SecretProviderClass
// through which the CSI driver mounts its Key Vault objects as the workload's identity.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { WorkloadConfig } from "../config";
import type { BoundIdentity, ModeDeployment, ModePods } from "./modes/driver";

/** The Key Vault objects the workload mounts. */
export interface BindingVault {
    vaultName: pulumi.Input<string>;
    tenantId: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    keyName: pulumi.Input<string>;
}

export interface PodIdentityBindingArgs {
    workload: WorkloadConfig;
    /** The workload's Azure identity. */
    identity: BoundIdentity;
    /** The stack's identity mode, which adds its resources for the workload. */
    mode: ModeDeployment;
    /** The demo's Key Vault objects, which a SecretProviderClass mounts; none, and no class, without the demo. */
    vault: BindingVault | undefined;
    /** Kubernetes provider of the cluster. */
    provider: k8s.Provider;
    /** Azure cloud name for the Key Vault provider. Defaults to "AzurePublicCloud". */
    cloudName?: string;
    /** Subnet of the private endpoints: the only HTTPS destination inside the VNet the namespace's pods may reach. */
    privateEndpointSubnetPrefix: string;
    /** With egress through the firewall, the egress proof's address, which the workload's pods may try. Defaults to none. */
    egressProbe?: { address: string; port: number };
}

/** Labels every workload namespace carries: Pod Security Standards "restricted", enforced. */
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

/**
 * The namespace's baseline: every pod in it selected, nothing in or out. NetworkPolicies only ever add
 * to what is allowed, so each allowance below is a policy of its own (Kubernetes docs, network
 * policies: "Default deny all ingress and all egress traffic"). Exported for testing.
 */
export function defaultDenyPolicySpec() {
    return { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [], egress: [] };
}

/** Egress to the cluster DNS (CoreDNS in kube-system), which every pod that resolves a name needs. */
export const DNS_EGRESS_RULE = {
    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
    ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
    ],
};

/**
 * What the workload's pods legitimately need, each an explicit egress rule, and no ingress: the
 * cluster DNS; HTTPS to the private endpoints (the vault and the blob endpoint); and the identity
 * mode's token path (`tokenEgress`: NMI where it redirects the metadata endpoint, or Microsoft Entra
 * ID). Exported for testing.
 */
export function workloadEgressPolicySpec(args: { pods: ModePods; privateEndpointSubnetPrefix: string; egressProbe?: { address: string; port: number } }) {
    // With the firewall, the egress proof's address is admitted here so that the firewall, and only the
    // firewall, is what refuses it.
    const probe = args.egressProbe === undefined ? [] : [{ to: [{ ipBlock: { cidr: `${args.egressProbe.address}/32` } }], ports: [{ protocol: "TCP", port: args.egressProbe.port }] }];
    return {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [],
        egress: [DNS_EGRESS_RULE, { to: [{ ipBlock: { cidr: args.privateEndpointSubnetPrefix } }], ports: [{ protocol: "TCP", port: 443 }] }, ...args.pods.tokenEgress, ...probe],
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
 * The SecretProviderClass spec: the identity parameters the mode gives (as the mounting pod, or the
 * identity of a Workload ID client id), never the node's identity. Exported for testing.
 */
export function secretProviderClassSpec(args: {
    pods: ModePods;
    clientId: string;
    vaultName: string;
    tenantId: string;
    secretName: string;
    keyName: string;
    cloudName: string;
    /** Mirror the secret into a Kubernetes Secret (the workload's `syncSecret`). */
    syncSecret: boolean;
}) {
    return {
        provider: "azure",
        parameters: {
            ...args.pods.secretProviderIdentity(args.clientId),
            useVMManagedIdentity: "false",
            keyvaultName: args.vaultName,
            // `tenantId` is the deprecated spelling (secrets-store-csi-driver-provider-azure pkg/provider/types).
            tenantID: args.tenantId,
            cloudName: args.cloudName,
            objects: secretProviderObjects([
                { objectName: args.secretName, objectType: "secret" },
                { objectName: args.keyName, objectType: "key" },
            ]),
        },
        // Only when the workload asks: mirrored into a Kubernetes Secret (in etcd) while a pod mounts
        // the volume. Otherwise the secret reaches pods only as the mounted file.
        ...(args.syncSecret ? { secretObjects: [{ secretName: args.secretName, type: "Opaque", data: [{ objectName: args.secretName, key: SYNCED_SECRET_KEY }] }] } : {}),
    };
}

/** The key of the workload's secret in the Kubernetes Secret the SecretProviderClass mirrors it into (named as the vault's secret). */
export const SYNCED_SECRET_KEY = "value";

export class PodIdentityBinding extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    /** The service account the workload's pods run as. */
    public readonly serviceAccountName: pulumi.Output<string>;
    /** Name of the SecretProviderClass in the namespace. */
    public readonly secretProviderClassName: pulumi.Output<string> | undefined;
    /** What pods need before they can use the identity in this mode. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: PodIdentityBindingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:binding:PodIdentityBinding", name, {}, opts);
        const { workload, mode } = args;
        const k8sOpts = { parent: this, provider: args.provider };

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: workload.namespace, labels: namespaceLabels(workload.name) } }, k8sOpts);
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-service-account`,
            {
                metadata: {
                    name: workload.serviceAccount,
                    namespace: namespace.metadata.name,
                    labels: { "app.kubernetes.io/managed-by": "pulumi", "aks-identity-vault/workload": workload.name },
                    annotations: mode.pods.serviceAccountAnnotations(args.identity.clientId),
                },
                // Pods use an Azure identity, not the Kubernetes API.
                automountServiceAccountToken: false,
            },
            k8sOpts,
        );

        // Nothing moves in the namespace unless allowed; the workload's pods may reach what they need.
        const policyLabels = { "app.kubernetes.io/managed-by": "pulumi", "aks-identity-vault/workload": workload.name };
        const defaultDeny = new k8s.networking.v1.NetworkPolicy(
            `${name}-default-deny`,
            { metadata: { name: "default-deny", namespace: namespace.metadata.name, labels: policyLabels }, spec: defaultDenyPolicySpec() },
            k8sOpts,
        );
        const egress = new k8s.networking.v1.NetworkPolicy(
            `${name}-workload-egress`,
            {
                metadata: { name: "workload-egress", namespace: namespace.metadata.name, labels: policyLabels },
                spec: workloadEgressPolicySpec({ pods: mode.pods, privateEndpointSubnetPrefix: args.privateEndpointSubnetPrefix, egressProbe: args.egressProbe }),
            },
            k8sOpts,
        );

        const ready = [...mode.bind({ name, workload, identity: args.identity, namespace, opts: k8sOpts }), defaultDeny, egress];

        if (args.vault !== undefined) {
            const vault = args.vault;
            const spec = pulumi.all([args.identity.clientId, vault.vaultName, vault.tenantId, vault.secretName, vault.keyName]).apply(([clientId, vaultName, tenantId, secretName, keyName]) =>
                secretProviderClassSpec({
                    pods: mode.pods,
                    clientId,
                    vaultName,
                    tenantId,
                    secretName,
                    keyName,
                    cloudName: args.cloudName ?? "AzurePublicCloud",
                    syncSecret: workload.syncSecret,
                }),
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
            this.secretProviderClassName = secretProviderClass.metadata.name;
        } else {
            this.secretProviderClassName = undefined;
        }

        this.namespace = namespace.metadata.name;
        this.serviceAccountName = serviceAccount.metadata.name;
        this.ready = ready;
        this.registerOutputs({ namespace: this.namespace, serviceAccountName: this.serviceAccountName, secretProviderClassName: this.secretProviderClassName });
    }
}
