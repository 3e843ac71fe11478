// `npm run migrate-state`: readies an add-on-mode stack's exported state for the one PodIdentities
// resource (tools/stateMigration.ts).
import { runCommand } from "../tools/cli";
import { main } from "../tools/stateMigration";

runCommand(() => main(process.argv.slice(2)));
