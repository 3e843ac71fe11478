// Azure Resource Manager side of the stack's pod identities in an AKS cluster's pod-identity add-on:
// plain functions over an injected client, with no Pulumi in them (the dynamic provider of
// podIdentities.ts is built on them). Azure refuses pod identities in the request that creates a
// cluster, and the cluster resource can only declare them on itself, so the stack's entries of
// `properties.podIdentityProfile.userAssignedIdentities` are managed apart from it: read the cluster,
// change only the entries asked for, write the cluster back with the read ETag in If-Match (what
// `az aks pod-identity add|delete` does, without the az CLI). Concurrent writers never lose each
// other's entries: a stale write is refused with 412 and redone on a fresh read. Azure's "another
// operation is in progress" (409) and throttling (429, honoring Retry-After) answers are retried for a
// bounded time.
//
// Credentials and endpoint, read by the provider when it runs (during `pulumi up`):
// - ARM_CLIENT_ID + ARM_TENANT_ID + ARM_CLIENT_SECRET: a service principal secret (the ARM_* variables
//   of Pulumi's and Terraform's Azure providers);
// - ARM_CLIENT_ID + ARM_TENANT_ID + ARM_OIDC_TOKEN or ARM_OIDC_TOKEN_FILE_PATH: a federated token;
// - ARM_USE_OIDC=true + ARM_CLIENT_ID + ARM_TENANT_ID in GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL and
//   _TOKEN, which `id-token: write` gives): a new GitHub ID token for each Entra token, as azure-native
//   does with the same variables (its auth_azidentity.go), since each lives only minutes;
// - otherwise `DefaultAzureCredential`: the AZURE_* environment (secret, certificate, workload
//   identity), managed identity (ARM_CLIENT_ID picks a user-assigned one when ARM_USE_MSI=true),
//   `az login`, `azd auth login`, Azure PowerShell;
// - AZURE_RESOURCE_MANAGER_ENDPOINT: the Azure Resource Manager endpoint, `https://management.azure.com`
//   unless set (or unless ARM_ENVIRONMENT is `usgovernment` or `china`); the token scope is the
//   endpoint's origin + `/.default`, or AZURE_RESOURCE_MANAGER_SCOPE when set; AZURE_AUTHORITY_HOST
//   (or ARM_ENVIRONMENT) picks the Microsoft Entra authority of sovereign clouds.
import { readFileSync } from "fs";
import { ContainerServiceClient, isRestError } from "@azure/arm-containerservice";
import type {
    ContainerServiceClientOptionalParams,
    ManagedCluster,
    ManagedClusterPodIdentity,
    ManagedClustersCreateOrUpdateOptionalParams,
    ManagedClustersGetOptionalParams,
} from "@azure/arm-containerservice";
import { ClientAssertionCredential, ClientSecretCredential, DefaultAzureCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/identity";

// ---------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------

/** The cluster to change; its subscription is the client's. */
export interface ClusterRef {
    /** Resource group of the cluster. */
    resourceGroupName: string;
    /** Name of the cluster. */
    clusterName: string;
}

/** The user-assigned managed identity a pod identity hands out. */
export interface PodIdentityIdentity {
    /** ARM id of the user-assigned identity. */
    resourceId: string;
    /** Application (client) id of the identity. */
    clientId: string;
    /** Object id of the identity's service principal. */
    objectId: string;
}

/** One entry of `podIdentityProfile.userAssignedIdentities`, writable fields only. */
export interface PodIdentityEntry {
    /** Pod identity name (the AzureIdentity's name in the namespace). */
    name: string;
    /** Kubernetes namespace of the pod identity. */
    namespace: string;
    /** Value of the `aadpodidbinding` pod label that selects this identity. */
    bindingSelector: string;
    /** The user-assigned identity handed out. */
    identity: PodIdentityIdentity;
}

/** An entry as read from a cluster, with the add-on's provisioning state of it. */
export interface AttachedPodIdentity extends PodIdentityEntry {
    /** `Assigned`, `Updating`, `Failed`... as the add-on reports it; absent when Azure omits it. */
    provisioningState?: string;
}

/** How long and how often the ARM calls are retried. */
export interface RetryPolicy {
    /** Total time allowed for one operation, waits and in-flight requests included. */
    budgetMs: number;
    /** First wait after a retryable answer; doubles on each retry. */
    initialDelayMs: number;
    /** Longest wait between two attempts, unless Azure's Retry-After asks for more. */
    maxDelayMs: number;
    /** Interval between polls of a long-running cluster update; the SDK's default (or Retry-After) when absent. */
    pollIntervalMs?: number;
}

/**
 * The two `managedClusters` operations this file uses, as `ContainerServiceClient` has them; tests may
 * pass any object of this shape.
 */
export interface ManagedClusterApi {
    /** `get` and `beginCreateOrUpdateAndWait` of `ContainerServiceClient.managedClusters`. */
    managedClusters: {
        get(resourceGroupName: string, resourceName: string, options?: ManagedClustersGetOptionalParams): Promise<ManagedCluster>;
        beginCreateOrUpdateAndWait(resourceGroupName: string, resourceName: string, parameters: ManagedCluster, options?: ManagedClustersCreateOrUpdateOptionalParams): Promise<ManagedCluster>;
    };
}

/** Where the ARM calls go and which token they carry. */
export interface ArmSettings {
    /** Azure Resource Manager endpoint, such as `https://management.azure.com`. */
    endpoint: string;
    /** Token scope requested from Microsoft Entra ID. */
    scope: string;
    /** Microsoft Entra authority host for sovereign clouds; the credential's default when absent. */
    authorityHost?: string;
}

/** Which credential `createCredential` builds from an environment. */
export type CredentialSource = "armClientSecret" | "armOidcToken" | "armGitHubOidc" | "default";

/** Variables read from the environment; `process.env` fits. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Retries for real Azure: 20 minutes in all, waits from 5 s doubling up to 60 s. */
const defaultRetryPolicy: RetryPolicy = { budgetMs: 20 * 60_000, initialDelayMs: 5_000, maxDelayMs: 60_000 };

// Exported under another name so that the functions of this file refer to the constant itself, which
// keeps the module's exports out of the serialized dynamic provider.
export { defaultRetryPolicy as DEFAULT_RETRY_POLICY };

// ---------------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------------

/** True when `entry` is the pod identity `namespace`/`name`. */
export function isEntry(entry: { namespace: string; name: string }, namespace: string, name: string): boolean {
    return entry.namespace === namespace && entry.name === name;
}

/** The entry `namespace`/`name` of `list`, if any. */
export function findEntry<T extends { namespace: string; name: string }>(list: readonly T[], namespace: string, name: string): T | undefined {
    return list.find((e) => isEntry(e, namespace, name));
}

/**
 * `list` with `entry` in it: it replaces the entry of the same namespace and name in place, or is
 * appended. The other entries are kept as they are, in their order.
 */
export function withEntry(list: readonly ManagedClusterPodIdentity[], entry: PodIdentityEntry): ManagedClusterPodIdentity[] {
    const index = list.findIndex((e) => isEntry(e, entry.namespace, entry.name));
    const copy = { ...entry, identity: { ...entry.identity } };
    return index < 0 ? [...list, copy] : list.map((e, i) => (i === index ? copy : e));
}

/** `list` without the entry `namespace`/`name`; the others are kept as they are, in their order. */
export function withoutEntry(list: readonly ManagedClusterPodIdentity[], namespace: string, name: string): ManagedClusterPodIdentity[] {
    return list.filter((e) => !isEntry(e, namespace, name));
}

/** Text equality ignoring case, for ARM ids, names and GUIDs, which Azure compares so. */
export function sameText(a: unknown, b: unknown): boolean {
    return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

/** True when both values are identities with the same resource id, client id and object id (ignoring case). */
export function sameIdentity(a: unknown, b: unknown): boolean {
    if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
        return false;
    }
    const keys = ["resourceId", "clientId", "objectId"];
    return keys.every((key) => sameText(Reflect.get(a, key), Reflect.get(b, key)));
}

/** True when the two entries have the same key, selector and identity. */
export function sameEntry(a: ManagedClusterPodIdentity, b: PodIdentityEntry): boolean {
    return isEntry(a, b.namespace, b.name) && (a.bindingSelector ?? "") === b.bindingSelector && sameIdentity(a.identity, b.identity);
}

/** Only the writable fields of an entry, as a PUT sends them. */
function writableEntry(e: ManagedClusterPodIdentity): ManagedClusterPodIdentity {
    return {
        name: e.name,
        namespace: e.namespace,
        bindingSelector: e.bindingSelector,
        identity: { resourceId: e.identity.resourceId, clientId: e.identity.clientId, objectId: e.identity.objectId },
    };
}

/** An entry as read, with absent fields as empty strings. */
function attachedEntry(e: ManagedClusterPodIdentity): AttachedPodIdentity {
    return {
        name: e.name,
        namespace: e.namespace,
        bindingSelector: e.bindingSelector ?? "",
        identity: { resourceId: e.identity?.resourceId ?? "", clientId: e.identity?.clientId ?? "", objectId: e.identity?.objectId ?? "" },
        ...(e.provisioningState === undefined ? {} : { provisioningState: e.provisioningState }),
    };
}

/** ARM id of a managed cluster. */
export function clusterResourceId(subscriptionId: string, cluster: ClusterRef): string {
    return `/subscriptions/${subscriptionId}/resourceGroups/${cluster.resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/${cluster.clusterName}`;
}

/** Pulumi id of a cluster's pod identities: `<cluster ARM id>/podIdentities`. */
export function podIdentitiesId(subscriptionId: string, cluster: ClusterRef): string {
    return `${clusterResourceId(subscriptionId, cluster)}/podIdentities`;
}

/** HTTP status of an ARM error, if it has one. */
function statusOf(error: unknown): number | undefined {
    return isRestError(error) ? error.statusCode : undefined;
}

/** Azure error code (or Node system error code) of an error, if it has one. */
function codeOf(error: unknown): string | undefined {
    if (typeof error !== "object" || error === null) {
        return undefined;
    }
    const code: unknown = Reflect.get(error, "code");
    return typeof code === "string" && code !== "" ? code : undefined;
}

/**
 * True when trying again may succeed: 409 answers other than a resource lock ("another operation is
 * in progress": `OperationNotAllowed`, `AnotherOperationInProgress`, `Conflict`...), 412 (the cluster
 * changed since it was read), 408, 429, 5xx but 501 and 505, network failures, and long-running
 * operations that were canceled or failed with one of those codes.
 */
export function isRetryable(error: unknown): boolean {
    const conflictCodes = ["OperationNotAllowed", "AnotherOperationInProgress", "Conflict", "OperationPreempted", "PreconditionFailed", "RetryableError"];
    const networkCodes = ["REQUEST_SEND_ERROR", "ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ECONNABORTED", "UND_ERR_SOCKET"];
    const status = statusOf(error);
    const code = codeOf(error);
    if (status !== undefined) {
        if (status === 409) {
            return code !== "ScopeLocked";
        }
        return status === 408 || status === 412 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
    }
    if (code !== undefined) {
        return conflictCodes.includes(code) || networkCodes.includes(code);
    }
    if (error instanceof Error) {
        if (error.message === "Operation was canceled") {
            return true;
        }
        const failed = /^The long-running operation has failed\. ([A-Za-z]+)\./.exec(error.message);
        return failed !== null && conflictCodes.includes(failed[1]);
    }
    return false;
}

/** Wait Azure asks for in an error's Retry-After (or retry-after-ms) header, in milliseconds. */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
    if (!isRestError(error) || error.response === undefined) {
        return undefined;
    }
    const headers = error.response.headers;
    for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
        const value = Number(headers.get(name));
        if (headers.get(name) !== undefined && Number.isFinite(value) && value >= 0) {
            return value;
        }
    }
    const text = headers.get("retry-after");
    if (text === undefined || text.trim() === "") {
        return undefined;
    }
    const seconds = Number(text);
    if (Number.isFinite(seconds)) {
        return Math.max(0, seconds * 1000);
    }
    const date = Date.parse(text);
    return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/**
 * How long to wait before retry number `retry` (1 for the first) after `error`: exponential from
 * `initialDelayMs`, capped at `maxDelayMs`, with jitter (half to all of it); never less than Azure's
 * Retry-After. A 412 (the cluster changed since it was read) is retried after a short random wait.
 */
