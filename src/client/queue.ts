/**
 * `flo.queue`: priority queues with leases (visibility timeouts) and a dead-letter queue.
 *
 * Every method returns a cold Observable: nothing is sent before subscription, each subscription
 * sends again. Dequeued messages are leased items (`QueueMessage.lease`), so the `ack()`, `nack()`,
 * `settle()` and `renewLease()` operators work on them; the settles of one tick for one queue go out
 * as one request. Leased messages that reach no subscriber (a reply arriving after its subscriber
 * left, the rest of a batch after `take(n)`) are handed back at once with a plain nack (`docs/protocol-decisions.md` #5:
 * this counts one delivery attempt).
 */
import { defer, type Observable, type SchedulerLike } from 'rxjs';
import type { QueueDlqStatsReply, QueueMessage as WireMessage, QueueStatsReply } from '../protocol/queue.js';
import { checkBlockMs } from './core/block-ms.js';
import type { ClientCore, DrainOptions, Lease, Leased, RequestOptions } from './core/index.js';
import { onDemand } from './on-demand.js';
import { U32_MAX, checkEnqueueOptions, checkQueueName, checkVisibility, intIn, seqList } from './queue-args.js';
import type * as QueueCallsModule from './queue-calls.js';
import type { QueueCalls } from './queue-calls.js';

export { DEFAULT_VISIBILITY_TIMEOUT_MS } from './queue-args.js';

/** The code of the queue calls: loaded at the first subscription to one of them. */
const loadCalls = /* @__PURE__ */ onDemand<typeof QueueCallsModule>(() => import('./on-demand-modules.js'));

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
  /** 0–255; the **lower** number is dequeued first, equal priorities in seq order (`docs/protocol-decisions.md` #11). Default 0. */
  readonly priority?: number;
  /** Not dequeued before this many ms from now. Default 0. */
  readonly delayMs?: number | bigint;
  /** At most 255 bytes. A second enqueue with the same key within the dedup window (5 min) returns the first seq and stores nothing (`docs/protocol-decisions.md` #9). */
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
   * Default 0: answer at once. (0 is never sent on the wire: `docs/protocol-decisions.md` #14.)
   */
  readonly blockMs?: number;
}

/** Options of `queue.messages` (leased messages, forever). */
export interface MessagesOptions extends RequestOptions, LeaseRequestOptions, DrainOptions {
  /**
   * Most messages asked for by one dequeue. Default 10 (a server caps it at 100). With
   * `maxInFlight` at least twice `batch`, a second dequeue goes out beside the first while
   * dequeues come back full (a backlog), so the next batch is on its way while the last is worked on.
   */
  readonly batch?: number;
  /** Most unsettled messages held at once (messages asked for count too): the source asks for more only as messages are settled. Default: `batch`. */
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
  /** New lease length from now, in ms. Default: the visibility timeout each message was dequeued with (`docs/protocol-decisions.md` #21). */
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
// The API (its code is in queue-calls.ts)

/** `flo.queue`: every method returns a cold Observable. */
export class QueueApi {
  /** DLQ operations: `list`, `requeue`, `delete`, `stats`. */
  declare readonly dlq: QueueDlqApi;
  protected declare readonly core: ClientCore;
  private calls_: QueueCalls | undefined;

  constructor(core: ClientCore) {
    this.core = core;
    this.dlq = new QueueDlqApi(core, (queue, wire) => this.loaded_()!.entry(queue, wire));
  }

  /**
   * Adds a message; emits its seq (a duplicate `dedupKey` emits the original seq) and completes.
   * `payload`: bytes as is, a string as UTF-8, anything else through the client's codec.
   *
   * @example
   * const seq = await firstValueFrom(flo.queue.enqueue('tasks', { task: 'process' }, { priority: 10, dedupKey: 'task-123' }));
   */
  enqueue(queue: string, payload: unknown, opts?: EnqueueOptions): Observable<bigint> {
    // The write path: straight to the calls once loaded (no Observable around them).
    const calls = this.loaded_();
    if (calls !== undefined) return calls.enqueue(queue, payload, opts);
    return this.via_(() => {
      checkQueueName(queue);
      if (opts !== undefined) checkEnqueueOptions(opts);
    }, (c) => c.enqueue(queue, payload, opts));
  }

  /**
   * One dequeue of up to `n` messages (the server caps it at 100): emits each leased message of
   * the batch, then completes (at once when the queue is empty and `blockMs` is 0). If the
   * subscriber leaves in the middle of the batch, or before a parked dequeue is answered, the
   * messages it did not see are handed back at once.
   */
  dequeue<T = unknown>(queue: string, n: number, opts: DequeueOptions = {}): Observable<QueueMessage<T>> {
    return this.via_(() => {
      checkQueueName(queue);
      intIn('n', n, 1, U32_MAX);
      checkBlockMs(opts.blockMs, { fallback: 0, allowZero: true });
      checkVisibility(opts.visibilityTimeoutMs);
    }, (c) => c.dequeue<T>(queue, n, opts));
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
    return this.via_(() => {
      checkQueueName(queue);
      checkVisibility(opts.visibilityTimeoutMs);
    }, (c) => c.messages<T>(queue, opts));
  }

