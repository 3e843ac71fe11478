import { SecureStorage } from "../../components/secureStorage";
import { buildOne, memoized, DIAGNOSTICS, named, ofType, registrations, settled, SHARED_SERVICE } from "./build";

describe("SecureStorage", () => {
    const ARGS = {
        ...SHARED_SERVICE,
        blobZoneId: "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.Network/privateDnsZones/privatelink.blob.core.windows.net",
    };
    const ROLE = "azure-native:authorization:RoleAssignment";

    const built = memoized(async (args: ConstructorParameters<typeof SecureStorage>[1]) => {
        const { component: store, plan } = await buildOne(() => new SecureStorage("storage", args));
        return { store, plan };
    });

    test("registers exactly the reviewed account, blob service, endpoint, containers and grants", async () => {
        expect(registrations((await built(ARGS)).plan)).toMatchSnapshot();
    });

    test("without the demo, no canary container; each workload keeps its own", async () => {
        const { store, plan } = await built({ ...ARGS, canary: false });
        expect(store.canaryContainer).toBeUndefined();
        expect(ofType(plan, "azure-native:storage:BlobContainer").map((c) => c.newState.inputs.containerName)).toEqual(ARGS.workloads.map((w) => w.name));
    });

    test("the account is private, Entra-only and protected; its name comes from the suffix in state", async () => {
        const { plan } = await built(ARGS);
        const account = named(plan, "azure-native:storage:StorageAccount", "storage-account");
        expect(account.newState.inputs).toMatchObject({
            publicNetworkAccess: "Disabled",
            allowBlobPublicAccess: false,
            allowSharedKeyAccess: false,
            networkRuleSet: { defaultAction: "Deny", bypass: "None" },
            minimumTlsVersion: "TLS1_2",
            enableHttpsTrafficOnly: true,
        });
        expect(account.newState.protect).toBe(true);
        expect(account.newState.inputs.accountName).toMatch(/^staivunit[a-z0-9]{6}$/);
        expect(named(plan, "random:index/randomString:RandomString", "storage-suffix").newState.inputs).toMatchObject({ length: 6, upper: false, special: false });
    });

    test("soft delete keeps blobs and containers 30 days unless told otherwise, and versioning is on", async () => {
        const service = (days?: number) => async () =>
            named((await built({ ...ARGS, softDeleteRetentionDays: days })).plan, "azure-native:storage:BlobServiceProperties", "storage-blob-service").newState.inputs;
        expect(await service()()).toMatchObject({ isVersioningEnabled: true, deleteRetentionPolicy: { enabled: true, days: 30 }, containerDeleteRetentionPolicy: { enabled: true, days: 30 } });
        expect(await service(7)()).toMatchObject({ deleteRetentionPolicy: { days: 7 }, containerDeleteRetentionPolicy: { days: 7 } });
    });

    // Storage refuses a write while another holds the account ("StorageAccountOperationInProgress ...
    // requires exclusive access"), as a private endpoint's connection does.
    test("the account's writes run one after another: blob service, endpoint, then the containers", async () => {
        const { plan } = await built(ARGS);
        const service = named(plan, "azure-native:storage:BlobServiceProperties", "storage-blob-service");
        const endpoint = named(plan, "azure-native:network:PrivateEndpoint", "storage-blob-endpoint");
        expect(endpoint.newState.dependencies).toContain(service.urn);
        for (const w of ARGS.workloads) {
            expect(named(plan, "azure-native:storage:BlobContainer", `storage-${w.name}-container`).newState.dependencies).toContain(endpoint.urn);
        }
    });

    test("the blob service's reads, writes and deletes and its transactions go to the workspace", async () => {
        const { plan } = await built(ARGS);
        const setting = named(plan, "azure-native:monitor:DiagnosticSetting", "storage-blob-diagnostics").newState;
        expect(setting.inputs).toEqual({
            name: "send-to-log-analytics",
            resourceUri: expect.stringMatching(/\/storageAccounts\/staivunit[a-z0-9]{6}\/blobServices\/default$/),
            workspaceId: DIAGNOSTICS.workspaceId,
            logs: ["StorageRead", "StorageWrite", "StorageDelete"].map((category) => ({ category, enabled: true })),
            metrics: [{ category: "Transaction", enabled: true }],
        });
        expect(setting.dependencies).toContain(named(plan, "azure-native:storage:BlobServiceProperties", "storage-blob-service").urn);
    });

    test("one blob private endpoint registered in the blob zone", async () => {
        const { plan } = await built(ARGS);
        const endpoint = named(plan, "azure-native:network:PrivateEndpoint", "storage-blob-endpoint");
        expect(endpoint.newState.inputs).toMatchObject({ subnet: { id: ARGS.privateEndpointSubnetId } });
        expect(endpoint.newState.inputs.privateLinkServiceConnections).toEqual([expect.objectContaining({ groupIds: ["blob"] })]);
        const group = named(plan, "azure-native:network:PrivateDnsZoneGroup", "storage-blob-endpoint-dns");
        expect(group.newState.inputs).toMatchObject({ privateDnsZoneGroupName: "default", privateDnsZoneConfigs: [{ name: "blob", privateDnsZoneId: ARGS.blobZoneId }] });
    });

    test("each workload gets its own private, retained container and Blob Data Contributor on that container only", async () => {
        const { plan, store } = await built(ARGS);
        for (const w of ARGS.workloads) {
            const container = named(plan, "azure-native:storage:BlobContainer", `storage-${w.name}-container`);
            expect(container.newState.inputs).toMatchObject({ containerName: w.name, publicAccess: "None" });
            expect(container.newState).toMatchObject({ protect: true, retainOnDelete: true });
            const grant = named(plan, ROLE, `storage-${w.name}-blob-contributor`).newState.inputs;
            expect(grant).toMatchObject({ principalId: w.principalId, principalType: "ServicePrincipal" });
            expect(grant.roleDefinitionId).toBe("/subscriptions/sub-unit/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe");
            expect(grant.scope).toMatch(new RegExp(`/blobServices/default/containers/${w.name}$`));
            expect(await settled(store.containers[w.name])).toBe(w.name);
            expect(store.grants[w.name]).toHaveLength(1);
        }
        expect(ofType(plan, ROLE)).toHaveLength(2);
        expect(store.endpoint).toHaveLength(2);
    });

    test("protect: false leaves the account and containers unprotected, still retained on delete", async () => {
        const { plan } = await built({ ...ARGS, protect: false });
        expect(named(plan, "azure-native:storage:StorageAccount", "storage-account").newState.protect).toBe(false);
        expect(named(plan, "azure-native:storage:BlobContainer", "storage-alpha-container").newState).toMatchObject({ protect: false, retainOnDelete: true });
    });

    test("exposes the account's name, id and blob endpoint", async () => {
        const { store } = await built(ARGS);
        const name = await settled(store.accountName);
        expect(name).toMatch(/^staivunit[a-z0-9]{6}$/);
        expect(await settled(store.accountId)).toMatch(new RegExp(`/storageAccounts/${name}$`));
        expect(await settled(store.blobEndpoint)).toBe(`https://${name}.blob.core.windows.net/`);
    });
});