export function retryDelayMs(error: unknown, retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
    const asked = retryAfterMs(error) ?? 0;
    if (statusOf(error) === 412) {
        return Math.max(asked, Math.round(random() * policy.initialDelayMs));
    }
    const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(30, Math.max(0, retry - 1)));
    return Math.max(asked, Math.round(exponential * (0.5 + random() * 0.5)));
}

/** Status, code and message of an error, for messages. */
export function describeError(error: unknown): string {
    const status = statusOf(error);
    const code = codeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    const head = [status === undefined ? "" : `HTTP ${status}`, code ?? ""].filter((s) => s !== "").join(" ");
    return head === "" ? message : `${head}: ${message}`;
}

/** Milliseconds as `1m05s`, `850 ms`. */
function duration(ms: number): string {
    if (ms < 1000) {
        return `${Math.round(ms)} ms`;
    }
    const seconds = Math.round(ms / 1000);
    return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

/**
 * Runs `attempt` until it succeeds, fails with an answer that is not retryable, or `policy.budgetMs`
 * has passed; in-flight requests are aborted at the deadline. Errors name the operation and cluster.
 */
async function withRetries<T>(operation: string, cluster: ClusterRef, policy: RetryPolicy, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const subject = `${operation} AKS cluster "${cluster.clusterName}" in resource group "${cluster.resourceGroupName}"`;
    const started = Date.now();
    const deadline = started + policy.budgetMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), policy.budgetMs);
    let attempts = 0;
    let retries = 0;
    let lastError: unknown = undefined;
    const gaveUp = (reason: string): Error =>
        new Error(
            `Gave up trying to ${subject} after ${attempts} attempt${attempts === 1 ? "" : "s"} in ${duration(Date.now() - started)} ` +
                `(retry budget ${duration(policy.budgetMs)}${reason}); last answer: ${lastError === undefined ? "none" : describeError(lastError)}`,
            { cause: lastError },
        );
    try {
        for (;;) {
            attempts += 1;
            try {
                return await attempt(controller.signal);
            } catch (error) {
                if (controller.signal.aborted) {
                    throw gaveUp("; the last request was cut off at the deadline");
                }
                if (!isRetryable(error)) {
                    throw new Error(`Could not ${subject}: ${describeError(error)}`, { cause: error });
                }
                lastError = error;
                retries += 1;
                const delay = retryDelayMs(error, retries, policy);
                if (Date.now() + delay >= deadline) {
                    throw gaveUp(delay > policy.maxDelayMs ? `; Azure asked to wait ${duration(delay)}` : "");
                }
                await new Promise((resolve) => setTimeout(resolve, delay));
            }
        }
    } finally {
        clearTimeout(timer);
    }
}

