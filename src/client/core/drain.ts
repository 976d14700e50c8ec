/**
 * The client-wide drain behind `flo.drain()`: leasing sources and action workers register while
 * they run; a drain tells each of them to stop leasing (replayed, so one that starts later stops at
 * once) and resolves when every registered one has finished (settled or handed back what it held).
 * Owns `DrainControl`; knows nothing of what the registrants do.
 */
import { Observable, ReplaySubject, type ObservableInput } from 'rxjs';

export { DEFAULT_DRAIN_TIMEOUT_MS } from './drain-timeout.js';

/** What a drain asks of each registrant. */
export interface DrainRequest {
  /** Running handlers get this long to finish; then their items are handed back. */
  readonly deadlineMs: number;
}

/** One running registrant; `done()` once it has stopped (idempotent). */
export interface DrainRegistration {
  done(): void;
}

/** The client-wide drain: registrants, the replayed request, and the wait for all of them. */
export class DrainControl {
  private readonly requested = new ReplaySubject<DrainRequest>(1);
  /** Emits once when a drain starts (replayed). */
  readonly requested$: Observable<DrainRequest> = this.requested.asObservable();
  private readonly running = new Set<DrainRegistration>();
  private idle: Array<() => void> = [];
  private started: DrainRequest | undefined;

  /** True once `drain` was called. */
  get draining(): boolean {
    return this.started !== undefined;
  }

  /** Registers a running source or worker. */
  register(): DrainRegistration {
    const reg: DrainRegistration = {
      done: () => {
        if (!this.running.delete(reg)) return;
        if (this.running.size === 0) {
          const idle = this.idle;
          this.idle = [];
          for (const resolve of idle) resolve();
        }
      },
    };
    this.running.add(reg);
    return reg;
  }

  /** Starts the drain (the first call's deadline counts); resolves when every registrant is done. */
  drain(request: DrainRequest): Promise<void> {
    if (this.started === undefined) {
      this.started = request;
      this.requested.next(request);
    }
    if (this.running.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idle.push(resolve));
  }
}

/** The per-pipeline stop accepted by `messages`, `group`, `streamWorker` and `settle`. */
export interface DrainOptions {
  /**
   * When this emits or completes (an Observable, a Promise) or aborts (an `AbortSignal`), the
   * pipeline drains: it stops leasing, lets running handlers finish within `drainTimeoutMs`, hands
   * back what is still unsettled, and completes. `flo.drain()` does the same for every pipeline.
   */
  readonly until?: ObservableInput<unknown> | AbortSignal;
  /** How long a drain waits for running handlers. Default 30 000 ms (`flo.drain()`'s own, if given). */
  readonly drainTimeoutMs?: number;
}

/** `until` as an Observable (an AbortSignal emits when it aborts). */
export function untilOf(until: DrainOptions['until']): ObservableInput<unknown> | undefined {
  if (until === undefined) return undefined;
  if (isAbortSignal(until)) {
    const signal = until;
    return new Observable<unknown>((s) => {
      if (signal.aborted) {
        s.next(signal.reason);
        return undefined;
      }
      const onAbort = () => s.next(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      return () => signal.removeEventListener('abort', onAbort);
    });
  }
  return until;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && typeof (value as AbortSignal).addEventListener === 'function' && 'aborted' in value;
}
