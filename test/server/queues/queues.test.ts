import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  EMPTY,
  Op,
  OptionsBuilder,
  Opt,
  decodeQueueDequeueReply,
  encodeQueueDequeue,
  encodeQueueEnqueue,
  encodeQueueSeqList,
  toHex,
  utf8,
} from '../../../src/protocol/index.js';
import { createQueueSubsystem } from '../../../src/server/queues/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import { Harness, flush, seqsOf, text } from './helpers.js';

describe('enqueue', () => {
  it('auto-creates queues, numbers each queue from 1, separately per namespace', async () => {
    const h = new Harness();
    expect(await h.enqueue('a', 'x')).toBe(1n);
    expect(await h.enqueue('a', 'y')).toBe(2n);
    expect(await h.enqueue('b', 'z')).toBe(1n);
    const other = createQueueSubsystem({ clock: h.clock, profile: 'go' });
    expect(other.store.enqueue('test', 'a', utf8('p')).seq).toBe(1n);
    expect(h.store.enqueue('other-ns', 'a', utf8('p')).seq).toBe(1n);
    expect(h.store.enqueue('test', 'a', utf8('p')).seq).toBe(3n);
  });

  it('refuses an empty queue name', async () => {
    const h = new Harness();
    await expect(h.call(Op.QueueEnqueue, encodeQueueEnqueue({ queue: '', payload: utf8('x') }))).rejects.toThrow(/queue name is required/);
    await expect(h.call(Op.QueueDequeue, encodeQueueDequeue({ queue: '' }))).rejects.toBeInstanceOf(BadRequestError);
  });

  it('keeps the payload bytes exactly, empty included', async () => {
    const h = new Harness();
    await h.enqueue('q', '');
    await h.enqueue('q', 'héllo');
    expect((await h.dequeue('q', 10)).map(text)).toEqual(['', 'héllo']);
  });
});

describe('ordering (docs/protocol-decisions.md #11)', () => {
  it('lower priority first, then seq', async () => {
    const h = new Harness();
    await h.enqueue('q', 'p5-a', { priority: 5 });
    await h.enqueue('q', 'p0-a');
    await h.enqueue('q', 'p1', { priority: 1 });
    await h.enqueue('q', 'p5-b', { priority: 5 });
    await h.enqueue('q', 'p0-b', { priority: 0 });
    expect((await h.dequeue('q', 10)).map(text)).toEqual(['p0-a', 'p0-b', 'p1', 'p5-a', 'p5-b']);
  });

  it('a nacked message goes back to its original (priority, seq) place', async () => {
    const h = new Harness();
    await h.enqueue('q', 'a');
    const [m] = await h.dequeue('q');
    await h.enqueue('q', 'b');
    await h.nack('q', [m.seq]);
    expect((await h.peek('q')).map(text)).toEqual(['a', 'b']);
  });
});

describe('delay', () => {
  it('a delayed message is invisible until due, then ready at its place', async () => {
    const h = new Harness();
    await h.enqueue('q', 'late', { delayMs: 1000n });
    await h.enqueue('q', 'now', { priority: 3 });
    expect((await h.peek('q')).map(text)).toEqual(['now']);
    expect((await h.stats('q')).ready).toBe(1n);
    h.clock.advance(999);
    expect((await h.peek('q')).map(text)).toEqual(['now']);
    h.clock.advance(1);
    expect((await h.peek('q')).map(text)).toEqual(['late', 'now']);
    expect((await h.stats('q')).ready).toBe(2n);
  });

  it('delay 0 is ready at once', async () => {
    const h = new Harness();
    await h.enqueue('q', 'x', { delayMs: 0n });
    expect(await h.dequeue('q')).toHaveLength(1);
  });
});

