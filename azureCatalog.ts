// What Azure offers, as its own documentation lists it on the date below: the public cloud's regions,
// those with availability zones, the VM series it has retired or will retire, and the Kubernetes
// minors AKS supports. Config refuses, before anything is registered, what Azure would refuse later
// (config.ts); each list names its source, and docs/azure-behaviour.md rows 74-77 say how it is kept.
// A value is judged against CATALOG_DATE, never the clock, so a plan is the same on every day; the
// catalog is renewed by reading its sources again.

/** The day the lists below were read from their sources. */
export const CATALOG_DATE = "2026-12-04";

/**
 * The public cloud's regions by programmatic name: the table of Microsoft's "Azure regions list"
 * (MicrosoftDocs/reliability-docs articles/reliability/regions-list.md, 2026-07-28), plus
 * `swedensouth`, which it lists only as Sweden Central's pair.
 */
export const AZURE_REGIONS: readonly string[] = [
    "australiacentral",
    "australiacentral2",
    "australiaeast",
    "australiasoutheast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "brazilsoutheast",
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "chilecentral",
    "denmarkeast",
    "eastasia",
    "eastus",
    "eastus2",
    "francecentral",
    "francesouth",
    "germanynorth",
    "germanywestcentral",
    "indiasouthcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southafricawest",
    "southcentralus",
    "southindia",
    "southeastasia",
    "spaincentral",
    "swedencentral",
    "swedensouth",
    "switzerlandnorth",
    "switzerlandwest",
    "uaecentral",
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
];

/** The regions whose row in the same table says they have availability zones. */
export const ZONE_REGIONS: readonly string[] = [
    "australiaeast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "canadacentral",
    "centralindia",
    "centralus",
    "chilecentral",
    "denmarkeast",
    "eastasia",
    "eastus",
    "eastus2",
    "francecentral",
    "germanywestcentral",
    "indiasouthcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "koreacentral",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northeurope",
    "norwayeast",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southcentralus",
    "southeastasia",
    "spaincentral",
    "swedencentral",
    "switzerlandnorth",
    "uaenorth",
    "uksouth",
    "westeurope",
    "westus2",
    "westus3",
];

/** One VM series Azure retires: which sizes it has, and the day it goes. */
export interface RetiringSeries {
    series: string;
    /** The series' sizes, by name (`Standard_D4_v2`). */
    sizes: RegExp;
    /** The day Azure stops running it (YYYY-MM-DD). */
    retires: string;
}

/**
 * Series Microsoft has retired or announced for retirement: "Retired virtual machine sizes"
 * (MicrosoftDocs/azure-compute-docs articles/virtual-machines/sizes/retirement/retired-sizes-list.md,
 * and its earlier versions for series retired long ago) and the series' own retirement pages. A
 * retired size "can't be provisioned"; a pool cannot change its VM size once created (AKS docs,
 * create-node-pools), so a retiring one is a pool to replace later.
 */
