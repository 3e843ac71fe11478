import * as pulumi from "@pulumi/pulumi";
import { LogAnalytics } from "../../components/logAnalytics";
import { buildOne, named, PLACEMENT, registrations, settled } from "./build";

describe("LogAnalytics", () => {
    const ARGS = { ...PLACEMENT, retentionDays: 90 };

    async function built(args: ConstructorParameters<typeof LogAnalytics>[1]) {
        const { component: logs, plan } = await buildOne(() => new LogAnalytics("logs", args));
        return { logs, plan };
    }

    test("registers exactly one protected pay-as-you-go workspace, read by resource permissions, keeping data the days asked", async () => {
        const { plan } = await built(ARGS);
        expect(registrations(plan)).toMatchSnapshot();
        const workspace = named(plan, "azure-native:operationalinsights:Workspace", "logs-workspace").newState;
        expect(workspace.inputs).toEqual({
            workspaceName: "log-aiv-unit",
            resourceGroupName: "rg-unit",
            location: "uksouth",
            sku: { name: "PerGB2018" },
            retentionInDays: 90,
            features: { enableLogAccessUsingOnlyResourcePermissions: true },
            tags: { stack: "unit" },
        });
        expect(workspace.protect).toBe(true);
    });

    test("protect: false leaves it unprotected", async () => {
        const { plan } = await built({ ...ARGS, protect: false });
        expect(named(plan, "azure-native:operationalinsights:Workspace", "logs-workspace").newState.protect).toBe(false);
    });

    test("gives the other components its id to send their logs to", async () => {
        const { logs } = await built(ARGS);
        const id = await settled(logs.workspaceId);
        expect(id).toMatch(/\/providers\/Microsoft\.OperationalInsights\/workspaces\/log-aiv-unit$/);
        expect(await settled(pulumi.output(logs.diagnostics.workspaceId))).toBe(id);
        expect(await settled(logs.workspaceName)).toBe("log-aiv-unit");
    });
});
