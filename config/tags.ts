// The tags a team may add: names every tagged resource accepts, no more than the fewest any takes.
import { describePath, fail } from "./errors";

/** The tags the stack sets itself: on every resource, and on some one of these two. */
export const STACK_TAG_NAMES = ["project", "stack", "managed-by"] as const;
export const RESOURCE_TAG_NAMES = ["workload", "purpose"] as const;
/**
 * The fewest tags a resource the stack tags may carry: Private DNS zones and Key Vault keys and secrets
 * take 15 (Azure Resource Manager docs, tag-resources; Key Vault docs, about-keys-details), less the
 * stack's own, at most five on one resource.
 */
export const MAX_USER_TAGS = 15 - STACK_TAG_NAMES.length - RESOURCE_TAG_NAMES.length;
/** A tag name every resource the stack tags accepts: storage accounts take names of 128; DNS zones no special characters, spaces or a leading digit. */
export const TAG_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
export const MAX_TAG_VALUE_LENGTH = 256;

/** Refuses tag names that are the stack's own or that differ from another only in case (Azure compares tag names so). */
export function checkUserTags(tags: Readonly<Record<string, string>>): void {
    const reserved = new Set<string>([...STACK_TAG_NAMES, ...RESOURCE_TAG_NAMES]);
    const seen = new Map<string, string>();
    for (const name of Object.keys(tags)) {
        if (reserved.has(name.toLowerCase())) {
            fail(describePath("tags", [name]), tags[name], `is a tag the stack sets itself (${[...reserved].join(", ")}); choose another name`);
        }
        const earlier = seen.get(name.toLowerCase());
        if (earlier !== undefined) {
            fail(describePath("tags", [name]), tags[name], `has the name of tag ${earlier} but for case, and Azure compares tag names without case; keep one`);
        }
        seen.set(name.toLowerCase(), name);
    }
}
