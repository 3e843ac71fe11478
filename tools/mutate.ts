// `npm run mutate`: mutation testing with Stryker (stryker.config.json) of the program (components/,
// config.ts and config/, azureCatalog.ts, identityModes.ts), the policy pack (policy/) and the
// verifier Jobs' scripts (verifier/), in chunks of files. Each chunk is its own Stryker run with its
// own incremental file, so a chunk that finished keeps its results when a later one is stopped, and a
// re-run tests again only what changed since. Each run's results are kept in the repository
// (docs/mutation/<chunk>.json: the digests of the chunk's files, each file's counts by status, and
// the mutants no test detected), so that a fresh clone knows what was measured. The score is computed
// over the records of all chunks, as Stryker computes it, for each file and each directory, and the
// command fails when a directory scores below the configured `thresholds.break` or a chunk has no
// record of its files as they are now.
//
//   npm run mutate                  every chunk, then the score
//   npm run mutate -- arm binding   only those chunks, then the score over all records
//   npm run mutate -- --score       no run: the score over the records there are
//   npm run mutate -- --skip-static a first pass: each chunk without its static mutants (below)
//   npm run mutate -- --retest-survivors verifier-paths   its survivors tested again (below)
//
// A static mutant is one the code executes as its module loads (a table, a constant), before any
// test: Stryker cannot tell which tests cover it, so it runs every test of the chunk for it, and such
// mutants take most of a chunk's time (config's 578 of 1431 mutants, 97 % of its estimate).
// --skip-static leaves them out (Stryker's `ignoreStatic`; they are reported as not run) in the
// chunks with per-test coverage, so that a pass over the whole tree fits in hours, not a day; the
// score then says how many were not run and counts as incomplete, and a later run without the flag
// tests only those, the others' results being reused from the chunk's incremental file.
//
// Stryker's incremental mode tests a surviving mutant again only when a test that covers it was added.
// It cannot see that for a static mutant, nor in the chunks whose tests run concurrently, which have
// no per-test coverage: there a survivor keeps its result however many tests are added.
// --retest-survivors forgets the surviving and uncovered mutants of the chunks it runs, so that
// Stryker tests them against today's tests; the killed ones keep their results while the tests that
// killed them are unchanged.
import { execFileSync, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { FileResult, MutantStatus, MutationTestResult } from "mutation-testing-report-schema";
import { startPlanServers } from "./plan/server";

const ROOT = path.join(__dirname, "..");
const OUT = "reports/mutation";
/** Where the chunks' records are kept, in the repository. */
const RECORDS = "docs/mutation";

/** A set of files mutated in one Stryker run. */
export interface Chunk {
    name: string;
    files: string[];
    /**
     * The test files that run, when not jest.mutate.config.js's: those that execute these files in
     * the jest process (a mutant lives only there, and in the processes a test spawns from it), or,
     * for the configuration, its own tests (CATALOG_TESTS, CONFIG_TESTS).
     */
    tests?: string[];
    /** Whether the tests read plans from plan servers, which the command then starts for the run. */
    planServers?: boolean;
    /** Whether the files are the verifier's plain JavaScript, which the TypeScript checker does not see. */
    javascript?: boolean;
    /**
     * Whether the tests run concurrently (`test.concurrent`). Stryker's per-test coverage counts what
     * runs as the test that started last, so with tests interleaved it gives a mutant the wrong tests
     * and reports it survived though its own tests kill it; such a chunk runs every test for each
     * mutant that some test reaches (`coverageAnalysis: "all"`).
     */
    concurrentTests?: boolean;
}

const POLICY_TESTS = { tests: ["tests/policy.test.ts", "tests/helpers/helpers.test.ts"], planServers: true } as const satisfies Partial<Chunk>;
/**
 * The tests of the configuration's tables: config's rules and the catalog's own (tests/helpers).
 * The components' unit tests, which also load them, are left out: a mutant they alone would kill
 * counts as surviving, so the score can only be lower.
 */
const CATALOG_TESTS = { tests: ["tests/helpers/helpers.test.ts"] } as const satisfies Partial<Chunk>;
/**
 * The rest of the configuration's: the catalog's, and the config reference's, which holds the
 * generated Pulumi.yaml config block and docs/configuration.md to the schema and its defaults.
 */
const CONFIG_TESTS = { tests: [...CATALOG_TESTS.tests, "tests/configReference.test.ts"] } as const satisfies Partial<Chunk>;
const VERIFIER_TESTS = { tests: ["tests/verifier.test.ts", "tests/verifierModules.test.ts"], javascript: true, concurrentTests: true } as const satisfies Partial<Chunk>;

/** The chunks; together they are every file stryker.config.json mutates. */
export const CHUNKS: Chunk[] = [
    // The configuration in three chunks, against its own tests. Its tables and its schema are nearly
    // all static mutants (azureCatalog.ts 282 of 297, config/schema.ts 228 of 472), each of which
    // Stryker runs against every test of its chunk: with the program's tests, about 20 s each and
    // nearly three hours for the two files, and the rest took 70 minutes without its static ones.
    { name: "config-catalog", files: ["azureCatalog.ts", "identityModes.ts"], ...CATALOG_TESTS },
    { name: "config-schema", files: ["config/schema.ts"], ...CONFIG_TESTS },
    {
        name: "config",
        files: ["config.ts", "config/cluster.ts", "config/errors.ts", "config/limits.ts", "config/names.ts", "config/network.ts", "config/tags.ts", "config/types.ts"],
        ...CONFIG_TESTS,
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
    { name: "cluster", files: ["components/aksCluster.ts", "components/demoWorkloads.ts"] },
    // The waits and the deployer's access apart from the cluster: together Stryker put the four files
    // at nearly two hours, and a run keeps its results only once it ends.
    { name: "access", files: ["components/waits.ts", "components/clusterAccess.ts"] },
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
    // The policy pack's tests evaluate it, in the jest process, over plans the plan servers compute.
    {
        name: "policy-lib",
        files: ["policy/index.ts", "policy/lib/arm.ts", "policy/lib/graph.ts", "policy/lib/k8s.ts", "policy/lib/modes.ts", "policy/lib/net.ts", "policy/lib/types.ts", "policy/lib/values.ts"],
        ...POLICY_TESTS,
    },
    {
        name: "policy-network",
        files: ["policy/policies/azureBehaviour.ts", "policy/policies/egress.ts", "policy/policies/index.ts", "policy/policies/network.ts", "policy/policies/roles.ts", "policy/policies/stack.ts"],
        ...POLICY_TESTS,
    },
    { name: "policy-workloads", files: ["policy/policies/identity.ts", "policy/policies/kubernetes.ts", "policy/policies/proofs.ts"], ...POLICY_TESTS },
    // The resources' policies in two chunks: the four files are more mutants than a run finishes in an
    // hour on two cores, and a run keeps its results only once it ends.
    { name: "policy-cluster", files: ["policy/policies/aks.ts", "policy/policies/baseline.ts"], ...POLICY_TESTS },
    { name: "policy-data", files: ["policy/policies/keyVault.ts", "policy/policies/storage.ts"], ...POLICY_TESTS },
    // Each verifier module's own tests, and the Job's body run whole in the jest process; only the
    // script's entry point (main) runs in a child process alone.
    { name: "verifier-paths", files: ["verifier/config.js", "verifier/http.js", "verifier/privatePath.js", "verifier/retry.js", "verifier/tokens.js", "verifier/types.js"], ...VERIFIER_TESTS },
    { name: "verifier-checks", files: ["verifier/canary.js", "verifier/dataPlane.js", "verifier/egress.js", "verifier/mount.js", "verifier/report.js", "verifier/verifier.js"], ...VERIFIER_TESTS },
    { name: "verifier-impostor", files: ["verifier/impostor.js"], ...VERIFIER_TESTS },
];

/**
 * The files stryker.config.json mutates: `components/**\/*.ts`, `config.ts`, `config/*.ts`,
 * `azureCatalog.ts`, `identityModes.ts`, `policy/**\/*.ts` and `verifier/*.js`.
 */
export function mutatedFiles(root: string = ROOT): string[] {
    const under = (directory: string, extension: string): string[] =>
        fs
            .readdirSync(path.join(root, directory), { recursive: true, encoding: "utf8" })
            .filter((f) => f.endsWith(extension))
            .map((f) => `${directory}/${f.split(path.sep).join("/")}`);
    return ["config.ts", ...under("config", ".ts"), "azureCatalog.ts", "identityModes.ts", ...under("components", ".ts"), ...under("policy", ".ts"), ...under("verifier", ".js")].sort();
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

/** Where Stryker keeps a chunk's results for its next run. */
export function incrementalPath(chunk: Chunk): string {
    return `${OUT}/${chunk.name}.incremental.json`;
}

/** Where the record of a chunk's last run is kept. */
export function recordPath(chunk: Chunk): string {
    return `${RECORDS}/${chunk.name}.json`;
}

/** The digest of a file's text, as a chunk's record keeps it. */
export function sourceDigest(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** The digests of a chunk's files, read now. */
export function sourcesOf(chunk: Chunk, read: (file: string) => string): Record<string, string> {
    return Object.fromEntries(chunk.files.map((f) => [f, sourceDigest(read(f))]));
}

/** What a chunk's run came to for one file: its mutants' counts, and those no test detected. */
export interface FileRecord {
    counts: Counts;
    /** Each surviving or uncovered mutant, as `line:column status mutator: replacement`, in the file's order. */
    undetected: string[];
}

/**
 * The record of a chunk's run, kept in the repository: the digests of its files as Stryker copied
 * them (a file without mutants has no entry in a report, so these, not the report, say what every
 * file was), and each file's results.
 */
export interface ChunkRecord {
    chunk: string;
    sources: Record<string, string>;
    files: Record<string, FileRecord>;
}

/** The longest replacement a record quotes; a longer one is cut, ending in `…`. */
const REPLACEMENT_SHOWN = 80;

/** The record of a chunk's run, from Stryker's report of it and the digests of its files when it started. */
export function chunkRecord(chunk: Chunk, report: MutationTestResult, sources: Record<string, string>): ChunkRecord {
    const undetected = (file: FileResult): string[] =>
        file.mutants
            .filter((m) => m.status === "Survived" || m.status === "NoCoverage")
            .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column || a.mutatorName.localeCompare(b.mutatorName))
            .map((m) => {
                const replacement = (m.replacement ?? "").replace(/\s+/g, " ").trim();
                const shown = replacement.length > REPLACEMENT_SHOWN ? `${replacement.slice(0, REPLACEMENT_SHOWN - 1)}…` : replacement;
                return `${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName}: ${shown}`;
            });
    return {
        chunk: chunk.name,
        sources,
        files: Object.fromEntries(
            Object.keys(report.files)
                .sort()
                .map((n) => [n, { counts: countMutants([report.files[n]]), undetected: undetected(report.files[n]) }]),
        ),
    };
}

/**
 * Why the record of `chunk` cannot be counted: missing, of another chunk or of files outside it, or
 * made from other sources than `read` returns now. Undefined when it can.
 */
export function staleness(chunk: Chunk, record: ChunkRecord | undefined, read: (file: string) => string): string | undefined {
    const rerun = `npm run mutate -- ${chunk.name}`;
    if (record === undefined) {
        return `chunk ${chunk.name} has no record of a run: ${rerun}`;
    }
    if (record.chunk !== chunk.name) {
        return `chunk ${chunk.name}'s record is chunk ${record.chunk}'s: ${rerun}`;
    }
    const outside = [...new Set([...Object.keys(record.files), ...Object.keys(record.sources)])].filter((f) => !chunk.files.includes(f));
    if (outside.length > 0) {
        return `chunk ${chunk.name}'s record is about ${outside.join(", ")}, outside the chunk: ${rerun}`;
    }
    const changed = chunk.files.filter((f) => record.sources[f] !== sourceDigest(read(f)));
    if (changed.length > 0) {
        return `chunk ${chunk.name} is out of date (${changed.join(", ")} changed since): ${rerun}`;
    }
    return undefined;
}

/** What a chunk's record leaves out: its static mutants, when a --skip-static run did not run them. Undefined when none. */
export function staticNotRun(record: ChunkRecord): string | undefined {
    const ignored = sumCounts(Object.values(record.files).map((f) => f.counts)).ignored;
    return ignored === 0 ? undefined : `chunk ${record.chunk}: ${ignored} static mutants not run (--skip-static): npm run mutate -- ${record.chunk}`;
}

/**
 * An incremental file without its surviving and uncovered mutants, which Stryker then tests again, and
 * how many it left out.
 */
export function forgetSurvivors(incremental: MutationTestResult): { incremental: MutationTestResult; forgotten: number } {
    let forgotten = 0;
    const files = Object.fromEntries(
        Object.entries(incremental.files).map(([name, file]) => {
            const mutants = file.mutants.filter((m) => m.status !== "Survived" && m.status !== "NoCoverage");
            forgotten += file.mutants.length - mutants.length;
            return [name, { ...file, mutants }];
        }),
    );
    return { incremental: { ...incremental, files }, forgotten };
}

/**
 * The Stryker config of one chunk: the project's, mutating only its files, with its own reports,
 * running the chunk's tests when it names them (all of them, each mutant's covering tests chosen by
 * Stryker's per-test coverage, or all of them for tests that run concurrently), and for JavaScript no
 * TypeScript checker; with `skipStatic`, without the static mutants where coverage is per test.
 */
export function chunkConfig(base: Record<string, unknown>, chunk: Chunk, options: { skipStatic?: boolean } = {}): Record<string, unknown> {
    const thresholds = thresholdsOf(base);
    const jest = typeof base.jest === "object" && base.jest !== null ? base.jest : {};
    return {
        ...base,
        $schema: undefined,
        mutate: chunk.files,
        // A chunk's own tests run whole: jest's related-test search follows static imports, and
        // verifier.test.ts loads the verifier's modules by a computed path.
        ...(chunk.tests === undefined ? {} : { jest: { ...jest, enableFindRelatedTests: false, config: { testMatch: chunk.tests.map((t) => `<rootDir>/${t}`) } } }),
        ...(chunk.javascript === true ? { checkers: [] } : {}),
        ...(chunk.concurrentTests === true ? { coverageAnalysis: "all" } : {}),
        // Without per-test coverage Stryker counts every covered mutant as static: nothing would run.
        ...(options.skipStatic === true && chunk.concurrentTests !== true ? { ignoreStatic: true } : {}),
        reporters: ["progress-append-only", "json", "html"],
        jsonReporter: { fileName: reportPath(chunk) },
        htmlReporter: { fileName: `${OUT}/${chunk.name}.html` },
        incrementalFile: incrementalPath(chunk),
        // The break threshold applies to the whole score, below.
        thresholds: { ...thresholds, break: null },
    };
}

/**
 * The roots jest searches in a mutant's run of `file`, as Stryker's jest runner gives them when it
 * looks for the tests related to the file (`jest.enableFindRelatedTests`): the config's own roots and
 * the file's directory.
 */
export function mutantRunRoots(configRoots: string[], rootDir: string, file: string): string[] {
    const roots = configRoots.map((r) => r.replace("<rootDir>", rootDir));
    return [...new Set([...roots, path.dirname(path.join(rootDir, file))])];
}

/**
 * The problems of a chunk whose mutants' tests jest finds by imports: each of its files for which it
 * finds none. Stryker would run no test for that file's mutants and count each as surviving.
 */
export function filesWithoutTests(chunk: Chunk, related: (file: string) => string[]): string[] {
    return chunk.files
        .filter((file) => related(file).length === 0)
        .map(
            (file) =>
                `${file} (chunk ${chunk.name}): jest finds no test related to it by imports in a mutant's run, so every mutant of it would count as surviving; check the roots of jest.mutate.config.js`,
        );
}

/** The test files jest.mutate.config.js relates to `file` by imports in a mutant's run of it, as Stryker runs jest. */
export function relatedTests(file: string, root: string = ROOT): string[] {
    // The config file sets AIV_FRESH_BUILDS for the tests it runs; this process keeps its own.
    const fresh = process.env.AIV_FRESH_BUILDS;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest's config file is CommonJS
    const config = require(path.join(root, "jest.mutate.config.js")) as { roots?: string[] };
    if (fresh === undefined) delete process.env.AIV_FRESH_BUILDS;
    else process.env.AIV_FRESH_BUILDS = fresh;
    const roots = mutantRunRoots(config.roots ?? ["<rootDir>"], root, file).flatMap((r) => ["--roots", r]);
    const jest = require.resolve("jest/bin/jest", { paths: [root] });
    const listed = execFileSync(process.execPath, [jest, "-c", "jest.mutate.config.js", ...roots, "--findRelatedTests", path.join(root, file), "--listTests", "--json"], {
        cwd: root,
        encoding: "utf8",
    });
    return (JSON.parse(listed) as string[]).map((f) => path.relative(root, f).split(path.sep).join("/")).sort();
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

/** The counts of several files together. */
export function sumCounts(counts: Counts[]): Counts {
    return counts.reduce(
        (sum, c) => ({
            killed: sum.killed + c.killed,
            timeout: sum.timeout + c.timeout,
            survived: sum.survived + c.survived,
            noCoverage: sum.noCoverage + c.noCoverage,
            compileErrors: sum.compileErrors + c.compileErrors,
            runtimeErrors: sum.runtimeErrors + c.runtimeErrors,
            ignored: sum.ignored + c.ignored,
        }),
        { killed: 0, timeout: 0, survived: 0, noCoverage: 0, compileErrors: 0, runtimeErrors: 0, ignored: 0 },
    );
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

/** The directory a mutated file is counted under: its first path segment, `.` for the top level. */
export function directoryOf(file: string): string {
    const slash = file.indexOf("/");
    return slash === -1 ? "." : file.slice(0, slash);
}

/** A score table: its lines, the score over all files and each directory's. */
export interface ScoreTable {
    lines: string[];
    score: number;
    directories: Record<string, number>;
}

/** One line per file, one per directory (`components/ (all)`), and one for all of them, named `total`. */
export function scoreTable(files: Record<string, Counts>, total = "all files"): ScoreTable {
    const names = Object.keys(files).sort();
    // The first column as wide as the longest file's name, so that every row's cells line up.
    const width = Math.max(36, ...names.map((n) => n.length + 1));
    const line = (name: string, cells: Array<string | number>): string => name.padEnd(width) + cells.map((c) => String(c).padStart(10)).join("");
    const row = (name: string, c: Counts): string => line(name, [validMutants(c), c.killed, c.timeout, c.survived, c.noCoverage, c.compileErrors, c.ignored, `${mutationScore(c).toFixed(2)} %`]);
    const all = sumCounts(names.map((n) => files[n]));
    const directories: Record<string, number> = {};
    const directoryLines: string[] = [];
    for (const directory of [...new Set(names.map(directoryOf))].sort()) {
        const counts = sumCounts(names.filter((n) => directoryOf(n) === directory).map((n) => files[n]));
        directories[directory] = mutationScore(counts);
        directoryLines.push(row(`${directory}/ (all)`, counts));
    }
    return {
        lines: [line("file", ["valid", "killed", "timeout", "survived", "no cov.", "no comp.", "not run", "score"]), ...names.map((n) => row(n, files[n])), ...directoryLines, row(total, all)],
        score: mutationScore(all),
        directories,
    };
}

/** The directories whose score is below `threshold`, each as a line that says so. */
export function directoriesBelow(directories: Record<string, number>, threshold: number): string[] {
    return Object.entries(directories)
        .filter(([, score]) => score < threshold)
        .map(([directory, score]) => `${directory}/ scores ${score.toFixed(2)} %, below ${threshold} %`);
}

/** Keeps a chunk's record in the repository, one mutant a line, so that its diff shows what changed. */
function writeRecord(chunk: Chunk, record: ChunkRecord): void {
    const file = path.join(ROOT, recordPath(chunk));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

function readJson<T>(relative: string): T | undefined {
    const file = path.join(ROOT, relative);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as T) : undefined;
}

/** Runs the chunks named in `args` (all when none), or with --score only scores them; returns the exit code. */
export async function main(args: string[]): Promise<number> {
    const scoreOnly = args.includes("--score");
    const skipStatic = args.includes("--skip-static");
    const retestSurvivors = args.includes("--retest-survivors");
    const names = args.filter((a) => a !== "--score" && a !== "--skip-static" && a !== "--retest-survivors");
    const problems = partitionProblems(CHUNKS, mutatedFiles());
    const unknown = names.filter((a) => !CHUNKS.some((c) => c.name === a));
    if (problems.length > 0 || unknown.length > 0) {
        for (const problem of problems) console.error(`error: ${problem}`);
        for (const name of unknown) console.error(`error: no chunk "${name}"; the chunks are ${CHUNKS.map((c) => c.name).join(", ")}`);
        return 2;
    }
    const base = JSON.parse(fs.readFileSync(path.join(ROOT, "stryker.config.json"), "utf8")) as Record<string, unknown>;
    const selected = scoreOnly ? [] : names.length === 0 ? CHUNKS : CHUNKS.filter((c) => names.includes(c.name));
    // A chunk without named tests runs, for each mutant, the tests jest finds by imports: each file needs some.
    const untested = selected.filter((c) => c.tests === undefined).flatMap((c) => filesWithoutTests(c, (f) => relatedTests(f)));
    if (untested.length > 0) {
        for (const problem of untested) console.error(`error: ${problem}`);
        return 2;
    }
    fs.mkdirSync(path.join(ROOT, OUT), { recursive: true });
    const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");
    for (const chunk of selected) {
        // The sources as Stryker copies them now: a file edited during the run makes the report stale.
        const sources = sourcesOf(chunk, read);
        const configFile = `${OUT}/${chunk.name}.stryker.json`;
        fs.writeFileSync(path.join(ROOT, configFile), `${JSON.stringify(chunkConfig(base, chunk, { skipStatic }), null, 2)}\n`);
        console.log(`== chunk ${chunk.name}: ${chunk.files.join(" ")}${skipStatic && chunk.concurrentTests !== true ? " (static mutants skipped)" : ""}`);
        const incremental = retestSurvivors ? readJson<MutationTestResult>(incrementalPath(chunk)) : undefined;
        if (incremental !== undefined) {
            const { incremental: rest, forgotten } = forgetSurvivors(incremental);
            fs.writeFileSync(path.join(ROOT, incrementalPath(chunk)), JSON.stringify(rest));
            console.log(`${forgotten} surviving or uncovered mutants to test again`);
        }
        // The plan servers run the program from this checkout, not Stryker's sandbox: a chunk that
        // needs them mutates none of the program's files.
        const servers = chunk.planServers === true ? await startPlanServers(1) : undefined;
        const env = servers === undefined ? process.env : { ...process.env, ...servers.env };
        // Waited for without blocking: the servers' dispatcher answers the tests from this process.
        const exit = await new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
            const child = spawn("npx", ["--no-install", "stryker", "run", configFile], { cwd: ROOT, stdio: "inherit", env });
            child.on("error", reject);
            child.on("close", (status, signal) => resolve({ status, signal }));
        }).finally(() => servers?.stop());
        if (exit.status !== 0) {
            console.error(`error: stryker exited ${String(exit.status ?? exit.signal)} on chunk ${chunk.name}`);
            return 1;
        }
        const report = readJson<MutationTestResult>(reportPath(chunk));
        if (report === undefined) {
            console.error(`error: stryker wrote no report of chunk ${chunk.name} (${reportPath(chunk)})`);
            return 1;
        }
        writeRecord(chunk, chunkRecord(chunk, report, sources));
    }

    const files: Record<string, Counts> = {};
    const missing: string[] = [];
    /** Chunks whose records count without their static mutants. */
    const partial: string[] = [];
    for (const chunk of CHUNKS) {
        const record = readJson<ChunkRecord>(recordPath(chunk));
        const stale = staleness(chunk, record, read);
        if (stale !== undefined || record === undefined) {
            missing.push(stale ?? chunk.name);
            continue;
        }
        for (const [name, file] of Object.entries(record.files)) {
            files[name] = file.counts;
        }
        const notRun = staticNotRun(record);
        if (notRun !== undefined) {
            partial.push(notRun);
        }
    }
    const { lines, score, directories } = scoreTable(files, missing.length === 0 ? "all files" : "files counted");
    console.log("");
    console.log(lines.join("\n"));
    const threshold = Number(Reflect.get(thresholdsOf(base), "break") ?? 0);
    if (missing.length > 0 || partial.length > 0) {
        for (const m of missing) console.log(`not counted: ${m}`);
        for (const p of partial) console.log(`counted in part: ${p}`);
        console.log(`Mutation score: incomplete (${missing.length + partial.length} of ${CHUNKS.length} chunks without an up-to-date record of all their mutants)`);
        return 1;
    }
    const below = directoriesBelow(directories, threshold);
    for (const b of below) console.log(`error: ${b}`);
    console.log(`Mutation score: ${score.toFixed(2)} % (break threshold ${threshold} % for each directory)`);
    return below.length === 0 ? 0 : 1;
}
