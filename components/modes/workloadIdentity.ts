// identityMode workloadIdentity: Microsoft Entra Workload ID. Per workload, a federated identity
// credential on the workload identity trusts the tokens of exactly its service account, issued by
// the cluster's OIDC issuer; the service account names the identity's client id, pods opt in with a
// label, and AKS's webhook gives them the token file and the variables the Azure SDKs read. Pods get
// their Entra token from Entra ID itself, which has public addresses only.
import { IDENTITY_MODE_CATALOG } from "../../identityModes";
import { createHash } from "crypto";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import type * as pulumi from "@pulumi/pulumi";
import type { IdentityModeDriver, ModeDeployment, ModePods, ModeStackArgs } from "./driver";

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

/** Addresses that are never the public Entra ID endpoint. */
const NON_PUBLIC = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8"];

const label = { "azure.workload.identity/use": "true" };
const clientIdAnnotation = (clientId: pulumi.Input<string>): Record<string, pulumi.Input<string>> => ({ "azure.workload.identity/client-id": clientId });

const PODS: ModePods = {
    labels: () => ({ ...label }),
    serviceAccountAnnotations: clientIdAnnotation,
    secretProviderIdentity: (clientId) => ({ usePodIdentity: "false", clientID: clientId }),
    // Entra ID has public addresses only, and a NetworkPolicy cannot name hosts.
    tokenEgress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: NON_PUBLIC } }], ports: [{ protocol: "TCP", port: 443 }] }],
    tokenSource: "workloadIdentity",
    // The webhook injects AZURE_CLIENT_ID (from the service account), the tenant, the authority and the token file.
    passClientId: false,
    // From another namespace, the impostor offers its own service-account token for the workload's client id.
    impostor: { checks: ["tokenExchange"] },
    // The label, under an account that names the workload's client id but that no credential trusts.
    unbound: { labels: () => ({ ...label }), serviceAccountAnnotations: clientIdAnnotation },
};

function deploy(stack: ModeStackArgs): ModeDeployment {
    return {
        pods: PODS,
        bind: ({ name, workload, identity, opts }) => [
            new managedidentity.FederatedIdentityCredential(
                `${name}-federation`,
                {
                    federatedIdentityCredentialResourceName: federatedCredentialName(workload.namespace, workload.serviceAccount),
                    resourceName: identity.identityName,
                    resourceGroupName: stack.resourceGroupName,
                    issuer: stack.cluster.oidcIssuerUrl,
                    subject: `system:serviceaccount:${workload.namespace}:${workload.serviceAccount}`,
                    audiences: [WORKLOAD_IDENTITY_AUDIENCE],
                },
                { parent: opts.parent },
            ),
        ],
        complete: () => [],
    };
}

export const workloadIdentity: IdentityModeDriver<"workloadIdentity"> = {
    name: "workloadIdentity",
    ...IDENTITY_MODE_CATALOG.workloadIdentity,
    warning: undefined,
    cluster: { podIdentityAddon: false, workloadIdentity: true },
    // Each workload's pods exchange their service account token with Entra ID.
    egress: { podsCallEntra: true, podsCallApiServer: false },
    privilegedNamespaces: [],
    pods: PODS,
    deploy,
};