  /** Acknowledges messages by seq (removes them). Emits `undefined` once, completes. Prefer the `ack()` operator. */
  ack(queue: string, seqs: Seqs, opts: RequestOptions = {}): Observable<void> {
    return this.via_(() => checkSeqs(queue, seqs), (c) => c.ack(queue, seqs, opts));
  }

  /**
   * Fails the current delivery of leased messages: back to ready at once (to the DLQ after the
   * 5th failed delivery), or straight to the DLQ with `toDlq`. Prefer the `nack()` operator.
   */
  nack(queue: string, seqs: Seqs, opts: QueueNackOptions = {}): Observable<void> {
    return this.via_(() => checkSeqs(queue, seqs), (c) => c.nack(queue, seqs, opts));
  }

  /**
   * Renews the leases of messages: each lease ends `extendMs` (default: its visibility timeout)
   * from now. Unknown or unleased seqs are ignored. The `renewLease()` operator does it for you.
   */
  touch(queue: string, seqs: Seqs, opts: QueueTouchOptions = {}): Observable<void> {
    return this.via_(() => {
      checkSeqs(queue, seqs);
      if (opts.extendMs !== undefined) intIn('extendMs', opts.extendMs, 1, U32_MAX);
    }, (c) => c.touch(queue, seqs, opts));
  }

  /** The first `n` ready messages in dequeue order, without leasing them: emits each, then completes. */
  peek<T = unknown>(queue: string, n: number, opts: RequestOptions = {}): Observable<QueueEntry<T>> {
    return this.via_(() => {
      checkQueueName(queue);
      intIn('n', n, 1, U32_MAX);
    }, (c) => c.peek<T>(queue, n, opts));
  }

  /** The queue's counters: enqueued, dequeued, acked, nacked, ready, leased, DLQ, ... */
  stats(queue: string, opts: RequestOptions = {}): Observable<QueueStats> {
    return this.via_(() => checkQueueName(queue), (c) => c.stats(queue, opts));
  }

  /** Removes the ready and delayed messages (leased and DLQ ones stay); emits how many. */
  purge(queue: string, opts: RequestOptions = {}): Observable<bigint> {
    return this.via_(() => checkQueueName(queue), (c) => c.purge(queue, opts));
  }

  /** The calls' code, once loaded (undefined before). */
  private loaded_(): QueueCalls | undefined {
    if (this.calls_ === undefined) {
      const module = loadCalls.loaded;
      if (module !== undefined) this.calls_ = new module.QueueCalls(this.core);
    }
    return this.calls_;
  }

  /**
   * `use(calls)` at once when the calls' code is loaded; else a cold Observable that runs `check`
   * at subscription (argument errors do not wait for the code, and nothing loads for them), then
   * loads the code and runs `use` (which checks again: the code checks on every call).
   */
  private via_<T>(check: () => void, use: (calls: QueueCalls) => Observable<T>): Observable<T> {
    const calls = this.loaded_();
    if (calls !== undefined) return use(calls);
    return defer(() => {
      check();
      return loadCalls(() => use(this.loaded_()!));
    });
  }
}

/** `flo.queue.dlq`: the dead-letter queue of each queue. */
export class QueueDlqApi {
  private declare readonly core_: ClientCore;
  private declare readonly toEntry_: (queue: string, m: WireMessage) => DlqEntry;
  constructor(
    core_: ClientCore,
    toEntry_: (queue: string, m: WireMessage) => DlqEntry,
  ) {
    this.core_ = core_;
    this.toEntry_ = toEntry_;
  }

  /** The queue's DLQ entries, oldest first (at most `limit`, default 100): emits each, then completes. */
  list<T = unknown>(queue: string, opts: DlqListOptions = {}): Observable<DlqEntry<T>> {
    return via(() => {
      checkQueueName(queue);
      if (opts.limit !== undefined) intIn('limit', opts.limit, 1, U32_MAX);
    }, (m) => m.dlqList(this.core_, this.toEntry_, queue, opts) as Observable<DlqEntry<T>>);
  }

  /** Moves DLQ entries back to the queue: same seq and place, attempts reset (`docs/protocol-decisions.md` #22). Unknown seqs are ignored. */
  requeue(queue: string, seqs: Seqs, opts: RequestOptions = {}): Observable<void> {
    return via(() => checkSeqs(queue, seqs), (m) => m.dlqRequeue(this.core_, queue, seqs, opts));
  }

  /** Drops DLQ entries for good. Unknown seqs are ignored. */
  delete(queue: string, seqs: Seqs, opts: RequestOptions = {}): Observable<void> {
    return via(() => checkSeqs(queue, seqs), (m) => m.dlqDelete(this.core_, queue, seqs, opts));
  }

  /** DLQ counters: entries now and ever dead-lettered. */
  stats(queue: string, opts: RequestOptions = {}): Observable<DlqStats> {
    return via(() => checkQueueName(queue), (m) => m.dlqStats(this.core_, queue, opts));
  }
}

function checkSeqs(queue: string, seqs: Seqs): void {
  checkQueueName(queue);
  seqList(seqs);
}

/** `use(module)` at once when the calls' code is loaded; else after `check()` at subscription and the load. */
function via<T>(check: () => void, use: (module: typeof QueueCallsModule) => Observable<T>): Observable<T> {
  const module = loadCalls.loaded;
  if (module !== undefined) return use(module);
  return defer(() => {
    check();
    return loadCalls(use);
  });
}