export const RETIRING_VM_SERIES: readonly RetiringSeries[] = [
    { series: "A8-A11", sizes: /^Standard_A(8|9|10|11)$/i, retires: "2021-03-01" },
    { series: "H", sizes: /^Standard_H(8m?|16m?r?)(_Promo)?$/i, retires: "2022-08-31" },
    { series: "NV", sizes: /^Standard_NV(6|12|24)(_Promo)?$/i, retires: "2023-09-06" },
    { series: "NC", sizes: /^Standard_NC(6|12|24|24r)(_Promo)?$/i, retires: "2023-09-06" },
    { series: "NCv2", sizes: /^Standard_NC(6|12|24|24r)s_v2$/i, retires: "2023-09-06" },
    { series: "ND", sizes: /^Standard_ND(6|12|24|24r)s$/i, retires: "2023-09-06" },
    { series: "Av1", sizes: /^(Basic_A[0-4]|Standard_A[0-7])$/i, retires: "2024-08-31" },
    { series: "HB", sizes: /^Standard_HB60(-\d+)?rs$/i, retires: "2024-08-31" },
    { series: "NCv3", sizes: /^Standard_NC(6|12|24|24r)s_v3$/i, retires: "2025-09-30" },
    { series: "DCsv2", sizes: /^Standard_DC(1|2|4|8)s?_v2$/i, retires: "2026-06-30" },
    { series: "NVv3", sizes: /^Standard_NV(12|24|48)s_v3$/i, retires: "2026-09-30" },
    { series: "NVv4", sizes: /^Standard_NV(4|8|16|32)as_v4$/i, retires: "2026-09-30" },
    { series: "M192i v2", sizes: /^Standard_M192id?m?s_v2$/i, retires: "2027-03-31" },
    { series: "HBv2", sizes: /^Standard_HB120(-\d+)?rs_v2$/i, retires: "2027-05-31" },
    { series: "HC", sizes: /^Standard_HC44(-\d+)?rs$/i, retires: "2027-05-31" },
    { series: "D", sizes: /^Standard_D(1|2|3|4|11|12|13|14)$/i, retires: "2028-05-01" },
    { series: "Ds", sizes: /^Standard_DS(1|2|3|4|11|12|13|14)$/i, retires: "2028-05-01" },
    { series: "Dv2", sizes: /^Standard_D(1|2|3|4|5|11|12|13|14|15)_v2(_Promo)?$/i, retires: "2028-05-01" },
    { series: "Dsv2", sizes: /^Standard_DS(1|2|3|4|5|11|12|13|14|15)(-\d+)?_v2(_Promo)?$/i, retires: "2028-05-01" },
    { series: "Ls", sizes: /^Standard_L(4|8|16|32)s$/i, retires: "2028-05-01" },
    { series: "Av2", sizes: /^Standard_A(1|2|4|8)m?_v2$/i, retires: "2028-11-15" },
    { series: "B (v1)", sizes: /^Standard_B\d+(ls|s|ms)$/i, retires: "2028-11-15" },
    { series: "F", sizes: /^Standard_F(1|2|4|8|16)s?$/i, retires: "2028-11-15" },
    { series: "Fsv2", sizes: /^Standard_F\d+s_v2$/i, retires: "2028-11-15" },
    { series: "G", sizes: /^Standard_GS?[1-5](-\d+)?$/i, retires: "2028-11-15" },
    { series: "Lsv2", sizes: /^Standard_L\d+s_v2$/i, retires: "2028-11-15" },
    { series: "DCsv3", sizes: /^Standard_DC\d+d?s_v3$/i, retires: "2029-10-31" },
];

/** The series a size belongs to, if Azure retires it. */
export function retiringSeries(vmSize: string): RetiringSeries | undefined {
    return RETIRING_VM_SERIES.find((s) => s.sizes.test(vmSize));
}

/** Whether a series is gone on the catalog's date. */
export function isRetired(series: RetiringSeries, today: string = CATALOG_DATE): boolean {
    return series.retires <= today;
}

/**
 * The Kubernetes minors AKS supports on the catalog's date, outside long-term support (which needs
 * the Premium tier): "Supported Kubernetes versions in AKS" (MicrosoftDocs/azure-aks-docs
 * articles/aks/supported-kubernetes-versions.md, 2026-08-05), whose calendar ends 1.34 in November
 * 2026 and has 1.37 generally available from October 2026. AKS refuses a minor outside its list.
 */
export const AKS_SUPPORTED_MINORS: readonly string[] = ["1.35", "1.36", "1.37"];

/**
 * The oldest minor AKS still serves a cluster on: the newest minor less three ("platform support",
 * N-3, in the same article). An older one AKS no longer creates or supports; a cluster on it moves
 * up one minor at a time, so the minor just below the supported ones stays a step on that path.
 */
export const AKS_OLDEST_MINOR = "1.34";

/** Compares two `major.minor` versions: negative when `a` is older. */
export function compareMinors(a: string, b: string): number {
    const [aMajor, aMinor] = a.split(".").map(Number);
    const [bMajor, bMinor] = b.split(".").map(Number);
    return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor;
}
