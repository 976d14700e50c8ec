import { describe, expect, it } from 'vitest';
import {
  Op,
  decodeKvExistsReply,
  decodeKvGetReply,
  decodeKvIncrReply,
  decodeKvMGetReply,
  decodeKvPutReply,
  encodeKvPut,
  encodeRequest,
  fromUtf8,
  type OpPayload,
} from '../../../src/protocol/index.js';
import { KV_MAX_ENTRY_PAYLOAD } from '../../../src/server/kv/store.js';
import { b, harness, okPayload, s, statusOf } from './helpers.js';
import { ops } from './ops.js';

const version = async (r: Promise<{ status: number; payload?: Uint8Array }>) => decodeKvPutReply(okPayload(await r)).version;
const got = async (r: Promise<{ status: number; payload?: Uint8Array }>) => {
  const x = await r;
  return x.status === 2 ? null : (({ version, value }) => ({ version, value: s(value) }))(decodeKvGetReply(okPayload(x)));
};

describe('kv put / get / versions', () => {
  it('versions start at 1, continue after a delete tombstone, and get returns the newest', async () => {
    const kv = ops(harness());
    expect(await version(kv.put('a', 'one'))).toBe(1n);
    expect(await version(kv.put('a', 'two'))).toBe(2n);
    expect(await got(kv.get('a'))).toEqual({ version: 2n, value: 'two' });
    expect(statusOf(await kv.del('a'))).toEqual({ status: 0, message: '' });
    expect(await got(kv.get('a'))).toBeNull();
    expect(await version(kv.put('a', 'three'))).toBe(4n);
  });

  it('an empty value is stored and read back as exactly 8 bytes', async () => {
    const kv = ops(harness());
    await kv.put('e', '');
    expect(okPayload(await kv.get('e'))).toHaveLength(8);
  });

  it('namespaces isolate; "" and "default" are the same namespace', async () => {
    const kv = ops(harness());
    await kv.put('k', 'in-a', {}, 'a');
    await kv.put('k', 'in-b', {}, 'b');
    expect(await got(kv.get('k', {}, 'a'))).toEqual({ version: 1n, value: 'in-a' });
    expect(await got(kv.get('k', {}, 'b'))).toEqual({ version: 1n, value: 'in-b' });
    expect(await got(kv.get('k', {}, 'c'))).toBeNull();
    await kv.put('d', 'x', {}, '');
    expect(await got(kv.get('d', {}, 'default'))).toEqual({ version: 1n, value: 'x' });
    expect(await version(kv.put('d', 'y', {}, 'default'))).toBe(2n);
    expect(await got(kv.get('d', {}, ''))).toEqual({ version: 2n, value: 'y' });
  });

  it('CAS: matches the live version; 0 = create only; mismatch is status 8 with an empty payload', async () => {
    const kv = ops(harness());
    expect(await version(kv.put('c', 'v1', { casVersion: 0n }))).toBe(1n);
    expect(statusOf(await kv.put('c', 'again', { casVersion: 0n }))).toEqual({ status: 8, message: '' });
    expect(statusOf(await kv.put('c', 'v', { casVersion: 5n }))).toEqual({ status: 8, message: '' });
    expect(await version(kv.put('c', 'v2', { casVersion: 1n }))).toBe(2n);
    await kv.del('c');
    expect(statusOf(await kv.put('c', 'v', { casVersion: 3n })).status).toBe(8);
    expect(await version(kv.put('c', 'v4', { casVersion: 0n }))).toBe(4n);
  });

  it('NX / XX', async () => {
    const kv = ops(harness());
    expect(statusOf(await kv.put('n', 'x', { ifExists: true })).status).toBe(8);
    expect(await version(kv.put('n', 'x', { ifNotExists: true }))).toBe(1n);
    expect(statusOf(await kv.put('n', 'y', { ifNotExists: true })).status).toBe(8);
    expect(await version(kv.put('n', 'y', { ifExists: true }))).toBe(2n);
    expect(await got(kv.get('n'))).toEqual({ version: 2n, value: 'y' });
  });

  it('key validation: empty, too large, NUL, reserved prefixes', async () => {
    const kv = ops(harness());
    expect(statusOf(await kv.put('', 'x'))).toEqual({ status: 3, message: 'key is required' });
    expect(statusOf(await kv.get(''))).toEqual({ status: 3, message: 'key is required' });
    // namespace "test" (4 bytes): qualified = 4 + 1 + key ≤ 4096
    expect((await kv.put('k'.repeat(4091), 'x')).status).toBe(0);
    expect(statusOf(await kv.put('k'.repeat(4092), 'x'))).toEqual({ status: 3, message: 'namespace + key too large' });
    expect((await kv.put('k'.repeat(4096), 'x', {}, 'default')).status).toBe(0);
    expect(statusOf(await kv.put('k'.repeat(4097), 'x', {}, 'default')).status).toBe(3);
    expect(statusOf(await kv.put(new Uint8Array([0x61, 0, 0x62]), 'x'))).toEqual({ status: 3, message: 'key must not contain NUL' });
    for (const prefix of ['_action:', '_worker:', '_sys:', '_internal:', '_flo:']) {
      const key = `${prefix}x`;
      const denied = { status: 7, message: 'access to reserved key denied' };
      expect(statusOf(await kv.put(key, 'v'))).toEqual(denied);
      expect(statusOf(await kv.get(key))).toEqual(denied);
      expect(statusOf(await kv.del(key))).toEqual(denied);
      expect(statusOf(await kv.incr(key))).toEqual(denied);
      expect(statusOf(await kv.touch(key, 5n))).toEqual(denied);
      expect(statusOf(await kv.persist(key))).toEqual(denied);
      expect(statusOf(await kv.jsonSet(key, '$', '1'))).toEqual(denied);
      expect(statusOf(await kv.jsonDel(key, '$'))).toEqual(denied);
      expect(statusOf(await kv.history(key))).toEqual(denied);
      // exists, json get and mget do not check: such keys are simply absent
      expect(decodeKvExistsReply(okPayload(await kv.exists(key)))).toEqual({ version: 0n, present: false });
      expect((await kv.jsonGet(key, '$')).status).toBe(2);
      expect(decodeKvMGetReply(okPayload(await kv.mget([key])))[0].found).toBe(false);
    }
  });

  it('value size: qualified key + value + 10 must fit 256 KiB + 64 (Flo entry limit)', async () => {
    const kv = ops(harness());
    const max = KV_MAX_ENTRY_PAYLOAD - 10 - (4 + 1 + 1); // namespace "test", key "v"
    expect((await kv.put('v', new Uint8Array(max))).status).toBe(0);
    const r = statusOf(await kv.put('v', new Uint8Array(max + 1)));
    expect(r.status).toBe(3);
    expect(r.message).toMatch(/^value too large/);
  });
});

