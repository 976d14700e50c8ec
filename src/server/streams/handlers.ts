/**
 * The stream subsystem of the embedded server: stream ops 0x130-0x140 and consumer-group ops
 * 0x150-0x15C over a `StreamStore`, with blocking reads parked on `Waiters`.
 *
 * Blocking (`block_ms`, `docs/protocol-decisions.md` #14): absent or 0 = answer at once;
 * N ≤ 300 000 = if the result is empty, park for up to N ms; more → BAD_REQUEST. A timed-out park
 * answers OK with **0 bytes**.
 * Parks are keyed by (namespace, stream): an append wakes them all, and each re-runs its own
 * query (so several parked readers are served in park order, and one that still finds nothing
 * parks again until its deadline).
 *
 * - A plain read captures its position when first run (tail: just past the last id; start:
 *   inclusive, #13; else the beginning) and re-reads from there on every wake.
 * - A group read is re-run in full on every wake: due redeliveries first, then new records
 *   (the store's group-read rule). Besides appends, a parked group read wakes (a) on a nack of that stream, since a
 *   delay-less nack is due at once for any consumer of the group (#23), and (b) at the earliest
 *   moment a pending entry of its group comes due (ack timeout or nack delay), because it parks
 *   until `min(block deadline, next due time)` and then reads again. So a consumer waiting on an
 *   idle stream receives another consumer's timed-out or nacked records as soon as they are due,
 *   not only when something new is appended. An entry that reaches `max_deliver` while a reader
 *   waits is dropped as dead by that read, which then keeps waiting.
 *
 * A read that would park beyond the parking caps (per connection, server-wide, or `maxWaiters`) is
 * answered OVERLOADED at once; a read on a stream name longer than 256 bytes answers the empty
 * (0-byte) shape at once, as Flo does.
 */
import {
  decodeStreamAlter,
  decodeStreamAppend,
  decodeStreamCreate,
  decodeStreamDelete,
  decodeStreamGroupAck,
  decodeStreamGroupClaim,
  decodeStreamGroupConfigureSweeper,
  decodeStreamGroupCreate,
  decodeStreamGroupDelete,
  decodeStreamGroupInfo,
  decodeStreamGroupJoin,
  decodeStreamGroupLeave,
  decodeStreamGroupNack,
  decodeStreamGroupPending,
  decodeStreamGroupRead,
  decodeStreamGroupTouch,
  decodeStreamInfo,
  decodeStreamList,
  decodeStreamRead,
  decodeStreamTrim,
  encodeStreamGroupClaimReply,
  encodeStreamGroupInfoReply,
  encodeStreamGroupJoinReply,
  encodeStreamGroupPendingReply,
  encodeStreamGroupTouchReply,
  encodeStreamInfoReply,
  encodeStreamListReply,
  encodeStreamTrimReply,
  EMPTY,
  Op,
  ProtocolError,
  streamIdToBigInt,
  STREAM_DEFAULT_READ_COUNT,
  STREAM_MAX_BLOCK_MS,
  STREAM_MAX_READ_COUNT,
  utf8,
  type StreamBatchRecord,
  type StreamId,
  type StreamRecord,
} from '../../protocol/index.js';
import { badRequest, notFound, ok } from '../reply.js';
import { StreamAppendOk, StreamRecordsOk } from './replies.js';
import { itemsWithin } from '../reply-caps.js';
import type { Handler, Reply, RequestContext, ServerEnv, Subsystem } from '../types.js';
import { Waiters } from '../waiters.js';
import { partitionFor, StreamStore, type StoredRecord } from './store.js';


export interface StreamSubsystemOptions {
  /** Most parked reads at once; beyond it a read that would park is answered OVERLOADED. Default: no own cap. */
  readonly maxWaiters?: number;
  /** Most records one append may carry. Default 1000. */
  readonly maxAppendRecords?: number;
}

/** The subsystem plus its store (tests and the server's introspection use the store directly). */
export interface StreamSubsystem extends Subsystem {
  readonly store: StreamStore;
  readonly waiters: Waiters;
  /**
   * Appends as the APPEND handler does (wakes parked reads, tells `onAppend` listeners): for
   * server-side producers such as processing sinks. Returns the first id.
   */
  append(ns: string, stream: string, records: readonly StreamBatchRecord[], partition?: number): StreamId;
  /** Calls `listener` after every append (from a client or a server-side producer); returns the unsubscribe. */
  onAppend(listener: (ns: string, stream: string) => void): () => void;
}

