// End-to-end scenarios per subsystem over real sockets, several connections at once, time on a
// ManualClock: blocking requests woken from another connection, out-of-order replies on one
// connection, TTLs, transactions, leases, DLQ, consumer groups.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Op,
  Status,
  decodeKvGetReply,
  decodeKvBeginTxnReply,
  decodeKvPutReply,
  decodeQueueDequeueReply,
  decodeQueueDlqListReply,
  decodeQueueDlqStatsReply,
  decodeQueueEnqueueReply,
  decodeStreamAppendReply,
  decodeStreamGroupPendingReply,
  decodeStreamRecords,
  encodeKvBeginTxn,
  encodeKvCommitTxn,
  encodeKvGet,
  encodeKvPut,
  encodeKvRollbackTxn,
  encodeQueueComplete,
  encodeQueueDequeue,
  encodeQueueDlqList,
  encodeQueueDlqRequeue,
  encodeQueueDlqStats,
  encodeQueueEnqueue,
  encodeQueueFail,
  encodeStreamAppend,
  encodeStreamGroupAck,
  encodeStreamGroupCreate,
  encodeStreamGroupNack,
  encodeStreamGroupPending,
  encodeStreamGroupRead,
  encodeStreamRead,
  formatStreamId,
  fromUtf8,
  utf8,
  type OpPayload,
  type StreamRecord,
} from '../../../src/protocol/index.js';
import { SocketClient, okBody, startIntegration, type Integration } from './harness.js';

let it_: Integration;
let conns: SocketClient[] = [];
const open = async (kind: 'tcp' | 'ws' = 'tcp') => {
  const c = kind === 'tcp' ? await SocketClient.tcp(it_.server.port) : await SocketClient.ws(it_.server.wsUrl);
  conns.push(c);
  return c;
};
beforeEach(async () => {
  it_ = await startIntegration();
  conns = [];
});
afterEach(async () => {
  for (const c of conns) expect(c.strays).toEqual([]);
  expect(it_.internalErrors()).toEqual([]);
  for (const c of conns) c.close();
  await it_.server.close();
});

const call = async (c: SocketClient, op: number, body: OpPayload) => okBody(await c.request(op, body));
const key = (k: string) => utf8(k);

describe('KV over sockets', () => {
  it('a blocking get is woken by a put on another connection; a later request on its connection is answered first', async () => {
    const a = await open();
    const b = await open('ws');
    const parked = a.request(Op.KvGet, encodeKvGet({ key: key('job:1'), blockMs: 10_000 }));
    const later = a.request(Op.KvPut, encodeKvPut({ key: key('other'), value: utf8('x') }));
    expect(decodeKvPutReply(okBody(await later)).version).toBe(1n);
    expect(it_.kv.waiting()).toBe(1);

    const put = decodeKvPutReply(await call(b, Op.KvPut, encodeKvPut({ key: key('job:1'), value: utf8('done') })));
    const got = decodeKvGetReply(okBody(await parked));
    expect({ value: fromUtf8(got.value), version: got.version }).toEqual({ value: 'done', version: put.version });
    // the put (sent second) was answered before the get (sent first)
    const ids = a.arrivals;
    expect(ids[0]).toBeGreaterThan(ids[1]);
    expect(it_.waiting()).toBe(0);
  });

  it('a blocking get that nobody satisfies answers NOT_FOUND when the server clock passes its deadline', async () => {
    const a = await open();
    const parked = a.request(Op.KvGet, encodeKvGet({ key: key('never'), blockMs: 2000 }));
    await a.barrier();
    it_.clock.advance(1999);
    await a.barrier();
    expect(a.inFlight).toBe(1);
    it_.clock.advance(1);
    expect((await parked).status).toBe(Status.NotFound);
    expect(it_.waiting()).toBe(0);
  });

  it('TTL expiry follows the server clock', async () => {
    const a = await open();
    const b = await open();
    await call(a, Op.KvPut, encodeKvPut({ key: key('session'), value: utf8('s1'), ttlSeconds: 10n }));
    it_.clock.advance(9_999);
    expect(fromUtf8(decodeKvGetReply(await call(b, Op.KvGet, encodeKvGet({ key: key('session') }))).value)).toBe('s1');
    it_.clock.advance(1);
    expect((await b.request(Op.KvGet, encodeKvGet({ key: key('session') }))).status).toBe(Status.NotFound);
  });

  it('transaction writes are invisible to other connections until commit; a rollback discards them', async () => {
    const a = await open();
    const b = await open('ws');
    const rk = utf8('user:42');
    const { txnId } = decodeKvBeginTxnReply(await call(a, Op.KvBeginTxn, encodeKvBeginTxn({ routingKey: rk })));
    const txn = { txnId, routingKey: rk };
    await call(a, Op.KvPut, encodeKvPut({ key: key('user:42:name'), value: utf8('Jane'), txn }));
    expect((await b.request(Op.KvGet, encodeKvGet({ key: key('user:42:name') }))).status).toBe(Status.NotFound);
    // inside the transaction the write is visible
    expect(fromUtf8(decodeKvGetReply(await call(a, Op.KvGet, encodeKvGet({ key: key('user:42:name'), txn }))).value)).toBe('Jane');
    // a blocking get on B is woken by the commit
    const waiting = b.request(Op.KvGet, encodeKvGet({ key: key('user:42:name'), blockMs: 5000 }));
    await b.barrier();
    expect(it_.kv.waiting()).toBe(1);
    await call(a, Op.KvCommitTxn, encodeKvCommitTxn({ routingKey: rk, txnId }));
    expect(fromUtf8(decodeKvGetReply(okBody(await waiting)).value)).toBe('Jane');

    const t2 = decodeKvBeginTxnReply(await call(a, Op.KvBeginTxn, encodeKvBeginTxn({ routingKey: rk }))).txnId;
    await call(a, Op.KvPut, encodeKvPut({ key: key('user:42:name'), value: utf8('Ann'), txn: { txnId: t2, routingKey: rk } }));
    await call(a, Op.KvRollbackTxn, encodeKvRollbackTxn({ routingKey: rk, txnId: t2 }));
    expect(fromUtf8(decodeKvGetReply(await call(b, Op.KvGet, encodeKvGet({ key: key('user:42:name') }))).value)).toBe('Jane');
  });
});

