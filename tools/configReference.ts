// `npm run generate`: writes what is generated from config.ts's schema (CONFIG_SCHEMA): the `config:`
// block of Pulumi.yaml (everything from its `config:` line on) and the configuration reference of
// docs/configuration.md (between its two markers). `npm run generate -- --check` writes nothing
// and fails, naming the stale files, when either differs from what the schema gives;
// tests/configReference.test.ts runs the same check.
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { CONFIG_KEYS, CONFIG_SCHEMA, PROJECT } from "../config";
import type { ConfigKey, KeyDeclaration } from "../config";

/** The repository root. */
const ROOT = path.join(__dirname, "..");

/** Where the generated reference sits in docs/configuration.md. */
export const REFERENCE_MARKERS = {
    begin: "<!-- generated from CONFIG_SCHEMA in config.ts by `npm run generate`; edit the schema, not this table -->",
    end: "<!-- end of generated reference -->",
} as const;

/** A file that holds generated text. */
export interface GeneratedFile {
    /** Path from the repository root. */
    file: string;
    /** The file's text with its generated part as the schema gives it. */
    render(current: string): string;
}

/** How Pulumi.yaml declares a key, or undefined for one it cannot declare (a list of objects, an object). */
function pulumiDeclaration(declaration: KeyDeclaration<unknown>): Record<string, unknown> | undefined {
    switch (declaration.type) {
        case "objectList":
        case "object":
            return undefined;
        case "stringList":
            return { type: "array", items: { type: "string" }, default: declaration.default, description: declaration.description };
        default:
            return { type: declaration.type, default: declaration.default, description: declaration.description };
    }
}

/** The `config:` block of Pulumi.yaml: every key Pulumi.yaml can declare, then a note for the others. Pure; exported for testing. */
export function renderPulumiConfig(): string {
    const declared: Record<string, unknown> = {};
    const undeclared: ConfigKey[] = [];
    for (const key of CONFIG_KEYS) {
        const declaration = pulumiDeclaration(CONFIG_SCHEMA[key]);
        if (declaration === undefined) {
            undeclared.push(key);
        } else {
            declared[key] = declaration;
        }
    }
    const notes = undeclared.map(
        (key) =>
            `  # ${key} (${CONFIG_SCHEMA[key].type === "object" ? "an object" : "a list of objects"}) cannot be declared here: project config types are string, integer,\n` +
            `  # boolean and array. It is validated in config.ts and defaults to ${JSON.stringify(CONFIG_SCHEMA[key].default)}.\n`,
    );
    return `# Generated from CONFIG_SCHEMA in config.ts by \`npm run generate\`; edit the schema, not this block.\n${stringify({ config: declared }, { lineWidth: 0 })}${notes.join("")}`;
}

/** Pulumi.yaml with its `config:` block (from that line to the end) as the schema gives it. */
export function withPulumiConfig(current: string): string {
    const lines = current.split("\n");
    const start = lines.findIndex((line) => line.startsWith("config:") || line.startsWith("# Generated from CONFIG_SCHEMA"));
    const head = start < 0 ? `${current.replace(/\n*$/, "")}\n` : `${lines.slice(0, start).join("\n")}\n`;
    return head + renderPulumiConfig();
}

/** A Markdown table cell: pipes escaped, one line. */
function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The type of a key as the reference names it. */
function typeName(declaration: KeyDeclaration<unknown>): string {
    return { string: "string", integer: "integer", boolean: "boolean", stringList: "list of strings", objectList: "list of objects", object: "object" }[declaration.type];
}

/** The configuration reference: one row per key, then the fields of object lists. Pure; exported for testing. */
export function renderConfigReference(): string {
    const rows = CONFIG_KEYS.map((key) => {
        const declaration = CONFIG_SCHEMA[key];
        const shown = typeof declaration.default === "string" ? declaration.default : JSON.stringify(declaration.default);
        return `| \`${key}\` | ${typeName(declaration)} | \`${shown}\` | ${cell(declaration.description)} | ${cell(declaration.allowed)} |`;
    });
    const fields = CONFIG_KEYS.flatMap((key) => {
        const declared = CONFIG_SCHEMA[key].fields;
        return declared === undefined
            ? []
            : ["", `Each entry of \`${key}\`:`, "", "| Field | Meaning and allowed values |", "| --- | --- |", ...Object.entries(declared).map(([field, text]) => `| \`${field}\` | ${cell(text)} |`)];
    });
    return [`Keys of the \`${PROJECT}\` namespace:`, "", "| Key | Type | Default | What it decides | Allowed |", "| --- | --- | --- | --- | --- |", ...rows, ...fields].join("\n");
}

/** docs/configuration.md with the reference between its markers as the schema gives it; throws when the markers are missing. */
export function withConfigReference(current: string): string {
    const begin = current.indexOf(REFERENCE_MARKERS.begin);
    const end = current.indexOf(REFERENCE_MARKERS.end);
    if (begin < 0 || end < begin) {
        throw new Error(`docs/configuration.md has lost its markers: ${REFERENCE_MARKERS.begin} ... ${REFERENCE_MARKERS.end}`);
    }
    return `${current.slice(0, begin + REFERENCE_MARKERS.begin.length)}\n${renderConfigReference()}\n${current.slice(end)}`;
}

/** The files generated from the schema. */
export const GENERATED_FILES: readonly GeneratedFile[] = [
    { file: "Pulumi.yaml", render: withPulumiConfig },
    { file: "docs/configuration.md", render: withConfigReference },
];

/** The generated files whose text differs from what the schema gives, under `root`. */
export function staleFiles(root: string = ROOT): string[] {
    return GENERATED_FILES.filter((g) => {
        const current = fs.readFileSync(path.join(root, g.file), "utf8");
        return g.render(current) !== current;
    }).map((g) => g.file);
}

/** Output streams of the command. */
export interface Io {
    stdout: { write(text: string): unknown };
    stderr: { write(text: string): unknown };
}

/** Runs the command: writes the generated files, or with `--check` only reports stale ones (exit 1). */
export async function main(argv: string[], io: Io = process, root: string = ROOT): Promise<number> {
    if (argv.some((a) => a !== "--check")) {
        io.stderr.write("usage: npm run generate [-- --check]\n");
        return 1;
    }
    const stale = staleFiles(root);
    if (argv.includes("--check")) {
        if (stale.length > 0) {
            io.stderr.write(`generated from the config schema but stale: ${stale.join(", ")}; run npm run generate\n`);
            return 1;
        }
        io.stdout.write("generated files are up to date\n");
        return 0;
    }
    for (const g of GENERATED_FILES) {
        const file = path.join(root, g.file);
        fs.writeFileSync(file, g.render(fs.readFileSync(file, "utf8")));
    }
    io.stdout.write(stale.length === 0 ? "generated files were already up to date\n" : `wrote ${stale.join(", ")}\n`);
    return 0;
}
