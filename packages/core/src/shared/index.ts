// Plumbing every layer of core shares: aborts and deadlines, reading response bodies, naming
// network errors, the transient-status table, loopback addresses and the inspect hook. Import it
// from here, never from a file inside.
export { createAbortScope, raceAbort, ScopeAbort, sleep } from './signals.js';
export type { AbortCause, AbortLink, AbortScope } from './signals.js';
export { discardBody, MAX_DOCUMENT_BYTES, parseJsonObject, readBodyText } from './body.js';
export { describeNetworkError } from './network-error.js';
export { isTransientStatus } from './http-status.js';
export { isLoopbackHostname, isLoopbackParsedHostname } from './loopback.js';
export { inspectSymbol } from './inspect.js';
export { closestName, refuseUnknownOptions } from './option-keys.js';
export { numberOption, validateClock } from './option-values.js';
export type { NumberRule } from './option-values.js';
