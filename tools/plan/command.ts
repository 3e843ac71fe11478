// `npm run plan`: what `pulumi preview` would register, offline. It runs the real index.ts under the
// shared mocks and prints a tree for reviewers, or with --json one document in the shape of
// `pulumi preview --json`. Flags follow the Pulumi CLI: --stack, --config-file, -c key=value.
import { createHash } from "crypto";
import { recordedRun, secondRun } from "./secondRun";
import type { RecordedRun, SecondRun } from "./secondRun";
import { configKey, loadStackConfig } from "./stackConfig";
import type { Plan, Step } from "./types";
import { urnName } from "./urn";

interface Args {
    json: boolean;
    stack: string;
    configFile?: string;
    overrides: string[];
    /** Model `pulumi up`, `pulumi refresh`, then print what the next `pulumi preview` would change. */
    afterRefresh: boolean;
    /** Config the next run sets on top of the first's (`--then key=value`). */
    then: string[];
}

const USAGE = `usage: npm run plan -- [--json] [--stack NAME] [--config-file FILE] [-c key=value ...]
  --json              print one JSON document in the shape of \`pulumi preview --json\`
  --stack NAME        stack whose Pulumi.NAME.yaml is read (default: dev)
  --config-file FILE  read stack config from FILE instead
  -c, --config k=v    set a config value; a key without a namespace is the project's;
                      lists and objects as JSON (repeatable)
  --after-refresh     model \`pulumi up\` of this config, then \`pulumi refresh\`, and print what
                      the next \`pulumi preview\` would change (every resource \`same\` when nothing)
  --then k=v          with --after-refresh: a config value the next run changes (repeatable)`;

/** A command line the plan cannot take. */
export class UsageError extends Error {}

/** Errors that describe bad input rather than a defect: the program's ConfigError and the plan's own. */
const USER_ERRORS = new Set(["ConfigError", "StackConfigError"]);

/** Parses the command line. Exported for testing. */
export function parseArgs(argv: string[]): Args {
    const args: Args = { json: false, stack: "dev", overrides: [], afterRefresh: false, then: [] };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = (): string => {
            const next = argv[++i];
            if (next === undefined) {
                throw new UsageError(`${arg} needs a value`);
            }
            return next;
        };
        if (arg === "--json") {
            args.json = true;
        } else if (arg === "--stack" || arg === "-s") {
            args.stack = value();
        } else if (arg.startsWith("--stack=")) {
            args.stack = arg.slice("--stack=".length);
        } else if (arg === "--config-file") {
            args.configFile = value();
        } else if (arg.startsWith("--config-file=")) {
            args.configFile = arg.slice("--config-file=".length);
        } else if (arg === "-c" || arg === "--config") {
            args.overrides.push(value());
        } else if (arg.startsWith("--config=")) {
            args.overrides.push(arg.slice("--config=".length));
        } else if (arg === "--after-refresh") {
            args.afterRefresh = true;
        } else if (arg === "--then") {
            args.then.push(value());
        } else {
            throw new UsageError(`unknown argument ${arg}`);
        }
    }
    if (args.then.length > 0 && !args.afterRefresh) {
        throw new UsageError("--then needs --after-refresh");
    }
    return args;
}

/** Renders the run after a refresh: one line per resource that would change, then the counts. Exported for testing. */
export function renderSecondRun(run: SecondRun, stack: string): string {
    const lines = [`The next pulumi preview of stack ${stack} after pulumi up and pulumi refresh, computed offline under mocks.`, ""];
    for (const step of run.steps.filter((s) => s.op !== "same")) {
        lines.push(`${SYMBOLS[step.op]} ${step.type}  ${urnName(step.urn)}${step.diffs.length > 0 ? `  [diff: ${step.diffs.join(", ")}]` : ""}`);
    }
    const counts = (Object.keys(run.changeSummary) as (keyof SecondRun["changeSummary"])[]).map((op) => `${run.changeSummary[op]} ${op}`);
    const warnings = run.diagnostics.filter((d) => d.severity === "warning" || d.severity === "error");
    if (warnings.length > 0) {
        lines.push(...(lines.length > 2 ? [""] : []), "Diagnostics:", ...warnings.map((d) => `    ${d.severity}: ${d.message}`));
    }
    lines.push(`${lines.length > 2 ? "\n" : ""}Resources: ${counts.join(", ")}`);
    return lines.join("\n");
}

const SYMBOLS: Readonly<Record<SecondRun["steps"][number]["op"], string>> = { same: " ", update: "~", create: "+", delete: "-" };