// ---------------------------------------------------------------------------------------------------
// ARM operations
// ---------------------------------------------------------------------------------------------------

/** The cluster and its ETag (from the body, else the header), or undefined when it does not exist. */
async function getCluster(client: ManagedClusterApi, cluster: ClusterRef, signal: AbortSignal): Promise<{ current: ManagedCluster; etag?: string } | undefined> {
    let headerEtag: string | undefined;
    try {
        const current = await client.managedClusters.get(cluster.resourceGroupName, cluster.clusterName, {
            abortSignal: signal,
            onResponse: (raw) => {
                headerEtag = raw.headers.get("etag") ?? undefined;
            },
        });
        const etag = current.eTag ?? headerEtag;
        return etag === undefined ? { current } : { current, etag };
    } catch (error) {
        if (statusOf(error) === 404) {
            return undefined;
        }
        throw error;
    }
}

/**
 * Writes `current` back with `entries` as its pod identities: `podIdentityProfile` gets
 * `enabled: true`, the read `allowNetworkPluginKubenet` and exceptions, and only the writable fields of
 * each entry; the SDK's serializer leaves out the cluster's read-only properties. If-Match carries the
 * read ETag, so a write based on a stale read is refused with 412.
 */
async function putPodIdentities(
    client: ManagedClusterApi,
    cluster: ClusterRef,
    current: ManagedCluster,
    etag: string | undefined,
    entries: readonly ManagedClusterPodIdentity[],
    policy: RetryPolicy,
    signal: AbortSignal,
): Promise<ManagedCluster> {
    const profile = current.podIdentityProfile;
    const parameters: ManagedCluster = {
        ...current,
        podIdentityProfile: {
            enabled: true,
            allowNetworkPluginKubenet: profile?.allowNetworkPluginKubenet,
            userAssignedIdentities: entries.map(writableEntry),
            userAssignedIdentityExceptions: profile?.userAssignedIdentityExceptions,
        },
    };
    return client.managedClusters.beginCreateOrUpdateAndWait(cluster.resourceGroupName, cluster.clusterName, parameters, {
        ifMatch: etag,
        abortSignal: signal,
        updateIntervalInMs: policy.pollIntervalMs,
    });
}

