// Graceful drain over real sockets: `flo.drain()` and a pipeline's `until` with slow handlers:
// nothing lost, nothing left leased, the pipeline completes, and handlers still running at the
// deadline see their AbortSignal abort. Also: a handler's signal aborts on its timeout.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, range, mergeMap, toArray } from 'rxjs';
import { HandlerAbandonedError, HandlerTimeoutError, settle, type FloEvent, type SettleResult, type QueueMessage } from '../../../src/node.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function fill(n: number): Promise<void> {
  await lastValueFrom(range(0, n).pipe(mergeMap((i) => env!.client.queue.enqueue('jobs', `job${i}`)), toArray()));
}

/** Resolves when `signal` aborts, with its reason. */
const aborted = (signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));

describe('flo.drain()', () => {
  it('stops leasing, lets running handlers finish, hands back the slow ones at the deadline, and completes', async () => {
    env = await startEmbedded();
    await fill(6);
    const flo = env.client;
    const events: FloEvent[] = [];
    flo.events$.subscribe((e) => events.push(e));
    const started: string[] = [];
    const reasons: unknown[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const results: SettleResult<QueueMessage>[] = [];
    let completed = false;
    let pipelineDone!: () => void;
    const finished = new Promise<void>((r) => (pipelineDone = r));
    flo.queue
      .messages('jobs', { maxInFlight: 3, blockMs: 1000 })
      .pipe(
        settle(
          async (m, { signal }) => {
            const name = text(m.payload);
            started.push(name);
            if (started.length === 1) return gate; // finishes once released (before the deadline)
            reasons.push(await aborted(signal)); // never finishes by itself
            throw signal.reason;
          },
          { concurrency: 3 },
        ),
      )
      .subscribe({ next: (r) => results.push(r), complete: () => ((completed = true), pipelineDone()) });

    while (started.length < 3) await new Promise((r) => setTimeout(r, 5));
    const drained = flo.drain({ timeoutMs: 300 });
    release();
    await Promise.all([drained, finished]);

    expect(completed).toBe(true);
    expect(started).toHaveLength(3); // nothing leased after the drain began
    expect(results.map((r) => r.outcome).sort()).toEqual(['acked', 'nacked', 'nacked']);
    expect(reasons).toHaveLength(2);
    for (const r of reasons) expect(r).toBeInstanceOf(HandlerAbandonedError);
    const stats = await firstValueFrom(flo.queue.stats('jobs'));
    expect(stats.leased).toBe(0n); // nothing left leased
    expect(stats.ready).toBe(5n); // nothing lost: 6 - 1 acked
    expect(events).toContainEqual({ type: 'draining', source: 'queue:jobs', deadlineMs: 300 });
    expect(events).toContainEqual({ type: 'handed-back', source: 'queue:jobs', count: 2, reason: 'drain-deadline' });
    expect(events).toContainEqual({ type: 'drained', source: 'queue:jobs', handedBack: 2, timedOut: true });
  });

  it('completes without waiting when every handler finishes in time', async () => {
    env = await startEmbedded();
    await fill(4);
    const flo = env.client;
    const done: string[] = [];
    const pipeline = lastValueFrom(
      flo.queue.messages('jobs', { maxInFlight: 2, blockMs: 1000 }).pipe(
        settle(async (m) => {
          await new Promise((r) => setTimeout(r, 20));
          done.push(text(m.payload));
        }, { concurrency: 2 }),
        toArray(),
      ),
    );
    while (done.length < 1) await new Promise((r) => setTimeout(r, 5));
    await flo.drain({ timeoutMs: 60_000 });
    const results = await pipeline;
    expect(results.every((r) => r.outcome === 'acked')).toBe(true);
    const stats = await firstValueFrom(flo.queue.stats('jobs'));
    expect(stats.leased).toBe(0n);
    expect(Number(stats.ready) + results.length).toBe(4);
  });
});

describe('until (per pipeline)', () => {
  it('an AbortSignal drains one group pipeline: running handlers finish, the rest stays for later', async () => {
    env = await startEmbedded();
    const flo = env.client;
    await lastValueFrom(range(0, 5).pipe(mergeMap((i) => flo.stream.append('orders', `o${i}`), 1), toArray()));
    const stop = new AbortController();
    const seen: string[] = [];
    const results = lastValueFrom(
      flo.stream
        .group('orders', 'billing', { consumer: 'w1', maxInFlight: 1, blockMs: 1000, until: stop.signal, drainTimeoutMs: 5000 })
        .pipe(
          settle(async (r) => {
            seen.push(text(r.payload));
            if (seen.length === 2) stop.abort();
            await new Promise((res) => setTimeout(res, 10));
          }),
          toArray(),
        ),
    );
    const out = await results;
    expect(out.map((r) => r.outcome)).toEqual(['acked', 'acked']);
    // The other three are still there for the group.
    const rest = await lastValueFrom(flo.stream.groupRead('orders', 'billing', 'w2', { count: 10 }).pipe(toArray()));
    expect(rest.map((r) => text(r.payload))).toEqual(['o2', 'o3', 'o4']);
  });
});

describe('settle handler AbortSignal', () => {
  it('aborts with HandlerTimeoutError when the handler times out', async () => {
    env = await startEmbedded();
    await fill(1);
    const reason = new Promise<unknown>((resolve) => {
      env!.client.queue
        .messages('jobs', { blockMs: 1000 })
        .pipe(settle((_m, { signal }) => aborted(signal).then(resolve).then(() => new Promise(() => undefined)), { timeoutMs: 50 }))
        .subscribe({ error: () => undefined });
    });
    expect(await reason).toBeInstanceOf(HandlerTimeoutError);
  });

  it('aborts when the pipeline is unsubscribed', async () => {
    env = await startEmbedded();
    await fill(1);
    let signal: AbortSignal | undefined;
    const sub = env.client.queue
      .messages('jobs', { blockMs: 1000 })
      .pipe(settle((_m, ctx) => ((signal = ctx.signal), new Promise(() => undefined))))
      .subscribe();
    while (!signal) await new Promise((r) => setTimeout(r, 5));
    expect(signal.aborted).toBe(false);
    sub.unsubscribe();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(HandlerAbandonedError);
  });
});

describe('drain events for late pipelines', () => {
  it('a pipeline started after drain() completes at once', async () => {
    env = await startEmbedded();
    await env.client.drain();
    const out = await lastValueFrom(env.client.queue.messages('jobs').pipe(toArray()));
    expect(out).toEqual([]);
  });
});
