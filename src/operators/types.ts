import { FloError } from '../protocol/errors.js';
export type { Lease, Leased, LeaseOutcome } from '../client/core/lease.js';
export type { NackOptions, TouchOptions } from '../client/core/settler.js';

/** A `settle()` handler that did not finish within `timeoutMs` (its item is nacked). */
export class HandlerTimeoutError extends FloError {
  override name = 'HandlerTimeoutError';
  declare readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`flo: handler did not finish within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Why a `settle()` handler's signal aborted or its item was handed back without running: the
 * pipeline drained (`until`) and the deadline passed, or the item's lease was given back by its
 * source (a drain deadline of `messages`/`group`, or `flo.drain()`).
 */
export class HandlerAbandonedError extends FloError {
  override name = 'HandlerAbandonedError';
  declare readonly reason: 'drain-deadline' | 'draining' | 'handed-back' | 'unsubscribed';
  constructor(reason: 'drain-deadline' | 'draining' | 'handed-back' | 'unsubscribed') {
    super(
      reason === 'draining'
        ? 'flo: not run: the pipeline is draining (handed back)'
        : reason === 'drain-deadline'
          ? 'flo: handler still running at the drain deadline (handed back)'
          : reason === 'handed-back'
            ? "flo: the item's lease was handed back while its handler ran"
            : 'flo: the pipeline was unsubscribed while the handler ran',
    );
    this.reason = reason;
  }
}

/** What a `settle()` handler receives besides the item. */
export interface HandlerContext {
  /**
   * Aborts when the handler's result no longer counts: `timeoutMs` passed (reason
   * `HandlerTimeoutError`), the drain deadline passed or the item was handed back
   * (`HandlerAbandonedError`), or the pipeline was unsubscribed.
   */
  readonly signal: AbortSignal;
}