describe('kv TTL (seconds, on the injected clock)', () => {
  it('expires exactly at now + ttl, and the key disappears from get, exists, mget and scan', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('t', 'v', { ttlSeconds: 10n });
    h.clock.advance(9_999);
    expect(await got(kv.get('t'))).toEqual({ version: 1n, value: 'v' });
    h.clock.advance(1);
    expect(await got(kv.get('t'))).toBeNull();
    expect(decodeKvExistsReply(okPayload(await kv.exists('t')))).toEqual({ version: 0n, present: false });
    expect(decodeKvMGetReply(okPayload(await kv.mget(['t'])))[0].found).toBe(false);
    expect(okPayload(await kv.scan(''))).toEqual(new Uint8Array(9));
    expect((await kv.del('t')).status).toBe(2);
    expect((await kv.touch('t', 5n)).status).toBe(2);
  });

  it('every put replaces the TTL (no option = permanent)', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('t', 'v', { ttlSeconds: 5n });
    await kv.put('t', 'v2');
    h.clock.advance(3600_000);
    expect(await got(kv.get('t'))).toEqual({ version: 2n, value: 'v2' });
    await kv.put('t', 'v3', { ttlSeconds: 100n });
    await kv.put('t', 'v4', { ttlSeconds: 2n });
    h.clock.advance(2_000);
    expect(await got(kv.get('t'))).toBeNull();
  });

  it('a put on an expired key continues its version', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('t', 'v', { ttlSeconds: 1n });
    h.clock.advance(1_000);
    expect(await version(kv.put('t', 'w', { casVersion: 0n }))).toBe(2n);
  });

  it('incr clears the TTL', async () => {
    const h = harness();
    const kv = ops(h);
    await h.send(Op.KvPut, encodeKvPut({ key: b('c'), value: new Uint8Array(8), ttlSeconds: 5n }), 'test');
    await kv.incr('c', 2n);
    h.clock.advance(10_000);
    expect(decodeKvExistsReply(okPayload(await kv.exists('c')))).toEqual({ version: 2n, present: true });
  });

  it('touch sets now + ttl (keeps the version), touch 0 and persist make it permanent; IfMatch guards', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('t', 'v', { ttlSeconds: 5n });
    h.clock.advance(4_000);
    expect((await kv.touch('t', 10n)).status).toBe(0);
    expect(h.kv.store.ttlRemainingMs('test', b('t'))).toBe(10_000);
    h.clock.advance(9_000);
    expect(await got(kv.get('t'))).toEqual({ version: 1n, value: 'v' });
    expect(statusOf(await kv.touch('t', 10n, { ifMatch: 2n }))).toEqual({ status: 8, message: '' });
    expect((await kv.touch('t', 0n, { ifMatch: 1n })).status).toBe(0);
    h.clock.advance(100_000);
    expect(await got(kv.get('t'))).toEqual({ version: 1n, value: 'v' });
    await kv.touch('t', 1n);
    expect(statusOf(await kv.persist('t', { ifMatch: 9n })).status).toBe(8);
    expect((await kv.persist('t', { ifMatch: 1n })).status).toBe(0);
    h.clock.advance(5_000);
    expect(await got(kv.get('t'))).toEqual({ version: 1n, value: 'v' });
    expect((await kv.persist('nope')).status).toBe(2);
    expect(statusOf(await h.send(Op.KvTouch, { key: b('t'), value: new Uint8Array(3) }, 'test'))).toEqual({
      status: 3,
      message: 'touch: value must be empty or 8-byte u64 LE',
    });
  });
});

