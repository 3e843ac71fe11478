/** Unit tests run on Pulumi mocks; ts-jest transpiles only (tsconfig has isolatedModules) and
 * `npm run build` does the type-check, so the two run side by side instead of one inside the other. */
require("./tools/nodeVersion").requireSupportedNode();

module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/tests"],
    testMatch: ["**/*.test.ts"],
    transform: { "^.+\\.ts$": ["ts-jest", {}] },
    globalSetup: "<rootDir>/tests/globalSetup.ts",
    globalTeardown: "<rootDir>/tests/globalTeardown.ts",
    testTimeout: 60000,
    // Many tests wait on the plan servers (tools/plan/server.ts), so one worker per core keeps the cores
    // busy; jest's default (one fewer) left one of two cores idle.
    maxWorkers: "100%",
    // At the end of a run jest may print "A worker process has failed to exit gracefully": no test
    // leaves a handle open (each worker's last handles are its stdio pipes, and its `exit` event comes
    // within milliseconds of jest's end message), but a worker holds 600-700 MB by then, and Node's
    // teardown of that heap on a busy machine can outlast the 500 ms jest-worker waits before it
    // kills the process. It does not change a test's result.
};
