import { retiringSizeWarnings } from "../../components/aksCluster";
import { AKS_OLDEST_MINOR, AKS_SUPPORTED_MINORS, AZURE_REGIONS, compareMinors, isRetired, RETIRING_VM_SERIES, retiringSeries, ZONE_REGIONS } from "../../azureCatalog";

describe("What Azure offers, as its docs list it", () => {
    test("regions are programmatic names, each once; those with zones are among them; uksouth has zones, ukwest none", () => {
        expect(new Set(AZURE_REGIONS).size).toBe(AZURE_REGIONS.length);
        for (const region of AZURE_REGIONS) {
            expect(region).toMatch(/^[a-z][a-z0-9]+$/);
        }
        expect(ZONE_REGIONS.filter((r) => !AZURE_REGIONS.includes(r))).toEqual([]);
        expect(ZONE_REGIONS).toContain("uksouth");
        expect(ZONE_REGIONS).not.toContain("ukwest");
    });

    test.each([
        ["Standard_A8", "A8-A11"],
        ["Basic_A2", "Av1"],
        ["Standard_A7", "Av1"],
        ["Standard_H16mr", "H"],
        ["Standard_NC24r", "NC"],
        ["Standard_NC24rs_v3", "NCv3"],
        ["Standard_DC2s_v2", "DCsv2"],
        ["Standard_NV32as_v4", "NVv4"],
        ["Standard_D3", "D"],
        ["Standard_DS13-4_v2", "Dsv2"],
        ["Standard_D15_v2_Promo", "Dv2"],
        ["Standard_A2m_v2", "Av2"],
        ["Standard_B2ms", "B (v1)"],
        ["Standard_F16s", "F"],
        ["Standard_F72s_v2", "Fsv2"],
        ["Standard_GS5-8", "G"],
        ["Standard_L8s_v2", "Lsv2"],
    ])("%s is of the %s series, which Azure retires", (size, series) => {
        expect(retiringSeries(size)?.series).toBe(series);
    });

    test.each(["Standard_D4ds_v5", "Standard_D4s_v5", "Standard_B2s_v2", "Standard_F2als_v6", "Standard_E8s_v5", "Standard_L8s_v3", "Standard_NC24ads_A100_v4", "Standard_D2_v3"])(
        "%s is of no retiring series",
        (size) => {
            expect(retiringSeries(size)).toBeUndefined();
        },
    );

    test("a series is retired from its day on, judged against the catalog's date unless told another", () => {
        const ncv3 = RETIRING_VM_SERIES.find((s) => s.series === "NCv3");
        const dv2 = RETIRING_VM_SERIES.find((s) => s.series === "Dv2");
        expect(ncv3 !== undefined && isRetired(ncv3)).toBe(true);
        expect(dv2 !== undefined && isRetired(dv2)).toBe(false);
        expect(dv2 !== undefined && isRetired(dv2, "2028-05-01")).toBe(true);
        expect(dv2 !== undefined && isRetired(dv2, "2028-04-30")).toBe(false);
    });

    test("minors compare by number, not as text; the oldest one served is just below the supported ones", () => {
        expect(compareMinors("1.9", "1.10")).toBeLessThan(0);
        expect(compareMinors("2.0", "1.37")).toBeGreaterThan(0);
        expect(compareMinors("1.37", "2.0")).toBeLessThan(0);
        expect(compareMinors("1.35", "1.35")).toBe(0);
        expect(compareMinors(AKS_OLDEST_MINOR, AKS_SUPPORTED_MINORS[0])).toBe(-1);
    });

    test("the plan warns of a pool size Azure retires later, naming the key, the series and the day, and of no other", () => {
        expect(retiringSizeWarnings({ nodeVmSize: "Standard_DS3_v2", userNodeVmSize: "Standard_D4ds_v5" })).toEqual([
            "nodeVmSize Standard_DS3_v2 is of the Dsv2 series, which Azure retires on 2028-05-01; a pool keeps its VM size, so moving off it takes a new pool. Choose a current size such as Standard_D4ds_v5 for a new stack.",
        ]);
        expect(retiringSizeWarnings({ nodeVmSize: "Standard_NC6s_v3" })).toEqual([]);
    });
});
