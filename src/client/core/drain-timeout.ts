// On its own so that code needed at start-up (the action worker's option checks) can name it
// without importing `drain.ts`, whose drain control only the leasing code (loaded on demand) uses.

/** How long a drain waits for running handlers and unsettled items unless `drainTimeoutMs` says otherwise. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
