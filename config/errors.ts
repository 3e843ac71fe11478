// How config says no: one line naming the key, the value and what is allowed, as a ConfigError that
// `pulumi up` prints without a stack trace.
import * as pulumi from "@pulumi/pulumi";

/** The project name, which is also the namespace of the project's config keys. */
export const PROJECT = "aks-identity-vault";

/**
 * A configuration problem. It extends RunError so that `pulumi up` prints only the message: one
 * line, no stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

/** Renders a config value for an error message, cut short when long. */
export function showValue(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function fail(key: string, value: unknown, allowed: string): never {
    const what = value === undefined ? `Missing config ${key}` : `Invalid config ${key} = ${showValue(value)}`;
    throw new ConfigError(`${what}: ${allowed}.`);
}

export function projectKey(key: string): string {
    return `${PROJECT}:${key}`;
}

/** `aks-identity-vault:key` followed by a path into its value: `workloads[0].name`. */
export function describePath(key: string, path: readonly PropertyKey[]): string {
    return path.reduce<string>((acc, segment) => (typeof segment === "number" ? `${acc}[${segment}]` : `${acc}.${String(segment)}`), projectKey(key));
}
