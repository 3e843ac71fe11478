// npm run mutate: the chunks cover every mutated file once, a chunk's record counts only while it is
// about the current sources, and the score is Stryker's.
import type { FileResult, MutantStatus, MutationTestResult } from "mutation-testing-report-schema";
import {
    CHUNKS,
    chunkConfig,
    chunkRecord,
    countMutants,
    directoriesBelow,
    directoryOf,
    filesWithoutTests,
    mutantRunRoots,
    mutatedFiles,
    partitionProblems,
    recordPath,
    relatedTests,
    forgetSurvivors,
    scoreTable,
    sourceDigest,
    sourcesOf,
    staleness,
    staticNotRun,
    sumCounts,
} from "../tools/mutate";
import type { Chunk, ChunkRecord } from "../tools/mutate";
import * as fs from "fs";
import * as path from "path";

const chunk: Chunk = { name: "pair", files: ["components/a.ts", "components/b.ts"] };

function fileResult(source: string, statuses: MutantStatus[]): FileResult {
    return {
        language: "typescript",
        source,
        mutants: statuses.map((status, i) => ({
            id: String(i),
            mutatorName: "BooleanLiteral",
            replacement: "false",
            status,
            location: { start: { line: 1, column: 1 }, end: { line: 1, column: 5 } },
        })),
    };
}

function report(files: Record<string, FileResult>): MutationTestResult {
    return { schemaVersion: "2", thresholds: { high: 90, low: 85 }, files };
}

/** The counts of one file with mutants of these statuses. */
function counts(statuses: MutantStatus[]) {
    return countMutants([fileResult("", statuses)]);
}

test("the chunks cover every file of the program, the policy pack and the verifier exactly once", () => {
    const files = mutatedFiles();
    expect(files).toContain("config.ts");
    expect(files).toContain("components/modes/podIdentityAddon/arm.ts");
    expect(files).toContain("policy/lib/graph.ts");
    expect(files).toContain("policy/policies/egress.ts");
    expect(files).toContain("verifier/impostor.js");
    expect(files.filter((f) => f.startsWith("verifier/")).every((f) => f.endsWith(".js"))).toBe(true);
    expect(partitionProblems(CHUNKS, files)).toEqual([]);
});

test("a file in no chunk, in two, or not mutated is named", () => {
    const chunks: Chunk[] = [
        { name: "one", files: ["a.ts", "b.ts"] },
        { name: "two", files: ["b.ts", "x.ts"] },
    ];
    expect(partitionProblems(chunks, ["a.ts", "b.ts", "c.ts"])).toEqual([
        "b.ts is in the chunks one and two",
        "x.ts (chunk two) is not a mutated file",
        "c.ts is in no chunk: add it to CHUNKS in tools/mutate.ts",
    ]);
});

test("a chunk's record counts only when it exists, is its own and about its files, and the digests of its sources match them now", () => {
    const sources: Record<string, string> = { "components/a.ts": "a", "components/b.ts": "b" };
    const read = (file: string): string => sources[file];
    const recorded = sourcesOf(chunk, read);
    expect(recorded).toEqual({ "components/a.ts": sourceDigest("a"), "components/b.ts": sourceDigest("b") });
    // components/b.ts has no mutants, so the report has no entry for it; the record's sources still hold it.
    const current = chunkRecord(chunk, report({ "components/a.ts": fileResult("a", ["Killed"]) }), recorded);
    expect(staleness(chunk, current, read)).toBeUndefined();
    expect(staleness(chunk, undefined, read)).toBe("chunk pair has no record of a run: npm run mutate -- pair");
    expect(staleness(chunk, { ...current, chunk: "other" }, read)).toBe("chunk pair's record is chunk other's: npm run mutate -- pair");
    expect(staleness(chunk, chunkRecord(chunk, report({ "components/c.ts": fileResult("c", []) }), recorded), read)).toBe(
        "chunk pair's record is about components/c.ts, outside the chunk: npm run mutate -- pair",
    );
    expect(staleness(chunk, { ...current, sources: { ...recorded, "components/d.ts": "d" } }, read)).toBe("chunk pair's record is about components/d.ts, outside the chunk: npm run mutate -- pair");
    sources["components/b.ts"] = "b changed";
    expect(staleness(chunk, current, read)).toBe("chunk pair is out of date (components/b.ts changed since): npm run mutate -- pair");
    expect(staleness(chunk, { ...current, sources: sourcesOf(chunk, read) }, read)).toBeUndefined();
    expect(recordPath(chunk)).toBe("docs/mutation/pair.json");
});