describe('kv delete', () => {
  it('not live → 2 (also with IfMatch); IfMatch mismatch → 8; match deletes', async () => {
    const kv = ops(harness());
    expect((await kv.del('x')).status).toBe(2);
    expect((await kv.del('x', { ifMatch: 1n })).status).toBe(2);
    await kv.put('x', '1');
    await kv.put('x', '2');
    expect(statusOf(await kv.del('x', { ifMatch: 1n }))).toEqual({ status: 8, message: '' });
    expect((await kv.del('x', { ifMatch: 2n })).status).toBe(0);
    expect((await kv.del('x')).status).toBe(2);
  });
});

describe('kv mget', () => {
  it('answers in request order with found flags; ≤ 256 keys', async () => {
    const kv = ops(harness());
    await kv.put('a', 'va');
    await kv.put('a', 'va');
    const entries = decodeKvMGetReply(okPayload(await kv.mget(['a', 'bb', 'a', ''])));
    expect(entries.map((e) => [s(e.key), e.found, e.version, s(e.value)])).toEqual([
      ['a', true, 2n, 'va'],
      ['bb', false, 0n, ''],
      ['a', true, 2n, 'va'],
      ['', false, 0n, ''],
    ]);
    const keys = Array.from({ length: 256 }, (_, i) => `k${i}`);
    expect(decodeKvMGetReply(okPayload(await kv.mget(keys)))).toHaveLength(256);
    expect(statusOf(await kv.mget([...keys, 'one-more']))).toEqual({ status: 3, message: 'mget: too many keys (max 256)' });
    expect(statusOf(await kv.mget([]))).toEqual({ status: 3, message: 'mget: zero keys' });
  });
});