/** The entries of a cluster's pod-identity profile. */
function entriesOf(cluster: ManagedCluster): ManagedClusterPodIdentity[] {
    return cluster.podIdentityProfile?.userAssignedIdentities ?? [];
}

/** A change to one entry: attach it (add it, or change the entry of the same namespace and name), or detach it. */
export type PodIdentityChange = { attach: PodIdentityEntry } | { detach: { namespace: string; name: string } };

/** What one change of a batch came to: the entry as attached, whether a detach removed anything, or why it failed. */
export type PodIdentityOutcome = { attached: AttachedPodIdentity } | { removed: boolean } | { failed: string };

/** The entry a change is about. */
function changeKey(change: PodIdentityChange): { namespace: string; name: string } {
    return "attach" in change ? change.attach : change.detach;
}

/** What a change is called in messages: `attach pod identity "ns/name" to`. */
function changeOperation(change: PodIdentityChange): string {
    const { namespace, name } = changeKey(change);
    return `${"attach" in change ? "attach" : "remove"} pod identity "${namespace}/${name}" ${"attach" in change ? "to" : "from"}`;
}

/** The outcome of an attach once the cluster holds `entries`: the stored entry, or why it is not usable. */
function attachOutcome(entries: readonly ManagedClusterPodIdentity[], entry: PodIdentityEntry): PodIdentityOutcome {
    const stored = findEntry(entries, entry.namespace, entry.name);
    if (stored === undefined) {
        return { failed: "the entry is missing from the cluster after the update; another writer may have replaced the pod identities" };
    }
    if (stored.provisioningState === "Failed") {
        const detail = stored.provisioningInfo?.error?.error;
        return { failed: `the pod-identity add-on reports the entry as Failed${detail ? `: ${detail.code ?? ""} ${detail.message ?? ""}`.trimEnd() : ""}` };
    }
    return { attached: attachedEntry(stored) };
}

