// Builds a stack's config the way the Pulumi CLI does: the project's declared defaults from
// Pulumi.yaml, then the stack file (Pulumi.<stack>.yaml or an explicit file), then `-c key=value`.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export const PROJECT_ROOT = path.join(__dirname, "..", "..");

/** A problem with the plan's own inputs: a missing config file, a malformed -c pair. */
export class StackConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackConfigError";
    }
}

export interface StackConfigOptions {
    stack: string;
    /** Stack config file to read instead of Pulumi.<stack>.yaml. */
    configFile?: string;
    /** `key=value` pairs; a key without a namespace is the project's; lists and objects as JSON. */
    overrides?: string[];
}

/** Qualifies a key with the project's namespace when it has none. */
export function qualify(key: string, projectName: string): string {
    return key.includes(":") ? key : `${projectName}:${key}`;
}

/** Config values reach the program as strings; lists and objects as JSON text. */
function asConfigString(key: string, value: unknown): string {
    if (typeof value === "string") {
        return value;
    }
    if (value !== null && typeof value === "object" && "secure" in value) {
        throw new StackConfigError(`${key} is an encrypted secret, which the offline plan cannot decrypt; pass a stand-in with -c ${key}=...`);
    }
    return JSON.stringify(value);
}

/** The first line of an error's message, for a one-line report. */
function firstLine(err: unknown): string {
    const message: unknown = typeof err === "object" && err !== null ? Reflect.get(err, "message") : undefined;
    return (typeof message === "string" ? message : String(err)).split("\n")[0].trim();
}

/**
 * The YAML mapping in `file`; an empty file is an empty mapping. A file that cannot be read, is not
 * YAML or holds something other than a mapping is a StackConfigError naming the file.
 */
function readYaml(file: string): Record<string, unknown> {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new StackConfigError(`config file ${file} cannot be read: ${firstLine(err)}`);
    }
    let parsed: unknown;
    try {
        parsed = parse(text);
    } catch (err) {
        throw new StackConfigError(`config file ${file} is not valid YAML: ${firstLine(err)}`);
    }
    if (parsed === null || parsed === undefined) {
        return {};
    }
    if (typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new StackConfigError(`config file ${file} must hold a YAML mapping (such as "config:"), not ${Array.isArray(parsed) ? "a list" : `a ${typeof parsed}`}`);
    }
    return parsed as Record<string, unknown>;
}

/** The `config:` mapping of a parsed stack file; absent is empty. */
function configSection(file: string, document: Record<string, unknown>): Record<string, unknown> {
    const section = document.config;
    if (section === undefined || section === null) {
        return {};
    }
    if (typeof section !== "object" || Array.isArray(section)) {
        throw new StackConfigError(`config file ${file}: "config" must be a mapping of keys to values`);
    }
    return section as Record<string, unknown>;
}

/** Returns full config keys mapped to the strings the program would see. */
export function loadStackConfig(options: StackConfigOptions): Record<string, string> {
    const config: Record<string, string> = {};
    const project = readYaml(path.join(PROJECT_ROOT, "Pulumi.yaml"));
    const projectName = String(project.name);
    const declarations = (project.config ?? {}) as Record<string, unknown>;
    for (const [key, declaration] of Object.entries(declarations)) {
        const value = declaration !== null && typeof declaration === "object" && !Array.isArray(declaration) ? (declaration as Record<string, unknown>).default : declaration;
        if (value !== undefined) {
            config[qualify(key, projectName)] = asConfigString(key, value);
        }
    }

    const stackFile = options.configFile ?? path.join(PROJECT_ROOT, `Pulumi.${options.stack}.yaml`);
    if (options.configFile !== undefined || fs.existsSync(stackFile)) {
        if (!fs.existsSync(stackFile)) {
            throw new StackConfigError(`config file ${stackFile} does not exist`);
        }
        const stackConfig = configSection(stackFile, readYaml(stackFile));
        for (const [key, value] of Object.entries(stackConfig)) {
            config[qualify(key, projectName)] = asConfigString(key, value);
        }
    }

    for (const pair of options.overrides ?? []) {
        const eq = pair.indexOf("=");
        if (eq <= 0) {
            throw new StackConfigError(`-c expects key=value, got ${JSON.stringify(pair)}`);
        }
        config[qualify(pair.slice(0, eq), projectName)] = pair.slice(eq + 1);
    }
    if (options.configFile === undefined && !fs.existsSync(stackFile) && config["azure-native:location"] === undefined) {
        throw new StackConfigError(
            `there is no ${path.basename(stackFile)}, which holds stack ${options.stack}'s values (azure-native:location at least): create it with \`pulumi stack init ${options.stack}\` and \`pulumi config set azure-native:location <region>\`, or pass --config-file FILE or -c azure-native:location=<region>`,
        );
    }
    return config;
}

/**
 * A stack and the config its program sees, as one text in key order: the same for every way of
 * writing that config (an override equal to the stack file's value, or none). Plans and first runs
 * are kept under it.
 */
export function configKey(stack: string, config: Record<string, string>): string {
    return JSON.stringify([
        stack,
        Object.keys(config)
            .sort()
            .map((k) => [k, config[k]]),
    ]);
}