const MAX_WAITER_KEY_BYTES = 256;

function waitKey(ns: string, stream: string): string {
  return `${ns}\u0000${stream}`;
}

function requireStream(name: string): void {
  if (!name) throw badRequest('stream name is required');
}

function requireGroup(name: string): void {
  if (!name) throw badRequest('group name is required');
}

function consumerName(c: string): string {
  return c || 'default';
}

function readCount(count: number | undefined): number {
  if (!count) return STREAM_DEFAULT_READ_COUNT;
  return Math.min(count, STREAM_MAX_READ_COUNT);
}

function blockMs(ms: number | undefined): number {
  if (ms === undefined || ms === 0) return 0;
  if (ms > STREAM_MAX_BLOCK_MS) throw badRequest(`block_ms must be at most ${STREAM_MAX_BLOCK_MS}`);
  return ms;
}

function toWire(stream: string, recs: readonly StoredRecord[]): StreamRecord[] {
  return recs.map((r) => ({ id: r.id, tier: 0, partition: r.partition, stream, payload: r.payload, headers: r.headers }));
}

/** Malformed request bytes are the client's fault: BAD_REQUEST with the decoder's message. */
function guard(fn: Handler, badBytesMessage?: string): Handler {
  return (ctx) => {
    try {
      return fn(ctx);
    } catch (err) {
      if (err instanceof ProtocolError) throw badRequest(badBytesMessage ?? err.message);
      throw err;
    }
  };
}

/** A record's approximate encoded size, for the reply cap. */
function recordSize(r: StoredRecord): number {
  let n = 64 + r.size;
  for (const [k, v] of r.headers) n += 4 + (k.length + v.length) * 3;
  return n;
}