describe('kv incr', () => {
  it('starts from 0, adds the delta (default 1), bumps the version, stores 8 raw bytes', async () => {
    const kv = ops(harness());
    expect(decodeKvIncrReply(okPayload(await kv.incr('n')))).toEqual({ version: 1n, value: 1n });
    expect(decodeKvIncrReply(okPayload(await kv.incr('n', 41n)))).toEqual({ version: 2n, value: 42n });
    expect(decodeKvIncrReply(okPayload(await kv.incr('n', -50n)))).toEqual({ version: 3n, value: -8n });
    expect(decodeKvGetReply(okPayload(await kv.get('n'))).value).toEqual(new Uint8Array([0xf8, 255, 255, 255, 255, 255, 255, 255]));
    await kv.del('n');
    expect(decodeKvIncrReply(okPayload(await kv.incr('n', 5n)))).toEqual({ version: 5n, value: 5n });
  });

  it('refuses a non-counter with status 3 "value is not a counter"', async () => {
    const kv = ops(harness());
    await kv.put('s', 'hello');
    expect(statusOf(await kv.incr('s'))).toEqual({ status: 3, message: 'value is not a counter' });
    expect(statusOf(await kv.incr('s', 1n))).toEqual({ status: 3, message: 'value is not a counter' });
  });

  it('refuses an overflow with BAD_REQUEST, leaving value, version and TTL unchanged (docs/protocol-decisions.md #20)', async () => {
    const h = harness();
    const kv = ops(h);
    const max = (1n << 63n) - 1n;
    await kv.incr('o', max - 1n);
    const before = okPayload(await kv.get('o'));
    const r = statusOf(await kv.incr('o', 2n));
    expect(r.status).toBe(3);
    expect(r.message).toMatch(/overflow/);
    expect(okPayload(await kv.get('o'))).toEqual(before);
    expect(decodeKvIncrReply(okPayload(await kv.incr('o', 1n)))).toEqual({ version: 2n, value: max });
    expect((await kv.incr('o', 1n)).status).toBe(3);
    await kv.incr('m', -max);
    expect(decodeKvIncrReply(okPayload(await kv.incr('m', -1n))).value).toBe(-(1n << 63n));
    expect((await kv.incr('m', -1n)).status).toBe(3);
  });

  it('refuses a value that is neither empty nor 8 bytes', async () => {
    const h = harness();
    expect(statusOf(await h.send(Op.KvIncr, { key: b('n'), value: new Uint8Array(4) }, 'test'))).toEqual({
      status: 3,
      message: 'incr: value must be empty or 8-byte i64 LE',
    });
  });
});

describe('kv exists', () => {
  it('answers [version][present]', async () => {
    const kv = ops(harness());
    expect(decodeKvExistsReply(okPayload(await kv.exists('e')))).toEqual({ version: 0n, present: false });
    await kv.put('e', 'x');
    await kv.put('e', 'y');
    expect(decodeKvExistsReply(okPayload(await kv.exists('e')))).toEqual({ version: 2n, present: true });
    expect(statusOf(await kv.exists(''))).toEqual({ status: 3, message: 'key is required' });
  });
});

describe('request context helper', () => {
  it('builds contexts from real frames', () => {
    const p: OpPayload = encodeKvPut({ key: b('k'), value: b('v') });
    expect(fromUtf8(encodeRequest(1n, Op.KvPut, 'test', p).subarray(34, 38))).toBe('test');
  });
});
