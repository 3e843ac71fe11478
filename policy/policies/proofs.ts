// What the verification Jobs prove inside `pulumi up` depends on the plan giving them the means: a
// canary nobody is granted, and, for every bound Job, the canary's names, the private-endpoint subnet
// and the Kubernetes Secret the CSI driver mirrors. These rules keep a change from quietly taking a
// proof away. docs/operations.md says what each Job checks.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { roleGuid } from "../lib/arm";
import { idNames, ofType, refersTo } from "../lib/graph";
import { workloadPods } from "../lib/k8s";
import { runsPodIdentity } from "../lib/modes";
import { TYPES } from "../lib/types";
import { field, list, text } from "../lib/values";

/**
 * Roles that manage a vault without reading what it holds: Key Vault Contributor has no data
 * actions (Azure built-in roles, Key Vault Contributor), which AKS's etcd encryption asks for on the
 * vault to create its private link. With access policies it could write one, but there the canary is
 * readable by design anyway.
 */
const VAULT_MANAGEMENT_ONLY: ReadonlySet<string> = new Set(["f25e0fa2-a7c8-4377-a976-54943a77a395"]);

/** The canary's name: the Key Vault secret and the blob container granted to nobody. */
const CANARY = "canary";
/** The name input of each resource type that holds a canary, for a scope given as its ARM id. */
const HOLDER_NAME_INPUTS: ReadonlyMap<string, string> = new Map([
    [TYPES.vault, "vaultName"],
    [TYPES.storageAccount, "accountName"],
]);

/** The canary secret and container of a plan, by their name inputs. */
function canaries(resources: readonly PolicyResource[]): PolicyResource[] {
    return [
        ...ofType(resources, TYPES.secret).filter((s) => text(field(s.props, "secretName")) === CANARY),
        ...ofType(resources, TYPES.blobContainer).filter((c) => text(field(c.props, "containerName")) === CANARY),
    ];
}

/** The verification Jobs of a plan (VERIFY_MODE bound, unbound or impostor): none in a stack without the demo. */
function verificationJobs(resources: readonly PolicyResource[]): PolicyResource[] {
    return resources.filter((resource) => {
        const pods = resource.type === "kubernetes:batch/v1:Job" ? workloadPods(resource.type, resource.props) : undefined;
        return pods !== undefined && environment(pods.spec).has("VERIFY_MODE");
    });
}

/** Nobody is granted the canary, nor anything that holds it. */
export const canaryGrantedToNobody: StackValidationPolicy = {
    name: "canary-granted-to-nobody",
    description:
        "A stack that runs verification Jobs has a canary Key Vault secret and blob container named `canary`; no role assignment is scoped to either of them or to the vault or storage account that holds them (Key Vault Contributor, which reads nothing the vault holds and which AKS's etcd encryption needs on the vault, aside), so each bound verification Job can prove its identity is refused what is not its own. In accessPolicy mode access policies grant the whole vault, which the Jobs report as readable by design. No direct Checkov equivalent; Microsoft cloud security benchmark PA-7 (least privilege).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const found = canaries(args.resources);
        const proving = verificationJobs(args.resources).length > 0;
        for (const [type, what] of [
            [TYPES.secret, "secret"],
            [TYPES.blobContainer, "container"],
        ] as const) {
            if (proving && !found.some((c) => c.type === type)) {
                reportViolation(`The stack has no canary ${what} named ${CANARY}.`);
            }
        }
        const holders = [...ofType(args.resources, TYPES.vault), ...ofType(args.resources, TYPES.storageAccount), ...found];
        for (const grant of ofType(args.resources, TYPES.roleAssignment)) {
            if (VAULT_MANAGEMENT_ONLY.has(roleGuid(text(field(grant.props, "roleDefinitionId")) ?? ""))) {
                continue;
            }
            const literal = text(field(grant.props, "scope")) ?? "";
            // Without a recorded dependency, a scope names the vault or account by its ARM id; the canaries themselves by the pattern below.
            const scopes = holders.filter((h) =>
                refersTo(grant, "scope", h, () => {
                    const nameInput = HOLDER_NAME_INPUTS.get(h.type);
                    return nameInput !== undefined && idNames(literal, h, nameInput);
                }),
            );
            if (scopes.length > 0 || new RegExp(`/(secrets|containers)/${CANARY}$`).test(literal)) {
                reportViolation(`This role assignment is scoped to ${scopes.length > 0 ? scopes.map((s) => s.name).join(", ") : literal}, which grants the canary.`, grant.urn);
            }
        }
    },
};

/** The names of a pod spec's container environment variables, with their value or reference. */
function environment(spec: Record<string, unknown>): Map<string, unknown> {
    const vars = new Map<string, unknown>();
    for (const container of list(field(spec, "containers"))) {
        for (const entry of list(field(container, "env"))) {
            const name = text(field(entry, "name"));
            if (name !== undefined) {
                vars.set(name, field(entry, "value") ?? field(entry, "valueFrom"));
            }
        }
    }
    return vars;
}