describe('queues over sockets', () => {
  const q = 'jobs';
  const enqueue = async (c: SocketClient, payload: string) => decodeQueueEnqueueReply(await call(c, Op.QueueEnqueue, encodeQueueEnqueue({ queue: q, payload: utf8(payload) }))).seq;
  const dequeue = async (c: SocketClient, opts: { count?: number; visibilityTimeoutMs?: number } = {}) =>
    decodeQueueDequeueReply(await call(c, Op.QueueDequeue, encodeQueueDequeue({ queue: q, ...opts }))).messages;
  const text = (ms: readonly { seq: bigint; payload: Uint8Array }[]) => ms.map((m) => `${m.seq}:${fromUtf8(m.payload)}`);

  it('a long-poll is woken by an enqueue on another connection', async () => {
    const a = await open();
    const b = await open();
    const parked = a.request(Op.QueueDequeue, encodeQueueDequeue({ queue: q, count: 5, blockMs: 30_000 }));
    await a.barrier();
    expect(it_.queues.waiters.count()).toBe(1);
    await enqueue(b, 'hello');
    expect(text(decodeQueueDequeueReply(okBody(await parked)).messages)).toEqual(['1:hello']);
    expect(it_.waiting()).toBe(0);
  });

  it('visibility timeout expiry redelivers (waking a parked dequeue on another connection)', async () => {
    const a = await open();
    const b = await open('ws');
    await enqueue(a, 'work');
    expect(text(await dequeue(a, { visibilityTimeoutMs: 5000 }))).toEqual(['1:work']);
    const parked = b.request(Op.QueueDequeue, encodeQueueDequeue({ queue: q, blockMs: 60_000 }));
    await b.barrier();
    it_.clock.advance(4_999);
    await b.barrier();
    expect(b.inFlight).toBe(1);
    it_.clock.advance(1);
    expect(text(decodeQueueDequeueReply(okBody(await parked)).messages)).toEqual(['1:work']);
    // B acks its delivery; nothing comes back after any lease would have ended
    await call(b, Op.QueueComplete, encodeQueueComplete({ queue: q, seqs: [1n] }));
    it_.clock.advance(60_000);
    expect(await dequeue(a)).toEqual([]);
  });

  it('the 5th failed delivery dead-letters; DLQ requeue makes it deliverable again', async () => {
    const a = await open();
    const b = await open();
    const seq = await enqueue(a, 'poison');
    for (let i = 1; i <= 5; i++) {
      const got = await dequeue(i % 2 ? a : b);
      expect(text(got)).toEqual([`${seq}:poison`]);
      await call(i % 2 ? a : b, Op.QueueFail, encodeQueueFail({ queue: q, seqs: [seq] }));
    }
    expect(await dequeue(a)).toEqual([]);
    expect(text(decodeQueueDlqListReply(await call(b, Op.QueueDlqList, encodeQueueDlqList({ queue: q }))).messages)).toEqual([`${seq}:poison`]);
    expect(decodeQueueDlqStatsReply(await call(b, Op.QueueDlqStats, encodeQueueDlqStats({ queue: q })))).toMatchObject({ current: 1n, total: 1n });

    // a parked dequeue on A is woken by B's requeue
    const parked = a.request(Op.QueueDequeue, encodeQueueDequeue({ queue: q, blockMs: 10_000 }));
    await a.barrier();
    await call(b, Op.QueueDlqRequeue, encodeQueueDlqRequeue({ queue: q, seqs: [seq] }));
    expect(text(decodeQueueDequeueReply(okBody(await parked)).messages)).toEqual([`${seq}:poison`]);
    expect(decodeQueueDlqListReply(await call(b, Op.QueueDlqList, encodeQueueDlqList({ queue: q }))).messages).toEqual([]);
  });
});

