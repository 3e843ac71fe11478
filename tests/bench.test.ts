import { PROGRAM_LIBRARIES, goalLines, median, workloadsConfig } from "../tools/bench";

test("median of odd and even counts", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
});

test("workloads config of n distinct workloads", () => {
    const value = JSON.parse(workloadsConfig(3).replace(/^workloads=/, "")) as Array<{ name: string; namespace: string }>;
    expect(value).toEqual([
        { name: "team00", namespace: "team00" },
        { name: "team01", namespace: "team01" },
        { name: "team02", namespace: "team02" },
    ]);
});

test("the floor loads every library the program imports from node_modules", async () => {
    const fs = await import("fs");
    const path = await import("path");
    const root = path.join(__dirname, "..");
    const components = fs.readdirSync(path.join(root, "components"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    const sources = ["index.ts", "config.ts", ...components.map((f) => path.join("components", f))];
    const imported = new Set(sources.flatMap((file) => [...fs.readFileSync(path.join(root, file), "utf8").matchAll(/^import (?!type )[^;]*? from "([^".][^"]*)";$/gm)].map((m) => m[1])));
    const { builtinModules } = await import("module");
    const builtins = new Set(builtinModules);
    expect([...imported].filter((lib) => !builtins.has(lib) && !PROGRAM_LIBRARIES.includes(lib)).sort()).toEqual([]);
});

test("the goals say whether each is met, and by how much one is missed", () => {
    expect(goalLines({ floor: 1000, one: 2000, fifty: 6000, test: 15000 })).toEqual([
        "goal: one workload's plan against the floor within 2x: 2.00x, met",
        "goal: 50 workloads' plan against one's within 2.5x: 3.00x, NOT met (20 % over)",
        "goal: npm test's wall time within 20 s: 15.00 s, met",
    ]);
    expect(goalLines({ floor: 1000, one: 2100, fifty: 2100, test: 25000 })[2]).toBe("goal: npm test's wall time within 20 s: 25.00 s, NOT met (25 % over)");
});
