// Fifty workloads on one cluster: each gets its own namespace, identity, binding, secret, key,
// container, SecretProviderClass and Jobs, and no identity is granted anything of another workload.
import { analyse, schedule } from "../tools/graph/graph";
import type { Plan, Step } from "../tools/plan/types";
import { inputAt, planFor, step, stepsOfType } from "./support";
import { workloadsConfig } from "../tools/bench";

const NAMES = Array.from({ length: 50 }, (_, i) => `team${String(i).padStart(2, "0")}`);
/** Each workload in a namespace of its own name, as npm run bench plans them. */
const FIFTY = workloadsConfig(50);

/** Role-assignment scopes (last two ARM segments) granted to the principal of a resource. */
function scopesGrantedTo(plan: Plan, principal: Step): string[] {
    return stepsOfType(plan, "azure-native:authorization:RoleAssignment")
        .filter((r) => r.newState.propertyDependencies.principalId?.includes(principal.urn))
        .map((r) => String(r.newState.inputs.scope).split("/").slice(-2).join("/"))
        .sort();
}

describe("50 workloads, Azure RBAC", () => {
    let plan: Plan;
    beforeAll(async () => {
        plan = await planFor([FIFTY]);
    });

    test.each([
        ["kubernetes:core/v1:Namespace", "namespace"],
        ["azure-native:managedidentity:UserAssignedIdentity", "identity"],
        ["pulumi-nodejs:dynamic:RolePropagationDelay", "operator-propagation"],
        ["azure-native:keyvault:Secret", "secret"],
        ["azure-native:keyvault:Key", "key"],
        ["azure-native:storage:BlobContainer", "container"],
        ["kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "secret-provider"],
        ["kubernetes:batch/v1:Job", "verify-bound"],
        ["kubernetes:batch/v1:Job", "verify-unbound"],
    ])("each workload has its own %s (%s)", (type, role) => {
        const owners = stepsOfType(plan, type)
            .map((s) => s.urn.split("::").pop() ?? "")
            // The cluster's own control-plane and kubelet identities, the canary and the impostor's namespace belong to no workload.
            .filter((name) => name.endsWith(`-${role}`) && !name.startsWith("aks-") && !name.startsWith("impostor-") && !name.includes("-canary-"))
            .map((name) => name.replace(/^(storage|keyvault)-/, "").slice(0, -(role.length + 1)));
        expect(owners.sort()).toEqual(NAMES);
    });

    test("no identity is granted another workload's container, secret or key", () => {
        for (const name of NAMES) {
            const identity = step(plan, "azure-native:managedidentity:UserAssignedIdentity", `${name}-identity`);
            expect([name, scopesGrantedTo(plan, identity)]).toEqual([name, [`containers/${name}`, `keys/${name}-demo-key`, `secrets/${name}-demo`]]);
        }
    });

    test("each SecretProviderClass mounts only its own workload's objects", () => {
        for (const name of NAMES) {
            const objects = String(inputAt(step(plan, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", `${name}-secret-provider`), "spec.parameters.objects"));
            const named = [...objects.matchAll(/objectName: (\S+)/g)].map((m) => m[1]);
            expect(named).toEqual([`${name}-demo`, `${name}-demo-key`]);
        }
    });

    test("one PodIdentities resource holds every workload's entry; each entry and label guard names only its own namespace and selector", () => {
        const writes = stepsOfType(plan, "pulumi-nodejs:dynamic:PodIdentities");
        expect(writes).toHaveLength(1);
        const podIdentities = inputAt(writes[0], "identities") as Record<string, unknown>;
        expect(Object.keys(podIdentities).sort()).toEqual(NAMES.map((name) => `${name}/${name}`));
        for (const name of NAMES) {
            expect(podIdentities[`${name}/${name}`]).toMatchObject({
                name,
                namespace: name,
                bindingSelector: name,
                identity: { resourceId: expect.stringMatching(new RegExp(`/id-aiv-dev-${name}$`)) },
            });
            const guard = inputAt(step(plan, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", `${name}-label-guard`), "spec.validations.0.expression");
            expect(guard).toContain(`== '${name}'`);
            expect(guard).toContain(`== '${name}-workload'`);
        }
    });
});

describe("50 workloads: Key Vault takes one write at a time, and the chain stays off the critical path", () => {
    // Overlapping writes to one vault fail with ConflictError (pulumi/pulumi-azure-native#1013).
    test("Azure RBAC: the endpoint, the canary, 50 secrets and 50 keys run one after another and end before the cluster is created", async () => {
        const { vaultChains, cluster } = analyse((await planFor([FIFTY])).steps);
        expect(vaultChains.map((c) => [c.writes.length, c.ordered])).toEqual([[102, true]]);
        expect(vaultChains[0].finish).toBeLessThan(cluster?.finish ?? 0);
    });

    test("access policies: 50 more writes end after the cluster is created, but before any verification Job starts", async () => {
        const analysis = analyse((await planFor([FIFTY, "keyVaultAuthorization=accessPolicy"])).steps);
        const [chain] = analysis.vaultChains;
        expect([chain.writes.length, chain.ordered]).toEqual([152, true]);
        expect(chain.finish).toBeGreaterThan(analysis.cluster?.finish ?? Infinity);
        const times = schedule(analysis.graph);
        const jobsStart = Math.min(...analysis.graph.nodes.filter((n) => n.type === "kubernetes:batch/v1:Job").map((n) => times.start.get(n.urn) ?? 0));
        expect(chain.finish).toBeLessThan(jobsStart);
    });
});

describe("50 workloads, access policies", () => {
    test("each access policy names one workload's identity; Azure applies it vault-wide (docs/guardrails.md)", async () => {
        const plan = await planFor([FIFTY, "keyVaultAuthorization=accessPolicy"]);
        for (const name of NAMES) {
            const policy = step(plan, "azure-native:keyvault:AccessPolicy", `keyvault-${name}-access-policy`);
            const identity = step(plan, "azure-native:managedidentity:UserAssignedIdentity", `${name}-identity`);
            expect(policy.newState.propertyDependencies.policy).toContain(identity.urn);
            expect(scopesGrantedTo(plan, identity)).toEqual([`containers/${name}`]);
        }
    });
});
