// A fake kubeconfig exec credential plugin, run as client-go and kubelogin's callers run one: it
// prints an ExecCredential of the version KUBERNETES_EXEC_INFO asks for, with the token in
// FAKE_EXEC_TOKEN. FAKE_EXEC_FAIL makes it fail as a logged-out `kubelogin --login azurecli` does;
// FAKE_EXEC_LOG appends one line per run (the exec info it was given) to that file.
"use strict";
const fs = require("fs");

const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO || "{}");
if (process.env.FAKE_EXEC_LOG) {
    fs.appendFileSync(process.env.FAKE_EXEC_LOG, `${JSON.stringify({ info, args: process.argv.slice(2) })}\n`);
}
if (process.env.FAKE_EXEC_FAIL) {
    process.stderr.write("fetching token\nERROR: Please run 'az login' to setup account.\n");
    process.exit(1);
}
const expiry = process.env.FAKE_EXEC_EXPIRY || new Date(Date.now() + 3600 * 1000).toISOString();
process.stdout.write(
    JSON.stringify({ kind: "ExecCredential", apiVersion: info.apiVersion, spec: { interactive: false }, status: { token: process.env.FAKE_EXEC_TOKEN || "", expirationTimestamp: expiry } }),
);
