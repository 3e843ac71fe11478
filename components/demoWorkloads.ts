// Workloads that prove the wiring on every `pulumi up`: a Job that carries the binding label reads
// the workload's secret (mounted by the CSI driver and over the Key Vault API) and writes a blob; a
// Job without the label must be refused a token; a long-running pod mounts the secrets for people
// who want to look. Pulumi waits for Jobs to complete, so a broken wiring fails the update.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KeyVaultAuthorization, WorkloadConfig } from "../config";
import type { ModePods } from "./modes/driver";

export interface DemoWorkloadsArgs {
    workload: WorkloadConfig;
    /** What the stack's identity mode asks of pods. */
    pods: ModePods;
    /** Namespace created by the workload's PodIdentityBinding. */
    namespace: pulumi.Input<string>;
    /** The workload's service account, created by its PodIdentityBinding. */
    serviceAccountName: pulumi.Input<string>;
    secretProviderClassName: pulumi.Input<string>;
    /** Client id of the workload's identity. */
    identityClientId: pulumi.Input<string>;
    keyVaultUri: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    /** `https://<account>.blob.core.windows.net/`. */
    blobEndpoint: pulumi.Input<string>;
    container: pulumi.Input<string>;
    /** Pinned official Node.js image. */
    image: string;
    /** Source of verifier/verifier.js, shipped in a ConfigMap. */
    verifierScript: string;
    /** The canary secret and container, granted to nobody: the bound Job must be refused both. */
    canary: { secretName: pulumi.Input<string>; container: pulumi.Input<string> };
    /** How the vault authorizes: with access policies, which are vault-wide, the canary secret is readable by design. */
    keyVaultAuthorization: KeyVaultAuthorization;
    /** The Kubernetes Secret the SecretProviderClass mirrors the workload's secret into, and its key. */
    syncedSecret: { name: pulumi.Input<string>; key: string };
    /** The nodes the pods run on: the user pool's (the system pool takes only AKS's critical add-ons). */
    nodeSelector: Readonly<Record<string, string>>;
    /** Subnet of the private endpoints: the only HTTPS destination the pods may reach. */
    privateEndpointSubnetPrefix: string;
    /** What must exist before the bound Job can pass: identity assignment, grants, endpoints. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
    provider: k8s.Provider;
    /** How long the verification Jobs may take. Defaults to 20 minutes (role propagation is slow). */
    verifyTimeoutMinutes?: number;
}

/** The mount point of the Key Vault objects, as in the Secrets Store CSI driver's walkthroughs. */
export const SECRETS_MOUNT = "/mnt/secrets-store";
const SCRIPT_MOUNT = "/opt/verifier";
/** The `node` user of the official Node.js images. */
const NODE_UID = 1000;

/** Pod-level settings of the Pod Security Standards "restricted" profile. Exported for testing. */
export function restrictedPodSecurityContext() {
    return { runAsNonRoot: true, runAsUser: NODE_UID, runAsGroup: NODE_UID, fsGroup: NODE_UID, seccompProfile: { type: "RuntimeDefault" } };
}

/** Container-level settings of the "restricted" profile, plus a read-only root filesystem. Exported for testing. */
export function restrictedContainerSecurityContext() {
    return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };
}

/** Small, bounded resources for the verifier and the inspector. Exported for testing. */
export const DEMO_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "128Mi" } };

/** Labels shared by every demo pod; the NetworkPolicy selects them. */
export function demoLabels(workload: string, role: string): Record<string, string> {
    return { "app.kubernetes.io/name": role, "app.kubernetes.io/part-of": "aks-identity-vault-demo", "aks-identity-vault/workload": workload };
}

/**
 * Egress the demo pods need, and nothing else: DNS and HTTPS to the private endpoints, then what the
 * identity mode needs to get a token (`tokenEgress`: NMI where it redirects the metadata endpoint, or
 * Microsoft Entra ID). Ingress: none. Exported for testing.
 */