describe('streams over sockets', () => {
  const stream = 'events';
  const append = async (c: SocketClient, payload: string) => decodeStreamAppendReply(await call(c, Op.StreamAppend, encodeStreamAppend({ stream, payload: utf8(payload) })));
  const recs = (p: Uint8Array) => decodeStreamRecords(p).map((r: StreamRecord) => fromUtf8(r.payload));
  const groupRead = (c: SocketClient, consumer: string, blockMs?: number) =>
    c.request(Op.StreamGroupRead, encodeStreamGroupRead({ stream, group: 'g', consumer, count: 10, ...(blockMs ? { blockMs } : {}) }));
  const pending = async (c: SocketClient) =>
    decodeStreamGroupPendingReply(await call(c, Op.StreamGroupPending, encodeStreamGroupPending({ stream, group: 'g' }))).map(
      (e) => `${formatStreamId(e.id)}@${e.consumer}`,
    );

  it('a blocking tail read is woken by an append on another connection', async () => {
    const a = await open();
    const b = await open('ws');
    await append(b, 'old');
    const parked = a.request(Op.StreamRead, encodeStreamRead({ stream, tail: true, blockMs: 10_000 }));
    await a.barrier();
    expect(it_.streams.waiters.count()).toBe(1);
    await append(b, 'new');
    expect(recs(okBody(await parked))).toEqual(['new']);
    expect(it_.waiting()).toBe(0);
  });

  it('a group shared by two consumers on two connections: split delivery, nack → the other consumer, ack timeout → redelivery', async () => {
    const a = await open();
    const b = await open('ws');
    const w = await open();
    await call(w, Op.StreamGroupCreate, encodeStreamGroupCreate({ stream, group: 'g', ackTimeoutMs: 1000 }));

    // both park on an empty stream; each append serves one of them
    const pa = groupRead(a, 'c1', 10_000);
    await a.barrier();
    const pb = groupRead(b, 'c2', 10_000);
    await b.barrier();
    expect(it_.streams.waiters.count()).toBe(2);
    const id1 = await append(w, 'one');
    const first = await Promise.race([pa.then(() => 'a'), pb.then(() => 'b')]);
    expect(first).toBe('a'); // parked readers are served in park order
    const [winner, other] = first === 'a' ? [pa, pb] : [pb, pa];
    expect(recs(okBody(await winner))).toEqual(['one']);
    const id2 = await append(w, 'two');
    expect(recs(okBody(await other))).toEqual(['two']);
    const owner1 = first === 'a' ? 'c1' : 'c2';
    const owner2 = first === 'a' ? 'c2' : 'c1';
    expect((await pending(w)).sort()).toEqual([`${formatStreamId(id1)}@${owner1}`, `${formatStreamId(id2)}@${owner2}`].sort());

    // the owner of 'one' nacks it; the other consumer, parked, receives it
    const [ownerConn, otherConn] = first === 'a' ? [a, b] : [b, a];
    await call(w, Op.StreamGroupAck, encodeStreamGroupAck({ stream, group: 'g', ids: [id2] }));
    const redelivered = groupRead(otherConn, owner2, 10_000);
    await otherConn.barrier();
    await call(ownerConn, Op.StreamGroupNack, encodeStreamGroupNack({ stream, group: 'g', consumer: owner1, ids: [id1] }));
    expect(recs(okBody(await redelivered))).toEqual(['one']);
    expect(await pending(w)).toEqual([`${formatStreamId(id1)}@${owner2}`]);

    // nobody acks: after the ack timeout, the first consumer (parked) gets it back
    const again = groupRead(ownerConn, owner1, 60_000);
    await ownerConn.barrier();
    it_.clock.advance(999);
    await ownerConn.barrier();
    expect(ownerConn.inFlight).toBe(1);
    it_.clock.advance(1);
    expect(recs(okBody(await again))).toEqual(['one']);
    expect(await pending(w)).toEqual([`${formatStreamId(id1)}@${owner1}`]);
    await call(ownerConn, Op.StreamGroupAck, encodeStreamGroupAck({ stream, group: 'g', consumer: owner1, ids: [id1] }));
    expect(await pending(w)).toEqual([]);
    expect(it_.waiting()).toBe(0);
  });
});