describe('dedup (#9)', () => {
  it('returns the original seq for 5 minutes from the first enqueue and stores nothing', async () => {
    const h = new Harness();
    expect(await h.enqueue('q', 'first', { dedupKey: 'k' })).toBe(1n);
    h.clock.advance(60_000);
    expect(await h.enqueue('q', 'second', { dedupKey: 'k' })).toBe(1n);
    expect(await h.enqueue('q', 'other', { dedupKey: 'k2' })).toBe(2n);
    expect((await h.stats('q')).enqueued).toBe(2n);
    const got = await h.dequeue('q', 10);
    expect(got.map(text)).toEqual(['first', 'other']);
    await h.ack('q', seqsOf(got));
    // Still remembered after the ack…
    h.clock.advance(240_000 - 1);
    expect(await h.enqueue('q', 'third', { dedupKey: 'k' })).toBe(1n);
    // …and free again exactly 5 minutes after the first enqueue.
    h.clock.advance(1);
    expect(await h.enqueue('q', 'fourth', { dedupKey: 'k' })).toBe(3n);
    expect(await h.enqueue('q', 'fifth', { dedupKey: 'k' })).toBe(3n);
  });

  it('is per queue and per namespace', async () => {
    const h = new Harness();
    expect(await h.enqueue('a', 'x', { dedupKey: 'k' })).toBe(1n);
    expect(await h.enqueue('b', 'x', { dedupKey: 'k' })).toBe(1n);
    expect(h.store.enqueue('ns2', 'a', utf8('x'), { dedupKey: utf8('k') })).toEqual({ seq: 1n, duplicate: false });
    expect(h.store.enqueue('test', 'a', utf8('x'), { dedupKey: utf8('k') })).toEqual({ seq: 1n, duplicate: true });
  });
});

describe('dequeue and leases (#12)', () => {
  it('count: absent → 1, 0 → empty at once, capped at 100', async () => {
    const h = new Harness();
    await h.batch('q', Array.from({ length: 150 }, (_, i) => `m${i}`));
    const noCount = h.dequeueReply(h.call(Op.QueueDequeue, { key: utf8('q') }));
    expect(await noCount).toHaveLength(1);
    const zero = await h.payloadOf(h.call(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 0, blockMs: 5000 })));
    expect(toHex(zero)).toBe('00000000');
    expect(await h.dequeue('q', 1000)).toHaveLength(100);
  });

  it('an unknown queue answers [0:u32], never NOT_FOUND', async () => {
    const h = new Harness();
    expect(toHex(await h.payloadOf(h.call(Op.QueueDequeue, encodeQueueDequeue({ queue: 'nope', count: 5 }))))).toBe('00000000');
  });

  it('the default visibility timeout is 30 s; the message returns exactly then, attempts counted', async () => {
    const h = new Harness('test', {}, 'flo');
    const seq = await h.enqueue('q', 'x');
    const [m] = await h.dequeue('q');
    expect(m.deliveryCount).toBe(1);
    expect(h.store.stateOf('test', 'q', seq)).toBe('leased');
    expect(await h.dequeue('q')).toEqual([]);
    h.clock.advance(29_999);
    expect(await h.dequeue('q')).toEqual([]);
    h.clock.advance(1);
    expect(h.store.stateOf('test', 'q', seq)).toBe('ready');
    const [again] = await h.dequeue('q');
    expect(again.seq).toBe(seq);
    expect(again.deliveryCount).toBe(2);
    expect((await h.stats('q')).leasesExpired).toBe(1n);
  });

  it('honours the visibility option; 0 means the default', async () => {
    const h = new Harness();
    await h.enqueue('q', 'a');
    await h.enqueue('q', 'b');
    await h.dequeue('q', 1, { visibilityTimeoutMs: 500 });
    await h.dequeue('q', 1, { visibilityTimeoutMs: 0 });
    h.clock.advance(500);
    expect((await h.peek('q')).map(text)).toEqual(['a']);
    h.clock.advance(29_500);
    expect((await h.peek('q')).map(text)).toEqual(['a', 'b']);
  });

  it('an expired lease is returned to ready by a clock timer, without any request', async () => {
    const h = new Harness();
    const seq = await h.enqueue('q', 'x');
    await h.dequeue('q', 1, { visibilityTimeoutMs: 100 });
    expect(h.clock.pendingTimers).toBe(1);
    h.clock.advance(100);
    expect(h.clock.pendingTimers).toBe(0);
    expect(h.store.stateOf('test', 'q', seq)).toBe('ready');
  });
});

