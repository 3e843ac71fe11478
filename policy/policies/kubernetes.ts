// Kubernetes policies: the Pod Security Standards "restricted" profile and Checkov's container
// checks on every workload's pod template, namespaces and service accounts, NetworkPolicy coverage
// and shape, and pinned Helm charts.
import * as k8s from "@pulumi/kubernetes";
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { ofType } from "../lib/graph";
import {
    RESTRICTED_VOLUME_TYPES,
    containersOf,
    effectiveRunAsNonRoot,
    effectiveRunAsUser,
    effectiveSeccompType,
    isNamespacedKubernetesType,
    isPinnedImage,
    namespaceOf,
    selectorMatches,
    validatePodSpecs,
    volumeTypes,
    workloadPods,
} from "../lib/k8s";
import { isNonPublicCidr } from "../lib/net";
import { TYPES } from "../lib/types";
import { field, list, stringMap, text } from "../lib/values";

/** The label that makes the Pod Security admission enforce a profile on a namespace. */
const PSS_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";
/** Seccomp profile types the "restricted" profile admits. */
const RESTRICTED_SECCOMP: ReadonlySet<string> = new Set(["RuntimeDefault", "Localhost"]);
/** An exact semantic version, as Helm resolves it without a range. */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
/** The only capability "restricted" lets a container add. */
const ADDABLE_CAPABILITY = "NET_BIND_SERVICE";

/** Containers run as a non-root user. */
export const k8sRunAsNonRoot: ResourceValidationPolicy = {
    name: "k8s-run-as-non-root",
    description:
        "Every container runs with runAsNonRoot true (its own or the pod's) and never as UID 0. Pod Security Standards restricted: Running as Non-root, Running as Non-root user; Checkov CKV_K8S_23.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            if (effectiveRunAsNonRoot(spec, container) !== true) {
                reportViolation(`Container ${container.name} does not set runAsNonRoot: true.`);
            }
            if (effectiveRunAsUser(spec, container) === 0) {
                reportViolation(`Container ${container.name} runs as UID 0.`);
            }
        }
    }),
};

/** No process gains more privileges than its parent. */
export const k8sNoPrivilegeEscalation: ResourceValidationPolicy = {
    name: "k8s-no-privilege-escalation",
    description: "Every container sets securityContext.allowPrivilegeEscalation: false. Pod Security Standards restricted: Privilege Escalation; Checkov CKV_K8S_20.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            if (container.securityContext?.allowPrivilegeEscalation !== false) {
                reportViolation(`Container ${container.name} does not set allowPrivilegeEscalation: false.`);
            }
        }
    }),
};

/** Containers drop every Linux capability. */
export const k8sDropAllCapabilities: ResourceValidationPolicy = {
    name: "k8s-drop-all-capabilities",
    description: `Every container drops ALL capabilities and adds none but ${ADDABLE_CAPABILITY}. Pod Security Standards restricted: Capabilities; Checkov CKV_K8S_37 and CKV_K8S_25.`,
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            const capabilities = container.securityContext?.capabilities;
            if (!(capabilities?.drop ?? []).includes("ALL")) {
                reportViolation(`Container ${container.name} does not drop ALL capabilities.`);
            }
            const added = (capabilities?.add ?? []).filter((c) => c !== ADDABLE_CAPABILITY);
            if (added.length > 0) {
                reportViolation(`Container ${container.name} adds capabilities ${added.join(", ")}.`);
            }
        }
    }),
};

/** System calls are filtered by the runtime's default seccomp profile. */
export const k8sSeccompRuntimeDefault: ResourceValidationPolicy = {
    name: "k8s-seccomp-runtime-default",
    description:
        "Every container runs under the RuntimeDefault (or a Localhost) seccomp profile, set on the pod or the container, never Unconfined. Pod Security Standards restricted: Seccomp; Checkov CKV_K8S_31.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            const type = effectiveSeccompType(spec, container);
            if (type === undefined || !RESTRICTED_SECCOMP.has(type)) {
                reportViolation(`Container ${container.name} has seccomp profile ${type ?? "unset"}; use RuntimeDefault.`);
            }
        }
    }),
};

/** Pods share no namespace with the node. */
export const k8sNoHostNamespaces: ResourceValidationPolicy = {
    name: "k8s-no-host-namespaces",
    description:
        "Pods never share the node's network, PID or IPC namespace (hostNetwork, hostPID, hostIPC). Pod Security Standards baseline: Host Namespaces; Checkov CKV_K8S_19, CKV_K8S_17 and CKV_K8S_18.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const [flag, value] of Object.entries({ hostNetwork: spec.hostNetwork, hostPID: spec.hostPID, hostIPC: spec.hostIPC })) {
            if (value === true) {
                reportViolation(`The pod sets ${flag}: true.`);
            }
        }
    }),
};

