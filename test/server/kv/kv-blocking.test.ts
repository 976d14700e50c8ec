import { describe, expect, it } from 'vitest';
import { decodeKvGetReply } from '../../../src/protocol/index.js';
import { harness, okPayload, s, statusOf } from './helpers.js';
import { ops } from './ops.js';

const settled = async <T>(p: Promise<T>) => {
  let done = false;
  void p.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
};

describe('kv blocking get (BlockMS 0x17)', () => {
  it('answers at once when the key is live', async () => {
    const kv = ops(harness());
    await kv.put('k', 'v');
    expect(s(decodeKvGetReply(okPayload(await kv.get('k', { blockMs: 5000 }))).value)).toBe('v');
  });

  it('parks, and is answered by the write that makes the key live', async () => {
    const h = harness();
    const kv = ops(h);
    const pending = kv.get('job:result', { blockMs: 5000 });
    expect(await settled(pending)).toBe(false);
    expect(h.kv.waiting()).toBe(1);
    h.clock.advance(4999);
    await kv.put('job:result', 'done');
    expect(decodeKvGetReply(okPayload(await pending))).toEqual({ version: 1n, value: new TextEncoder().encode('done') });
    expect(h.kv.waiting()).toBe(0);
  });

  it('a delete does not wake it; it times out with NOT_FOUND at exactly block_ms', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('k', 'v');
    await kv.del('k');
    const pending = kv.get('k', { blockMs: 5000 });
    await kv.put('other', 'x');
    h.clock.advance(4999);
    expect(await settled(pending)).toBe(false);
    h.clock.advance(1);
    expect(statusOf(await pending)).toEqual({ status: 2, message: '' });
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('is woken by incr and json set too, and only in its own namespace', async () => {
    const h = harness();
    const kv = ops(h);
    const a = kv.get('c', { blockMs: 1000 });
    const j = kv.get('doc', { blockMs: 1000 });
    await kv.incr('c', 1n, undefined, 'other-ns');
    expect(await settled(a)).toBe(false);
    await kv.incr('c', 3n);
    await kv.jsonSet('doc', '$', '{"a":1}');
    expect(decodeKvGetReply(okPayload(await a)).version).toBe(1n);
    expect(s(decodeKvGetReply(okPayload(await j)).value)).toBe('{"a":1}');
  });

  it('block_ms 0 does not wait (docs/protocol-decisions.md #14); > 300000 is refused', async () => {
    const h = harness();
    const kv = ops(h);
    expect((await kv.get('k', { blockMs: 0 })).status).toBe(2);
    expect(h.kv.waiting()).toBe(0);
    expect((await kv.get('k', { blockMs: 300_001 })).status).toBe(3);
  });

  it('gives up when the connection closes', async () => {
    const h = harness();
    const kv = ops(h);
    const ac = new AbortController();
    const pending = kv.get('k', { blockMs: 60_000 }, 'test', ac.signal);
    ac.abort();
    expect((await pending).status).toBe(2);
    expect(h.kv.waiting()).toBe(0);
  });

  it('a key that expires is not live: the wait continues', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('t', 'v', { ttlSeconds: 1n });
    h.clock.advance(1000);
    const pending = kv.get('t', { blockMs: 2000 });
    h.clock.advance(2000);
    expect((await pending).status).toBe(2);
  });
});

describe('kv watch (WaitMS 0x18)', () => {
  it('waits for the next version, not the current one', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('w', 'v1');
    const pending = kv.get('w', { waitMs: 10_000 });
    expect(await settled(pending)).toBe(false);
    await kv.touch('w', 100n); // no version change
    expect(await settled(pending)).toBe(false);
    await kv.put('w', 'v2');
    expect(decodeKvGetReply(okPayload(await pending))).toEqual({ version: 2n, value: new TextEncoder().encode('v2') });
  });

  it('on an absent key waits for the first write; times out with NOT_FOUND; a delete answers NOT_FOUND', async () => {
    const h = harness();
    const kv = ops(h);
    const first = kv.get('w', { waitMs: 1000 });
    await kv.put('w', 'v1');
    expect(decodeKvGetReply(okPayload(await first)).version).toBe(1n);
    const timeout = kv.get('w', { waitMs: 1000 });
    h.clock.advance(1000);
    expect((await timeout).status).toBe(2);
    const deleted = kv.get('w', { waitMs: 1000 });
    await kv.del('w');
    expect(await settled(deleted)).toBe(true);
    expect((await deleted).status).toBe(2);
  });

  it('BlockMS wins when both are present; wait_ms 0 is a plain get', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('w', 'v1');
    expect(decodeKvGetReply(okPayload(await kv.get('w', { blockMs: 1000, waitMs: 1000 }))).version).toBe(1n);
    expect(decodeKvGetReply(okPayload(await kv.get('w', { waitMs: 0 }))).version).toBe(1n);
  });

  it('close() ends every park', async () => {
    const h = harness();
    const kv = ops(h);
    const p = kv.get('w', { waitMs: 100_000 });
    h.kv.close?.();
    expect((await p).status).toBe(2);
  });
});
