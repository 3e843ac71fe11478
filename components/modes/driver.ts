// What an identity mode decides, as one interface each mode's driver implements (modes/index.ts lists
// them). Components ask the driver of the stack's mode; none compares mode names. A driver has two
// parts: what it says about pods, the cluster and config, which is plain data and pure functions;
// and `deploy`, which registers the mode's resources for one stack: cluster-wide ones once the cluster
// exists, each workload's while PodIdentityBinding builds it, and cluster-wide ones after every
// workload is bound.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { WorkloadConfig } from "../../config";
import type { IdentityType } from "../../identityModes";

/** The workload's Azure identity, as the mode binds it. */
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

/** The cluster, as the modes need it. */
export interface ModeCluster {
    /** The AksCluster component: the parent of cluster-wide resources that change the cluster itself. */
    component: pulumi.Resource;
    clusterName: pulumi.Input<string>;
    /** See AksCluster.revision: a change re-asserts what the mode wrote into the cluster. */
    revision: pulumi.Input<string>;
    /** The cluster's own writes after its creation; AKS runs one operation at a time, so a mode's write to the cluster waits for them. */
    writes: pulumi.Resource[];
    /** Resource group AKS created for the nodes. */
    nodeResourceGroup: pulumi.Input<string>;
    /** Object id of the control-plane identity. */
    controlPlaneObjectId: pulumi.Input<string>;
    /** Object id of the kubelet identity. */
    kubeletObjectId: pulumi.Input<string>;
    /** The cluster's OIDC issuer URL. */
    oidcIssuerUrl: pulumi.Input<string>;
    /** Kubernetes provider of the cluster. */
    provider: k8s.Provider;
    /** What the mode's own pods need outside the cluster before they start (the firewall's rule for them). Defaults to none. */
    egressReady?: pulumi.Resource[];
}

/** What `deploy` needs of the stack. */
export interface ModeStackArgs {
    subscriptionId: pulumi.Input<string>;
    tenantId: pulumi.Input<string>;
    /** Resource group of the cluster and the workload identities. */
    resourceGroupName: pulumi.Input<string>;
    cluster: ModeCluster;
    /**
     * Seconds to wait after writing a grant that Azure uses during a later step, for it to apply.
     * Defaults to ROLE_PROPAGATION_SECONDS (waits.ts).
     */
    rolePropagationSeconds?: number;
}

/** One workload being bound, as PodIdentityBinding hands it to the mode. */
export interface WorkloadBinding {
    /** The binding component's name: the prefix of the resources the mode adds. */
    name: string;
    workload: WorkloadConfig;
    identity: BoundIdentity;
    /** The workload's namespace, created by the binding. */
    namespace: k8s.core.v1.Namespace;
    /** Parent and provider of the resources the mode adds (the binding component and the cluster's provider). */
    opts: { parent: pulumi.Resource; provider: k8s.Provider };
}

/** The mode's resources of one stack. */
export interface ModeDeployment {
    /** What the mode asks of pods (the driver's `pods`). */
    readonly pods: ModePods;
    /** Adds the mode's resources for one workload; returns what its pods must wait for. */
    bind(binding: WorkloadBinding): pulumi.Resource[];
    /** Adds what the mode writes once every workload is bound; returns what every workload's pods must also wait for. */
    complete(): pulumi.Resource[];
}

/** An attempt of the verifier's impostor mode. */
export type ImpostorCheck = "labelledPod" | "azureIdentity" | "podIdentityException" | "tokenExchange";

/** One egress rule of a NetworkPolicy. */
export interface EgressRule {
    to: Array<{ ipBlock: { cidr: string; except?: string[] } }>;
    ports: Array<{ protocol: string; port: number }>;
}

/** What the mode asks of the demo's pods and of the SecretProviderClass. */
export interface ModePods {
    /** Labels a pod carries to use the workload's identity. */
    labels(workload: Pick<WorkloadConfig, "bindingSelector">): Record<string, string>;
    /** Annotations of a service account whose pods use the identity with client id `clientId`. */
    serviceAccountAnnotations(clientId: pulumi.Input<string>): Record<string, pulumi.Input<string>>;
    /** The SecretProviderClass's identity parameters: never the node's identity. */
    secretProviderIdentity(clientId: string): Record<string, string>;
    /** Egress a pod needs to get a token. */
    tokenEgress: EgressRule[];
    /** How the verifier gets its token: through the metadata endpoint, or the service-account token exchange. */
    tokenSource: "imds" | "workloadIdentity";
    /** Whether the verifier is told the client id (`AZURE_CLIENT_ID`); Workload ID's webhook injects it. */
    passClientId: boolean;
    /**
     * What the impostor verification Job tries from another namespace to take the identity (the
     * verifier's IMPOSTOR_CHECKS): in the pod-identity modes, a labelled pod and aad-pod-identity
     * objects the guards must refuse; with Workload ID, a token exchange Entra must refuse.
     */
    impostor: { checks: readonly ImpostorCheck[]; labelGuardPolicy?: (workload: Pick<WorkloadConfig, "name">) => string; crdGuardPolicy?: string };
    /**
     * The unbound verification Job's claim: labels and service-account annotations a pod that must be
     * refused carries. The pod-identity modes refuse a pod without the label; Workload ID refuses the
     * label under an account no credential trusts.
     */
    unbound: {
        labels(workload: Pick<WorkloadConfig, "bindingSelector">): Record<string, string>;
        serviceAccountAnnotations(clientId: pulumi.Input<string>): Record<string, pulumi.Input<string>>;
    };
}

/** One identity mode. */
export interface IdentityModeDriver<Name extends string = string> {
    /** The `identityMode` config value. */
    readonly name: Name;
    /** One line on what the mode runs, for the docs. */
    readonly summary: string;
    /** The identity types its workloads may have. */
    readonly identityTypes: readonly IdentityType[];
    /** Warned on every preview and update of a stack in this mode, if anything. */
    readonly warning: string | undefined;
    /** The cluster's identity machinery in this mode. */
    readonly cluster: { podIdentityAddon: boolean; workloadIdentity: boolean };
    /**
     * What the mode's pods reach outside the cluster themselves, which a firewall must admit: Entra ID's
     * token endpoint (Workload ID's pods exchange their tokens there), and the API server by its
     * address (pods outside kube-system, which AKS does not point at the API server's name).
     */
    readonly egress: { podsCallEntra: boolean; podsCallApiServer: boolean };
    /** Namespaces where the mode itself runs privileged pods, which the pod security initiative must leave alone. */
    readonly privilegedNamespaces: readonly string[];
    readonly pods: ModePods;
    /** Registers the mode's cluster-wide resources of one stack and returns what adds the rest. */
    deploy(stack: ModeStackArgs): ModeDeployment;
}
