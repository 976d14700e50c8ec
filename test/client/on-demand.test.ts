import { describe, expect, it } from 'vitest';
import { firstValueFrom, of } from 'rxjs';
import { onDemand } from '../../src/client/on-demand.js';

/** A loader whose import resolves (or fails) when the test says so. */
function manualLoader<M>() {
  const calls: { resolve: (m: M) => void; reject: (e: unknown) => void }[] = [];
  const load = () => new Promise<M>((resolve, reject) => calls.push({ resolve, reject }));
  return { load, calls };
}

describe('onDemand', () => {
  it('is cold: nothing is imported before the first subscription', () => {
    const { load, calls } = manualLoader<{ v: number }>();
    const use = onDemand(load);
    const value$ = use((m) => of(m.v));
    expect(calls).toHaveLength(0);
    value$.subscribe();
    expect(calls).toHaveLength(1);
  });

  it('runs the use once the module loaded, then synchronously on later subscriptions, importing once', async () => {
    const { load, calls } = manualLoader<{ v: number }>();
    const use = onDemand(load);
    const first = firstValueFrom(use((m) => of(m.v + 1)));
    calls[0]!.resolve({ v: 41 });
    expect(await first).toBe(42);
    const seen: number[] = [];
    use((m) => of(m.v)).subscribe((v) => seen.push(v));
    expect(seen).toEqual([41]); // no async hop once loaded
    expect(calls).toHaveLength(1);
  });

  it('is cancellable: unsubscribing while the module loads never runs the use', async () => {
    const { load, calls } = manualLoader<{ v: number }>();
    const use = onDemand(load);
    let used = 0;
    const sub = use((m) => {
      used++;
      return of(m.v);
    }).subscribe();
    sub.unsubscribe();
    calls[0]!.resolve({ v: 1 });
    await Promise.resolve();
    await Promise.resolve();
    expect(used).toBe(0);
  });

  it('a failed import errors that subscription only; the next one imports again', async () => {
    const { load, calls } = manualLoader<{ v: number }>();
    const use = onDemand(load);
    const failed = firstValueFrom(use((m) => of(m.v)));
    const offline = new TypeError('Failed to fetch dynamically imported module');
    calls[0]!.reject(offline);
    await expect(failed).rejects.toBe(offline);
    const retried = firstValueFrom(use((m) => of(m.v)));
    expect(calls).toHaveLength(2);
    calls[1]!.resolve({ v: 7 });
    expect(await retried).toBe(7);
  });
});
