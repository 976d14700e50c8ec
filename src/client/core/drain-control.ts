/**
 * The client-wide drain behind `flo.drain()`: leasing sources and action workers register while
 * they run; a drain tells each of them to stop leasing (replayed, so one that starts later stops at
 * once) and resolves when every registered one has finished (settled or handed back what it held).
 * Knows nothing of what the registrants do. Built on first use (`drain-of.ts`), by the leasing
 * code loaded on demand.
 */
import { ReplaySubject, type Observable } from 'rxjs';

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
  private readonly requested_ = new ReplaySubject<DrainRequest>(1);
  /** Emits once when a drain starts (replayed). */
  readonly requested$: Observable<DrainRequest> = this.requested_.asObservable();
  private readonly running_ = new Set<DrainRegistration>();
  private idle_: Array<() => void> = [];
  private started_: DrainRequest | undefined;

  /** True once `drain` was called. */
  get draining(): boolean {
    return this.started_ !== undefined;
  }

  /** Registers a running source or worker. */
  register(): DrainRegistration {
    const reg: DrainRegistration = {
      done: () => {
        if (!this.running_.delete(reg)) return;
        if (this.running_.size === 0) {
          const idle = this.idle_;
          this.idle_ = [];
          for (const resolve of idle) resolve();
        }
      },
    };
    this.running_.add(reg);
    return reg;
  }

  /** Starts the drain (the first call's deadline counts); resolves when every registrant is done. */
  drain(request: DrainRequest): Promise<void> {
    if (this.started_ === undefined) {
      this.started_ = request;
      this.requested_.next(request);
    }
    if (this.running_.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idle_.push(resolve));
  }
}
