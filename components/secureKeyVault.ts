// A Key Vault that only the VNet can reach, holding one demo secret and one demo key per workload,
// with each workload's identity allowed to read its own secret and key (Azure RBAC) or the vault's
// secrets and keys (access policies, which Azure scopes no narrower than the vault).
import * as keyvault from "@pulumi/azure-native/keyvault";
import type * as types from "@pulumi/azure-native/types";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { KeyVaultAuthorization } from "../config";
import { KEY_NOTIFY_BEFORE_EXPIRY_DAYS, KEY_ROTATE_BEFORE_EXPIRY_DAYS } from "../config";
import { CANARY_NAME, PlacementArgs, WorkloadGrantee, nameSuffix } from "./common";
import { attachDiagnostics, DiagnosticCategories, DiagnosticsArgs } from "./diagnostics";
import { changedSettings, CreationRecord } from "./creationRecord";
import { createPrivateEndpoint } from "./privateEndpoint";
import { grantRole } from "./roles";
import { daysAfter, Timestamp } from "./timestamp";

export interface SecureKeyVaultArgs extends PlacementArgs {
    tenantId: pulumi.Input<string>;
    subscriptionId: pulumi.Input<string>;
    /** `rbac`: role assignments on each secret. `accessPolicy`: one access policy per workload. */
    authorization: KeyVaultAuthorization;
    /** Subnet for the vault's private endpoint. */
    privateEndpointSubnetId: pulumi.Input<string>;
    /** The `privatelink.vaultcore.azure.net` zone. */
    vaultZoneId: pulumi.Input<string>;
    /** Each workload gets a secret named `<name>-demo` and read access to it. */
    workloads: WorkloadGrantee[];
    /** Protect the vault and its secrets from deletion and replacement. Defaults to true. */
    /**
     * Keep a key the cluster encrypts etcd with (AKS KMS). Defaults to false; the stack asks for it
     * when a workload mirrors its secret into a Kubernetes Secret.
     */
    etcdEncryptionKey?: boolean;
    /**
     * Each workload's demo secret and key, their grants, and the canary. Defaults to true; false leaves
     * the vault without the stack's secrets (with access policies, each workload keeps its policy).
     */
    demo?: boolean;
    protect?: boolean;
    /** Days a deleted vault or secret can be recovered (7-90). Defaults to 90. */
    softDeleteRetentionDays?: number;
    /** Where the vault's audit events and metrics go. */
    diagnostics: DiagnosticsArgs;
    /** Days from its creation until each demo secret expires. */
    secretLifetimeDays: number;
    /** Days each version of a demo key lives before Key Vault's rotation replaces it. */
    keyLifetimeDays: number;
}

/**
 * What the vault sends to the workspace: every data-plane request (`AuditEvent`: who read which
 * secret, when, from where, allowed or not) and its metrics. Exported for testing.
 */
export const VAULT_DIAGNOSTICS: DiagnosticCategories = { logs: ["AuditEvent"], metrics: ["AllMetrics"] };

/**
 * A demo key's rotation policy: each new version lives `lifetimeDays`, Key Vault rotates the key
 * 30 days before a version expires and sends a near-expiry event a week before that (Key Vault docs,
 * how-to-configure-key-rotation; at most one rotate and one notify action). Exported for testing.
 */
export function keyRotationPolicy(lifetimeDays: number): types.input.keyvault.RotationPolicyArgs {
    return {
        attributes: { expiryTime: `P${lifetimeDays}D` },
        lifetimeActions: [
            { trigger: { timeBeforeExpiry: `P${KEY_ROTATE_BEFORE_EXPIRY_DAYS}D` }, action: { type: keyvault.KeyRotationPolicyActionType.Rotate } },
            { trigger: { timeBeforeExpiry: `P${KEY_NOTIFY_BEFORE_EXPIRY_DAYS}D` }, action: { type: keyvault.KeyRotationPolicyActionType.Notify } },
        ],
    };
}

