// `npm run bench`: how long the offline plan takes for 1, 10 and 50 workloads (median of several
// runs, each in a fresh process as a user runs it), against the floor of loading the same libraries
// in a bare Node process, and the milliseconds each resource adds.
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZES = [1, 10, 50];

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

function timeRun(args: string[]): { ms: number; stdout: string } {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
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
            const run = timeRun(["-r", "sucrase/register/ts", "scripts/plan.ts", "--json", "-c", workloadsConfig(size)]);
            resources = (JSON.parse(run.stdout) as { changeSummary: { create: number } }).changeSummary.create;
            return run.ms;
        });
        const ms = median(times);
        results.push({ size, ms });
        console.log(`| ${size} | ${resources} | ${ms.toFixed(0)} | ${(ms / floor).toFixed(2)} | ${((ms - floor) / resources).toFixed(2)} |`);
    }
    const one = results[0].ms;
    const fifty = results[results.length - 1].ms;
    console.log("");
    console.log(`goal: one workload within 1.5x the floor: ${(one / floor).toFixed(2)}x ${one <= 1.5 * floor ? "met" : "NOT met"}`);
    console.log(`goal: 50 workloads within 2x one: ${(fifty / one).toFixed(2)}x ${fifty <= 2 * one ? "met" : "NOT met"}`);
}
