// 2,000 random but well-framed requests to the real subsystems over one connection, pipelined, with
// the server clock moving now and then: every request gets exactly one reply carrying its id, none
// is INTERNAL_ERROR, and the server still works afterwards. Seeded, so a failure replays.
import { afterEach, describe, expect, it } from 'vitest';
import {
  Op,
  Opt,
  Status,
  decodeKvGetReply,
  encodeKvBeginTxn,
  encodeKvCommitTxn,
  encodeKvDelete,
  encodeKvExists,
  encodeKvGet,
  encodeKvHistory,
  encodeKvIncr,
  encodeKvJsonDel,
  encodeKvJsonGet,
  encodeKvJsonSet,
  encodeKvMGet,
  encodeKvPersist,
  encodeKvPut,
  encodeKvRollbackTxn,
  encodeKvScan,
  encodeKvTouch,
  encodeQueueBatchEnqueue,
  encodeQueueComplete,
  encodeQueueDequeue,
  encodeQueueDlqList,
  encodeQueueDlqRequeue,
  encodeQueueEnqueue,
  encodeQueueFail,
  encodeQueueList,
  encodeQueuePeek,
  encodeQueuePurge,
  encodeQueueStats,
  encodeQueueTouch,
  encodeRequest,
  encodeStreamAppendBatch,
  encodeStreamCreate,
  encodeStreamGroupAck,
  encodeStreamGroupClaim,
  encodeStreamGroupCreate,
  encodeStreamGroupInfo,
  encodeStreamGroupJoin,
  encodeStreamGroupLeave,
  encodeStreamGroupNack,
  encodeStreamGroupPending,
  encodeStreamGroupRead,
  encodeStreamGroupTouch,
  encodeStreamInfo,
  encodeStreamList,
  encodeStreamRead,
  encodeStreamTrim,
  fromUtf8,
  streamId,
  utf8,
  type DecodedResponse,
  type OpPayload,
} from '../../../src/protocol/index.js';
import { SocketClient, okBody, startIntegration, type Integration } from './harness.js';
import { rng } from '../../support/rng.js';

/** FUZZ_SEED=n replays (or explores) another sequence. */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_f10);
const REQUESTS = 2000;

/** The seeded PRNG with the picks the fuzzer needs. */
function prng(seed: number) {
  const next = rng(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    int,
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)],
    bytes: (n: number) => Uint8Array.from({ length: n }, () => int(256)),
  };
}
type Rng = ReturnType<typeof prng>;

const NAMES = ['a', 'user:1', 'user:2', 'jobs', 'events', 'order:42'];
// `Opt` is a numeric enum: its values are the tags and, in reverse, their names.
const TAGS = Object.values(Opt).filter((v): v is Opt => typeof v === 'number');

function randomOptions(r: Rng): Uint8Array {
  const parts: number[] = [];
  const n = r.int(5);
  for (let i = 0; i < n; i++) {
    const width = r.pick([0, 1, 2, 4, 8, r.int(12)]);
    parts.push(r.chance(0.9) ? r.pick(TAGS) : r.int(256), width, ...r.bytes(width));
  }
  if (r.chance(0.05)) parts.push(r.pick(TAGS), 9, 1); // runs past the section
  return Uint8Array.from(parts);
}

function randomValue(r: Rng): Uint8Array {
  switch (r.int(6)) {
    case 0:
      return new Uint8Array(0);
    case 1: {
      // a seq list [count:u32][seq:u64]*, sometimes with a lying count
      const n = r.int(4);
      const out = new Uint8Array(4 + 8 * n);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, r.chance(0.8) ? n : r.int(1000), true);
      for (let i = 0; i < n; i++) dv.setBigUint64(4 + 8 * i, BigInt(r.int(20)), true);
      return out;
    }
    case 2:
      return utf8(String(r.int(1000)));
    case 3:
      return utf8(r.pick(['{}', '{"a":1}', '[1,2]', '"x"', '{"status":"new","n":{"m":[1]}}', 'not json']));
    default:
      return r.bytes(r.int(24));
  }
}