describe('blocking dequeue (block_ms 0x17)', () => {
  it('is woken by an enqueue', async () => {
    const h = new Harness();
    const p = h.dequeueReply(h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 5, blockMs: 10_000 })));
    await flush();
    expect(h.sub.waiters.count()).toBe(1);
    h.clock.advance(4_000);
    await h.enqueue('q', 'hello');
    const got = await p;
    expect(got.map(text)).toEqual(['hello']);
    expect(h.store.stateOf('test', 'q', got[0].seq)).toBe('leased');
    expect(h.sub.waiters.count()).toBe(0);
  });

  it('times out exactly at block_ms with [0:u32]', async () => {
    const h = new Harness();
    let settled = false;
    const p = h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 1, blockMs: 1_000 })).then((r) => ((settled = true), r));
    h.clock.advance(999);
    await flush();
    expect(settled).toBe(false);
    h.clock.advance(1);
    await flush();
    expect(settled).toBe(true);
    expect(toHex(await h.payloadOf(p))).toBe('00000000');
  });

  it('block_ms 0 does not wait; above 300000 is BAD_REQUEST', async () => {
    const h = new Harness();
    expect(await h.dequeue('q', 1, { blockMs: 0 })).toEqual([]);
    expect(h.sub.waiters.count()).toBe(0);
    await expect(h.call(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', blockMs: 300_001 }))).rejects.toThrow(/block_ms/);
    const p = h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', blockMs: 300_000 }));
    h.clock.advance(300_000);
    expect(await h.dequeueReply(p)).toEqual([]);
  });

  it('answers at once when messages exist', async () => {
    const h = new Harness();
    await h.enqueue('q', 'x');
    expect(await h.dequeue('q', 3, { blockMs: 5_000 })).toHaveLength(1);
    expect(h.clock.pendingTimers).toBe(1); // the lease only
  });

  it('is woken by a delayed message coming due, a lease expiry, a nack and a DLQ requeue', async () => {
    const h = new Harness();
    const wait = () => h.dequeueReply(h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 1, blockMs: 60_000 })));

    await h.enqueue('q', 'delayed', { delayMs: 2_000n });
    let p = wait();
    h.clock.advance(2_000);
    expect((await p).map(text)).toEqual(['delayed']);

    p = wait(); // the delayed message is now leased (30 s)
    h.clock.advance(30_000);
    const [expired] = await p;
    expect(text(expired)).toBe('delayed');

    p = wait();
    await flush();
    await h.nack('q', [expired.seq]);
    const [nacked] = await p;
    expect(nacked.seq).toBe(expired.seq);

    await h.nack('q', [nacked.seq], true);
    p = wait();
    await flush();
    await h.dlqRequeue('q', [nacked.seq]);
    expect(seqsOf(await p)).toEqual([nacked.seq]);
  });

  it('waiters are served first come, first served; the rest keep waiting', async () => {
    const h = new Harness();
    const a = h.dequeueReply(h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 1, blockMs: 10_000 })));
    await flush();
    let bDone = false;
    const b = h.dequeueReply(h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 1, blockMs: 10_000 }))).then((r) => ((bDone = true), r));
    await flush();
    await h.enqueue('q', 'one');
    expect((await a).map(text)).toEqual(['one']);
    await flush();
    expect(bDone).toBe(false);
    await h.enqueue('q', 'two');
    expect((await b).map(text)).toEqual(['two']);
  });

  it('a woken waiter gets up to its count of what is ready at wake time', async () => {
    const h = new Harness();
    const p = h.dequeueReply(h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 5, blockMs: 10_000 })));
    await flush();
    await h.batch('q', ['a', 'b', 'c']);
    expect((await p).map(text)).toEqual(['a', 'b', 'c']);
  });

  it('gives up on abort and consumes nothing', async () => {
    const h = new Harness();
    const ac = new AbortController();
    const p = h.dequeueReply(h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 1, blockMs: 10_000 }), ac.signal));
    await flush();
    ac.abort();
    expect(await p).toEqual([]);
    const seq = await h.enqueue('q', 'x');
    expect(h.store.stateOf('test', 'q', seq)).toBe('ready');
  });

  it('answers OVERLOADED (never an early empty answer) when the waiter cap is reached', async () => {
    const h = new Harness('test', { maxWaiters: 1 });
    const first = h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 1, blockMs: 10_000 }));
    await flush();
    await expect(h.dequeue('q', 1, { blockMs: 10_000 })).rejects.toMatchObject({ status: 10 });
    h.clock.advance(10_000);
    expect(await h.dequeueReply(first)).toEqual([]);
  });

  it('waiters are keyed by namespace and queue', async () => {
    const h = new Harness();
    let done = false;
    const p = h.dequeueReply(h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 1, blockMs: 10_000 }))).then((r) => ((done = true), r));
    await flush();
    h.store.enqueue('other', 'q', utf8('x'));
    await h.enqueue('q2', 'x');
    await flush();
    expect(done).toBe(false);
    h.clock.advance(10_000);
    expect(await p).toEqual([]);
  });

  it('close() ends parked dequeues and cancels timers', async () => {
    const h = new Harness();
    await h.enqueue('q', 'x', { delayMs: 5_000n });
    const p = h.start(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q2', count: 1, blockMs: 10_000 }));
    await flush();
    h.sub.close?.();
    expect(await h.dequeueReply(p)).toEqual([]);
    expect(h.clock.pendingTimers).toBe(0);
  });
});

