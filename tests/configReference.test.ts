// What is generated from the config schema: Pulumi.yaml's config block and the docs' reference are
// as the schema gives them (a stale copy fails here), and what they say is what config.ts applies.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { CONFIG_KEYS, CONFIG_SCHEMA, DEFAULTS } from "../config";
import { GENERATED_FILES, main, REFERENCE_MARKERS, renderConfigReference, staleFiles, withConfigReference, withPulumiConfig } from "../tools/configReference";

const ROOT = path.join(__dirname, "..");
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");

test("Pulumi.yaml and docs/configuration.md are as the schema gives them (npm run generate writes them)", () => {
    expect(staleFiles()).toEqual([]);
});

describe("a stale copy is found", () => {
    let root: string;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-generated-"));
        fs.mkdirSync(path.join(root, "docs"));
        for (const g of GENERATED_FILES) {
            fs.copyFileSync(path.join(ROOT, g.file), path.join(root, g.file));
        }
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    test.each([
        ["Pulumi.yaml", "default: 10.76.0.0/21", "default: 10.99.0.0/21"],
        ["docs/configuration.md", "| `nodeCount` | integer | `2` |", "| `nodeCount` | integer | `3` |"],
    ])("%s with an edited line is stale, and --check says so; npm run generate writes it back", async (file, from, to) => {
        const target = path.join(root, file);
        const original = fs.readFileSync(target, "utf8");
        expect(original).toContain(from);
        fs.writeFileSync(target, original.replace(from, to));
        expect(staleFiles(root)).toEqual([file]);
        const err: string[] = [];
        const io = { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) } };
        expect(await main(["--check"], io, root)).toBe(1);
        expect(err.join("")).toBe(`generated from the config schema but stale: ${file}; run npm run generate\n`);
        expect(await main([], io, root)).toBe(0);
        expect(fs.readFileSync(target, "utf8")).toBe(original);
        expect(await main(["--bogus"], io, root)).toBe(1);
    });
});

test("Pulumi.yaml declares every key it can, with the schema's default, and its own parts are kept", () => {
    const project = parse(read("Pulumi.yaml")) as { name: string; backend: unknown; config: Record<string, { type: string; default: unknown; description: string }> };
    expect(project.name).toBe("aks-identity-vault");
    const declarable = CONFIG_KEYS.filter((k) => CONFIG_SCHEMA[k].type !== "objectList" && CONFIG_SCHEMA[k].type !== "object");
    expect(Object.keys(project.config)).toEqual(declarable);
    for (const key of declarable) {
        expect([key, project.config[key].default, project.config[key].description]).toEqual([key, DEFAULTS[key], CONFIG_SCHEMA[key].description]);
    }
    expect(withPulumiConfig("name: x\n")).toMatch(/^name: x\n# Generated from CONFIG_SCHEMA/);
});

test("the reference has a row per key and a row per workload field, between its markers", () => {
    const reference = renderConfigReference();
    for (const key of CONFIG_KEYS) {
        expect(reference).toContain(`| \`${key}\` |`);
    }
    for (const field of Object.keys(CONFIG_SCHEMA.workloads.fields ?? {})) {
        expect(reference).toContain(`| \`${field}\` |`);
    }
    expect(read("docs/configuration.md")).toContain(`${REFERENCE_MARKERS.begin}\n${reference}\n${REFERENCE_MARKERS.end}`);
    expect(() => withConfigReference("no markers")).toThrow("docs/configuration.md has lost its markers");
});
