// Pulumi.yaml against the rules of the Pulumi project file (the CLI's project.json schema); its config
// block is generated from config.ts's schema (tests/configReference.test.ts).
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { CONFIG_KEYS } from "../config";

const ROOT = path.join(__dirname, "..");
const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
const declarations = project.config as Record<string, Record<string, unknown>>;

/** Top-level keys the project schema allows (additionalProperties is false there). */
const PROJECT_KEYS = ["name", "description", "author", "website", "license", "runtime", "main", "stackConfigDir", "backend", "options", "template", "plugins", "config", "packages"];
/** The only types a project-level config declaration may have. */
const CONFIG_TYPES = ["string", "integer", "boolean", "array"];

test("names the project and the Node.js runtime", () => {
    expect(project.name).toBe("aks-identity-vault");
    expect(project.runtime).toMatchObject({ name: "nodejs" });
});

test("uses only keys the project schema allows", () => {
    for (const key of Object.keys(project)) {
        expect(PROJECT_KEYS).toContain(key);
    }
});

test("defaults to the local file backend", () => {
    expect((project.backend as Record<string, string>).url).toMatch(/^file:\/\//);
});

test("every config declaration has a type and default the project schema allows", () => {
    for (const [key, declaration] of Object.entries(declarations)) {
        expect([key, Object.keys(declaration).every((k) => ["type", "items", "description", "secret", "default"].includes(k))]).toEqual([key, true]);
        expect(CONFIG_TYPES).toContain(declaration.type);
        const items = declaration.items as { type?: string } | undefined;
        const type = declaration.type === "array" ? "array" : declaration.type === "integer" ? "number" : declaration.type;
        expect([key, Array.isArray(declaration.default) ? "array" : typeof declaration.default]).toEqual([key, type]);
        if (declaration.type === "array") {
            expect(CONFIG_TYPES).toContain(items?.type);
        }
    }
});

test("the dev stack sets the location and only keys the program knows", () => {
    const dev = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    expect(dev.config["azure-native:location"]).toBe("uksouth");
    for (const key of Object.keys(dev.config)) {
        const [namespace, name] = key.split(":");
        if (namespace === "aks-identity-vault") {
            expect(CONFIG_KEYS).toContain(name);
        } else {
            expect(namespace).toBe("azure-native");
        }
    }
});
