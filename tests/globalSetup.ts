// One plan cache per jest run: test files that need the plan of the same configuration share it.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export default function globalSetup(): void {
    process.env.AIV_PLAN_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-plans-"));
}