/**
 * Applies `changes` to the cluster's pod identities with one read and at most one write, keeping every
 * other entry; the outcomes are in the order of the changes. An attach writes unless its entry is there
 * already, unchanged and not failed, with the add-on enabled; it fails when the cluster does not exist
 * or the add-on reports the entry as failed. A detach writes only when its entry is there and the
 * add-on is enabled (a switch to another identity mode turned it off, and writing the profile back
 * would turn it on again); it removes nothing when the cluster or the entry is already gone. A write
 * based on a stale read is refused (412) and the whole batch is redone on a fresh read.
 */
export async function applyPodIdentityChanges(
    client: ManagedClusterApi,
    cluster: ClusterRef,
    changes: readonly PodIdentityChange[],
    policy: RetryPolicy = defaultRetryPolicy,
): Promise<PodIdentityOutcome[]> {
    const operation = changes.length === 1 ? changeOperation(changes[0]) : `update ${changes.length} pod identities of`;
    return withRetries(operation, cluster, policy, async (signal) => {
        const read = await getCluster(client, cluster, signal);
        const gone = changes.map((change): PodIdentityOutcome => ("attach" in change ? { failed: "the cluster does not exist (HTTP 404)" } : { removed: false }));
        if (read === undefined) {
            return gone;
        }
        const enabled = read.current.podIdentityProfile?.enabled === true;
        let entries = entriesOf(read.current);
        const writes = changes.map((change) => {
            if ("attach" in change) {
                const existing = findEntry(entries, change.attach.namespace, change.attach.name);
                entries = withEntry(entries, change.attach);
                return existing === undefined || !sameEntry(existing, change.attach) || !enabled || existing.provisioningState === "Failed";
            }
            const present = findEntry(entries, change.detach.namespace, change.detach.name) !== undefined;
            entries = withoutEntry(entries, change.detach.namespace, change.detach.name);
            return present && enabled;
        });
        if (!writes.includes(true)) {
            return changes.map((change): PodIdentityOutcome => ("attach" in change ? attachOutcome(entriesOf(read.current), change.attach) : { removed: false }));
        }
        let updated: ManagedCluster;
        try {
            updated = await putPodIdentities(client, cluster, read.current, read.etag, entries, policy, signal);
        } catch (error) {
            if (statusOf(error) === 404) {
                return gone;
            }
            throw error;
        }
        return changes.map((change, i): PodIdentityOutcome => ("attach" in change ? attachOutcome(entriesOf(updated), change.attach) : { removed: writes[i] }));
    });
}

