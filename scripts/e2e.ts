// `npm run e2e -- --mode <identityMode>`: deploy a throwaway stack, read its verdicts, prove a second
// run changes nothing, tear it down (tools/e2e.ts).
import { runCommand } from "../tools/cli";
import { main } from "../tools/e2e";

runCommand(() => main(process.argv.slice(2)));
