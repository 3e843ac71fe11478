// Kubernetes facts the policies share: where each workload kind keeps its pod template, the
// containers and effective security settings of a pod spec, image references, label selectors and
// which kinds are cluster-scoped.
import * as k8s from "@pulumi/kubernetes";
import { ReportViolation, ResourceValidation, ResourceValidationArgs, validateResourceOfType } from "@pulumi/policy";
import type { Unwrap } from "@pulumi/pulumi";
import { Dict, field, isDict, list, stringMap, text } from "./values";

/** A pod spec as a resource's inputs carry it. */
export type PodSpec = Unwrap<k8s.types.input.core.v1.PodSpec>;
/** One container of a pod spec. */
export type Container = Unwrap<k8s.types.input.core.v1.Container>;

/** A check of one pod spec, reporting against the resource that carries it. */
export type PodSpecCheck = (spec: PodSpec, args: ResourceValidationArgs, reportViolation: ReportViolation) => void;

/**
 * Resource validations that run `check` on the pod template of every workload kind: Pod, Job,
 * CronJob, Deployment, StatefulSet, DaemonSet, ReplicaSet and ReplicationController. Each one is
 * not applicable to other types, so a policy built on them applies to workloads only.
 */
export function validatePodSpecs(check: PodSpecCheck): ResourceValidation[] {
    const run = (spec: PodSpec | undefined, args: ResourceValidationArgs, report: ReportViolation): void => {
        if (spec === undefined) {
            args.notApplicable("the workload declares no pod spec");
        }
        check(spec, args, report);
    };
    return [
        validateResourceOfType(k8s.core.v1.Pod, (pod, args, report) => run(pod.spec, args, report)),
        validateResourceOfType(k8s.batch.v1.Job, (job, args, report) => run(job.spec?.template?.spec, args, report)),
        validateResourceOfType(k8s.batch.v1.CronJob, (cron, args, report) => run(cron.spec?.jobTemplate?.spec?.template?.spec, args, report)),
        validateResourceOfType(k8s.apps.v1.Deployment, (deployment, args, report) => run(deployment.spec?.template?.spec, args, report)),
        validateResourceOfType(k8s.apps.v1.StatefulSet, (set, args, report) => run(set.spec?.template?.spec, args, report)),
        validateResourceOfType(k8s.apps.v1.DaemonSet, (set, args, report) => run(set.spec?.template?.spec, args, report)),
        validateResourceOfType(k8s.apps.v1.ReplicaSet, (set, args, report) => run(set.spec?.template?.spec, args, report)),
        validateResourceOfType(k8s.core.v1.ReplicationController, (rc, args, report) => run(rc.spec?.template?.spec, args, report)),
    ];
}

/** Every container of a pod: regular, init and ephemeral. */
export function containersOf(spec: PodSpec): Container[] {
    const ephemeral: Container[] = spec.ephemeralContainers ?? [];
    return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...ephemeral];
}

/** The container's runAsNonRoot, falling back to the pod's. */
export function effectiveRunAsNonRoot(spec: PodSpec, container: Container): boolean | undefined {
    return container.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot;
}

/** The container's runAsUser, falling back to the pod's. */
export function effectiveRunAsUser(spec: PodSpec, container: Container): number | undefined {
    return container.securityContext?.runAsUser ?? spec.securityContext?.runAsUser;
}

/** The container's seccomp profile type, falling back to the pod's. */
export function effectiveSeccompType(spec: PodSpec, container: Container): string | undefined {
    return container.securityContext?.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type;
}

/** The tag and digest of an image reference such as `registry:5000/team/app:1.2@sha256:…`. */
export function imageReference(image: string): { tag?: string; digest?: string } {
    const at = image.indexOf("@");
    const digest = at >= 0 ? image.slice(at + 1) : undefined;
    const name = at >= 0 ? image.slice(0, at) : image;
    const colon = name.lastIndexOf(":");
    const tag = colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
    return { tag, digest };
}

