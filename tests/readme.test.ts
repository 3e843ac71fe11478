// The README's config reference against Pulumi.yaml and config.ts, so the three cannot drift apart.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { CONFIG_KEYS, DEFAULTS } from "../config";

const ROOT = path.join(__dirname, "..");
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const declarations = (parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { type: string; default: unknown; items?: { type: string } }> }).config;

interface Row {
    type: string;
    default: string;
}

/** The rows of the README's configuration table, by key. */
function referenceRows(): Record<string, Row> {
    const start = readme.indexOf("| Key | Type | Default |");
    if (start < 0) {
        throw new Error("README.md has no configuration table");
    }
    const rows: Record<string, Row> = {};
    for (const line of readme.slice(start).split("\n").slice(2)) {
        if (!line.startsWith("|")) {
            break;
        }
        const [key, type, def] = line.split(" | ").map((cell) => cell.replace(/^\|\s*/, "").trim());
        rows[key.replace(/`/g, "")] = { type, default: def.replace(/^`|`$/g, "") };
    }
    return rows;
}

const rows = referenceRows();

test("lists exactly the project's config keys, and the location", () => {
    expect(Object.keys(rows).sort()).toEqual([...CONFIG_KEYS, "azure-native:location"].sort());
});

test.each(Object.entries(declarations))("%s: type and default as Pulumi.yaml declares them", (key, declaration) => {
    const row = rows[key];
    expect(row).toBeDefined();
    const type = declaration.type === "array" ? `array of ${declaration.items?.type ?? "?"}` : declaration.type;
    expect([key, row.type]).toEqual([key, type]);
    expect([key, row.default]).toEqual([key, typeof declaration.default === "string" ? declaration.default : JSON.stringify(declaration.default)]);
});

test("workloads: the default config.ts applies", () => {
    expect(JSON.parse(rows.workloads.default)).toEqual(DEFAULTS.workloads);
});

test("every npm script the README tells people to run exists", () => {
    const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
    const mentioned = [...readme.matchAll(/npm run (?:-s )?([a-z][a-z:-]*[a-z])/g)].map((m) => m[1]);
    expect(mentioned.length).toBeGreaterThan(0);
    expect([...new Set(mentioned)].filter((s) => !scripts.includes(s))).toEqual([]);
});
