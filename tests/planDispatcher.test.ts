// The plan servers' dispatcher: one queue for all servers, each command to the first free one, the
// runs after a refresh to the server that holds their first run, each key computed once.
import type { PlanProcess, PlanRequest } from "../tools/plan/client";
import { PlanDispatcher } from "../tools/plan/dispatcher";

/** Servers whose commands finish when the test says: what each server was given, in order. */
function scriptedServers(count: number) {
    const given: string[][] = Array.from({ length: count }, () => []);
    const pending = new Map<string, { finish: (result: PlanProcess) => void; fail: (reason: Error) => void }>();
    const dispatcher = new PlanDispatcher(count, (server, request) => {
        given[server].push(request.key);
        return new Promise((finish, fail) => pending.set(request.key, { finish, fail }));
    });
    const finish = async (key: string) => {
        const command = pending.get(key);
        if (command === undefined) {
            throw new Error(`${key} is not running`);
        }
        pending.delete(key);
        command.finish({ code: 0, stdout: `plan of ${key}`, stderr: "" });
        // Let the dispatcher hand the freed server its next command.
        await new Promise((resolve) => setImmediate(resolve));
    };
    const fail = async (key: string) => {
        pending.get(key)?.fail(new Error(`${key} broke`));
        pending.delete(key);
        await new Promise((resolve) => setImmediate(resolve));
    };
    return { dispatcher, given, finish, fail, running: () => [...pending.keys()] };
}

const command = (key: string, route?: string): PlanRequest => ({ key, argv: ["--json", key], ...(route === undefined ? {} : { route }) });

test("each command goes to the first free server, so a long one does not hold up the others", async () => {
    const { dispatcher, given, finish } = scriptedServers(2);
    const results = ["fifty", "a", "b", "c"].map((key) => dispatcher.submit(command(key)));
    expect(given).toEqual([["fifty"], ["a"]]);
    await finish("a");
    await finish("b");
    expect(given).toEqual([["fifty"], ["a", "b", "c"]]);
    await finish("c");
    await finish("fifty");
    expect(await Promise.all(results)).toEqual(["fifty", "a", "b", "c"].map((key) => ({ code: 0, stdout: `plan of ${key}`, stderr: "" })));
});

test("a key is computed once, however many ask for it and whenever they do", async () => {
    const { dispatcher, given, finish } = scriptedServers(2);
    const first = dispatcher.submit(command("dev"));
    const second = dispatcher.submit(command("dev"));
    expect(given).toEqual([["dev"], []]);
    await finish("dev");
    expect(await dispatcher.submit(command("dev"))).toBe(await first);
    expect(await second).toBe(await first);
    expect(given).toEqual([["dev"], []]);
});

test("the runs after a refresh wait for the server that holds their first run, and others pass them", async () => {
    const { dispatcher, given, finish, running } = scriptedServers(2);
    void dispatcher.submit(command("dev"));
    void dispatcher.submit(command("other"));
    void dispatcher.submit(command("dev then tags", "dev"));
    void dispatcher.submit(command("third"));
    expect(given).toEqual([["dev"], ["other"]]);
    // Server 1 is free first, but the refresh's first run is on server 0: server 1 takes the next command.
    await finish("other");
    expect(given).toEqual([["dev"], ["other", "third"]]);
    await finish("dev");
    expect(given).toEqual([
        ["dev", "dev then tags"],
        ["other", "third"],
    ]);
    expect(running().sort()).toEqual(["dev then tags", "third"]);
});

test("a route is held by the server its first command went to, even when that command was a refresh's", async () => {
    const { dispatcher, given, finish } = scriptedServers(2);
    void dispatcher.submit(command("busy"));
    void dispatcher.submit(command("dev then tags", "dev"));
    await finish("dev then tags");
    void dispatcher.submit(command("busy too"));
    void dispatcher.submit(command("dev", "dev"));
    expect(given).toEqual([["busy"], ["dev then tags", "busy too"]]);
    await finish("busy");
    expect(given).toEqual([["busy"], ["dev then tags", "busy too"]]);
    await finish("busy too");
    expect(given).toEqual([["busy"], ["dev then tags", "busy too", "dev"]]);
});

test("a command that fails rejects whoever asked for it, and frees its server", async () => {
    const { dispatcher, given, fail } = scriptedServers(1);
    const broken = expect(dispatcher.submit(command("broken"))).rejects.toThrow("broken broke");
    void dispatcher.submit(command("next"));
    await fail("broken");
    await broken;
    expect(given).toEqual([["broken", "next"]]);
});
