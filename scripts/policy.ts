// `npm run policy [-- --stack NAME --config-file FILE -c key=value]`: the policy pack against the plans of every mode combination (tools/policyCheck.ts).
import { runCommand } from "../tools/cli";
import { main } from "../tools/policyCheck";

runCommand(() => main(process.argv.slice(2)));
