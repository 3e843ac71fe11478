// Every policy of the aks-identity-vault pack, in the order the pack lists them. Both the pack's
// entry point and the offline evaluation read this list.
import { Policies } from "@pulumi/policy";
import { aksPolicies } from "./aks";
import { azureBehaviourPolicies } from "./azureBehaviour";
import { baselinePolicies } from "./baseline";
import { egressPolicies } from "./egress";
import { identityPolicies } from "./identity";
import { keyVaultPolicies } from "./keyVault";
import { kubernetesPolicies } from "./kubernetes";
import { networkPolicies } from "./network";
import { proofPolicies } from "./proofs";
import { rolePolicies } from "./roles";
import { stackPolicies } from "./stack";
import { storagePolicies } from "./storage";

/** All policies of the pack. */
export const policies: Policies = [
    ...keyVaultPolicies,
    ...storagePolicies,
    ...networkPolicies,
    ...egressPolicies,
    ...rolePolicies,
    ...aksPolicies,
    ...kubernetesPolicies,
    ...identityPolicies,
    ...stackPolicies,
    ...azureBehaviourPolicies,
    ...baselinePolicies,
    ...proofPolicies,
];
