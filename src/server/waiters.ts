/**
 * Parked requests (long-polls). A handler that finds nothing parks under a key with a deadline;
 * a write that may satisfy it wakes the key; the handler then looks again. Parks end on wake,
 * deadline (on the server clock) or abort (connection closed).
 */
import type { Clock, TimerHandle } from './clock.js';

interface Parked {
  resolve(woken: boolean): void;
}

/** Parked requests waiting for a key (long-polls), woken by writes, with a bound on how many wait. */
export class Waiters {
  private readonly byKey = new Map<string, Set<Parked>>();

  constructor(private readonly clock: Clock) {}

  /**
   * Resolves `true` when woken, `false` at the deadline or on abort. `deadlineMs` is an absolute
   * time on the server clock.
   */
  park(key: string, deadlineMs: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    const remaining = deadlineMs - this.clock.now();
    if (remaining <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let timer: TimerHandle | undefined;
      const set = this.byKey.get(key) ?? new Set<Parked>();
      this.byKey.set(key, set);
      const done = (woken: boolean) => {
        timer?.cancel();
        signal.removeEventListener('abort', onAbort);
        set.delete(parked);
        if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key);
        resolve(woken);
      };
      const parked: Parked = { resolve: done };
      const onAbort = () => done(false);
      set.add(parked);
      signal.addEventListener('abort', onAbort, { once: true });
      timer = this.clock.setTimer(remaining, () => done(false));
    });
  }

  /** Wakes every request parked under `key`. */
  wake(key: string): void {
    const set = this.byKey.get(key);
    if (!set) return;
    for (const p of [...set]) p.resolve(true);
  }

  /** Wakes one parked request (oldest first); returns whether there was one. */
  wakeOne(key: string): boolean {
    const set = this.byKey.get(key);
    if (!set) return false;
    const first = set.values().next().value;
    if (!first) return false;
    first.resolve(true);
    return true;
  }

  /** Requests waiting for `key`, or for any key. */
  count(key?: string): number {
    if (key !== undefined) return this.byKey.get(key)?.size ?? 0;
    let n = 0;
    for (const s of this.byKey.values()) n += s.size;
    return n;
  }

  /** Ends every park (as timed out). */
  clear(): void {
    for (const set of this.byKey.values()) for (const p of [...set]) p.resolve(false);
    this.byKey.clear();
  }
}
