/** Small helpers of the comparison bench: medians, interleaved rounds, N-in-flight loops, draining a read. */
import type { Observable } from 'rxjs';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs `total` operations with `inFlight` of them outstanding at a time (each finished operation
 * starts the next), and resolves with operations per second. `issue(i, done)` starts operation
 * `i` and calls `done()` (or `done(error)`) when it has finished.
 */
export function inFlightLoop(total: number, inFlight: number, issue: (i: number, done: (err?: unknown) => void) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let issued = 0;
    let finished = 0;
    let failed = false;
    const start = performance.now();
    const done = (err?: unknown) => {
      if (failed) return;
      if (err !== undefined) {
        failed = true;
        reject(err);
        return;
      }
      finished++;
      if (issued < total) next();
      else if (finished === total) resolve(total / ((performance.now() - start) / 1000));
    };
    const next = () => issue(issued++, done);
    for (let i = 0; i < Math.min(inFlight, total); i++) next();
  });
}

/** Subscribes `source` and resolves with items/s once `total` items went through, then unsubscribes. */
export function drain(source: Observable<unknown>, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const start = performance.now();
    const sub = source.subscribe({
      next: () => {
        if (++seen !== total) return;
        const perSec = total / ((performance.now() - start) / 1000);
        queueMicrotask(() => sub.unsubscribe());
        resolve(perSec);
      },
      error: reject,
      complete: () => reject(new Error(`completed after ${seen} of ${total} items`)),
    });
  });
}

/**
 * Reports the end of `o` to `done` (`done(error)` on error). The observer is a class instance: an
 * object literal of arrow functions made per operation would, under tsx (esbuild's keep-names),
 * also name each arrow through `__name` (a defineProperty per arrow, about 1 µs per operation in
 * a profile), a cost of the harness that only the flo-rx side of a comparison paid.
 */
export function subscribeDone(o: Observable<unknown>, done: (err?: unknown) => void): void {
  o.subscribe(new DoneObserver(done));
}

class DoneObserver {
  constructor(private readonly done: (err?: unknown) => void) {}
  error(err: unknown): void {
    this.done(err);
  }
  complete(): void {
    this.done();
  }
}
