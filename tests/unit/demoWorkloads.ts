import * as k8s from "@pulumi/kubernetes";
import { DemoWorkloads, DemoWorkloadsArgs, verificationJobName } from "../../components/demoWorkloads";
import { identityModeDriver } from "../../components/modes";
import type { IdentityMode } from "../../components/modes";
import { buildOne, containerEnv, named, registrations, settled } from "./build";

describe("DemoWorkloads", () => {
    const MODES: IdentityMode[] = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"];
    const JOB = "kubernetes:batch/v1:Job";

    interface PodSpec {
        serviceAccountName: string;
        automountServiceAccountToken: boolean;
        containers: Array<{ env: Array<{ name: string; value?: string; valueFrom?: unknown }>; volumeMounts: Array<{ mountPath: string }>; command: string[] }>;
        volumes: Array<{ name: string; csi?: unknown }>;
    }
    interface JobInputs {
        metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
        spec: { backoffLimit: number; activeDeadlineSeconds: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
    }

    async function built(identityMode: IdentityMode, extra: Partial<DemoWorkloadsArgs> = {}, syncSecret = false) {
        const { component: demo, plan } = await buildOne(() => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "unit" });
            const prerequisite = new k8s.core.v1.ConfigMap("prerequisite", { metadata: { name: "prerequisite" } }, { provider });
            return new DemoWorkloads("alpha", {
                workload: { name: "alpha", namespace: "team-alpha", bindingSelector: "alpha-selector", serviceAccount: "alpha-workload", identityType: "managedIdentity", syncSecret },
                pods: identityModeDriver(identityMode).pods,
                namespace: "team-alpha",
                serviceAccountName: "alpha-workload",
                secretProviderClassName: "alpha-keyvault",
                identityClientId: "client-alpha",
                keyVaultUri: "https://kv-aiv-unit-abc123.vault.azure.net/",
                secretName: "alpha-demo",
                blobEndpoint: "https://staivunitabc123.blob.core.windows.net/",
                container: "alpha",
                image: "node:22.14.0-alpine3.21",
                verifierFiles: { "verifier.js": "console.log('verifier');", "impostor.js": "module.exports = {};" },
                privateEndpointSubnetPrefix: "10.76.2.0/26",
                nodeSelector: { "kubernetes.azure.com/mode": "user" },
                canary: { secretName: "canary", container: "canary" },
                keyVaultAuthorization: "rbac",
                syncedSecret: { name: "alpha-demo", key: "value" },
                dependsOn: [prerequisite],
                provider,
                ...extra,
            });
        });
        const job = (role: string) => named(plan, JOB, `alpha-${role}`);
        return { demo, plan, job, inputs: (role: string) => job(role).newState.inputs as unknown as JobInputs };
    }

    test.each(MODES)("registers exactly the reviewed script, account and Jobs (%s)", async (mode) => {
        expect(registrations((await built(mode)).plan)).toMatchSnapshot();
    });

    test("the bound Job carries the binding label, runs as the workload, mounts the vault and is told where everything is", async () => {
        const { inputs } = await built("podIdentityAddon");
        const bound = inputs("verify-bound");
        expect(bound.metadata).toMatchObject({ name: "alpha-verify-bound", annotations: { "pulumi.com/replaceUnready": "true" } });
        expect(bound.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1200 });
        expect(bound.spec.template.metadata.labels).toMatchObject({ aadpodidbinding: "alpha-selector" });
        const pod = bound.spec.template.spec;
        expect(pod).toMatchObject({ serviceAccountName: "alpha-workload", automountServiceAccountToken: false });
        expect(containerEnv(pod)).toEqual({
            WORKLOAD: "alpha",
            TOKEN_SOURCE: "imds",
            KEYVAULT_URI: "https://kv-aiv-unit-abc123.vault.azure.net/",
            BLOB_ENDPOINT: "https://staivunitabc123.blob.core.windows.net/",
            BLOB_CONTAINER: "alpha",
            AZURE_CLIENT_ID: "client-alpha",
            VERIFY_MODE: "bound",
            SECRET_NAME: "alpha-demo",
            SECRET_FILE: "/mnt/secrets-store/alpha-demo",
            CANARY_SECRET_NAME: "canary",
            CANARY_CONTAINER: "canary",
            KEYVAULT_AUTHORIZATION: "rbac",
            PRIVATE_ENDPOINT_SUBNET: "10.76.2.0/26",
        });
        // No secret in the environment; the workload keeps its secret in Key Vault, so no mirror to check.
        expect(pod.containers[0].env.filter((e) => e.valueFrom !== undefined)).toEqual([]);
        expect(pod.volumes.map((v) => v.name)).toEqual(["verifier", "secrets-store"]);
        expect(pod.containers[0].volumeMounts.map((m) => m.mountPath)).toEqual(["/opt/verifier", "/mnt/secrets-store"]);
        expect(pod.containers[0].command).toEqual(["node", "/opt/verifier/verifier.js"]);
    });

    test("a workload that syncs: the bound Job reads the mirrored Kubernetes Secret as a file, never from its environment", async () => {
        const { inputs } = await built("podIdentityAddon", {}, true);
        const pod = inputs("verify-bound").spec.template.spec as PodSpec & { volumes: Array<{ name: string; secret?: unknown }> };
        expect(containerEnv(pod)).toMatchObject({ SYNCED_SECRET_FILE: "/mnt/synced-secret/value" });
        expect(pod.containers[0].env.filter((e) => e.valueFrom !== undefined)).toEqual([]);
        expect(pod.volumes.find((v) => v.name === "synced-secret")).toEqual({ name: "synced-secret", secret: { secretName: "alpha-demo", items: [{ key: "value", path: "value" }] } });
        expect(pod.containers[0].volumeMounts.map((m) => m.mountPath)).toEqual(["/opt/verifier", "/mnt/secrets-store", "/mnt/synced-secret"]);
        // The mirror's volume, read-only: the Job can read the Secret, never change what the workload reads.
        expect(pod.containers[0].volumeMounts[2]).toEqual({ name: "synced-secret", mountPath: "/mnt/synced-secret", readOnly: true });
    });

    test("ships every verifier file in the ConfigMap", async () => {
        const { plan } = await built("podIdentityAddon");
        const data = named(plan, "kubernetes:core/v1:ConfigMap", "alpha-verifier-script").newState.inputs.data as Record<string, string>;
        expect(Object.keys(data).sort()).toEqual(["impostor.js", "verifier.js"]);
    });

    test("pod identity: the unbound Job has no binding label, no vault volume and its own account", async () => {
        const { inputs } = await built("podIdentityOss");
        const unbound = inputs("verify-unbound");
        expect(unbound.spec.template.metadata.labels).not.toHaveProperty("aadpodidbinding");
        const pod = unbound.spec.template.spec;
        expect(pod.serviceAccountName).toBe("alpha-unbound");
        expect(pod.volumes.map((v) => v.name)).toEqual(["verifier"]);
        expect(containerEnv(pod)).toMatchObject({ VERIFY_MODE: "unbound", AZURE_CLIENT_ID: "client-alpha", TOKEN_SOURCE: "imds" });
        expect(containerEnv(pod)).not.toHaveProperty("SECRET_NAME");
    });

    test("Workload ID: both Jobs claim the identity by label, the unbound one under an account no credential trusts", async () => {
        const { inputs, plan } = await built("workloadIdentity");
        for (const role of ["verify-bound", "verify-unbound"]) {
            expect(inputs(role).spec.template.metadata.labels).toMatchObject({ "azure.workload.identity/use": "true" });
            expect(containerEnv(inputs(role).spec.template.spec)).toMatchObject({ TOKEN_SOURCE: "workloadIdentity" });
            expect(containerEnv(inputs(role).spec.template.spec)).not.toHaveProperty("AZURE_CLIENT_ID");
        }
        expect(named(plan, "kubernetes:core/v1:ServiceAccount", "alpha-unbound-sa").newState.inputs).toMatchObject({
            metadata: { name: "alpha-unbound", annotations: { "azure.workload.identity/client-id": "client-alpha" } },
            automountServiceAccountToken: false,
        });
    });

    test("Jobs wait for what they need; the timeout can be set", async () => {
        const { job, inputs } = await built("podIdentityAddon", { verifyTimeoutMinutes: 5 });
        for (const s of [job("verify-bound"), job("verify-unbound")]) {
            expect(s.newState.dependencies).toEqual(expect.arrayContaining([expect.stringMatching(/::prerequisite$/)]));
        }
        expect(inputs("verify-bound").spec.activeDeadlineSeconds).toBe(300);
    });

    test("a new round of verification renames the Jobs, so pulumi up replaces them and they run again; none keeps the names", async () => {
        const { demo, job } = await built("podIdentityAddon", { verificationRun: "2026-12-04" });
        expect(await settled(demo.boundJobName)).toBe("alpha-verify-bound-2026-12-04");
        expect(await settled(demo.unboundJobName)).toBe("alpha-verify-unbound-2026-12-04");
        // The same Pulumi resources, with a new Kubernetes name: a replacement, not a new resource.
        expect(job("verify-bound").urn).toMatch(/::alpha-verify-bound$/);
        expect(verificationJobName("alpha-verify-bound", "")).toBe("alpha-verify-bound");
        expect(verificationJobName("alpha-verify-bound", undefined)).toBe("alpha-verify-bound");
    });

    test("exposes the Job names for kubectl", async () => {
        const { demo } = await built("podIdentityAddon");
        expect(await settled(demo.boundJobName)).toBe("alpha-verify-bound");
        expect(await settled(demo.unboundJobName)).toBe("alpha-verify-unbound");
    });

    test("with an egress probe, the bound Job is told the address and port to try; without one, nothing", async () => {
        const probed = await built("podIdentityAddon", { egressProbe: { address: "1.1.1.1", port: 443 } });
        expect(containerEnv(probed.inputs("verify-bound").spec.template.spec)).toMatchObject({ EGRESS_PROBE: "1.1.1.1:443" });
        expect(containerEnv((await built("podIdentityAddon")).inputs("verify-bound").spec.template.spec)).not.toHaveProperty("EGRESS_PROBE");
    });
});
