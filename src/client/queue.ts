/**
 * `flo.queue`: priority queues with leases (visibility timeouts) and a dead-letter queue.
 *
 * Every method returns a cold Observable: nothing is sent before subscription, each subscription
 * sends again. Dequeued messages are leased items (`QueueMessage.lease`), so the `ack()`, `nack()`,
 * `settle()` and `renewLease()` operators work on them; the settles of one tick for one queue go out
 * as one request. Leased messages that reach no subscriber (a reply arriving after its subscriber
 * left, the rest of a batch after `take(n)`) are handed back at once with a plain nack (DECISIONS #5:
 * this counts one delivery attempt).
 */
import { defer, finalize, Observable, type SchedulerLike } from 'rxjs';
import type { ValueCodec } from '../codec/types.js';
import { valuePayload } from '../codec/payload.js';
import type { ResponseFrame } from '../protocol/frame.js';
import { utf8 } from '../protocol/bytes.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import { Op } from '../protocol/opcodes.js';
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
  type QueueDlqStatsReply,
  type QueueMessage as WireMessage,
  type QueueStatsReply,
} from '../protocol/queue.js';
import { Status } from '../protocol/status.js';
import {
  checkBlockMs,
  createLease,
  eachLeased,
  handBack,
  leasingSource,
  type ClientCore,
  type Lease,
  type Leased,
  type RequestOptions,
  type Settler,
  type DrainOptions,
} from './core/index.js';
import { PayloadItem } from './core/payload-item.js';

/** The visibility timeout the server applies when a dequeue does not give one (DECISIONS #12). */
export const DEFAULT_VISIBILITY_TIMEOUT_MS = 30_000;

const U32_MAX = 0xffff_ffff;

// ---------------------------------------------------------------------------------------------
// Types

/** A message as read without a lease: a peek or DLQ-list entry; `T` is what `data()` decodes to by default. */
export interface QueueEntry<T = unknown> {
  /** The queue it was read from. */
  readonly queue: string;
  /** Its sequence number (one counter per queue, from 1). */
  readonly seq: bigint;
  /** The payload bytes, as enqueued. */
  readonly payload: Uint8Array;
  /** The payload decoded with the client's codec (memoised; not enumerable). */
  data<U = T>(): U;
  /** Deliveries so far, this one included for a dequeue (only from servers that send it: profile `'flo'`). */
  readonly deliveryCount?: number;
  /** Enqueue time in ms since the epoch (only from servers that send it). */
  readonly enqueuedAtMs?: bigint;
  /** The message priority (only from servers that send it). */
  readonly priority?: number;
}

/** A DLQ entry (same shape as a peeked message). */
export type DlqEntry<T = unknown> = QueueEntry<T>;

/** A dequeued message: leased until acked, nacked, or its visibility timeout runs out. */
export interface QueueMessage<T = unknown> extends QueueEntry<T>, Leased {
  /** Settles the message (`ack()`, `nack({ toDlq })`, `touch({ extendMs })`); what the operators use. */
  readonly lease: Lease;
}

/** Queue counters (`queue_stats`). */
export type QueueStats = QueueStatsReply;
/** DLQ counters (`queue_dlq_stats`): entries now, and ever dead-lettered. */
export type DlqStats = QueueDlqStatsReply;

/** Options of `queue.enqueue`. */
export interface EnqueueOptions extends RequestOptions {
  /** 0–255; the **lower** number is dequeued first, equal priorities in seq order (DECISIONS #11). Default 0. */
  readonly priority?: number;
  /** Not dequeued before this many ms from now. Default 0. */
  readonly delayMs?: number | bigint;
  /** At most 255 bytes. A second enqueue with the same key within the dedup window (5 min) returns the first seq and stores nothing (DECISIONS #9). */
  readonly dedupKey?: string | Uint8Array;
}

export interface LeaseRequestOptions {
  /**
   * How long a dequeued message stays invisible to other consumers unless settled or touched, in
   * ms (1 to 2^32-1). Default: the server's, 30 000.
   */
  readonly visibilityTimeoutMs?: number;
}

/** Options of `queue.dequeue` (one batch). */
export interface DequeueOptions extends RequestOptions, LeaseRequestOptions {
  /**
   * Wait up to this many ms for a message when the queue is empty (a long-poll), 0 to 300 000.
   * Default 0: answer at once. (0 is never sent on the wire: DECISIONS #14.)
   */
  readonly blockMs?: number;
}

