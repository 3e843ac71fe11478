// Another tenant of the cluster, played inside `pulumi up`: from a namespace of its own, with only the
// rights a namespace admin would use for the attempt, a verification Job per workload tries to take
// that workload's identity: by server-side dry run (nothing is left behind, and admission runs on dry
// runs) a pod carrying the workload's binding label, an AzureIdentity naming the workload's identity
// with a binding to it, and an exception past NMI; with Workload ID, its own service-account token
// offered to Entra for the workload's client id. Every attempt must be refused, by the named guard or
// by Entra; the Job's verdict lists each refusal (verifier/impostor.js).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IMPOSTOR_NAMESPACE } from "../config";
import type { WorkloadConfig } from "../config";
import { verificationJobName, verifierPodSpec } from "./demoWorkloads";
import type { ModePods } from "./modes/driver";
import { AAD_POD_IDENTITY_GROUP } from "./modes/crdGuard";
import { defaultDenyPolicySpec, DNS_EGRESS_RULE } from "./podIdentityBinding";

/** One workload the impostor goes after. */
export interface ImpostorTarget {
    workload: WorkloadConfig;
    /** Client id and ARM id of the workload's identity. */
    identityClientId: pulumi.Input<string>;
    identityResourceId: pulumi.Input<string>;
    /** What must exist before the attempt means anything: the guards, the federated credential. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

export interface ImpostorProofArgs {
    targets: ImpostorTarget[];
    /** What the stack's identity mode asks of pods, and what an impostor tries against it. */
    pods: ModePods;
    tenantId: pulumi.Input<string>;
    /** Pinned official Node.js image, as the other verification Jobs run. */
    image: string;
    /** The verifier's files by name; the Job runs `verifier.js`. */
    verifierFiles: Readonly<Record<string, string>>;
    /** The nodes the Jobs run on (the user pool). */
    nodeSelector: Readonly<Record<string, string>>;
    provider: k8s.Provider;
    /** How long each Job may take. Defaults to 20 minutes. */
    verifyTimeoutMinutes?: number;
    /** A round of verification: a new value renames the Jobs, so they run again. Defaults to none. */
    verificationRun?: string;
}

/** Where the Job finds its API credentials and, with Workload ID, the token it offers Entra. */
const API_MOUNT = "/var/run/secrets/impostor/api";
/** Audience of the tokens Workload ID exchanges (AKS docs, workload-identity-overview). */
const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/**
 * The Role of the impostor's service account: `create` (which a dry run needs, as a real create
 * does) on exactly the kinds its checks write, in its own namespace. Empty when it writes nothing.
 * Exported for testing.
 */
export function impostorRules(pods: ModePods): Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> {
    const checks = pods.impostor.checks;
    const rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> = [];
    if (checks.includes("labelledPod")) {
        rules.push({ apiGroups: [""], resources: ["pods"], verbs: ["create"] });
    }
    const objects = [...(checks.includes("azureIdentity") ? ["azureidentities", "azureidentitybindings"] : []), ...(checks.includes("podIdentityException") ? ["azurepodidentityexceptions"] : [])];
    if (objects.length > 0) {
        rules.push({ apiGroups: [AAD_POD_IDENTITY_GROUP], resources: objects, verbs: ["create"] });
    }
    return rules;
}

/**
 * The impostor namespace's one allowance, beside its default deny: DNS, and HTTPS anywhere, for the
 * API server (whose address the `kubernetes` service translates to) and Microsoft Entra ID. No
 * ingress. Exported for testing.
 */
export function impostorEgressPolicySpec() {
    return {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [],
        egress: [DNS_EGRESS_RULE, { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }],
    };
}