describe('ack (complete)', () => {
  it('removes leased and ready messages; unknown, repeated and DLQ seqs are ignored', async () => {
    const h = new Harness();
    const [a, b, c] = await h.batch('q', ['a', 'b', 'c']);
    await h.dequeue('q'); // a leased
    await h.ack('q', [a, b, 99n, a]);
    expect(h.store.stateOf('test', 'q', a)).toBeUndefined();
    expect(h.store.stateOf('test', 'q', b)).toBeUndefined();
    await h.dequeue('q'); // c
    await h.nack('q', [c], true);
    await h.ack('q', [c]);
    expect(h.store.stateOf('test', 'q', c)).toBe('dlq');
    expect((await h.stats('q')).acked).toBe(2n);
    // An acked lease never comes back.
    h.clock.advance(60_000);
    expect(await h.peek('q')).toEqual([]);
    await h.ack('unknown-queue', [1n]);
  });

  it('takes an empty list and a lone decimal seq; refuses a malformed list', async () => {
    const h = new Harness();
    await h.enqueue('q', 'x');
    await h.payloadOf(h.call(Op.QueueComplete, { key: utf8('q'), value: encodeQueueSeqList([]) }));
    await h.payloadOf(h.call(Op.QueueComplete, { key: utf8('q'), value: utf8('1') }));
    expect(h.store.stateOf('test', 'q', 1n)).toBeUndefined();
    await expect(h.call(Op.QueueComplete, { key: utf8('q'), value: EMPTY })).rejects.toThrow(/message sequence is required/);
    await expect(h.call(Op.QueueComplete, { key: utf8('q'), value: new Uint8Array([1, 0, 0, 0, 1]) })).rejects.toBeInstanceOf(BadRequestError);
  });
});

describe('nack (fail) and the DLQ after max attempts (#12)', () => {
  it('a plain nack requeues at once; a nack of a non-leased seq is ignored', async () => {
    const h = new Harness();
    const seq = await h.enqueue('q', 'x');
    await h.nack('q', [seq]);
    expect((await h.stats('q')).nacked).toBe(0n);
    await h.dequeue('q');
    await h.nack('q', [seq]);
    expect(h.store.stateOf('test', 'q', seq)).toBe('ready');
    expect((await h.stats('q')).nacked).toBe(1n);
  });

  it('send_to_dlq moves a leased message straight to the DLQ', async () => {
    const h = new Harness();
    const seq = await h.enqueue('q', 'x');
    await h.nack('q', [seq], true); // not leased: ignored
    expect(h.store.stateOf('test', 'q', seq)).toBe('ready');
    await h.dequeue('q');
    await h.nack('q', [seq], true);
    expect(h.store.stateOf('test', 'q', seq)).toBe('dlq');
    expect(seqsOf(await h.dlqList('q'))).toEqual([seq]);
  });

  it('the 5th failed delivery (nacks and expiries alike) dead-letters the message', async () => {
    const h = new Harness('test', {}, 'flo');
    const seq = await h.enqueue('q', 'poison');
    for (let attempt = 1; attempt <= 5; attempt++) {
      const [m] = await h.dequeue('q', 1, { visibilityTimeoutMs: 1_000 });
      expect(m.deliveryCount).toBe(attempt);
      if (attempt % 2 === 0) h.clock.advance(1_000);
      else await h.nack('q', [seq]);
      expect(h.store.stateOf('test', 'q', seq)).toBe(attempt < 5 ? 'ready' : 'dlq');
    }
    const [dead] = await h.dlqList('q');
    expect(dead.seq).toBe(seq);
    expect(dead.deliveryCount).toBe(5);
    const s = await h.stats('q');
    expect([s.nacked, s.leasesExpired, s.dlqTotal, s.dlqCurrent, s.ready]).toEqual([3n, 2n, 1n, 1n, 0n]);
  });

  it('maxAttempts 0 never dead-letters on failures', async () => {
    const h = new Harness('test', { maxAttempts: 0 });
    const seq = await h.enqueue('q', 'x');
    for (let i = 0; i < 10; i++) {
      await h.dequeue('q');
      await h.nack('q', [seq]);
    }
    expect(h.store.stateOf('test', 'q', seq)).toBe('ready');
  });
});