/** Containers bind no port on the node. */
export const k8sNoHostPorts: ResourceValidationPolicy = {
    name: "k8s-no-host-ports",
    description: "Containers declare no hostPort. Pod Security Standards baseline: Host Ports; Checkov CKV_K8S_26.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            for (const port of container.ports ?? []) {
                if ((port.hostPort ?? 0) !== 0) {
                    reportViolation(`Container ${container.name} binds host port ${port.hostPort}.`);
                }
            }
        }
    }),
};

/** No container is privileged. */
export const k8sNotPrivileged: ResourceValidationPolicy = {
    name: "k8s-not-privileged",
    description: "No container sets securityContext.privileged: true. Pod Security Standards baseline: Privileged Containers; Checkov CKV_K8S_16.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            if (container.securityContext?.privileged === true) {
                reportViolation(`Container ${container.name} is privileged.`);
            }
        }
    }),
};

/** Volumes come from the restricted set; never from the node's filesystem. */
export const k8sRestrictedVolumeTypes: ResourceValidationPolicy = {
    name: "k8s-restricted-volume-types",
    description: `Pods use only the volume types ${[...RESTRICTED_VOLUME_TYPES].join(", ")}; in particular no hostPath. Pod Security Standards restricted: Volume Types (and baseline: HostPath Volumes); no direct Checkov equivalent (CKV_K8S_27 covers the Docker socket only).`,
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const volume of spec.volumes ?? []) {
            const forbidden = volumeTypes(volume).filter((type) => !RESTRICTED_VOLUME_TYPES.has(type));
            if (forbidden.length > 0) {
                reportViolation(`Volume ${volume.name} uses ${forbidden.join(", ")}.`);
            }
        }
    }),
};

/** Root filesystems are read-only. */
export const k8sReadOnlyRootFilesystem: ResourceValidationPolicy = {
    name: "k8s-read-only-root-filesystem",
    description: "Every container sets securityContext.readOnlyRootFilesystem: true. Checkov CKV_K8S_22 (not part of the Pod Security Standards).",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            if (container.securityContext?.readOnlyRootFilesystem !== true) {
                reportViolation(`Container ${container.name} does not set readOnlyRootFilesystem: true.`);
            }
        }
    }),
};

/** Images are pinned to a version tag or a digest. */
export const k8sImagePinned: ResourceValidationPolicy = {
    name: "k8s-image-pinned",
    description: "Every container image is pinned to a tag other than latest, or to a sha256 digest. Checkov CKV_K8S_14 (and CKV_K8S_43 for digests).",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            if (!isPinnedImage(container.image ?? "")) {
                reportViolation(`Container ${container.name} uses image ${container.image ?? "(none)"}; pin a version tag or a digest.`);
            }
        }
    }),
};

/** Containers declare requests and limits for CPU and memory. */
export const k8sResourceRequestsLimits: ResourceValidationPolicy = {
    name: "k8s-resource-requests-limits",
    description: "Every container sets CPU and memory requests and limits. Checkov CKV_K8S_10, CKV_K8S_11, CKV_K8S_12 and CKV_K8S_13.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            const missing = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"].filter((path) => field(container.resources, ...path.split(".")) === undefined);
            if (missing.length > 0) {
                reportViolation(`Container ${container.name} does not set resources ${missing.join(", ")}.`);
            }
        }
    }),
};

/** Pods get no Kubernetes API token they do not need. */
export const k8sPodNoTokenAutomount: ResourceValidationPolicy = {
    name: "k8s-pod-no-token-automount",
    description: "Pods set automountServiceAccountToken: false; the workloads use Azure identities, not the Kubernetes API (Workload ID projects its own federated token). Checkov CKV_K8S_38.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        if (spec.automountServiceAccountToken !== false) {
            reportViolation("Set automountServiceAccountToken: false on the pod.");
        }
    }),
};

