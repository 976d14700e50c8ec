/**
 * The queue subsystem of the embedded server: one handler per queue opcode over a `QueueStore`
 * (see store.ts for the state machine), with blocking dequeues parked on `Waiters`.
 *
 * Opcodes: enqueue 0x170, dequeue 0x171, complete 0x172, extend_lease 0x173 (= touch), fail 0x174,
 * dlq_list 0x176, dlq_delete 0x177, dlq_requeue 0x178, dlq_stats 0x179, stats 0x17B, peek 0x17C,
 * touch 0x17D, batch_enqueue 0x17E (flo-rx only), purge 0x17F, list 0x198. fail_auto 0x175 and
 * promote_due 0x17A are internal to Flo and refused with BAD_REQUEST; the response opcodes
 * (0x190–0x197, 0x199) are not registered (the dispatcher answers "unknown opcode").
 */
import {
  Op,
  ProtocolError,
  decodeQueueBatchEnqueue,
  decodeQueueComplete,
  decodeQueueDequeue,
  decodeQueueDlqDelete,
  decodeQueueDlqList,
  decodeQueueDlqRequeue,
  decodeQueueDlqStats,
  decodeQueueEnqueue,
  decodeQueueExtendLease,
  decodeQueueFail,
  decodeQueueList,
  decodeQueuePeek,
  decodeQueuePurge,
  decodeQueueStats,
  decodeQueueTouch,
  encodeQueueBatchEnqueueReply,
  encodeQueueDlqListReply,
  encodeQueueDlqStatsReply,
  encodeQueueListReply,
  encodeQueuePeekReply,
  encodeQueuePurgeReply,
  encodeQueueStatsReply,
  fromUtf8,
  utf8,
  EMPTY,
  type QueueMessage,
} from '../../protocol/index.js';
import { badRequest, ok } from '../reply.js';
import { QueueEnqueueOk, QueueMessagesOk } from './replies.js';
import type { Handler, Reply, RequestContext, ServerEnv, Subsystem } from '../types.js';
import { itemsWithin } from '../reply-caps.js';
import { MAX_BLOCK_MS } from '../timers.js';
import { Waiters } from '../waiters.js';
import { QueueStore, type QueueStoreConfig } from './store.js';


export interface QueueSubsystemOptions extends Partial<QueueStoreConfig> {
  /**
   * Parked dequeues allowed at once (across all queues); beyond it a dequeue that would park is
   * answered OVERLOADED. Default: no cap of its own (the server's per-connection and server-wide
   * parking caps apply).
   */
  readonly maxWaiters?: number;
  /** Largest `block_ms` accepted (docs/protocol-decisions.md #14); larger → BAD_REQUEST. */
  readonly maxBlockMs?: number;
}

export interface QueueSubsystem extends Subsystem {
  /** The state machine behind the handlers (for tests and diagnostics). */
  readonly store: QueueStore;
  /** Parked dequeues. */
  readonly waiters: Waiters;
}

/** Dequeue and peek batches are silently capped at this. */
export const MAX_QUEUE_BATCH = 100;
export const DEFAULT_DLQ_LIST_LIMIT = 100;
export const MAX_DLQ_LIST_LIMIT = 1000;
export const DEFAULT_QUEUE_LIST_LIMIT = 100;
export const MAX_QUEUE_LIST_LIMIT = 1000;
export { MAX_BLOCK_MS };

const EMPTY_LIST: readonly QueueMessage[] = [];

/** Waiter key of one queue (namespace and name are length-delimited, so no two queues share one). */
const waiterKey = (namespace: string, name: string) => `queue:${namespace.length}:${namespace}:${name}`;