/**
 * The vault name: `kv-`, the base name (cut to fit) and the random suffix; 3-24 letters, digits and
 * single hyphens, as Azure requires. Exported for testing.
 */
export function keyVaultName(baseName: string, suffix: string): string {
    const stem = `kv-${baseName}`.slice(0, 24 - suffix.length - 1).replace(/-+$/, "");
    return `${stem}-${suffix}`;
}

/** Name of a workload's demo secret. Exported for testing. */
export function demoSecretName(workloadName: string): string {
    return `${workloadName}-demo`;
}

/** What a demo key is created with, as its creation record keeps it. Exported for testing. */
export function keyCreationSettings(lifetimeDays: number, tags: Readonly<Record<string, string>>): Record<string, string | number> {
    return {
        keyLifetimeDays: lifetimeDays,
        rotateBeforeExpiryDays: KEY_ROTATE_BEFORE_EXPIRY_DAYS,
        notifyBeforeExpiryDays: KEY_NOTIFY_BEFORE_EXPIRY_DAYS,
        tags: JSON.stringify(
            Object.fromEntries(
                Object.keys(tags)
                    .sort()
                    .map((k) => [k, tags[k]]),
            ),
        ),
    };
}

/** The plan's warning when a key's settings are no longer today's. Exported for testing. */
export function keySettingsWarning(keyName: string, changed: readonly string[]): string {
    return `Key ${keyName} keeps what it was created with (${changed.join("; ")}): ARM creates a key only if it does not exist and never updates it. Apply the change from inside the VNet, then replace the key's settings record, as docs/operations.md says under "Changing a key's lifetime, rotation or tags".`;
}

/** Name of a workload's demo key. Exported for testing. */
export function demoKeyName(workloadName: string): string {
    return `${workloadName}-demo-key`;
}

/**
 * What an access policy lets a workload do: get a secret and a key by name, which is all the CSI
 * driver's Azure provider and the verifier ask (they name each object; nothing lists the vault or
 * reads certificates).
 */
export const WORKLOAD_ACCESS_POLICY_PERMISSIONS = {
    secrets: [keyvault.SecretPermissions.Get],
    keys: [keyvault.KeyPermissions.Get],
};

/** The plan's warning in `accessPolicy` mode: what sharing one vault means. Exported for testing. */
export function accessPolicyWarning(workloads: number): string {
    const who =
        workloads === 1
            ? "its one workload can get every secret and key in it, the canary's included"
            : `each of its ${workloads} workloads can get every secret and key in it, the other workloads' and the canary's included`;
    return `keyVaultAuthorization is accessPolicy: access policies apply to the whole vault, so ${who}, not only its own. Use keyVaultAuthorization rbac to confine each identity to its own secret and key.`;
}

/**
 * The order of a vault's writes: each waits for the one registered before it, so no two overlap.
 * Exported for testing.
 */
export class VaultWrites {
    private last: pulumi.Resource | undefined;

    /** What the next write depends on: the last one, if any. */
    next(): pulumi.Resource[] {
        return this.last === undefined ? [] : [this.last];
    }

    /** Records a write; the next one waits for it. */
    wrote(resource: pulumi.Resource): void {
        this.last = resource;
    }
}

/** Name of the key the cluster encrypts etcd with. Exported for testing. */
export const ETCD_KEY_NAME = "aks-etcd-encryption";

/** The tag that marks the etcd key, which must never expire (see the key's comment). */
export const ETCD_KEY_PURPOSE = "etcd-encryption";

