// Reading resource properties whose shape the policy does not control: plan inputs, stack outputs and
// hand-built test resources all arrive as plain JSON, so every read here starts from `unknown`.
import { UnknownValueError } from "@pulumi/policy";

/** A JSON object. */
export type Dict = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isDict(value: unknown): value is Dict {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `path` inside `value`, or undefined when any step is missing. */
export function field(value: unknown, ...path: string[]): unknown {
    let current = value;
    for (const key of path) {
        if (!isDict(current)) {
            return undefined;
        }
        current = current[key];
    }
    return current;
}

/** `value` when it is a string, otherwise undefined. */
export function text(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/** `value` when it is an array, otherwise an empty one. */
export function list(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

/** The strings of an array value; anything else yields none. */
export function strings(value: unknown): string[] {
    return list(value).filter((item): item is string => typeof item === "string");
}

/** The string entries of an object value (labels, annotations, selectors). */
export function stringMap(value: unknown): Record<string, string> {
    if (!isDict(value)) {
        return {};
    }
    return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

/** Case-insensitive equality of two strings; false when either is missing. */
export function sameText(a: string | undefined, b: string | undefined): boolean {
    return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** The first defined string among several candidate properties (input and output names differ). */
export function firstText(value: unknown, ...keys: string[]): string | undefined {
    for (const key of keys) {
        const found = text(field(value, key));
        if (found !== undefined) {
            return found;
        }
    }
    return undefined;
}

/**
 * What `read` returns, or undefined when it reads a value not known yet: during a preview the policy
 * SDK throws UnknownValueError on reading one, which would otherwise skip the whole policy.
 */
export function whenKnown<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (error) {
        if (error instanceof UnknownValueError) {
            return undefined;
        }
        throw error;
    }
}
