// Storage policies: transport security, anonymous and public access, Entra-only authentication,
// encryption, blob data protection, private containers and the account's private endpoint.
import * as storage from "@pulumi/azure-native/storage";
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { azureName, idNames, ofType, privateEndpointsFor, refersTo } from "../lib/graph";
import { TYPES } from "../lib/types";
import { field, sameText, stringMap, text } from "../lib/values";

/**
 * The `purpose` tag of the account the VNet's flow logs go to. Network Watcher writes to it from
 * outside the VNet as a trusted Azure service, which a firewalled account admits ("you have to allow
 * trusted Azure services to access your storage account", Network Watcher FAQ), so its public endpoint
 * stays on behind a firewall that denies everything else.
 */
export const FLOW_LOG_ACCOUNT_PURPOSE = "flow-logs";

/** Whether an account is tagged as the flow logs' account. */
function taggedForFlowLogs(tags: Readonly<Record<string, string>> | undefined): boolean {
    return tags?.purpose === FLOW_LOG_ACCOUNT_PURPOSE;
}

/** TLS versions a storage account may require at minimum. */
const ACCEPTED_TLS: ReadonlySet<string> = new Set(["TLS1_2", "TLS1_3"]);

/** Accounts refuse plain HTTP. */
export const storageHttpsOnly: ResourceValidationPolicy = {
    name: "storage-https-only",
    description: "Storage accounts set enableHttpsTrafficOnly to true. Checkov CKV_AZURE_3.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
        if (account.enableHttpsTrafficOnly !== true) {
            reportViolation("Set enableHttpsTrafficOnly to true.");
        }
    }),
};

/** Accounts refuse TLS older than 1.2. */
export const storageMinimumTls: ResourceValidationPolicy = {
    name: "storage-minimum-tls-1-2",
    description: "Storage accounts require TLS 1.2 or later (minimumTlsVersion TLS1_2). Checkov CKV_AZURE_44.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
        if (!ACCEPTED_TLS.has(account.minimumTlsVersion ?? "")) {
            reportViolation(`minimumTlsVersion is ${account.minimumTlsVersion ?? "unset"}; set it to TLS1_2.`);
        }
    }),
};

/** No container of the account can be made anonymous. */
export const storageNoPublicBlobAccess: ResourceValidationPolicy = {
    name: "storage-no-public-blob-access",
    description: "Storage accounts set allowBlobPublicAccess to false, so no container can ever be read anonymously. Checkov CKV_AZURE_190 and CKV2_AZURE_47.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
        if (account.allowBlobPublicAccess !== false) {
            reportViolation("Set allowBlobPublicAccess to false.");
        }
    }),
};

/** The account's public endpoint is closed. */
export const storagePublicNetworkDisabled: ResourceValidationPolicy = {
    name: "storage-public-network-disabled",
    description:
        "Storage accounts disable public network access; clients reach them through a private endpoint. The flow logs' account (tagged purpose: flow-logs), which Network Watcher writes to as a trusted Azure service, keeps its endpoint behind a firewall that denies everything else: default action Deny, the AzureServices bypass, no IP or network rules (storage-flow-log-account-only checks it holds nothing else). Checkov CKV_AZURE_59.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
        if (taggedForFlowLogs(account.tags)) {
            const rules = account.networkRuleSet;
            const bypass = (rules?.bypass ?? "").split(",").map((b) => b.trim());
            if (!sameText(rules?.defaultAction, "Deny") || !bypass.includes("AzureServices") || (rules?.ipRules ?? []).length > 0 || (rules?.virtualNetworkRules ?? []).length > 0) {
                reportViolation("The flow logs' account must deny everything but Azure's trusted services: networkRuleSet { defaultAction: Deny, bypass: AzureServices } with no IP or network rules.");
            }
            return;
        }
        if (!sameText(account.publicNetworkAccess, "Disabled")) {
            reportViolation(`publicNetworkAccess is ${account.publicNetworkAccess ?? "unset (Enabled)"}; set it to Disabled.`);
        }
    }),
};

