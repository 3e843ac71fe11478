// `npm run migrate-state`: readies the state of a stack deployed by an earlier version for this one.
// It hands over two kinds of resource the program no longer declares, which the next `pulumi up`
// would otherwise delete:
//
// - the user node pool's own `AgentPool`: the pool is now the cluster's second `agentPoolProfiles`
//   entry, so that a refresh reads back no pool the program does not declare (docs/azure-behaviour.md
//   row 74). Deleting the resource would delete the pool and its nodes. Dropped from the state, it
//   stays in Azure, and its settings join the cluster's stored inputs as the second pool, as the
//   program now declares them: the next `pulumi up` finds the pool where it expects it and, unless the
//   config changed, has nothing to send.
// - in add-on mode, each workload's own `PodIdentityAttachment`, which one `PodIdentities` resource
//   replaced. Left in the state, the old resources would be deleted by the next
// `pulumi up`, after it created the new one, and the engine runs a dynamic resource's delete with the
// provider code stored in its own state (`__provider`, @pulumi/pulumi cmd/dynamic-provider): the old
// code, which detaches the entry. The workloads would lose their identities until a refresh.
//
// It reads `pulumi stack export` output, drops the old resources and every reference to them (the
// demo Jobs depend on them, which is why `pulumi state delete` refuses), and writes a deployment for
// `pulumi stack import`. Nothing in Azure changes: the next `pulumi up` creates `PodIdentities`,
// which finds every entry already in the cluster and writes nothing.
//
//   pulumi stack export --file before.json
//   npm run -s migrate-state -- before.json > after.json
//   pulumi stack import --file after.json
import * as fs from "fs";

/** The type the old per-workload resources were registered as. */
export const RETIRED_TYPE = "pulumi-nodejs:dynamic:PodIdentityAttachment";

/** The type of the user pool's own resource, which earlier versions registered under the cluster component. */
export const AGENT_POOL_TYPE = "azure-native:containerservice:AgentPool";
const CLUSTER_COMPONENT_TYPE = "aks-identity-vault:aks:AksCluster";

const CLUSTER_TYPE = "azure-native:containerservice:ManagedCluster";
/** The inputs of an AgentPool that name where it is, not what it is. */
const POOL_ADDRESS = new Set(["agentPoolName", "resourceGroupName", "resourceName", "azureApiVersion"]);

/**
 * The cluster with the pools of its own that the state held appended to its stored `agentPoolProfiles`,
 * each as the program now declares it: the pool's settings under its name, with the count the pool last
 * had.
 */
function withPools(cluster: Record<string, unknown>, pools: readonly Record<string, unknown>[]): Record<string, unknown> {
    const inputs = objectOf(cluster.inputs);
    const name = inputs?.resourceName;
    const mine = pools.filter((pool) => objectOf(pool.inputs)?.resourceName === name);
    if (inputs === undefined || mine.length === 0) {
        return { ...cluster };
    }
    const profiles = mine.map((pool) => {
        const poolInputs = objectOf(pool.inputs) ?? {};
        const count = objectOf(pool.outputs)?.count;
        const settings = Object.fromEntries(Object.entries(poolInputs).filter(([key]) => !POOL_ADDRESS.has(key) && !key.startsWith("__")));
        return { name: poolInputs.agentPoolName, ...settings, ...(typeof count === "number" ? { count } : {}) };
    });
    const existing = Array.isArray(inputs.agentPoolProfiles) ? inputs.agentPoolProfiles : [];
    return { ...cluster, inputs: { ...inputs, agentPoolProfiles: [...existing, ...profiles] } };
}

/** Whether an exported resource is one the program no longer declares and must not delete. */
function retired(resource: Record<string, unknown>): boolean {
    return resource.type === RETIRED_TYPE || (resource.type === AGENT_POOL_TYPE && typeof resource.parent === "string" && resource.parent.split("::")[2]?.split("$").pop() === CLUSTER_COMPONENT_TYPE);
}

/** Input that is not a stack export this tool can change, with why. */
export class StateMigrationError extends Error {
    override name = "StateMigrationError";
}

/** What a migration did: the new export, and the URNs it dropped. */
export interface StateMigration {
    exported: Record<string, unknown>;
    removed: string[];
}

/** A JSON object, or undefined. */
function objectOf(value: unknown): Record<string, unknown> | undefined {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : undefined;
}

/** `value` without the strings of `gone`, when it is a list; otherwise as it is. */
function without(value: unknown, gone: ReadonlySet<string>): unknown {
    return Array.isArray(value) ? value.filter((item) => !(typeof item === "string" && gone.has(item))) : value;
}

