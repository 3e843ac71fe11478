// `npm run generate`: writes what is generated from the config schema (tools/configReference.ts).
import { runCommand } from "../tools/cli";
import { main } from "../tools/configReference";

runCommand(() => main(process.argv.slice(2)));