/** True when an image is pinned by a sha256 digest, or by a tag other than `latest`. */
export function isPinnedImage(image: string): boolean {
    const { tag, digest } = imageReference(image);
    if (digest !== undefined) {
        return /^sha256:[0-9a-f]{64}$/.test(digest);
    }
    return tag !== undefined && tag !== "" && tag !== "latest";
}

/** True when a label selector (matchLabels and matchExpressions) selects a set of labels. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
    const matchLabels = stringMap(field(selector, "matchLabels"));
    if (!Object.entries(matchLabels).every(([key, value]) => labels[key] === value)) {
        return false;
    }
    return list(field(selector, "matchExpressions")).every((expression) => {
        const key = text(field(expression, "key")) ?? "";
        const values = list(field(expression, "values"));
        const present = Object.prototype.hasOwnProperty.call(labels, key);
        switch (text(field(expression, "operator"))) {
            case "In":
                return present && values.includes(labels[key]);
            case "NotIn":
                return !present || !values.includes(labels[key]);
            case "Exists":
                return present;
            case "DoesNotExist":
                return !present;
            default:
                return false;
        }
    });
}

/** Volume types the Pod Security Standards "restricted" profile admits. */
export const RESTRICTED_VOLUME_TYPES: ReadonlySet<string> = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

/** The source types a volume declares: every key but its name. */
export function volumeTypes(volume: unknown): string[] {
    return isDict(volume) ? Object.keys(volume).filter((key) => key !== "name" && volume[key] !== undefined) : [];
}

/** Kubernetes kinds that live outside namespaces (and Pulumi's Kubernetes components). */
const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
]);

/** Pulumi Kubernetes types that are components or Helm releases rather than single objects. */
const NON_OBJECT_TYPES = /^kubernetes:(yaml|kustomize|helm\.sh)\//;

/** True for a Pulumi type token of a namespaced Kubernetes object (`kubernetes:core/v1:Pod`). */
export function isNamespacedKubernetesType(type: string): boolean {
    if (!type.startsWith("kubernetes:") || NON_OBJECT_TYPES.test(type)) {
        return false;
    }
    const kind = type.slice(type.lastIndexOf(":") + 1);
    return !CLUSTER_SCOPED_KINDS.has(kind);
}

/** The namespace a namespaced object lands in: its own, else the provider default (`default`). */
export function namespaceOf(props: unknown): string {
    return text(field(props, "metadata", "namespace")) ?? "default";
}

/** Namespaces no workload of this stack may use: the default one and Kubernetes' own. */
export function isReservedNamespace(namespace: string): boolean {
    return namespace === "default" || namespace.startsWith("kube-");
}

/** The pods a workload resource creates: where, with which labels and spec. */
export interface WorkloadPods {
    namespace: string;
    labels: Record<string, string>;
    spec: Dict;
}

/** Path from a workload kind's properties to its pod template (empty for a Pod). */
const TEMPLATE_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
    ["Pod", []],
    ["Job", ["spec", "template"]],
    ["CronJob", ["spec", "jobTemplate", "spec", "template"]],
    ["Deployment", ["spec", "template"]],
    ["StatefulSet", ["spec", "template"]],
    ["DaemonSet", ["spec", "template"]],
    ["ReplicaSet", ["spec", "template"]],
    ["ReplicationController", ["spec", "template"]],
]);

/** The pods of a workload resource, or undefined for a type that creates none. */
export function workloadPods(type: string, props: unknown): WorkloadPods | undefined {
    if (!type.startsWith("kubernetes:")) {
        return undefined;
    }
    const path = TEMPLATE_PATHS.get(type.slice(type.lastIndexOf(":") + 1));
    if (path === undefined) {
        return undefined;
    }
    const template = field(props, ...path);
    const spec = field(template, "spec");
    return {
        namespace: namespaceOf(props),
        labels: stringMap(field(template, "metadata", "labels")),
        spec: isDict(spec) ? spec : {},
    };
}
