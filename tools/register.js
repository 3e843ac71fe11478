// Loads the project's TypeScript in its commands (`node -r ./tools/register.js scripts/plan.ts`):
// what `-r sucrase/register/ts` does, sucrase's imports and typescript transforms with an inline
// source map, with each file's output kept by the hash of its input. The output is a pure function
// of sucrase's version, the file's path and its text, so a command, a plan server's next plan or
// another process reuses it; sucrase itself is loaded only when a file is new or changed. Outputs
// are kept in memory and in node_modules/.cache/aks-identity-vault/sucrase (npm's cache folder).
"use strict";
require("./nodeVersion").requireSupportedNode();
const { createHash } = require("crypto");
const fs = require("fs");
const path = require("path");
const pirates = require("pirates");

const CACHE_DIR = path.join(__dirname, "..", "node_modules", ".cache", "aks-identity-vault", "sucrase");
const SUCRASE_VERSION = require("sucrase/package.json").version;
const OPTIONS = { transforms: ["imports", "typescript"], ...(process.env.SUCRASE_OPTIONS ? JSON.parse(process.env.SUCRASE_OPTIONS) : {}) };

/** @type {Map<string, string>} */
const memory = new Map();

/** What sucrase/register/ts returns for `code` of `filePath`. */
function transform(code, filePath) {
    const { transform: sucrase } = require("sucrase");
    const { code: transformed, sourceMap } = sucrase(code, { ...OPTIONS, sourceMapOptions: { compiledFilename: filePath }, filePath });
    const map = Buffer.from(JSON.stringify(sourceMap)).toString("base64");
    return `${transformed}\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${map}`;
}

/** The output for `code` of `filePath`: remembered, read from the cache folder, or transformed and kept. */
function cached(code, filePath) {
    const key = createHash("sha256")
        .update(JSON.stringify([SUCRASE_VERSION, OPTIONS, filePath]))
        .update("\0")
        .update(code)
        .digest("hex");
    const remembered = memory.get(key);
    if (remembered !== undefined) {
        return remembered;
    }
    const file = path.join(CACHE_DIR, `${key}.js`);
    let output;
    try {
        output = fs.readFileSync(file, "utf8");
    } catch {
        output = transform(code, filePath);
        try {
            fs.mkdirSync(CACHE_DIR, { recursive: true });
            // Written whole under another name, then renamed: a concurrent reader sees all or nothing.
            const temporary = `${file}.${process.pid}.tmp`;
            fs.writeFileSync(temporary, output);
            fs.renameSync(temporary, file);
        } catch {
            // A read-only checkout still runs; it transforms each time.
        }
    }
    memory.set(key, output);
    return output;
}

pirates.addHook(cached, { exts: [".ts"] });

module.exports = { transform, cached };
