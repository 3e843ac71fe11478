// The README against the project: what it tells people to run exists.
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

test("every npm script the README tells people to run exists", () => {
    const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
    const mentioned = [...readme.matchAll(/npm run (?:-s )?([a-z][a-z:-]*[a-z])/g)].map((m) => m[1]);
    expect(mentioned.length).toBeGreaterThan(0);
    expect([...new Set(mentioned)].filter((s) => !scripts.includes(s))).toEqual([]);
});
