// Every Kubernetes object the program declares, validated against the schema of its kind: built-in
// kinds through the kubernetes-models class of their apiVersion and kind (the OpenAPI schemas of
// Kubernetes), custom resources through ajv with the CRD schemas in crdSchemas.ts. The plans cover
// every identity mode, a service-principal workload and both Key Vault authorization models, so that
// between them they declare every kind of object the program has; each object is one test. A kind with no schema fails its test, so
// a new kind cannot pass unvalidated; the only steps not validated are listed in SKIPPED, with why.
//
// Neither kind of schema rejects unknown fields (the Kubernetes OpenAPI schemas do not close objects,
// and the API server prunes what a CRD does not declare; see crdSchemas.ts): a failure here is an
// object the API server would refuse, or, for the fields the driver needs, a SecretProviderClass it
// would accept and the driver then refuse.
import { execFileSync } from "child_process";
import * as path from "path";
import Ajv from "ajv";
import type { ValidateFunction } from "ajv";
import { CRD_SCHEMAS } from "./crdSchemas";
import type { Plan, Step } from "../tools/plan/types";

/** How the plan prints a secret value. */
const SECRET = "[secret]";
const LEGACY = 'workloads=[{"name":"alpha","namespace":"alpha"},{"name":"legacy","namespace":"legacy","identityType":"servicePrincipal"}]';

/**
 * The plans validated, by label: one per identity mode, which decides the Kubernetes objects;
 * together they declare every kind of object the program has. The Key Vault's authorization mode
 * changes no Kubernetes object, so a plan per authorization mode would validate the same objects again.
 */
const CONFIGURATIONS: Record<string, string[]> = {
    default: [],
    "identityMode=podIdentityOss with a service-principal workload": ["identityMode=podIdentityOss", LEGACY],
    "identityMode=workloadIdentity": ["identityMode=workloadIdentity"],
};

/** Steps of the Kubernetes provider's package that are not Kubernetes objects, and why they are not validated. */
const SKIPPED: Record<string, string> = {
    "kubernetes:helm.sh/v3:Release": "a Helm release is an instruction to Helm (chart, version, values), not a Kubernetes object; Helm renders the objects",
    "pulumi:providers:kubernetes": "the Kubernetes provider is Pulumi's connection to the cluster, not a Kubernetes object",
};

/**
 * Fields the program marks secret, by apiVersion/kind, each with a placeholder of the field's shape.
 * The plan prints a secret as the string "[secret]" whatever its real shape (a Secret's whole
 * `stringData` map, keys included, becomes one string), so validating "[secret]" as it stands would
 * either fail for the wrong reason (a string where the schema wants a map) or pass for the wrong one
 * (a string field accepting the placeholder whatever the real value is). Instead each secret field is
 * declared here with its shape: the object is validated with the placeholder in its place, which
 * checks everything around the secret and that a value of that shape belongs there, and a separate
 * test checks that each declared field of an object is indeed "[secret]" in the plan, never a
 * plaintext value. A "[secret]" in a field not declared here fails validation: its shape is unknown.
 */
const SECRET_FIELDS: Record<string, Record<string, unknown>> = {
    "v1/Secret": {
        stringData: { redacted: SECRET },
        data: { redacted: Buffer.from(SECRET).toString("base64") },
    },
};

const ROOT = path.join(__dirname, "..");

/**
 * The plans of CONFIGURATIONS, read while jest collects tests so that each object can be a test of
 * its own. Jest collects synchronously, so the plans come from a child process that calls `planFor`
 * of support.ts: the same plan servers as every other test file.
 */
function loadPlans(configurations: Record<string, string[]>): Record<string, Plan> {
    const labels = Object.keys(configurations);
    const script = [
        'const { planFor } = require("./tests/support");',
        "const overrides = JSON.parse(process.argv[1]);",
        "Promise.all(overrides.map((o) => planFor(o))).then(",
        "    (plans) => process.stdout.write(JSON.stringify(plans)),",
        "    (err) => { process.stderr.write(String(err)); process.exit(1); });",
    ].join("\n");
    const stdout = execFileSync(process.execPath, ["-r", "./tools/register.js", "-e", script, JSON.stringify(labels.map((l) => configurations[l]))], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 1024 * 1024 * 1024,
    });
    const plans = JSON.parse(stdout) as Plan[];
    return Object.fromEntries(labels.map((label, i) => [label, plans[i]]));
}

/** The steps this file is about: everything of the Kubernetes provider's package, and the provider. */
function kubernetesSteps(plan: Plan): Step[] {
    return plan.steps.filter((s) => s.newState.type.startsWith("kubernetes:") || s.newState.type === "pulumi:providers:kubernetes");
}

