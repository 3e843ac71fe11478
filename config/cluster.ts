// The cluster's rules that are about VM sizes.

/** Azure VM sizes AKS does not support for system node pools: B-series and the first A series. Exported for testing. */
export function isUnsupportedSystemPoolSize(vmSize: string): boolean {
    return /^Standard_B/i.test(vmSize) || /^Standard_A\d+$/i.test(vmSize);
}

/**
 * The vCPUs an Azure VM size's name states (`Standard_D4ds_v5`: 4; a constrained-core size such as
 * `Standard_E8-2ds_v5`: 2), or undefined when the name does not follow the pattern. Exported for testing.
 */
export function vmSizeVcpus(vmSize: string): number | undefined {
    const match = /^Standard_[A-Za-z]+(\d+)(?:-(\d+))?/.exec(vmSize);
    if (match === null) {
        return undefined;
    }
    return Number(match[2] ?? match[1]);
}
