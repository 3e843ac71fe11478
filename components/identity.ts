// The Azure identity of one workload, which pods use instead of a stored credential: a user-assigned
// managed identity or, for clusters on the open-source aad-pod-identity that still need one, an Entra
// application with a service principal and a password.
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import type { IdentityType } from "../config";

export interface IdentityArgs {
    /** Resource group that holds the identity. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    location: pulumi.Input<string>;
    /** Azure name of the managed identity, or display name of the application: `id-aiv-dev-alpha`. */
    identityName: string;
    /** Defaults to `managedIdentity`. */
    type?: IdentityType;
    /** How long a service principal's password lives before it must be rotated. Defaults to one year ("8760h"). */
    passwordLifetime?: string;
    /** Tags for the identity. */
    tags: Record<string, string>;
    /**
     * Protect the identity from deletion and replacement: a new one has a new client id, which every
     * application and federated credential would have to learn again. Defaults to true.
     */
    protect?: boolean;
}

export class Identity extends pulumi.ComponentResource {
    public readonly type: IdentityType;
    /** ARM id of the managed identity (empty for a service principal, which has none). */
    public readonly resourceId: pulumi.Output<string>;
    /** Application (client) id pods present when asking for a token. */
    public readonly clientId: pulumi.Output<string>;
    /** Object id of the identity's service principal: the subject of role assignments. */
    public readonly principalId: pulumi.Output<string>;
    /** Azure name of the managed identity, or display name of the application. */
    public readonly identityName: pulumi.Output<string>;
    /** The service principal's password (a Pulumi secret); undefined for a managed identity. */
    public readonly clientSecret: pulumi.Output<string> | undefined;

    constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-identity-vault:identity:Identity", name, {}, opts);
        this.type = args.type ?? "managedIdentity";
        const protect = args.protect ?? true;

        if (this.type === "managedIdentity") {
            const identity = new managedidentity.UserAssignedIdentity(
                `${name}-identity`,
                { resourceName: args.identityName, resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
                { parent: this, protect },
            );
            this.resourceId = identity.id;
            this.clientId = identity.clientId;
            this.principalId = identity.principalId;
            this.identityName = identity.name;
            this.clientSecret = undefined;
        } else {
            const application = new azuread.Application(
                `${name}-application`,
                { displayName: args.identityName, signInAudience: "AzureADMyOrg", tags: Object.entries(args.tags).map(([k, v]) => `${k}:${v}`) },
                { parent: this, protect },
            );
            const servicePrincipal = new azuread.ServicePrincipal(`${name}-service-principal`, { clientId: application.clientId }, { parent: this });
            const password = new azuread.ApplicationPassword(
                `${name}-password`,
                { applicationId: application.id, displayName: "aad-pod-identity", endDateRelative: args.passwordLifetime ?? "8760h" },
                { parent: this },
            );
            this.resourceId = pulumi.output("");
            this.clientId = application.clientId;
            this.principalId = servicePrincipal.objectId;
            this.identityName = application.displayName;
            this.clientSecret = pulumi.secret(password.value);
        }

        this.registerOutputs({
            resourceId: this.resourceId,
            clientId: this.clientId,
            principalId: this.principalId,
            identityName: this.identityName,
        });
    }
}
