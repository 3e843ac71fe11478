// `npm run bench`: how long the offline plan takes against the floor of loading its libraries (tools/bench.ts).
import { main } from "../tools/bench";

main();
