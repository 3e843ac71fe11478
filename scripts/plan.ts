// `npm run plan`: what `pulumi preview` would register, offline (tools/plan/command.ts).
import { runCommand } from "../tools/cli";
import { main } from "../tools/plan/command";

runCommand(() => main(process.argv.slice(2)));
