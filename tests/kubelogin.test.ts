// kubelogin's choice of credential (tools/kubelogin.ts), against the cases Azure/kubelogin's own
// options and provider code decide: the stored --login, the environment over it, the switch that
// keeps the environment out, and the workload identity login's two sources of a federated token.
import { kubeloginCredential } from "../tools/kubelogin";

const STORED = ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"];
const GITHUB = { ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example/", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "bearer" };
const IDENTITY = { AZURE_CLIENT_ID: "c", AZURE_TENANT_ID: "t" };

describe("kubelogin's credential", () => {
    test("the kubeconfig's --login, in each of its spellings, when the environment names none", () => {
        expect(kubeloginCredential(STORED, {}).credential).toBe("azureCli");
        expect(kubeloginCredential(["get-token", "-l", "azurecli"], {}).credential).toBe("azureCli");
        expect(kubeloginCredential(["get-token", "--login=azurecli"], {}).credential).toBe("azureCli");
        expect(kubeloginCredential(["get-token"], {})).toEqual({ login: "devicecode", credential: "other" });
    });

    test("AAD_LOGIN_METHOD replaces the stored login, unless --disable-environment-override keeps it", () => {
        const env = { AAD_LOGIN_METHOD: "workloadidentity", ...IDENTITY, ...GITHUB };
        expect(kubeloginCredential(STORED, env)).toEqual({ login: "workloadidentity", credential: "githubActions" });
        expect(kubeloginCredential([...STORED, "--disable-environment-override"], env)).toEqual({ login: "azurecli", credential: "azureCli" });
        expect(kubeloginCredential(STORED, { ...env, AAD_LOGIN_METHOD: "spn" })).toEqual({ login: "spn", credential: "other" });
    });

    test("the workload identity login asks GitHub only when both of GitHub's ID-token variables are set, and otherwise needs a token file", () => {
        const wi = ["get-token", "--login", "workloadidentity"];
        expect(kubeloginCredential(wi, { ...IDENTITY, ...GITHUB }).credential).toBe("githubActions");
        expect(kubeloginCredential(wi, { ...IDENTITY, ACTIONS_ID_TOKEN_REQUEST_URL: GITHUB.ACTIONS_ID_TOKEN_REQUEST_URL })).toEqual({
            login: "workloadidentity",
            credential: "federatedTokenFile",
            missing: "federated token file cannot be empty",
        });
        expect(kubeloginCredential(wi, { ...IDENTITY, AZURE_FEDERATED_TOKEN_FILE: "/var/run/token" })).toEqual({ login: "workloadidentity", credential: "federatedTokenFile" });
        expect(kubeloginCredential([...wi, "--federated-token-file", "/f"], IDENTITY)).toEqual({ login: "workloadidentity", credential: "federatedTokenFile" });
    });

    test("the workload identity login needs a client and a tenant, from flags or the environment (AZURE_* over AAD_*; ARM_* with --use-azurerm-env-vars)", () => {
        const wi = ["get-token", "--login", "workloadidentity"];
        expect(kubeloginCredential(wi, GITHUB).missing).toBe("client ID cannot be empty");
        expect(kubeloginCredential(wi, { ...GITHUB, AZURE_CLIENT_ID: "c" }).missing).toBe("tenant ID cannot be empty");
        expect(kubeloginCredential([...wi, "--client-id", "c", "-t", "t"], GITHUB).missing).toBeUndefined();
        expect(kubeloginCredential(wi, { ...GITHUB, AAD_SERVICE_PRINCIPAL_CLIENT_ID: "c", AZURE_TENANT_ID: "t" }).missing).toBeUndefined();
        expect(kubeloginCredential(wi, { ...GITHUB, ARM_CLIENT_ID: "c", ARM_TENANT_ID: "t" }).missing).toBe("client ID cannot be empty");
        expect(kubeloginCredential([...wi, "--use-azurerm-env-vars"], { ...GITHUB, ARM_CLIENT_ID: "c", ARM_TENANT_ID: "t" }).missing).toBeUndefined();
        expect(kubeloginCredential([...wi, "--disable-environment-override"], { ...GITHUB, ...IDENTITY }).missing).toBe("client ID cannot be empty");
    });
});
