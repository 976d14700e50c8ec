// Internal machinery shared by the subsystem APIs (kv, queue, stream, actions, workflow).
export { call, lazyCall, decodeReply, ignorePayload, type CallOptions, type CallRetry, type CallChannel } from './call.js';
export {
  poll,
  waitForReconnect,
  createResumer,
  type PollOptions,
  type ResumeOptions,
  type ReconnectSignals,
} from './poll.js';
export { checkBlockMs, MAX_BLOCK_MS, DEFAULT_POLL_BLOCK_MS } from './block-ms.js';
export { pollUntilTerminal } from './poll-until-terminal.js';
export type { Settler, SettleOp, NackOptions, TouchOptions } from './settler.js';
export { SettleCoalescer } from './coalescer.js';
export { settlesOf } from './settles.js';
export { createLease, eachLeased, handBack, type Lease, type Leased, type LeaseInit, type LeaseOutcome, type LeaseContext } from './lease.js';
export { leasingSource, type LeasingSourceOptions } from './leasing-source.js';
export { createClientCore, type ClientCore, type NamespaceOption, type RequestOptions } from './context.js';
export { DrainControl, type DrainRequest, type DrainRegistration } from './drain-control.js';
export { untilOf, type DrainOptions } from './drain.js';
export { drainOf, drainOptionsOf } from './drain-of.js';
export { resolveRetry, mayRetry, type RetryOptions } from './retry.js';
