// The README and docs/ against the project: the README stays short and points to the documents,
// every relative link resolves, and every npm script they tell people to run exists.
import * as fs from "fs";
import * as path from "path";
import { planFor } from "./support";

const ROOT = path.join(__dirname, "..");
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");
const readme = read("README.md");
const docs = fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => path.join("docs", f));

test("the README is at most 200 lines and links every document in docs/, of which there are at least four", () => {
    expect(readme.split("\n").length).toBeLessThanOrEqual(200);
    expect(docs.length).toBeGreaterThanOrEqual(4);
    for (const doc of docs) {
        expect([doc, readme.includes(`](${doc})`)]).toEqual([doc, true]);
    }
});

test.each(["README.md", ...docs])("%s: every relative link names a file that exists (and a heading of it, when it has an anchor)", (file) => {
    const text = read(file);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) {
            continue;
        }
        const [relative, anchor] = target.split("#");
        const linked = relative === "" ? file : path.join(path.dirname(file), relative);
        expect([file, target, fs.existsSync(path.join(ROOT, linked))]).toEqual([file, target, true]);
        if (anchor !== undefined && linked.endsWith(".md")) {
            const slugs = [...read(linked).matchAll(/^#+ (.+)$/gm)].map((m) =>
                m[1]
                    .toLowerCase()
                    .replace(/[^a-z0-9 -]/g, "")
                    .replace(/ /g, "-"),
            );
            expect([file, target, slugs.includes(anchor)]).toEqual([file, target, true]);
        }
    }
});

test("every npm script the README and docs tell people to run exists", () => {
    const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
    const mentioned = ["README.md", ...docs].flatMap((file) => [...read(file).matchAll(/npm run (?:-s )?([a-z][a-z:-]*[a-z])/g)].map((m) => `${file}: ${m[1]}`));
    expect(mentioned.length).toBeGreaterThan(0);
    expect([...new Set(mentioned)].filter((m) => !scripts.includes(m.split(": ")[1]))).toEqual([]);
});

test("the README's diagram names what the dev stack's plan creates: every name and address range in it", async () => {
    const diagram = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const plan = await planFor([]);
    const names = new Set(
        plan.steps.flatMap((s) =>
            Object.entries(s.newState.inputs)
                .filter(([key, value]) => /Name$/.test(key) && typeof value === "string")
                .map(([, value]) => String(value)),
        ),
    );
    const prefixes = new Set(
        plan.steps
            .flatMap((s) => [s.newState.inputs.addressPrefix, ...((s.newState.inputs.addressSpace as { addressPrefixes?: string[] } | undefined)?.addressPrefixes ?? [])])
            .filter((p) => typeof p === "string"),
    );
    const templated = [...diagram.matchAll(/([a-z]+(?:-[a-z]+)*-?)&lt;stack&gt;((?:-&lt;workload&gt;|-?x{6})?)/g)].map((m) => m[0]);
    expect(templated.length).toBeGreaterThanOrEqual(6);
    for (const template of templated) {
        const pattern = new RegExp(`^${template.replace("&lt;stack&gt;", "dev").replace("&lt;workload&gt;", "alpha").replace("xxxxxx", "[a-z0-9]{6}")}$`);
        expect([template, [...names].some((n) => pattern.test(n))]).toEqual([template, true]);
    }
    for (const subnet of diagram.match(/snet-[a-z]+/g) ?? []) {
        expect([subnet, names.has(subnet)]).toEqual([subnet, true]);
    }
    for (const cidr of diagram.match(/\d+\.\d+\.\d+\.\d+\/\d+/g) ?? []) {
        expect([cidr, prefixes.has(cidr)]).toEqual([cidr, true]);
    }
});
