// Pulumi.yaml against the rules of the Pulumi project file (the CLI's project.json schema); its config
// block is generated from config.ts's schema (tests/configReference.test.ts). And npm test's own flags.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
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

describe("a Node.js older than the project supports", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { unsupportedNode } = require("../tools/nodeVersion") as { unsupportedNode: (version: string) => string | undefined };

    test("gets one line naming the version it needs, the one it found and what to do", () => {
        expect(unsupportedNode("20.20.2")).toBe(
            "aks-identity-vault needs Node.js 22 or later (package.json engines.node >=22); this is Node.js 20.20.2. Install an LTS line (22, 24 or 26) and run npm ci again.",
        );
        for (const supported of ["22.0.0", "24.1.0", "26.0.0"]) {
            expect(unsupportedNode(supported)).toBeUndefined();
        }
    });

    test("is refused by every command and by jest before anything else runs", () => {
        const root = path.join(__dirname, "..");
        expect(fs.readFileSync(path.join(root, "tools", "register.js"), "utf8")).toMatch(/^"use strict";\nrequire\("\.\/nodeVersion"\)\.requireSupportedNode\(\);/m);
        expect(fs.readFileSync(path.join(root, "jest.config.js"), "utf8")).toContain('require("./tools/nodeVersion").requireSupportedNode();');
        const result = spawnSync(process.execPath, ["-e", 'Object.defineProperty(process, "versions", { value: { ...process.versions, node: "20.1.0" } }); require("./tools/register.js")'], {
            cwd: root,
            encoding: "utf8",
        });
        expect([result.status, result.stderr.trim()]).toEqual([1, expect.stringMatching(/^error: aks-identity-vault needs Node\.js 22 or later .* this is Node\.js 20\.1\.0\./)]);
    });
});

test("npm test fails on a snapshot it has not got, instead of writing it", () => {
    const script = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.test.split(" ");
    expect(script[0]).toBe("jest");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-ci-snapshot-"));
    fs.writeFileSync(path.join(dir, "new.test.js"), 'test("a value never recorded", () => { expect({ recorded: false }).toMatchSnapshot(); });\n');
    const run = spawnSync(process.execPath, [require.resolve("jest/bin/jest"), ...script.slice(1), "--rootDir", dir, "--config", JSON.stringify({ testEnvironment: "node" })], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, CI: "" },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("New snapshot was not written");
    expect(fs.existsSync(path.join(dir, "__snapshots__"))).toBe(false);
});
