import { FloError } from '../protocol/errors.js';
export type { Lease, Leased, LeaseOutcome } from '../client/core/lease.js';
export type { NackOptions, TouchOptions } from '../client/core/settler.js';

/** A `settle()` handler that did not finish within `timeoutMs` (its item is nacked). */
export class HandlerTimeoutError extends FloError {
  override name = 'HandlerTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`flo: handler did not finish within ${timeoutMs} ms`);
  }
}
