// Reading the URNs and provider references of a plan (the engine's formats), for the plan, graph and
// policy commands alike.

/** The name part of a URN (after its last `::`). */
export function urnName(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The provider URN of a provider reference `<urn>::<id>`, or undefined for "" (none). */
export function providerUrn(reference: string): string | undefined {
    return reference === "" ? undefined : reference.slice(0, reference.lastIndexOf("::"));
}
