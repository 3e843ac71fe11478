// The Node.js lines the project runs on, checked first by every command (tools/register.js) and by
// jest (jest.config.js): npm's own engines warning is silenced with the rest of npm's log (.npmrc), so
// an older Node would otherwise fail later with a syntax or API error that names nothing.
"use strict";
const { engines } = require("../package.json");

/** The oldest major version `engines.node` (`>=22`) admits. */
const OLDEST_MAJOR = Number(/^>=(\d+)$/.exec(engines.node)?.[1]);

/**
 * The line to print when `version` (`22.14.0`) is older than the project supports, or undefined when it
 * is supported. Exported for testing.
 * @param {string} version
 * @returns {string | undefined}
 */
function unsupportedNode(version) {
    if (!Number.isInteger(OLDEST_MAJOR)) {
        throw new Error(`package.json engines.node is ${JSON.stringify(engines.node)}, not ">=<major>"`);
    }
    const major = Number(version.split(".")[0]);
    return major >= OLDEST_MAJOR
        ? undefined
        : `aks-identity-vault needs Node.js ${OLDEST_MAJOR} or later (package.json engines.node ${engines.node}); this is Node.js ${version}. Install an LTS line (22, 24 or 26) and run npm ci again.`;
}

/** Exits with the line when the running Node.js is too old. */
function requireSupportedNode() {
    const problem = unsupportedNode(process.versions.node);
    if (problem !== undefined) {
        process.stderr.write(`error: ${problem}\n`);
        process.exit(1);
    }
}

module.exports = { unsupportedNode, requireSupportedNode };
