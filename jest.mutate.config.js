/** The tests that mutation testing runs for the components' chunks (tools/mutate.ts names its own
 * for the configuration's, the policy pack's and the verifier's): those that execute components/ and
 * config.ts in the jest process itself, and the config reference's, which holds the generated
 * Pulumi.yaml config block and docs/configuration.md to the schema. Tests that read plans from the
 * plan servers' processes are left out: a mutant lives only in the jest process, so they could not
 * see it (and they cost seconds per plan). So is serialization.test.ts: serializing instrumented
 * code would capture the mutation tester's own state. */
const base = require("./jest.config");

// Every unit test builds its component afresh (tests/unit/build.ts, memoized): Stryker's per-test
// coverage must see each test execute the code it asserts on.
process.env.AIV_FRESH_BUILDS = "1";

module.exports = {
    ...base,
    // A mutant's run takes only the tests jest relates to its file by imports (Stryker's
    // enableFindRelatedTests), searched within these roots and the file's own directory. With only
    // tests/ here, the chain through a file at the top (tests -> config.ts -> config/network.ts) was
    // invisible: the run found no test and Stryker counted the mutant as surviving.
    roots: ["<rootDir>"],
    // Stryker's sandboxes, when a run leaves them, hold copies of the tests and sources.
    modulePathIgnorePatterns: ["<rootDir>/.stryker-tmp/"],
    testPathIgnorePatterns: ["/node_modules/", "<rootDir>/.stryker-tmp/"],
    testMatch: [
        "**/tests/unit/**/*.test.ts",
        "**/tests/helpers/helpers.test.ts",
        "**/tests/podIdentityArm.test.ts",
        "**/tests/podIdentities.test.ts",
        "**/tests/clusterAccess.test.ts",
        // The config schema's declarations and descriptions, as Pulumi.yaml and docs/configuration.md give them.
        "**/tests/configReference.test.ts",
    ],
    globalSetup: undefined,
    globalTeardown: undefined,
};
