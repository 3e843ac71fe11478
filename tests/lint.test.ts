// The import boundaries of eslint.config.js: nothing outside tests/ imports tests/ (statically, with
// import() or with require()), tests do not import the entry points in scripts/, config imports no
// component, the policy pack imports nothing of tools/, and no import circle closes.
import * as path from "path";
import { ESLint } from "eslint";

const ROOT = path.join(__dirname, "..");
// The project's config, handed over directly: ESLint would load the file with import(), which jest's
// module sandbox does not provide.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- eslint.config.js is CommonJS
const config = require("../eslint.config.js") as ESLint.Options["overrideConfig"];
const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: config });

/** The rules a snippet breaks, as if it were the file at `file` (relative to the project). */
async function broken(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
    return result.messages.map((m) => `${m.ruleId ?? "fatal"}: ${m.message}`);
}

test.each([
    ["tools/plan/x.ts", 'import { planFor } from "../../tests/support";\nvoid planFor;\n'],
    ["components/x.ts", 'export const load = () => import("../tests/support");\n'],
    ["index.ts", 'import type { Plan } from "./tests/support";\nexport type P = Plan;\n'],
    ["scripts/x.js", 'require("../tests/fakes/arm");\n'],
])("%s may not import tests/", async (file, code) => {
    expect(await broken(file, code)).toEqual([expect.stringMatching(/^(@typescript-eslint\/no-restricted-imports|no-restricted-syntax): .*Only tests import tests\//)]);
});

test.each([
    ["tests/x.test.ts", 'import { main } from "../scripts/plan";\nvoid main;\n'],
    ["tests/unit/x.test.ts", 'export const load = () => import("../../scripts/graph");\n'],
])("%s may not import scripts/", async (file, code) => {
    expect(await broken(file, code)).toEqual([expect.stringMatching(/^(@typescript-eslint\/no-restricted-imports|no-restricted-syntax): .*Tests import tools\/, not the entry points in scripts\//)]);
});

test.each([
    ["config/x.ts", 'import { Network } from "../components/network";\nvoid Network;\n'],
    ["identityModes.ts", 'export const load = () => import("./components/modes");\n'],
])("%s, config, may not import components/", async (file, code) => {
    // (identityModes.ts importing the mode drivers, which import it, also closes a circle.)
    expect(await broken(file, code)).toContainEqual(expect.stringMatching(/^(@typescript-eslint\/no-restricted-imports|no-restricted-syntax): .*Config imports nothing of components\//));
});

test("the policy pack may not import tools/", async () => {
    expect(await broken("policy/lib/x.ts", 'import { evaluatePlan } from "../../tools/policyOffline";\nvoid evaluatePlan;\n')).toEqual([
        expect.stringMatching(/^@typescript-eslint\/no-restricted-imports: .*The policy pack imports nothing of tools\//),
    ]);
});

test("an import that closes a circle is refused", async () => {
    // config.ts imports config/errors.ts; config/errors.ts importing config.ts back closes the circle.
    expect(await broken("config/errors.ts", 'import { CONFIG_KEYS } from "../config";\nexport const count = CONFIG_KEYS.length;\n')).toEqual([expect.stringMatching(/^import-x\/no-cycle: /)]);
});

test("the imports the house has are allowed", async () => {
    expect(await broken("tests/x.test.ts", 'import { main } from "../tools/plan/command";\nvoid main;\n')).toEqual([]);
    expect(await broken("scripts/x.ts", 'import { main } from "../tools/plan/command";\nvoid main;\n')).toEqual([]);
    expect(await broken("tools/plan/x.ts", 'import { AzureMocks } from "./mocks";\nvoid AzureMocks;\n')).toEqual([]);
});
