/**
 * The code of `flo.queue`'s methods and of its DLQ: requests, leased messages, the per-queue
 * settlers. `QueueApi` / `QueueDlqApi` in `queue.ts` keep the docs and the argument checks and load
 * this module at the first subscription to any of them (`onDemand`); from then on they call it
 * directly. Imports core files directly, not the `core/index.js` barrel (a lazy module importing a
 * barrel keeps more code in the shared start-up chunk).
 */
import { defer, finalize, Observable } from 'rxjs';
import type { ValueCodec } from '../codec/types.js';
import { valuePayload } from '../codec/payload.js';
import type { ResponseFrame } from '../protocol/frame.js';
import { ClientOp as Op } from '../protocol/client-opcodes.js';
import {
  decodeQueueCompleteReply,
  decodeQueueDequeueReply,
  decodeQueueDlqDeleteReply,
  decodeQueueDlqListReply,
  decodeQueueDlqRequeueReply,
  decodeQueueDlqStatsReply,
  decodeQueueEnqueueReply,
  decodeQueueFailReply,
  decodeQueuePeekReply,
  decodeQueuePurgeReply,
  decodeQueueStatsReply,
  decodeQueueTouchReply,
  encodeQueueComplete,
  encodeQueueDequeue,
  encodeQueueDlqDelete,
  encodeQueueDlqList,
  encodeQueueDlqRequeue,
  encodeQueueDlqStats,
  encodeQueueEnqueue,
  encodeQueueFail,
  encodeQueuePeek,
  encodeQueuePurge,
  encodeQueueStats,
  encodeQueueTouch,
  type QueueMessage as WireMessage,
} from '../protocol/queue.js';
import { Status } from '../protocol/status.js';
import type { ClientCore, RequestOptions } from './core/context.js';
import { createLease, eachLeased, handBack, type Lease } from './core/lease.js';
import { leasingSource } from './core/leasing-source.js';
import { checkBlockMs } from './core/block-ms.js';
import type { Settler } from './core/settler.js';
import { PayloadItem } from './core/payload-item.js';
import { settlesOf } from './core/settles.js';
import { drainOptionsOf } from './core/drain-of.js';
import {
  DEFAULT_VISIBILITY_TIMEOUT_MS,
  U32_MAX,
  checkEnqueueOptions,
  checkQueueName,
  checkVisibility,
  intIn,
  seqList,
} from './queue-args.js';
import type {
  DequeueOptions,
  DlqEntry,
  DlqListOptions,
  DlqStats,
  EnqueueOptions,
  MessagesOptions,
  QueueEntry,
  QueueMessage,
  QueueNackOptions,
  QueueStats,
  QueueTouchOptions,
  Seqs,
} from './queue.js';

/** Makes a DLQ entry of a wire message (`QueueCalls.entry`). */
export type ToEntry = (queue: string, m: WireMessage) => DlqEntry;

const decodeEnqueuedSeq = (payload: Uint8Array): bigint => decodeQueueEnqueueReply(payload).seq;

/** Only the request fields of an options object (what `core.spec` reads). */
function requestOpts(opts: RequestOptions): RequestOptions {
  return {
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  };
}

/** The code of `QueueApi`'s methods (one instance per `QueueApi`, made once this module loaded). */
export class QueueCalls {
  /** One settler per (namespace, queue), so that the settles of one tick coalesce per queue. */
  private readonly settlers_ = new Map<string, Settler<bigint>>();
  private readonly core_: ClientCore;

  constructor(core_: ClientCore) {
    this.core_ = core_;
  }

  /**
   * Adds a message; emits its seq (a duplicate `dedupKey` emits the original seq) and completes.
   * `payload`: bytes as is, a string as UTF-8, anything else through the client's codec.
   *
   * @example
   * const seq = await firstValueFrom(flo.queue.enqueue('tasks', { task: 'process' }, { priority: 10, dedupKey: 'task-123' }));
   */
  enqueue(queue: string, payload: unknown, opts?: EnqueueOptions): Observable<bigint> {
    const core = this.core_;
    // A hot write path: one Observable per call (`lazyCall`), no option objects without options.
    return core.lazyCall(() => {
      checkQueueName(queue);
      if (opts === undefined) return core.spec(Op.QueueEnqueue, encodeQueueEnqueue({ queue, payload: valuePayload(payload, core.codec, 'payload') }));
      const { priority, delayMs } = checkEnqueueOptions(opts);
      const body = encodeQueueEnqueue({
        queue,
        payload: valuePayload(payload, core.codec, 'payload'),
        ...(priority !== undefined ? { priority } : {}),
        ...(delayMs !== undefined ? { delayMs } : {}),
        ...(opts.dedupKey !== undefined ? { dedupKey: opts.dedupKey } : {}),
      });
      return core.spec(Op.QueueEnqueue, body, requestOpts(opts));
    }, decodeEnqueuedSeq);
  }

