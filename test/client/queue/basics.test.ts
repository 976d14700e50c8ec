// flo.queue over real sockets against the embedded server: every direct method.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray, type Observable } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { InvalidArgumentError } from '../../../src/protocol/errors.js';
import type { FloClient } from '../../../src/node.js';

const all = <T>(o: Observable<T>) => lastValueFrom(o.pipe(toArray()));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

let env: Embedded;
let flo: FloClient;
beforeEach(async () => {
  env = await startEmbedded();
  flo = env.client;
});
afterEach(async () => {
  await env.close();
});

describe('flo.queue (integration)', () => {
  it('enqueue is cold and emits a per-queue seq starting at 1; payloads: bytes, text, codec', async () => {
    const enqueue$ = flo.queue.enqueue('jobs', { n: 1 });
    expect((await firstValueFrom(flo.queue.stats('jobs'))).enqueued).toBe(0n); // nothing sent yet
    expect(await firstValueFrom(enqueue$)).toBe(1n);
    expect(await firstValueFrom(enqueue$)).toBe(2n); // subscribing twice sends twice
    expect(await firstValueFrom(flo.queue.enqueue('jobs', 'plain text'))).toBe(3n);
    expect(await firstValueFrom(flo.queue.enqueue('jobs', new Uint8Array([0, 255])))).toBe(4n);
    expect(await firstValueFrom(flo.queue.enqueue('other', 'x'))).toBe(1n); // one counter per queue

    const got = await all(flo.queue.dequeue('jobs', 10));
    expect(got.map((m) => m.seq)).toEqual([1n, 2n, 3n, 4n]);
    expect(got[0]!.data<{ n: number }>()).toEqual({ n: 1 });
    expect(got[0]!.queue).toBe('jobs');
    expect(text(got[2]!.payload)).toBe('plain text');
    expect([...got[3]!.payload]).toEqual([0, 255]);
    expect(got[0]!.lease.leaseMs).toBe(30_000);
    expect(got[0]!.lease.settled).toBe(false);
  });

  it('a dequeued or peeked message shows its wire fields as own properties and data() on the side', async () => {
    await firstValueFrom(flo.queue.enqueue('shape', { n: 1 }));
    const [peeked] = await all(flo.queue.peek('shape', 1));
    const [leased] = await all(flo.queue.dequeue('shape', 1));
    const wire = Object.keys(peeked!);
    expect(wire.slice(0, 3)).toEqual(['queue', 'seq', 'payload']);
    expect(wire).not.toContain('data');
    expect(wire).not.toContain('lease');
    expect(Object.keys(leased!)).toEqual([...Object.keys(leased!).filter((k) => k !== 'lease'), 'lease']);
    expect(Object.keys(leased!)).toContain('lease');
    for (const key of Object.keys(leased!)) expect((leased as unknown as Record<string, unknown>)[key]).not.toBeUndefined();
    expect(leased!.data<{ n: number }>()).toEqual({ n: 1 });
    expect({ ...leased! }).not.toHaveProperty('data');
    await firstValueFrom(leased!.lease.ack());
  });

  it('dequeue is one batch: at most n, then completes; an empty queue completes at once', async () => {
    for (let i = 0; i < 5; i++) await firstValueFrom(flo.queue.enqueue('q', `m${i}`));
    const first = await all(flo.queue.dequeue('q', 3));
    expect(first.map((m) => m.seq)).toEqual([1n, 2n, 3n]);
    const rest = await all(flo.queue.dequeue('q', 10));
    expect(rest.map((m) => m.seq)).toEqual([4n, 5n]);
    expect(await all(flo.queue.dequeue('q', 10))).toEqual([]);
    expect(await all(flo.queue.dequeue('never-used', 10))).toEqual([]);
    const s = await firstValueFrom(flo.queue.stats('q'));
    expect(s.leased).toBe(5n);
    expect(s.ready).toBe(0n);
  });

  it('a blocking dequeue waits for the enqueue that satisfies it', async () => {
    const waiting = all(flo.queue.dequeue('q', 5, { blockMs: 10_000 }));
    const other = env.newClient();
    await firstValueFrom(other.queue.enqueue('q', 'late'));
    const got = await waiting;
    expect(got.map((m) => text(m.payload))).toEqual(['late']);
  });

  it('priority: the lower number first, equal priorities in seq order (docs/protocol-decisions.md #11)', async () => {
    const plan: [string, number][] = [['c', 5], ['a', 1], ['d', 5], ['z', 200], ['b', 1], ['zero', 0]];
    for (const [p, priority] of plan) await firstValueFrom(flo.queue.enqueue('prio', p, { priority }));
    const got = await all(flo.queue.dequeue('prio', 10));
    expect(got.map((m) => text(m.payload))).toEqual(['zero', 'a', 'b', 'c', 'd', 'z']);
  });

  it('dedup: a duplicate key returns the original seq and stores nothing (docs/protocol-decisions.md #9)', async () => {
    const a = await firstValueFrom(flo.queue.enqueue('d', 'first', { dedupKey: 'task-123' }));
    const b = await firstValueFrom(flo.queue.enqueue('d', 'second', { dedupKey: 'task-123' }));
    const c = await firstValueFrom(flo.queue.enqueue('d', 'third', { dedupKey: 'task-456' }));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    const got = await all(flo.queue.peek('d', 10));
    expect(got.map((m) => text(m.payload))).toEqual(['first', 'third']);
    expect((await firstValueFrom(flo.queue.stats('d'))).enqueued).toBe(2n);
  });

  it('ack removes; nack redelivers at once; nack toDlq dead-letters', async () => {
    for (const p of ['a', 'b', 'c']) await firstValueFrom(flo.queue.enqueue('s', p));
    const [a, b, c] = await all(flo.queue.dequeue('s', 3));
    await firstValueFrom(flo.queue.ack('s', [a!.seq]));
    await firstValueFrom(flo.queue.nack('s', b!.seq));
    await firstValueFrom(flo.queue.nack('s', [c!.seq], { toDlq: true }));
    const again = await all(flo.queue.dequeue('s', 10));
    expect(again.map((m) => m.seq)).toEqual([b!.seq]);
    const dlq = await all(flo.queue.dlq.list('s'));
    expect(dlq.map((m) => m.seq)).toEqual([c!.seq]);
    expect(text(dlq[0]!.payload)).toBe('c');
    expect('lease' in dlq[0]!).toBe(false);
    const s = await firstValueFrom(flo.queue.stats('s'));
    expect([s.acked, s.nacked, s.dlqCurrent, s.leased]).toEqual([1n, 2n, 1n, 1n]);
  });

  it('peek shows ready messages without leasing them', async () => {
    for (const id of [1, 2]) await firstValueFrom(flo.queue.enqueue('p', { id }));
    const peeked = await all(flo.queue.peek('p', 10));
    expect(peeked.map((m) => m.seq)).toEqual([1n, 2n]);
    expect('lease' in peeked[0]!).toBe(false);
    expect(peeked[1]!.data()).toEqual({ id: 2 });
    expect(await all(flo.queue.peek('p', 1))).toHaveLength(1);
    expect((await firstValueFrom(flo.queue.stats('p'))).leased).toBe(0n);
    expect(await all(flo.queue.dequeue('p', 10))).toHaveLength(2); // still all there
  });

  it('DLQ: list with limit, requeue keeps the seq and redelivers, delete and stats', async () => {
    for (const p of ['a', 'b', 'c']) await firstValueFrom(flo.queue.enqueue('dq', p));
    const got = await all(flo.queue.dequeue('dq', 3));
    await firstValueFrom(flo.queue.nack('dq', got.map((m) => m.seq), { toDlq: true }));
    expect((await all(flo.queue.dlq.list('dq', { limit: 2 }))).map((m) => m.seq)).toEqual([1n, 2n]);
    expect(await firstValueFrom(flo.queue.dlq.stats('dq'))).toEqual({ current: 3n, total: 3n });
    await firstValueFrom(flo.queue.dlq.requeue('dq', [2n, 99n]));
    await firstValueFrom(flo.queue.dlq.delete('dq', 3n));
    expect((await all(flo.queue.dlq.list('dq'))).map((m) => m.seq)).toEqual([1n]);
    const redelivered = await all(flo.queue.dequeue('dq', 10));
    expect(redelivered.map((m) => [m.seq, text(m.payload)])).toEqual([[2n, 'b']]);
  });

  it('touch renews leases (direct call and through the lease); stats and purge', async () => {
    for (const p of ['a', 'b', 'c']) await firstValueFrom(flo.queue.enqueue('t', p));
    const [a] = await all(flo.queue.dequeue('t', 1, { visibilityTimeoutMs: 60_000 }));
    expect(a!.lease.leaseMs).toBe(60_000);
    await firstValueFrom(flo.queue.touch('t', [a!.seq]));
    await firstValueFrom(flo.queue.touch('t', a!.seq, { extendMs: 120_000 }));
    await firstValueFrom(a!.lease.touch());
    expect(await firstValueFrom(flo.queue.purge('t'))).toBe(2n);
    const s = await firstValueFrom(flo.queue.stats('t'));
    expect([s.ready, s.leased]).toEqual([0n, 1n]);
  });

  it('per-call namespace isolates; per-call timeoutMs is accepted', async () => {
    await firstValueFrom(flo.queue.enqueue('n', 'in-a', { namespace: 'a' }));
    await firstValueFrom(flo.queue.enqueue('n', 'in-default'));
    expect(await all(flo.queue.peek('n', 10, { namespace: 'b' }))).toEqual([]);
    const inA = await all(flo.queue.dequeue('n', 10, { namespace: 'a', timeoutMs: 2000 }));
    expect(inA.map((m) => text(m.payload))).toEqual(['in-a']);
    // The lease settles in the namespace it was leased in.
    await firstValueFrom(inA[0]!.lease.ack());
    expect((await firstValueFrom(flo.queue.stats('n', { namespace: 'a' }))).acked).toBe(1n);
    expect((await firstValueFrom(flo.queue.stats('n'))).ready).toBe(1n);
  });

  it('refuses bad arguments through the Observable, before sending anything', async () => {
    const bad: Observable<unknown>[] = [
      flo.queue.enqueue('', 'x'),
      flo.queue.enqueue('q', 'x', { priority: 256 }),
      flo.queue.enqueue('q', 'x', { delayMs: -1 }),
      flo.queue.enqueue('q', 'x', { dedupKey: 'k'.repeat(256) }),
      flo.queue.dequeue('q', 0),
      flo.queue.dequeue('q', 1, { blockMs: 300_001 }),
      flo.queue.dequeue('q', 1, { visibilityTimeoutMs: 0 }),
      flo.queue.messages('q', { blockMs: 0 }),
      flo.queue.messages('q', { maxInFlight: 0 }),
      flo.queue.ack('q', [-1n]),
      flo.queue.peek('q', 1.5),
    ];
    for (const o of bad) await expect(firstValueFrom(o)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await firstValueFrom(flo.queue.stats('q'))).enqueued).toBe(0n);
  });

  it('a namespace over 255 bytes (Flo\'s limit) is a typed error, raised before sending', async () => {
    const err = await firstValueFrom(flo.queue.enqueue('q', 'x', { namespace: 'n'.repeat(256) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
  });
});
