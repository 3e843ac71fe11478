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
};
