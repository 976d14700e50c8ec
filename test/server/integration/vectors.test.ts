// Replays every KV, queue and stream Go SDK vector against the real server over a real TCP socket:
// the state the vector implies is built with prior requests (frames from the protocol encoders),
// then the vector's exact frame bytes are written and the reply is decoded with the client-side
// decoders. Status must match; the decoded reply must equal the SDK's `sdk_parsed` (`docs/protocol-decisions.md` #37
// cases: equal to what our decoders make of the vector's own reply bytes); where the state can be
// reproduced exactly, the reply bytes must equal the vector's too.
import { afterEach, describe, expect, it } from 'vitest';
import {
  Op,
  decodeStreamGroupPendingReply,
  decodeStreamInfoReply,
  decodeStreamTrimReply,
  encodeQueueComplete,
  encodeQueueDequeue,
  encodeQueueEnqueue,
  encodeQueueFail,
  encodeQueuePurge,
  encodeRequest,
  encodeStreamAppendBatch,
  encodeStreamCreate,
  encodeStreamGroupJoin,
  encodeStreamGroupPending,
  encodeStreamGroupRead,
  encodeStreamInfo,
  encodeStreamTrim,
  formatStreamId,
  fromHex,
  fromUtf8,
  toHex,
  utf8,
  type KvTxnRef,
  type StreamBatchRecordInit,
} from '../../../src/protocol/index.js';
import { allVectors, type Vector } from '../../vectors.js';
import { ops } from '../kv/ops.js';
import { SocketClient, okBody, startIntegration, type Integration } from './harness.js';
import { sdkView } from './views.js';

const T0 = 1_700_000_000_000;

interface Env {
  readonly it: Integration;
  readonly c: SocketClient;
}

