// Entry point of the policy pack: `pulumi preview --policy-pack policy`. Constructing the PolicyPack
// starts the analyzer's gRPC server, so nothing but the Pulumi CLI loads this file; the policies
// themselves live in ./policies, where tests and `npm run policy` read them.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("aks-identity-vault", {
    description: "Key Vault, Storage, private networking, role assignments, AKS and workload security for the aks-identity-vault stack.",
    policies,
});
