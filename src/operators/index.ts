// Pipeable operators for leased items (queue messages, group records, worker tasks).
export { ack } from './ack.js';
export { nack } from './nack.js';
export { settle, type SettleOptions, type SettleResult, type HandlerResult } from './settle.js';
export { renewLease, keepAlive, type RenewLeaseOptions } from './renewLease.js';
export { HandlerTimeoutError, HandlerAbandonedError, type HandlerContext, type Lease, type Leased, type LeaseOutcome, type NackOptions, type TouchOptions } from './types.js';