export class SecureKeyVault extends pulumi.ComponentResource {
    public readonly vaultName: pulumi.Output<string>;
    public readonly vaultId: pulumi.Output<string>;
    public readonly vaultUri: pulumi.Output<string>;
    /** Secret name by workload name. */
    public readonly secretNames: Record<string, pulumi.Output<string>>;
    /** Key name by workload name. */
    public readonly keyNames: Record<string, pulumi.Output<string>>;
    /** The canary secret, granted to nobody (in `accessPolicy` mode every workload reads it: policies are vault-wide); none without the demo. */
    public readonly canarySecretName: pulumi.Output<string> | undefined;
    /** The grants (role assignments or access policies) each workload's reads depend on. */
    public readonly grants: Record<string, pulumi.Resource[]>;
    /** The private endpoint and its DNS registration: the vault is reachable once they exist. */
    public readonly endpoint: pulumi.Resource[];
    /** The etcd encryption key, when asked for: its ARM id and its versioned identifier, which KMS names. */
    public readonly etcdKey: { id: pulumi.Output<string>; versionedId: pulumi.Output<string> } | undefined;
    /** The vault's last write: another write to the vault waits for it, as each of the vault's own does. */
    public readonly lastWrite: pulumi.Resource;

    constructor(name: string, args: SecureKeyVaultArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:keyvault:SecureKeyVault", name, {}, opts);
        const protect = args.protect ?? true;
        const rbac = args.authorization === "rbac";
        if (!rbac) {
            pulumi.log.warn(accessPolicyWarning(args.workloads.length), this);
        }

        const suffix = nameSuffix(name, this);

        const vault = new keyvault.Vault(
            `${name}-vault`,
            {
                vaultName: suffix.result.apply((s) => keyVaultName(args.baseName, s)),
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                properties: {
                    tenantId: args.tenantId,
                    sku: { family: keyvault.SkuFamily.A, name: keyvault.SkuName.Standard },
                    // Unset means access policies (API 2024-11-01), so the mode is always explicit.
                    // Access policies, when used, are standalone resources below, never inline.
                    enableRbacAuthorization: rbac,
                    enableSoftDelete: true,
                    softDeleteRetentionInDays: args.softDeleteRetentionDays ?? 90,
                    // Irreversible by design: once on, Azure refuses to turn it off.
                    enablePurgeProtection: true,
                    publicNetworkAccess: "Disabled",
                    networkAcls: {
                        defaultAction: keyvault.NetworkRuleAction.Deny,
                        bypass: keyvault.NetworkRuleBypassOptions.None,
                    },
                    enabledForDeployment: false,
                    enabledForDiskEncryption: false,
                    enabledForTemplateDeployment: false,
                },
                tags: args.tags,
            },
            { parent: this, protect },
        );

        // Key Vault refuses a write that overlaps another on the same vault with ConflictError ("serialize
        // the operations so that only one operation is performed on the Key Vault at a time"), which
        // azure-native does not retry (pulumi/pulumi-azure-native#1013). So every write to the vault (its
        // private-endpoint connection, secrets, keys, access policies) waits for the one before it.
        const writes = new VaultWrites();
        const { endpoint, dnsZoneGroup } = createPrivateEndpoint(
            `${name}-vault`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                subnetId: args.privateEndpointSubnetId,
                targetResourceId: vault.id,
                targetName: vault.name,
                groupId: "vault",
                privateDnsZoneId: args.vaultZoneId,
                tags: args.tags,
            },
            this,
            writes.next(),
        );
        writes.wrote(endpoint);

        // Diagnostic settings are written to Azure Monitor (Microsoft.Insights), not to the vault, so
        // they do not take a place in the vault's one-at-a-time chain.
        attachDiagnostics(`${name}-vault`, vault.id, VAULT_DIAGNOSTICS, args.diagnostics, this);

        this.endpoint = [endpoint, dnsZoneGroup];

