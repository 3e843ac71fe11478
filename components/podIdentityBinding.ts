// One workload's identity wiring inside the cluster, in the identity mode of the stack: its namespace
// and service account, the SecretProviderClass through which the CSI driver mounts its Key Vault
// objects, and what binds pods to its Azure identity:
// - podIdentityAddon: the control plane's right to assign the identity, and the entry the cluster's one
//   PodIdentities resource attaches to the add-on's list once that right applies;
// - podIdentityOss: AzureIdentity and AzureIdentityBinding objects (and the service principal's secret);
// - workloadIdentity: a federated identity credential that trusts the service account's tokens.
// In both pod-identity modes an admission policy lets only this workload's pods carry its label.
import { createHash } from "crypto";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { IdentityMode, IdentityType, WorkloadConfig } from "../config";
import type { PodIdentityInput } from "./modes/podIdentityAddon/podIdentities";
import { grantRole } from "./roles";
import { ROLE_PROPAGATION_SECONDS, RolePropagationDelay } from "./waits";

/** The workload's Azure identity. */
export interface BoundIdentity {
    type: IdentityType;
    /** ARM id of the managed identity (empty for a service principal). */
    resourceId: pulumi.Input<string>;
    /** Azure name of the managed identity (the parent of its federated credentials). */
    identityName: pulumi.Input<string>;
    clientId: pulumi.Input<string>;
    /** Object id of its service principal. */
    principalId: pulumi.Input<string>;
    /** Service principal password, for `servicePrincipal` identities. */
    clientSecret?: pulumi.Input<string>;
}

/** The cluster the identity is bound in. */
export interface BindingCluster {
    subscriptionId: pulumi.Input<string>;
    /** Object id of the control-plane identity, which assigns workload identities to the nodes in `podIdentityAddon` mode. */
    controlPlaneObjectId: pulumi.Input<string>;
    /** Object id of the kubelet identity, which aad-pod-identity's MIC assigns workload identities as in `podIdentityOss` mode. */
    kubeletObjectId: pulumi.Input<string>;
    /** The cluster's OIDC issuer URL, trusted by Workload ID's federated credentials. */
    oidcIssuerUrl: pulumi.Input<string>;
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
    identityMode: IdentityMode;
    identity: BoundIdentity;
    cluster: BindingCluster;
    vault: BindingVault;
    /** Resource group of the managed identity (for its federated credential). */
    identityResourceGroupName: pulumi.Input<string>;
    /** Kubernetes provider of the cluster. */
    provider: k8s.Provider;
    /** What the mode's machinery needs first (the aad-pod-identity release and its CRDs). */
    platform?: pulumi.Resource[];
    /** Azure cloud name for the Key Vault provider. Defaults to "AzurePublicCloud". */
    cloudName?: string;
    /**
     * Seconds the add-on's pod identity waits after the control plane's grant on the identity is
     * written. Defaults to ROLE_PROPAGATION_SECONDS (waits.ts), what `az aks pod-identity add` waits.
     */
    rolePropagationSeconds?: number;
}

/** Audience of tokens that Workload ID exchanges for Entra tokens. */
export const WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange";

/** What Azure accepts as a federated identity credential's name: 3-120 letters, digits, '-' and '_', alphanumeric first. */
export const FEDERATED_CREDENTIAL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;

/**
 * The federated credential's name: `<namespace>-<serviceAccount>`, which every name without a dot
 * already is (so existing credentials keep theirs). A dot, which service accounts may hold and Azure
 * refuses, becomes '_', which no Kubernetes name holds, so two accounts never share a name; a name
 * over 120 characters keeps its first 107 and a digest of the whole subject. Exported for testing.
 */
