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

    // Each series with sizes its page lists: one of each form the series' pattern allows (a suffix
    // present and absent, a constrained-core size, a core count of two digits), and its day.
    const SERIES_SIZES: [series: string, retires: string, sizes: string[]][] = [
        ["A8-A11", "2021-03-01", ["Standard_A8", "Standard_A11"]],
        ["H", "2022-08-31", ["Standard_H8", "Standard_H8m", "Standard_H16", "Standard_H16r", "Standard_H16mr", "Standard_H16m_Promo"]],
        ["NV", "2023-09-06", ["Standard_NV6", "Standard_NV24_Promo"]],
        ["NC", "2023-09-06", ["Standard_NC12", "Standard_NC24r_Promo"]],
        ["NCv2", "2023-09-06", ["Standard_NC6s_v2", "Standard_NC24rs_v2"]],
        ["ND", "2023-09-06", ["Standard_ND6s", "Standard_ND24rs"]],
        ["Av1", "2024-08-31", ["Basic_A0", "Basic_A4", "Standard_A0", "Standard_A7"]],
        ["HB", "2024-08-31", ["Standard_HB60rs", "Standard_HB60-15rs", "Standard_HB60-45rs"]],
        ["NCv3", "2025-09-30", ["Standard_NC6s_v3", "Standard_NC24rs_v3"]],
        ["DCsv2", "2026-06-30", ["Standard_DC1s_v2", "Standard_DC8_v2"]],
        ["NVv3", "2026-09-30", ["Standard_NV12s_v3", "Standard_NV48s_v3"]],
        ["NVv4", "2026-09-30", ["Standard_NV4as_v4", "Standard_NV32as_v4"]],
        ["M192i v2", "2027-03-31", ["Standard_M192is_v2", "Standard_M192ims_v2", "Standard_M192ids_v2", "Standard_M192idms_v2"]],
        ["HBv2", "2027-05-31", ["Standard_HB120rs_v2", "Standard_HB120-16rs_v2", "Standard_HB120-96rs_v2"]],
        ["HC", "2027-05-31", ["Standard_HC44rs", "Standard_HC44-16rs"]],
        ["D", "2028-05-01", ["Standard_D1", "Standard_D14"]],
        ["Ds", "2028-05-01", ["Standard_DS1", "Standard_DS14"]],
        ["Dv2", "2028-05-01", ["Standard_D1_v2", "Standard_D15_v2", "Standard_D2_v2_Promo"]],
        ["Dsv2", "2028-05-01", ["Standard_DS1_v2", "Standard_DS15_v2", "Standard_DS13-4_v2", "Standard_DS2_v2_Promo"]],
        ["Ls", "2028-05-01", ["Standard_L4s", "Standard_L32s"]],
        ["Av2", "2028-11-15", ["Standard_A1_v2", "Standard_A8m_v2"]],
        ["B (v1)", "2028-11-15", ["Standard_B1ls", "Standard_B2s", "Standard_B12ms"]],
        ["F", "2028-11-15", ["Standard_F1", "Standard_F16s"]],
        ["Fsv2", "2028-11-15", ["Standard_F2s_v2", "Standard_F72s_v2"]],
        ["G", "2028-11-15", ["Standard_G1", "Standard_GS5", "Standard_GS4-8", "Standard_GS5-16"]],
        ["Lsv2", "2028-11-15", ["Standard_L8s_v2", "Standard_L80s_v2"]],
        ["DCsv3", "2029-10-31", ["Standard_DC1s_v3", "Standard_DC16s_v3", "Standard_DC48ds_v3"]],
    ];

    test("every series is tried, in the catalog's order", () => {
        expect(SERIES_SIZES.map(([series]) => series)).toEqual(RETIRING_VM_SERIES.map((s) => s.series));
    });

    test.each(SERIES_SIZES)("the %s series, which Azure retires on %s, has each size its page lists, matched whole", (series, retires, sizes) => {
        for (const size of sizes) {
            expect(retiringSeries(size)).toMatchObject({ series, retires });
            // A name is a size only whole: more before or after it names no retiring series.
            expect(retiringSeries(`x${size}`)).toBeUndefined();
            expect(retiringSeries(`${size}x`)).toBeUndefined();
        }
    });

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