/** The message of a change that failed: `Could not attach pod identity "ns/name" to AKS cluster ...: reason`. */
export function changeFailure(change: PodIdentityChange, cluster: ClusterRef, reason: string): string {
    return `Could not ${changeOperation(change)} AKS cluster "${cluster.clusterName}" in resource group "${cluster.resourceGroupName}": ${reason}`;
}

/** The entries of the cluster's pod-identity profile as read, or undefined when the cluster is gone. */
export async function readPodIdentities(client: ManagedClusterApi, cluster: ClusterRef, policy: RetryPolicy = defaultRetryPolicy): Promise<AttachedPodIdentity[] | undefined> {
    return withRetries("read the pod identities of", cluster, policy, async (signal) => {
        const read = await getCluster(client, cluster, signal);
        return read === undefined ? undefined : entriesOf(read.current).map(attachedEntry);
    });
}

// ---------------------------------------------------------------------------------------------------
// Credentials and client
// ---------------------------------------------------------------------------------------------------

/**
 * Endpoint, token scope and authority from the environment: AZURE_RESOURCE_MANAGER_ENDPOINT (an https
 * URL), else the cloud of ARM_ENVIRONMENT (`public`, `usgovernment`, `china`), else
 * `https://management.azure.com`; AZURE_RESOURCE_MANAGER_SCOPE, else `<endpoint origin>/.default`;
 * AZURE_AUTHORITY_HOST, else the cloud's authority when ARM_ENVIRONMENT is set.
 */
export function armSettingsFromEnv(env: Environment = process.env): ArmSettings {
    const clouds: Record<string, { endpoint: string; authorityHost: string }> = {
        public: { endpoint: "https://management.azure.com", authorityHost: "https://login.microsoftonline.com" },
        usgovernment: { endpoint: "https://management.usgovcloudapi.net", authorityHost: "https://login.microsoftonline.us" },
        china: { endpoint: "https://management.chinacloudapi.cn", authorityHost: "https://login.chinacloudapi.cn" },
    };
    const environment = env.ARM_ENVIRONMENT?.trim().toLowerCase() || undefined;
    const cloud = environment === undefined ? undefined : clouds[environment];
    if (environment !== undefined && cloud === undefined) {
        throw new Error(`ARM_ENVIRONMENT "${env.ARM_ENVIRONMENT}" is not one of ${Object.keys(clouds).join(", ")}; set AZURE_RESOURCE_MANAGER_ENDPOINT instead`);
    }
    const text = env.AZURE_RESOURCE_MANAGER_ENDPOINT?.trim() || cloud?.endpoint || "https://management.azure.com";
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        throw new Error(`AZURE_RESOURCE_MANAGER_ENDPOINT "${text}" is not a URL`);
    }
    if (url.protocol !== "https:") {
        throw new Error(`AZURE_RESOURCE_MANAGER_ENDPOINT "${text}" must be an https URL: the Azure SDK sends bearer tokens only over TLS`);
    }
    const endpoint = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    const scope = env.AZURE_RESOURCE_MANAGER_SCOPE?.trim() || `${url.origin}/.default`;
    const authorityHost = env.AZURE_AUTHORITY_HOST?.trim() || cloud?.authorityHost;
    return authorityHost === undefined ? { endpoint, scope } : { endpoint, scope, authorityHost };
}

/** Which credential the environment selects; see `createCredential`. */
export function credentialSourceFromEnv(env: Environment = process.env): CredentialSource {
    if (env.ARM_CLIENT_ID && env.ARM_TENANT_ID && env.ARM_CLIENT_SECRET) {
        return "armClientSecret";
    }
    if (env.ARM_CLIENT_ID && env.ARM_TENANT_ID && (env.ARM_OIDC_TOKEN || env.ARM_OIDC_TOKEN_FILE_PATH)) {
        return "armOidcToken";
    }
    if ((env.ARM_USE_OIDC ?? "").toLowerCase() === "true" && env.ARM_CLIENT_ID && env.ARM_TENANT_ID && env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
        return "armGitHubOidc";
    }
    return "default";
}