interface Spec {
  readonly startMs?: number;
  readonly setup?: (e: Env) => Promise<void>;
  /** Runs while the vector's request is outstanding (after it has been dispatched). */
  readonly during?: (e: Env) => Promise<void>;
  /** Reply bytes must equal the vector's (default true). */
  readonly exact?: boolean;
  /** The SDK view we must produce, from the vector's `sdk_parsed` (default: unchanged). */
  readonly expected?: (sdk: unknown) => unknown;
  /** `docs/protocol-decisions.md` #37: the target is our decoders' reading of the vector's reply bytes, not `sdk_parsed`. */
  readonly decision37?: boolean;
  /** A documented difference from the vector's status (README, "Differences from Flo"). */
  readonly status?: { status: number; message: string };
  /** Extra checks after the reply. */
  readonly after?: (e: Env, payload: Uint8Array) => Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// request shortcuts (each one request over the socket, OK required)

async function ok(c: SocketClient, opcode: number, body: Parameters<SocketClient['request']>[1], ns = 'test') {
  return okBody(await c.request(opcode, body, ns));
}

const kv = (e: Env) => ops(e.c.asKvHarness());
const times = async (n: number, f: () => Promise<unknown>) => {
  for (let i = 0; i < n; i++) await f();
};

async function enqueue(c: SocketClient, payload: string, queue = 'tasks') {
  await ok(c, Op.QueueEnqueue, encodeQueueEnqueue({ queue, payload: utf8(payload) }));
}
/** `n` enqueues, pipelined in one write, then a purge: the next seq is n + 1. */
async function fillTo(c: SocketClient, n: number, queue = 'tasks') {
  const frames = Array.from({ length: n }, () => encodeRequest(c.id(), Op.QueueEnqueue, 'test', encodeQueueEnqueue({ queue, payload: utf8('filler') })));
  for (const r of await Promise.all(c.sendFrames(frames))) okBody(r);
  await ok(c, Op.QueuePurge, encodeQueuePurge({ queue }));
}
async function dequeue(c: SocketClient, count: number, queue = 'tasks') {
  await ok(c, Op.QueueDequeue, encodeQueueDequeue({ queue, count }));
}
async function dlqSetup(c: SocketClient) {
  await fillTo(c, 6);
  await enqueue(c, '{"task":"bad"}'); // 7
  await enqueue(c, '{"task":"fine"}'); // 8
  await enqueue(c, '{"task":"worse"}'); // 9
  await dequeue(c, 3);
  await ok(c, Op.QueueFail, encodeQueueFail({ queue: 'tasks', seqs: [7n, 9n], toDlq: true }));
  await ok(c, Op.QueueComplete, encodeQueueComplete({ queue: 'tasks', seqs: [8n] }));
}

const rec = (payload: string | Uint8Array, headers?: Record<string, string>): StreamBatchRecordInit => ({
  payload: typeof payload === 'string' ? utf8(payload) : payload,
  ...(headers ? { headers } : {}),
});
const fillers = (n: number, size = 1) => Array.from({ length: n }, () => rec(new Uint8Array(size).fill(0x61)));
async function append(c: SocketClient, records: StreamBatchRecordInit[], partition?: number) {
  await ok(c, Op.StreamAppend, encodeStreamAppendBatch({ stream: 'events', records, ...(partition !== undefined ? { partition } : {}) }));
}
async function trimTo(c: SocketClient, maxLen: bigint) {
  await ok(c, Op.StreamTrim, encodeStreamTrim({ stream: 'events', maxLen }));
}
/** At T0+ms: `n` records, the last one being `last`, then everything but the last trimmed: its id is (T0+ms)-(n-1). */
async function lone(e: Env, ms: number, n: number, last: StreamBatchRecordInit) {
  e.it.clock.advance(T0 + ms - e.it.clock.now());
  await append(e.c, [...fillers(n - 1), last]);
  await trimTo(e.c, 1n);
}
/** Records 1700000000002-0..7 and 1700000000003-0..8, all pending for consumer c1. */
async function pendingIds(e: Env): Promise<void> {
  e.it.clock.advance(2);
  await append(e.c, fillers(8));
  e.it.clock.advance(1);
  await append(e.c, fillers(9));
  await ok(e.c, Op.StreamGroupRead, encodeStreamGroupRead({ stream: 'events', group: 'workers', consumer: 'c1', count: 1000 }));
}
async function pendingOf(e: Env): Promise<string[]> {
  const p = await ok(e.c, Op.StreamGroupPending, encodeStreamGroupPending({ stream: 'events', group: 'workers' }));
  return decodeStreamGroupPendingReply(p).map((x) => formatStreamId(x.id));
}
const join = async (e: Env): Promise<void> => void await ok(e.c, Op.StreamGroupJoin, encodeStreamGroupJoin({ stream: 'events', group: 'workers', consumer: 'c1' }));
const advanceAfterDispatch = (ms: number) => async (e: Env) => {
  await e.c.barrier();
  e.it.clock.advance(ms);
};
/** The two records of the partition / two-record vectors: ids (T0+3)-8 and -9. */
const twoRecords = [rec('{"event":"a"}', { 'content-type': 'application/json', 'trace-id': 't-1' }), rec('')];
/** Their second record came from a fake server with tier 2 (warm); ours are all hot (tier 0). */
const hotTier = (sdk: unknown) => (sdk as Array<Record<string, unknown>>).map((r) => ({ ...r, tier: 0 }));

const infoState = async (e: Env) => {
  await append(e.c, [rec('x'), rec(new Uint8Array(12))]);
  await trimTo(e.c, 1n); // first id T0-1 (12 bytes)
  e.it.clock.advance(3);
  await append(e.c, fillers(10, 50)); // last id (T0+3)-9; 11 records, 512 bytes
};

const txn7: KvTxnRef = { txnId: 7n, routingKey: utf8('user:42') };
const beginUntil = async (e: Env, id: number) => times(id, () => kv(e).begin('user:42'));

// ---------------------------------------------------------------------------------------------

const specs: Record<string, Spec> = {
  // KV (state as in test/server/kv/kv-vectors.test.ts)
  kv_put_ttl_cas: { setup: (e) => times(5, () => kv(e).put('user:1', 'x')) },
  kv_put_nx_ttl_conflict: { setup: async (e) => void (await kv(e).put('lock:job', 'owner-0')) },
  kv_put_if_exists: { setup: (e) => times(6, () => kv(e).put('user:1', 'x')) },
  kv_get: {
    setup: async (e) => {
      for (const v of ['a', 'b', 'hello']) await kv(e).put('user:1', v);
    },
  },
  kv_get_block: { during: advanceAfterDispatch(5000) },
  kv_delete_if_match: { setup: (e) => times(7, () => kv(e).put('lock:job', 'x')) },
  kv_scan_cursor_limit_keys_only: {
    setup: async (e) => {
      await kv(e).put('user:1', 'hello');
      await kv(e).put('user:2', '');
    },
    exact: false,
    // The vector's reply came from a fake server (a value despite keys-only, Flo's offset cursor).
    expected: () => ({ entries: [{ key: 'user:1', value: '' }, { key: 'user:2', value: '' }], has_more: false }),
  },
  kv_scan_default: {},
  kv_mget: { setup: (e) => times(4, () => kv(e).put('a', 'va')) },
  kv_history_limit: {
    startMs: 1_699_999_999_000,
    setup: async (e) => {
      await kv(e).put('user:1', 'v1');
      e.it.clock.advance(1000);
      await kv(e).put('user:1', 'v2');
    },
  },
  kv_incr_delta: {
    setup: async (e) => {
      await times(7, () => kv(e).incr('visits', 6n));
      await kv(e).incr('visits', 0n);
    },
  },
  kv_incr_default: {},
  kv_incr_not_counter_error: { setup: async (e) => void (await kv(e).put('user:1', 'hello')) },
  kv_touch_if_match: { setup: (e) => times(7, () => kv(e).put('lock:job', 'x')) },
  kv_persist: { setup: async (e) => void (await kv(e).put('lock:job', 'x', { ttlSeconds: 30n })) },
  kv_exists: { setup: (e) => times(3, () => kv(e).put('user:1', 'x')) },
  kv_json_get: {
    setup: async (e) => {
      await times(4, () => kv(e).put('order:42', '{}'));
      await kv(e).put('order:42', '{"id":42, "status": "new"}');
    },
  },
  kv_json_set: { setup: (e) => times(5, () => kv(e).put('order:42', '{"status":"new"}')) },
  kv_json_del: { setup: async (e) => void (await kv(e).put('order:42', '{"status":"new"}')) },
  kv_begin_txn: {
    setup: (e) => beginUntil(e, 6),
    exact: false,
    // Flo's pinned hash is a wyhash; ours is FNV-1a (README "Differences from Flo").
    expected: (sdk) => ({ ...(sdk as object), pinned_hash: expect.stringMatching(/^0x[0-9a-f]{16}$/) }),
  },
  kv_txn_put: { setup: (e) => beginUntil(e, 7) },
  kv_txn_incr: { setup: (e) => beginUntil(e, 7), decision37: true },
  kv_commit_txn: {
    setup: async (e) => {
      await beginUntil(e, 7);
      await kv(e).put('user:42:name', 'Jane', { txn: txn7 });
      await kv(e).incr('user:42:visits', 1n, txn7);
    },
    exact: false,
    expected: (sdk) => ({ ...(sdk as object), commit_index: expect.any(Number) }),
    after: async (e) => {
      // committed writes are visible to a plain get now
      const got = await e.c.request(Op.KvGet, { key: utf8('user:42:name') });
      expect(fromUtf8(okBody(got).subarray(8))).toBe('Jane');
    },
  },
  kv_rollback_txn: { setup: (e) => beginUntil(e, 8) },
  kv_txn_get: {
    setup: async (e) => {
      await beginUntil(e, 7);
      await kv(e).put('user:42:name', 'Jane', { txn: txn7 });
    },
  },
  kv_txn_delete: {
    setup: async (e) => {
      await kv(e).put('user:42:old', 'x');
      await beginUntil(e, 7);
    },
  },
  kv_txn_touch: {
    setup: async (e) => {
      await kv(e).put('user:42:name', 'Ann');
      await beginUntil(e, 7);
    },
  },
  kv_txn_persist: {
    setup: async (e) => {
      await kv(e).put('user:42:name', 'Ann', { ttlSeconds: 60n });
      await beginUntil(e, 7);
    },
  },
  kv_txn_exists: {
    setup: async (e) => {
      await beginUntil(e, 7);
      await kv(e).put('user:42:name', 'Jane', { txn: txn7 });
    },
  },

  // queues
  queue_enqueue_priority_delay_dedup: { setup: (e) => fillTo(e.c, 100) },
  queue_dequeue_count_block: {
    setup: async (e) => {
      await fillTo(e.c, 100);
      await enqueue(e.c, '{"task":"x"}');
    },
  },
  queue_ack: {
    setup: async (e) => {
      await fillTo(e.c, 100);
      await enqueue(e.c, 'a');
      await enqueue(e.c, 'b');
      await dequeue(e.c, 2);
    },
  },
  queue_nack: {
    setup: async (e) => {
      await fillTo(e.c, 100);
      await enqueue(e.c, 'a');
      await dequeue(e.c, 1);
    },
  },
  queue_nack_to_dlq: {
    setup: async (e) => {
      await fillTo(e.c, 100);
      await enqueue(e.c, 'a');
      await dequeue(e.c, 1);
    },
  },
  queue_dlq_list_default: { setup: (e) => dlqSetup(e.c) },
  queue_dlq_list_limit: {},
  queue_dlq_list_zero_limit: {
    setup: async (e) => {
      await fillTo(e.c, 6);
      await enqueue(e.c, '{"task":"bad"}');
      await dequeue(e.c, 1);
      await ok(e.c, Op.QueueFail, encodeQueueFail({ queue: 'tasks', seqs: [7n], toDlq: true }));
    },
  },
  queue_dlq_requeue: { setup: (e) => dlqSetup(e.c) },
  queue_peek: {
    setup: async (e) => {
      await fillTo(e.c, 100);
      await enqueue(e.c, '{"task":"x"}');
      await enqueue(e.c, '{"task":"y"}');
    },
  },
  queue_touch: {
    setup: async (e) => {
      await fillTo(e.c, 100);
      await enqueue(e.c, 'a');
      await dequeue(e.c, 1);
    },
  },
  queue_dequeue_zero: {},
  queue_dequeue_one: {
    setup: async (e) => {
      await fillTo(e.c, 100);
      await enqueue(e.c, '{"task":"x"}');
    },
  },
  queue_dequeue_three: {
    setup: async (e) => {
      await fillTo(e.c, 100);
      for (const p of ['{"n":1}', '', '{"n":3}']) await enqueue(e.c, p);
    },
  },
  // The vector's 0-byte reply is what Go mis-parses (#37); our timed-out dequeue answers [count=0].
  queue_dequeue_zero_byte_reply: { during: advanceAfterDispatch(1000), exact: false, decision37: true },

  // streams (server clock at T0 = 1700000000000)
  stream_append: { startMs: T0, setup: (e) => append(e.c, fillers(5)) },
  stream_append_headers: {
    startMs: T0,
    setup: async (e) => {
      e.it.clock.advance(1);
      await append(e.c, fillers(6));
    },
  },
  // The vector's record has no key (key_present 0); ours carries the stream name.
  stream_read_start_count: { startMs: T0, setup: (e) => lone(e, 1, 7, rec('hi')), exact: false },
  stream_group_read: { startMs: T0, setup: (e) => lone(e, 1, 7, rec('hi')), exact: false },
  stream_read_nil_opts_zero_records: { startMs: T0 },
  stream_read_tail_block_timeout: { startMs: T0, during: advanceAfterDispatch(5000) },
  stream_read_start_end_block_one_record: {
    startMs: T0,
    setup: (e) => lone(e, 2, 8, rec('{"event":"logout"}', { 'trace-id': 'abc123' })),
  },
  stream_read_partition_two_records: {
    startMs: T0,
    setup: async (e) => {
      await ok(e.c, Op.StreamCreate, encodeStreamCreate({ stream: 'events', partitionCount: 3 }));
      e.it.clock.advance(3);
      await append(e.c, fillers(8), 0);
      await append(e.c, twoRecords, 2);
    },
    exact: false,
    expected: hotTier,
  },
  stream_info: {
    startMs: T0,
    setup: infoState,
    exact: false,
    // Flo numbers sequences across milliseconds; ours restart at 0 each millisecond, so
    // reaching (T0+3)-9 takes 10 records in that millisecond.
    expected: (sdk) => ({ ...(sdk as object), count: 11 }),
  },
  stream_info_server_76_bytes: {
    startMs: T0,
    setup: async (e) => {
      await ok(e.c, Op.StreamCreate, encodeStreamCreate({ stream: 'events', retentionAgeSeconds: 86400n, retentionCount: 1000n }));
      await infoState(e);
    },
    exact: false,
    expected: (sdk) => ({ ...(sdk as object), count: 11 }),
    after: async (_e, p) => {
      expect(p.length).toBe(76);
      const want = decodeStreamInfoReply(fromHex(specVector('stream_info_server_76_bytes').response.payload_hex));
      const got = decodeStreamInfoReply(p);
      expect([got.retentionAgeSeconds, got.retentionCount, got.retentionBytes]).toEqual([want.retentionAgeSeconds, want.retentionCount, want.retentionBytes]);
    },
  },
  stream_trim_max_len: {
    startMs: T0,
    setup: async (e) => {
      await append(e.c, fillers(1000)); // one append carries at most 1000 records
      await append(e.c, fillers(4)); // same millisecond: seq 1000..1003
      await trimTo(e.c, 1003n); // seq 1..1003 left; trimming to 1000 removes 1, 2, 3
    },
  },
  stream_trim_max_age: {
    startMs: T0,
    setup: async (e) => {
      await append(e.c, fillers(4));
      await trimTo(e.c, 3n);
      e.it.clock.advance(86_400_001);
      await append(e.c, fillers(5));
    },
    exact: false,
    // Age trims whole milliseconds, so the first record left starts its millisecond: seq 0.
    after: async (_e, p) => expect(decodeStreamTrimReply(p)).toEqual({ removed: 3n, firstSeq: 0n }),
  },
  stream_trim_max_bytes: {
    startMs: T0,
    setup: async (e) => {
      await append(e.c, [rec('a'), ...fillers(3, 400_000), rec(new Uint8Array(700_000))]);
      await trimTo(e.c, 4n);
    },
  },
  stream_trim_dry_run: {
    startMs: T0,
    setup: (e) => append(e.c, fillers(3)),
    // A lone dry_run is no bound (trim needs an offset, count, age or size); the vector's OK is a fake server's.
    status: { status: 3, message: 'trim offset is required' },
  },
  stream_trim_all_options: {
    startMs: T0,
    setup: async (e) => {
      await append(e.c, fillers(14));
      await trimTo(e.c, 13n);
    },
    after: async (e) => {
      const info = decodeStreamInfoReply(await ok(e.c, Op.StreamInfo, encodeStreamInfo({ stream: 'events' })));
      expect(info.count).toBe(13n); // a dry run removes nothing
    },
  },
  stream_trim_no_options: { startMs: T0 },
  stream_group_join: { startMs: T0 },
  stream_group_leave: { startMs: T0, setup: join },
  stream_group_ack: {
    startMs: T0,
    setup: pendingIds,
    after: async (e) => {
      const left = await pendingOf(e);
      expect(left).toHaveLength(15);
      expect(left).not.toContain('1700000000002-7');
      expect(left).not.toContain('1700000000003-8');
    },
  },
  stream_group_ack_no_consumer: {
    startMs: T0,
    setup: pendingIds,
    after: async (e) => expect(await pendingOf(e)).not.toContain('1700000000002-7'),
  },
  stream_group_ack_empty_ids: { startMs: T0, setup: join },
  stream_group_nack_redelivery_delay: { startMs: T0, setup: pendingIds },
  stream_group_nack_plain: { startMs: T0, setup: pendingIds },
  stream_group_read_zero_records: { startMs: T0, setup: join },
  stream_group_read_block_timeout: { startMs: T0, setup: join, during: advanceAfterDispatch(30_000) },
  stream_group_read_one_record: {
    startMs: T0,
    setup: (e) => lone(e, 2, 8, rec('{"event":"logout"}', { 'trace-id': 'abc123' })),
  },
  stream_group_read_two_records: {
    startMs: T0,
    setup: async (e) => {
      e.it.clock.advance(3);
      await append(e.c, fillers(8));
      await append(e.c, twoRecords);
      await trimTo(e.c, 2n);
    },
    exact: false,
    expected: hotTier,
  },
};

function specVector(name: string): Vector {
  const v = allVectors.find((x) => x.name === name);
  if (!v) throw new Error(name);
  return v;
}

const isSubsystemOp = (op: number) => (op >= 0x100 && op < 0x120) || (op >= 0x130 && op < 0x160) || (op >= 0x170 && op < 0x1a0);
const vectors = allVectors.filter((v) => isSubsystemOp(v.opcode));

let current: Integration | undefined;
let client: SocketClient | undefined;
afterEach(async () => {
  client?.close();
  await current?.server.close();
  current = undefined;
  client = undefined;
});

describe('vector replay over TCP (profile go)', () => {
  it('has a spec for every KV, queue and stream vector', () => {
    expect(vectors.length).toBeGreaterThan(60);
    expect(vectors.map((v) => v.name).sort()).toEqual(Object.keys(specs).sort());
  });

  for (const v of vectors) {
    it(v.name, async () => {
      const spec = specs[v.name] ?? {};
      current = await startIntegration({ startMs: spec.startMs });
      client = await SocketClient.tcp(current.server.port);
      const env: Env = { it: current, c: client };
      await spec.setup?.(env);

      // The vector's exact bytes, request id 42 included.
      const frame = fromHex(v.frame_hex);
      const pending = client.sendFrame(frame);
      await spec.during?.(env);
      const reply = await pending;
      expect(reply.requestId).toBe(BigInt(v.request_id));

      const vectorPayload = fromHex(v.response.payload_hex);
      if (spec.status) {
        expect({ status: reply.status, message: fromUtf8(reply.payload) }).toEqual(spec.status);
      } else if (v.response.status !== 0) {
        // Errors: same status, same message bytes (the server's message is what clients show).
        expect(reply.status).toBe(v.response.status);
        expect(fromUtf8(reply.payload)).toBe(fromUtf8(vectorPayload));
      } else {
        expect(reply.status, fromUtf8(reply.payload)).toBe(0);
        const ours = sdkView(v.opcode_name, reply.payload, v.response.sdk_parsed);
        const fromVectorBytes = sdkView(v.opcode_name, vectorPayload, v.response.sdk_parsed);
        if (spec.decision37) {
          expect(ours).toEqual(fromVectorBytes);
        } else {
          const want = spec.expected ? spec.expected(v.response.sdk_parsed) : v.response.sdk_parsed;
          expect(ours).toEqual(want);
        }
        if (spec.exact ?? true) expect(toHex(reply.payload)).toBe(v.response.payload_hex);
      }
      await spec.after?.(env, reply.payload);
      expect(client.strays).toEqual([]);
      expect(current.internalErrors()).toEqual([]);
    });
  }
});
