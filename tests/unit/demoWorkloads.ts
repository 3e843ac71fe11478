import * as k8s from "@pulumi/kubernetes";
import { DemoWorkloads, DemoWorkloadsArgs } from "../../components/demoWorkloads";
import { identityModeDriver } from "../../components/modes";
import type { IdentityMode } from "../../components/modes";
import { buildOne, named, registrations, settled } from "./build";

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

    async function built(identityMode: IdentityMode, extra: Partial<DemoWorkloadsArgs> = {}) {
        const { component: demo, plan } = await buildOne(() => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "unit" });
            const prerequisite = new k8s.core.v1.ConfigMap("prerequisite", { metadata: { name: "prerequisite" } }, { provider });
            return new DemoWorkloads("alpha", {
                workload: { name: "alpha", namespace: "team-alpha", bindingSelector: "alpha-selector", serviceAccount: "alpha-workload", identityType: "managedIdentity" },
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
                verifierScript: "console.log('verifier');",
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

    function env(spec: PodSpec): Record<string, string> {
        return Object.fromEntries(spec.containers[0].env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
    }

    test.each(MODES)("registers exactly the reviewed script, accounts, policy, Jobs and inspector (%s)", async (mode) => {
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
        expect(env(pod)).toEqual({
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
        // The mirrored Kubernetes Secret, by reference only: its value never appears in the plan.
        expect(pod.containers[0].env.filter((e) => e.valueFrom !== undefined)).toEqual([{ name: "SYNCED_SECRET", valueFrom: { secretKeyRef: { name: "alpha-demo", key: "value" } } }]);
        expect(pod.volumes.map((v) => v.name)).toEqual(["verifier", "secrets-store"]);
        expect(pod.containers[0].volumeMounts.map((m) => m.mountPath)).toEqual(["/opt/verifier", "/mnt/secrets-store"]);
        expect(pod.containers[0].command).toEqual(["node", "/opt/verifier/verifier.js"]);
    });

    test("pod identity: the unbound Job has no binding label, no vault volume and its own account", async () => {
        const { inputs } = await built("podIdentityOss");
        const unbound = inputs("verify-unbound");
        expect(unbound.spec.template.metadata.labels).not.toHaveProperty("aadpodidbinding");
        const pod = unbound.spec.template.spec;
        expect(pod.serviceAccountName).toBe("alpha-unbound");
        expect(pod.volumes.map((v) => v.name)).toEqual(["verifier"]);
        expect(env(pod)).toMatchObject({ VERIFY_MODE: "unbound", AZURE_CLIENT_ID: "client-alpha", TOKEN_SOURCE: "imds" });
        expect(env(pod)).not.toHaveProperty("SECRET_NAME");
    });

    test("Workload ID: both Jobs claim the identity by label, the unbound one under an account no credential trusts", async () => {
        const { inputs, plan } = await built("workloadIdentity");
        for (const role of ["verify-bound", "verify-unbound"]) {
            expect(inputs(role).spec.template.metadata.labels).toMatchObject({ "azure.workload.identity/use": "true" });
            expect(env(inputs(role).spec.template.spec)).toMatchObject({ TOKEN_SOURCE: "workloadIdentity" });
            expect(env(inputs(role).spec.template.spec)).not.toHaveProperty("AZURE_CLIENT_ID");
        }
        expect(named(plan, "kubernetes:core/v1:ServiceAccount", "alpha-unbound-sa").newState.inputs).toMatchObject({
            metadata: { name: "alpha-unbound", annotations: { "azure.workload.identity/client-id": "client-alpha" } },
            automountServiceAccountToken: false,
        });
    });

    test("Jobs and the inspector wait for what they need and for the network policy; the timeout can be set", async () => {
        const { job, plan, inputs } = await built("podIdentityAddon", { verifyTimeoutMinutes: 5 });
        const policy = named(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "alpha-network-policy").urn;
        for (const s of [job("verify-bound"), job("verify-unbound"), named(plan, "kubernetes:core/v1:Pod", "alpha-inspector")]) {
            expect(s.newState.dependencies).toEqual(expect.arrayContaining([policy, expect.stringMatching(/::prerequisite$/)]));
        }
        expect(inputs("verify-bound").spec.activeDeadlineSeconds).toBe(300);
    });

    test("the inspector mounts the vault read-only as the workload and idles", async () => {
        const { plan } = await built("podIdentityAddon");
        const pod = named(plan, "kubernetes:core/v1:Pod", "alpha-inspector").newState.inputs as unknown as { metadata: { labels: Record<string, string> }; spec: PodSpec };
        expect(pod.metadata.labels).toMatchObject({ aadpodidbinding: "alpha-selector" });
        expect(pod.spec.serviceAccountName).toBe("alpha-workload");
        expect(pod.spec.volumes).toEqual([{ name: "secrets-store", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: "alpha-keyvault" } } }]);
    });

    test("exposes the Job and pod names for kubectl", async () => {
        const { demo } = await built("podIdentityAddon");
        expect(await settled(demo.boundJobName)).toBe("alpha-verify-bound");
        expect(await settled(demo.unboundJobName)).toBe("alpha-verify-unbound");
        expect(await settled(demo.inspectorPodName)).toBe("alpha-secrets-inspector");
    });
});
