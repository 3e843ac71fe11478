import * as fs from "fs";

export default function globalTeardown(): void {
    const dir = process.env.AIV_PLAN_CACHE;
    if (dir !== undefined && dir.includes("aiv-plans-")) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
