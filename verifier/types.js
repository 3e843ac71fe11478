// @ts-check
/**
 * The shapes the verifier's modules share, as JSDoc types: its configuration, a request and its
 * response, an attempt and the result of retrying it, the clock, the reporter and the context of a run.
 */
"use strict";

/**
 * @typedef {"bound" | "unbound" | "impostor"} Mode
 * @typedef {"imds" | "workloadIdentity"} TokenSource
 * @typedef {"privatePath" | "token" | "keyvault" | "mount" | "synced" | "canary" | "blobWrite" | "blobRead" | "egress" | "impostor" | "config"} Step
 * @typedef {"rbac" | "accessPolicy"} KeyVaultAuthorization
 *
 * @typedef {object} Budgets
 * @property {number} tokenMs
 * @property {number} accessMs
 * @property {number} intervalMs
 * @property {number} requestTimeoutMs
 * @property {number} tokenRequestTimeoutMs
 *
 * @typedef {object} BoundTargets
 * @property {string} keyVaultUri
 * @property {string} secretName
 * @property {string} secretFile
 * @property {string} blobEndpoint
 * @property {string} blobContainer
 * @property {string} canarySecretName
 * @property {string} canaryContainer
 * @property {KeyVaultAuthorization} keyVaultAuthorization
 * @property {string} privateEndpointSubnet   IPv4 CIDR
 * @property {string | undefined} syncedSecretFile   the Kubernetes Secret the CSI driver mirrors, mounted as a file; absent when the workload mirrors none
 * @property {string | undefined} dnsServer   `host:port` of the resolver to ask, instead of the system's
 * @property {import("./egress").ProbeTarget | undefined} egressProbe   a public address no firewall rule admits, which must not answer; absent unless egress goes through the stack's firewall
 *
 * @typedef {object} Config
 * @property {Mode} mode
 * @property {TokenSource} tokenSource
 * @property {string} workload
 * @property {string} imdsEndpoint
 * @property {string | undefined} clientId
 * @property {string | undefined} tenantId
 * @property {string | undefined} federatedTokenFile
 * @property {string | undefined} authorityHost
 * @property {BoundTargets | undefined} targets   present in `bound` mode
 * @property {import("./impostor").ImpostorConfig | undefined} impostor   present in `impostor` mode
 * @property {Budgets} budgets
 *
 * @typedef {{ ok: true, config: Config } | { ok: false, mode: string | undefined, missing: string[], error: string }} ConfigResult
 *
 * @typedef {object} HttpRequest
 * @property {string} method
 * @property {string} url
 * @property {Record<string, string>} headers
 * @property {string} [body]
 * @property {string} [ca]   PEM certificates trusted instead of the system's (the cluster's CA)
 *
 * @typedef {object} HttpResponse
 * @property {number} status
 * @property {string} statusText
 * @property {import("http").IncomingHttpHeaders} headers
 * @property {string} body
 *
 * A failed attempt: an HTTP answer that refused, a service that could not be reached, or a
 * request that could not even be made (e.g. no federated token in the pod).
 * @typedef {object} Failure
 * @property {"refused" | "unreachable" | "local"} kind
 * @property {string} detail
 */

/**
 * @template T
 * @typedef {{ kind: "ok", value: T } | { kind: "retry", failure: Failure, retryAfterMs?: number } | { kind: "stop", failure: Failure }} Attempt
 */

/**
 * @template T
 * @typedef {{ ok: true, value: T, attempts: number, elapsedMs: number } | { ok: false, failure: Failure, attempts: number, elapsedMs: number }} RetryResult
 */

/**
 * @typedef {object} Clock
 * @property {() => number} now
 * @property {(ms: number) => Promise<void>} sleep
 *
 * @typedef {object} Reporter
 * @property {(value: string) => void} remember   marks a value that must never be printed
 * @property {(text: string) => string} redact
 * @property {(line: string) => void} log         one progress line on stderr
 *
 * @typedef {object} Context
 * @property {Config} config
 * @property {Clock} clock
 * @property {Reporter} reporter
 * @property {(request: HttpRequest, timeoutMs: number) => Promise<HttpResponse>} send
 * @property {import("./egress").Probe} probe   opens a connection to the egress proof's address
 * @property {Map<string, string>} pinned   host name to the address checked on the private path
 * @property {{ step: Step }} progress   the step under way, for the verdict of an unexpected error
 */

/**
 * @typedef {object} Outcome
 * @property {Record<string, unknown>} verdict
 * @property {number} exitCode
 */

module.exports = {};
