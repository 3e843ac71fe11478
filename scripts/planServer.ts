// A plan server process (tools/plan/server.ts), started by startPlanServers with its socket's path.
import { serve } from "../tools/plan/server";

serve(process.argv[2]);
