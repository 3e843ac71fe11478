// Pulumi.yaml against the rules of the Pulumi project file (the CLI's project.json schema), and the
// declared defaults against the ones config.ts applies.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { CONFIG_KEYS, DEFAULTS } from "../config";

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

describe("config declarations", () => {
    test.each(Object.entries(declarations))("%s has an allowed type, a description and a default of that type", (key, declaration) => {
        expect(Object.keys(declaration).every((k) => ["type", "items", "description", "secret", "default"].includes(k))).toBe(true);
        expect(CONFIG_TYPES).toContain(declaration.type);
        expect(typeof declaration.description).toBe("string");
        const value = declaration.default;
        switch (declaration.type) {
            case "string":
                expect(typeof value).toBe("string");
                break;
            case "integer":
                expect(Number.isInteger(value)).toBe(true);
                break;
            case "boolean":
                expect(typeof value).toBe("boolean");
                break;
            case "array": {
                const items = declaration.items as Record<string, unknown>;
                expect(CONFIG_TYPES).toContain(items.type);
                expect(Array.isArray(value)).toBe(true);
                expect((value as unknown[]).every((v) => typeof v === items.type)).toBe(true);
                break;
            }
        }
        expect(CONFIG_KEYS).toContain(key);
    });

    test("every key but the object-valued workloads is declared", () => {
        expect(Object.keys(declarations).sort()).toEqual(CONFIG_KEYS.filter((k) => k !== "workloads").sort());
    });

    test("declared defaults equal the ones config.ts applies", () => {
        for (const [key, declaration] of Object.entries(declarations)) {
            expect([key, declaration.default]).toEqual([key, DEFAULTS[key as keyof typeof DEFAULTS]]);
        }
    });
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
