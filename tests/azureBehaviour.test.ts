// docs/azure-behaviour.md: every behaviour has a source and something that pins it, and what it
// names as pinning it exists: the test file (or the module under tests/unit/ or tests/helpers/), the
// test (by its title, or the start of it before "..."), the policy of the pack.
import * as fs from "fs";
import * as path from "path";
import { policies } from "../policy/policies";

const ROOT = path.join(__dirname, "..");
const DOC = fs.readFileSync(path.join(ROOT, "docs", "azure-behaviour.md"), "utf8");

interface Row {
    id: string;
    behaviour: string;
    source: string;
    handling: string;
    pinnedBy: string;
}

/** The rows of the document's tables whose first cell is a number. */
function rows(markdown: string): Row[] {
    return markdown
        .split("\n")
        .filter((line) => /^\| \d+ \|/.test(line))
        .map((line) => {
            const cells = line.split(" | ").map((c) => c.replace(/^\| /, "").replace(/ \|$/, "").trim());
            const [id, behaviour, source, handling, pinnedBy] = cells;
            return { id, behaviour, source, handling, pinnedBy };
        });
}

/** The test files, titles and policies a "Pinned by" cell names. */
export function references(cell: string): { files: Array<{ file: string; titles: string[] }>; policies: string[] } {
    const files = [...cell.matchAll(/`((?:(?:unit|helpers)\/\w+|[\w/]+\.test)\.ts)`(?::?((?:\s*"[^"]+",?)*))?/g)].map((m) => ({
        file: m[1],
        titles: [...(m[2] ?? "").matchAll(/"([^"]+)"/g)].map((t) => t[1].replace(/,? ?\.\.\.$/, "")),
    }));
    const named = [...cell.matchAll(/polic(?:y|ies) ((?:`[\w-]+`(?:, )?)+)/g)].flatMap((m) => [...m[1].matchAll(/`([\w-]+)`/g)].map((n) => n[1]));
    return { files, policies: named };
}

/**
 * What may stand just before a test's title: `test(`, `it(`, `describe(` (with `.concurrent`, `.only`
 * or `.skip`) or the `)(` of `test.each(...)(`; a cell of a `test.each` table row; or the case
 * helpers of the policy tests (`pass("policy-name", "title"`).
 */
const DECLARATION = [/(?:\b(?:test|it|describe)(?:\.(?:concurrent|only|skip))?|\))\(\s*$/, /\[\s*(?:(?:"[^"\n]*"|'[^'\n]*'|`[^`]*`),\s*)*$/, /\b(?:pass|fail|skip)\(\s*"[\w-]+",\s*$/];

/** The placeholders a `test.each` title may open with before its words: `%s: `, `$file `. */
const TEMPLATE_PREFIX = "(?:%[sdj]:? |\\$\\w+:? )?";

/**
 * Whether `text` declares a test, a describe block or a table row of a test whose title starts with
 * `title` (after a placeholder of `test.each`): the title opens a string literal in one of those
 * places. A comment, or any other string that holds the words, does not count.
 */
export function declaresTest(text: string, title: string): boolean {
    const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    for (const match of text.matchAll(new RegExp(`["'\`]${TEMPLATE_PREFIX}${escaped}`, "g"))) {
        const before = text.slice(Math.max(0, match.index - 300), match.index);
        if (DECLARATION.some((pattern) => pattern.test(before))) {
            return true;
        }
    }
    return false;
}

const ROWS = rows(DOC);

test("the document lists at least 20 behaviours, numbered once each, each with a source, a handling and a pin", () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(20);
    expect(ROWS.map((r) => Number(r.id))).toEqual(ROWS.map((_r, i) => i + 1));
    for (const row of ROWS) {
        expect([row.id, row.source.length > 10, row.handling.length > 10, row.pinnedBy.length > 5]).toEqual([row.id, true, true, true]);
    }
});

test.each(ROWS.map((r) => [r.id, r] as const))("behaviour %s is pinned by tests and policies that exist", (_id, row) => {
    const { files, policies: named } = references(row.pinnedBy);
    expect(files.length + named.length).toBeGreaterThan(0);
    const known = new Set(policies.map((p) => p.name));
    for (const name of named) {
        expect([name, known.has(name)]).toEqual([name, true]);
    }
    for (const { file, titles } of files) {
        const full = path.join(ROOT, "tests", file);
        expect([file, fs.existsSync(full)]).toEqual([file, true]);
        const text = fs.readFileSync(full, "utf8");
        for (const title of titles) {
            expect([file, title, declaresTest(text, title)]).toEqual([file, title, true]);
        }
    }
});

test("a pin is a test's declaration: a comment or another string with the same words is not", () => {
    const text = [
        "// gives up within its budget",
        'const label = "refuses a stale key";',
        'test("passes end to end", () => {});',
        "describe('the private path', () => {",
        '    test.concurrent("waits for Entra", async () => {});',
        '    test.each([1, 2])(\n        "%s: the row", (n) => {});',
        '    test.each([\n        ["a table row", 1],\n    ])("%s", () => {});',
        '    fail("some-policy",\n        "a policy case"),',
        "});",
    ].join("\n");
    expect(["passes end to end", "the private path", "waits for Entra", "the row", "%s: the row", "passes", "a table row", "a policy case"].map((t) => declaresTest(text, t))).toEqual([
        true,
        true,
        true,
        true,
        true,
        true,
        true,
        true,
    ]);
    expect(["gives up within its budget", "refuses a stale key", "end to end"].map((t) => declaresTest(text, t))).toEqual([false, false, false]);
});

test("a Pinned by cell is read into files, titles and policies", () => {
    expect(references('`a.test.ts`: "one, ...", "two"; policy `p-1`; policies `p-2`, `p-3`')).toEqual({
        files: [{ file: "a.test.ts", titles: ["one", "two"] }],
        policies: ["p-1", "p-2", "p-3"],
    });
});

test("the documents cite nothing outside the repository: every relative link resolves inside it", () => {
    const files = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => path.join("docs", f))].filter((f) => f.endsWith(".md"));
    for (const file of files) {
        const text = fs.readFileSync(path.join(ROOT, file), "utf8");
        const relative = [...text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)].map((m) => m[1]).filter((target) => !/^[a-z]+:/.test(target));
        for (const target of relative) {
            const resolved = path.resolve(ROOT, path.dirname(file), target);
            expect([file, target, resolved.startsWith(`${ROOT}${path.sep}`) && fs.existsSync(resolved)]).toEqual([file, target, true]);
        }
        expect([file, /\.\.\/shared|AZURE-NOTES/.test(text)]).toEqual([file, false]);
    }
});
