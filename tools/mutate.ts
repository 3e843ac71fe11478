// `npm run mutate`: mutation testing of components/, config.ts and config/, azureCatalog.ts and identityModes.ts with Stryker (stryker.config.json),
// in chunks of files. Each chunk is its own Stryker run with its own incremental file, so a chunk that
// finished keeps its results when a later one is stopped, and a re-run tests again only what changed
// since. The score is computed over the reports of all chunks, as Stryker computes it, and the
// command fails below the configured `thresholds.break` or when a chunk has no up-to-date report.
//
//   npm run mutate                  every chunk, then the score
//   npm run mutate -- arm binding   only those chunks, then the score over all reports
//   npm run mutate -- --score       no run: the score over the reports there are
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { FileResult, MutantStatus, MutationTestResult } from "mutation-testing-report-schema";

const ROOT = path.join(__dirname, "..");
const OUT = "reports/mutation";

/** A set of files mutated in one Stryker run. */
export interface Chunk {
    name: string;
    files: string[];
}

/** The chunks, from the smallest to the largest; together they are every file stryker.config.json mutates. */
export const CHUNKS: Chunk[] = [
    {
        name: "config",
        files: [
            "config.ts",
            "config/cluster.ts",
            "config/errors.ts",
            "config/limits.ts",
            "config/names.ts",
            "config/network.ts",
            "config/schema.ts",
            "config/tags.ts",
            "config/types.ts",
            "azureCatalog.ts",
            "identityModes.ts",
        ],
    },
    {
        name: "azure",
        files: [
            "components/common.ts",
            "components/roles.ts",
            "components/diagnostics.ts",
            "components/logAnalytics.ts",
            "components/timestamp.ts",
            "components/creationRecord.ts",
            "components/network.ts",
            "components/egressFirewall.ts",
            "components/flowLogs.ts",
            "components/privateDns.ts",
            "components/privateEndpoint.ts",
            "components/identity.ts",
            "components/secureStorage.ts",
            "components/secureKeyVault.ts",
        ],
    },
    { name: "cluster", files: ["components/aksCluster.ts", "components/demoWorkloads.ts", "components/waits.ts", "components/clusterAccess.ts"] },
    {
        name: "binding",
        files: [
            "components/podIdentityBinding.ts",
            "components/modes/index.ts",
            "components/modes/driver.ts",
            "components/modes/podIdentityCommon.ts",
            "components/modes/crdGuard.ts",
            "components/modes/admission.ts",
            "components/modes/podIdentityAddon/index.ts",
            "components/modes/podIdentityAddon/podIdentities.ts",
            "components/modes/podIdentityOss/index.ts",
            "components/modes/podIdentityOss/aadPodIdentity.ts",
            "components/modes/workloadIdentity.ts",
            "components/impostorProof.ts",
        ],
    },
    { name: "arm", files: ["components/modes/podIdentityAddon/arm.ts"] },
];