describe('touch and extend lease (#21)', () => {
  it('sets the lease end to now + the visibility timeout it was leased with', async () => {
    const h = new Harness();
    const seq = await h.enqueue('q', 'x');
    await h.dequeue('q', 1, { visibilityTimeoutMs: 10_000 });
    h.clock.advance(8_000);
    await h.touch('q', [seq, 77n]);
    h.clock.advance(9_999); // 17 999 after the dequeue, 9 999 after the touch
    expect(h.store.stateOf('test', 'q', seq)).toBe('leased');
    h.clock.advance(1);
    expect(h.store.stateOf('test', 'q', seq)).toBe('ready');
  });

  it('extend_ms > 0 replaces the length; touching a ready message does nothing', async () => {
    const h = new Harness();
    const seq = await h.enqueue('q', 'x');
    await h.touch('q', [seq], 1_000_000);
    await h.dequeue('q');
    await h.touch('q', [seq], 2_000);
    h.clock.advance(1_999);
    expect(h.store.stateOf('test', 'q', seq)).toBe('leased');
    h.clock.advance(1);
    expect(h.store.stateOf('test', 'q', seq)).toBe('ready');
  });

  it('extend_lease (0x173) behaves as touch; many touches keep one timer', async () => {
    const h = new Harness();
    const seq = await h.enqueue('q', 'x');
    await h.dequeue('q');
    for (let i = 0; i < 200; i++) {
      h.clock.advance(20_000);
      await h.extendLease('q', [seq]);
    }
    expect(h.store.stateOf('test', 'q', seq)).toBe('leased');
    expect(h.clock.pendingTimers).toBe(1);
    h.clock.advance(30_000);
    expect(h.store.stateOf('test', 'q', seq)).toBe('ready');
  });
});