/** Secrets reach containers as files, never as environment variables. */
export const k8sNoSecretInEnv: ResourceValidationPolicy = {
    name: "k8s-no-secret-in-env",
    description:
        "No container takes a Kubernetes Secret through its environment (env[].valueFrom.secretKeyRef or envFrom[].secretRef): environment variables leak into crash dumps, child processes and `kubectl describe`, and cannot follow a rotation. Secrets are mounted as files (the CSI driver's volume, or a secret volume). Checkov CKV_K8S_35.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        for (const container of containersOf(spec)) {
            const fromSecrets = (container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef !== undefined).map((e) => e.name);
            const whole = (container.envFrom ?? []).filter((e) => e.secretRef !== undefined).map((e) => `all of ${e.secretRef?.name ?? "a Secret"}`);
            if (fromSecrets.length > 0 || whole.length > 0) {
                reportViolation(`Container ${container.name} takes a Secret through its environment (${[...fromSecrets, ...whole].join(", ")}); mount it as a file instead.`);
            }
        }
    }),
};

/** Pods run as a service account of their own. */
export const k8sNoDefaultServiceAccount: ResourceValidationPolicy = {
    name: "k8s-no-default-service-account",
    description: "Pods name a service account of their own (serviceAccountName set and not default). Checkov CKV_K8S_41.",
    enforcementLevel: "mandatory",
    validateResource: validatePodSpecs((spec, _args, reportViolation) => {
        const account = spec.serviceAccountName ?? spec.serviceAccount;
        if (account === undefined || account === "" || account === "default") {
            reportViolation(`The pod runs as service account ${account || "default"}.`);
        }
    }),
};

/** Nothing lands in the default namespace. */
export const k8sNotDefaultNamespace: ResourceValidationPolicy = {
    name: "k8s-not-default-namespace",
    description: "Namespaced Kubernetes objects and Helm releases name a namespace explicitly, and it is not default. Checkov CKV_K8S_21.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.isType(k8s.helm.v3.Release)) {
            const namespace = text(args.props.namespace);
            if (namespace === undefined || namespace === "default") {
                reportViolation(`The release installs into namespace ${namespace ?? "default (unset)"}.`);
            }
            return;
        }
        if (!isNamespacedKubernetesType(args.type)) {
            args.notApplicable("not a namespaced Kubernetes object");
        }
        const namespace = text(field(args.props, "metadata", "namespace"));
        if (namespace === undefined || namespace === "default") {
            reportViolation(`The object is in namespace ${namespace ?? "default (unset)"}.`);
        }
    },
};

/** Service accounts hand out no API token by default. */
export const k8sServiceAccountNoAutomount: ResourceValidationPolicy = {
    name: "k8s-service-account-no-automount",
    description: "Service accounts set automountServiceAccountToken: false, so pods get an API token only where they ask for one. Checkov CKV_K8S_38.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.core.v1.ServiceAccount, (account, _args, reportViolation) => {
        if (account.automountServiceAccountToken !== false) {
            reportViolation("Set automountServiceAccountToken: false.");
        }
    }),
};

/** Every namespace enforces the restricted profile. */
export const k8sNamespaceRestricted: ResourceValidationPolicy = {
    name: "k8s-namespace-enforces-restricted",
    description:
        "Every namespace the stack creates carries pod-security.kubernetes.io/enforce: restricted. Advisory: with identityMode=podIdentityOss the stack deliberately creates the aad-pod-identity namespace as privileged, because NMI runs on the host network with NET_ADMIN to intercept the metadata endpoint; workload namespaces are held to restricted by k8s-workload-namespace-restricted. Pod Security Standards (Pod Security admission); no direct Checkov equivalent.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(k8s.core.v1.Namespace, (namespace, _args, reportViolation) => {
        const level = namespace.metadata?.labels?.[PSS_ENFORCE_LABEL];
        if (level !== "restricted") {
            reportViolation(`Namespace ${namespace.metadata?.name ?? "(unnamed)"} enforces ${level ?? "nothing"}.`);
        }
    }),
};

/** Namespaces that run the stack's workloads enforce the restricted profile. */
export const k8sWorkloadNamespaceRestricted: StackValidationPolicy = {
    name: "k8s-workload-namespace-restricted",
    description:
        "Every namespace in which the stack runs pods (Pods, Jobs, CronJobs, Deployments, StatefulSets, DaemonSets, ReplicaSets) is created by the stack with pod-security.kubernetes.io/enforce: restricted, so the cluster itself refuses a pod that slips past these policies. Pod Security Standards restricted (Pod Security admission); no direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const levels = new Map(
            ofType(args.resources, TYPES.namespace).map((ns) => [text(field(ns.props, "metadata", "name")) ?? "", stringMap(field(ns.props, "metadata", "labels"))[PSS_ENFORCE_LABEL]]),
        );
        for (const resource of args.resources) {
            const pods = workloadPods(resource.type, resource.props);
            if (pods === undefined) {
                continue;
            }
            if (!levels.has(pods.namespace)) {
                reportViolation(`Namespace ${pods.namespace} is not created by this stack, so its Pod Security level is unknown.`, resource.urn);
            } else if (levels.get(pods.namespace) !== "restricted") {
                reportViolation(`Namespace ${pods.namespace} enforces ${levels.get(pods.namespace) ?? "nothing"}, not restricted.`, resource.urn);
            }
        }
    },
};