export function demoNetworkPolicySpec(args: { workload: string; pods: ModePods; privateEndpointSubnetPrefix: string }) {
    return {
        podSelector: { matchLabels: { "app.kubernetes.io/part-of": "aks-identity-vault-demo", "aks-identity-vault/workload": args.workload } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [],
        egress: [
            {
                to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                ports: [
                    { protocol: "UDP", port: 53 },
                    { protocol: "TCP", port: 53 },
                ],
            },
            { to: [{ ipBlock: { cidr: args.privateEndpointSubnetPrefix } }], ports: [{ protocol: "TCP", port: 443 }] },
            ...args.pods.tokenEgress,
        ],
    };
}

export class DemoWorkloads extends pulumi.ComponentResource {
    /** `kubectl logs` targets for the two verdicts. */
    public readonly boundJobName: pulumi.Output<string>;
    public readonly unboundJobName: pulumi.Output<string>;
    public readonly inspectorPodName: pulumi.Output<string>;

    constructor(name: string, args: DemoWorkloadsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:demo:DemoWorkloads", name, {}, opts);
        const { workload } = args;
        const k8sOpts = { parent: this, provider: args.provider };
        const timeout = `${args.verifyTimeoutMinutes ?? 20}m`;
        const meta = (resourceName: string, role: string, extra: Record<string, string> = {}) => ({
            name: resourceName,
            namespace: args.namespace,
            labels: { ...demoLabels(workload.name, role), ...extra },
        });

        const script = new k8s.core.v1.ConfigMap(`${name}-verifier-script`, { metadata: meta("verifier-script", "verifier"), data: { "verifier.js": args.verifierScript } }, k8sOpts);
        const { pods } = args;
        // The unbound Job's own account: with Workload ID it names the workload's client id, so the pod
        // claims the identity; no federated credential trusts this account, so Entra must refuse it.
        const unboundAccount = new k8s.core.v1.ServiceAccount(
            `${name}-unbound-sa`,
            {
                metadata: {
                    ...meta(`${workload.name}-unbound`, "verifier-unbound"),
                    annotations: pods.unbound.serviceAccountAnnotations(args.identityClientId),
                },
                automountServiceAccountToken: false,
            },
            k8sOpts,
        );
        const policy = new k8s.networking.v1.NetworkPolicy(
            `${name}-network-policy`,
            {
                metadata: meta("demo-egress", "network-policy"),
                spec: demoNetworkPolicySpec({ workload: workload.name, pods, privateEndpointSubnetPrefix: args.privateEndpointSubnetPrefix }),
            },
            k8sOpts,
        );

        const container = (
            env: Record<string, pulumi.Input<string>>,
            mounts: Array<{ name: string; mountPath: string; readOnly: boolean }>,
            command: string[],
            fromSecrets: Array<{ name: string; valueFrom: { secretKeyRef: { name: pulumi.Input<string>; key: string } } }> = [],
        ) => ({
            name: "main",
            image: args.image,
            imagePullPolicy: "IfNotPresent",
            command,
            env: [...Object.entries(env).map(([envName, value]) => ({ name: envName, value })), ...fromSecrets],
            resources: DEMO_RESOURCES,
            securityContext: restrictedContainerSecurityContext(),
            volumeMounts: mounts,
        });
        const scriptVolume = { name: "verifier", configMap: { name: script.metadata.name } };
        const scriptMount = { name: "verifier", mountPath: SCRIPT_MOUNT, readOnly: true };
        const secretsVolume = { name: "secrets-store", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: args.secretProviderClassName } } };
        const secretsMount = { name: "secrets-store", mountPath: SECRETS_MOUNT, readOnly: true };
        const bindingLabel = pods.labels(workload);
        const common = {
            WORKLOAD: workload.name,
            TOKEN_SOURCE: pods.tokenSource,
            KEYVAULT_URI: args.keyVaultUri,
            BLOB_ENDPOINT: args.blobEndpoint,
            BLOB_CONTAINER: args.container,
        };
        const job = (jobName: string, role: string, labels: Record<string, string>, account: pulumi.Input<string>, env: Record<string, pulumi.Input<string>>, withSecrets: boolean) =>
            new k8s.batch.v1.Job(
                `${name}-${role}`,
                {
                    // A Job that failed its verdict is run again by the next `pulumi up` instead of being
                    // waited on forever.
                    metadata: { ...meta(jobName, role, labels), annotations: { "pulumi.com/replaceUnready": "true" } },
                    spec: {
                        // The script retries within its own budgets; a failed pod is a verdict, not a flake.
                        backoffLimit: 0,
                        activeDeadlineSeconds: (args.verifyTimeoutMinutes ?? 20) * 60,
                        template: {
                            metadata: { labels: { ...demoLabels(workload.name, role), ...labels } },
                            spec: {
                                serviceAccountName: account,
                                automountServiceAccountToken: false,
                                nodeSelector: { ...args.nodeSelector },
                                restartPolicy: "Never",
                                securityContext: restrictedPodSecurityContext(),
                                containers: [
                                    container(
                                        env,
                                        withSecrets ? [scriptMount, secretsMount] : [scriptMount],
                                        ["node", `${SCRIPT_MOUNT}/verifier.js`],
                                        // The secret the CSI driver mirrors while this pod mounts the volume, as an
                                        // environment variable, as the driver's docs show (sync-as-kubernetes-secret):
                                        // the kubelet starts the container once the mirror exists.
                                        withSecrets ? [{ name: "SYNCED_SECRET", valueFrom: { secretKeyRef: { name: args.syncedSecret.name, key: args.syncedSecret.key } } }] : [],
                                    ),
                                ],
                                volumes: withSecrets ? [scriptVolume, secretsVolume] : [scriptVolume],
                            },
                        },
                    },
                },
                { ...k8sOpts, dependsOn: [...args.dependsOn, policy], customTimeouts: { create: timeout, update: timeout } },
            );

        const clientId: Record<string, pulumi.Input<string>> = pods.passClientId ? { AZURE_CLIENT_ID: args.identityClientId } : {};
        const bound = job(
            `${workload.name}-verify-bound`,
            "verify-bound",
            bindingLabel,
            args.serviceAccountName,
            {
                ...common,
                ...clientId,
                VERIFY_MODE: "bound",
                SECRET_NAME: args.secretName,
                SECRET_FILE: pulumi.interpolate`${SECRETS_MOUNT}/${args.secretName}`,
                CANARY_SECRET_NAME: args.canary.secretName,
                CANARY_CONTAINER: args.canary.container,
                KEYVAULT_AUTHORIZATION: args.keyVaultAuthorization,
                PRIVATE_ENDPOINT_SUBNET: args.privateEndpointSubnetPrefix,
            },
            true,
        );
        // The mode's unbound claim, and no CSI volume (its mount would need the identity): it must be refused.
        const unbound = job(
            `${workload.name}-verify-unbound`,
            "verify-unbound",
            pods.unbound.labels(workload),
            unboundAccount.metadata.name,
            { ...common, ...clientId, VERIFY_MODE: "unbound" },
            false,
        );

        const inspector = new k8s.core.v1.Pod(
            `${name}-inspector`,
            {
                metadata: meta(`${workload.name}-secrets-inspector`, "secrets-inspector", bindingLabel),
                spec: {
                    serviceAccountName: args.serviceAccountName,
                    automountServiceAccountToken: false,
                    nodeSelector: { ...args.nodeSelector },
                    securityContext: restrictedPodSecurityContext(),
                    containers: [container({}, [secretsMount], ["node", "-e", "setInterval(() => {}, 3600000)"])],
                    volumes: [secretsVolume],
                },
            },
            { ...k8sOpts, dependsOn: [...args.dependsOn, policy] },
        );

        this.boundJobName = bound.metadata.name;
        this.unboundJobName = unbound.metadata.name;
        this.inspectorPodName = inspector.metadata.name;
        this.registerOutputs({ boundJobName: this.boundJobName, unboundJobName: this.unboundJobName, inspectorPodName: this.inspectorPodName });
    }
}
