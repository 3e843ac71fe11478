// `npm run graph`: the deploy graph, its critical path and the modelled deploy time (tools/graph/graph.ts).
import { runCommand } from "../tools/cli";
import { main } from "../tools/graph/graph";

runCommand(() => main(process.argv.slice(2)));