/** The account firewall denies by default. */
export const storageDefaultDeny: ResourceValidationPolicy = {
    name: "storage-network-default-deny",
    description: "Storage account firewalls deny by default (networkRuleSet.defaultAction Deny). Checkov CKV_AZURE_35.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
        if (!sameText(account.networkRuleSet?.defaultAction, "Deny")) {
            reportViolation(`networkRuleSet.defaultAction is ${account.networkRuleSet?.defaultAction ?? "unset (Allow)"}; set it to Deny.`);
        }
    }),
};

/** Entra ID only: no account keys, no SAS signed with them. */
export const storageNoSharedKey: ResourceValidationPolicy = {
    name: "storage-no-shared-key",
    description: "Storage accounts set allowSharedKeyAccess to false, so every request is authorized by Microsoft Entra ID and no account key or key-signed SAS works. Checkov CKV2_AZURE_40.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
        if (account.allowSharedKeyAccess !== false) {
            reportViolation("Set allowSharedKeyAccess to false.");
        }
    }),
};

/** Object replication never copies data into another tenant. */
export const storageNoCrossTenantReplication: ResourceValidationPolicy = {
    name: "storage-no-cross-tenant-replication",
    description:
        "Storage accounts set allowCrossTenantReplication to false, so object replication cannot copy blobs to an account in another Entra tenant. No direct Checkov equivalent; Azure Policy built-in 'Storage accounts should prevent cross tenant object replication'.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
        if (account.allowCrossTenantReplication !== false) {
            reportViolation("Set allowCrossTenantReplication to false.");
        }
    }),
};

/** Data at rest is encrypted twice: by the service and by the infrastructure. */
export const storageInfrastructureEncryption: ResourceValidationPolicy = {
    name: "storage-infrastructure-encryption",
    description:
        "Storage accounts set encryption.requireInfrastructureEncryption to true (a second layer of encryption at rest; it can only be chosen at creation). No direct Checkov equivalent for storage (CKV_AZURE_96 and CKV_AZURE_130 are its MySQL and PostgreSQL counterparts); Microsoft cloud security benchmark DP-4.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
        if (account.encryption?.requireInfrastructureEncryption !== true) {
            reportViolation("Set encryption.requireInfrastructureEncryption to true.");
        }
    }),
};

/** Deleted or overwritten blobs and containers can be recovered. */
export const storageBlobDataProtection: ResourceValidationPolicy = {
    name: "storage-blob-data-protection",
    description: "Blob services enable versioning, blob soft delete and container soft delete, each retained for at least minimumRetentionDays (default 7). Checkov CKV2_AZURE_38.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { minimumRetentionDays: { type: "integer", minimum: 1, maximum: 365, default: 7 } } },
    validateResource: validateResourceOfType(storage.BlobServiceProperties, (service, args, reportViolation) => {
        const minimum = args.getConfig<{ minimumRetentionDays?: number }>().minimumRetentionDays ?? 7;
        if (service.isVersioningEnabled !== true) {
            reportViolation("Set isVersioningEnabled to true.");
        }
        const policies = { deleteRetentionPolicy: service.deleteRetentionPolicy, containerDeleteRetentionPolicy: service.containerDeleteRetentionPolicy };
        for (const [name, policy] of Object.entries(policies)) {
            if (policy?.enabled !== true) {
                reportViolation(`Enable ${name}.`);
            } else if ((policy.days ?? 0) < minimum) {
                reportViolation(`${name}.days is ${policy.days ?? "unset"}; keep deleted data for at least ${minimum} days.`);
            }
        }
    }),
};

/** Containers are private. */
export const storageContainersPrivate: ResourceValidationPolicy = {
    name: "storage-container-private",
    description: "Blob containers have public access None. Checkov CKV_AZURE_34.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(storage.BlobContainer, (container, _args, reportViolation) => {
        if (container.publicAccess !== undefined && !sameText(container.publicAccess, "None")) {
            reportViolation(`publicAccess is ${container.publicAccess}; set it to None.`);
        }
    }),
};

/**
 * The flow logs' account holds flow logs only: a flow log of the stack writes to it, and the stack
 * declares no container in it and grants no one a role on it, so its firewall's opening serves Network
 * Watcher and nothing else.
 */