/**
 * The export without the retired resources and every reference other resources hold to them
 * (`dependencies`, `propertyDependencies`, `deletedWith`). Refuses input that is not a stack export
 * (`version` 3 and `deployment.resources`), an export with operations still pending, and retired
 * resources that other resources are parented to. Pure; exported for testing.
 */
export function migrateState(input: unknown): StateMigration {
    const exported = objectOf(input);
    const deployment = objectOf(exported?.deployment);
    const resources = deployment?.resources;
    if (exported === undefined || deployment === undefined || !Array.isArray(resources)) {
        throw new StateMigrationError("the input is not the output of `pulumi stack export`: it has no deployment.resources");
    }
    if (exported.version !== 3) {
        throw new StateMigrationError(`the export has version ${JSON.stringify(exported.version)}; this tool reads version 3, what \`pulumi stack export\` writes`);
    }
    const pending = deployment.pending_operations;
    if (Array.isArray(pending) && pending.length > 0) {
        throw new StateMigrationError(`the export has ${pending.length} pending operations: run \`pulumi refresh\` (or \`pulumi cancel\`) first`);
    }
    const all = resources.map((r, i) => {
        const resource = objectOf(r);
        if (resource === undefined || typeof resource.urn !== "string") {
            throw new StateMigrationError(`deployment.resources[${i}] has no urn`);
        }
        return resource;
    });
    const gone = new Set(all.filter(retired).map((r) => String(r.urn)));
    const kept = all.filter((r) => !gone.has(String(r.urn)));
    const children = kept.filter((r) => typeof r.parent === "string" && gone.has(r.parent));
    if (children.length > 0) {
        throw new StateMigrationError(`resources are parented to a resource this tool drops: ${children.map((r) => String(r.urn)).join(", ")}`);
    }
    const pools = all.filter((r) => gone.has(String(r.urn)) && r.type === AGENT_POOL_TYPE);
    const migrated = kept.map((r) => {
        const copy: Record<string, unknown> = r.type === CLUSTER_TYPE ? withPools(r, pools) : { ...r };
        if ("dependencies" in copy) {
            copy.dependencies = without(copy.dependencies, gone);
        }
        const propertyDependencies = objectOf(copy.propertyDependencies);
        if (propertyDependencies !== undefined) {
            copy.propertyDependencies = Object.fromEntries(Object.entries(propertyDependencies).map(([key, urns]) => [key, without(urns, gone)]));
        }
        if (typeof copy.deletedWith === "string" && gone.has(copy.deletedWith)) {
            delete copy.deletedWith;
        }
        return copy;
    });
    return { exported: { ...exported, deployment: { ...deployment, resources: migrated } }, removed: [...gone] };
}

/** Output streams of the command. */
export interface Io {
    stdout: { write(text: string): unknown };
    stderr: { write(text: string): unknown };
}

const USAGE = "usage: npm run -s migrate-state -- EXPORT.json > MIGRATED.json   (EXPORT.json from `pulumi stack export --file EXPORT.json`)";

/** Runs the command: the migrated export on stdout, what it did on stderr; 1 on bad input. */
export async function main(argv: string[], io: Io = process, read: (file: string) => string = (file) => fs.readFileSync(file, "utf8")): Promise<number> {
    if (argv.length !== 1 || argv[0].startsWith("-")) {
        io.stderr.write(`${USAGE}\n`);
        return 1;
    }
    let text: string;
    try {
        text = read(argv[0]);
    } catch (err) {
        io.stderr.write(`migrate-state: cannot read ${argv[0]}: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
    }
    let migration: StateMigration;
    try {
        migration = migrateState(JSON.parse(text));
    } catch (err) {
        if (err instanceof StateMigrationError || err instanceof SyntaxError) {
            io.stderr.write(`migrate-state: ${argv[0]}: ${err.message}\n`);
            return 1;
        }
        throw err;
    }
    io.stdout.write(`${JSON.stringify(migration.exported, null, 4)}\n`);
    const pools = migration.removed.filter((u) => u.includes(`$${AGENT_POOL_TYPE}::`));
    io.stderr.write(
        migration.removed.length === 0
            ? `migrate-state: no ${RETIRED_TYPE} or user pool's ${AGENT_POOL_TYPE} in ${argv[0]}; nothing to do (the export is written unchanged)\n`
            : `migrate-state: dropped ${migration.removed.length} resources from the state (Azure keeps them), and every reference to them:\n${migration.removed.map((u) => `  ${u}\n`).join("")}` +
                  "Import the result with `pulumi stack import --file <it>`" +
                  (pools.length > 0 ? "; the user pool is now the cluster's second pool, which the next `pulumi up` finds in place" : "") +
                  (migration.removed.length > pools.length ? "; it creates pulumi-nodejs:dynamic:PodIdentities, which finds the entries in place" : "") +
                  ".\n",
    );
    return 0;
}
