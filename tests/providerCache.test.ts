// The plan's memory of serialized dynamic providers: what its key is made of, and that a kept text is
// used only when every input of it is unchanged. That a plan is byte-identical with and without it
// is checked in plan.test.ts.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cacheDisabled, checkoutKey, compilerFingerprint, ProviderCache, programSources, providerKey } from "../tools/plan/providerCache";
import type { SerializedFunction } from "../tools/plan/providerCache";

const text = (code: string): SerializedFunction => ({ text: code, exportName: "handler", containsSecrets: false });

describe("keys", () => {
    let root: string;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-provider-cache-"));
        for (const [file, content] of Object.entries({
            "index.ts": "index",
            "config.ts": "config",
            "azureCatalog.ts": "catalog",
            "components/a.ts": "a",
            "components/modes/b.ts": "b",
            "components/readme.md": "not a source",
            "package-lock.json": "{}",
            "node_modules/@pulumi/pulumi/package.json": '{"version":"3.0.0"}',
        })) {
            fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
            fs.writeFileSync(path.join(root, file), content);
        }
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    test("the program's sources are its TypeScript files, components/ included", () => {
        expect(programSources(root)).toEqual(["azureCatalog.ts", "components/a.ts", "components/modes/b.ts", "config.ts", "index.ts"].map((f) => f.split("/").join(path.sep)));
    });

    test.each([
        ["a component's source", "components/modes/b.ts", "b2"],
        ["the lock file", "package-lock.json", '{"v":2}'],
        ["the SDK's version", "node_modules/@pulumi/pulumi/package.json", '{"version":"3.0.1"}'],
    ])("a change of %s changes the checkout's key", (_what, file, content) => {
        const before = checkoutKey(root);
        expect(checkoutKey(root)).toBe(before);
        fs.writeFileSync(path.join(root, file), content);
        expect(checkoutKey(root)).not.toBe(before);
    });

    test("code compiled another way (jest's compiler, not the commands' sucrase) changes the checkout's key", () => {
        expect(checkoutKey(root, "function a() { return (0, crypto_1.createHash)(); }")).not.toBe(checkoutKey(root, "function a() { return _crypto.createHash.call(void 0); }"));
        expect(compilerFingerprint()).toContain("createHash");
    });

    test("a file that is not a source does not change it", () => {
        const before = checkoutKey(root);
        fs.writeFileSync(path.join(root, "components/readme.md"), "changed");
        expect(checkoutKey(root)).toBe(before);
    });

    test("a provider's key changes with the checkout and with the source of any of its methods", () => {
        const provider = { create: async () => 1, diff: async () => 2 };
        const key = providerKey("checkout", provider);
        expect(providerKey("checkout", { create: async () => 1, diff: async () => 2 })).toBe(key);
        expect(providerKey("other", provider)).not.toBe(key);
        expect(providerKey("checkout", { ...provider, diff: async () => 3 })).not.toBe(key);
        expect(providerKey("checkout", { ...provider, read: async () => 4 })).not.toBe(key);
    });

    test("AIV_PROVIDER_CACHE=off turns it off", () => {
        expect(cacheDisabled({ AIV_PROVIDER_CACHE: "off" })).toBe(true);
        expect(cacheDisabled({ AIV_PROVIDER_CACHE: "OFF" })).toBe(true);
        expect(cacheDisabled({})).toBe(false);
    });
});

describe("the cache", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiv-provider-cache-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("serializes a provider once per key, and another process reads the kept text back", async () => {
        let calls = 0;
        const serialize = async () => text(`code ${++calls}`);
        const cache = new ProviderCache(dir);
        expect(await cache.get("k1", serialize)).toEqual(text("code 1"));
        expect(await cache.get("k1", serialize)).toEqual(text("code 1"));
        expect(await cache.get("k2", serialize)).toEqual(text("code 2"));
        expect(await new ProviderCache(dir).get("k1", serialize)).toEqual(text("code 1"));
        expect(calls).toBe(2);
        expect(fs.readdirSync(dir).sort()).toEqual(["k1.json", "k2.json"]);
    });

    test("a kept file that is not a serialized provider is serialized again and replaced", async () => {
        fs.writeFileSync(path.join(dir, "k1.json"), '{"text": 3}');
        expect(await new ProviderCache(dir).get("k1", async () => text("fresh"))).toEqual(text("fresh"));
        fs.writeFileSync(path.join(dir, "k2.json"), "not json");
        expect(await new ProviderCache(dir).get("k2", async () => text("fresh"))).toEqual(text("fresh"));
        expect(JSON.parse(fs.readFileSync(path.join(dir, "k1.json"), "utf8"))).toEqual(text("fresh"));
    });

    test("without a directory it remembers in memory only", async () => {
        let calls = 0;
        const cache = new ProviderCache(undefined);
        await cache.get("k", async () => text(`code ${++calls}`));
        await cache.get("k", async () => text(`code ${++calls}`));
        expect(calls).toBe(1);
    });
});