export function federatedCredentialName(namespace: string, serviceAccount: string): string {
    const name = `${namespace}-${serviceAccount}`.replace(/\./g, "_");
    if (name.length <= 120) {
        return name;
    }
    const digest = createHash("sha256").update(`system:serviceaccount:${namespace}:${serviceAccount}`).digest("hex").slice(0, 12);
    return `${name.slice(0, 107)}-${digest}`;
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
 * The SecretProviderClass spec. In the pod-identity modes the CSI driver asks for tokens as the
 * mounting pod (`usePodIdentity`); with Workload ID it exchanges the pod's service-account token for
 * the identity named by `clientID`. Never the node's identity. Exported for testing.
 */
export function secretProviderClassSpec(args: { identityMode: IdentityMode; clientId: string; vaultName: string; tenantId: string; secretName: string; keyName: string; cloudName: string }) {
    const identity = args.identityMode === "workloadIdentity" ? { usePodIdentity: "false", clientID: args.clientId } : { usePodIdentity: "true" };
    return {
        provider: "azure",
        parameters: {
            ...identity,
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
        // Mirrored into a Kubernetes Secret while a pod mounts the volume.
        secretObjects: [{ secretName: args.secretName, type: "Opaque", data: [{ objectName: args.secretName, key: "value" }] }],
    };
}

/** A CEL string literal. */
function celString(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

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

/** Labels a pod needs for its workload's identity in a mode. Exported for testing. */
export function identityPodLabels(identityMode: IdentityMode, bindingSelector: string): Record<string, string> {
    return identityMode === "workloadIdentity" ? { "azure.workload.identity/use": "true" } : { aadpodidbinding: bindingSelector };
}

export class PodIdentityBinding extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    /** The service account the workload's pods run as. */
    public readonly serviceAccountName: pulumi.Output<string>;
    /** Name of the SecretProviderClass in the namespace. */
    public readonly secretProviderClassName: pulumi.Output<string>;
    /** What pods need before they can use the identity in this mode. */
    public readonly ready: pulumi.Resource[];
    /** In `podIdentityAddon` mode: the entry to attach to the add-on, and what its write must wait for. */
    public readonly podIdentity?: { entry: PodIdentityInput; after: pulumi.Resource[] };

    constructor(name: string, args: PodIdentityBindingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:binding:PodIdentityBinding", name, {}, opts);
        const { workload, identityMode } = args;
        const k8sOpts = { parent: this, provider: args.provider };
        const managed = args.identity.type === "managedIdentity";

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: workload.namespace, labels: namespaceLabels(workload.name) } }, k8sOpts);
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-service-account`,
            {
                metadata: {
                    name: workload.serviceAccount,
                    namespace: namespace.metadata.name,
                    labels: { "app.kubernetes.io/managed-by": "pulumi", "aks-identity-vault/workload": workload.name },
                    annotations: identityMode === "workloadIdentity" ? { "azure.workload.identity/client-id": args.identity.clientId } : {},
                },
                // Pods use an Azure identity, not the Kubernetes API.
                automountServiceAccountToken: false,
            },
            k8sOpts,
        );

        const ready: pulumi.Resource[] = [];
        if (identityMode === "podIdentityOss" && managed) {
            // aad-pod-identity's MIC runs with the kubelet's credentials and assigns the identity to the nodes.
            ready.push(
                grantRole(
                    `${name}-kubelet-operator`,
                    {
                        principalId: args.cluster.kubeletObjectId,
                        role: "managedIdentityOperator",
                        scope: args.identity.resourceId,
                        subscriptionId: args.cluster.subscriptionId,
                        description: `The cluster's kubelet assigns workload ${workload.name}'s identity to the nodes.`,
                    },
                    { parent: this },
                ),
            );
        }

        if (identityMode === "podIdentityAddon") {
            // What `az aks pod-identity add` grants before it adds the entry: the add-on assigns the
            // identity to the nodes as the cluster's own (control-plane) identity, and AKS uses the grant
            // during the update, so the update waits for it to apply.
            const operator = grantRole(
                `${name}-control-plane-operator`,
                {
                    principalId: args.cluster.controlPlaneObjectId,
                    role: "managedIdentityOperator",
                    scope: args.identity.resourceId,
                    subscriptionId: args.cluster.subscriptionId,
                    description: `The AKS pod-identity add-on assigns workload ${workload.name}'s identity to the nodes.`,
                },
                { parent: this },
            );
            const propagation = new RolePropagationDelay(
                `${name}-operator-propagation`,
                {
                    seconds: args.rolePropagationSeconds ?? ROLE_PROPAGATION_SECONDS,
                    reason: "AKS assigns the pod identity as the control-plane identity; az aks pod-identity add waits 30 s after this grant for it to apply (azure-cli-extensions aks-preview _podidentity.py).",
                    grants: [operator.id],
                },
                { parent: this, dependsOn: [operator] },
            );
            ready.push(operator, propagation);
            this.podIdentity = {
                entry: {
                    name: workload.name,
                    namespace: namespace.metadata.name,
                    bindingSelector: workload.bindingSelector,
                    identity: { resourceId: args.identity.resourceId, clientId: args.identity.clientId, objectId: args.identity.principalId },
                },
                after: [propagation],
            };
        } else if (identityMode === "podIdentityOss") {
            ready.push(...this.ossIdentity(name, args, namespace, k8sOpts, [...ready, ...(args.platform ?? [])]));
        } else {
            ready.push(
                new managedidentity.FederatedIdentityCredential(
                    `${name}-federation`,
                    {
                        federatedIdentityCredentialResourceName: federatedCredentialName(workload.namespace, workload.serviceAccount),
                        resourceName: args.identity.identityName,
                        resourceGroupName: args.identityResourceGroupName,
                        issuer: args.cluster.oidcIssuerUrl,
                        subject: `system:serviceaccount:${workload.namespace}:${workload.serviceAccount}`,
                        audiences: [WORKLOAD_IDENTITY_AUDIENCE],
                    },
                    { parent: this },
                ),
            );
        }

        if (identityMode !== "workloadIdentity") {
            const guard = labelGuardValidation(workload);
            const policyName = `aadpodidbinding-guard-${workload.name}`;
            const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                `${name}-label-guard`,
                {
                    metadata: { name: policyName, labels: { "app.kubernetes.io/managed-by": "pulumi", "aks-identity-vault/workload": workload.name } },
                    spec: {
                        failurePolicy: "Fail",
                        matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] }] },
                        validations: [guard],
                    },
                },
                k8sOpts,
            );
            ready.push(
                new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                    `${name}-label-guard-binding`,
                    {
                        metadata: { name: policyName, labels: { "app.kubernetes.io/managed-by": "pulumi", "aks-identity-vault/workload": workload.name } },
                        spec: { policyName: policy.metadata.name, validationActions: ["Deny"] },
                    },
                    k8sOpts,
                ),
            );
        }

        const spec = pulumi
            .all([args.identity.clientId, args.vault.vaultName, args.vault.tenantId, args.vault.secretName, args.vault.keyName])
            .apply(([clientId, vaultName, tenantId, secretName, keyName]) =>
                secretProviderClassSpec({ identityMode, clientId, vaultName, tenantId, secretName, keyName, cloudName: args.cloudName ?? "AzurePublicCloud" }),
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
        this.serviceAccountName = serviceAccount.metadata.name;
        this.secretProviderClassName = secretProviderClass.metadata.name;
        this.ready = ready;
        this.registerOutputs({ namespace: this.namespace, serviceAccountName: this.serviceAccountName, secretProviderClassName: this.secretProviderClassName });
    }

    /** AzureIdentity (type 0 managed identity, type 1 service principal with its secret) and its binding. */
    private ossIdentity(
        name: string,
        args: PodIdentityBindingArgs,
        namespace: k8s.core.v1.Namespace,
        k8sOpts: { parent: pulumi.Resource; provider: k8s.Provider },
        dependsOn: pulumi.Resource[],
    ): pulumi.Resource[] {
        const { workload } = args;
        const crOpts = { ...k8sOpts, dependsOn };
        const labels = { "app.kubernetes.io/managed-by": "pulumi", "aks-identity-vault/workload": workload.name };
        let identitySpec: Record<string, pulumi.Input<string | number | Record<string, pulumi.Input<string>>>>;
        const created: pulumi.Resource[] = [];
        if (args.identity.type === "managedIdentity") {
            identitySpec = { type: 0, resourceID: args.identity.resourceId, clientID: args.identity.clientId };
        } else {
            // The password lives only here (and, encrypted, in the stack's state); NMI reads it.
            const secret = new k8s.core.v1.Secret(
                `${name}-service-principal-secret`,
                {
                    metadata: { name: `${workload.name}-service-principal`, namespace: namespace.metadata.name, labels },
                    type: "Opaque",
                    stringData: { clientSecret: args.identity.clientSecret ?? "" },
                },
                k8sOpts,
            );
            created.push(secret);
            identitySpec = { type: 1, clientID: args.identity.clientId, tenantID: args.vault.tenantId, clientPassword: { name: secret.metadata.name, namespace: namespace.metadata.name } };
        }
        const azureIdentity = new k8s.apiextensions.CustomResource(
            `${name}-azure-identity`,
            { apiVersion: "aadpodidentity.k8s.io/v1", kind: "AzureIdentity", metadata: { name: workload.name, namespace: namespace.metadata.name, labels }, spec: identitySpec },
            { ...crOpts, dependsOn: [...dependsOn, ...created] },
        );
        const binding = new k8s.apiextensions.CustomResource(
            `${name}-azure-identity-binding`,
            {
                apiVersion: "aadpodidentity.k8s.io/v1",
                kind: "AzureIdentityBinding",
                metadata: { name: `${workload.name}-binding`, namespace: namespace.metadata.name, labels },
                spec: { azureIdentity: azureIdentity.metadata.name, selector: workload.bindingSelector },
            },
            crOpts,
        );
        return [...created, azureIdentity, binding];
    }
}
