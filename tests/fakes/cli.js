// A stand-in for the `pulumi`, `az`, `kubelogin` and `kubectl` executables: it records each call and
// answers as its scenario says. The tests put a wrapper per tool on the PATH that runs this file with
// the tool's name first. FAKE_CLI_LOG is the file each call is appended to (one line: the tool and its
// arguments); FAKE_CLI_SCENARIO a JSON file of rules, the first whose tool matches and whose `args` are
// a prefix of the call's (and which has the argument `includes`, if given) answering:
// { "rules": [{ "tool", "args", "includes", "code", "stdout", "stderr" }] }.
// A call no rule matches exits 0 and prints nothing.
"use strict";
const fs = require("fs");

const [tool, ...args] = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_CLI_LOG, `${[tool, ...args].join(" ")}\n`);
const { rules } = JSON.parse(fs.readFileSync(process.env.FAKE_CLI_SCENARIO, "utf8"));
const rule = rules.find((r) => r.tool === tool && r.args.every((a, i) => args[i] === a) && (r.includes === undefined || args.includes(r.includes)));
process.stdout.write(rule?.stdout ?? "");
process.stderr.write(rule?.stderr ?? "");
process.exitCode = rule?.code ?? 0;
