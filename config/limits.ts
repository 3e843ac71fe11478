// The numeric limits config holds values to, each with where it comes from.

/** Azure CNI (without overlay) gives every node this many pod addresses plus its own. */
export const MAX_PODS_PER_NODE = 30;
/** Azure keeps the first four and the last address of every subnet. */
export const AZURE_RESERVED_PER_SUBNET = 5;
/** Node-image upgrades add one surge node to each pool while it rolls (`maxSurge: "1"`). */
export const UPGRADE_SURGE_NODES = 1;
export const MAX_NODE_COUNT = 100;
/** The zones of a region with availability zones, as AKS names them (uksouth has all three). */
export const AVAILABILITY_ZONES = ["1", "2", "3"] as const;
/** A Log Analytics workspace's retention on the PerGB2018 tier (operationalinsights Workspace, retentionInDays). */
export const MIN_LOG_RETENTION_DAYS = 30;
export const MAX_LOG_RETENTION_DAYS = 730;
/** The longest retention a flow log's storage policy takes (Network Watcher docs, vnet-flow-logs-overview). */
export const MAX_FLOW_LOG_RETENTION_DAYS = 365;
/** Ten years: longer lifetimes are not a lifecycle. */
export const MAX_LIFETIME_DAYS = 3650;
/** When a key's rotation policy rotates it and notifies, in days before the version expires. */
export const KEY_ROTATE_BEFORE_EXPIRY_DAYS = 30;
export const KEY_NOTIFY_BEFORE_EXPIRY_DAYS = 37;
/**
 * The shortest key lifetime the policy allows: Key Vault needs the rotation at least 7 days after
 * creation ("the minimum value is seven days from creation"), so the notification, the earlier of the
 * two, comes at least 7 days after creation too.
 */
export const MIN_KEY_LIFETIME_DAYS = KEY_NOTIFY_BEFORE_EXPIRY_DAYS + 7;
export const MAX_WORKLOADS = 100;
