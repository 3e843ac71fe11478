// Stand-ins for the `pulumi`, `az`, `kubelogin` and `kubectl` executables: a POSIX shell script per
// tool that records each call and answers as its rules say. A call is appended to the log as one
// line, the tool and its arguments; the first rule for the tool whose `args` are a prefix of the
// call's (and, if `includes` is given, whose call has that argument too) prints its stdout and stderr
// and exits with its code; a call no rule matches exits 0 and prints nothing. Shell, not Node, so a
// test that makes dozens of calls does not start dozens of Node processes. `fakeExec` answers by the
// same rules from the test's own process, for the tests of what the run does rather than of how it
// starts tools (tests/e2e.test.ts holds the two to the same answers).
import * as fs from "fs";
import * as path from "path";
import type { Exec } from "../../tools/e2e";

/** One answer of a fake tool. */
export interface Rule {
    tool: string;
    /** A prefix of the call's arguments. */
    args: string[];
    /** An argument the call must also have. */
    includes?: string;
    code?: number;
    stdout?: string;
    stderr?: string;
}

/** The tools the fakes stand in for, unless a test leaves one out. */
export const FAKE_TOOLS: readonly string[] = ["pulumi", "az", "kubelogin", "kubectl"];

/** `text` as a double-quoted shell word, which a `case` pattern matches literally. */
function quoted(text: string): string {
    return `"${text.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
}

/**
 * Writes the fake tools into `bin` and their answers beside them; each call is logged to `log`.
 * Returns the tools' names.
 */
export function writeFakeTools(bin: string, log: string, rules: readonly Rule[], tools: readonly string[] = FAKE_TOOLS): string[] {
    fs.mkdirSync(bin, { recursive: true });
    const answers = path.join(bin, "answers");
    fs.mkdirSync(answers, { recursive: true });
    for (const tool of tools) {
        const lines = ["#!/bin/sh", `printf '%s\\n' "${tool} $*" >> '${log}'`];
        rules.forEach((rule, i) => {
            if (rule.tool !== tool) {
                return;
            }
            const out = path.join(answers, `${i}.out`);
            const err = path.join(answers, `${i}.err`);
            fs.writeFileSync(out, rule.stdout ?? "");
            fs.writeFileSync(err, rule.stderr ?? "");
            const prefix = rule.args.length === 0 ? "*" : `${quoted(rule.args.join(" "))}*`;
            const includes = rule.includes === undefined ? "*" : `*${quoted(` ${rule.includes} `)}*`;
            lines.push(`case "$*" in ${prefix}) case " $* " in ${includes}) cat '${out}'; cat '${err}' >&2; exit ${rule.code ?? 0};; esac;; esac`);
        });
        lines.push("exit 0", "");
        const file = path.join(bin, tool);
        fs.writeFileSync(file, lines.join("\n"));
        fs.chmodSync(file, 0o755);
    }
    return [...tools];
}

/**
 * The fake tools' answers without their processes: each call is appended to `calls` as the scripts
 * log it, and answered by the first rule whose `args` prefix the call's (and whose `includes` it
 * has), as the scripts' `case` patterns match; a tool left out is not found, as processExec reports
 * a tool missing from the PATH.
 */
export function fakeExec(rules: readonly Rule[], calls: string[], tools: readonly string[] = FAKE_TOOLS): Exec {
    return (tool, args) => {
        if (!tools.includes(tool)) {
            return Promise.resolve({ code: 127, stdout: "", stderr: `spawn ${tool} ENOENT\n` });
        }
        const call = args.join(" ");
        calls.push(`${tool} ${call}`);
        const rule = rules.find((r) => r.tool === tool && call.startsWith(r.args.join(" ")) && (r.includes === undefined || ` ${call} `.includes(` ${r.includes} `)));
        return Promise.resolve({ code: rule?.code ?? 0, stdout: rule?.stdout ?? "", stderr: rule?.stderr ?? "" });
    };
}
