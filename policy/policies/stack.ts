// Stack-wide policies: the resources whose loss loses data are protected from deletion.
import { StackValidationPolicy } from "@pulumi/policy";
import { TYPES } from "../lib/types";

/** Types whose deletion or replacement loses data or identity that cannot be recreated as it was. */
const STATEFUL_TYPES: ReadonlyMap<string, string> = new Map([
    [TYPES.resourceGroup, "resource group"],
    [TYPES.vault, "Key Vault"],
    [TYPES.secret, "Key Vault secret"],
    [TYPES.key, "Key Vault key"],
    [TYPES.storageAccount, "storage account"],
    [TYPES.blobContainer, "blob container"],
    [TYPES.managedCluster, "AKS cluster"],
    [TYPES.logAnalyticsWorkspace, "Log Analytics workspace"],
]);

/** Every stateful resource is protected. */
export const statefulResourcesProtected: StackValidationPolicy = {
    name: "stateful-resources-protected",
    description:
        "Every stateful resource (resource group, Key Vault, secret, key, storage account, blob container, AKS cluster, Log Analytics workspace) is registered with Pulumi's protect option, so a rename or a removed line fails the update instead of deleting data; a soft-deleted vault name also blocks re-creation for the retention period. No direct Checkov equivalent; Microsoft cloud security benchmark BR-2 (protect backup and recovery data).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const resource of args.resources) {
            const kind = STATEFUL_TYPES.get(resource.type);
            if (kind !== undefined && !resource.opts.protect) {
                reportViolation(`This ${kind} is not protected; register it with protect: true.`, resource.urn);
            }
        }
    },
};

/** The stack-wide policies of the pack. */
export const stackPolicies = [statefulResourcesProtected];