/** The files stryker.config.json mutates: `components/**\/*.ts`, `config.ts`, `config/*.ts`, `azureCatalog.ts` and `identityModes.ts`. */
export function mutatedFiles(root: string = ROOT): string[] {
    const components = fs
        .readdirSync(path.join(root, "components"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => `components/${f.split(path.sep).join("/")}`);
    const config = fs
        .readdirSync(path.join(root, "config"))
        .filter((f) => f.endsWith(".ts"))
        .map((f) => `config/${f}`);
    return ["config.ts", ...config, "azureCatalog.ts", "identityModes.ts", ...components].sort();
}

/** Problems with `chunks` as a partition of `files`: files in no chunk, in two, or not mutated at all. */
export function partitionProblems(chunks: Chunk[], files: string[]): string[] {
    const problems: string[] = [];
    const owner = new Map<string, string>();
    for (const chunk of chunks) {
        for (const file of chunk.files) {
            const other = owner.get(file);
            if (other !== undefined) {
                problems.push(`${file} is in the chunks ${other} and ${chunk.name}`);
            }
            owner.set(file, chunk.name);
            if (!files.includes(file)) {
                problems.push(`${file} (chunk ${chunk.name}) is not a mutated file`);
            }
        }
    }
    for (const file of files) {
        if (!owner.has(file)) {
            problems.push(`${file} is in no chunk: add it to CHUNKS in tools/mutate.ts`);
        }
    }
    return problems;
}

/** Where a chunk's report goes. */
export function reportPath(chunk: Chunk): string {
    return `${OUT}/${chunk.name}.json`;
}

/**
 * Why the report of `chunk` cannot be counted: missing, not about exactly its files, or made from
 * other sources than `read` returns now. Undefined when it can.
 */
export function staleness(chunk: Chunk, report: MutationTestResult | undefined, read: (file: string) => string): string | undefined {
    if (report === undefined) {
        return `chunk ${chunk.name} has not run: npm run mutate -- ${chunk.name}`;
    }
    const reported = Object.keys(report.files).sort();
    if (reported.join(",") !== [...chunk.files].sort().join(",")) {
        return `chunk ${chunk.name}'s report is about ${reported.join(", ")}: npm run mutate -- ${chunk.name}`;
    }
    const changed = chunk.files.filter((f) => report.files[f].source !== read(f));
    if (changed.length > 0) {
        return `chunk ${chunk.name} is out of date (${changed.join(", ")} changed since): npm run mutate -- ${chunk.name}`;
    }
    return undefined;
}

/** The Stryker config of one chunk: the project's, mutating only its files, with its own reports. */
export function chunkConfig(base: Record<string, unknown>, chunk: Chunk): Record<string, unknown> {
    const thresholds = thresholdsOf(base);
    return {
        ...base,
        $schema: undefined,
        mutate: chunk.files,
        reporters: ["progress-append-only", "json", "html"],
        jsonReporter: { fileName: reportPath(chunk) },
        htmlReporter: { fileName: `${OUT}/${chunk.name}.html` },
        incrementalFile: `${OUT}/${chunk.name}.incremental.json`,
        // The break threshold applies to the whole score, below.
        thresholds: { ...thresholds, break: null },
    };
}

/** What a set of mutants came to. */
export interface Counts {
    killed: number;
    timeout: number;
    survived: number;
    noCoverage: number;
    compileErrors: number;
    runtimeErrors: number;
    ignored: number;
}

/** The counts of a file's (or files') mutants by status. */
export function countMutants(results: FileResult[]): Counts {
    const counts: Counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, compileErrors: 0, runtimeErrors: 0, ignored: 0 };
    const key: Record<MutantStatus, keyof Counts | undefined> = {
        Killed: "killed",
        Timeout: "timeout",
        Survived: "survived",
        NoCoverage: "noCoverage",
        CompileError: "compileErrors",
        RuntimeError: "runtimeErrors",
        Ignored: "ignored",
        Pending: undefined,
    };
    for (const mutant of results.flatMap((r) => r.mutants)) {
        const k = key[mutant.status];
        if (k === undefined) {
            throw new Error(`mutant ${mutant.id} is still pending`);
        }
        counts[k] += 1;
    }
    return counts;
}

/**
 * Stryker's mutation score: the mutants a test detected (killed or timed out) over the valid ones
 * (detected, survived or not covered); compile and runtime errors and ignored mutants do not count.
 */
export function mutationScore(c: Counts): number {
    const valid = validMutants(c);
    return valid === 0 ? 100 : ((c.killed + c.timeout) / valid) * 100;
}

/** The mutants that count towards the score: detected, survived or not covered. */
function validMutants(c: Counts): number {
    return c.killed + c.timeout + c.survived + c.noCoverage;
}