/** Every workload pod is selected by a NetworkPolicy in its namespace. */
export const k8sNetworkPolicyCoverage: StackValidationPolicy = {
    name: "k8s-network-policy-coverage",
    description:
        "In every namespace where the stack runs pods, a NetworkPolicy of the stack selects each workload's pods (its podSelector matches the pod template's labels), so their traffic is never left open by default. Checkov CKV2_K8S_6; Azure security baseline for AKS NS-1.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const policies = ofType(args.resources, TYPES.networkPolicy);
        for (const resource of args.resources) {
            const pods = workloadPods(resource.type, resource.props);
            if (pods === undefined) {
                continue;
            }
            const covered = policies.some((policy) => namespaceOf(policy.props) === pods.namespace && selectorMatches(field(policy.props, "spec", "podSelector"), pods.labels));
            if (!covered) {
                reportViolation(`No NetworkPolicy in namespace ${pods.namespace} selects this workload's pods (labels ${JSON.stringify(pods.labels)}).`, resource.urn);
            }
        }
    },
};

/** True when a NetworkPolicy selects every pod of its namespace and allows nothing in either direction. */
function isDefaultDeny(props: Record<string, unknown>): boolean {
    const selector = field(props, "spec", "podSelector");
    const selectsAll = selector === undefined || (Object.keys(stringMap(field(selector, "matchLabels"))).length === 0 && list(field(selector, "matchExpressions")).length === 0);
    const types = list(field(props, "spec", "policyTypes"));
    return selectsAll && types.includes("Ingress") && types.includes("Egress") && list(field(props, "spec", "ingress")).length === 0 && list(field(props, "spec", "egress")).length === 0;
}

/** Every namespace the stack runs pods in, or creates for a workload, denies by default. */
export const k8sNamespaceDefaultDeny: StackValidationPolicy = {
    name: "k8s-namespace-default-deny",
    description:
        "Every namespace the stack creates for a workload, and every namespace it runs pods in, has a NetworkPolicy that selects all its pods (empty podSelector) for Ingress and Egress and allows nothing, so a pod someone else starts there reaches nothing until a policy allows it; what the workload needs is allowed by policies of their own. Kubernetes docs, network policies (default deny all ingress and all egress traffic); Checkov CKV2_K8S_6; Azure security baseline for AKS NS-1.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const denying = new Set(
            ofType(args.resources, TYPES.networkPolicy)
                .filter((p) => isDefaultDeny(p.props))
                .map((p) => namespaceOf(p.props)),
        );
        const namespaces = new Map<string, string | undefined>();
        for (const ns of ofType(args.resources, TYPES.namespace)) {
            const name = text(field(ns.props, "metadata", "name"));
            if (name !== undefined && stringMap(field(ns.props, "metadata", "labels"))["aks-identity-vault/workload"] !== undefined) {
                namespaces.set(name, ns.urn);
            }
        }
        for (const resource of args.resources) {
            const pods = workloadPods(resource.type, resource.props);
            if (pods !== undefined && !namespaces.has(pods.namespace)) {
                namespaces.set(pods.namespace, resource.urn);
            }
        }
        for (const [namespace, urn] of namespaces) {
            if (!denying.has(namespace)) {
                reportViolation(`Namespace ${namespace} has no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules).`, urn);
            }
        }
    },
};