/**
 * Asks GitHub Actions for a new ID token for the token exchange (audience api://AzureADTokenExchange)
 * each time it is called: the assertion a ClientAssertionCredential asks for whenever it needs a new
 * Entra token. Exported for testing, with the HTTP GET to use.
 */
export function gitHubOidcAssertion(env: Environment, get: (url: string, bearer: string) => Promise<{ status: number; body: string }> = fetchText): () => Promise<string> {
    const url = env.ACTIONS_ID_TOKEN_REQUEST_URL ?? "";
    const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "";
    return async () => {
        const response = await get(`${url}${url.includes("?") ? "&" : "?"}audience=${encodeURIComponent("api://AzureADTokenExchange")}`, bearer);
        const value = response.status === 200 ? (JSON.parse(response.body) as { value?: unknown }).value : undefined;
        if (typeof value !== "string" || value === "") {
            throw new Error(`GitHub Actions gave no ID token (HTTP ${response.status})`);
        }
        return value;
    };
}

/** A GET with a bearer token: its status and body. */
async function fetchText(url: string, bearer: string): Promise<{ status: number; body: string }> {
    const response = await fetch(url, { headers: { authorization: `bearer ${bearer}` } });
    return { status: response.status, body: await response.text() };
}

/**
 * The credential of the environment: a service principal secret or federated token from the ARM_*
 * variables when they are complete, else `DefaultAzureCredential` (AZURE_* variables, workload or
 * managed identity, `az login`...), with ARM_TENANT_ID as its tenant and, when ARM_USE_MSI=true,
 * ARM_CLIENT_ID as the user-assigned managed identity.
 */
export function createCredential(env: Environment = process.env): TokenCredential {
    const { authorityHost } = armSettingsFromEnv(env);
    const options = authorityHost === undefined ? {} : { authorityHost };
    const clientId = env.ARM_CLIENT_ID ?? "";
    const tenantId = env.ARM_TENANT_ID ?? "";
    switch (credentialSourceFromEnv(env)) {
        case "armClientSecret":
            return new ClientSecretCredential(tenantId, clientId, env.ARM_CLIENT_SECRET ?? "", options);
        case "armOidcToken": {
            const token = env.ARM_OIDC_TOKEN;
            const file = env.ARM_OIDC_TOKEN_FILE_PATH ?? "";
            return new ClientAssertionCredential(tenantId, clientId, async () => token || readFileSync(file, "utf8").trim(), options);
        }
        case "armGitHubOidc":
            return new ClientAssertionCredential(tenantId, clientId, gitHubOidcAssertion(env), options);
        case "default": {
            const useMsi = (env.ARM_USE_MSI ?? "").toLowerCase() === "true";
            return new DefaultAzureCredential({
                ...options,
                ...(env.ARM_TENANT_ID ? { tenantId: env.ARM_TENANT_ID } : {}),
                ...(useMsi && env.ARM_CLIENT_ID ? { managedIdentityClientId: env.ARM_CLIENT_ID } : {}),
            });
        }
    }
}

/** Settings for `createContainerServiceClient`; every one has a default. */
export interface ContainerServiceClientSettings {
    /** Environment read for the endpoint and credential; `process.env` when absent. */
    env?: Environment;
    /** Credential to use instead of the environment's. */
    credential?: TokenCredential;
    /** Further client options (pipeline, TLS, retries); the endpoint and token scope come from `env`. */
    clientOptions?: ContainerServiceClientOptionalParams;
}

/** A `ContainerServiceClient` for `subscriptionId` with the endpoint, scope and credential of the environment. */
export function createContainerServiceClient(subscriptionId: string, settings: ContainerServiceClientSettings = {}): ContainerServiceClient {
    const env = settings.env ?? process.env;
    const arm = armSettingsFromEnv(env);
    return new ContainerServiceClient(settings.credential ?? createCredential(env), subscriptionId, {
        ...settings.clientOptions,
        endpoint: arm.endpoint,
        credentials: { scopes: [arm.scope] },
    });
}
