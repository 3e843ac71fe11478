// `npm run policy`: checks the policy pack in policy/ offline against the plans of every identity
// mode and Key Vault authorization mode (six plans, computed on two plan servers), prints one line
// per violation and a summary, and exits 1 when any mandatory policy is violated.
import * as path from "path";
import { PlanDocument, PLAN_CONFIGURATIONS, evaluatePlan, formatViolation, summaryLine } from "../policy/offline";
import { policies } from "../policy/policies";
import { PLAN_SERVERS, planJson } from "./plan/client";
import { startPlanServers } from "./plan/server";

/** Plan servers: each computes its plans one after another, sharing one load of the libraries. */
const SERVERS = 2;

/** Computes one configuration's plan of the dev stack, or throws with the plan command's error. */
async function planOf(overrides: string[]): Promise<PlanDocument> {
    return JSON.parse(await planJson("dev", overrides)) as PlanDocument;
}

/** Checks the pack against the six plans, prints the violations and the summary; returns the exit code. */
export async function main(): Promise<number> {
    const servers = await startPlanServers(SERVERS);
    process.env[PLAN_SERVERS] = servers.sockets.join(path.delimiter);
    const evaluations = await Promise.all(PLAN_CONFIGURATIONS.map(async (configuration) => evaluatePlan(policies, await planOf(configuration.overrides), { label: configuration.label }))).finally(
        servers.stop,
    );
    let checked = 0;
    let mandatory = 0;
    for (const evaluation of evaluations) {
        checked += evaluation.resourceValidations;
        for (const violation of evaluation.violations) {
            mandatory += violation.enforcementLevel === "mandatory" ? 1 : 0;
            console.log(formatViolation(violation));
        }
    }
    console.log(summaryLine(policies.length, checked, mandatory));
    return mandatory > 0 ? 1 : 0;
}
