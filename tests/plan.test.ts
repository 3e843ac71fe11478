// `npm run plan`: the offline preview reviewers read. Its JSON follows `pulumi preview --json`.
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { isClosedPipe, onStdoutError } from "../tools/cli";
import type { Plan } from "../tools/plan/types";
import { PLAN_SERVERS, PlanProcess, askPlanServer, runPlan } from "../tools/plan/client";
import { capture, planFor, stepsOfType } from "./support";

/** Runs `npm run plan -- <args>` exactly as a user would, in its own process. */
function npmPlan(args: string[], env: Record<string, string> = {}): Promise<PlanProcess> {
    return capture("npm", ["run", "plan", "--", ...args], env);
}

/**
 * Runs the plan command for bad config on a plan server of the run, which runs it as `npm run plan`
 * would and stops the program before it registers anything; a key of this file's own, so that each
 * case runs.
 */
async function refused(args: string[]): Promise<PlanProcess> {
    return runPlan(args, `plan.test:refused:${JSON.stringify(args)}`);
}

describe("plan --json on the dev stack", () => {
    let plan: Plan;
    beforeAll(async () => {
        plan = await planFor();
    });

    test("is one document shaped like pulumi preview --json", () => {
        expect(Object.keys(plan).sort()).toEqual(["changeSummary", "diagnostics", "outputs", "steps"]);
        expect(plan.changeSummary).toEqual({ create: plan.steps.length });
        for (const s of plan.steps) {
            expect(Object.keys(s).sort()).toEqual(["newState", "op", "urn"]);
            expect(s.op).toBe("create");
            expect(Object.keys(s.newState).sort()).toEqual(
                ["aliases", "custom", "deleteBeforeReplace", "dependencies", "ignoreChanges", "inputs", "parent", "propertyDependencies", "protect", "provider", "retainOnDelete", "type"].sort(),
            );
        }
    });

    test("starts with the Stack and registers each resource after its parent, provider and dependencies", () => {
        expect(plan.steps[0].newState.type).toBe("pulumi:pulumi:Stack");
        expect(plan.steps[0].urn).toBe("urn:pulumi:dev::aks-identity-vault::pulumi:pulumi:Stack::aks-identity-vault-dev");
        const seen = new Set<string>();
        for (const s of plan.steps) {
            if (s.newState.parent !== "") {
                expect(seen).toContain(s.newState.parent);
            }
            for (const dependency of s.newState.dependencies) {
                expect(seen).toContain(dependency);
            }
            if (s.newState.provider !== "") {
                expect(seen).toContain(s.newState.provider.split("::").slice(0, 4).join("::"));
            }
            seen.add(s.urn);
        }
        expect(new Set(plan.steps.map((s) => s.urn)).size).toBe(plan.steps.length);
    });

    test("custom resources name their default provider as the engine does", () => {
        const vault = plan.steps.find((s) => s.newState.type === "azure-native:keyvault:Vault");
        expect(vault?.newState.provider).toMatch(/^urn:pulumi:dev::aks-identity-vault::pulumi:providers:azure-native::default_3_\d+_\d+::04da6b54-80e4-46f7-96ec-b56ff0331ba9$/);
    });

    test("never prints a secret value", () => {
        const secret = plan.steps.find((s) => s.newState.type === "azure-native:keyvault:Secret");
        expect((secret?.newState.inputs.properties as Record<string, unknown>).value).toBe("[secret]");
        const password = plan.steps.find((s) => s.newState.type === "random:index/randomPassword:RandomPassword");
        expect(password).toBeDefined();
        expect(JSON.stringify(plan)).not.toMatch(/"result"/);
    });

    test("exports what an operator needs", () => {
        expect(Object.keys(plan.outputs)).toEqual(
            expect.arrayContaining(["resourceGroupName", "keyVaultName", "keyVaultUri", "storageAccountName", "blobEndpoint", "workloads", "tenantId", "identityMode"]),
        );
    });
});

