// `npm run mutate`: Stryker over the program, the policy pack and the verifier, in chunks; their records and the score (tools/mutate.ts).
import { runCommand } from "../tools/cli";
import { main } from "../tools/mutate";

runCommand(() => main(process.argv.slice(2)));
