// Key Vault policies: recoverability, the authorization model, network isolation and the vault's
// private endpoint, and what vault objects and access policies may contain.
import * as keyvault from "@pulumi/azure-native/keyvault";
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { ofType, privateEndpointsFor } from "../lib/graph";
import { isNonPublicCidr } from "../lib/net";
import { TYPES } from "../lib/types";
import { sameText } from "../lib/values";

/** Azure's soft-delete retention when a vault does not set one. */
const AZURE_DEFAULT_RETENTION_DAYS = 90;
/** Permissions an access policy may grant: reading, never writing, deleting or purging. */
/** What a workload's access policy may grant: get a secret or a key by name. */
const GET_ONLY: ReadonlySet<string> = new Set(["get"]);
/** The kinds a workload's access policy may cover: the CSI driver mounts a secret and a key. */
const GETTABLE_KINDS: ReadonlySet<string> = new Set(["secrets", "keys"]);

/** Purge protection keeps deleted vaults and objects recoverable until their retention ends. */
export const keyVaultPurgeProtection: ResourceValidationPolicy = {
    name: "keyvault-purge-protection",
    description: "Key Vaults enable purge protection, so nobody can destroy a deleted vault or secret before its retention period ends. Checkov CKV_AZURE_110 (and CKV_AZURE_42, recoverable vault).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Vault, (vault, _args, reportViolation) => {
        if (vault.properties?.enablePurgeProtection !== true) {
            reportViolation("Set properties.enablePurgeProtection to true.");
        }
    }),
};

/** Soft delete stays on, with a retention of at least the configured number of days. */
export const keyVaultSoftDeleteRetention: ResourceValidationPolicy = {
    name: "keyvault-soft-delete-retention",
    description: `Key Vaults keep soft delete on with a retention of at least minimumRetentionDays (default ${AZURE_DEFAULT_RETENTION_DAYS}); an unset retention is Azure's default of ${AZURE_DEFAULT_RETENTION_DAYS} days. Checkov CKV_AZURE_111 and CKV_AZURE_42.`,
    enforcementLevel: "mandatory",
    configSchema: { properties: { minimumRetentionDays: { type: "integer", minimum: 7, maximum: 90, default: AZURE_DEFAULT_RETENTION_DAYS } } },
    validateResource: validateResourceOfType(keyvault.Vault, (vault, args, reportViolation) => {
        const minimum = args.getConfig<{ minimumRetentionDays?: number }>().minimumRetentionDays ?? AZURE_DEFAULT_RETENTION_DAYS;
        if (vault.properties?.enableSoftDelete === false) {
            reportViolation("properties.enableSoftDelete must not be false.");
        }
        const days = vault.properties?.softDeleteRetentionInDays ?? AZURE_DEFAULT_RETENTION_DAYS;
        if (days < minimum) {
            reportViolation(`properties.softDeleteRetentionInDays is ${days}; keep deleted objects for at least ${minimum} days.`);
        }
    }),
};

/** The authorization model is stated, never left to an API-version default. */
export const keyVaultExplicitAuthorization: ResourceValidationPolicy = {
    name: "keyvault-explicit-authorization-mode",
    description:
        "Key Vaults set properties.enableRbacAuthorization to true or false, so the authorization model is a reviewed choice: a vault that leaves it unset falls back to access policies, which grant vault-wide access. No direct Checkov equivalent; Microsoft cloud security benchmark PA-7 (least privilege).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Vault, (vault, _args, reportViolation) => {
        if (typeof vault.properties?.enableRbacAuthorization !== "boolean") {
            reportViolation("Set properties.enableRbacAuthorization explicitly (true for Azure RBAC, false for access policies).");
        }
    }),
};

/** Access policies, when used, are standalone resources only. */
export const keyVaultNoInlineAccessPolicies: ResourceValidationPolicy = {
    name: "keyvault-no-inline-access-policies",
    description:
        "Key Vaults declare no inline properties.accessPolicies: inline and standalone AccessPolicy resources overwrite each other on every update, and with Azure RBAC inline policies are silently ignored. No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Vault, (vault, _args, reportViolation) => {
        if ((vault.properties?.accessPolicies ?? []).length > 0) {
            reportViolation("Remove properties.accessPolicies; grant access with role assignments or standalone keyvault.AccessPolicy resources.");
        }
    }),
};