test("a chunk's record keeps each file's counts and, in the file's order, each mutant no test detected, its replacement on one line", () => {
    const mutant = (id: string, status: MutantStatus, line: number, column: number, replacement?: string) => ({
        id,
        mutatorName: "StringLiteral",
        replacement,
        status,
        location: { start: { line, column }, end: { line, column: column + 2 } },
    });
    const long = `"${"x".repeat(100)}"`;
    const result = report({
        "components/b.ts": { language: "typescript", source: "b", mutants: [mutant("1", "Killed", 1, 1, '""')] },
        "components/a.ts": {
            language: "typescript",
            source: "a",
            mutants: [
                mutant("1", "Survived", 9, 3, long),
                mutant("2", "Killed", 2, 1, '""'),
                mutant("3", "NoCoverage", 2, 5, "{\n  a;\n}"),
                mutant("4", "Survived", 2, 4),
                mutant("5", "Timeout", 1, 1, '""'),
            ],
        },
    });
    const record = chunkRecord(chunk, result, { "components/a.ts": "da", "components/b.ts": "db" });
    expect(Object.keys(record.files)).toEqual(["components/a.ts", "components/b.ts"]);
    expect(record.files["components/a.ts"]).toEqual({
        counts: counts(["Survived", "Killed", "NoCoverage", "Survived", "Timeout"]),
        undetected: ["2:4 Survived StringLiteral: ", "2:5 NoCoverage StringLiteral: { a; }", `9:3 Survived StringLiteral: "${"x".repeat(78)}…`],
    });
    expect(record.files["components/a.ts"].undetected[2]).toHaveLength("9:3 Survived StringLiteral: ".length + 80);
    expect(record.files["components/b.ts"]).toEqual({ counts: counts(["Killed"]), undetected: [] });
    expect(record.sources).toEqual({ "components/a.ts": "da", "components/b.ts": "db" });
    expect(record.chunk).toBe("pair");
});

test("a chunk's Stryker config mutates only its files, with its own reports, and leaves the threshold to the command, which holds each directory to it", () => {
    const base = { $schema: "schema.json", mutate: ["**/*.ts"], concurrency: 2, thresholds: { high: 90, low: 85, break: 85 }, reporters: ["clear-text"] };
    expect(chunkConfig(base, chunk)).toEqual({
        mutate: chunk.files,
        concurrency: 2,
        reporters: ["progress-append-only", "json", "html"],
        jsonReporter: { fileName: "reports/mutation/pair.json" },
        htmlReporter: { fileName: "reports/mutation/pair.html" },
        incrementalFile: "reports/mutation/pair.incremental.json",
        thresholds: { high: 90, low: 85, break: null },
        $schema: undefined,
    });
});

test("a chunk that names its tests runs those, whether or not jest can trace their imports, keeping the jest config file; JavaScript goes unchecked by TypeScript", () => {
    const base = { mutate: ["**/*.ts"], jest: { configFile: "jest.mutate.config.js", enableFindRelatedTests: true }, checkers: ["typescript"] };
    const policy = chunkConfig(base, { name: "policy-lib", files: ["policy/lib/net.ts"], tests: ["tests/policy.test.ts"], planServers: true });
    expect(policy.jest).toEqual({ configFile: "jest.mutate.config.js", enableFindRelatedTests: false, config: { testMatch: ["<rootDir>/tests/policy.test.ts"] } });
    expect(policy.checkers).toEqual(["typescript"]);
    const verifier = chunkConfig(base, { name: "verifier", files: ["verifier/http.js"], tests: ["tests/verifier.test.ts"], javascript: true, concurrentTests: true });
    expect(verifier.checkers).toEqual([]);
    expect(verifier.coverageAnalysis).toBe("all");
    expect(policy.coverageAnalysis).toBeUndefined();
    expect(chunkConfig(base, chunk).jest).toEqual(base.jest);
    // Every chunk of the pack starts plan servers for its tests; no chunk of the program does, since they would run its unmutated files.
    expect(CHUNKS.filter((c) => c.planServers === true).every((c) => c.files.every((f) => f.startsWith("policy/")))).toBe(true);
    expect(CHUNKS.filter((c) => c.files.some((f) => f.endsWith(".js"))).every((c) => c.javascript === true)).toBe(true);
});

