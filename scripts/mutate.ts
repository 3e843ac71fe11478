// `npm run mutate`: Stryker over components/ and config.ts, in chunks, and the score (tools/mutate.ts).
import { runCommand } from "../tools/cli";
import { main } from "../tools/mutate";

runCommand(() => main(process.argv.slice(2)));
