// Pulumi type tokens the stack validations look resources up by (the SDK classes keep their
// `__pulumiType` internal, so the tokens are spelled out here once).

/** Type tokens of the resources stack validations relate to each other. */
export const TYPES = {
    resourceGroup: "azure-native:resources:ResourceGroup",
    vault: "azure-native:keyvault:Vault",
    secret: "azure-native:keyvault:Secret",
    key: "azure-native:keyvault:Key",
    storageAccount: "azure-native:storage:StorageAccount",
    blobServiceProperties: "azure-native:storage:BlobServiceProperties",
    blobContainer: "azure-native:storage:BlobContainer",
    privateEndpoint: "azure-native:network:PrivateEndpoint",
    privateDnsZoneGroup: "azure-native:network:PrivateDnsZoneGroup",
    privateZone: "azure-native:privatedns:PrivateZone",
    subnet: "azure-native:network:Subnet",
    networkSecurityGroup: "azure-native:network:NetworkSecurityGroup",
    managedCluster: "azure-native:containerservice:ManagedCluster",
    namespace: "kubernetes:core/v1:Namespace",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    validatingAdmissionPolicy: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    validatingAdmissionPolicyBinding: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    secretProviderClass: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    azureIdentity: "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity",
    azureIdentityBinding: "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentityBinding",
    podIdentities: "pulumi-nodejs:dynamic:PodIdentities",
    rolePropagationDelay: "pulumi-nodejs:dynamic:RolePropagationDelay",
    clusterAccessWait: "pulumi-nodejs:dynamic:ClusterAccessWait",
    roleAssignment: "azure-native:authorization:RoleAssignment",
    userAssignedIdentity: "azure-native:managedidentity:UserAssignedIdentity",
    federatedIdentityCredential: "azure-native:managedidentity:FederatedIdentityCredential",
    accessPolicy: "azure-native:keyvault:AccessPolicy",
    helmRelease: "kubernetes:helm.sh/v3:Release",
} as const;