export function createStreamSubsystem(env: ServerEnv, options: StreamSubsystemOptions = {}): StreamSubsystem {
  const clock = env.clock;
  const store = new StreamStore(clock, env.persistence);
  const waiters = new Waiters(clock, env.parking, options.maxWaiters);
  const maxAppend = options.maxAppendRecords ?? 1000;
  const handlers = new Map<number, Handler>();
  const on = (op: number, fn: Handler, badBytesMessage?: string) => handlers.set(op, guard(fn, badBytesMessage));
  const appendListeners = new Set<(ns: string, stream: string) => void>();
  const append = (ns: string, stream: string, records: readonly StreamBatchRecord[], partition = 0): StreamId => {
    const id = store.append(ns, stream, records, partition);
    // Most appends have nobody waiting and no listener: then no wait key is built, no listener list copied.
    if (waiters.count() > 0) waiters.wake(waitKey(ns, stream));
    if (appendListeners.size > 0) for (const listener of [...appendListeners]) listener(ns, stream);
    return id;
  };

  let closed = false;
  const canPark = (stream: string) => !closed && utf8(stream).length <= MAX_WAITER_KEY_BYTES;

  /**
   * Runs `attempt` until it yields records, the block deadline passes or the connection goes.
   * `nextWake` gives an extra moment to look again (a group's next due redelivery).
   */
  async function blockingRead(
    ctx: RequestContext,
    stream: string,
    block: number,
    attempt: () => StoredRecord[],
    nextWake: () => number | undefined = () => undefined,
  ): Promise<Reply> {
    const deadline = clock.now() + block;
    const key = waitKey(ctx.namespace, stream);
    for (;;) {
      if (!canPark(stream)) return ok(EMPTY);
      const due = nextWake();
      const parkUntil = due !== undefined && due > clock.now() ? Math.min(deadline, due) : deadline;
      await waiters.park(key, parkUntil, ctx.signal, ctx.connectionId);
      if (ctx.signal.aborted || closed) return ok(EMPTY);
      const recs = attempt();
      if (recs.length) return new StreamRecordsOk(stream, recs);
      if (clock.now() >= deadline) return ok(EMPTY);
    }
  }

  // ------------------------------------------------------------------------------------------
  // streams

  on(Op.StreamAppend, (ctx) => {
    const req = decodeStreamAppend(ctx.body);
    requireStream(req.stream);
    if (req.records.length === 0) throw badRequest('append batch is empty');
    if (req.records.length > maxAppend) throw badRequest(`append batch too large (${req.records.length} records, max ${maxAppend})`);
    const partitions = store.partitionCount(ctx.namespace, req.stream);
    let partition = 0;
    if (req.partition !== undefined) {
      if (req.partition >= partitions) throw badRequest(`partition ${req.partition} out of range (partition_count ${partitions})`);
      partition = req.partition;
    } else if (req.partitionKey !== undefined) partition = partitionFor(req.partitionKey, partitions);
    return new StreamAppendOk(append(ctx.namespace, req.stream, req.records, partition));
  });

  on(Op.StreamRead, (ctx) => {
    const q = decodeStreamRead(ctx.body);
    requireStream(q.stream);
    const block = blockMs(q.blockMs);
    const count = readCount(q.count);
    const ns = ctx.namespace;
    const from = q.tail ? store.tailFrom(ns, q.stream) : q.start ? streamIdToBigInt(q.start) : 0n;
    const end = q.end && q.end.timestampMs > 0n ? streamIdToBigInt(q.end) : undefined;
    const attempt = () => {
      const partition = q.partition ?? (q.partitionKey ? partitionFor(q.partitionKey, store.partitionCount(ns, q.stream)) : undefined);
      const recs = store.read(ns, q.stream, { from, end, partition, count });
      // Cut at the reply cap: the reader continues after the last record it got.
      return recs.slice(0, itemsWithin(recs, recordSize));
    };
    const recs = attempt();
    if (recs.length || block === 0) return new StreamRecordsOk(q.stream, recs);
    return blockingRead(ctx, q.stream, block, attempt);
  });

  on(Op.StreamInfo, (ctx) => {
    const { stream } = decodeStreamInfo(ctx.body);
    return ok(encodeStreamInfoReply(store.info(ctx.namespace, stream)));
  });

  on(Op.StreamTrim, (ctx) => {
    const q = decodeStreamTrim(ctx.body);
    requireStream(q.stream);
    const { stream, dryRun, ...bounds } = q;
    if (Object.keys(bounds).length === 0) throw badRequest('trim offset is required');
    return ok(encodeStreamTrimReply(store.trim(ctx.namespace, stream, bounds, dryRun)));
  });

  on(Op.StreamCreate, (ctx) => {
    const q = decodeStreamCreate(ctx.body);
    requireStream(q.stream);
    store.create(ctx.namespace, q.stream, q.partitionCount ?? 0, {
      count: q.retentionCount ?? 0n,
      ageSeconds: q.retentionAgeSeconds ?? 0n,
      bytes: q.retentionBytes ?? 0n,
    });
    return ok();
  });

  on(Op.StreamAlter, (ctx) => {
    const q = decodeStreamAlter(ctx.body);
    requireStream(q.stream);
    const found = store.alter(ctx.namespace, q.stream, {
      ...(q.retentionCount !== undefined ? { count: q.retentionCount } : {}),
      ...(q.retentionAgeSeconds !== undefined ? { ageSeconds: q.retentionAgeSeconds } : {}),
      ...(q.retentionBytes !== undefined ? { bytes: q.retentionBytes } : {}),
    });
    if (!found) throw notFound('stream not found');
    return ok();
  });

  on(Op.StreamList, (ctx) => {
    const q = decodeStreamList(ctx.body);
    const limit = Math.min(q.limit || STREAM_DEFAULT_READ_COUNT, STREAM_MAX_READ_COUNT);
    return ok(encodeStreamListReply(store.list(ctx.namespace, limit, q.cursor)));
  });

  on(Op.StreamDelete, (ctx) => {
    const q = decodeStreamDelete(ctx.body);
    requireStream(q.stream);
    store.delete(ctx.namespace, q.stream, q.force);
    return ok();
  });

  // ------------------------------------------------------------------------------------------
  // consumer groups

  on(Op.StreamGroupCreate, (ctx) => {
    const q = decodeStreamGroupCreate(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    store.groupCreate(ctx.namespace, q.stream, q.group, q);
    return ok();
  });

  on(Op.StreamGroupConfigureSweeper, (ctx) => {
    const q = decodeStreamGroupConfigureSweeper(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    store.groupConfigure(ctx.namespace, q.stream, q.group, q);
    waiters.wake(waitKey(ctx.namespace, q.stream));
    return ok();
  });

  on(Op.StreamGroupJoin, (ctx) => {
    const q = decodeStreamGroupJoin(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    store.groupJoin(ctx.namespace, q.stream, q.group, consumerName(q.consumer));
    return ok(encodeStreamGroupJoinReply({ generationId: 1n, partitionCount: 1, partition: 0 }));
  });

  on(Op.StreamGroupLeave, (ctx) => {
    const q = decodeStreamGroupLeave(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    store.groupLeave(ctx.namespace, q.stream, q.group, consumerName(q.consumer));
    return ok();
  });

  on(Op.StreamGroupRead, (ctx) => {
    const q = decodeStreamGroupRead(ctx.body);
    requireStream(q.stream);
    if (q.stream.endsWith('*')) throw badRequest('wildcard group reads are not supported');
    requireGroup(q.group);
    const block = blockMs(q.blockMs);
    const count = readCount(q.count);
    const ns = ctx.namespace;
    const consumer = consumerName(q.consumer);
    const attempt = () => store.groupRead(ns, q.stream, q.group, consumer, count, q.noAck);
    const recs = attempt();
    if (recs.length || block === 0) return new StreamRecordsOk(q.stream, recs);
    return blockingRead(ctx, q.stream, block, attempt, () => store.nextDueAt(ns, q.stream, q.group));
  });

  on(
    Op.StreamGroupAck,
    (ctx) => {
      const q = decodeStreamGroupAck(ctx.body);
      requireStream(q.stream);
      requireGroup(q.group);
      if (q.ids.length === 0) throw badRequest('stream IDs required for ack');
      store.groupAck(ctx.namespace, q.stream, q.group, q.ids);
      return ok();
    },
    'stream IDs required for ack',
  );

  on(Op.StreamGroupNack, (ctx) => {
    const q = decodeStreamGroupNack(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    store.groupNack(ctx.namespace, q.stream, q.group, q.ids, q.redeliveryDelayMs ?? 0);
    // Parked readers of the group look again (and re-arm their timers for a delayed redelivery).
    waiters.wake(waitKey(ctx.namespace, q.stream));
    return ok();
  });

  on(Op.StreamGroupTouch, (ctx) => {
    const q = decodeStreamGroupTouch(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    return ok(encodeStreamGroupTouchReply(store.groupTouch(ctx.namespace, q.stream, q.group, q.ids, q.extendMs)));
  });

  on(Op.StreamGroupClaim, (ctx) => {
    const q = decodeStreamGroupClaim(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    const count = Math.min(q.count, STREAM_MAX_READ_COUNT);
    const res = store.groupClaim(ctx.namespace, q.stream, q.group, consumerName(q.consumer), q.minIdleMs, q.start, count);
    return ok(encodeStreamGroupClaimReply({ records: toWire(q.stream, res.records), next: res.next }));
  });

  on(Op.StreamGroupPending, (ctx) => {
    const q = decodeStreamGroupPending(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    return ok(encodeStreamGroupPendingReply(store.groupPending(ctx.namespace, q.stream, q.group, q.consumer || undefined, STREAM_MAX_READ_COUNT)));
  });

  on(Op.StreamGroupInfo, (ctx) => {
    const q = decodeStreamGroupInfo(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    return ok(encodeStreamGroupInfoReply(store.groupInfo(ctx.namespace, q.stream, q.group)));
  });

  on(Op.StreamGroupDelete, (ctx) => {
    const q = decodeStreamGroupDelete(ctx.body);
    requireStream(q.stream);
    requireGroup(q.group);
    store.groupDelete(ctx.namespace, q.stream, q.group);
    return ok();
  });

  return {
    handlers,
    store,
    waiters,
    append,
    onAppend(listener) {
      appendListeners.add(listener);
      return () => void appendListeners.delete(listener);
    },
    close() {
      closed = true;
      waiters.clear();
      appendListeners.clear();
    },
  };
}