test("a chunk whose tests run concurrently says so, since per-test coverage would give its mutants the wrong tests", () => {
    const root = path.join(__dirname, "..");
    const concurrent = (file: string) => /\b(?:test|it)\.concurrent\b/.test(fs.readFileSync(path.join(root, file), "utf8"));
    // jest.mutate.config.js's patterns, `**/tests/unit/**/*.test.ts`, as regular expressions over paths from the root.
    const pattern = (glob: string) =>
        new RegExp(
            `^${glob
                .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
                .replace(/\*\*\//g, "(?:.*/)?")
                .replace(/(?<!\.)\*/g, "[^/]*")}$`,
        );
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest's config file is CommonJS
    const { testMatch } = require(path.join(root, "jest.mutate.config.js")) as { testMatch: string[] };
    const testFiles = fs
        .readdirSync(path.join(root, "tests"), { recursive: true, encoding: "utf8" })
        .map((f) => `tests/${f.split(path.sep).join("/")}`)
        .filter((f) => f.endsWith(".test.ts"));
    const programTests = testFiles.filter((f) => testMatch.some((glob) => pattern(glob).test(f)));
    expect(programTests).toContain("tests/unit/units.test.ts");
    expect(programTests.filter(concurrent)).toEqual([]);
    for (const c of CHUNKS.filter((c) => c.tests !== undefined)) {
        expect([c.name, c.concurrentTests === true]).toEqual([c.name, (c.tests ?? []).some(concurrent)]);
    }
    expect(concurrent("tests/verifier.test.ts")).toBe(true);
});

test("a first pass may skip the static mutants where coverage is per test, and its report then counts only in part", () => {
    const base = { mutate: ["**/*.ts"], coverageAnalysis: "perTest" };
    expect(chunkConfig(base, chunk, { skipStatic: true }).ignoreStatic).toBe(true);
    expect(chunkConfig(base, chunk).ignoreStatic).toBeUndefined();
    // Without per-test coverage every covered mutant is static to Stryker: skipping them would skip all.
    const concurrent = chunkConfig(base, { ...chunk, tests: ["tests/verifier.test.ts"], javascript: true, concurrentTests: true }, { skipStatic: true });
    expect([concurrent.coverageAnalysis, concurrent.ignoreStatic]).toEqual(["all", undefined]);

    const firstPass = chunkRecord(chunk, report({ "components/a.ts": fileResult("a", ["Killed", "Ignored", "Survived"]), "components/b.ts": fileResult("b", ["Ignored"]) }), {});
    expect(staticNotRun(firstPass)).toBe("chunk pair: 2 static mutants not run (--skip-static): npm run mutate -- pair");
    expect(staticNotRun(chunkRecord(chunk, report({ "components/a.ts": fileResult("a", ["Killed", "Survived"]) }), {}))).toBeUndefined();
    const { lines, score } = scoreTable({ "components/a.ts": counts(["Killed", "Ignored", "Survived", "Ignored"]) });
    expect(score).toBe(50);
    expect(lines[0]).toMatch(/not run\s+score$/);
    expect(lines).toContainEqual(expect.stringMatching(/^components\/a\.ts\s+2\s+1\s+0\s+1\s+0\s+0\s+2\s+50\.00 %$/));
});

test("testing the survivors again forgets only them: killed and timed-out mutants keep their results", () => {
    const before = report({ "verifier/a.js": fileResult("a", ["Killed", "Survived", "NoCoverage", "Timeout"]), "verifier/b.js": fileResult("b", ["Survived"]) });
    const { incremental, forgotten } = forgetSurvivors(before);
    expect(forgotten).toBe(3);
    expect(Object.fromEntries(Object.entries(incremental.files).map(([name, file]) => [name, file.mutants.map((m) => m.status)]))).toEqual({
        "verifier/a.js": ["Killed", "Timeout"],
        "verifier/b.js": [],
    });
    expect(before.files["verifier/a.js"].mutants).toHaveLength(4);
});

test("the score is counted for each directory too, and a directory below the threshold is named", () => {
    expect([directoryOf("config.ts"), directoryOf("config/network.ts"), directoryOf("policy/lib/net.ts")]).toEqual([".", "config", "policy"]);
    const { lines, directories } = scoreTable({
        "policy/lib/a.ts": counts(["Killed", "Survived"]),
        "policy/policies/b.ts": counts(["Killed", "Killed"]),
        "verifier/c.js": counts(["Killed", "Timeout", "Survived", "Survived"]),
        "config.ts": counts(["Killed"]),
    });
    expect(directories).toEqual({ ".": 100, policy: 75, verifier: 50 });
    expect(lines).toContainEqual(expect.stringMatching(/^policy\/ \(all\)\s+4\s+3\s+0\s+1\s+0\s+0\s+0\s+75\.00 %$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\.\/ \(all\)\s+1\s+1\s+/));
    expect(directoriesBelow(directories, 85)).toEqual(["policy/ scores 75.00 %, below 85 %", "verifier/ scores 50.00 %, below 85 %"]);
    expect(directoriesBelow(directories, 50)).toEqual([]);
});

