// The serialized code of the program's dynamic providers, remembered between plans. A dynamic
// resource carries its provider as code, which the Pulumi SDK's closure serializer produces by
// reading the provider's captured variables through the V8 inspector: about a third of a plan's time,
// and the inspector slows the rest of the run. The code depends only on the program's sources, the
// SDK and Node.js, so a plan reuses the text an earlier plan produced for the same provider, in the
// same process or, through a file, in another. The key holds every input of the text: the content
// of every TypeScript file of the program (index.ts, config.ts, azureCatalog.ts, components/), package-lock.json, the
// SDK's and Node's versions, the checkout's path, how the TypeScript was compiled (commands use
// sucrase, jest its own compiler, and each writes captured code its own way), and the provider's own
// method sources. That holds
// because the program's providers are module constants built from its code alone (components/waits.ts,
// components/modes/podIdentityAddon/podIdentities.ts); a provider that captured a value computed at
// run time, such as a config value, would need that value in its key. Set AIV_PROVIDER_CACHE=off to
// serialize every provider afresh; tests/plan.test.ts checks that a plan is byte-identical either way.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
/** Where the texts are kept: npm's conventional cache folder, which git and npm ci leave alone. */
const CACHE_DIR = path.join(ROOT, "node_modules", ".cache", "aks-identity-vault", "providers");

/** What the SDK's serializer returns (sdk/nodejs/runtime/closure/serializeClosure.ts, SerializedFunction). */
export interface SerializedFunction {
    text: string;
    exportName: string;
    containsSecrets: boolean;
}

type Serialize = (func: () => unknown, args?: { allowSecrets?: boolean }) => Promise<SerializedFunction>;

/** The module of the SDK whose `serializeFunction` dynamic resources call when they are constructed. */
interface SerializeClosureModule {
    serializeFunction: Serialize;
}

/** The TypeScript files of the program under `root`, sorted: what the serialized code is made of. */
export function programSources(root: string = ROOT): string[] {
    const components = fs
        .readdirSync(path.join(root, "components"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => path.join("components", f));
    return ["index.ts", "config.ts", "azureCatalog.ts", ...components].sort();
}

/**
 * How the program's TypeScript was compiled in this process: the compiled text of one of this
 * module's functions that calls an imported one, which each compiler writes its own way (sucrase
 * `_crypto.createHash`, TypeScript `(0, crypto_1.createHash)`). The serialized code of a provider
 * carries the compiled text of what it captures, so a text serialized under jest's compiler is not
 * the one a command serializes from the same sources.
 */
export function compilerFingerprint(): string {
    return String(providerKey);
}

/** The part of every key that is the same for all providers of one checkout: sources, lock file, versions, path, compiler. */
export function checkoutKey(root: string = ROOT, compiler: string = compilerFingerprint()): string {
    const hash = createHash("sha256");
    const sdk = JSON.parse(fs.readFileSync(path.join(root, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string };
    hash.update(JSON.stringify({ sdk: sdk.version, node: process.version, root, compiler }));
    for (const file of [...programSources(root), "package-lock.json"]) {
        hash.update(`\0${file}\0`).update(fs.readFileSync(path.join(root, file)));
    }
    return hash.digest("hex");
}

/** The key of one provider: the checkout's key and the source of each of its methods, by name. */
export function providerKey(checkout: string, provider: object): string {
    const methods = Object.entries(provider).map(([name, value]) => `${name}:${typeof value === "function" ? String(value) : JSON.stringify(value)}`);
    return createHash("sha256").update(checkout).update(methods.join("\0")).digest("hex");
}

/** A serialized function as read back from a file, or undefined when the file holds something else. */
function parseSerialized(text: string): SerializedFunction | undefined {
    try {
        const value: unknown = JSON.parse(text);
        if (typeof value !== "object" || value === null) {
            return undefined;
        }
        const [code, exportName, containsSecrets] = [Reflect.get(value, "text"), Reflect.get(value, "exportName"), Reflect.get(value, "containsSecrets")];
        return typeof code === "string" && typeof exportName === "string" && typeof containsSecrets === "boolean" ? { text: code, exportName, containsSecrets } : undefined;
    } catch {
        return undefined;
    }
}

/** Memory and files of serialized providers, by key. */
export class ProviderCache {
    private readonly memory = new Map<string, Promise<SerializedFunction>>();

    constructor(private readonly dir: string | undefined) {}

    /** The text for `key`: remembered, read from its file, or produced by `serialize` and kept. */
    get(key: string, serialize: () => Promise<SerializedFunction>): Promise<SerializedFunction> {
        let result = this.memory.get(key);
        if (result === undefined) {
            result = this.load(key, serialize);
            this.memory.set(key, result);
        }
        return result;
    }

    private async load(key: string, serialize: () => Promise<SerializedFunction>): Promise<SerializedFunction> {
        const file = this.dir === undefined ? undefined : path.join(this.dir, `${key}.json`);
        if (file !== undefined && fs.existsSync(file)) {
            const kept = parseSerialized(fs.readFileSync(file, "utf8"));
            if (kept !== undefined) {
                return kept;
            }
        }
        const serialized = await serialize();
        if (file !== undefined && this.dir !== undefined) {
            // Written whole under another name, then renamed: a concurrent reader sees all or nothing.
            fs.mkdirSync(this.dir, { recursive: true });
            const temporary = path.join(this.dir, `.${key}.${process.pid}.${os.hostname()}.tmp`);
            fs.writeFileSync(temporary, JSON.stringify(serialized));
            fs.renameSync(temporary, file);
        }
        return serialized;
    }
}

/** Whether the environment asks for every provider to be serialized afresh. */
export function cacheDisabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
    return (env.AIV_PROVIDER_CACHE ?? "").toLowerCase() === "off";
}

/** Marks the SDK module once its serializer is wrapped: the harness's modules may be loaded afresh in one process (server.ts). */
const INSTALLED = Symbol.for("aks-identity-vault.providerCache");

/**
 * Makes the SDK's serializer reuse the texts of earlier plans for providers whose key matches, once
 * per load of the SDK (per process, and per jest module registry). A function that is not a dynamic provider, or options
 * other than the dynamic resource's, pass through untouched.
 */
export function installProviderCache(dir: string | undefined = CACHE_DIR): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK's own module, which dynamic resources call through its exports
    const closure = require("@pulumi/pulumi/runtime/closure/serializeClosure") as SerializeClosureModule;
    if (Reflect.get(closure, INSTALLED) === true || cacheDisabled()) {
        return;
    }
    Reflect.set(closure, INSTALLED, true);
    const original = closure.serializeFunction;
    const cache = new ProviderCache(dir);
    const checkout = checkoutKey();
    closure.serializeFunction = (func, args) => {
        const provider: unknown = func.length === 0 ? func() : undefined;
        if (typeof provider !== "object" || provider === null || args?.allowSecrets !== true || Object.keys(args).length !== 1) {
            return original(func, args);
        }
        return cache.get(providerKey(checkout, provider), () => original(func, args));
    };
}