/** The apiVersion a type token names: `kubernetes:core/v1:Pod` is `v1`, `kubernetes:batch/v1:Job` is `batch/v1`. */
function apiVersionOfType(type: string): { apiVersion: string; kind: string } | undefined {
    const match = /^kubernetes:([^:/]+)\/([^:/]+):([^:]+)$/.exec(type);
    if (match === null) {
        return undefined;
    }
    const [, group, version, kind] = match;
    return { apiVersion: group === "core" ? version : `${group}/${version}`, kind };
}

/** A kubernetes-models class: constructed from an object, `validate()` throws on a schema violation. */
interface ModelClass {
    new (data: Record<string, unknown>): { validate(): void };
    apiVersion: string;
    kind: string;
}

function isModelClass(value: unknown, apiVersion: string, kind: string): value is ModelClass {
    if (typeof value !== "function") {
        return false;
    }
    const statics = value as unknown as Record<string, unknown>;
    const prototype = statics.prototype as Record<string, unknown> | undefined;
    return statics.apiVersion === apiVersion && statics.kind === kind && typeof prototype?.validate === "function";
}

/** The kubernetes-models class of a built-in apiVersion/kind, or undefined when the package has none. */
function builtInModel(apiVersion: string, kind: string): ModelClass | undefined {
    if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
        return undefined;
    }
    let loaded: unknown;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the kind's module is chosen at run time
        loaded = require(`kubernetes-models/${apiVersion}/${kind}`);
    } catch {
        return undefined;
    }
    const exported = (loaded as Record<string, unknown>)[kind];
    return isModelClass(exported, apiVersion, kind) ? exported : undefined;
}

const ajv = new Ajv({ allErrors: true, strict: true });
/** The compiled CRD schemas, by apiVersion/kind. */
const CUSTOM: ReadonlyMap<string, ValidateFunction> = new Map(CRD_SCHEMAS.map((crd) => [`${crd.apiVersion}/${crd.kind}`, ajv.compile(crd.schema)]));

/** Schema violations of an object, by whichever schema its apiVersion/kind has; none means valid. */
function schemaViolations(object: Record<string, unknown>): string[] {
    const { apiVersion, kind } = object;
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
        return [`apiVersion and kind must be strings, got ${JSON.stringify(apiVersion)} and ${JSON.stringify(kind)}`];
    }
    const custom = CUSTOM.get(`${apiVersion}/${kind}`);
    if (custom !== undefined) {
        return custom(object) ? [] : [ajv.errorsText(custom.errors, { separator: "; " })];
    }
    const Model = builtInModel(apiVersion, kind);
    if (Model === undefined) {
        return [`no schema for ${apiVersion}/${kind}: add its CRD schema to crdSchemas.ts (or, if it is not a Kubernetes object, its type to SKIPPED with the reason)`];
    }
    try {
        new Model(object).validate();
        return [];
    } catch (err) {
        return [err instanceof Error ? err.message : String(err)];
    }
}

/** The paths (dotted) of every "[secret]" value in a value. */
function secretPaths(value: unknown, at = ""): string[] {
    if (value === SECRET) {
        return [at];
    }
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([key, inner]) => secretPaths(inner, at === "" ? key : `${at}.${key}`));
    }
    return [];
}

/** A copy of an object with each declared secret field replaced by its placeholder (see SECRET_FIELDS). */
function withPlaceholders(object: Record<string, unknown>): { object: Record<string, unknown>; undeclared: string[] } {
    const declared = SECRET_FIELDS[`${String(object.apiVersion)}/${String(object.kind)}`] ?? {};
    const copy = structuredClone(object);
    const undeclared: string[] = [];
    for (const at of secretPaths(object)) {
        if (!(at in declared)) {
            undeclared.push(at);
            continue;
        }
        const keys = at.split(".");
        const parent = keys.slice(0, -1).reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, copy);
        parent[keys[keys.length - 1]] = structuredClone(declared[at]);
    }
    return { object: copy, undeclared };
}

/** Everything wrong with one plan step as a Kubernetes object; none means it validates. */
function violations(step: Step): string[] {
    const { inputs, type } = step.newState;
    const named = apiVersionOfType(type);
    const problems: string[] = [];
    if (named === undefined) {
        problems.push(`${type} is not a Kubernetes object type (kubernetes:<group>/<version>:<Kind>)`);
    } else if (named.apiVersion !== inputs.apiVersion || named.kind !== inputs.kind) {
        problems.push(`type ${type} holds an object of apiVersion ${JSON.stringify(inputs.apiVersion)}, kind ${JSON.stringify(inputs.kind)}`);
    }
    const { object, undeclared } = withPlaceholders(inputs);
    problems.push(...undeclared.map((at) => `${at} is secret and its shape is not declared in SECRET_FIELDS`));
    return [...problems, ...schemaViolations(object)];
}