export function createQueueSubsystem(env: ServerEnv, options: QueueSubsystemOptions = {}): QueueSubsystem {
  const { maxWaiters = Infinity, maxBlockMs = MAX_BLOCK_MS, ...storeConfig } = options;
  const waiters = new Waiters(env.clock, env.parking, maxWaiters);
  // Most enqueues have nobody waiting: then not even the wait key is built.
  const wake = (ns: string, name: string) => {
    if (waiters.count() > 0) waiters.wake(waiterKey(ns, name));
  };
  const store = new QueueStore(env.clock, storeConfig, wake, env.persistence);
  const profile = env.profile;

  const messages = (list: readonly QueueMessage[]): Reply => new QueueMessagesOk(list, profile);

  async function parkDequeue(ctx: RequestContext, name: string, count: number, visibility: number | undefined, blockMs: number): Promise<Reply> {
    const key = waiterKey(ctx.namespace, name);
    const deadline = env.clock.now() + blockMs;
    for (;;) {
      const woken = await waiters.park(key, deadline, ctx.signal, ctx.connectionId);
      if (!woken || ctx.signal.aborted) return messages(EMPTY_LIST);
      const got = store.dequeue(ctx.namespace, name, count, visibility);
      if (got.length > 0) return messages(got);
    }
  }

  const dequeue: Handler = (ctx) => {
    const req = decodeQueueDequeue(ctx.body);
    const blockMs = req.blockMs ?? 0;
    if (blockMs > maxBlockMs) throw badRequest(`block_ms must be at most ${maxBlockMs}`);
    const count = Math.min(req.count ?? 1, MAX_QUEUE_BATCH);
    if (count === 0) return messages(EMPTY_LIST);
    const got = store.dequeue(ctx.namespace, req.queue, count, req.visibilityTimeoutMs);
    if (got.length > 0 || blockMs === 0) return messages(got);
    return parkDequeue(ctx, req.queue, count, req.visibilityTimeoutMs, blockMs);
  };

  const refuse =
    (what: string): Handler =>
    () => {
      throw badRequest(`${what} is internal to the server`);
    };

  const handlers = new Map<number, Handler>([
    [
      Op.QueueEnqueue,
      (ctx) => {
        const req = decodeQueueEnqueue(ctx.body);
        const { seq } = store.enqueue(ctx.namespace, req.queue, req.payload, req);
        return new QueueEnqueueOk(seq);
      },
    ],
    [Op.QueueDequeue, dequeue],
    [
      Op.QueueComplete,
      (ctx) => {
        const req = decodeQueueComplete(ctx.body);
        store.ack(ctx.namespace, req.queue, req.seqs);
        return ok();
      },
    ],
    [
      Op.QueueExtendLease,
      (ctx) => {
        const req = decodeQueueExtendLease(ctx.body);
        store.touch(ctx.namespace, req.queue, req.seqs, req.extendMs);
        return ok();
      },
    ],
    [
      Op.QueueFail,
      (ctx) => {
        const req = decodeQueueFail(ctx.body);
        store.nack(ctx.namespace, req.queue, req.seqs, req.toDlq);
        return ok();
      },
    ],
    [Op.QueueFailAuto, refuse('queue_fail_auto')],
    [
      Op.QueueDlqList,
      (ctx) => {
        const req = decodeQueueDlqList(ctx.body);
        const limit = Math.min(req.limit || DEFAULT_DLQ_LIST_LIMIT, MAX_DLQ_LIST_LIMIT);
        const all = store.dlqList(ctx.namespace, req.queue, limit);
        // Oldest first; past the reply cap the newer entries are left for a later list.
        const messages = all.slice(0, itemsWithin(all, (m) => 32 + m.payload.length));
        return ok(encodeQueueDlqListReply({ messages }, profile));
      },
    ],
    [
      Op.QueueDlqDelete,
      (ctx) => {
        const req = decodeQueueDlqDelete(ctx.body);
        store.dlqDelete(ctx.namespace, req.queue, req.seqs);
        return ok();
      },
    ],
    [
      Op.QueueDlqRequeue,
      (ctx) => {
        const req = decodeQueueDlqRequeue(ctx.body);
        store.dlqRequeue(ctx.namespace, req.queue, req.seqs);
        return ok();
      },
    ],
    [
      Op.QueueDlqStats,
      (ctx) => {
        const req = decodeQueueDlqStats(ctx.body);
        const s = store.stats(ctx.namespace, req.queue);
        return ok(encodeQueueDlqStatsReply({ current: BigInt(s.dlqCurrent), total: BigInt(s.dlqTotal) }));
      },
    ],
    [Op.QueuePromoteDue, refuse('queue_promote_due')],
    [
      Op.QueueStats,
      (ctx) => {
        const req = decodeQueueStats(ctx.body);
        const s = store.stats(ctx.namespace, req.queue);
        return ok(
          encodeQueueStatsReply({
            enqueued: BigInt(s.enqueued),
            dequeued: BigInt(s.dequeued),
            acked: BigInt(s.acked),
            nacked: BigInt(s.nacked),
            dlqTotal: BigInt(s.dlqTotal),
            leasesExpired: BigInt(s.leasesExpired),
            ready: BigInt(s.ready),
            leased: BigInt(s.leased),
            dlqCurrent: BigInt(s.dlqCurrent),
          }),
        );
      },
    ],
    [
      Op.QueuePeek,
      (ctx) => {
        const req = decodeQueuePeek(ctx.body);
        const count = Math.min(req.count ?? 1, MAX_QUEUE_BATCH);
        const all = store.peek(ctx.namespace, req.queue, count);
        return ok(encodeQueuePeekReply({ messages: all.slice(0, itemsWithin(all, (m) => 32 + m.payload.length)) }, profile));
      },
    ],
    [
      Op.QueueTouch,
      (ctx) => {
        const req = decodeQueueTouch(ctx.body);
        store.touch(ctx.namespace, req.queue, req.seqs, req.extendMs);
        return ok();
      },
    ],
    [
      Op.QueueBatchEnqueue,
      (ctx) => {
        const req = decodeQueueBatchEnqueue(ctx.body);
        const seqs = store.enqueueBatch(ctx.namespace, req.queue, req.payloads, req);
        return ok(encodeQueueBatchEnqueueReply({ seqs }));
      },
    ],
    [
      Op.QueuePurge,
      (ctx) => {
        const req = decodeQueuePurge(ctx.body);
        return ok(encodeQueuePurgeReply({ purged: BigInt(store.purge(ctx.namespace, req.queue)) }));
      },
    ],
    [
      Op.QueueList,
      (ctx) => {
        const req = decodeQueueList(ctx.body);
        const limit = Math.min(req.limit || DEFAULT_QUEUE_LIST_LIMIT, MAX_QUEUE_LIST_LIMIT);
        const after = req.cursor && req.cursor.length > 0 ? fromUtf8(req.cursor) : undefined;
        const page = store.list(ctx.namespace, limit, after);
        const last = page.queues[page.queues.length - 1];
        return ok(
          encodeQueueListReply({
            queues: page.queues.map((q) => ({
              name: q.name,
              namespace: ctx.namespace,
              pending: BigInt(q.pending),
              available: BigInt(q.available),
              enqueued: BigInt(q.enqueued),
              dequeued: BigInt(q.dequeued),
              dlq: BigInt(q.dlq),
            })),
            hasMore: page.hasMore,
            cursor: page.hasMore && last ? utf8(last.name) : EMPTY,
          }),
        );
      },
    ],
  ]);

  // Decoding errors that escape as ProtocolError are the client's fault: answer BAD_REQUEST.
  const guarded = new Map<number, Handler>();
  for (const [op, h] of handlers) {
    guarded.set(op, (ctx) => {
      try {
        return h(ctx);
      } catch (err) {
        if (err instanceof ProtocolError) throw badRequest(err.message);
        throw err;
      }
    });
  }

  return {
    handlers: guarded,
    store,
    waiters,
    close() {
      waiters.clear();
      store.close();
    },
  };
}
