import * as k8s from "@pulumi/kubernetes";
import { IMPOSTOR_NAMESPACE } from "../../config";
import { ImpostorProof, ImpostorProofArgs, impostorEgressPolicySpec, impostorRules } from "../../components/impostorProof";
import { identityModeDriver } from "../../components/modes";
import type { IdentityMode } from "../../components/modes";
import { buildOne, containerEnv, dependencyNames, named, ofType, registrations, settled } from "./build";

describe("ImpostorProof", () => {
    const MODES: IdentityMode[] = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"];
    const JOB = "kubernetes:batch/v1:Job";

    interface JobInputs {
        metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
        spec: {
            backoffLimit: number;
            activeDeadlineSeconds: number;
            template: {
                spec: {
                    serviceAccountName: string;
                    containers: Array<{ env: Array<{ name: string; value?: string }> }>;
                    volumes: Array<{ name: string; projected?: { sources: Array<Record<string, unknown>> } }>;
                };
            };
        };
    }

    async function built(identityMode: IdentityMode, extra: Partial<ImpostorProofArgs> = {}) {
        const { component: proof, plan } = await buildOne(() => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "unit" });
            const guard = new k8s.core.v1.ConfigMap("guard", { metadata: { name: "guard" } }, { provider });
            return new ImpostorProof("impostor", {
                targets: [
                    {
                        workload: { name: "alpha", namespace: "team-alpha", bindingSelector: "alpha-selector", serviceAccount: "alpha-workload", identityType: "managedIdentity", syncSecret: false },
                        identityClientId: "client-alpha",
                        identityResourceId: "/subscriptions/sub-unit/resourceGroups/rg-unit/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aiv-unit-alpha",
                        dependsOn: [guard],
                    },
                ],
                pods: identityModeDriver(identityMode).pods,
                tenantId: "tenant-unit",
                image: "node:22.14.0-alpine3.21",
                verifierFiles: { "verifier.js": "console.log('verifier');", "impostor.js": "module.exports = {};" },
                nodeSelector: { "kubernetes.azure.com/mode": "user" },
                provider,
                ...extra,
            });
        });
        const job = named(plan, JOB, "impostor-alpha");
        return { proof, plan, job, inputs: job.newState.inputs as unknown as JobInputs };
    }

    const env = (inputs: JobInputs): Record<string, string> => containerEnv(inputs.spec.template.spec);

    test.each(MODES)("registers exactly the reviewed namespace, policies, account, rights and Job (%s)", async (mode) => {
        expect(registrations((await built(mode)).plan)).toMatchSnapshot();
    });

    test("with pod identity the impostor may create only the labelled pod and the aad-pod-identity objects its checks write, in its own namespace", async () => {
        const pods = identityModeDriver("podIdentityOss").pods;
        expect(impostorRules(pods)).toEqual([
            { apiGroups: [""], resources: ["pods"], verbs: ["create"] },
            { apiGroups: ["aadpodidentity.k8s.io"], resources: ["azureidentities", "azureidentitybindings", "azurepodidentityexceptions"], verbs: ["create"] },
        ]);
        expect(impostorRules({ ...pods, impostor: { checks: ["azureIdentity"] } })).toEqual([
            { apiGroups: ["aadpodidentity.k8s.io"], resources: ["azureidentities", "azureidentitybindings"], verbs: ["create"] },
        ]);
        expect(impostorRules({ ...pods, impostor: { checks: ["podIdentityException"] } })).toEqual([
            { apiGroups: ["aadpodidentity.k8s.io"], resources: ["azurepodidentityexceptions"], verbs: ["create"] },
        ]);
        const { plan } = await built("podIdentityOss");
        const role = named(plan, "kubernetes:rbac.authorization.k8s.io/v1:Role", "impostor-role").newState.inputs;
        expect(role).toMatchObject({ metadata: { name: "impostor", namespace: IMPOSTOR_NAMESPACE }, rules: impostorRules(pods) });
        const binding = named(plan, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "impostor-role-binding").newState.inputs;
        expect(binding).toMatchObject({ roleRef: { kind: "Role", name: "impostor" }, subjects: [{ kind: "ServiceAccount", name: "impostor", namespace: IMPOSTOR_NAMESPACE }] });
    });

    test("with Workload ID the impostor writes nothing: no Role, and a second token, for Entra, in its Job", async () => {
        expect(impostorRules(identityModeDriver("workloadIdentity").pods)).toEqual([]);
        const { plan, inputs } = await built("workloadIdentity");
        expect(ofType(plan, "kubernetes:rbac.authorization.k8s.io/v1:Role")).toEqual([]);
        expect(ofType(plan, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")).toEqual([]);
        const sources = inputs.spec.template.spec.volumes.find((v) => v.name === "kube-api")?.projected?.sources;
        expect(sources).toContainEqual({ serviceAccountToken: { path: "azure-token", audience: "api://AzureADTokenExchange", expirationSeconds: 3600 } });
        expect(env(inputs)).toMatchObject({ IMPOSTOR_CHECKS: "tokenExchange", AZURE_TENANT_ID: "tenant-unit", IMPOSTOR_TOKEN_FILE: "/var/run/secrets/impostor/api/azure-token" });
        expect(env(inputs)).not.toHaveProperty("LABEL_GUARD_POLICY");
        expect(env(inputs)).not.toHaveProperty("CRD_GUARD_POLICY");
    });

    test("the Job goes after its workload from the impostor's namespace, names the guards that must refuse it, and runs once the guards exist", async () => {
        const { proof, inputs, job } = await built("podIdentityAddon");
        expect(inputs.metadata).toMatchObject({ name: "alpha-verify-impostor", namespace: IMPOSTOR_NAMESPACE, annotations: { "pulumi.com/replaceUnready": "true" } });
        expect(inputs.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1200 });
        expect(inputs.spec.template.spec.serviceAccountName).toBe("impostor");
        expect(env(inputs)).toMatchObject({
            VERIFY_MODE: "impostor",
            WORKLOAD: "alpha",
            IMPOSTOR_CHECKS: "labelledPod,azureIdentity,podIdentityException",
            IMPOSTOR_NAMESPACE,
            TARGET_NAMESPACE: "team-alpha",
            BINDING_SELECTOR: "alpha-selector",
            TARGET_CLIENT_ID: "client-alpha",
            KUBE_TOKEN_FILE: "/var/run/secrets/impostor/api/token",
            KUBE_CA_FILE: "/var/run/secrets/impostor/api/ca.crt",
        });
        expect(env(inputs)).toHaveProperty("LABEL_GUARD_POLICY");
        expect(env(inputs)).toHaveProperty("CRD_GUARD_POLICY");
        expect(env(inputs)).not.toHaveProperty("AZURE_TENANT_ID");
        expect(dependencyNames(job.newState)).toEqual(expect.arrayContaining(["guard", "impostor-default-deny", "impostor-egress", "impostor-role-binding"]));
        expect(await settled(proof.namespace)).toBe(IMPOSTOR_NAMESPACE);
        expect(await settled(proof.jobNames.alpha)).toBe("alpha-verify-impostor");
    });

    test("a verification round renames the Job, and the time it may take sets its deadline", async () => {
        const { inputs } = await built("workloadIdentity", { verificationRun: "r2", verifyTimeoutMinutes: 5 });
        expect(inputs.metadata.name).not.toBe("alpha-verify-impostor");
        expect(inputs.metadata.name).toMatch(/^alpha-verify-impostor/);
        expect(inputs.spec.activeDeadlineSeconds).toBe(300);
    });

    test("the namespace's only allowance is DNS and HTTPS out: nothing comes in", () => {
        const spec = impostorEgressPolicySpec();
        expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
        expect(spec.ingress).toEqual([]);
        expect(spec.egress[1]).toEqual({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] });
    });
});