describe('DLQ list, requeue, delete, stats (#22)', () => {
  async function deadLetter(h: Harness, payloads: string[]): Promise<readonly bigint[]> {
    const seqs = await h.batch('q', payloads);
    for (let i = 0; i < seqs.length; i += 100) {
      const got = await h.dequeue('q', 100);
      await h.nack('q', seqsOf(got), true);
    }
    return seqs;
  }

  it('lists oldest first (order of arrival in the DLQ), in the profile layout', async () => {
    const h = new Harness();
    const [a, b, c] = await h.batch('q', ['a', 'b', 'c']);
    await h.dequeue('q', 3);
    await h.nack('q', [c], true);
    await h.nack('q', [a], true);
    h.clock.advance(30_000); // b expires → ready
    await h.dequeue('q');
    await h.nack('q', [b], true);
    expect(seqsOf(await h.dlqList('q'))).toEqual([c, a, b]);
    expect(seqsOf(await h.dlqList('q', 2))).toEqual([c, a]);
    const raw = await h.payloadOf(h.call(Op.QueueDlqList, { key: utf8('q'), options: new OptionsBuilder().u32(Opt.Limit, 1).build() }));
    expect(decodeQueueDequeueReply(raw).messages).toEqual([{ seq: c, payload: utf8('c') }]);
    expect(await h.dlqList('unknown')).toEqual([]);
  });

  it('limit 0 → 100, capped at 1000', async () => {
    const h = new Harness();
    await deadLetter(h, Array.from({ length: 1050 }, (_, i) => `m${i}`));
    expect(await h.dlqList('q', 0)).toHaveLength(100);
    expect(await h.dlqList('q', 5000)).toHaveLength(1000);
    expect((await h.dlqStats('q')).current).toBe(1050n);
  });

  it('requeue keeps the seq and its place, resets attempts; unknown seqs are ignored', async () => {
    const h = new Harness('test', {}, 'flo');
    const [a, b] = await h.batch('q', ['a', 'b']);
    await h.dequeue('q', 2);
    await h.nack('q', [a], true);
    await h.nack('q', [b]);
    await h.dlqRequeue('q', [a, 123n, b]);
    const again = await h.dequeue('q', 2);
    expect(seqsOf(again)).toEqual([a, b]);
    expect(again.map((m) => m.deliveryCount)).toEqual([1, 2]);
    expect(await h.dlqList('q')).toEqual([]);
  });

  it('delete drops DLQ entries only; DLQ stats count current and total', async () => {
    const h = new Harness();
    const [a, b, c] = await deadLetter(h, ['a', 'b', 'c']);
    const live = await h.enqueue('q', 'live');
    await h.dlqDelete('q', [a, live, 99n]);
    expect(seqsOf(await h.dlqList('q'))).toEqual([b, c]);
    expect(h.store.stateOf('test', 'q', live)).toBe('ready');
    expect(await h.dlqStats('q')).toEqual({ current: 2n, total: 3n });
  });

  it('a full DLQ evicts its oldest entry', async () => {
    const h = new Harness('test', { dlqCapacity: 2 });
    const [a, b, c] = await deadLetter(h, ['a', 'b', 'c']);
    expect(seqsOf(await h.dlqList('q'))).toEqual([b, c]);
    expect(h.store.stateOf('test', 'q', a)).toBeUndefined();
  });
});

describe('peek', () => {
  it('shows ready messages in dequeue order without leasing or counting attempts', async () => {
    const h = new Harness('test', {}, 'flo');
    await h.enqueue('q', 'low', { priority: 9 });
    await h.enqueue('q', 'high');
    await h.enqueue('q', 'later', { delayMs: 10n });
    await h.enqueue('q', 'leased', { priority: 0 });
    await h.dequeue('q'); // takes 'high'
    const peeked = await h.peek('q', 10);
    expect(peeked.map(text)).toEqual(['leased', 'low']);
    expect(peeked.map((m) => m.deliveryCount)).toEqual([0, 0]);
    expect((await h.peek('q', 10)).map(text)).toEqual(['leased', 'low']);
    expect(await h.peek('q', 0)).toEqual([]);
    expect(await h.peek('q', 1)).toHaveLength(1);
    expect((await h.dequeue('q', 10)).map(text)).toEqual(['leased', 'low']);
  });

  it('caps the count at 100', async () => {
    const h = new Harness();
    await h.batch('q', Array.from({ length: 120 }, () => 'x'));
    expect(await h.peek('q', 500)).toHaveLength(100);
  });
});