/** Azure RBAC rather than access policies, which Azure scopes to the whole vault. */
export const keyVaultRbacAuthorization: ResourceValidationPolicy = {
    name: "keyvault-rbac-authorization",
    description:
        "Key Vaults use Azure RBAC, so each identity can be granted a single secret or key; access policies are vault-wide (every secret, key or certificate of the kinds they name). Advisory: the stack's keyVaultAuthorization=accessPolicy mode deliberately uses access policies for clusters that cannot use data-plane RBAC. No direct Checkov equivalent; Azure Policy built-in 'Azure Key Vault should use RBAC permission model'.",
    enforcementLevel: "advisory",
    validateResource: [
        validateResourceOfType(keyvault.Vault, (vault, _args, reportViolation) => {
            if (vault.properties?.enableRbacAuthorization !== true) {
                reportViolation("The vault authorizes with access policies, which grant access to every object of a kind in the vault.");
            }
        }),
        validateResourceOfType(keyvault.AccessPolicy, (_policy, _args, reportViolation) => {
            reportViolation("This access policy applies to the whole vault; prefer a role assignment scoped to one secret or key.");
        }),
    ],
};

/** Access policies grant gets of secrets and keys only. */
export const keyVaultAccessPolicyReadOnly: ResourceValidationPolicy = {
    name: "keyvault-access-policy-read-only",
    description:
        "Standalone Key Vault access policies grant only get, on secrets and keys: a workload identity never writes, deletes, purges or manages vault objects, never lists the vault (which, since access policies are vault-wide, would enumerate every workload's secrets and the canary) and never reads certificates, which nothing mounts. The one other shape allowed is the cluster's etcd encryption: encrypt and decrypt on keys, and nothing else. No direct Checkov equivalent; Microsoft cloud security benchmark PA-7 (least privilege).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.AccessPolicy, (accessPolicy, _args, reportViolation) => {
        const permissions = accessPolicy.policy?.permissions ?? {};
        // The cluster's etcd encryption (AKS KMS) needs encrypt and decrypt on keys, and nothing else:
        // they reveal no secret (AKS docs, use-kms-etcd-encryption).
        const kinds = Object.entries(permissions).filter(([, granted]) => Array.isArray(granted) && granted.length > 0);
        const etcd = kinds.length === 1 && kinds[0][0] === "keys" && (kinds[0][1] as unknown[]).every((p) => typeof p === "string" && ["encrypt", "decrypt"].includes(p.toLowerCase()));
        if (etcd) {
            return;
        }
        for (const [kind, granted] of Object.entries(permissions)) {
            const list = Array.isArray(granted) ? granted : [];
            if (!GETTABLE_KINDS.has(kind) && list.length > 0) {
                reportViolation(`policy.permissions.${kind} grants ${list.join(", ")}; workloads get secrets and keys only.`);
                continue;
            }
            const extra = list.filter((p) => typeof p !== "string" || !GET_ONLY.has(p.toLowerCase()));
            if (extra.length > 0) {
                reportViolation(`policy.permissions.${kind} grants ${extra.join(", ")}; only get is allowed.`);
            }
        }
    }),
};

/** The vault's public endpoint is closed. */
export const keyVaultPublicNetworkDisabled: ResourceValidationPolicy = {
    name: "keyvault-public-network-disabled",
    description: "Key Vaults disable public network access; clients reach them through a private endpoint. Checkov CKV_AZURE_189.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Vault, (vault, _args, reportViolation) => {
        if (!sameText(vault.properties?.publicNetworkAccess, "Disabled")) {
            reportViolation(`properties.publicNetworkAccess is ${vault.properties?.publicNetworkAccess ?? "unset (Enabled)"}; set it to Disabled.`);
        }
    }),
};

