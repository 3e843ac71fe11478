// The component units: each component built in-process under the shared mocks (build.ts), one module
// per component. They run from this one test file so that the SDKs the components import load once
// for all of them, not once per component.
import "./logAnalytics";
import "./network";
import "./privateDns";
import "./identity";
import "./secureStorage";
import "./secureKeyVault";
import "./aksCluster";
import "./podIdentityBinding";
import "./aadPodIdentity";
import "./demoWorkloads";
import "./flowLogs";
import "./impostorProof";
import "./egressFirewall";
import { plainStackTrace, record } from "../../tools/plan/harness";

describe("the harness", () => {
    test("a plain stack trace reads as V8 writes one, a line per frame, where the code runs", () => {
        const saved = { prepare: Error.prepareStackTrace, limit: Error.stackTraceLimit };
        const thrown = () => new RangeError("boom");
        try {
            Error.prepareStackTrace = plainStackTrace;
            Error.stackTraceLimit = 1;
            expect(thrown().stack).toMatch(/^RangeError: boom\n {4}at thrown \(\S+units\.test\.ts:\d+:\d+\)$/);
            Error.stackTraceLimit = 2;
            expect(thrown().stack?.split("\n")).toHaveLength(3);
        } finally {
            Error.prepareStackTrace = saved.prepare;
            Error.stackTraceLimit = saved.limit;
        }
    });

    test("a run puts back the stack trace formatter and limit it found, also when the program throws", async () => {
        const saved = { prepare: Error.prepareStackTrace, limit: Error.stackTraceLimit };
        let during: unknown;
        await expect(
            record({ stack: "unit", config: {} }, () => {
                during = Error.prepareStackTrace;
                throw new Error("bad config");
            }),
        ).rejects.toThrow("bad config");
        expect(during).toBe(plainStackTrace);
        expect([Error.prepareStackTrace, Error.stackTraceLimit]).toEqual([saved.prepare, saved.limit]);
    });
});
