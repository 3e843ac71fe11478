// CEL, as the admission guards of the pod-identity modes write it.

/** A CEL string literal: the value quoted, its backslashes and quotes escaped. */
export function celString(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
