import * as pulumi from "@pulumi/pulumi";
import { Identity } from "../../components/identity";
import { buildOne, named, ofType, registrations, settled } from "./build";

describe("Identity", () => {
    const ARGS = { resourceGroupName: "rg-unit", location: "uksouth", identityName: "id-aiv-unit-alpha", tags: { stack: "unit", workload: "alpha" } };

    async function built(args: ConstructorParameters<typeof Identity>[1]) {
        const { component: identity, plan } = await buildOne(() => new Identity("alpha", args));
        return { identity, plan };
    }

    describe("managed identity (the default)", () => {
        test("registers exactly one protected user-assigned identity", async () => {
            const { identity, plan } = await built(ARGS);
            expect(registrations(plan)).toMatchSnapshot();
            expect(identity.type).toBe("managedIdentity");
            const uai = named(plan, "azure-native:managedidentity:UserAssignedIdentity", "alpha-identity");
            expect(uai.newState.inputs).toMatchObject({ resourceName: "id-aiv-unit-alpha", location: "uksouth" });
            expect(uai.newState.protect).toBe(true);
            expect(ofType(plan, "azuread:index/application:Application")).toHaveLength(0);
        });

        test("exposes the identity's ids and name, and no secret", async () => {
            const { identity } = await built(ARGS);
            expect(await settled(identity.resourceId)).toMatch(/\/userAssignedIdentities\/id-aiv-unit-alpha$/);
            expect(await settled(identity.identityName)).toBe("id-aiv-unit-alpha");
            expect(await settled(identity.clientId)).toMatch(/^[0-9a-f-]{36}$/);
            expect(await settled(identity.principalId)).toMatch(/^[0-9a-f-]{36}$/);
            expect(await settled(identity.principalId)).not.toBe(await settled(identity.clientId));
            expect(identity.clientSecret).toBeUndefined();
        });

        test("protect: false leaves it unprotected", async () => {
            const { plan } = await built({ ...ARGS, protect: false });
            expect(named(plan, "azure-native:managedidentity:UserAssignedIdentity", "alpha-identity").newState.protect).toBe(false);
        });
    });

    describe("service principal", () => {
        test("registers exactly a protected single-tenant application, its service principal and a password", async () => {
            const { identity, plan } = await built({ ...ARGS, type: "servicePrincipal" });
            expect(registrations(plan)).toMatchSnapshot();
            expect(identity.type).toBe("servicePrincipal");
            const app = named(plan, "azuread:index/application:Application", "alpha-application");
            expect(app.newState.inputs).toMatchObject({ displayName: "id-aiv-unit-alpha", signInAudience: "AzureADMyOrg", tags: ["stack:unit", "workload:alpha"] });
            expect(app.newState.protect).toBe(true);
            expect(named(plan, "azuread:index/applicationPassword:ApplicationPassword", "alpha-password").newState.inputs).toMatchObject({ endDateRelative: "8760h" });
            expect(ofType(plan, "azure-native:managedidentity:UserAssignedIdentity")).toHaveLength(0);
        });

        test("the password lifetime can be set, and protect: false leaves the application unprotected", async () => {
            const { plan } = await built({ ...ARGS, type: "servicePrincipal", passwordLifetime: "720h", protect: false });
            expect(named(plan, "azuread:index/applicationPassword:ApplicationPassword", "alpha-password").newState.inputs).toMatchObject({ endDateRelative: "720h" });
            expect(named(plan, "azuread:index/application:Application", "alpha-application").newState.protect).toBe(false);
        });

        test("the client secret is a Pulumi secret; the principal is the service principal's object, not the application", async () => {
            const { identity } = await built({ ...ARGS, type: "servicePrincipal" });
            if (identity.clientSecret === undefined) throw new Error("no client secret");
            expect(await pulumi.isSecret(identity.clientSecret)).toBe(true);
            expect(await settled(identity.resourceId)).toBe("");
            expect(await settled(identity.identityName)).toBe("id-aiv-unit-alpha");
            expect(await settled(identity.principalId)).not.toBe(await settled(identity.clientId));
        });
    });
});
