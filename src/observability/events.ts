/**
 * `flo.events$`: what the client does, as one typed discriminated union (like NATS's `status()`).
 * Owns `FloEvent` and `EventHub`, the one place events are emitted: the hub hands each event to
 * the logger (if any) and to `events$` subscribers (if any). Universal: no `node:` import.
 */
import { Subject, type Observable } from 'rxjs';
import type { ConnectionEvent } from '../connection/types.js';
import { logEvent, type FloLogger } from './logger.js';

/** What a client reports (see each variant). Connection events carry the endpoint and error. */
export type FloEvent =
  | ConnectionEvent
  /** A request failed with a retryable status and is sent again after `delayMs`. */
  | {
      readonly type: 'retry';
      readonly operation: string;
      /** The retry's number: 1 for the first resend. */
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: Error;
    }
  /** Leased items were given back to the server unprocessed (nack without delay). */
  | { readonly type: 'handed-back'; readonly source: string; readonly count: number; readonly reason: HandBackReason }
  /** Settles (acks, nacks, touches) lost with the connection are sent again. */
  | { readonly type: 'settle-resent'; readonly op: string; readonly count: number; readonly attempt: number; readonly error: Error }
  /** A drain began: `flo.drain()` or a pipeline's `until`. */
  | { readonly type: 'draining'; readonly source: string; readonly deadlineMs: number }
  /**
   * A handler (of `settle` or an action worker) is still running `thresholdMs` after it started
   * (`slowHandlerMs`); reported once per handler, while it runs.
   */
  | {
      readonly type: 'slow-handler';
      /** The item's source: `queue:<name>`, `group:<stream>/<group>`, `action:<name>`. */
      readonly source: string;
      /** The queue sequence number, stream record id or action task id. */
      readonly itemId: string;
      /** How long the handler had been running when reported, in ms. */
      readonly elapsedMs: number;
      readonly thresholdMs: number;
    }
  /** A drain ended: every item leased by `source` was settled or handed back. */
  | { readonly type: 'drained'; readonly source: string; readonly handedBack: number; readonly timedOut: boolean };

/** Why items were handed back. */
export type HandBackReason = 'unsubscribed' | 'late-reply' | 'drain-deadline';

/** The `type` of every `FloEvent`. */
export type FloEventType = FloEvent['type'];

/** Receives the client's events; the single place they go through. */
export class EventHub {
  private readonly subject_ = new Subject<FloEvent>();
  private declare readonly logger_: FloLogger | undefined;
  /** Every event from now on (hot: no replay). */
  readonly events$: Observable<FloEvent> = this.subject_.asObservable();

  constructor(logger?: FloLogger) {
    this.logger_ = logger;
  }

  /** Emits an event to the logger and to `events$`. Bound: pass it around as a callback. */
  readonly emit = (event: FloEvent): void => {
    if (this.logger_ !== undefined) logEvent(this.logger_, event);
    if (this.subject_.observed) this.subject_.next(event);
  };

  /** True when someone will see events (worth building them). */
  get active(): boolean {
    return this.logger_ !== undefined || this.subject_.observed;
  }

  complete(): void {
    this.subject_.complete();
  }
}
