// ESLint (flat config): the recommended JavaScript and typescript-eslint rules, Prettier's formatting
// left to Prettier, and the import boundaries of the house: nothing outside tests/ imports tests/;
// tests/ does not import scripts/ (entry points), which sit on tools/; config imports no component;
// the policy pack imports nothing of tools/; and no import circle anywhere (import-x/no-cycle).
const js = require("@eslint/js");
const prettier = require("eslint-config-prettier");
const globals = require("globals");
const tseslint = require("typescript-eslint");
const importX = require("eslint-plugin-import-x");

/** An import of `folder` from anywhere: a relative path through it, as `../folder/x` or `./folder`. */
const through = (folder) => [`**/${folder}`, `**/${folder}/**`, `${folder}/**`];

/** The rules that keep imports of `folder` out, static and dynamic (`import()`, `require()`). */
function forbid(folder, message) {
    const pattern = `/(^|\\/)${folder}(\\/|$)/`;
    return {
        "@typescript-eslint/no-restricted-imports": ["error", { patterns: [{ group: through(folder), message }] }],
        "no-restricted-syntax": [
            "error",
            { selector: `ImportExpression[source.value=${pattern}]`, message },
            { selector: `CallExpression[callee.name='require'][arguments.0.value=${pattern}]`, message },
        ],
    };
}

module.exports = tseslint.config(
    { ignores: ["node_modules/", "reports/", ".stryker-tmp/", "bin/", "coverage/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        languageOptions: { globals: { ...globals.node } },
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            // A server's handler reads the fake it serves before the fake, which needs the listening
            // server, is assigned: that variable cannot be const.
            "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
        },
    },
    { files: ["**/*.js"], rules: { "@typescript-eslint/no-require-imports": "off" } },
    { files: ["tests/**"], languageOptions: { globals: { ...globals.jest } } },
    {
        files: ["**/*.{ts,js}"],
        ignores: ["tests/**"],
        rules: forbid("tests", "Only tests import tests/: move what is shared into tools/."),
    },
    {
        files: ["tests/**/*.{ts,js}"],
        rules: forbid("scripts", "Tests import tools/, not the entry points in scripts/."),
    },
    // Config depends on no component: the components read config, never the other way round.
    {
        files: ["config.ts", "config/**/*.ts", "azureCatalog.ts", "identityModes.ts"],
        rules: forbid("components", "Config imports nothing of components/: what both need belongs in a leaf module such as identityModes.ts."),
    },
    // The policy pack is what `pulumi preview --policy-pack policy` loads: it stands on its own.
    {
        files: ["policy/**/*.{ts,js}"],
        rules: forbid("tools", "The policy pack imports nothing of tools/: running it over offline plans is tools/policyOffline.ts."),
    },
    // No import circles anywhere: a module is read after everything it imports.
    {
        files: ["**/*.{ts,js}"],
        plugins: { "import-x": importX },
        settings: {
            "import-x/resolver-next": [importX.createNodeResolver({ extensions: [".ts", ".js", ".json"] })],
            "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
            "import-x/extensions": [".ts", ".js"],
        },
        rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
    },
    prettier,
);
