// Jobs that prove a workload's wiring when `pulumi up` creates or replaces them: a Job that carries
// the binding label reads the workload's secret (the file the CSI driver mounts, and over the Key
// Vault API) and writes a blob; a Job without the label must be refused a token. Pulumi waits for
// Jobs to complete, so a broken wiring fails the update. No pod stays behind holding the secret.
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
    /** With egress through the firewall, the public address the bound Job must not reach. Defaults to none. */
    egressProbe?: { address: string; port: number };
    /** The verifier's files (verifier/*.js) by name, shipped in a ConfigMap; the Jobs run `verifier.js`. */
    verifierFiles: Readonly<Record<string, string>>;
    /** The canary secret and container, granted to nobody: the bound Job must be refused both. */
    canary: { secretName: pulumi.Input<string>; container: pulumi.Input<string> };
    /** How the vault authorizes: with access policies, which are vault-wide, the canary secret is readable by design. */
    keyVaultAuthorization: KeyVaultAuthorization;
    /** The Kubernetes Secret the SecretProviderClass mirrors the workload's secret into (when it syncs), and its key. */
    syncedSecret: { name: pulumi.Input<string>; key: string };
    /** The nodes the pods run on: the user pool's (the system pool takes only AKS's critical add-ons). */
    nodeSelector: Readonly<Record<string, string>>;
    /** Subnet of the private endpoints, where the bound Job requires the vault and the blob endpoint to resolve. */
    privateEndpointSubnetPrefix: string;
    /** What must exist before the bound Job can pass: identity assignment, grants, endpoints, the namespace's network policies. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
    provider: k8s.Provider;
    /** How long the verification Jobs may take. Defaults to 20 minutes (role propagation is slow). */
    verifyTimeoutMinutes?: number;
    /** A round of verification: a new value renames the Jobs, which replaces them, so they run again. Defaults to none. */
    verificationRun?: string;
}

/**
 * A verification Job's name in a round: the round ends the name, so a new round is a new Job, which
 * Pulumi creates (and so runs) in place of the old one. Exported for testing.
 */
export function verificationJobName(base: string, run: string | undefined): string {
    return run === undefined || run === "" ? base : `${base}-${run}`;
}

/** The mount point of the Key Vault objects, as in the Secrets Store CSI driver's walkthroughs. */
export const SECRETS_MOUNT = "/mnt/secrets-store";
/** Where the verifier's ConfigMap is mounted; the Jobs run `verifier.js` from there. */
const SCRIPT_MOUNT = "/opt/verifier";
/** The `node` user of the official Node.js images. */
const NODE_UID = 1000;

/**
 * Pod-level settings of the Pod Security Standards "restricted" profile, with every id the Azure
 * Policy restricted initiative requires in 1-65535 (its AllowedUsersGroups member sets
 * `MustRunAs` for the group, the fs group and the supplemental groups). Exported for testing.
 */
export function restrictedPodSecurityContext() {
    return { runAsNonRoot: true, runAsUser: NODE_UID, runAsGroup: NODE_UID, fsGroup: NODE_UID, supplementalGroups: [NODE_UID], seccompProfile: { type: "RuntimeDefault" } };
}

/** Container-level settings of the "restricted" profile, plus a read-only root filesystem. Exported for testing. */
export function restrictedContainerSecurityContext() {
    return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };
}

/** Small, bounded resources for the verifier. Exported for testing. */
export const DEMO_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "128Mi" } };

/** Labels shared by every demo pod. */
export function demoLabels(workload: string, role: string): Record<string, string> {
    return { "app.kubernetes.io/name": role, "app.kubernetes.io/part-of": "aks-identity-vault-demo", "aks-identity-vault/workload": workload };
}

/** A volume of a verification pod and where its one container mounts it. */
export interface VerifierVolume {
    volume: Record<string, unknown> & { name: string };
    mount: { name: string; mountPath: string; readOnly: boolean };
}

/**
 * The pod of a verification Job: the verifier from its ConfigMap, run once as `account` on the user
 * pool, with the restricted profile, bounded resources, no API token unless a volume asks for one,
 * and names and addresses only in its environment (no secret is ever passed there). Exported for
 * the impostor's Jobs, which run the same script.
 */
