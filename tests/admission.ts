// A ValidatingAdmissionPolicy evaluated as the API server evaluates one: each variable in order
// (later ones read earlier ones through `variables`), then every validation; a request is admitted
// only when all of them are true. The CEL implementation is @bufbuild/cel with the strings extension
// the API server also offers (`lowerAscii`).
import { run } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Cel = string | bigint | boolean | null | Cel[] | Map<string, Cel> | number;

/** The parts of a ValidatingAdmissionPolicy's spec that decide. */
export interface PolicySpec {
    variables?: Array<{ name: string; expression: string }>;
    validations: Array<{ expression: string; messageExpression?: string; message?: string }>;
}

/** JSON as CEL sees admission objects: objects are maps, whole numbers are ints. */
export function toCel(value: Json): Cel {
    if (Array.isArray(value)) {
        return value.map(toCel);
    }
    if (typeof value === "number" && Number.isInteger(value)) {
        return BigInt(value);
    }
    if (value !== null && typeof value === "object") {
        return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
    }
    return value;
}

/** The admission decision and the messages of the validations that failed. */
export function admit(spec: PolicySpec, input: { object: Json; request: Json }): { allowed: boolean; messages: string[] } {
    const object = toCel(input.object);
    const request = toCel(input.request);
    const variables = new Map<string, Cel>();
    for (const v of spec.variables ?? []) {
        const value = run(v.expression, { object, request, variables }, { funcs: strings });
        if (value instanceof Error) {
            throw value;
        }
        variables.set(v.name, value as Cel);
    }
    const messages: string[] = [];
    for (const validation of spec.validations) {
        const bindings = { object, request, variables };
        const verdict = run(validation.expression, bindings, { funcs: strings });
        if (typeof verdict !== "boolean") {
            throw new Error(`validation did not evaluate to a bool: ${String(verdict)}`);
        }
        if (!verdict) {
            messages.push(validation.messageExpression === undefined ? (validation.message ?? "") : String(run(validation.messageExpression, bindings, { funcs: strings })));
        }
    }
    return { allowed: messages.length === 0, messages };
}
