/**
 * `project()` keeps its argument checks and the sharing at start; its fold (`project-run.ts`) loads
 * at the first subscription, with the stream calls (one lazy chunk). The tests run in order: the
 * first ones run before the code loaded (each test file has its own module registry).
 */
import { describe, expect, it } from 'vitest';
import { Observable, Subject } from 'rxjs';
import type { ConnectionState } from '../../src/connection/types.js';
import { InvalidArgumentError, Op } from '../../src/protocol/index.js';
import { project, type ProjectionClient, type ProjectionState } from '../../src/projection/index.js';
import { recordingClient, until } from '../support/recording-client.js';

/** A projection client that records each call it gets (none of them answers). */
function countingClient(): { flo: ProjectionClient; calls: string[] } {
  const calls: string[] = [];
  const call = (name: string) => () =>
    new Observable<never>(() => {
      calls.push(name);
    });
  return {
    calls,
    flo: {
      state$: new Subject<ConnectionState>(),
      stream: { read: call('read'), tail: call('tail'), info: call('info') },
      kv: { get: call('kv.get'), put: call('kv.put') },
    },
  };
}

const reducer = (n: number): number => n + 1;
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('project(): the fold loaded on first use', () => {
  it('before the code loaded, argument errors are thrown by project() itself, synchronously', () => {
    const { flo, calls } = countingClient();
    const errors: unknown[] = [];
    const attempt = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        errors.push(e);
      }
    };
    attempt(() => project(flo, '', { reducer, initial: 0 }));
    attempt(() => project(flo, 's', { initial: 0 } as never));
    attempt(() => project(flo, 's', { reducer, initial: 0, retryDelayMs: -1 }));
    attempt(() => project(flo, 's', { reducer, initial: 0, snapshot: { key: '' } }));
    attempt(() => project(flo, 's', { reducer, initial: 0, snapshot: { key: 'k', everyN: 0 } }));
    attempt(() => project({ stream: flo.stream }, 's', { reducer, initial: 0, snapshot: { key: 'k' } }));
    expect(errors).toHaveLength(6);
    for (const e of errors) expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(calls).toEqual([]);
  });

  it('unsubscribing while the code loads starts nothing: no read, no snapshot read, no value, no request', async () => {
    const { flo, calls } = countingClient();
    const values: unknown[] = [];
    const ends: unknown[] = [];
    const watch = { next: (v: unknown) => values.push(v), error: (e: unknown) => ends.push(e), complete: () => ends.push('complete') };
    project(flo, 's', { reducer, initial: 0 }).subscribe(watch).unsubscribe();
    project(flo, 's', { reducer, initial: 0, snapshot: { key: 'k' } }).subscribe(watch).unsubscribe();
    // A FloClient too: nothing reaches its connection.
    const real = recordingClient();
    project(real.flo, 's', { reducer, initial: 0 }).subscribe(watch).unsubscribe();
    // The lazy chunk arrives meanwhile (another user loads it): the cancelled runs stay cancelled.
    await import('../../src/client/on-demand-modules.js');
    await settle();
    expect(calls).toEqual([]);
    expect(real.sent).toEqual([]);
    expect(values).toEqual([]);
    expect(ends).toEqual([]);
  });

  it('a subscription that stays starts the run once the code arrived; once loaded, it starts synchronously', async () => {
    const real = recordingClient();
    const board$ = project(real.flo, 's', { reducer, initial: 0 });
    const values: ProjectionState<number>[] = [];
    const sub = board$.subscribe((v) => values.push(v));
    await until(() => real.sent.length > 0);
    expect(real.sent).toEqual([Op.StreamRead]);
    expect(values.map((v) => v.status)).toEqual(['replaying']);
    // A second subscriber shares the run: no second read.
    const late: ProjectionState<number>[] = [];
    const sub2 = board$.subscribe((v) => late.push(v));
    expect(late).toEqual([values[0]]);
    sub.unsubscribe();
    sub2.unsubscribe();

    // Loaded now: a new projection emits and reads within its subscribe call.
    const { flo, calls } = countingClient();
    const seen: unknown[] = [];
    const again = project(flo, 't', { reducer, initial: 0 }).subscribe((v) => seen.push(v));
    expect(seen).toEqual([{ state: 0, lastId: null, applied: 0, status: 'replaying', reset: null }]);
    expect(calls).toEqual(['read']);
    again.unsubscribe();
  });
});
