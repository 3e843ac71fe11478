// Which credential kubelogin's `get-token` uses, from its arguments and environment, as Azure/kubelogin
// v0.2.x decides it (pkg/internal/token/options.go, `UpdateFromEnv`; provider.go,
// `NewAzIdentityCredential`): the flags first, then the environment over them unless
// `--disable-environment-override` is given, so `AAD_LOGIN_METHOD` replaces the `--login` a
// kubeconfig stores. The `workloadidentity` login asks GitHub for a new ID token itself whenever
// GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN are set (GithubActionsCredential, since
// v0.2.0); otherwise it reads AZURE_FEDERATED_TOKEN_FILE.

import type { Environment } from "../components/modes/podIdentityAddon/arm";

/** The credential kubelogin would use, and whether its login outlives a GitHub ID token. */
export interface KubeloginCredential {
    /** The login method after the environment is applied (`azurecli`, `workloadidentity`, ...). */
    login: string;
    /** `githubActions`: a new GitHub ID token per Entra token; `federatedTokenFile`; `azureCli`; `other`. */
    credential: "githubActions" | "federatedTokenFile" | "azureCli" | "other";
    /** Why it could not start, as kubelogin says it (a client or tenant id missing). */
    missing?: string;
}

/** The value of a flag given as `--flag value`, `--flag=value`, `-l value` or `-l=value`. */
function flagValue(args: readonly string[], names: readonly string[]): string | undefined {
    let value: string | undefined;
    args.forEach((arg, i) => {
        for (const name of names) {
            if (arg === name) {
                value = args[i + 1];
            } else if (arg.startsWith(`${name}=`)) {
                value = arg.slice(name.length + 1);
            }
        }
    });
    return value;
}

/** What `kubelogin get-token <args>` logs in with under `env`. */
export function kubeloginCredential(args: readonly string[], env: Environment): KubeloginCredential {
    const override = !args.includes("--disable-environment-override");
    const pick = (flag: string | undefined, ...names: string[]): string | undefined => {
        const fromEnv = override ? names.map((n) => env[n]).filter((v) => v !== undefined) : [];
        return fromEnv.length > 0 ? fromEnv[fromEnv.length - 1] : flag;
    };
    const login = pick(flagValue(args, ["--login", "-l"]), "AAD_LOGIN_METHOD") ?? "devicecode";
    if (login === "azurecli") {
        return { login, credential: "azureCli" };
    }
    if (login !== "workloadidentity") {
        return { login, credential: "other" };
    }
    // The client id comes from AAD_SERVICE_PRINCIPAL_CLIENT_ID or AZURE_CLIENT_ID, the later one
    // winning, and the tenant from AZURE_TENANT_ID; with --use-azurerm-env-vars, from ARM_CLIENT_ID and
    // ARM_TENANT_ID, and AZURE_CLIENT_ID still last (the workload identity login reads it again).
    const terraform = args.includes("--use-azurerm-env-vars");
    const clientId = pick(flagValue(args, ["--client-id"]), ...(terraform ? ["ARM_CLIENT_ID"] : ["AAD_SERVICE_PRINCIPAL_CLIENT_ID"]), "AZURE_CLIENT_ID");
    const tenantId = pick(flagValue(args, ["--tenant-id", "-t"]), terraform ? "ARM_TENANT_ID" : "AZURE_TENANT_ID");
    const missing = !clientId ? "client ID cannot be empty" : !tenantId ? "tenant ID cannot be empty" : undefined;
    const fromGitHub = Boolean(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) && Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL);
    const tokenFile = pick(flagValue(args, ["--federated-token-file"]), "AZURE_FEDERATED_TOKEN_FILE");
    const credential = fromGitHub ? "githubActions" : "federatedTokenFile";
    return { login, credential, ...(missing !== undefined ? { missing } : !fromGitHub && !tokenFile ? { missing: "federated token file cannot be empty" } : {}) };
}

/**
 * What a run in GitHub Actions adds to the environment of the tools it starts so that kubelogin,
 * whatever login the stack's kubeconfig names, asks GitHub for a new ID token for each Entra token
 * instead of asking the Azure CLI, whose GitHub token expires minutes after its login.
 */
export function kubeloginSelfRenewingEnv(clientId: string, tenantId: string): Record<string, string> {
    return { AAD_LOGIN_METHOD: "workloadidentity", AZURE_CLIENT_ID: clientId, AZURE_TENANT_ID: tenantId };
}