export function verifierPodSpec(args: {
    account: pulumi.Input<string>;
    image: string;
    nodeSelector: Readonly<Record<string, string>>;
    scriptConfigMap: pulumi.Input<string>;
    env: Record<string, pulumi.Input<string>>;
    volumes: VerifierVolume[];
}) {
    return {
        serviceAccountName: args.account,
        automountServiceAccountToken: false,
        nodeSelector: { ...args.nodeSelector },
        restartPolicy: "Never",
        securityContext: restrictedPodSecurityContext(),
        containers: [
            {
                name: "main",
                image: args.image,
                imagePullPolicy: "IfNotPresent",
                command: ["node", `${SCRIPT_MOUNT}/verifier.js`],
                env: Object.entries(args.env).map(([envName, value]) => ({ name: envName, value })),
                resources: DEMO_RESOURCES,
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [{ name: "verifier", mountPath: SCRIPT_MOUNT, readOnly: true }, ...args.volumes.map((v) => v.mount)],
            },
        ],
        volumes: [{ name: "verifier", configMap: { name: args.scriptConfigMap } }, ...args.volumes.map((v) => v.volume)],
    };
}

/** Where the bound Job reads the Kubernetes Secret the CSI driver mirrors, for a workload that syncs. */
export const SYNCED_SECRET_MOUNT = "/mnt/synced-secret";

export class DemoWorkloads extends pulumi.ComponentResource {
    /** `kubectl logs` targets for the two verdicts. */
    public readonly boundJobName: pulumi.Output<string>;
    public readonly unboundJobName: pulumi.Output<string>;

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

        const script = new k8s.core.v1.ConfigMap(`${name}-verifier-script`, { metadata: meta("verifier-script", "verifier"), data: { ...args.verifierFiles } }, k8sOpts);
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

        const secretsVolume = { name: "secrets-store", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: args.secretProviderClassName } } };
        const secretsMount = { name: "secrets-store", mountPath: SECRETS_MOUNT, readOnly: true };
        // A workload that syncs gets its mirror checked, read as a file like every secret here: the
        // kubelet starts the container once the CSI driver has written the Kubernetes Secret.
        const syncedVolume = { name: "synced-secret", secret: { secretName: args.syncedSecret.name, items: [{ key: args.syncedSecret.key, path: args.syncedSecret.key }] } };
        const syncedMount = { name: "synced-secret", mountPath: SYNCED_SECRET_MOUNT, readOnly: true };
        const bindingLabel = pods.labels(workload);
        const common = {
            WORKLOAD: workload.name,
            TOKEN_SOURCE: pods.tokenSource,
            KEYVAULT_URI: args.keyVaultUri,
            BLOB_ENDPOINT: args.blobEndpoint,
            BLOB_CONTAINER: args.container,
        };
        const job = (jobName: string, role: string, labels: Record<string, string>, account: pulumi.Input<string>, env: Record<string, pulumi.Input<string>>, volumes: VerifierVolume[]) =>
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
                            spec: verifierPodSpec({ account, image: args.image, nodeSelector: args.nodeSelector, scriptConfigMap: script.metadata.name, env, volumes }),
                        },
                    },
                },
                { ...k8sOpts, dependsOn: args.dependsOn, customTimeouts: { create: timeout, update: timeout } },
            );

        const clientId: Record<string, pulumi.Input<string>> = pods.passClientId ? { AZURE_CLIENT_ID: args.identityClientId } : {};
        const synced: Record<string, string> = workload.syncSecret ? { SYNCED_SECRET_FILE: `${SYNCED_SECRET_MOUNT}/${args.syncedSecret.key}` } : {};
        const bound = job(
            verificationJobName(`${workload.name}-verify-bound`, args.verificationRun),
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
                ...synced,
                ...(args.egressProbe === undefined ? {} : { EGRESS_PROBE: `${args.egressProbe.address}:${args.egressProbe.port}` }),
            },
            [{ volume: secretsVolume, mount: secretsMount }, ...(workload.syncSecret ? [{ volume: syncedVolume, mount: syncedMount }] : [])],
        );
        // The mode's unbound claim, and no CSI volume (its mount would need the identity): it must be refused.
        const unbound = job(
            verificationJobName(`${workload.name}-verify-unbound`, args.verificationRun),
            "verify-unbound",
            pods.unbound.labels(workload),
            unboundAccount.metadata.name,
            { ...common, ...clientId, VERIFY_MODE: "unbound" },
            [],
        );

        this.boundJobName = bound.metadata.name;
        this.unboundJobName = unbound.metadata.name;
        this.registerOutputs({ boundJobName: this.boundJobName, unboundJobName: this.unboundJobName });
    }
}
