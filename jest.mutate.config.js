/** The tests that mutation testing runs for the program's chunks (tools/mutate.ts names its own for
 * the policy pack's and the verifier's): those that execute components/ and config.ts in the jest
 * process itself, and the config reference's, which holds the generated Pulumi.yaml config block and
 * docs/configuration.md to the schema. Tests that read plans from the plan servers' processes are
 * left out: a mutant lives only in the jest process, so they could not see it (and they cost seconds
 * per plan). So is serialization.test.ts: serializing instrumented code would capture the mutation
 * tester's own state. */
const base = require("./jest.config");

// Every unit test builds its component afresh (tests/unit/build.ts, memoized): Stryker's per-test
// coverage must see each test execute the code it asserts on.
process.env.AIV_FRESH_BUILDS = "1";

module.exports = {
    ...base,
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
