import { describe, expect, it } from 'vitest';
import {
  Op,
  decodeKvBeginTxnReply,
  decodeKvCommitTxnReply,
  decodeKvExistsReply,
  decodeKvGetReply,
  decodeKvIncrReply,
  decodeKvPutReply,
  encodeKvCommitTxn,
  encodeKvMGet,
  encodeKvHistory,
  encodeKvJsonGet,
  type KvTxnRef,
} from '../../../src/protocol/index.js';
import { placementHash } from '../../../src/server/kv/store.js';
import { b, harness, okPayload, s, statusOf, type Harness } from './helpers.js';
import { ops } from './ops.js';

async function begin(h: Harness, routing = 'user:42', ns = 'test'): Promise<KvTxnRef> {
  const r = decodeKvBeginTxnReply(okPayload(await ops(h, ns).begin(routing)));
  return { txnId: r.txnId, routingKey: b(routing) };
}
const view = async (r: Promise<{ status: number; payload?: Uint8Array }>) => {
  const x = await r;
  return x.status === 2 ? null : (({ version, value }) => ({ version, value: s(value) }))(decodeKvGetReply(okPayload(x)));
};

describe('kv transactions (docs/protocol-decisions.md #17)', () => {
  it('begin answers ids from 1 and the placement hash of namespace ‖ 0 ‖ hash tag', async () => {
    const h = harness();
    const kv = ops(h);
    const r1 = decodeKvBeginTxnReply(okPayload(await kv.begin('user:{42}:a')));
    const r2 = decodeKvBeginTxnReply(okPayload(await kv.begin('42')));
    expect(r1.txnId).toBe(1n);
    expect(r2.txnId).toBe(2n);
    expect(r1.pinnedHash).toBe(r2.pinnedHash);
    expect(r1.pinnedHash).toBe(placementHash(b('test'), b('42')));
    expect(statusOf(await kv.begin(''))).toEqual({ status: 3, message: 'BEGIN: routing key required (use --routing-key or supply key)' });
  });

  it('buffered writes are seen only by requests carrying the txn id; commit applies them at once', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('user:42:old', 'x');
    await kv.put('user:42:visits', new Uint8Array([10, 0, 0, 0, 0, 0, 0, 0]));
    const txn = await begin(h);
    expect(decodeKvPutReply(okPayload(await kv.put('user:42:name', 'Jane', { txn })))).toEqual({ version: 0n });
    expect(okPayload(await kv.del('user:42:old', { txn }))).toHaveLength(0);
    expect(decodeKvIncrReply(okPayload(await kv.incr('user:42:visits', 5n, txn)))).toEqual({ version: 0n, value: 5n });
    // inside: own writes
    expect(await view(kv.get('user:42:name', { txn }))).toEqual({ version: 0n, value: 'Jane' });
    expect(await view(kv.get('user:42:old', { txn }))).toBeNull();
    expect(decodeKvExistsReply(okPayload(await kv.exists('user:42:name', txn)))).toEqual({ version: 0n, present: true });
    expect(decodeKvExistsReply(okPayload(await kv.exists('user:42:old', txn)))).toEqual({ version: 0n, present: false });
    const counter = decodeKvGetReply(okPayload(await kv.get('user:42:visits', { txn })));
    expect(counter.version).toBe(0n);
    expect(new DataView(counter.value.buffer, counter.value.byteOffset).getBigInt64(0, true)).toBe(15n);
    // outside: committed state only
    expect(await view(kv.get('user:42:name'))).toBeNull();
    expect(await view(kv.get('user:42:old'))).toEqual({ version: 1n, value: 'x' });
    const c = decodeKvCommitTxnReply(okPayload(await kv.commit('user:42', txn.txnId)));
    expect(c.opCount).toBe(3);
    expect(c.commitIndex).toBe(3n); // two puts before, the batch is one log entry
    expect(await view(kv.get('user:42:name'))).toEqual({ version: 1n, value: 'Jane' });
    expect(await view(kv.get('user:42:old'))).toBeNull();
    const after = decodeKvGetReply(okPayload(await kv.get('user:42:visits')));
    expect(after.version).toBe(2n);
    expect(new DataView(after.value.buffer, after.value.byteOffset).getBigInt64(0, true)).toBe(15n);
    // the txn is gone
    expect(statusOf(await kv.commit('user:42', txn.txnId))).toEqual({ status: 2, message: 'transaction not found' });
    expect(statusOf(await kv.get('user:42:name', { txn }))).toEqual({ status: 2, message: 'transaction not found' });
  });

  it('wakes a blocked get on commit, not before', async () => {
    const h = harness();
    const kv = ops(h);
    const pending = kv.get('user:42:flag', { blockMs: 10_000 });
    const txn = await begin(h);
    await kv.put('user:42:flag', 'on', { txn });
    expect(h.kv.waiting()).toBe(1);
    await kv.commit('user:42', txn.txnId);
    expect(await view(pending)).toEqual({ version: 1n, value: 'on' });
  });

  it('rollback drops the buffer; unknown ids → NOT_FOUND; missing id → 3', async () => {
    const h = harness();
    const kv = ops(h);
    const txn = await begin(h);
    await kv.put('user:42:a', '1', { txn });
    expect((await kv.rollback('user:42', txn.txnId)).status).toBe(0);
    expect(await view(kv.get('user:42:a'))).toBeNull();
    expect(statusOf(await kv.rollback('user:42', txn.txnId))).toEqual({ status: 2, message: 'transaction not found' });
    expect(statusOf(await kv.put('user:42:a', '1', { txn: { txnId: 99n, routingKey: b('user:42') } }))).toEqual({
      status: 2,
      message: 'transaction not found',
    });
    expect(statusOf(await h.send(Op.KvCommitTxn, { key: b('user:42') }, 'test'))).toEqual({ status: 3, message: 'COMMIT: txn_id required' });
    expect(statusOf(await h.send(Op.KvRollbackTxn, { key: b('user:42') }, 'test'))).toEqual({ status: 3, message: 'ROLLBACK: txn_id required' });
    // the id may also come as an 8-byte value
    const t2 = await begin(h);
    const idValue = new Uint8Array(8);
    new DataView(idValue.buffer).setBigUint64(0, t2.txnId, true);
    expect(decodeKvCommitTxnReply(okPayload(await h.send(Op.KvCommitTxn, { key: b('user:42'), value: idValue }, 'test'))).opCount).toBe(0);
    expect(statusOf(await h.send(Op.KvCommitTxn, { ...encodeKvCommitTxn({ routingKey: b('r'), txnId: 1n }), options: new Uint8Array([9, 1, 1]) }, 'test'))).toEqual({
      status: 3,
      message: 'txn_id option must be u64',
    });
  });

  it('an empty commit reports the current index and 0 ops', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('a', '1');
    const txn = await begin(h);
    expect(decodeKvCommitTxnReply(okPayload(await kv.commit('user:42', txn.txnId)))).toEqual({ commitIndex: 1n, opCount: 0 });
  });

  it('writes are pre-checked against committed state when buffered', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('user:42:v', 'x');
    const txn = await begin(h);
    expect(statusOf(await kv.put('user:42:v', 'y', { txn, ifNotExists: true })).status).toBe(8);
    expect(statusOf(await kv.put('user:42:v', 'y', { txn, casVersion: 7n })).status).toBe(8);
    expect(statusOf(await kv.put('user:42:new', 'y', { txn, ifExists: true })).status).toBe(8);
    expect(statusOf(await kv.del('user:42:missing', { txn })).status).toBe(2);
    await kv.put('user:42:fresh', 'buffered', { txn });
    expect(statusOf(await kv.del('user:42:fresh', { txn })).status).toBe(2); // exists only as a buffered put
    expect(statusOf(await kv.touch('user:42:missing', 5n, { txn })).status).toBe(2);
    expect(statusOf(await kv.persist('user:42:v', { txn, ifMatch: 3n })).status).toBe(8);
    expect(statusOf(await kv.incr('user:42:v', 1n, txn))).toEqual({ status: 3, message: 'value is not a counter' });
    expect(statusOf(await kv.put('_sys:x', 'y', { txn })).status).toBe(7);
  });

  it('touch / persist inside a txn change nothing a read shows and apply on commit', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('user:42:name', 'Ann', { ttlSeconds: 5n });
    const txn = await begin(h);
    expect((await kv.persist('user:42:name', { txn })).status).toBe(0);
    expect(await view(kv.get('user:42:name', { txn }))).toEqual({ version: 1n, value: 'Ann' });
    await kv.commit('user:42', txn.txnId);
    h.clock.advance(60_000);
    expect(await view(kv.get('user:42:name'))).toEqual({ version: 1n, value: 'Ann' });
    const t2 = await begin(h);
    await kv.touch('user:42:name', 60n, { txn: t2 });
    await kv.commit('user:42', t2.txnId);
    h.clock.advance(60_000);
    expect(await view(kv.get('user:42:name'))).toBeNull();
  });

  it('an incr that can no longer apply at commit fails the whole commit, applying nothing', async () => {
    const h = harness();
    const kv = ops(h);
    const txn = await begin(h);
    await kv.put('user:42:a', 'A', { txn });
    await kv.put('user:42:c', 'text', { txn });
    await kv.incr('user:42:c', 1n, txn); // checked against committed state (absent): accepted
    expect(statusOf(await kv.commit('user:42', txn.txnId))).toEqual({ status: 3, message: 'value is not a counter' });
    expect(await view(kv.get('user:42:a'))).toBeNull();
  });

  it('refuses scan, mget, history and json with a txn id; enforces the op cap; namespaces and partitions', async () => {
    const h = harness();
    const kv = ops(h);
    const txn = await begin(h);
    const txnOpts = new Uint8Array([0x09, 8, Number(txn.txnId), 0, 0, 0, 0, 0, 0, 0]);
    for (const [op, p] of [
      [Op.KvMGet, encodeKvMGet({ keys: [b('a')] })],
      [Op.KvHistory, encodeKvHistory({ key: b('a') })],
      [Op.KvJsonGet, encodeKvJsonGet({ key: b('a'), path: '$' })],
    ] as const) {
      expect(statusOf(await h.send(op, { ...p, options: txnOpts }, 'test'))).toEqual({ status: 3, message: 'operation not supported in a transaction' });
    }
    for (let i = 0; i < 256; i++) expect((await kv.put(`user:42:k${i}`, 'v', { txn })).status).toBe(0);
    expect(statusOf(await kv.put('user:42:one-more', 'v', { txn }))).toEqual({ status: 3, message: 'transaction op or payload limit exceeded' });
    expect(decodeKvCommitTxnReply(okPayload(await kv.commit('user:42', txn.txnId))).opCount).toBe(256);
    // payload cap: 1 MiB of key + value bytes
    const t2 = await begin(h);
    for (let i = 0; i < 4; i++) expect((await kv.put(`user:42:big${i}`, new Uint8Array(250_000), { txn: t2 })).status).toBe(0);
    expect((await kv.put('user:42:big4', new Uint8Array(250_000), { txn: t2 })).status).toBe(3);
    // another namespace does not know the txn
    expect(statusOf(await kv.put('user:42:x', 'v', { txn: t2 }, 'other'))).toEqual({ status: 2, message: 'transaction not found' });
    // a routing key hashing elsewhere is refused
    expect(statusOf(await kv.put('user:42:x', 'v', { txn: { txnId: t2.txnId, routingKey: b('user:43') } }))).toEqual({
      status: 3,
      message: 'key hashes to a different partition than the transaction',
    });
  });
});