/** Options of `queue.messages` (leased messages, forever). */
export interface MessagesOptions extends RequestOptions, LeaseRequestOptions, DrainOptions {
  /** Most messages asked for by one dequeue. Default 10 (a server caps it at 100). */
  readonly batch?: number;
  /** Most unsettled messages held at once: the source asks for more only as messages are settled. Default: `batch`. */
  readonly maxInFlight?: number;
  /** Long-poll of each dequeue, 1 to 300 000 ms (never 0: the loop is infinite). Default 30 000. */
  readonly blockMs?: number;
  /** Scheduler of the reconnect grace tick (tests). Default `asapScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Options of `queue.nack`. */
export interface QueueNackOptions extends RequestOptions {
  /** Move the messages straight to the DLQ. Default false (back to ready, or to the DLQ after 5 failed deliveries). */
  readonly toDlq?: boolean;
}

/** Options of `queue.touch` (a lease extension). */
export interface QueueTouchOptions extends RequestOptions {
  /** New lease length from now, in ms. Default: the visibility timeout each message was dequeued with (DECISIONS #21). */
  readonly extendMs?: number;
}

/** Options of `queue.dlq.list`. */
export interface DlqListOptions extends RequestOptions {
  /** Most entries, oldest first. Default 100 (the server caps it at 1000). */
  readonly limit?: number;
}

/** One seq or several. */
export type Seqs = bigint | readonly bigint[];

// ---------------------------------------------------------------------------------------------
// Validation (errors are delivered through the Observable, on subscription)

function intIn(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function checkQueueName(queue: string): string {
  if (typeof queue !== 'string' || queue.length === 0) throw new InvalidArgumentError('queue name must be a non-empty string');
  return queue;
}

function seqList(seqs: Seqs): bigint[] {
  const list = typeof seqs === 'bigint' ? [seqs] : [...seqs];
  for (const s of list) {
    if (typeof s !== 'bigint' || s < 0n || s > 0xffff_ffff_ffff_ffffn) {
      throw new InvalidArgumentError(`queue seqs must be u64 bigints, got ${String(s)}`);
    }
  }
  return list;
}

function checkDelay(delayMs: number | bigint | undefined): bigint | undefined {
  if (delayMs === undefined) return undefined;
  if (typeof delayMs === 'bigint') {
    if (delayMs < 0n || delayMs > 0xffff_ffff_ffff_ffffn) throw new InvalidArgumentError(`delayMs must be a u64, got ${delayMs}`);
    return delayMs;
  }
  return BigInt(intIn('delayMs', delayMs, 0, Number.MAX_SAFE_INTEGER));
}

function checkVisibility(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : intIn('visibilityTimeoutMs', ms, 1, U32_MAX);
}

/** Only the request fields of an options object (what `core.spec` reads). */
const decodeEnqueuedSeq = (payload: Uint8Array): bigint => decodeQueueEnqueueReply(payload).seq;

function requestOpts(opts: RequestOptions): RequestOptions {
  return {
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The API

/** `flo.queue`: every method returns a cold Observable. */
export class QueueApi {
  /** DLQ operations: `list`, `requeue`, `delete`, `stats`. */
  readonly dlq: QueueDlqApi;
  /** One settler per (namespace, queue), so that the settles of one tick coalesce per queue. */
  private readonly settlers = new Map<string, Settler<bigint>>();

  constructor(protected readonly core: ClientCore) {
    this.dlq = new QueueDlqApi(core, (queue, wire) => this.entry(queue, wire));
  }

  /**
   * Adds a message; emits its seq (a duplicate `dedupKey` emits the original seq) and completes.
   * `payload`: bytes as is, a string as UTF-8, anything else through the client's codec.
   *
   * @example
   * const seq = await firstValueFrom(flo.queue.enqueue('tasks', { task: 'process' }, { priority: 10, dedupKey: 'task-123' }));
   */
  enqueue(queue: string, payload: unknown, opts?: EnqueueOptions): Observable<bigint> {
    const core = this.core;
    // A hot write path: one Observable per call (`lazyCall`), no option objects without options.
    return core.lazyCall(() => {
      checkQueueName(queue);
      if (opts === undefined) return core.spec(Op.QueueEnqueue, encodeQueueEnqueue({ queue, payload: valuePayload(payload, core.codec, 'payload') }));
      const priority = opts.priority === undefined ? undefined : intIn('priority', opts.priority, 0, 255);
      const delayMs = checkDelay(opts.delayMs);
      if (opts.dedupKey !== undefined && utf8(opts.dedupKey).length > 255) {
        throw new InvalidArgumentError(`dedupKey must be at most 255 bytes, got ${utf8(opts.dedupKey).length}`);
      }
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
      return eachLeased(this.fetch(queue, n, blockMs, checkVisibility(opts.visibilityTimeoutMs), requestOpts(opts)));
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
      const ended = this.core.telemetry?.onDelivered ? new AbortController() : undefined;
      const source$ = leasingSource<QueueMessage>({
        signals: this.core.channel,
        fetch: (n, blockMs) => this.fetch(queue, n, blockMs, visibility, req),
        ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
        ...(opts.maxInFlight !== undefined ? { maxInFlight: opts.maxInFlight } : {}),
        ...(opts.blockMs !== undefined ? { blockMs: opts.blockMs } : {}),
        ...(opts.scheduler ? { scheduler: opts.scheduler } : {}),
        ...this.core.drainOptions<QueueMessage>(`queue:${queue}`, opts),
        ...(this.core.telemetry?.onDelivered
          ? {
              onDeliver: (m: QueueMessage) =>
                this.core.telemetry!.onDelivered!({
                  system: 'queue',
                  destination: queue,
                  namespace: this.core.ns(opts),
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
      return this.core.call(this.core.spec(Op.QueueComplete, body, requestOpts(opts)), decodeQueueCompleteReply);
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
      return this.core.call(this.core.spec(Op.QueueFail, body, requestOpts(opts)), decodeQueueFailReply);
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
      return this.core.call(this.core.spec(Op.QueueTouch, body, requestOpts(opts)), decodeQueueTouchReply);
    });
  }

  /** The first `n` ready messages in dequeue order, without leasing them: emits each, then completes. */
  peek<T = unknown>(queue: string, n: number, opts: RequestOptions = {}): Observable<QueueEntry<T>> {
    return defer(() => {
      checkQueueName(queue);
      intIn('n', n, 1, U32_MAX);
      const spec = this.core.spec(Op.QueuePeek, encodeQueuePeek({ queue, count: n }), requestOpts(opts));
      return eachEntry(this.core.call(spec, (p) => decodeQueuePeekReply(p).messages.map((m) => this.entry(queue, m))));
    });
  }

  /** The queue's counters: enqueued, dequeued, acked, nacked, ready, leased, DLQ, ... */
  stats(queue: string, opts: RequestOptions = {}): Observable<QueueStats> {
    return defer(() => {
      checkQueueName(queue);
      return this.core.call(this.core.spec(Op.QueueStats, encodeQueueStats({ queue }), requestOpts(opts)), decodeQueueStatsReply);
    });
  }

  /** Removes the ready and delayed messages (leased and DLQ ones stay); emits how many. */
  purge(queue: string, opts: RequestOptions = {}): Observable<bigint> {
    return defer(() => {
      checkQueueName(queue);
      return this.core.call(this.core.spec(Op.QueuePurge, encodeQueuePurge({ queue }), requestOpts(opts)), (p) => decodeQueuePurgeReply(p).purged);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  /** One dequeue request → one batch of leased messages; a late reply's messages are handed back. */
  private fetch(
    queue: string,
    n: number,
    blockMs: number,
    visibilityTimeoutMs: number | undefined,
    opts: RequestOptions,
  ): Observable<QueueMessage[]> {
    const ns = this.core.ns(opts);
    const leaseMs = visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
    const toMessages = (payload: Uint8Array): QueueMessage[] =>
      decodeQueueDequeueReply(payload).messages.map((m) => this.leased(ns, queue, m, leaseMs));
    const onLateReply = (reply: ResponseFrame): void => {
      if (reply.status !== Status.OK) return;
      let late: QueueMessage[];
      try {
        late = toMessages(reply.payload);
      } catch {
        return; // undecodable: nothing to hand back, the leases run out on the server
      }
      handBack(late);
      if (late.length > 0) this.core.emit({ type: 'handed-back', source: `queue:${queue}`, count: late.length, reason: 'late-reply' });
    };
    const body = encodeQueueDequeue({
      queue,
      count: n,
      ...(visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs } : {}),
      ...(blockMs > 0 ? { blockMs } : {}), // 0 is ambiguous on the wire: absent means "do not wait"
    });
    const spec = this.core.spec(Op.QueueDequeue, body, { ...opts, ...(blockMs > 0 ? { blockMs } : {}), onLateReply });
    return this.core.call(spec, toMessages);
  }

  private entry(queue: string, m: WireMessage): QueueEntry {
    return new Message(queue, m, undefined, this.core.codec);
  }

  private leased(ns: string, queue: string, m: WireMessage, leaseMs: number): QueueMessage {
    const lease = createLease(m.seq, this.settler(ns, queue), {
      leaseMs,
      ...(m.deliveryCount !== undefined ? { deliveryCount: m.deliveryCount } : {}),
      coalescer: this.core.settles,
      context: this.core.leaseContext(`queue:${queue}`),
    });
    return new Message(queue, m, lease, this.core.codec) as QueueMessage;
  }

  /** The settler of (namespace, queue): complete / fail / touch with the seqs of one tick. */
  private settler(ns: string, queue: string): Settler<bigint> {
    const key = `${ns.length}:${ns}:${queue}`;
    let settler = this.settlers.get(key);
    if (!settler) {
      const { core } = this;
      const opts = { namespace: ns };
      settler = {
        ack: (seqs) => core.call(core.spec(Op.QueueComplete, encodeQueueComplete({ queue, seqs }), opts), decodeQueueCompleteReply),
        nack: (seqs, o) =>
          core.call(
            core.spec(Op.QueueFail, encodeQueueFail({ queue, seqs, ...(o.toDlq ? { toDlq: true } : {}) }), opts),
            decodeQueueFailReply,
          ),
        touch: (seqs, o) =>
          core.call(
            core.spec(Op.QueueTouch, encodeQueueTouch({ queue, seqs, ...(o.extendMs !== undefined ? { extendMs: o.extendMs } : {}) }), opts),
            decodeQueueTouchReply,
          ),
      };
      this.settlers.set(key, settler);
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

/** `flo.queue.dlq`: the dead-letter queue of each queue. */
export class QueueDlqApi {
  constructor(
    private readonly core: ClientCore,
    private readonly toEntry: (queue: string, m: WireMessage) => DlqEntry,
  ) {}

  /** The queue's DLQ entries, oldest first (at most `limit`, default 100): emits each, then completes. */
  list<T = unknown>(queue: string, opts: DlqListOptions = {}): Observable<DlqEntry<T>> {
    return defer(() => {
      checkQueueName(queue);
      const limit = opts.limit === undefined ? undefined : intIn('limit', opts.limit, 1, U32_MAX);
      const spec = this.core.spec(Op.QueueDlqList, encodeQueueDlqList({ queue, ...(limit !== undefined ? { limit } : {}) }), requestOpts(opts));
      return eachEntry(this.core.call(spec, (p) => decodeQueueDlqListReply(p).messages.map((m) => this.toEntry(queue, m))));
    });
  }

  /** Moves DLQ entries back to the queue: same seq and place, attempts reset (DECISIONS #22). Unknown seqs are ignored. */
  requeue(queue: string, seqs: Seqs, opts: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkQueueName(queue);
      const body = encodeQueueDlqRequeue({ queue, seqs: seqList(seqs) });
      return this.core.call(this.core.spec(Op.QueueDlqRequeue, body, requestOpts(opts)), decodeQueueDlqRequeueReply);
    });
  }

  /** Drops DLQ entries for good. Unknown seqs are ignored. */
  delete(queue: string, seqs: Seqs, opts: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkQueueName(queue);
      const body = encodeQueueDlqDelete({ queue, seqs: seqList(seqs) });
      return this.core.call(this.core.spec(Op.QueueDlqDelete, body, requestOpts(opts)), decodeQueueDlqDeleteReply);
    });
  }

  /** DLQ counters: entries now and ever dead-lettered. */
  stats(queue: string, opts: RequestOptions = {}): Observable<DlqStats> {
    return defer(() => {
      checkQueueName(queue);
      return this.core.call(this.core.spec(Op.QueueDlqStats, encodeQueueDlqStats({ queue }), requestOpts(opts)), decodeQueueDlqStatsReply);
    });
  }
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