/** The vault firewall denies by default and opens no public range. */
export const keyVaultNetworkAclsDeny: ResourceValidationPolicy = {
    name: "keyvault-network-acls-deny",
    description: "Key Vault firewalls deny by default (networkAcls.defaultAction Deny) and allow no public IP range. Checkov CKV_AZURE_109.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Vault, (vault, _args, reportViolation) => {
        const acls = vault.properties?.networkAcls;
        if (!sameText(acls?.defaultAction, "Deny")) {
            reportViolation(`properties.networkAcls.defaultAction is ${acls?.defaultAction ?? "unset (Allow)"}; set it to Deny.`);
        }
        for (const rule of acls?.ipRules ?? []) {
            if (!isNonPublicCidr(rule.value)) {
                reportViolation(`properties.networkAcls.ipRules admits the public range ${rule.value}.`);
            }
        }
    }),
};

/** Azure platform services cannot read the vault on their own. */
export const keyVaultNoPlatformAccess: ResourceValidationPolicy = {
    name: "keyvault-no-platform-access",
    description:
        "Key Vaults leave enabledForDeployment, enabledForDiskEncryption and enabledForTemplateDeployment off: VMs, Disk Encryption and ARM deployments never read secrets past the vault's role assignments. No direct Checkov equivalent; Microsoft cloud security benchmark PA-7.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Vault, (vault, _args, reportViolation) => {
        const flags = {
            enabledForDeployment: vault.properties?.enabledForDeployment,
            enabledForDiskEncryption: vault.properties?.enabledForDiskEncryption,
            enabledForTemplateDeployment: vault.properties?.enabledForTemplateDeployment,
        };
        for (const [flag, value] of Object.entries(flags)) {
            if (value === true) {
                reportViolation(`properties.${flag} must not be true.`);
            }
        }
    }),
};

/** Secrets say what they hold. */
export const keyVaultSecretContentType: ResourceValidationPolicy = {
    name: "keyvault-secret-content-type",
    description: "Key Vault secrets set properties.contentType, so consumers know how to read them and scanners can tell credentials apart. Checkov CKV_AZURE_114.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(keyvault.Secret, (secret, _args, reportViolation) => {
        if ((secret.properties?.contentType ?? "") === "") {
            reportViolation("Set properties.contentType.");
        }
    }),
};

/** RSA keys are long enough. */
export const keyVaultKeyStrength: ResourceValidationPolicy = {
    name: "keyvault-key-strength",
    description:
        "Key Vault RSA keys are at least minimumRsaKeySize bits (default 2048). No direct Checkov equivalent (CKV_AZURE_112 asks for HSM backing instead); Azure Policy built-in 'Keys using RSA cryptography should have a specified minimum key size'.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { minimumRsaKeySize: { type: "integer", minimum: 2048, default: 2048 } } },
    validateResource: validateResourceOfType(keyvault.Key, (key, args, reportViolation) => {
        const minimum = args.getConfig<{ minimumRsaKeySize?: number }>().minimumRsaKeySize ?? 2048;
        const kty = key.properties?.kty ?? "";
        if (kty.toUpperCase().startsWith("RSA") && (key.properties?.keySize ?? 0) < minimum) {
            reportViolation(`properties.keySize is ${key.properties?.keySize ?? "unset"}; RSA keys need at least ${minimum} bits.`);
        }
    }),
};

/** Every vault is reachable through a private endpoint. */
export const keyVaultPrivateEndpoint: StackValidationPolicy = {
    name: "keyvault-private-endpoint",
    description: "Every Key Vault has a private endpoint for its 'vault' sub-resource in the stack. Checkov CKV2_AZURE_32.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const vault of ofType(args.resources, TYPES.vault)) {
            if (privateEndpointsFor(args.resources, vault, "vaultName", "vault").length === 0) {
                reportViolation("No private endpoint with group id 'vault' exposes this Key Vault.", vault.urn);
            }
        }
    },
};

/** The Key Vault policies of the pack. */
export const keyVaultPolicies = [
    keyVaultPurgeProtection,
    keyVaultSoftDeleteRetention,
    keyVaultExplicitAuthorization,
    keyVaultNoInlineAccessPolicies,
    keyVaultRbacAuthorization,
    keyVaultAccessPolicyReadOnly,
    keyVaultPublicNetworkDisabled,
    keyVaultNetworkAclsDeny,
    keyVaultNoPlatformAccess,
    keyVaultSecretContentType,
    keyVaultKeyStrength,
    keyVaultPrivateEndpoint,
];