/** A request of an opcode the subsystems handle, with sections shaped by its encoder. */
function structured(r: Rng): { opcode: number; body: OpPayload } {
  const key = utf8(r.pick(NAMES));
  const name = r.pick(['jobs', 'q2', 'events', 's2']);
  const seqs = Array.from({ length: 1 + r.int(3) }, () => BigInt(1 + r.int(15)));
  const small = () => r.int(4000);
  const block = () => (r.chance(0.5) ? undefined : r.int(3000));
  const ids = Array.from({ length: 1 + r.int(2) }, () => streamId(BigInt(1_767_225_600_000 + r.int(50_000)), BigInt(r.int(3))));
  const gc = { stream: name, group: r.pick(['g', 'h']), consumer: r.pick(['c1', 'c2', '']) };
  const txnId = BigInt(1 + r.int(6));
  const txn = r.chance(0.15) ? { txnId, routingKey: utf8('user:1') } : undefined;
  const gens: Array<() => { opcode: number; body: OpPayload }> = [
    () => ({ opcode: Op.KvPut, body: encodeKvPut({ key, value: randomValue(r), ...(r.chance(0.3) ? { ttlSeconds: BigInt(r.int(5)) } : {}), ...(r.chance(0.2) ? { casVersion: BigInt(r.int(4)) } : {}), ...(r.chance(0.1) ? { ifNotExists: true } : {}), ...(txn ? { txn } : {}) }) }),
    () => ({ opcode: Op.KvGet, body: encodeKvGet({ key, ...(r.chance(0.2) ? { blockMs: small() } : r.chance(0.1) ? { waitMs: small() } : {}), ...(txn ? { txn } : {}) }) }),
    () => ({ opcode: Op.KvDelete, body: encodeKvDelete({ key, ...(r.chance(0.3) ? { ifMatch: BigInt(r.int(4)) } : {}), ...(txn ? { txn } : {}) }) }),
    () => ({ opcode: Op.KvMGet, body: encodeKvMGet({ keys: NAMES.slice(0, r.int(NAMES.length)).map(utf8) }) }),
    () => ({ opcode: Op.KvScan, body: encodeKvScan({ prefix: utf8(r.pick(['', 'user:', 'o'])), limit: r.int(4), ...(r.chance(0.3) ? { cursor: r.bytes(r.int(8)) } : {}), keysOnly: r.chance(0.3) }) }),
    () => ({ opcode: Op.KvHistory, body: encodeKvHistory({ key, limit: r.int(3) }) }),
    () => ({ opcode: Op.KvIncr, body: encodeKvIncr({ key, delta: BigInt(r.int(20) - 10), ...(txn ? { txn } : {}) }) }),
    () => ({ opcode: Op.KvJsonGet, body: encodeKvJsonGet({ key, path: r.pick(['$', '$.status', '$.n.m[0]', '$..x', 'bad', '$.a']) }) }),
    () => ({ opcode: Op.KvJsonSet, body: encodeKvJsonSet({ key, path: r.pick(['$', '$.status', '$.n.m[3]', '$.a.b', 'bad']), value: randomValue(r) }) }),
    () => ({ opcode: Op.KvJsonDel, body: encodeKvJsonDel({ key, path: r.pick(['$', '$.status', '$.n', 'bad']) }) }),
    () => ({ opcode: Op.KvBeginTxn, body: encodeKvBeginTxn({ routingKey: utf8(r.pick(['user:1', 'user:2', ''])) }) }),
    () => ({ opcode: Op.KvCommitTxn, body: encodeKvCommitTxn({ routingKey: utf8('user:1'), txnId }) }),
    () => ({ opcode: Op.KvRollbackTxn, body: encodeKvRollbackTxn({ routingKey: utf8('user:1'), txnId }) }),
    () => ({ opcode: Op.KvTouch, body: encodeKvTouch({ key, ttlSeconds: BigInt(r.int(5)), ...(txn ? { txn } : {}) }) }),
    () => ({ opcode: Op.KvPersist, body: encodeKvPersist({ key, ...(txn ? { txn } : {}) }) }),
    () => ({ opcode: Op.KvExists, body: encodeKvExists({ key, ...(txn ? { txn } : {}) }) }),
    () => ({ opcode: Op.QueueEnqueue, body: encodeQueueEnqueue({ queue: name, payload: randomValue(r), priority: r.int(4), ...(r.chance(0.3) ? { delayMs: BigInt(small()) } : {}), ...(r.chance(0.2) ? { dedupKey: r.pick(['d1', 'd2']) } : {}) }) }),
    () => ({ opcode: Op.QueueBatchEnqueue, body: encodeQueueBatchEnqueue({ queue: name, payloads: Array.from({ length: r.int(4) }, () => randomValue(r)) }) }),
    () => ({ opcode: Op.QueueDequeue, body: encodeQueueDequeue({ queue: name, count: r.int(5), visibilityTimeoutMs: r.chance(0.5) ? small() : undefined, blockMs: block() }) }),
    () => ({ opcode: Op.QueueComplete, body: encodeQueueComplete({ queue: name, seqs }) }),
    () => ({ opcode: Op.QueueFail, body: encodeQueueFail({ queue: name, seqs, toDlq: r.chance(0.3) }) }),
    () => ({ opcode: Op.QueueTouch, body: encodeQueueTouch({ queue: name, seqs, extendMs: r.chance(0.5) ? small() : undefined }) }),
    () => ({ opcode: Op.QueueExtendLease, body: encodeQueueTouch({ queue: name, seqs }) }),
    () => ({ opcode: Op.QueuePeek, body: encodeQueuePeek({ queue: name, count: r.int(5) }) }),
    () => ({ opcode: Op.QueueDlqList, body: encodeQueueDlqList({ queue: name, limit: r.int(3) }) }),
    () => ({ opcode: Op.QueueDlqRequeue, body: encodeQueueDlqRequeue({ queue: name, seqs }) }),
    () => ({ opcode: Op.QueueDlqDelete, body: encodeQueueDlqRequeue({ queue: name, seqs }) }),
    () => ({ opcode: Op.QueueDlqStats, body: encodeQueueStats({ queue: name }) }),
    () => ({ opcode: Op.QueueStats, body: encodeQueueStats({ queue: name }) }),
    () => ({ opcode: Op.QueuePurge, body: encodeQueuePurge({ queue: name }) }),
    () => ({ opcode: Op.QueueList, body: encodeQueueList({ limit: r.int(3) }) }),
    () => ({ opcode: Op.StreamAppend, body: encodeStreamAppendBatch({ stream: name, records: Array.from({ length: r.int(3) + (r.chance(0.9) ? 1 : 0) }, () => ({ payload: randomValue(r), headers: r.chance(0.3) ? { h: 'v' } : undefined })), ...(r.chance(0.2) ? { partition: r.int(3) } : {}), ...(r.chance(0.2) ? { partitionKey: 'pk' } : {}) }) }),
    () => ({ opcode: Op.StreamRead, body: encodeStreamRead({ stream: name, ...(r.chance(0.3) ? { tail: true } : r.chance(0.3) ? { start: ids[0] } : {}), ...(r.chance(0.2) ? { end: ids[ids.length - 1] } : {}), count: r.int(4), blockMs: block(), ...(r.chance(0.1) ? { partition: r.int(3) } : {}) }) }),
    () => ({ opcode: Op.StreamInfo, body: encodeStreamInfo({ stream: name }) }),
    () => ({ opcode: Op.StreamTrim, body: encodeStreamTrim({ stream: name, ...(r.chance(0.5) ? { maxLen: BigInt(r.int(5)) } : {}), ...(r.chance(0.3) ? { maxAgeSeconds: BigInt(r.int(5)) } : {}), dryRun: r.chance(0.3) }) }),
    () => ({ opcode: Op.StreamCreate, body: encodeStreamCreate({ stream: name, ...(r.chance(0.5) ? { partitionCount: r.int(4) } : {}), ...(r.chance(0.3) ? { retentionCount: BigInt(r.int(5)) } : {}) }) }),
    () => ({ opcode: Op.StreamList, body: encodeStreamList({ limit: r.int(3) }) }),
    () => ({ opcode: Op.StreamGroupCreate, body: encodeStreamGroupCreate({ ...gc, ...(r.chance(0.5) ? { ackTimeoutMs: small() } : {}), ...(r.chance(0.5) ? { maxDeliver: r.int(4) } : {}) }) }),
    () => ({ opcode: Op.StreamGroupJoin, body: encodeStreamGroupJoin(gc) }),
    () => ({ opcode: Op.StreamGroupLeave, body: encodeStreamGroupLeave(gc) }),
    () => ({ opcode: Op.StreamGroupRead, body: encodeStreamGroupRead({ ...gc, count: r.int(4), blockMs: block(), noAck: r.chance(0.2) }) }),
    () => ({ opcode: Op.StreamGroupAck, body: encodeStreamGroupAck({ ...gc, ids }) }),
    () => ({ opcode: Op.StreamGroupNack, body: encodeStreamGroupNack({ ...gc, ids, ...(r.chance(0.5) ? { redeliveryDelayMs: small() } : {}) }) }),
    () => ({ opcode: Op.StreamGroupTouch, body: encodeStreamGroupTouch({ ...gc, ids, ...(r.chance(0.5) ? { extendMs: small() } : {}) }) }),
    () => ({ opcode: Op.StreamGroupClaim, body: encodeStreamGroupClaim({ ...gc, minIdleMs: small(), count: r.int(4), ...(r.chance(0.3) ? { start: ids[0] } : {}) }) }),
    () => ({ opcode: Op.StreamGroupPending, body: encodeStreamGroupPending(gc) }),
    () => ({ opcode: Op.StreamGroupInfo, body: encodeStreamGroupInfo(gc) }),
  ];
  return r.pick(gens)();
}

