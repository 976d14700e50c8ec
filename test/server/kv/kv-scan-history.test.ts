import { describe, expect, it } from 'vitest';
import { Op, toHex, decodeKvHistoryReply, decodeKvScanReply, encodeKvScan, type KvScanReply } from '../../../src/protocol/index.js';
import { b, harness, okPayload, s, statusOf } from './helpers.js';
import { ops } from './ops.js';

const page = (p: Uint8Array) => {
  const r: KvScanReply = decodeKvScanReply(p);
  return { keys: r.entries.map((e) => s(e.key)), values: r.entries.map((e) => s(e.value)), hasMore: r.hasMore, cursor: r.cursor };
};

describe('kv scan', () => {
  it('returns live keys with the prefix in byte order, values unless keys-only (docs/protocol-decisions.md #19)', async () => {
    const kv = ops(harness());
    for (const k of ['user:b', 'user:a', 'other', 'user:\u00e9', 'user:A', 'user:c']) await kv.put(k, `v-${k}`);
    await kv.del('user:c');
    await kv.put('user:x', 'gone', {}, 'elsewhere');
    const all = page(okPayload(await kv.scan('user:')));
    expect(all.keys).toEqual(['user:A', 'user:a', 'user:b', 'user:\u00e9']);
    expect(all.values).toEqual(['v-user:A', 'v-user:a', 'v-user:b', 'v-user:\u00e9']);
    expect(all.hasMore).toBe(false);
    expect(all.cursor).toBeUndefined();
    const keysOnly = page(okPayload(await kv.scan('user:', { keysOnly: true })));
    expect(keysOnly.values).toEqual(['', '', '', '']);
    expect(page(okPayload(await kv.scan(''))).keys).toEqual(['other', 'user:A', 'user:a', 'user:b', 'user:\u00e9']);
  });

  it('pages with an opaque cursor; has_more exactly when a cursor is returned; keys may change between pages', async () => {
    const kv = ops(harness());
    for (let i = 0; i < 10; i++) await kv.put(`k${i}`, `${i}`);
    const p1 = page(okPayload(await kv.scan('k', { limit: 4 })));
    expect(p1.keys).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(p1.hasMore).toBe(true);
    expect(p1.cursor).toBeDefined();
    await kv.del('k4');
    await kv.put('k35', 'new'); // sorts after the cursor: seen on the next page
    await kv.put('k00', 'new'); // sorts before the cursor: not seen
    const p2 = page(okPayload(await kv.scan('k', { limit: 4, cursor: p1.cursor })));
    expect(p2.keys).toEqual(['k35', 'k5', 'k6', 'k7']);
    expect(p2.hasMore).toBe(true);
    const p3 = page(okPayload(await kv.scan('k', { limit: 4, cursor: p2.cursor })));
    expect(p3.keys).toEqual(['k8', 'k9']);
    expect(p3.hasMore).toBe(false);
    expect(p3.cursor).toBeUndefined();
    // a page that ends exactly at the last key returns no cursor
    const exact = page(okPayload(await kv.scan('k', { limit: 2, cursor: p2.cursor })));
    expect(exact).toMatchObject({ keys: ['k8', 'k9'], hasMore: false, cursor: undefined });
  });

  it('limit 0 → 1024, capped at 1024', async () => {
    const kv = ops(harness());
    for (let i = 0; i < 1030; i++) await kv.put(`k${String(i).padStart(4, '0')}`, '');
    const p0 = page(okPayload(await kv.scan('', { limit: 0 })));
    expect(p0.keys).toHaveLength(1024);
    expect(p0.hasMore).toBe(true);
    expect(page(okPayload(await kv.scan('', { limit: 5000 }))).keys).toHaveLength(1024);
    expect(page(okPayload(await kv.scan('', { cursor: p0.cursor }))).keys).toHaveLength(6);
  });

  it('skips reserved keys and answers layout A (go) or B (flo), both decodable', async () => {
    for (const profile of ['go', 'flo'] as const) {
      const h = harness(profile);
      const kv = ops(h);
      await kv.put('a', '1');
      await kv.put('b', '2');
      const raw = okPayload(await kv.scan('', { limit: 1 }));
      // A: has_more, cursor_len:u32, cursor 'a', …   B: count:u32, klen:u16, key 'a', …
      expect(toHex(raw).startsWith(profile === 'go' ? '010100000061' : '01000000010061')).toBe(true);
      expect(page(raw)).toMatchObject({ keys: ['a'], hasMore: true });
      const empty = okPayload(await kv.scan('zzz'));
      expect(empty).toEqual(profile === 'go' ? new Uint8Array(9) : new Uint8Array(7));
    }
  });

  it('refuses a transaction id (scan is not transactional)', async () => {
    const h = harness();
    const p = encodeKvScan({ prefix: b('') });
    const r = await h.send(Op.KvScan, { ...p, options: new Uint8Array([0x09, 8, 1, 0, 0, 0, 0, 0, 0, 0]) }, 'test');
    expect(statusOf(r)).toEqual({ status: 3, message: 'operation not supported in a transaction' });
  });
});

describe('kv history (docs/protocol-decisions.md #18)', () => {
  it('newest first, current state first (tombstone as empty), ns timestamps, Limit honoured', async () => {
    const h = harness('go', 1_700_000_000_000);
    const kv = ops(h);
    await kv.put('h', 'v1');
    h.clock.advance(1000);
    await kv.put('h', 'v2');
    h.clock.advance(500);
    await kv.del('h');
    const all = decodeKvHistoryReply(okPayload(await kv.history('h')));
    expect(all.map((e) => [e.version, e.timestampNs, s(e.value)])).toEqual([
      [3n, 1_700_000_001_500_000_000n, ''],
      [2n, 1_700_000_001_000_000_000n, 'v2'],
      [1n, 1_700_000_000_000_000_000n, 'v1'],
    ]);
    expect(decodeKvHistoryReply(okPayload(await kv.history('h', 2))).map((e) => e.version)).toEqual([3n, 2n]);
  });

  it('keeps at most 65 entries (current + 64 older)', async () => {
    const kv = ops(harness());
    for (let i = 1; i <= 100; i++) await kv.put('h', `v${i}`);
    const all = decodeKvHistoryReply(okPayload(await kv.history('h')));
    expect(all).toHaveLength(65);
    expect(all[0].version).toBe(100n);
    expect(all[64].version).toBe(36n);
  });

  it('a never-written key is NOT_FOUND; touch/persist add no entry; profile flo answers layout C', async () => {
    const h = harness('flo');
    const kv = ops(h);
    expect((await kv.history('nope')).status).toBe(2);
    await kv.put('h', 'v1');
    await kv.touch('h', 10n);
    await kv.persist('h');
    await kv.put('h', 'v2');
    const raw = okPayload(await kv.history('h'));
    expect(raw).toEqual(new Uint8Array([2, 0, 0, 0, 2, 0, 0, 0, 0x76, 0x32, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x76, 0x31, 1, 0, 0, 0, 0, 0, 0, 0]));
    expect(decodeKvHistoryReply(raw)).toEqual([
      { version: 2n, value: b('v2') },
      { version: 1n, value: b('v1') },
    ]);
  });
});