/** "kind namespace/name [resource name]" of a step's object, for test names. */
function describeObject(step: Step): string {
    const { kind, metadata } = step.newState.inputs as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    const resource = step.urn.split("::").pop() ?? step.urn;
    const name = [metadata?.namespace, metadata?.name].filter((part) => typeof part === "string").join("/");
    return `${String(kind ?? step.newState.type)} ${name || "(unnamed)"} [${resource}]`;
}

const PLANS = loadPlans(CONFIGURATIONS);

describe.each(Object.keys(CONFIGURATIONS))("plan %s", (label) => {
    const steps = kubernetesSteps(PLANS[label]);

    test("declares Kubernetes objects", () => {
        expect(steps.filter((s) => SKIPPED[s.newState.type] === undefined).length).toBeGreaterThan(0);
    });

    for (const s of steps) {
        const reason = SKIPPED[s.newState.type];
        if (reason !== undefined) {
            test.skip(`${s.newState.type} ${s.urn.split("::").pop() ?? ""}: not validated, ${reason}`, () => undefined);
            continue;
        }
        test(`${describeObject(s)} matches the schema of its kind`, () => {
            expect(violations(s)).toEqual([]);
        });
        const secretFields = SECRET_FIELDS[`${String(s.newState.inputs.apiVersion)}/${String(s.newState.inputs.kind)}`];
        const present = Object.keys(secretFields ?? {}).filter((field) => field in s.newState.inputs);
        if (present.length > 0) {
            test(`${describeObject(s)} has ${present.join(", ")} marked secret`, () => {
                expect(Object.fromEntries(present.map((field) => [field, s.newState.inputs[field]]))).toEqual(Object.fromEntries(present.map((field) => [field, SECRET])));
            });
        }
    }
});

test("the plans together declare every kind that has a CRD schema or secret fields", () => {
    const declared = new Set(Object.values(PLANS).flatMap((plan) => plan.steps.map((s) => `${String(s.newState.inputs.apiVersion)}/${String(s.newState.inputs.kind)}`)));
    const described = [...CRD_SCHEMAS.map((crd) => `${crd.apiVersion}/${crd.kind}`), ...Object.keys(SECRET_FIELDS)];
    expect(described.filter((kind) => !declared.has(kind))).toEqual([]);
});

/** The first step of a type in the plans; fails when no plan declares one. */
function firstStep(type: string): Step {
    for (const plan of Object.values(PLANS)) {
        const found = plan.steps.find((s) => s.newState.type === type);
        if (found !== undefined) {
            return found;
        }
    }
    throw new Error(`no plan declares a ${type}`);
}

/** A fresh copy of the object of the first step of a type, to break. */
function sample(type: string): Record<string, unknown> {
    return structuredClone(firstStep(type).newState.inputs);
}

/** A step like the first one of `like`, but of another type and with other inputs. */
function stepWith(like: string, type: string, inputs: Record<string, unknown>): Step {
    const template = firstStep(like);
    return { ...template, urn: template.urn.replace(like, type), newState: { ...template.newState, type, inputs } };
}

/** The nested object of `object` at a dotted path (array indexes included), for a test to change. */
function at(object: Record<string, unknown>, dotted: string): Record<string, unknown> {
    return dotted.split(".").reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, object);
}

