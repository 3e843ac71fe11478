// Azure Resource Manager facts the policies share: built-in role definition ids, the shape of role
// assignment scopes, and the private DNS zone each private-link sub-resource registers in.

/** Built-in roles that grant control of a scope's access or of everything in it. */
export const PRIVILEGED_ROLES: ReadonlyMap<string, string> = new Map([
    ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"],
    ["b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"],
    ["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"],
]);

/** The kinds of single data items a data-plane role may be scoped to. */
export type DataItem = "blobContainer" | "keyVaultSecret" | "keyVaultKey" | "keyVaultCertificate";

/** A built-in data-plane role and the single items it may be granted on. */
export interface DataRole {
    name: string;
    items: readonly DataItem[];
}

/** Built-in data-plane roles of Blob storage and Key Vault, by role definition GUID. */
export const DATA_ROLES: ReadonlyMap<string, DataRole> = new Map<string, DataRole>([
    ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b", { name: "Storage Blob Data Owner", items: ["blobContainer"] }],
    ["ba92f5b4-2d11-453d-a403-e96b0029c9fe", { name: "Storage Blob Data Contributor", items: ["blobContainer"] }],
    ["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", { name: "Storage Blob Data Reader", items: ["blobContainer"] }],
    ["4633458b-17de-408a-b874-0445c86b69e6", { name: "Key Vault Secrets User", items: ["keyVaultSecret"] }],
    ["b86a8fe4-44ce-4948-aee5-eccb2c155cd7", { name: "Key Vault Secrets Officer", items: ["keyVaultSecret"] }],
    ["12338af0-0e69-4776-bea7-57ae8d297424", { name: "Key Vault Crypto User", items: ["keyVaultKey"] }],
    ["14b46e9e-c2b7-41b4-b07b-48a6ebf60603", { name: "Key Vault Crypto Officer", items: ["keyVaultKey"] }],
    ["e147488a-f6f5-4113-8e2d-b22465e65bf6", { name: "Key Vault Crypto Service Encryption User", items: ["keyVaultKey"] }],
    ["db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", { name: "Key Vault Certificate User", items: ["keyVaultCertificate"] }],
    ["a4417e6f-fecd-4de8-b567-7b0420556985", { name: "Key Vault Certificates Officer", items: ["keyVaultCertificate"] }],
    ["21090545-7ca7-4776-b22c-e363652d74d2", { name: "Key Vault Reader", items: ["keyVaultSecret", "keyVaultKey", "keyVaultCertificate"] }],
]);

/** The GUID at the end of a role definition id, lower-cased. */
export function roleGuid(roleDefinitionId: string): string {
    const segments = roleDefinitionId.split("/").filter((s) => s !== "");
    return (segments[segments.length - 1] ?? "").toLowerCase();
}

/** How far up the ARM hierarchy a scope reaches. */
export type ScopeLevel = "root" | "managementGroup" | "subscription" | "resourceGroup" | "resource";

/** The level of an ARM scope such as `/subscriptions/x/resourceGroups/y`. */
export function scopeLevel(scope: string): ScopeLevel {
    const trimmed = scope.trim().replace(/\/+$/, "");
    if (trimmed === "") {
        return "root";
    }
    if (/^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+$/i.test(trimmed)) {
        return "managementGroup";
    }
    if (/^\/subscriptions\/[^/]+$/i.test(trimmed)) {
        return "subscription";
    }
    if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(trimmed)) {
        return "resourceGroup";
    }
    return "resource";
}

const DATA_ITEM_PATTERNS: ReadonlyArray<[DataItem, RegExp]> = [
    ["blobContainer", /\/providers\/Microsoft\.Storage\/storageAccounts\/[^/]+\/blobServices\/default\/containers\/[^/]+$/i],
    ["keyVaultSecret", /\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+\/secrets\/[^/]+$/i],
    ["keyVaultKey", /\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+\/keys\/[^/]+$/i],
    ["keyVaultCertificate", /\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+\/certificates\/[^/]+$/i],
];

/** The single data item a scope names, or undefined for anything broader (an account, a vault). */
export function dataItemOf(scope: string): DataItem | undefined {
    const trimmed = scope.trim().replace(/\/+$/, "");
    return DATA_ITEM_PATTERNS.find(([, pattern]) => pattern.test(trimmed))?.[0];
}

/** The last segment of an ARM id: the resource's own name. */
export function armName(id: string): string {
    const segments = id.split("/").filter((s) => s !== "");
    return segments[segments.length - 1] ?? "";
}

/**
 * Private DNS zone of each private-link sub-resource this stack exposes, for the Azure public cloud
 * (Microsoft's "Azure Private Endpoint private DNS zone values" table).
 */
export const PRIVATE_DNS_ZONE_BY_GROUP: ReadonlyMap<string, string> = new Map([
    ["vault", "privatelink.vaultcore.azure.net"],
    ["blob", "privatelink.blob.core.windows.net"],
]);
