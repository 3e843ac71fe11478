// The identity modes by name: the values `identityMode` takes, what the docs say of each, and the
// identity types each allows. A leaf: it imports nothing of the project, so that config.ts, which
// depends on no component, and the drivers in components/modes/, which implement these modes and
// take config's types, both read the modes from here. A new mode is an entry here and its driver.

export const IDENTITY_TYPES = ["managedIdentity", "servicePrincipal"] as const;
/** What Azure identity a workload has: a user-assigned managed identity, or (open-source aad-pod-identity only) a service principal. */
export type IdentityType = (typeof IDENTITY_TYPES)[number];

/** What config and the docs say of a mode, and which identity types its workloads may have. */
export interface IdentityModeEntry {
    /** One line on what the mode runs, for the docs. */
    readonly summary: string;
    /** The identity types its workloads may have. */
    readonly identityTypes: readonly IdentityType[];
}

/** Every mode, in the order the docs list them. */
export const IDENTITY_MODE_CATALOG = {
    podIdentityAddon: {
        summary: "the AKS pod-identity add-on (deprecated): the cluster's control plane assigns each identity, one cluster update writes every workload's entry",
        identityTypes: ["managedIdentity"],
    },
    podIdentityOss: {
        summary: "the open-source aad-pod-identity (archived), installed from its Helm chart: MIC assigns each identity as the kubelet, namespaced; the only mode with service-principal workloads",
        identityTypes: ["managedIdentity", "servicePrincipal"],
    },
    workloadIdentity: {
        summary: "Microsoft Entra Workload ID: a federated credential per workload trusts its service account's tokens; no identity machinery in the cluster",
        identityTypes: ["managedIdentity"],
    },
} as const satisfies Readonly<Record<string, IdentityModeEntry>>;

/** How workloads obtain their Azure identity. */
export type IdentityMode = keyof typeof IDENTITY_MODE_CATALOG;

/** The mode names, as config accepts them, in the docs' order. */
export const IDENTITY_MODES: readonly [IdentityMode, ...IdentityMode[]] = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"];

/**
 * The mode of a stack that sets no `identityMode`: the add-on, what stacks ran before the setting
 * existed, so that leaving it unset never switches a deployed stack's mode.
 */
export const DEFAULT_IDENTITY_MODE: IdentityMode = "podIdentityAddon";

/** The modes whose workloads may have identities of `type`. */
export function modesAllowing(type: IdentityType): IdentityMode[] {
    return IDENTITY_MODES.filter((mode) => (IDENTITY_MODE_CATALOG[mode].identityTypes as readonly IdentityType[]).includes(type));
}