  /**
   * One dequeue of up to `n` messages (the server caps it at 100): emits each leased message of
   * the batch, then completes (at once when the queue is empty and `blockMs` is 0). If the
   * subscriber leaves in the middle of the batch, or before a parked dequeue is answered, the
   * messages it did not see are handed back at once.
   */
  dequeue<T = unknown>(queue: string, n: number, opts: DequeueOptions = {}): Observable<QueueMessage<T>> {
    return defer(() => {
      checkQueueName(queue);
      intIn('n', n, 1, U32_MAX);
      const blockMs = checkBlockMs(opts.blockMs, { fallback: 0, allowZero: true });
      return eachLeased(this.fetch_(queue, n, blockMs, checkVisibility(opts.visibilityTimeoutMs), requestOpts(opts)));
    });
  }

  /**
   * Leased messages, forever, by long-polling: never more than `maxInFlight` unsettled at once (it
   * asks for `min(batch, maxInFlight - unsettled)` and polls again only as messages are settled), so
   * `messages(q, { maxInFlight: 5 }).pipe(mergeMap(work, 5), ack())` holds at most 5 leases however
   * long the queue. Resumes after a reconnect; a timed-out poll is sent again. Unsubscribing cancels
   * the poll in flight; its late reply, if it carries messages, is handed back at once.
   *
   * @example
   * flo.queue.messages('tasks', { maxInFlight: 8 }).pipe(settle(handle, { concurrency: 8 })).subscribe();
   */
  messages<T = unknown>(queue: string, opts: MessagesOptions = {}): Observable<QueueMessage<T>> {
    return defer(() => {
      checkQueueName(queue);
      const visibility = checkVisibility(opts.visibilityTimeoutMs);
      const req = requestOpts(opts);
      // Per subscription: tells the tracing integration when this pipeline ends.
      const ended = this.core_.telemetry?.onDelivered ? new AbortController() : undefined;
      const source$ = leasingSource<QueueMessage>({
        signals: this.core_.channel,
        fetch: (n, blockMs) => this.fetch_(queue, n, blockMs, visibility, req),
        ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
        ...(opts.maxInFlight !== undefined ? { maxInFlight: opts.maxInFlight } : {}),
        ...(opts.blockMs !== undefined ? { blockMs: opts.blockMs } : {}),
        ...(opts.scheduler ? { scheduler: opts.scheduler } : {}),
        ...drainOptionsOf<QueueMessage>(this.core_, `queue:${queue}`, opts),
        ...(this.core_.telemetry?.onDelivered
          ? {
              onDeliver: (m: QueueMessage) =>
                this.core_.telemetry!.onDelivered!({
                  system: 'queue',
                  destination: queue,
                  namespace: this.core_.ns(opts),
                  lease: m.lease,
                  pipelineEnded: ended!.signal,
                }),
            }
          : {}),
      });
      return (ended ? source$.pipe(finalize(() => ended.abort())) : source$) as Observable<QueueMessage<T>>;
    });
  }