        const demo = args.demo ?? true;
        if (demo) {
            // The canary: a secret granted to nobody, which every bound Job tries to read.
            const canaryValue = new random.RandomPassword(`${name}-canary-value`, { length: 32, special: true, overrideSpecial: "-_.~" }, { parent: this });
            const canaryCreated = new Timestamp(`${name}-canary-created`, { purpose: "creation of the canary secret" }, { parent: this });
            const canary = new keyvault.Secret(
                `${name}-canary-secret`,
                {
                    secretName: CANARY_NAME,
                    vaultName: vault.name,
                    resourceGroupName: args.resourceGroupName,
                    properties: {
                        value: pulumi.secret(canaryValue.result),
                        contentType: "text/plain",
                        attributes: { expires: canaryCreated.unix.apply((unix) => daysAfter(unix, args.secretLifetimeDays)) },
                    },
                    tags: { ...args.tags, purpose: "canary" },
                },
                { parent: this, protect, retainOnDelete: true, dependsOn: writes.next() },
            );
            writes.wrote(canary);
            this.canarySecretName = canary.name;
        } else {
            this.canarySecretName = undefined;
        }

        // The key AKS's KMS plugin encrypts etcd's data keys with (RSA-OAEP-256, encrypt and decrypt:
        // Azure/kubernetes-kms pkg/plugin). It carries no expiry and no rotation policy on purpose: an
        // expired key stops the API server from decrypting secrets ("KeyExpired", AKS docs,
        // kms-observability), and legacy KMS names one key version, so a new version takes a change
        // of the cluster's keyId and a re-encryption (AKS docs, use-kms-etcd-encryption), which
        // docs/operations.md describes. Deleting it makes the cluster's secrets unrecoverable.
        if (args.etcdEncryptionKey === true) {
            const etcdKey = new keyvault.Key(
                `${name}-etcd-key`,
                {
                    keyName: ETCD_KEY_NAME,
                    vaultName: vault.name,
                    resourceGroupName: args.resourceGroupName,
                    properties: {
                        kty: keyvault.JsonWebKeyType.RSA,
                        keySize: 2048,
                        keyOps: [keyvault.JsonWebKeyOperation.Encrypt, keyvault.JsonWebKeyOperation.Decrypt],
                    },
                    tags: { ...args.tags, purpose: ETCD_KEY_PURPOSE },
                },
                { parent: this, protect, retainOnDelete: true, dependsOn: writes.next(), ignoreChanges: ["properties", "tags"] },
            );
            writes.wrote(etcdKey);
            this.etcdKey = { id: etcdKey.id, versionedId: etcdKey.keyUriWithVersion };
        }

