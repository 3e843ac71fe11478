// The names config guards: the stack's base name, workloads' names, namespaces and service accounts,
// image references, and the names the stack keeps for itself.
import { ConfigError, describePath, fail, showValue } from "./errors";
import type { WorkloadConfig } from "./types";

/**
 * The name of the canary: a Key Vault secret and a blob container that no identity is granted, which
 * every bound verification Job tries to read (and the container to write) and must be refused.
 */
export const CANARY_NAME = "canary";

/**
 * Namespaces the cluster already has or that AKS, its add-ons or this stack create for themselves: a
 * workload's own Namespace resource would collide with them. Kubernetes creates default and the
 * kube-* ones; AKS's Calico runs its operator in tigera-operator and Calico in calico-system; the
 * Azure Policy add-on uses gatekeeper-system, application routing app-routing-system, the Istio
 * add-on aks-istio-system, `az aks command invoke` aks-command (AKS docs, managed-namespaces and
 * core-aks-concepts); this stack installs aad-pod-identity in aad-pod-identity and plays another
 * tenant of the cluster from aiv-impostor.
 */
/** The namespace from which the stack plays another tenant of the cluster (components/impostorProof.ts). */
export const IMPOSTOR_NAMESPACE = "aiv-impostor";

export const RESERVED_NAMESPACES = [
    "default",
    "aad-pod-identity",
    IMPOSTOR_NAMESPACE,
    "calico-system",
    "tigera-operator",
    "gatekeeper-system",
    "app-routing-system",
    "aks-istio-system",
    "istio-system",
    "aks-command",
] as const;
/**
 * The longest base name (`aiv-<stack>`) whose derived names Azure accepts: it is the cluster's DNS
 * prefix, at most 54 characters (the AKS API's rule, as terraform-provider-azurerm validates it), and
 * `aks-<base>` is the cluster's name, at most 63 (Azure's resource naming rules).
 */
export const MAX_BASE_NAME_LENGTH = 54;
/** The workload names whose identity (`id-<base>-<name>`) would be one of the cluster's own identities. */
export const CLUSTER_IDENTITY_SUFFIXES = ["aks", "aks-kubelet"] as const;
/** The service account the demo's unbound Job runs as, in the workload's namespace. Exported for testing. */
export function unboundServiceAccountName(workloadName: string): string {
    return `${workloadName}-unbound`;
}

// ---------------------------------------------------------------------------------------------
// Names. Exported for testing.

/** Kubernetes namespace names: RFC 1123 labels. */
export const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Workload names: they become blob container, identity and secret names. */
export const WORKLOAD_NAME_PATTERN = /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/;
/** Kubernetes service account names: RFC 1123 subdomains. */
export const SERVICE_ACCOUNT_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kubernetes label values. */
export const LABEL_VALUE_PATTERN = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** The parts of a container image reference. */
export interface ImageReference {
    /** Registry host with its optional port (`myregistry.example.com:5000`); absent for Docker Hub's short names. */
    domain?: string;
    /** Repository path below the registry (`mirror/node`). */
    path: string;
    tag?: string;
    /** `algorithm:hex`, such as `sha256:…`. */
    digest?: string;
}

// The reference grammar of the distribution project (github.com/distribution/reference, which
// containerd and the kubelet parse image names with): a domain is a host with an optional port.
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const IMAGE_REFERENCE = new RegExp(
    `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);
/** The longest name (domain and path) the grammar allows. */
const IMAGE_NAME_MAX_LENGTH = 255;
/** Digest algorithms registered by the OCI image specification, with their hex lengths. */
const DIGEST_HEX_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

/**
 * Parses a container image reference (`[domain[:port]/]path[:tag][@digest]`), or returns undefined
 * when it is not one. A first component is the registry only when a path follows it. Exported for
 * testing.
 */
export function parseImageReference(reference: string): ImageReference | undefined {
    const match = IMAGE_REFERENCE.exec(reference);
    if (match === null) {
        return undefined;
    }
    const [, domain, path, tag, digest] = match;
    const name = domain === undefined ? path : `${domain}/${path}`;
    if (name.length > IMAGE_NAME_MAX_LENGTH) {
        return undefined;
    }
    if (digest !== undefined) {
        const [algorithm, hex] = digest.split(":");
        if (DIGEST_HEX_LENGTHS[algorithm] !== hex.length || hex !== hex.toLowerCase()) {
            return undefined;
        }
    }
    return {
        ...(domain === undefined ? {} : { domain }),
        path,
        ...(tag === undefined ? {} : { tag }),
        ...(digest === undefined ? {} : { digest }),
    };
}

/** True when a reference names one image for good: a digest, or a tag other than `latest`. Exported for testing. */
export function isPinnedImageReference(reference: ImageReference | undefined): boolean {
    return reference !== undefined && (reference.digest !== undefined || (reference.tag !== undefined && reference.tag !== "latest"));
}

/** Derives the lower-case resource name prefix from the stack name: `dev` becomes `aiv-dev`. */
export function baseNameForStack(stack: string): string {
    const cleaned = stack
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "");
    if (cleaned === "") {
        throw new ConfigError(`Invalid stack name ${showValue(stack)}: it must contain at least one letter or digit.`);
    }
    const baseName = `aiv-${cleaned}`;
    if (baseName.length > MAX_BASE_NAME_LENGTH) {
        throw new ConfigError(
            `Invalid stack name ${showValue(stack)}: the names derived from it would be too long for Azure (the cluster's DNS prefix ${baseName} is ${baseName.length} characters, at most ${MAX_BASE_NAME_LENGTH}); use a stack name of at most ${MAX_BASE_NAME_LENGTH - 4} letters, digits and hyphens.`,
        );
    }
    return baseName;
}

/** Refuses a workload whose names would be names the stack derives for itself. */
export function checkStackNames(workload: WorkloadConfig, index: number, baseName: string): void {
    if (workload.name === CANARY_NAME) {
        fail(describePath("workloads", [index, "name"]), workload.name, "is the canary's name: its container and secret are granted to nobody; choose another name");
    }
    if ((CLUSTER_IDENTITY_SUFFIXES as readonly string[]).includes(workload.name)) {
        fail(describePath("workloads", [index, "name"]), workload.name, `its identity id-${baseName}-${workload.name} would be one of the cluster's own identities; choose another name`);
    }
    if (workload.serviceAccount === "default") {
        fail(
            describePath("workloads", [index, "serviceAccount"]),
            workload.serviceAccount,
            "is the account Kubernetes creates in every namespace, which every pod without an account of its own runs as; give the workload an account of its own",
        );
    }
    if (workload.serviceAccount === unboundServiceAccountName(workload.name)) {
        fail(describePath("workloads", [index, "serviceAccount"]), workload.serviceAccount, "is the account of the workload's unbound verification Job; choose another name");
    }
}

export function checkUnique(workloads: WorkloadConfig[], field: "name" | "namespace" | "bindingSelector"): void {
    const seen = new Map<string, number>();
    workloads.forEach((w, index) => {
        const first = seen.get(w[field]);
        if (first !== undefined) {
            fail(describePath("workloads", [index, field]), w[field], `workloads[${first}] already uses it; each workload needs its own ${field}`);
        }
        seen.set(w[field], index);
    });
}