/** The `thresholds` of a Stryker config, `{}` when it has none. */
function thresholdsOf(config: Record<string, unknown>): object {
    return typeof config.thresholds === "object" && config.thresholds !== null ? config.thresholds : {};
}

/** One line per file and one for all of them, named `total`. */
export function scoreTable(files: Record<string, FileResult>, total = "all files"): { lines: string[]; score: number } {
    const line = (name: string, cells: Array<string | number>): string => name.padEnd(36) + cells.map((c) => String(c).padStart(10)).join("");
    const row = (name: string, c: Counts): string => line(name, [validMutants(c), c.killed, c.timeout, c.survived, c.noCoverage, c.compileErrors, `${mutationScore(c).toFixed(2)} %`]);
    const names = Object.keys(files).sort();
    const all = countMutants(names.map((n) => files[n]));
    return {
        lines: [line("file", ["valid", "killed", "timeout", "survived", "no cov.", "no comp.", "score"]), ...names.map((n) => row(n, countMutants([files[n]]))), row(total, all)],
        score: mutationScore(all),
    };
}

function readReport(chunk: Chunk): MutationTestResult | undefined {
    const file = path.join(ROOT, reportPath(chunk));
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as MutationTestResult) : undefined;
}

/** Runs the chunks named in `args` (all when none), or with --score only scores them; returns the exit code. */
export async function main(args: string[]): Promise<number> {
    const scoreOnly = args.includes("--score");
    const names = args.filter((a) => a !== "--score");
    const problems = partitionProblems(CHUNKS, mutatedFiles());
    const unknown = names.filter((a) => !CHUNKS.some((c) => c.name === a));
    if (problems.length > 0 || unknown.length > 0) {
        for (const problem of problems) console.error(`error: ${problem}`);
        for (const name of unknown) console.error(`error: no chunk "${name}"; the chunks are ${CHUNKS.map((c) => c.name).join(", ")}`);
        return 2;
    }
    const base = JSON.parse(fs.readFileSync(path.join(ROOT, "stryker.config.json"), "utf8")) as Record<string, unknown>;
    const selected = scoreOnly ? [] : names.length === 0 ? CHUNKS : CHUNKS.filter((c) => names.includes(c.name));
    fs.mkdirSync(path.join(ROOT, OUT), { recursive: true });
    for (const chunk of selected) {
        const configFile = `${OUT}/${chunk.name}.stryker.json`;
        fs.writeFileSync(path.join(ROOT, configFile), `${JSON.stringify(chunkConfig(base, chunk), null, 2)}\n`);
        console.log(`== chunk ${chunk.name}: ${chunk.files.join(" ")}`);
        const run = spawnSync("npx", ["--no-install", "stryker", "run", configFile], { cwd: ROOT, stdio: "inherit" });
        if (run.status !== 0) {
            console.error(`error: stryker exited ${String(run.status ?? run.signal)} on chunk ${chunk.name}`);
            return 1;
        }
    }

    const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");
    const files: Record<string, FileResult> = {};
    const missing: string[] = [];
    for (const chunk of CHUNKS) {
        const report = readReport(chunk);
        const stale = staleness(chunk, report, read);
        if (stale !== undefined || report === undefined) {
            missing.push(stale ?? chunk.name);
            continue;
        }
        Object.assign(files, report.files);
    }
    const { lines, score } = scoreTable(files, missing.length === 0 ? "all files" : "files counted");
    console.log("");
    console.log(lines.join("\n"));
    const threshold = Number(Reflect.get(thresholdsOf(base), "break") ?? 0);
    if (missing.length > 0) {
        for (const m of missing) console.log(`not counted: ${m}`);
        console.log(`Mutation score: incomplete (${missing.length} of ${CHUNKS.length} chunks without an up-to-date report)`);
        return 1;
    }
    console.log(`Mutation score: ${score.toFixed(2)} % (break threshold ${threshold} %)`);
    return score >= threshold ? 0 : 1;
}