/** NetworkPolicies govern both directions and name their peers. */
export const k8sNetworkPolicyBothDirections: ResourceValidationPolicy = {
    name: "k8s-network-policy-both-directions",
    description:
        "NetworkPolicies list both Ingress and Egress in policyTypes, and every rule names its peers: an ingress rule without from, or an egress rule without to, admits every address. No direct Checkov equivalent; Azure security baseline for AKS NS-1.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.networking.v1.NetworkPolicy, (policy, _args, reportViolation) => {
        const types = policy.spec?.policyTypes ?? [];
        for (const direction of ["Ingress", "Egress"]) {
            if (!types.includes(direction)) {
                reportViolation(`spec.policyTypes does not include ${direction}.`);
            }
        }
        (policy.spec?.ingress ?? []).forEach((rule, index) => {
            if ((rule.from ?? []).length === 0) {
                reportViolation(`spec.ingress[${index}] admits traffic from anywhere.`);
            }
        });
        (policy.spec?.egress ?? []).forEach((rule, index) => {
            if ((rule.to ?? []).length === 0) {
                reportViolation(`spec.egress[${index}] allows traffic to anywhere.`);
            }
        });
    }),
};

/** Egress stays inside private address space. */
export const k8sNetworkPolicyPrivateEgress: ResourceValidationPolicy = {
    name: "k8s-network-policy-private-egress",
    description:
        "NetworkPolicy egress rules reach only private address ranges (the VNet, the node subnet, the metadata endpoint) and never a public CIDR. Advisory: with identityMode=workloadIdentity, pods must reach Microsoft Entra ID's token endpoint, which has public addresses only and cannot be named in a NetworkPolicy, so the stack deliberately allows HTTPS to public addresses. No direct Checkov equivalent; Azure security baseline for AKS NS-1.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(k8s.networking.v1.NetworkPolicy, (policy, _args, reportViolation) => {
        (policy.spec?.egress ?? []).forEach((rule, index) => {
            for (const peer of rule.to ?? []) {
                const cidr = peer.ipBlock?.cidr;
                if (cidr !== undefined && !isNonPublicCidr(cidr)) {
                    const ports = (rule.ports ?? []).map((p) => `${p.protocol ?? "TCP"}/${p.port ?? "*"}`).join(", ");
                    reportViolation(`spec.egress[${index}] allows ${cidr}${ports === "" ? "" : ` on ${ports}`}.`);
                }
            }
        });
    }),
};

/** Helm charts are pinned to an exact version from an HTTPS or OCI repository. */
export const k8sHelmChartPinned: ResourceValidationPolicy = {
    name: "k8s-helm-chart-pinned",
    description:
        "Helm releases pin an exact chart version (no range, no latest) and fetch charts over HTTPS or OCI; a chart fetched from GitHub's raw files names a commit, which cannot change, not a branch. Chart counterpart of Checkov CKV_K8S_14; Microsoft cloud security benchmark DS-2 (software supply chain).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.helm.v3.Release, (release, _args, reportViolation) => {
        const version = release.version ?? "";
        if (!EXACT_VERSION.test(version)) {
            reportViolation(`Chart version ${version || "(unset)"} is not an exact version.`);
        }
        const repo = release.repositoryOpts?.repo;
        if (repo !== undefined && !/^(https|oci):\/\//i.test(repo)) {
            reportViolation(`Chart repository ${repo} is not fetched over HTTPS or OCI.`);
        }
        const chart = release.chart ?? "";
        if (/^[a-z]+:\/\//i.test(chart) && !/^(https|oci):\/\//i.test(chart)) {
            reportViolation(`Chart ${chart} is not fetched over HTTPS or OCI.`);
        }
        for (const location of [repo ?? "", chart]) {
            const raw = /^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/([^/]+)\//i.exec(location);
            if (raw !== null && !/^[0-9a-f]{40}$/.test(raw[1])) {
                reportViolation(`Chart ${location} is fetched from GitHub's ${raw[1]} branch, which can change: name a commit.`);
            }
        }
    }),
};

/** The Kubernetes policies of the pack. */
export const kubernetesPolicies = [
    k8sRunAsNonRoot,
    k8sNoPrivilegeEscalation,
    k8sDropAllCapabilities,
    k8sSeccompRuntimeDefault,
    k8sNoHostNamespaces,
    k8sNoHostPorts,
    k8sNotPrivileged,
    k8sRestrictedVolumeTypes,
    k8sReadOnlyRootFilesystem,
    k8sImagePinned,
    k8sResourceRequestsLimits,
    k8sPodNoTokenAutomount,
    k8sNoDefaultServiceAccount,
    k8sNotDefaultNamespace,
    k8sServiceAccountNoAutomount,
    k8sNamespaceRestricted,
    k8sWorkloadNamespaceRestricted,
    k8sNoSecretInEnv,
    k8sNetworkPolicyCoverage,
    k8sNamespaceDefaultDeny,
    k8sNetworkPolicyBothDirections,
    k8sNetworkPolicyPrivateEgress,
    k8sHelmChartPinned,
];