/** Any subsystem opcode (or a neighbour), with arbitrary small sections. */
function raw(r: Rng, opcodes: readonly number[]): { opcode: number; body: OpPayload } {
  const opcode = r.chance(0.95) ? r.pick(opcodes) : 0x100 + r.int(0xa0);
  return {
    opcode,
    body: {
      key: r.chance(0.8) ? utf8(r.pick([...NAMES, '', 'x'.repeat(300)])) : r.bytes(r.int(10)),
      value: randomValue(r),
      options: randomOptions(r),
    },
  };
}

let it_: Integration | undefined;
let client: SocketClient | undefined;
afterEach(async () => {
  client?.close();
  await it_?.server.close();
});

describe('fuzz-ish: random well-framed requests to the real subsystems', () => {
  it(`${REQUESTS} requests over one connection: one reply each, by id; no INTERNAL_ERROR; server healthy after`, async () => {
    it_ = await startIntegration();
    const c = (client = await SocketClient.tcp(it_.server.port, 1n));
    const r = prng(SEED);
    const opcodes = [...it_.kv.handlers.keys(), ...it_.queues.handlers.keys(), ...it_.streams.handlers.keys()];

    const sent = new Map<bigint, { opcode: number; body: OpPayload; namespace: string }>();
    const replies: Array<Promise<DecodedResponse>> = [];
    let batch: Uint8Array[] = [];
    const flush = async () => {
      replies.push(...c.sendFrames(batch));
      batch = [];
      await c.barrier();
    };
    for (let i = 0; i < REQUESTS; i++) {
      const { opcode, body } = r.chance(0.6) ? structured(r) : raw(r, opcodes);
      const namespace = r.pick(['test', 'test', '', 'other']);
      const id = c.id();
      sent.set(id, { opcode, body, namespace });
      batch.push(encodeRequest(id, opcode, namespace, body));
      if (batch.length >= 1 + r.int(40)) {
        await flush();
        if (r.chance(0.3)) it_.clock.advance(r.int(4000));
      }
    }
    await flush();
    // every parked request ends by its deadline (block/wait ≤ 4 s here, 300 s at most)
    it_.clock.advance(300_001);
    const all = await Promise.all(replies);

    expect(all).toHaveLength(REQUESTS);
    expect(new Set(all.map((x) => x.requestId)).size).toBe(REQUESTS);
    expect(c.strays).toEqual([]);
    expect(c.decodeError).toBeUndefined();
    const internal = all
      .filter((x) => x.status === Status.InternalError)
      .map((x) => {
        const req = sent.get(x.requestId)!;
        return `0x${req.opcode.toString(16)} ns=${req.namespace} key=${fromUtf8(req.body.key ?? new Uint8Array())}: ${fromUtf8(x.payload)}`;
      });
    expect(internal).toEqual([]);
    expect(it_.internalErrors()).toEqual([]);
    // a spread of outcomes, not one status for everything
    const statuses = new Set(all.map((x) => x.status));
    expect(statuses.has(Status.OK) && statuses.has(Status.BadRequest)).toBe(true);

    // still healthy: same connection, and a new one
    expect(it_.waiting()).toBe(0);
    await c.request(Op.KvPut, encodeKvPut({ key: utf8('after'), value: utf8('fuzz') })).then(okBody);
    const fresh = await SocketClient.tcp(it_.server.port);
    try {
      expect(fromUtf8(decodeKvGetReply(okBody(await fresh.request(Op.KvGet, encodeKvGet({ key: utf8('after') })))).value)).toBe('fuzz');
    } finally {
      fresh.close();
    }
    expect(it_.server.connections).toBeGreaterThanOrEqual(1);
  });
});
