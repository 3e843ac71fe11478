// `npm run policy`: checks the policy pack in policy/ offline against the plans of every identity
// mode and Key Vault authorization mode (six plans, computed two at a time), prints one line per
// violation and a summary, and exits 1 when any mandatory policy is violated.
import { PlanDocument, PLAN_CONFIGURATIONS, evaluatePlan, formatViolation, mapWithConcurrency, summaryLine } from "../policy/offline";
import { policies } from "../policy/policies";
import { planJson } from "../tests/support";
import { runCommand } from "./cli";

/** Plans computed at once: each runs the whole program in its own process. */
const PLAN_CONCURRENCY = 2;

/** Computes one configuration's plan of the dev stack, or throws with the plan command's error. */
async function planOf(overrides: string[]): Promise<PlanDocument> {
    return JSON.parse(await planJson("dev", overrides)) as PlanDocument;
}

async function main(): Promise<number> {
    const evaluations = await mapWithConcurrency(PLAN_CONFIGURATIONS, PLAN_CONCURRENCY, async (configuration) =>
        evaluatePlan(policies, await planOf(configuration.overrides), { label: configuration.label }),
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

runCommand(main);