export const storageFlowLogAccountOnly: StackValidationPolicy = {
    name: "storage-flow-log-account-only",
    description:
        "An account tagged purpose: flow-logs, whose public endpoint admits Azure's trusted services, is the storageId of a flow log in the stack and holds nothing the stack puts there: no blob container, no role assignment scoped to it. Microsoft cloud security benchmark LT-4 (network logging) without widening NS-2. No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const flowLogs = ofType(args.resources, TYPES.flowLog);
        for (const account of ofType(args.resources, TYPES.storageAccount).filter((a) => taggedForFlowLogs(stringMap(field(a.props, "tags"))))) {
            // Read only where no dependency decides: before the first deployment the account's name
            // (a random suffix) and its id are not known yet, and reading them would skip the policy.
            const name = (): string | undefined => azureName(account, "accountName");
            if (!flowLogs.some((log) => refersTo(log, "storageId", account, () => idNames(text(field(log.props, "storageId")), account, "accountName")))) {
                reportViolation("This account is tagged for flow logs, but no flow log of the stack writes to it.", account.urn);
            }
            for (const container of ofType(args.resources, TYPES.blobContainer)) {
                if (refersTo(container, "accountName", account, () => sameText(text(field(container.props, "accountName")), name()))) {
                    reportViolation("The flow logs' account holds a container of the stack's; keep other data elsewhere.", container.urn);
                }
            }
            for (const grant of ofType(args.resources, TYPES.roleAssignment)) {
                const onAccount = (): boolean => {
                    const accountName = name();
                    const scope = text(field(grant.props, "scope")) ?? "";
                    return accountName !== undefined && scope.toLowerCase().includes(`/storageaccounts/${accountName.toLowerCase()}`);
                };
                if (refersTo(grant, "scope", account, onAccount)) {
                    reportViolation("A role is granted on the flow logs' account; only Network Watcher writes there.", grant.urn);
                }
            }
        }
    },
};

/** Every account is reachable through a private endpoint. */
export const storagePrivateEndpoint: StackValidationPolicy = {
    name: "storage-private-endpoint",
    description:
        "Every storage account has a private endpoint for its 'blob' sub-resource in the stack, but the flow logs' account, which only Network Watcher writes to, from outside the VNet (storage-flow-log-account-only). Checkov CKV2_AZURE_33.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const account of ofType(args.resources, TYPES.storageAccount).filter((a) => !taggedForFlowLogs(stringMap(field(a.props, "tags"))))) {
            if (privateEndpointsFor(args.resources, account, "accountName", "blob").length === 0) {
                reportViolation("No private endpoint with group id 'blob' exposes this storage account.", account.urn);
            }
        }
    },
};

/** Every account's blob service is managed by the stack, so its data protection is checked. */
export const storageBlobServiceManaged: StackValidationPolicy = {
    name: "storage-blob-service-managed",
    description:
        "Every storage account has a BlobServiceProperties resource in the stack, so versioning and soft delete are declared (and checked by storage-blob-data-protection) rather than left at Azure's defaults, which keep neither; but the flow logs' account, whose hourly blobs Network Watcher appends to every minute and deletes by its retention rule (versions would outlive it). Checkov CKV2_AZURE_38.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const services = ofType(args.resources, TYPES.blobServiceProperties);
        for (const account of ofType(args.resources, TYPES.storageAccount).filter((a) => !taggedForFlowLogs(stringMap(field(a.props, "tags"))))) {
            const managed = services.some((service) => refersTo(service, "accountName", account, () => sameText(text(field(service.props, "accountName")), azureName(account, "accountName"))));
            if (!managed) {
                reportViolation("No BlobServiceProperties resource configures this account's blob service.", account.urn);
            }
        }
    },
};

/** The storage policies of the pack. */
export const storagePolicies = [
    storageHttpsOnly,
    storageMinimumTls,
    storageNoPublicBlobAccess,
    storagePublicNetworkDisabled,
    storageDefaultDeny,
    storageNoSharedKey,
    storageNoCrossTenantReplication,
    storageInfrastructureEncryption,
    storageBlobDataProtection,
    storageContainersPrivate,
    storagePrivateEndpoint,
    storageBlobServiceManaged,
    storageFlowLogAccountOnly,
];
