// The Azure identity of one workload: a user-assigned managed identity, which pods use instead of a
// stored credential.
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as pulumi from "@pulumi/pulumi";

export interface IdentityArgs {
    /** Resource group that holds the identity. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    location: pulumi.Input<string>;
    /** Azure name of the identity, such as `id-aiv-dev-alpha`. */
    identityName: string;
    /** Tags for the identity. */
    tags: Record<string, string>;
}

export class Identity extends pulumi.ComponentResource {
    /** ARM id of the identity, as the pod-identity add-on and AzureIdentity expect it. */
    public readonly resourceId: pulumi.Output<string>;
    /** Application (client) id pods present when asking for a token. */
    public readonly clientId: pulumi.Output<string>;
    /** Object id of the identity's service principal: the subject of role assignments. */
    public readonly principalId: pulumi.Output<string>;
    /** Azure name of the identity. */
    public readonly identityName: pulumi.Output<string>;

    constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:identity:Identity", name, {}, opts);

        const identity = new managedidentity.UserAssignedIdentity(
            `${name}-identity`,
            {
                resourceName: args.identityName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                tags: args.tags,
            },
            { parent: this },
        );

        this.resourceId = identity.id;
        this.clientId = identity.clientId;
        this.principalId = identity.principalId;
        this.identityName = identity.name;
        this.registerOutputs({
            resourceId: this.resourceId,
            clientId: this.clientId,
            principalId: this.principalId,
            identityName: this.identityName,
        });
    }
}
