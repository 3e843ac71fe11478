// @ts-check
/**
 * The mounted secret and its mirror: the files the CSI driver writes, compared with what Key Vault
 * holds. Node standard library only.
 */
"use strict";

/** @typedef {import("./types").Context} Context */
/** @typedef {import("./types").HttpResponse} HttpResponse */

const fs = require("fs");
const { field, errorCode } = require("./http");
const { sha256Prefix } = require("./report");

/**
 * Extracts (and marks as sensitive) the `value` of a Key Vault secret response.
 * @param {Context} ctx
 * @returns {(response: HttpResponse) => string | undefined}
 */
function secretValue(ctx) {
    return (response) => {
        let value;
        try {
            value = field(JSON.parse(response.body), "value");
        } catch {
            value = undefined;
        }
        if (typeof value !== "string") {
            return undefined;
        }
        ctx.reporter.remember(value);
        return value;
    };
}

/** The CSI driver's mount of the secret, as the messages name it. */
const MOUNTED_SECRET = "the mounted secret file";

/** The Kubernetes Secret the CSI driver mirrors, mounted as a volume, as the messages name it. */
const MIRRORED_SECRET = "the mirrored Kubernetes Secret's file";

/** What the verdict says when the workload mirrors no Kubernetes Secret. */
const SYNCED_SECRET_NOT_MIRRORED = "not mirrored (the workload keeps its secret in Key Vault only)";

/** What a file error code means, for the few a mounted volume gives. */
const FILE_ERRORS = Object.freeze({
    ENOENT: "no such file: is the volume mounted, and the key projected under this name?",
    EACCES: "permission denied: the volume's file mode or the pod's user keeps the verifier out",
    EISDIR: "a directory, not a file: point the variable at the key's file inside the volume",
});

/**
 * Why a file could not be read, without its content: the error code and what it usually means.
 * @param {unknown} err
 * @returns {string}
 */
function describeFileError(err) {
    const code = errorCode(err);
    if (code === undefined) {
        return "unreadable";
    }
    const meaning = /** @type {Record<string, string | undefined>} */ (FILE_ERRORS)[code];
    return meaning === undefined ? code : `${code}: ${meaning}`;
}

/**
 * Compares a file (the CSI driver's mount, or the Secret it mirrors) with the Key Vault value, byte
 * for byte; says why not, by hashes only, if not.
 * @param {string} what       e.g. MOUNTED_SECRET
 * @param {string} file
 * @param {string} expected
 * @param {string} secretName
 * @returns {string | undefined}
 */
function compareFile(what, file, expected, secretName) {
    let content;
    try {
        content = fs.readFileSync(file);
    } catch (err) {
        return `could not read ${what} ${file} (${describeFileError(err)})`;
    }
    if (content.equals(Buffer.from(expected, "utf8"))) {
        return undefined;
    }
    return `${what} ${file} (sha256 ${sha256Prefix(content)}) differs from Key Vault secret ${secretName} (sha256 ${sha256Prefix(expected)})`;
}

module.exports = { secretValue, MOUNTED_SECRET, MIRRORED_SECRET, SYNCED_SECRET_NOT_MIRRORED, FILE_ERRORS, describeFileError, compareFile };