/** What a bound Job must be told to try the canary and check the private path. */
const BOUND_JOB_NEEDS = ["CANARY_SECRET_NAME", "CANARY_CONTAINER", "KEYVAULT_AUTHORIZATION", "PRIVATE_ENDPOINT_SUBNET"];

/** The Kubernetes Secrets the stack's SecretProviderClasses mirror in a namespace (`secretObjects`). */
function mirroredSecrets(resources: readonly PolicyResource[], namespace: string | undefined): string[] {
    return ofType(resources, TYPES.secretProviderClass)
        .filter((spc) => text(field(spc.props, "metadata", "namespace")) === namespace)
        .flatMap((spc) => list(field(spc.props, "spec", "secretObjects")).map((o) => text(field(o, "secretName")) ?? ""));
}

/** Every bound verification Job is given what its proofs need. */
export const boundJobsProve: StackValidationPolicy = {
    name: "bound-jobs-prove-canary-path-and-sync",
    description:
        "Every bound verification Job (VERIFY_MODE bound) is told the canary's secret and container, the vault's authorization mode and the private-endpoint subnet; where its namespace's SecretProviderClass mirrors the secret into a Kubernetes Secret, the Job mounts that Secret as a volume and is told the file (SYNCED_SECRET_FILE), so its verdict covers the canary, the private path and the mirror. No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const resource of args.resources) {
            const pods = resource.type === "kubernetes:batch/v1:Job" ? workloadPods(resource.type, resource.props) : undefined;
            if (pods === undefined) {
                continue;
            }
            const vars = environment(pods.spec);
            if (vars.get("VERIFY_MODE") !== "bound") {
                continue;
            }
            const missing = BOUND_JOB_NEEDS.filter((name) => vars.get(name) === undefined);
            const mirrored = mirroredSecrets(args.resources, pods.namespace);
            const mounted = list(field(pods.spec, "volumes")).map((v) => text(field(v, "secret", "secretName")));
            for (const secret of mirrored) {
                if (!mounted.includes(secret)) {
                    missing.push(`a volume of the mirrored Secret ${secret}`);
                }
            }
            if (mirrored.length > 0 && typeof vars.get("SYNCED_SECRET_FILE") !== "string") {
                missing.push("SYNCED_SECRET_FILE");
            }
            if (missing.length > 0) {
                reportViolation(`This bound verification Job is not given ${missing.join(", ")}.`, resource.urn);
            }
        }
    },
};

/** What an impostor must try in each identity mode: the attempts the guards, or Entra, must refuse. */
const IMPOSTOR_CHECKS = { podIdentity: ["labelledPod", "azureIdentity", "podIdentityException"], workloadIdentity: ["tokenExchange"] };

/** Every workload is attacked by an impostor from another namespace inside `pulumi up`. */
export const impostorProvesIsolation: StackValidationPolicy = {
    name: "impostor-proves-isolation",
    description:
        "In a stack that runs verification Jobs, for every namespace the stack creates for a workload, a verification Job in another namespace runs the verifier's impostor mode against it (VERIFY_MODE impostor, TARGET_NAMESPACE that namespace) and tries what the identity mode must refuse: with pod identity a pod carrying the workload's binding label, an AzureIdentity and binding naming its identity, and an exception past NMI (IMPOSTOR_CHECKS labelledPod, azureIdentity, podIdentityException); with Workload ID its own token exchanged for the workload's client id (tokenExchange). No direct Checkov equivalent.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        if (verificationJobs(args.resources).length === 0) {
            // A stack without the demo (config demo false) proves nothing inside pulumi up.
            return;
        }
        const needed = runsPodIdentity(args.resources) ? IMPOSTOR_CHECKS.podIdentity : IMPOSTOR_CHECKS.workloadIdentity;
        const impostors = args.resources.flatMap((resource) => {
            const pods = resource.type === "kubernetes:batch/v1:Job" ? workloadPods(resource.type, resource.props) : undefined;
            if (pods === undefined) {
                return [];
            }
            const vars = environment(pods.spec);
            return vars.get("VERIFY_MODE") === "impostor" ? [{ namespace: pods.namespace, target: vars.get("TARGET_NAMESPACE"), checks: String(vars.get("IMPOSTOR_CHECKS") ?? "").split(",") }] : [];
        });
        for (const ns of ofType(args.resources, TYPES.namespace)) {
            const name = text(field(ns.props, "metadata", "name"));
            if (name === undefined || text(field(ns.props, "metadata", "labels", "aks-identity-vault/workload")) === undefined) {
                continue;
            }
            const against = impostors.filter((i) => i.target === name && i.namespace !== name);
            if (against.length === 0) {
                reportViolation(`No impostor verification Job from another namespace tries to take the identity of workload namespace ${name}.`, ns.urn);
                continue;
            }
            const missing = needed.filter((check) => !against.some((i) => i.checks.includes(check)));
            if (missing.length > 0) {
                reportViolation(`The impostor Job against namespace ${name} does not try ${missing.join(", ")}.`, ns.urn);
            }
        }
    },
};

/** The proofs' policies, in the order the pack lists them. */
export const proofPolicies = [canaryGrantedToNobody, boundJobsProve, impostorProvesIsolation];