test("the score is detected over valid mutants; compile errors are not counted", () => {
    const { lines, score } = scoreTable({
        "components/a.ts": counts(["Killed", "Killed", "Timeout", "Survived"]),
        "components/b.ts": counts(["Killed", "NoCoverage", "CompileError"]),
    });
    // detected: 3 killed + 1 timeout = 4; valid: 4 + 1 survived + 1 without coverage = 6.
    expect(score).toBeCloseTo((4 / 6) * 100, 5);
    expect(lines[0]).toMatch(/^file\s+valid\s+killed\s+timeout\s+survived\s+no cov\.\s+no comp\.\s+not run\s+score$/);
    expect(lines).toContainEqual(expect.stringMatching(/^components\/a\.ts\s+4\s+2\s+1\s+1\s+0\s+0\s+0\s+75\.00 %$/));
    expect(lines).toContainEqual(expect.stringMatching(/^components\/b\.ts\s+2\s+1\s+0\s+0\s+1\s+1\s+0\s+50\.00 %$/));
    expect(lines[lines.length - 1]).toMatch(/^all files\s+6\s+3\s+1\s+1\s+1\s+1\s+0\s+66\.67 %$/);
});

test("a long file name widens the first column, so that every row's cells line up", () => {
    const long = "components/modes/podIdentityAddon/podIdentities.ts";
    const { lines } = scoreTable({ [long]: counts(["Killed"]), "config.ts": counts(["Survived"]) });
    const scoreAt = lines.map((l) => l.length);
    expect(new Set(scoreAt).size).toBe(1);
    expect(lines[1].startsWith(`${long} `)).toBe(true);
    expect(scoreAt[0]).toBe(long.length + 1 + 8 * 10);
});

test("a pending mutant means the report is unfinished", () => {
    expect(() => countMutants([fileResult("a", ["Killed", "Pending"])])).toThrow("mutant 1 is still pending");
});

test("several files' counts add up status by status", () => {
    const a = counts(["Killed", "Timeout", "Survived", "NoCoverage", "CompileError", "RuntimeError", "Ignored"]);
    const b = counts(["Killed", "Killed", "Ignored"]);
    expect(sumCounts([a, b])).toEqual({ killed: 3, timeout: 1, survived: 1, noCoverage: 1, compileErrors: 1, runtimeErrors: 1, ignored: 2 });
    expect(sumCounts([])).toEqual(counts([]));
});

test("a mutant's run searches for related tests in the config's roots and its file's directory, as Stryker's jest runner sets them", () => {
    expect(mutantRunRoots(["<rootDir>/tests"], "/r", "config/network.ts")).toEqual(["/r/tests", "/r/config"]);
    expect(mutantRunRoots(["<rootDir>"], "/r", "config.ts")).toEqual(["/r"]);
    expect(mutantRunRoots(["<rootDir>"], "/r", "components/modes/podIdentityAddon/arm.ts")).toEqual(["/r", "/r/components/modes/podIdentityAddon"]);
});

test("a chunk with a file no test relates to by imports is refused, naming the file", () => {
    const related = (file: string) => (file === "components/a.ts" ? ["tests/unit/units.test.ts"] : []);
    const problems = filesWithoutTests(chunk, related);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^components\/b\.ts \(chunk pair\): jest finds no test related to it/);
    expect(filesWithoutTests(chunk, () => ["tests/unit/units.test.ts"])).toEqual([]);
});

test("a mutant's run of a config module finds the config tests, though they import it through config.ts at the top", () => {
    // With the roots at tests/ alone, jest listed nothing here, and every mutant of config/ survived.
    const fresh = process.env.AIV_FRESH_BUILDS;
    expect(relatedTests("config/network.ts")).toContain("tests/helpers/helpers.test.ts");
    // Reading the config leaves this process's builds as they were (memoized, in a normal run).
    expect(process.env.AIV_FRESH_BUILDS).toBe(fresh);
});

test("each record kept in docs/mutation is a chunk's, about its files only, and lists exactly the mutants its counts say went undetected", () => {
    const directory = path.join(__dirname, "..", "docs", "mutation");
    const records = fs.existsSync(directory) ? fs.readdirSync(directory) : [];
    for (const name of records) {
        const record = JSON.parse(fs.readFileSync(path.join(directory, name), "utf8")) as ChunkRecord;
        const owner = CHUNKS.find((c) => `${c.name}.json` === name);
        expect(owner?.name).toBe(record.chunk);
        expect(Object.keys(record.sources).sort()).toEqual([...(owner?.files ?? [])].sort());
        for (const [file, result] of Object.entries(record.files)) {
            expect(owner?.files).toContain(file);
            expect(result.undetected).toHaveLength(result.counts.survived + result.counts.noCoverage);
            expect(result.undetected.every((u) => /^\d+:\d+ (Survived|NoCoverage) \w+: /.test(u))).toBe(true);
        }
    }
});