describe("a private API server with egress through the firewall, in every identity mode", () => {
    const MODES = ["podIdentityAddon", "podIdentityOss", "workloadIdentity"] as const;
    const plans = new Map<string, Plan>();
    beforeAll(async () => {
        const planned = await Promise.all(MODES.map((mode) => planFor([`identityMode=${mode}`, "apiServerAccess=private", "egress=firewall"])));
        MODES.forEach((mode, i) => plans.set(mode, planned[i]));
    }, 60000);
    const of = (mode: string, type: string) => (plans.get(mode)?.steps ?? []).filter((s) => s.newState.type === type).map((s) => s.newState);

    test.each(MODES)("%s: the AKS subnet's route table and its default route to the firewall, outboundType userDefinedRouting, the private API server", (mode) => {
        const [table] = of(mode, "azure-native:network:RouteTable");
        const aksSubnet = of(mode, "azure-native:network:Subnet").find((s) => s.inputs.subnetName === "snet-aks");
        expect(aksSubnet?.inputs.routeTable).toEqual({ id: expect.stringMatching(new RegExp(`/routeTables/${String(table.inputs.routeTableName)}$`)) });
        const [firewall] = of(mode, "azure-native:network:AzureFirewall");
        const [route] = of(mode, "azure-native:network:Route");
        expect(route.inputs).toMatchObject({ routeTableName: table.inputs.routeTableName, addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance" });
        expect(route.propertyDependencies.nextHopIpAddress).toEqual([expect.stringMatching(/::egress-firewall$/)]);
        expect(firewall.inputs).toMatchObject({ sku: { name: "AZFW_VNet", tier: "Standard" } });
        const [cluster] = of(mode, "azure-native:containerservice:ManagedCluster");
        expect(cluster.inputs.networkProfile).toMatchObject({ outboundType: "userDefinedRouting" });
        expect(cluster.inputs.apiServerAccessProfile).toMatchObject({ enablePrivateCluster: true, enableVnetIntegration: true, enablePrivateClusterPublicFQDN: false });
    });

    test.each(MODES)("%s: the rule collections, the firewall's logs to the workspace, and the VNet's flow log", (mode) => {
        const groups = of(mode, "azure-native:network:FirewallPolicyRuleCollectionGroup");
        const rules = groups.flatMap((g) => (g.inputs.ruleCollections as Array<{ name: string; rules: Array<{ name: string }> }>).flatMap((c) => c.rules.map((r) => `${c.name}/${r.name}`)));
        expect(rules).toContain("aks-application/aks-required");
        expect(rules.includes("aks-application/workload-identity")).toBe(mode === "workloadIdentity");
        // A private API server needs no tunnel through the firewall.
        expect(rules.filter((r) => r.startsWith("aks-network/"))).toEqual([]);
        const logs = of(mode, "azure-native:monitor:DiagnosticSetting").find((d) => String(d.inputs.resourceUri).includes("/azureFirewalls/"));
        expect(logs?.inputs).toMatchObject({ logAnalyticsDestinationType: "Dedicated", workspaceId: expect.stringMatching(/\/workspaces\//) });
        const [flowLog] = of(mode, "azure-native:network:FlowLog");
        expect(flowLog.inputs).toMatchObject({ enabled: true, targetResourceId: expect.stringMatching(/\/virtualNetworks\//), format: { version: 2 } });
    });

    test.each(MODES)("%s: the bound verification Job tries the egress proof's address, which its namespace's policy lets it try", (mode) => {
        const bound = of(mode, "kubernetes:batch/v1:Job").find((j) => String((j.inputs.metadata as { name: string }).name).endsWith("-verify-bound"));
        const env = (bound?.inputs.spec as { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } } }).template.spec.containers[0].env;
        expect(env).toContainEqual({ name: "EGRESS_PROBE", value: "1.1.1.1:443" });
        const policy = of(mode, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((p) => (p.inputs.metadata as { name: string }).name === "workload-egress");
        expect((policy?.inputs.spec as { egress: unknown[] }).egress).toContainEqual({ to: [{ ipBlock: { cidr: "1.1.1.1/32" } }], ports: [{ protocol: "TCP", port: 443 }] });
    });
});

describe("a public API server with egress through the firewall: the API server's rule for the pods that call it", () => {
    // Only aad-pod-identity's MIC and NMI are pods outside kube-system that reach the API server
    // (components/modes/driver.ts, `egress`); the add-on's run in kube-system, which AKS points at the
    // API server itself. Two of the argv are those graph.test.ts and secondRun.test.ts plan.
    test.each([
        ["podIdentityAddon", ["apiServerAccess=public", "egress=firewall"], false],
        ["podIdentityOss", ["identityMode=podIdentityOss", "apiServerAccess=public", "egress=firewall"], true],
        ["workloadIdentity", ["identityMode=workloadIdentity", "apiServerAccess=public", "egress=firewall"], false],
    ] as const)("%s", async (_mode, argv, admitted) => {
        const plan = await planFor([...argv]);
        const groups = stepsOfType(plan, "azure-native:network:FirewallPolicyRuleCollectionGroup").map((s) => s.newState.inputs.ruleCollectionGroupName);
        expect(groups.includes("api-server")).toBe(admitted);
        expect(groups).toContain("aks-egress");
    });
});

describe("plan refuses bad config with one line naming the key, and no stack trace", () => {
    const cases: Array<[string, string[], string]> = [
        ["unknown identityMode", ["-c", "identityMode=podIdentity"], "aks-identity-vault:identityMode"],
        ["unknown keyVaultAuthorization", ["-c", "keyVaultAuthorization=policies"], "aks-identity-vault:keyVaultAuthorization"],
        ["invalid CIDR", ["-c", "vnetAddressSpace=10.76.0.0/40"], "aks-identity-vault:vnetAddressSpace"],
        ["subnet outside the VNet", ["-c", "aksSubnetPrefix=192.168.1.0/24"], "aks-identity-vault:aksSubnetPrefix"],
        ["overlapping subnets", ["-c", "privateEndpointSubnetPrefix=10.76.4.0/26"], "aks-identity-vault:privateEndpointSubnetPrefix"],
        ["nodeCount below 1", ["-c", "nodeCount=0"], "aks-identity-vault:nodeCount"],
        ["nodeCount not a number", ["-c", "nodeCount=many"], "aks-identity-vault:nodeCount"],
        ["invalid namespace", ["-c", 'workloads=[{"name":"alpha","namespace":"Alpha!"}]'], "aks-identity-vault:workloads[0].namespace"],
        ["duplicate workload name", ["-c", 'workloads=[{"name":"alpha","namespace":"a"},{"name":"alpha","namespace":"b"}]'], "aks-identity-vault:workloads[1].name"],
        ["duplicate namespace", ["-c", 'workloads=[{"name":"alpha","namespace":"a"},{"name":"beta","namespace":"a"}]'], "aks-identity-vault:workloads[1].namespace"],
        ["invalid authorized IP range", ["-c", 'apiServerAuthorizedIpRanges=["1.2.3.4/40"]'], "aks-identity-vault:apiServerAuthorizedIpRanges[0]"],
        ["unknown project key", ["-c", "identitymode=workloadIdentity"], "aks-identity-vault:identitymode"],
    ];

    // Each case waits on a plan server or another process: they run side by side.
    test.concurrent.each(cases)("%s", async (_label, args, key) => {
        const result = await refused(args);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
        expect(result.stderr).toContain(key);
        expect(result.stderr).not.toMatch(/\n\s+at /);
    });

    test.concurrent.each([
        ["a file that is not YAML", "config: [\n", /^error: config file \S+bad\.yaml is not valid YAML: .+\n$/],
        ["a list instead of a mapping", "- a\n", /^error: config file \S+bad\.yaml must hold a YAML mapping \(such as "config:"\), not a list\n$/],
        ["a config section that is not a mapping", "config: 3\n", /^error: config file \S+bad\.yaml: "config" must be a mapping of keys to values\n$/],
    ])("a config file that cannot be used gets one line naming it: %s", async (_label, text, line) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-plan-"));
        try {
            fs.writeFileSync(path.join(dir, "bad.yaml"), text);
            const result = await refused(["--config-file", path.join(dir, "bad.yaml")]);
            expect(result).toEqual({ code: 1, stdout: "", stderr: expect.stringMatching(line) });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test.concurrent("a stack with no file of its own and no location gets one line naming the file and how to make it", async () => {
        const result = await refused(["--stack", "prod"]);
        expect(result).toEqual({
            code: 1,
            stdout: "",
            stderr: "error: there is no Pulumi.prod.yaml, which holds stack prod's values (azure-native:location at least): create it with `pulumi stack init prod` and `pulumi config set azure-native:location <region>`, or pass --config-file FILE or -c azure-native:location=<region>\n",
        });
        expect((await refused(["--stack", "prod", "-c", "azure-native:location=uksouth"])).code).toBe(0);
    });

    test.concurrent("a config file that cannot be read gets one line naming it", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-plan-"));
        try {
            const result = await refused(["--config-file", dir]);
            expect(result).toEqual({ code: 1, stdout: "", stderr: `error: config file ${dir} cannot be read: EISDIR: illegal operation on a directory, read\n` });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test.concurrent("in its own process, as a user runs it", async () => {
        const result = await npmPlan(["--json", "-c", "nodeCount=zero"]);
        expect(result).toEqual({ code: 1, stdout: "", stderr: 'error: Invalid config aks-identity-vault:nodeCount = "zero": must be a whole number from 1 to 100.\n' });
    });
});

test.concurrent(
    "a plan server's plan, computed after another in the same process and with the providers' code remembered, is byte-identical to a fresh npm run plan that serializes them afresh",
    async () => {
        const sockets = (process.env[PLAN_SERVERS] ?? "").split(path.delimiter);
        // Keys of this test alone, so that the server computes both now, one after the other.
        const ask = (key: string, argv: string[]) => askPlanServer(sockets[0], { key: `plan.test:${key}`, argv });
        const [fresh, [other, after]] = await Promise.all([
            npmPlan(["--json"], { AIV_PROVIDER_CACHE: "off" }),
            ask("other", ["--json", "-c", "protectStatefulResources=false"]).then(async (first) => [first, await ask("dev", ["--json"])]),
        ]);
        expect(fresh.code).toBe(0);
        expect(fresh.stdout.startsWith("{")).toBe(true);
        expect(() => JSON.parse(fresh.stdout)).not.toThrow();
        expect(other.code).toBe(0);
        expect(other.stdout).not.toBe(fresh.stdout);
        expect(after).toEqual({ code: 0, stdout: fresh.stdout, stderr: "" });
    },
);

test.concurrent("a plan server's runs after a refresh start from the first run it already holds, which none of them changes", async () => {
    const sockets = (process.env[PLAN_SERVERS] ?? "").split(path.delimiter);
    // A config no other test plans, so that the last server computes its first run afresh.
    const first = ["-c", "logRetentionDays=45"];
    const then = ["--after-refresh", "--json", ...first, "--then", 'tags={"costCentre":"cc-1"}'];
    const ask = (socket: string, key: string, argv: string[]) => askPlanServer(socket, { key: `plan.test:shared:${key}`, argv });
    const [held, fresh] = await Promise.all([
        (async () => {
            await ask(sockets[0], "plan", ["--json", ...first]);
            return [await ask(sockets[0], "then", then), await ask(sockets[0], "then again", then)];
        })(),
        ask(sockets[sockets.length - 1], "fresh", then),
    ]);
    expect(fresh.code).toBe(0);
    expect((JSON.parse(fresh.stdout) as { changeSummary: { update: number } }).changeSummary.update).toBeGreaterThan(0);
    expect(held).toEqual([fresh, fresh]);
});

test.concurrent("the tree names every resource with its settings and flags protection", async () => {
    const result = await runPlan([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("+ azure-native:keyvault:Vault  keyvault-vault  [protect]");
    expect(result.stdout).toContain("properties.publicNetworkAccess: Disabled");
    expect(result.stdout).toContain("properties.value: [secret]");
    expect(result.stdout).toMatch(/Resources: \+ \d+ to create/);
});

describe("a reader that stops early (| head)", () => {
    test.concurrent("ends the plan command quietly, with code 0", async () => {
        // Reads the first chunk of the JSON plan, then closes the pipe, as `head -c` does.
        const child = spawn(process.execPath, ["-r", "./tools/register.js", "scripts/plan.ts", "--json"], { cwd: path.join(__dirname, ".."), stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        const first = await new Promise<string>((resolve) => child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString("utf8"))));
        child.stdout.destroy();
        const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
        expect(first.startsWith("{")).toBe(true);
        expect(code).toBe(0);
        // Node's own warnings aside (Node 26 warns once that its experimental FFI module was loaded,
        // which the SDK's closure serializer does for every built-in module), nothing is printed.
        expect(stderr.split("\n").filter((line) => line !== "" && !/ExperimentalWarning|node --trace-warnings/.test(line))).toEqual([]);
    });

    test("only a closed pipe is quiet; any other write error is reported", () => {
        const exits: number[] = [];
        const failures: unknown[] = [];
        const handle = onStdoutError(
            (code) => exits.push(code),
            (err) => failures.push(err),
        );
        handle(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
        handle(Object.assign(new Error("no space"), { code: "ENOSPC" }));
        expect(exits).toEqual([0]);
        expect(failures).toEqual([expect.objectContaining({ code: "ENOSPC" })]);
        expect(isClosedPipe(null)).toBe(false);
        expect(isClosedPipe({ code: "EPIPE" })).toBe(true);
    });
});

describe("parseArgs", () => {
    let parseArgs: typeof import("../tools/plan/command").parseArgs;
    beforeAll(async () => {
        ({ parseArgs } = await import("../tools/plan/command"));
    });

    test("takes the Pulumi CLI's flags", () => {
        expect(parseArgs(["--json", "--stack", "prod", "--config-file", "x.yaml", "-c", "a=1", "--config", "b=2", "--config=c=3"])).toEqual({
            json: true,
            stack: "prod",
            configFile: "x.yaml",
            overrides: ["a=1", "b=2", "c=3"],
            afterRefresh: false,
            then: [],
        });
    });

    test("defaults to the dev stack", () => {
        expect(parseArgs([])).toEqual({ json: false, stack: "dev", overrides: [], afterRefresh: false, then: [] });
    });

    test("takes the run after a refresh, with the config it changes", () => {
        expect(parseArgs(["--after-refresh", "-c", "a=1", "--then", "b=2"])).toMatchObject({ afterRefresh: true, overrides: ["a=1"], then: ["b=2"] });
        expect(() => parseArgs(["--then", "b=2"])).toThrow("--then needs --after-refresh");
    });

    test("refuses unknown flags and missing values", () => {
        expect(() => parseArgs(["--yes"])).toThrow("unknown argument --yes");
        expect(() => parseArgs(["-c"])).toThrow("-c needs a value");
        expect(() => parseArgs(["--after-refresh", "--then"])).toThrow("--then needs a value");
    });
});

test("a plan request has a connection of its own, so that it never meets one the server is closing as idle", async () => {
    const socket = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aiv-client-")), "plan.sock");
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
        seen.push(req.headers.connection);
        req.resume().on("end", () => res.end(JSON.stringify({ code: 0, stdout: "", stderr: "" })));
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
        await askPlanServer(socket, { key: "a", argv: [] });
        await askPlanServer(socket, { key: "b", argv: [] });
    } finally {
        server.close();
    }
    expect(seen).toEqual(["close", "close"]);
});