describe("validation rejects", () => {
    // Each case breaks one field of an object the program declares (valid as declared, which the
    // first expectation re-checks) and expects one violation, naming that field.
    const cases: Array<[string, string, (o: Record<string, unknown>) => void, RegExp]> = [
        ["a Job with a non-string image", "kubernetes:batch/v1:Job", (o) => (at(o, "spec.template.spec.containers.0").image = 42), /containers\/0\/image must be string/],
        ["a Job's pod without containers", "kubernetes:batch/v1:Job", (o) => delete at(o, "spec.template.spec").containers, /spec must have required property '?containers'?/],
        ["a NetworkPolicy with a bad port type", "kubernetes:networking.k8s.io/v1:NetworkPolicy", (o) => (at(o, "spec").egress = [{ ports: [{ port: true }] }]), /egress\/0\/ports\/0\/port must/],
        ["a SecretProviderClass without provider", "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", (o) => delete at(o, "spec").provider, /spec must have required property 'provider'/],
        ['an AzureIdentity with type "zero"', "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity", (o) => (at(o, "spec").type = "zero"), /spec\/type must be integer/],
        ["an AzureIdentityBinding with a numeric selector", "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentityBinding", (o) => (at(o, "spec").selector = 42), /spec\/selector must be string/],
    ];

    test.each(cases)("%s", (_name, type, breakIt, message) => {
        const object = sample(type);
        expect(schemaViolations(object)).toEqual([]);
        breakIt(object);
        const found = schemaViolations(object);
        expect(found).toHaveLength(1);
        expect(found[0]).toMatch(message);
    });

    test("an object of a kind with no schema", () => {
        const widget = stepWith("kubernetes:core/v1:Namespace", "kubernetes:example.com/v1:Widget", { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "widget" } });
        expect(violations(widget)).toEqual([expect.stringMatching(/^no schema for example\.com\/v1\/Widget/)]);
    });

    test("a built-in kind at an apiVersion the schemas do not have", () => {
        const job = { ...sample("kubernetes:batch/v1:Job"), apiVersion: "batch/v9" };
        expect(schemaViolations(job)).toEqual([expect.stringMatching(/^no schema for batch\/v9\/Job/)]);
    });

    test("an object whose type names another kind", () => {
        const job = stepWith("kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", sample("kubernetes:batch/v1:Job"));
        expect(violations(job)).toEqual(['type kubernetes:batch/v1:CronJob holds an object of apiVersion "batch/v1", kind "Job"']);
    });

    test("a secret in a field whose shape is not declared", () => {
        const job = sample("kubernetes:batch/v1:Job");
        at(job, "spec.template.spec.containers.0").env = SECRET;
        expect(violations(stepWith("kubernetes:batch/v1:Job", "kubernetes:batch/v1:Job", job))).toEqual([
            "spec.template.spec.containers.0.env is secret and its shape is not declared in SECRET_FIELDS",
            expect.stringMatching(/containers\/0\/env must be array/),
        ]);
    });

    test("a Secret whose data is a number, not a secret of its declared shape", () => {
        const secret = { ...sample("kubernetes:core/v1:Secret"), data: 42 };
        expect(violations(stepWith("kubernetes:core/v1:Secret", "kubernetes:core/v1:Secret", secret))).toEqual([expect.stringMatching(/data must be object/)]);
    });
});

/**
 * A copy of a CRD schema that refuses fields it does not declare: every object with `properties`
 * gets `additionalProperties: false` (maps, declared through `additionalProperties`, stay open).
 * The API server would silently drop such a field, so a misspelt one (`clientId` for `clientID`)
 * would otherwise deploy as if it were not there.
 */
function closed(schema: unknown): unknown {
    if (Array.isArray(schema)) {
        return schema.map(closed);
    }
    if (schema === null || typeof schema !== "object") {
        return schema;
    }
    const entries = Object.entries(schema).map(([key, value]) => [
        key,
        key === "properties" ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, closed(v)])) : closed(value),
    ]);
    const copy: Record<string, unknown> = Object.fromEntries(entries);
    // metadata is the API server's, described by its own schema.
    if ("properties" in copy && !("additionalProperties" in copy) && !("x-kubernetes-preserve-unknown-fields" in copy)) {
        copy.additionalProperties = false;
    }
    return copy;
}

describe("custom resources use only fields their CRD declares", () => {
    const strictAjv = new Ajv({ allErrors: true, strict: false });
    const strictSchemas = new Map(
        CRD_SCHEMAS.map((crd) => {
            const schema = closed(crd.schema) as { properties: Record<string, unknown> };
            // metadata is described loosely on purpose (the API server owns it).
            schema.properties.metadata = { type: "object" };
            return [`${crd.apiVersion}/${crd.kind}`, strictAjv.compile(schema)];
        }),
    );
    const customSteps = Object.values(PLANS).flatMap((plan) => plan.steps.filter((s) => strictSchemas.has(`${String(s.newState.inputs.apiVersion)}/${String(s.newState.inputs.kind)}`)));

    test.each(customSteps.map((s) => [describeObject(s), s] as const))("%s", (_name, s) => {
        const validate = strictSchemas.get(`${String(s.newState.inputs.apiVersion)}/${String(s.newState.inputs.kind)}`);
        expect(validate?.(s.newState.inputs) ? [] : strictAjv.errorsText(validate?.errors)).toEqual([]);
    });

    test("a misspelt field is caught", () => {
        const identity = sample("kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity");
        const spec = at(identity, "spec");
        spec.clientId = spec.clientID;
        delete spec.clientID;
        const validate = strictSchemas.get("aadpodidentity.k8s.io/v1/AzureIdentity");
        expect(validate?.(identity)).toBe(false);
        expect(strictAjv.errorsText(validate?.errors)).toContain("must NOT have additional properties");
    });
});