describe('stats, purge, list, batch enqueue', () => {
  it('stats count per queue', async () => {
    const h = new Harness();
    await h.batch('q', ['a', 'b', 'c', 'd']);
    await h.enqueue('q', 'e', { delayMs: 100n });
    const [a, b, c] = seqsOf(await h.dequeue('q', 3));
    await h.ack('q', [a]);
    await h.nack('q', [b]);
    await h.nack('q', [c], true);
    expect(await h.stats('q')).toEqual({
      enqueued: 5n,
      dequeued: 3n,
      acked: 1n,
      nacked: 2n,
      dlqTotal: 1n,
      leasesExpired: 0n,
      ready: 2n,
      leased: 0n,
      dlqCurrent: 1n,
    });
    expect((await h.stats('other')).enqueued).toBe(0n);
  });

  it('purge removes ready and delayed messages, keeps leased and DLQ', async () => {
    const h = new Harness();
    await h.batch('q', ['a', 'b', 'c']);
    await h.enqueue('q', 'd', { delayMs: 100n });
    const [a] = seqsOf(await h.dequeue('q'));
    expect(await h.purge('q')).toBe(3n);
    expect(h.store.stateOf('test', 'q', a)).toBe('leased');
    h.clock.advance(100);
    expect(await h.peek('q')).toEqual([]);
    expect(await h.purge('nope')).toBe(0n);
  });

  it('list: this namespace only, sorted, paged with an opaque cursor', async () => {
    const h = new Harness();
    for (const q of ['c', 'a', 'b']) await h.enqueue(q, 'x');
    h.store.enqueue('elsewhere', 'z', utf8('x'));
    await h.dequeue('a');
    await h.enqueue('a', 'later', { delayMs: 10n });
    const all = await h.list();
    expect(all.queues.map((q) => q.name)).toEqual(['a', 'b', 'c']);
    expect(all.hasMore).toBe(false);
    expect(all.queues[0]).toEqual({ name: 'a', namespace: 'test', pending: 2n, available: 0n, enqueued: 2n, dequeued: 1n, dlq: 0n });
    const p1 = await h.list({ limit: 2 });
    expect(p1.queues.map((q) => q.name)).toEqual(['a', 'b']);
    expect(p1.hasMore).toBe(true);
    const p2 = await h.list({ limit: 2, cursor: p1.cursor });
    expect(p2.queues.map((q) => q.name)).toEqual(['c']);
    expect(p2.hasMore).toBe(false);
    expect(p2.cursor).toEqual(EMPTY);
  });

  it('batch enqueue: consecutive seqs, shared options, dedup refused', async () => {
    const h = new Harness();
    await h.enqueue('q', 'first', { priority: 1 });
    expect(await h.batch('q', ['a', 'b'], { priority: 0 })).toEqual([2n, 3n]);
    expect(await h.batch('q', [])).toEqual([]);
    expect((await h.dequeue('q', 10)).map(text)).toEqual(['a', 'b', 'first']);
    const op = { key: utf8('q'), value: new Uint8Array(4), options: new OptionsBuilder().bytes(Opt.DedupKey, 'k').build() };
    await expect(h.call(Op.QueueBatchEnqueue, op)).rejects.toThrow(/dedup/);
  });
});

describe('profiles and refused opcodes', () => {
  it("profile 'flo' writes the extended entries; 'go' the short ones", async () => {
    const flo = new Harness('test', {}, 'flo');
    await flo.enqueue('q', 'x', { priority: 4 });
    const raw = await flo.payloadOf(flo.call(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q' })));
    expect(raw.length).toBe(4 + 12 + 1 + 13);
    expect(decodeQueueDequeueReply(raw).messages[0]).toMatchObject({ seq: 1n, deliveryCount: 1, priority: 4, enqueuedAtMs: BigInt(flo.clock.now()) });
    const go = new Harness();
    await go.enqueue('q', 'x');
    const short = await go.payloadOf(go.call(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q' })));
    expect(toHex(short)).toBe('01000000' + '0100000000000000' + '01000000' + '78');
  });

  it('fail_auto and promote_due are refused with BAD_REQUEST; response opcodes are not handled', async () => {
    const h = new Harness();
    await expect(h.call(Op.QueueFailAuto, { key: utf8('q') })).rejects.toBeInstanceOf(BadRequestError);
    await expect(h.call(Op.QueuePromoteDue, { key: utf8('q') })).rejects.toBeInstanceOf(BadRequestError);
    expect(h.sub.handlers.has(Op.QueueDequeueResponse)).toBe(false);
  });

  it('an empty namespace is the default one', async () => {
    const h = new Harness('');
    await h.enqueue('q', 'x');
    expect(h.store.stateOf('default', 'q', 1n)).toBe('ready');
  });

  it('no timers are left once nothing is delayed or leased', async () => {
    const clock = new ManualClock();
    const sub = createQueueSubsystem({ clock, profile: 'go' });
    sub.store.enqueue('n', 'q', utf8('x'), { delayMs: 10 });
    expect(clock.pendingTimers).toBe(1);
    clock.advance(10);
    const [m] = sub.store.dequeue('n', 'q', 1);
    expect(clock.pendingTimers).toBe(1);
    sub.store.ack('n', 'q', [m.seq]);
    expect(clock.pendingTimers).toBe(0);
  });
});