        this.secretNames = {};
        this.keyNames = {};
        this.grants = {};
        // With access policies a workload's grant is vault-wide (row 66): one policy, next in the chain of writes.
        const accessPolicyFor = (workload: WorkloadGrantee): keyvault.AccessPolicy => {
            const policy = new keyvault.AccessPolicy(
                `${name}-${workload.name}-access-policy`,
                {
                    vaultName: vault.name,
                    resourceGroupName: args.resourceGroupName,
                    policy: {
                        tenantId: args.tenantId,
                        objectId: workload.principalId,
                        permissions: WORKLOAD_ACCESS_POLICY_PERMISSIONS,
                    },
                },
                { parent: this, dependsOn: writes.next() },
            );
            writes.wrote(policy);
            return policy;
        };
        for (const workload of args.workloads) {
            if (!demo) {
                // No secret or key of the stack's to grant on: with RBAC the team grants on its own.
                this.grants[workload.name] = rbac ? [] : [accessPolicyFor(workload)];
                continue;
            }
            const value = new random.RandomPassword(`${name}-${workload.name}-secret-value`, { length: 32, special: true, overrideSpecial: "-_.~" }, { parent: this });
            // When the workload's secret and key were created, kept in state: their expiry dates
            // count from it, so they are the same in every plan.
            const created = new Timestamp(`${name}-${workload.name}-created`, { purpose: `creation of ${workload.name}'s demo secret and key` }, { parent: this });
            // An ARM (control-plane) resource: it is written while the vault's public access is off.
            const secret = new keyvault.Secret(
                `${name}-${workload.name}-secret`,
                {
                    secretName: demoSecretName(workload.name),
                    vaultName: vault.name,
                    resourceGroupName: args.resourceGroupName,
                    properties: {
                        value: pulumi.secret(value.result),
                        contentType: "text/plain",
                        // Key Vault still serves a secret past its expiry (Key Vault docs, about-secrets);
                        // the date is what policies and near-expiry events act on.
                        attributes: { expires: created.unix.apply((unix) => daysAfter(unix, args.secretLifetimeDays)) },
                    },
                    tags: { ...args.tags, workload: workload.name },
                },
                // Removing a workload leaves its secret in the vault (soft delete would keep it anyway):
                // azure-native deletes secrets through the data plane, which only the VNet can reach.
                { parent: this, protect, retainOnDelete: true, dependsOn: writes.next() },
            );
            writes.wrote(secret);
            // A key the CSI driver mounts next to the secret (its public part). ARM creates it too.
            const keyTags = { ...args.tags, workload: workload.name };
            const key = new keyvault.Key(
                `${name}-${workload.name}-key`,
                {
                    keyName: demoKeyName(workload.name),
                    vaultName: vault.name,
                    resourceGroupName: args.resourceGroupName,
                    properties: {
                        kty: keyvault.JsonWebKeyType.RSA,
                        keySize: 3072,
                        keyOps: [keyvault.JsonWebKeyOperation.Sign, keyvault.JsonWebKeyOperation.Verify],
                        // The first version's expiry; the rotation policy sets each later version's.
                        attributes: { expires: created.unix.apply((unix) => daysAfter(unix, args.keyLifetimeDays)) },
                        rotationPolicy: keyRotationPolicy(args.keyLifetimeDays),
                    },
                    tags: keyTags,
                },
                // ARM creates a key once and never updates it: a PUT whose properties or tags differ from
                // the key's is refused with KeyCreationParametersDidNotMatchExistingKey (Azure/bicep#8283,
                // #6113), and after a rotation Azure reports the new version's expiry. So Pulumi never
                // sends a change of either; a key's settings are those it was created with.
                { parent: this, protect, retainOnDelete: true, dependsOn: writes.next(), ignoreChanges: ["properties", "tags"] },
            );
            writes.wrote(key);
            // ARM keeps the key as it was created whatever the program sends later, so the plan says
            // when today's settings are no longer the key's (docs/operations.md says how to apply them).
            const today = keyCreationSettings(args.keyLifetimeDays, keyTags);
            const record = new CreationRecord(`${name}-${workload.name}-key-settings`, { of: `key ${demoKeyName(workload.name)}`, settings: today }, { parent: this, dependsOn: [key] });
            record.settings.apply((recorded) => {
                const changed = changedSettings(recorded, today);
                if (changed.length > 0) {
                    pulumi.log.warn(keySettingsWarning(demoKeyName(workload.name), changed), this);
                }
            });
            if (rbac) {
                this.grants[workload.name] = [
                    grantRole(
                        `${name}-${workload.name}-secrets-user`,
                        {
                            principalId: workload.principalId,
                            role: "keyVaultSecretsUser",
                            scope: secret.id,
                            subscriptionId: args.subscriptionId,
                            description: `Workload ${workload.name} reads its own demo secret only.`,
                        },
                        { parent: this },
                    ),
                    grantRole(
                        `${name}-${workload.name}-key-reader`,
                        {
                            principalId: workload.principalId,
                            role: "keyVaultReader",
                            scope: key.id,
                            subscriptionId: args.subscriptionId,
                            description: `Workload ${workload.name} reads its own demo key's public part only.`,
                        },
                        { parent: this },
                    ),
                ];
            } else {
                this.grants[workload.name] = [accessPolicyFor(workload)];
            }
            this.secretNames[workload.name] = secret.name;
            this.keyNames[workload.name] = key.name;
        }

        this.lastWrite = writes.next()[0] ?? vault;
        this.vaultName = vault.name;
        this.vaultId = vault.id;
        this.vaultUri = vault.properties.vaultUri;
        this.registerOutputs({
            vaultName: this.vaultName,
            vaultId: this.vaultId,
            vaultUri: this.vaultUri,
            secretNames: this.secretNames,
            keyNames: this.keyNames,
        });
    }
}