function flatten(value: unknown, prefix: string, out: string[]): void {
    if (Array.isArray(value)) {
        if (value.length === 0) {
            out.push(`${prefix}: []`);
        }
        value.forEach((item, index) => flatten(item, `${prefix}[${index}]`, out));
    } else if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 0) {
            out.push(`${prefix}: {}`);
        }
        for (const [key, item] of entries) {
            flatten(item, prefix === "" ? key : `${prefix}.${key}`, out);
        }
    } else if (typeof value === "string" && value.includes("\n")) {
        out.push(...multiline(prefix, value));
    } else {
        out.push(`${prefix}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
    }
}

/** Most embedded documents are short enough to read in place; a long one is named by its digest. */
const MAX_INLINE_LINES = 24;

function multiline(prefix: string, value: string): string[] {
    const lines = value.replace(/\n$/, "").split("\n");
    if (lines.length > MAX_INLINE_LINES) {
        return [`${prefix}: [${lines.length} lines, sha256 ${createHash("sha256").update(value).digest("hex").slice(0, 16)}]`];
    }
    return [`${prefix}: |`, ...lines.map((line) => `    ${line}`)];
}

/** Renders the plan as an indented tree of resources with their inputs. Exported for testing. */
export function renderTree(plan: Plan, stack: string): string {
    const lines: string[] = [];
    const resources = plan.steps.filter((s) => !s.newState.type.startsWith("pulumi:providers:"));
    const providers = plan.steps.filter((s) => s.newState.type.startsWith("pulumi:providers:"));
    lines.push(`Plan for stack ${stack}, computed offline under mocks (ids and other Azure-computed values are simulated).`);
    const describe = (p: Step) =>
        [p.newState.type.slice("pulumi:providers:".length), urnName(p.urn), typeof p.newState.inputs.version === "string" ? p.newState.inputs.version : ""].filter(Boolean).join(" ");
    lines.push(`Providers: ${providers.map(describe).join(", ")}`);
    lines.push("");
    const children = new Map<string, Step[]>();
    for (const step of resources) {
        const list = children.get(step.newState.parent) ?? [];
        list.push(step);
        children.set(step.newState.parent, list);
    }
    const visit = (step: Step, depth: number): void => {
        const pad = "    ".repeat(depth);
        const flags = [step.newState.protect ? "protect" : "", step.newState.retainOnDelete ? "retainOnDelete" : ""].filter(Boolean);
        lines.push(`${pad}+ ${step.newState.type}  ${urnName(step.urn)}${flags.length ? `  [${flags.join(", ")}]` : ""}`);
        if (step.newState.custom) {
            const settings: string[] = [];
            const { tags, ...inputs } = step.newState.inputs;
            void tags;
            flatten(inputs, "", settings);
            for (const setting of settings) {
                lines.push(`${pad}      ${setting}`);
            }
        }
        for (const child of children.get(step.urn) ?? []) {
            visit(child, depth + 1);
        }
    };
    for (const root of children.get("") ?? []) {
        visit(root, 0);
    }
    lines.push("");
    lines.push("Outputs:");
    const outputs: string[] = [];
    flatten(plan.outputs, "", outputs);
    lines.push(...outputs.map((o) => `    ${o}`));
    if (plan.diagnostics.length > 0) {
        lines.push("");
        lines.push("Diagnostics:");
        lines.push(...plan.diagnostics.map((d) => `    ${d.severity}: ${d.message}`));
    }
    lines.push("");
    lines.push(`Resources: + ${plan.changeSummary.create} to create (tags are set on every taggable resource; see --json)`);
    return lines.join("\n");
}

/** Where the plan writes; the process's streams unless a test captures them. */
export interface Io {
    stdout: { write(text: string): unknown };
    stderr: { write(text: string): unknown };
}

/**
 * First runs already computed, by stack and config (configKey): a plan server keeps them for the commands after,
 * whose plans and second runs of the same config start from them. A run is never changed once
 * recorded (secondRun and the printing only read it).
 */
export type FirstRuns = Map<string, Promise<RecordedRun>>;

/** Runs the plan command and returns its exit code. Exported for testing. */
export async function main(argv: string[], io: Io = process, firstRuns: FirstRuns = new Map()): Promise<number> {
    let args: Args;
    try {
        args = parseArgs(argv);
    } catch (err) {
        if (err instanceof UsageError) {
            io.stderr.write(`${err.message}\n${USAGE}\n`);
            return 2;
        }
        throw err;
    }
    try {
        const config = loadStackConfig({ stack: args.stack, configFile: args.configFile, overrides: args.overrides });
        const key = configKey(args.stack, config);
        let first = firstRuns.get(key);
        if (first === undefined) {
            first = recordedRun({ stack: args.stack, config });
            firstRuns.set(key, first);
            // A run that failed (bad config) is computed again, so that each command reports its own error.
            first.catch(() => firstRuns.delete(key));
        }
        if (args.afterRefresh) {
            const next = loadStackConfig({ stack: args.stack, configFile: args.configFile, overrides: [...args.overrides, ...args.then] });
            const run = await secondRun(await first, { stack: args.stack, config: next });
            io.stdout.write(args.json ? `${JSON.stringify(run, null, 2)}\n` : `${renderSecondRun(run, args.stack)}\n`);
            return 0;
        }
        const { plan } = await first;
        io.stdout.write(args.json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderTree(plan, args.stack)}\n`);
        return 0;
    } catch (err) {
        // Bad input is the user's to fix: one line, no stack trace, as `pulumi up` shows a RunError.
        if (err instanceof Error && USER_ERRORS.has(err.name)) {
            io.stderr.write(`error: ${err.message.split("\n")[0]}\n`);
            return 1;
        }
        throw err;
    }
}