  /** Acknowledges messages by seq (removes them). Emits `undefined` once, completes. Prefer the `ack()` operator. */
  ack(queue: string, seqs: Seqs, opts: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkQueueName(queue);
      const body = encodeQueueComplete({ queue, seqs: seqList(seqs) });
      return this.core_.call(this.core_.spec(Op.QueueComplete, body, requestOpts(opts)), decodeQueueCompleteReply);
    });
  }

  /**
   * Fails the current delivery of leased messages: back to ready at once (to the DLQ after the
   * 5th failed delivery), or straight to the DLQ with `toDlq`. Prefer the `nack()` operator.
   */
  nack(queue: string, seqs: Seqs, opts: QueueNackOptions = {}): Observable<void> {
    return defer(() => {
      checkQueueName(queue);
      const body = encodeQueueFail({ queue, seqs: seqList(seqs), ...(opts.toDlq ? { toDlq: true } : {}) });
      return this.core_.call(this.core_.spec(Op.QueueFail, body, requestOpts(opts)), decodeQueueFailReply);
    });
  }

  /**
   * Renews the leases of messages: each lease ends `extendMs` (default: its visibility timeout)
   * from now. Unknown or unleased seqs are ignored. The `renewLease()` operator does it for you.
   */
  touch(queue: string, seqs: Seqs, opts: QueueTouchOptions = {}): Observable<void> {
    return defer(() => {
      checkQueueName(queue);
      const extendMs = opts.extendMs === undefined ? undefined : intIn('extendMs', opts.extendMs, 1, U32_MAX);
      const body = encodeQueueTouch({ queue, seqs: seqList(seqs), ...(extendMs !== undefined ? { extendMs } : {}) });
      return this.core_.call(this.core_.spec(Op.QueueTouch, body, requestOpts(opts)), decodeQueueTouchReply);
    });
  }

  /** The first `n` ready messages in dequeue order, without leasing them: emits each, then completes. */
  peek<T = unknown>(queue: string, n: number, opts: RequestOptions = {}): Observable<QueueEntry<T>> {
    return defer(() => {
      checkQueueName(queue);
      intIn('n', n, 1, U32_MAX);
      const spec = this.core_.spec(Op.QueuePeek, encodeQueuePeek({ queue, count: n }), requestOpts(opts));
      return eachEntry(this.core_.call(spec, (p) => decodeQueuePeekReply(p).messages.map((m) => this.entry(queue, m))));
    });
  }

  /** The queue's counters: enqueued, dequeued, acked, nacked, ready, leased, DLQ, ... */
  stats(queue: string, opts: RequestOptions = {}): Observable<QueueStats> {
    return defer(() => {
      checkQueueName(queue);
      return this.core_.call(this.core_.spec(Op.QueueStats, encodeQueueStats({ queue }), requestOpts(opts)), decodeQueueStatsReply);
    });
  }

  /** Removes the ready and delayed messages (leased and DLQ ones stay); emits how many. */
  purge(queue: string, opts: RequestOptions = {}): Observable<bigint> {
    return defer(() => {
      checkQueueName(queue);
      return this.core_.call(this.core_.spec(Op.QueuePurge, encodeQueuePurge({ queue }), requestOpts(opts)), (p) => decodeQueuePurgeReply(p).purged);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  /** One dequeue request → one batch of leased messages; a late reply's messages are handed back. */
  private fetch_(
    queue: string,
    n: number,
    blockMs: number,
    visibilityTimeoutMs: number | undefined,
    opts: RequestOptions,
  ): Observable<QueueMessage[]> {
    const ns = this.core_.ns(opts);
    const leaseMs = visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
    const toMessages = (payload: Uint8Array): QueueMessage[] =>
      decodeQueueDequeueReply(payload).messages.map((m) => this.leased_(ns, queue, m, leaseMs));
    const onLateReply = (reply: ResponseFrame): void => {
      if (reply.status !== Status.OK) return;
      let late: QueueMessage[];
      try {
        late = toMessages(reply.payload);
      } catch {
        return; // undecodable: nothing to hand back, the leases run out on the server
      }
      handBack(late);
      if (late.length > 0) this.core_.emit({ type: 'handed-back', source: `queue:${queue}`, count: late.length, reason: 'late-reply' });
    };
    const body = encodeQueueDequeue({
      queue,
      count: n,
      ...(visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs } : {}),
      ...(blockMs > 0 ? { blockMs } : {}), // 0 is ambiguous on the wire: absent means "do not wait"
    });
    const spec = this.core_.spec(Op.QueueDequeue, body, { ...opts, ...(blockMs > 0 ? { blockMs } : {}), onLateReply });
    return this.core_.call(spec, toMessages);
  }

  /** A peeked or DLQ entry. */
  entry(queue: string, m: WireMessage): QueueEntry {
    return new Message(queue, m, undefined, this.core_.codec);
  }

  private leased_(ns: string, queue: string, m: WireMessage, leaseMs: number): QueueMessage {
    const lease = createLease(m.seq, this.settler_(ns, queue), {
      leaseMs,
      ...(m.deliveryCount !== undefined ? { deliveryCount: m.deliveryCount } : {}),
      coalescer: settlesOf(this.core_),
      context: this.core_.leaseContext(`queue:${queue}`),
    });
    return new Message(queue, m, lease, this.core_.codec) as QueueMessage;
  }

  /** The settler of (namespace, queue): complete / fail / touch with the seqs of one tick. */
  private settler_(ns: string, queue: string): Settler<bigint> {
    const key = `${ns.length}:${ns}:${queue}`;
    let settler = this.settlers_.get(key);
    if (!settler) {
      const { core_ } = this;
      const opts = { namespace: ns };
      settler = {
        ack: (seqs) => core_.call(core_.spec(Op.QueueComplete, encodeQueueComplete({ queue, seqs }), opts), decodeQueueCompleteReply),
        nack: (seqs, o) =>
          core_.call(
            core_.spec(Op.QueueFail, encodeQueueFail({ queue, seqs, ...(o.toDlq ? { toDlq: true } : {}) }), opts),
            decodeQueueFailReply,
          ),
        touch: (seqs, o) =>
          core_.call(
            core_.spec(Op.QueueTouch, encodeQueueTouch({ queue, seqs, ...(o.extendMs !== undefined ? { extendMs: o.extendMs } : {}) }), opts),
            decodeQueueTouchReply,
          ),
      };
      this.settlers_.set(key, settler);
    }
    return settler;
  }
}

/** Emits the entries of a list-shaped reply one by one. */
function eachEntry<T>(list: Observable<readonly T[]>): Observable<T> {
  return new Observable<T>((subscriber) =>
    list.subscribe({
      next: (items) => {
        for (const item of items) {
          if (subscriber.closed) return;
          subscriber.next(item);
        }
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    }),
  );
}

/** `flo.queue.dlq.list`: the entries, made by `toEntry`. */
export function dlqList(core: ClientCore, toEntry: ToEntry, queue: string, opts: DlqListOptions): Observable<DlqEntry> {
  return defer(() => {
    checkQueueName(queue);
    const limit = opts.limit === undefined ? undefined : intIn('limit', opts.limit, 1, U32_MAX);
    const spec = core.spec(Op.QueueDlqList, encodeQueueDlqList({ queue, ...(limit !== undefined ? { limit } : {}) }), requestOpts(opts));
    return eachEntry(core.call(spec, (p) => decodeQueueDlqListReply(p).messages.map((m) => toEntry(queue, m))));
  });
}

export function dlqRequeue(core: ClientCore, queue: string, seqs: Seqs, opts: RequestOptions): Observable<void> {
  return defer(() => {
    checkQueueName(queue);
    const body = encodeQueueDlqRequeue({ queue, seqs: seqList(seqs) });
    return core.call(core.spec(Op.QueueDlqRequeue, body, requestOpts(opts)), decodeQueueDlqRequeueReply);
  });
}

export function dlqDelete(core: ClientCore, queue: string, seqs: Seqs, opts: RequestOptions): Observable<void> {
  return defer(() => {
    checkQueueName(queue);
    const body = encodeQueueDlqDelete({ queue, seqs: seqList(seqs) });
    return core.call(core.spec(Op.QueueDlqDelete, body, requestOpts(opts)), decodeQueueDlqDeleteReply);
  });
}

export function dlqStats(core: ClientCore, queue: string, opts: RequestOptions): Observable<DlqStats> {
  return defer(() => {
    checkQueueName(queue);
    return core.call(core.spec(Op.QueueDlqStats, encodeQueueDlqStats({ queue }), requestOpts(opts)), decodeQueueDlqStatsReply);
  });
}

/**
 * A queue entry or leased message: `queue`, `seq`, `payload`, the optional wire fields the server
 * sent and (leased) `lease` are its own properties, in that order; `data<T>()` is on the prototype.
 */
class Message extends PayloadItem implements QueueEntry {
  readonly queue: string;
  readonly seq: bigint;
  readonly payload: Uint8Array;
  // Own properties only when the server sent them (`declare`: no field is defined otherwise).
  declare readonly deliveryCount?: number;
  declare readonly enqueuedAtMs?: bigint;
  declare readonly priority?: number;
  declare readonly lease?: Lease;

  constructor(queue: string, m: WireMessage, lease: Lease | undefined, codec: ValueCodec) {
    super(codec);
    this.queue = queue;
    this.seq = m.seq;
    this.payload = m.payload;
    const self = this as { -readonly [K in 'deliveryCount' | 'enqueuedAtMs' | 'priority' | 'lease']?: Message[K] };
    if (m.deliveryCount !== undefined) self.deliveryCount = m.deliveryCount;
    if (m.enqueuedAtMs !== undefined) self.enqueuedAtMs = m.enqueuedAtMs;
    if (m.priority !== undefined) self.priority = m.priority;
    if (lease !== undefined) self.lease = lease;
  }
}