export class ImpostorProof extends pulumi.ComponentResource {
    /** The namespace the impostor plays from. */
    public readonly namespace: pulumi.Output<string>;
    /** The impostor Job of each workload, by workload name. */
    public readonly jobNames: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: ImpostorProofArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:demo:ImpostorProof", name, {}, opts);
        const k8sOpts = { parent: this, provider: args.provider };
        const labels = { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "aks-identity-vault-demo", "app.kubernetes.io/name": "impostor" };
        const { pods } = args;
        const checks = pods.impostor.checks;
        const exchanges = checks.includes("tokenExchange");

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: IMPOSTOR_NAMESPACE,
                    labels: {
                        ...labels,
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                        "pod-security.kubernetes.io/audit": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                    },
                },
            },
            k8sOpts,
        );
        const ns = namespace.metadata.name;
        const deny = new k8s.networking.v1.NetworkPolicy(`${name}-default-deny`, { metadata: { name: "default-deny", namespace: ns, labels }, spec: defaultDenyPolicySpec() }, k8sOpts);
        const egress = new k8s.networking.v1.NetworkPolicy(`${name}-egress`, { metadata: { name: "impostor-egress", namespace: ns, labels }, spec: impostorEgressPolicySpec() }, k8sOpts);
        const account = new k8s.core.v1.ServiceAccount(`${name}-service-account`, { metadata: { name: "impostor", namespace: ns, labels }, automountServiceAccountToken: false }, k8sOpts);
        const rules = impostorRules(pods);
        const access: pulumi.Resource[] = [];
        if (rules.length > 0) {
            const role = new k8s.rbac.v1.Role(`${name}-role`, { metadata: { name: "impostor", namespace: ns, labels }, rules }, k8sOpts);
            access.push(
                new k8s.rbac.v1.RoleBinding(
                    `${name}-role-binding`,
                    {
                        metadata: { name: "impostor", namespace: ns, labels },
                        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                        subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: ns }],
                    },
                    k8sOpts,
                ),
            );
        }
        const script = new k8s.core.v1.ConfigMap(`${name}-verifier-script`, { metadata: { name: "verifier-script", namespace: ns, labels }, data: { ...args.verifierFiles } }, k8sOpts);

        // The API token and CA where the verifier reads them, and with Workload ID a token for Entra:
        // asked for explicitly, since the pod mounts no token by default.
        const apiVolume = {
            name: "kube-api",
            projected: {
                sources: [
                    { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
                    { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
                    ...(exchanges ? [{ serviceAccountToken: { path: "azure-token", audience: TOKEN_EXCHANGE_AUDIENCE, expirationSeconds: 3600 } }] : []),
                ],
            },
        };
        const timeoutMinutes = args.verifyTimeoutMinutes ?? 20;
        this.jobNames = {};
        for (const target of args.targets) {
            const { workload } = target;
            const env: Record<string, pulumi.Input<string>> = {
                VERIFY_MODE: "impostor",
                WORKLOAD: workload.name,
                TOKEN_SOURCE: pods.tokenSource,
                IMPOSTOR_CHECKS: checks.join(","),
                IMPOSTOR_NAMESPACE: IMPOSTOR_NAMESPACE,
                TARGET_NAMESPACE: workload.namespace,
                BINDING_SELECTOR: workload.bindingSelector,
                IDENTITY_RESOURCE_ID: target.identityResourceId,
                TARGET_CLIENT_ID: target.identityClientId,
                KUBE_TOKEN_FILE: `${API_MOUNT}/token`,
                KUBE_CA_FILE: `${API_MOUNT}/ca.crt`,
                VERIFIER_IMAGE: args.image,
                ...(pods.impostor.labelGuardPolicy !== undefined ? { LABEL_GUARD_POLICY: pods.impostor.labelGuardPolicy(workload) } : {}),
                ...(pods.impostor.crdGuardPolicy !== undefined ? { CRD_GUARD_POLICY: pods.impostor.crdGuardPolicy } : {}),
                ...(exchanges ? { AZURE_TENANT_ID: args.tenantId, IMPOSTOR_TOKEN_FILE: `${API_MOUNT}/azure-token` } : {}),
            };
            const job = new k8s.batch.v1.Job(
                `${name}-${workload.name}`,
                {
                    metadata: {
                        name: verificationJobName(`${workload.name}-verify-impostor`, args.verificationRun),
                        namespace: ns,
                        labels: { ...labels, "aks-identity-vault/workload": workload.name },
                        // A Job that failed its verdict is run again by the next `pulumi up`.
                        annotations: { "pulumi.com/replaceUnready": "true" },
                    },
                    spec: {
                        backoffLimit: 0,
                        activeDeadlineSeconds: timeoutMinutes * 60,
                        template: {
                            metadata: { labels: { ...labels, "aks-identity-vault/workload": workload.name } },
                            spec: verifierPodSpec({
                                account: account.metadata.name,
                                image: args.image,
                                nodeSelector: args.nodeSelector,
                                scriptConfigMap: script.metadata.name,
                                env,
                                volumes: [{ volume: apiVolume, mount: { name: "kube-api", mountPath: API_MOUNT, readOnly: true } }],
                            }),
                        },
                    },
                },
                {
                    ...k8sOpts,
                    dependsOn: [...target.dependsOn, deny, egress, ...access],
                    customTimeouts: { create: `${timeoutMinutes}m`, update: `${timeoutMinutes}m` },
                },
            );
            this.jobNames[workload.name] = job.metadata.name;
        }
        this.namespace = ns;
        this.registerOutputs({ namespace: this.namespace, jobNames: this.jobNames });
    }
}
