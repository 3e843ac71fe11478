// `npm run bench`: how long the offline plan takes for 1, 10 and 50 workloads (median of several
// runs, each in a fresh process as a user runs it), against the floor of loading the same libraries
// in a bare Node process, and the milliseconds each resource adds; the first plan after a change of
// the program, which serializes the dynamic providers afresh (tools/plan/providerCache.ts); and the
// wall time of `npm test`. It ends with the goals and whether they are met.
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TEST_RUNS = Number(process.env.BENCH_TEST_RUNS ?? 3);
const SIZES = [1, 10, 50];

/** The goals on 2 cores: the plan against the floor, 50 workloads against one, and the test suite. */
export const GOALS = { planOverFloor: 2.0, fiftyOverOne: 2.5, testSeconds: 20 } as const;

/** What the benchmark measured: medians in milliseconds. */
export interface BenchResults {
    floor: number;
    one: number;
    fifty: number;
    test: number;
}

/** The goal lines: each ratio or time, its goal, and whether it is met, or by how much it is missed. Exported for testing. */
export function goalLines(results: BenchResults): string[] {
    const line = (what: string, value: number, goal: number, unit: string) => {
        const shown = `${value.toFixed(2)}${unit}`;
        return value <= goal ? `goal: ${what} within ${goal}${unit}: ${shown}, met` : `goal: ${what} within ${goal}${unit}: ${shown}, NOT met (${((value / goal - 1) * 100).toFixed(0)} % over)`;
    };
    return [
        line("one workload's plan against the floor", results.one / results.floor, GOALS.planOverFloor, "x"),
        line("50 workloads' plan against one's", results.fifty / results.one, GOALS.fiftyOverOne, "x"),
        line("npm test's wall time", results.test / 1000, GOALS.testSeconds, " s"),
    ];
}

/** The libraries the program loads, as the floor loads them (no program, no mocks). */
export const PROGRAM_LIBRARIES = [
    "@pulumi/pulumi",
    "@pulumi/azure-native/authorization",
    "@pulumi/azure-native/resources",
    "@pulumi/azure-native/network",
    "@pulumi/azure-native/privatedns",
    "@pulumi/azure-native/managedidentity",
    "@pulumi/azure-native/storage",
    "@pulumi/azure-native/keyvault",
    "@pulumi/azure-native/containerservice",
    "@pulumi/azure-native/monitor",
    "@pulumi/azure-native/operationalinsights",
    "@pulumi/kubernetes",
    "@pulumi/random",
    "@pulumi/azuread",
    "@azure/arm-containerservice",
    "@azure/identity",
    "yaml",
    "zod",
    "ipaddr.js",
];

/** The median of some numbers. Exported for testing. */
export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The `workloads` config value of `count` workloads. Exported for testing. */
export function workloadsConfig(count: number): string {
    const workloads = Array.from({ length: count }, (_, i) => {
        const name = `team${String(i).padStart(2, "0")}`;
        return { name, namespace: name };
    });
    return `workloads=${JSON.stringify(workloads)}`;
}

function timeRun(args: string[], command: string = process.execPath, env: Record<string, string> = {}): { ms: number; stdout: string } {
    const started = process.hrtime.bigint();
    const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 512 * 1024 * 1024, env: { ...process.env, ...env } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) {
        throw new Error(`${args.join(" ")} exited ${String(result.status)}: ${result.stderr}`);
    }
    return { ms, stdout: result.stdout };
}

/** Runs the benchmark and prints its table and goals. */
export function main(): void {
    const floorScript = PROGRAM_LIBRARIES.map((lib) => `require(${JSON.stringify(lib)});`).join("");
    const floor = median(Array.from({ length: RUNS }, () => timeRun(["-e", floorScript]).ms));
    const cpu = execFileSync("nproc", { encoding: "utf8" }).trim();
    console.log(`Offline plan (npm run plan -- --json), median of ${RUNS} runs on ${cpu} cores, Node ${process.version}`);
    console.log(`floor: loading the program's libraries in a bare Node process: ${floor.toFixed(0)} ms`);
    console.log("");
    console.log("| workloads | resources | plan (ms) | plan / floor | ms per resource above the floor |");
    console.log("| --- | --- | --- | --- | --- |");
    const results: Array<{ size: number; ms: number }> = [];
    for (const size of SIZES) {
        let resources = 0;
        const times = Array.from({ length: RUNS }, () => {
            const run = timeRun(["-r", "./tools/register.js", "scripts/plan.ts", "--json", "-c", workloadsConfig(size)]);
            resources = (JSON.parse(run.stdout) as { changeSummary: { create: number } }).changeSummary.create;
            return run.ms;
        });
        const ms = median(times);
        results.push({ size, ms });
        console.log(`| ${size} | ${resources} | ${ms.toFixed(0)} | ${(ms / floor).toFixed(2)} | ${((ms - floor) / resources).toFixed(2)} |`);
    }
    const one = results[0].ms;
    const fifty = results[results.length - 1].ms;
    const afresh = median(Array.from({ length: RUNS }, () => timeRun(["-r", "./tools/register.js", "scripts/plan.ts", "--json"], process.execPath, { AIV_PROVIDER_CACHE: "off" }).ms));
    console.log("");
    console.log(`the first plan after a change of the program, serializing its dynamic providers afresh (AIV_PROVIDER_CACHE=off): ${afresh.toFixed(0)} ms, ${(afresh / floor).toFixed(2)}x the floor`);
    const test = median(Array.from({ length: TEST_RUNS }, () => timeRun(["test", "--", "--silent"], "npm").ms));
    console.log(`npm test: ${(test / 1000).toFixed(1)} s wall, median of ${TEST_RUNS} runs`);
    console.log("");
    goalLines({ floor, one, fifty, test }).forEach((line) => console.log(line));
}
