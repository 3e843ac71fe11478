// A Storage account that only the VNet can reach, with one private container per workload and each
// workload's identity allowed into its own container and nowhere else.
import * as storage from "@pulumi/azure-native/storage";
import * as pulumi from "@pulumi/pulumi";
import { CANARY_NAME, PlacementArgs, WorkloadGrantee, nameSuffix } from "./common";
import { attachDiagnostics, DiagnosticCategories, DiagnosticsArgs } from "./diagnostics";
import { createPrivateEndpoint } from "./privateEndpoint";
import { grantRole } from "./roles";

/**
 * What the blob service sends to the workspace: its read, write and delete requests (the
 * StorageBlobLogs table) and its transaction metrics. Exported for testing.
 */
export const BLOB_DIAGNOSTICS: DiagnosticCategories = { logs: ["StorageRead", "StorageWrite", "StorageDelete"], metrics: ["Transaction"] };

export interface SecureStorageArgs extends PlacementArgs {
    subscriptionId: pulumi.Input<string>;
    /** Subnet for the blob private endpoint. */
    privateEndpointSubnetId: pulumi.Input<string>;
    /** The `privatelink.blob.core.windows.net` zone. */
    blobZoneId: pulumi.Input<string>;
    /** Each workload gets a container named after it and read-write access to it. */
    workloads: WorkloadGrantee[];
    /** Protect the account and containers from deletion and replacement. Defaults to true. */
    protect?: boolean;
    /** Blob and container soft-delete retention in days. Defaults to 30. */
    softDeleteRetentionDays?: number;
    /** Where the blob service's reads, writes and deletes go. */
    diagnostics: DiagnosticsArgs;
    /** The canary container, which the demo's Jobs must be refused. Defaults to true. */
    canary?: boolean;
}

/**
 * The account name: `st`, the base name without hyphens (cut to fit), and the random suffix; 3-24
 * lower-case letters and digits, as Azure requires. Exported for testing.
 */
export function storageAccountName(baseName: string, suffix: string): string {
    const stem = `st${baseName.replace(/[^a-z0-9]/g, "")}`.slice(0, 24 - suffix.length);
    return `${stem}${suffix}`;
}

export class SecureStorage extends pulumi.ComponentResource {
    public readonly accountName: pulumi.Output<string>;
    public readonly accountId: pulumi.Output<string>;
    /** `https://<account>.blob.core.windows.net/`, resolved to the private endpoint inside the VNet. */
    public readonly blobEndpoint: pulumi.Output<string>;
    /** Container name by workload name. */
    public readonly containers: Record<string, pulumi.Output<string>>;
    /** The canary container, granted to nobody; none without the demo. */
    public readonly canaryContainer: pulumi.Output<string> | undefined;
    /** The role assignment each workload's blob access depends on. */
    public readonly grants: Record<string, pulumi.Resource[]>;
    /** The private endpoint and its DNS registration: the account is reachable once they exist. */
    public readonly endpoint: pulumi.Resource[];

    constructor(name: string, args: SecureStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:storage:SecureStorage", name, {}, opts);
        const protect = args.protect ?? true;
        const retentionDays = args.softDeleteRetentionDays ?? 30;

        // The globally unique part of the name lives in state, so the name never changes on update.
        const suffix = nameSuffix(name, this);

        const account = new storage.StorageAccount(
            `${name}-account`,
            {
                accountName: suffix.result.apply((s) => storageAccountName(args.baseName, s)),
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                kind: storage.Kind.StorageV2,
                sku: { name: storage.SkuName.Standard_ZRS },
                accessTier: storage.AccessTier.Hot,
                enableHttpsTrafficOnly: true,
                minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
                allowBlobPublicAccess: false,
                publicNetworkAccess: storage.PublicNetworkAccess.Disabled,
                networkRuleSet: { defaultAction: storage.DefaultAction.Deny, bypass: storage.Bypass.None },
                // Entra ID only: no account keys, no SAS signed with them.
                allowSharedKeyAccess: false,
                defaultToOAuthAuthentication: true,
                allowCrossTenantReplication: false,
                allowedCopyScope: storage.AllowedCopyScope.PrivateLink,
                encryption: {
                    keySource: storage.KeySource.Microsoft_Storage,
                    requireInfrastructureEncryption: true,
                    services: {
                        blob: { enabled: true, keyType: storage.KeyType.Account },
                        file: { enabled: true, keyType: storage.KeyType.Account },
                    },
                },
                tags: args.tags,
            },
            { parent: this, protect },
        );

        // Storage refuses a write that needs the account while another one holds it
        // (StorageAccountOperationInProgress, "requires exclusive access"), as a private endpoint's
        // connection does; so the blob service settings, the endpoint and then the containers are
        // written one after another (azure-native also retries that error, pulumi-azure-native#4497).
        const blobService = new storage.BlobServiceProperties(
            `${name}-blob-service`,
            {
                accountName: account.name,
                resourceGroupName: args.resourceGroupName,
                blobServicesName: "default",
                isVersioningEnabled: true,
                deleteRetentionPolicy: { enabled: true, days: retentionDays },
                containerDeleteRetentionPolicy: { enabled: true, days: retentionDays },
            },
            { parent: this },
        );

        // Every blob request, by whom and from where, allowed or not; settings of the blob service
        // (`<account>/blobServices/default`), which are where Storage's blob logs are read from.
        attachDiagnostics(`${name}-blob`, blobService.id, BLOB_DIAGNOSTICS, args.diagnostics, this);

        const { endpoint, dnsZoneGroup } = createPrivateEndpoint(
            `${name}-blob`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                subnetId: args.privateEndpointSubnetId,
                targetResourceId: account.id,
                targetName: account.name,
                groupId: "blob",
                privateDnsZoneId: args.blobZoneId,
                tags: args.tags,
            },
            this,
            [blobService],
        );

        this.endpoint = [endpoint, dnsZoneGroup];
        // The canary: a container granted to nobody, which every bound Job must be refused.
        this.canaryContainer =
            (args.canary ?? true)
                ? new storage.BlobContainer(
                      `${name}-canary-container`,
                      { containerName: CANARY_NAME, accountName: account.name, resourceGroupName: args.resourceGroupName, publicAccess: storage.PublicAccess.None },
                      { parent: this, protect, retainOnDelete: true, dependsOn: [endpoint] },
                  ).name
                : undefined;
        this.containers = {};
        this.grants = {};
        for (const workload of args.workloads) {
            const container = new storage.BlobContainer(
                `${name}-${workload.name}-container`,
                {
                    containerName: workload.name,
                    accountName: account.name,
                    resourceGroupName: args.resourceGroupName,
                    publicAccess: storage.PublicAccess.None,
                },
                // Removing a workload leaves its data behind for someone to delete on purpose.
                { parent: this, protect, retainOnDelete: true, dependsOn: [endpoint] },
            );
            const grant = grantRole(
                `${name}-${workload.name}-blob-contributor`,
                {
                    principalId: workload.principalId,
                    role: "storageBlobDataContributor",
                    scope: container.id,
                    subscriptionId: args.subscriptionId,
                    description: `Workload ${workload.name} reads and writes blobs in its own container only.`,
                },
                { parent: this },
            );
            this.containers[workload.name] = container.name;
            this.grants[workload.name] = [grant];
        }

        this.accountName = account.name;
        this.accountId = account.id;
        this.blobEndpoint = account.primaryEndpoints.blob;
        this.registerOutputs({
            accountName: this.accountName,
            accountId: this.accountId,
            blobEndpoint: this.blobEndpoint,
            containers: this.containers,
        });
    }
}
