/**
 * The queue state machine of the embedded server: pure, driven only by its `Clock`.
 *
 * Every message is in exactly one state:
 *
 *   delayed ──due──▶ ready ──dequeue──▶ leased ──ack──▶ (acked, removed)
 *                     ▲  ▲                │  │
 *                     │  └──nack / expiry─┘  └──nack(send_to_dlq) / failure limit──▶ dlq
 *                     └────────────── dlq requeue ◀──────────────────────────────────┘
 *
 * Rules (protocol-queues-streams.md §3, DECISIONS.md #9–#12, #21, #22):
 * - Queues are per (namespace, name), created by the first enqueue; seqs start at 1 per queue.
 * - Ready messages leave in (priority ascending, seq ascending) order; a message that returns
 *   to ready takes its original place.
 * - A dequeue is a *delivery*: it increments `attempts` and leases the message for the
 *   visibility timeout (default 30 s; 0 = default).
 * - A delivery **fails** when it ends in a plain nack or in lease expiry (now ≥ lease end).
 *   A failed delivery sends the message back to ready, unless `attempts ≥ maxAttempts` (5),
 *   in which case it goes to the DLQ. So the 5th failed delivery dead-letters it. A nack with
 *   `send_to_dlq` dead-letters at once. An ack ends the delivery successfully (removed).
 * - Ack removes ready, delayed or leased messages; nack and touch act only on leased messages;
 *   unknown seqs are ignored everywhere.
 * - Touch: lease end = now + (extend_ms > 0 ? extend_ms : the visibility timeout of the lease).
 * - DLQ requeue keeps the seq, resets attempts to 0, puts the message back to ready.
 * - Dedup: within 5 minutes of the first enqueue with a key, the same key returns the original
 *   seq and stores nothing (even if that message was acked meanwhile).
 *
 * Persistence (with a data directory): tables `queue.msg` (one entity per live or dead-lettered
 * message, deadlines as absolute times), `queue.meta` (next seq and counters per queue) and
 * `queue.dedup` (one entity per remembered dedup key). Every change is announced before it is made
 * (`markMsg`, `markMeta`, `markDedup`); heaps, counts and timers are rebuilt by `loaded()`, which also
 * applies what came due while the server was down (an expired lease is redelivered at start).
 *
 * Time: delayed messages and lease expiries are applied lazily before every operation on the
 * queue, and by one clock timer per queue set at the queue's next due instant, so that blocked
 * dequeuers are woken (`onReady`) as soon as something becomes ready.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { QueueMessage } from '../../protocol/index.js';
import { Heap } from './heap.js';
import { NO_CHANGE_LOG, type Persistence } from '../storage/types.js';

export type QueueMessageState = 'ready' | 'delayed' | 'leased' | 'dlq';

export interface QueueStoreConfig {
  /** Lease length when a dequeue gives none (or 0). */
  readonly defaultVisibilityMs: number;
  /** Failed deliveries before the DLQ; 0 = never dead-letter on failures. */
  readonly maxAttempts: number;
  /** How long a dedup key is remembered from its first enqueue. */
  readonly dedupWindowMs: number;
  /** DLQ entries kept per queue; the oldest is evicted (dropped) beyond it. */
  readonly dlqCapacity: number;
}

export const DEFAULT_QUEUE_STORE_CONFIG: QueueStoreConfig = {
  defaultVisibilityMs: 30_000,
  maxAttempts: 5,
  dedupWindowMs: 5 * 60_000,
  dlqCapacity: 10_000,
};

/** Node timers overflow above 2^31 − 1 ms; longer waits are re-armed. */
const MAX_TIMER_MS = 0x7fffffff;

interface Msg {
  readonly seq: bigint;
  readonly payload: Uint8Array;
  readonly priority: number;
  readonly enqueuedAt: number;
  state: QueueMessageState | 'removed';
  attempts: number;
  visibleAt: number;
  leaseMs: number;
  leaseEnd: number;
  /** Order of arrival in the DLQ (the queue's dlqTotal when it arrived); 0 elsewhere. */
  dlqOrder: number;
  /** Bumped on every state change or lease change; heap entries carrying an older token are stale. */
  token: number;
}

interface Entry {
  readonly msg: Msg;
  readonly token: number;
  /** Due time for the delayed and leased heaps. */
  readonly at: number;
}

export interface QueueCounters {
  enqueued: number;
  dequeued: number;
  acked: number;
  nacked: number;
  dlqTotal: number;
  leasesExpired: number;
}

export interface QueueStats extends QueueCounters {
  readonly ready: number;
  readonly delayed: number;
  readonly leased: number;
  readonly dlqCurrent: number;
}

export interface EnqueueOptions {
  readonly priority?: number;
  readonly delayMs?: bigint | number;
  readonly dedupKey?: Uint8Array;
}

export interface QueueListItem {
  readonly name: string;
  readonly pending: number;
  readonly available: number;
  readonly enqueued: number;
  readonly dequeued: number;
  readonly dlq: number;
}

const byPrioritySeq = (a: Entry, b: Entry) => a.msg.priority < b.msg.priority || (a.msg.priority === b.msg.priority && a.msg.seq < b.msg.seq);
const byTimeSeq = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.msg.seq < b.msg.seq);

class Queue {
  nextSeq = 1n;
  readonly live = new Map<bigint, Msg>();
  /** Insertion order = order of arrival in the DLQ (oldest first). */
  readonly dlq = new Map<bigint, Msg>();
  readonly ready = new Heap<Entry>(byPrioritySeq);
  readonly delayed = new Heap<Entry>(byTimeSeq);
  readonly leased = new Heap<Entry>(byTimeSeq);
  readonly counts = { ready: 0, delayed: 0, leased: 0 };
  readonly counters: QueueCounters = { enqueued: 0, dequeued: 0, acked: 0, nacked: 0, dlqTotal: 0, leasesExpired: 0 };
  /** hex(key) → original seq and the end of its window; insertion order = expiry order. */
  readonly dedup = new Map<string, { seq: bigint; until: number }>();
  timer: TimerHandle | undefined;
  timerDue: number | undefined;

  constructor(
    readonly namespace: string,
    readonly name: string,
  ) {}
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function toMs(v: bigint | number | undefined): number {
  if (v === undefined) return 0;
  const n = typeof v === 'bigint' ? (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v)) : v;
  return Math.max(0, Math.min(n, Number.MAX_SAFE_INTEGER));
}

const clampTime = (t: number) => Math.min(t, Number.MAX_SAFE_INTEGER);

/** A message as stored (`queue.msg`). */
interface StoredMsg {
  readonly seq: bigint;
  readonly payload: Uint8Array;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly state: QueueMessageState;
  readonly attempts: number;
  readonly visibleAt: number;
  readonly leaseMs: number;
  readonly leaseEnd: number;
  readonly dlqOrder: number;
}

/** A queue's own state as stored (`queue.meta`). */
interface StoredQueueMeta {
  readonly nextSeq: bigint;
  readonly counters: QueueCounters;
}

const queueEntity = (namespace: string, name: string) => JSON.stringify([namespace, name]);
const itemEntity = (q: Queue, item: string) => JSON.stringify([q.namespace, q.name, item]);

export class QueueStore {
  readonly config: QueueStoreConfig;
  private readonly namespaces = new Map<string, Map<string, Queue>>();
  private closed = false;
  private readonly willChangeMsg: (entity: string) => void = NO_CHANGE_LOG;
  private readonly willChangeMeta: (entity: string) => void = NO_CHANGE_LOG;
  private readonly willChangeDedup: (entity: string) => void = NO_CHANGE_LOG;
  /** Set while the storage loads entities back: loading is not a change. */
  private loading = false;
  private readonly loadedQueues = new Set<Queue>();

  constructor(
    private readonly clock: Clock,
    config: Partial<QueueStoreConfig> = {},
    /** Called (synchronously) whenever messages of a queue become ready. */
    private readonly onReady: (namespace: string, name: string) => void = () => {},
    persistence?: Persistence,
  ) {
    this.config = { ...DEFAULT_QUEUE_STORE_CONFIG, ...config };
    if (persistence) {
      const loaded = () => this.loaded();
      this.willChangeMsg = persistence.table({ name: 'queue.msg', save: (k) => this.saveMsg(k), load: (k, v) => this.loadMsg(k, v), loaded });
      this.willChangeMeta = persistence.table({ name: 'queue.meta', save: (k) => this.saveMeta(k), load: (k, v) => this.loadMeta(k, v), loaded });
      this.willChangeDedup = persistence.table({ name: 'queue.dedup', save: (k) => this.saveDedup(k), load: (k, v) => this.loadDedup(k, v), loaded });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Persistence

  private markMsg(q: Queue, msg: Msg): void {
    if (!this.loading) this.willChangeMsg(itemEntity(q, String(msg.seq)));
  }

  private markMeta(q: Queue): void {
    if (!this.loading) this.willChangeMeta(queueEntity(q.namespace, q.name));
  }

  private markDedup(q: Queue, id: string): void {
    if (!this.loading) this.willChangeDedup(itemEntity(q, id));
  }

  private findQueue(entity: string): [Queue | undefined, string, string, string] {
    const [namespace, name, item] = JSON.parse(entity) as [string, string, string?];
    return [this.namespaces.get(namespace)?.get(name), namespace, name, item ?? ''];
  }

  private saveMsg(entity: string): StoredMsg | undefined {
    const [q, , , item] = this.findQueue(entity);
    const seq = BigInt(item);
    const m = q?.live.get(seq) ?? q?.dlq.get(seq);
    if (!m || m.state === 'removed') return undefined;
    return {
      seq: m.seq,
      payload: m.payload,
      priority: m.priority,
      enqueuedAt: m.enqueuedAt,
      state: m.state,
      attempts: m.attempts,
      visibleAt: m.visibleAt,
      leaseMs: m.leaseMs,
      leaseEnd: m.leaseEnd,
      dlqOrder: m.dlqOrder,
    };
  }

  private saveMeta(entity: string): StoredQueueMeta | undefined {
    const [q] = this.findQueue(entity);
    return q ? { nextSeq: q.nextSeq, counters: { ...q.counters } } : undefined;
  }

  private saveDedup(entity: string): { seq: bigint; until: number } | undefined {
    const [q, , , id] = this.findQueue(entity);
    const d = q?.dedup.get(id);
    return d ? { ...d } : undefined;
  }

  private withLoading(fn: () => void): void {
    this.loading = true;
    try {
      fn();
    } finally {
      this.loading = false;
    }
  }

  private loadMsg(entity: string, stored: unknown): void {
    this.withLoading(() => {
      const [, namespace, name, item] = this.findQueue(entity);
      const q = this.queue(namespace, name, true);
      this.loadedQueues.add(q);
      const seq = BigInt(item);
      const old = q.live.get(seq) ?? q.dlq.get(seq);
      if (old) {
        q.dlq.delete(seq);
        this.move(q, old, 'removed');
      }
      if (stored === undefined) return;
      const v = stored as StoredMsg;
      const msg: Msg = { ...v, state: 'removed', token: 0 };
      if (v.state === 'dlq') {
        this.move(q, msg, 'dlq');
        q.dlq.set(seq, msg);
        return;
      }
      q.live.set(seq, msg);
      this.move(q, msg, v.state);
      if (v.state === 'ready') q.ready.push({ msg, token: msg.token, at: 0 });
      else if (v.state === 'delayed') q.delayed.push({ msg, token: msg.token, at: msg.visibleAt });
      else q.leased.push({ msg, token: msg.token, at: msg.leaseEnd });
    });
  }

  private loadMeta(entity: string, stored: unknown): void {
    this.withLoading(() => this.loadMetaNow(entity, stored));
  }

  private loadMetaNow(entity: string, stored: unknown): void {
    const [q, namespace, name] = this.findQueue(entity);
    if (stored === undefined) {
      // Only a rolled-back creation removes a queue: its messages went with it.
      if (q && q.live.size === 0 && q.dlq.size === 0) {
        q.timer?.cancel();
        this.namespaces.get(namespace)?.delete(name);
      }
      return;
    }
    const v = stored as StoredQueueMeta;
    const target = q ?? this.queue(namespace, name, true);
    target.nextSeq = v.nextSeq;
    Object.assign(target.counters, v.counters);
    this.loadedQueues.add(target);
  }

  private loadDedup(entity: string, stored: unknown): void {
    this.withLoading(() => this.loadDedupNow(entity, stored));
  }

  private loadDedupNow(entity: string, stored: unknown): void {
    const [, namespace, name, id] = this.findQueue(entity);
    const q = this.queue(namespace, name, true);
    q.dedup.delete(id);
    if (stored !== undefined) q.dedup.set(id, stored as { seq: bigint; until: number });
    this.loadedQueues.add(q);
  }

  /** After loads: DLQ and dedup back in their orders, what came due applied, timers armed, readers woken. */
  private loaded(): void {
    const queues = [...this.loadedQueues];
    this.loadedQueues.clear();
    for (const q of queues) {
      const dlq = [...q.dlq.values()].sort((a, b) => a.dlqOrder - b.dlqOrder);
      q.dlq.clear();
      for (const m of dlq) q.dlq.set(m.seq, m);
      const dedup = [...q.dedup].sort((a, b) => a[1].until - b[1].until);
      q.dedup.clear();
      for (const [k, d] of dedup) q.dedup.set(k, d);
      this.refresh(q, true);
      if (q.counts.ready > 0) this.onReady(q.namespace, q.name);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Operations

  /** Stores a message (or, for a dedup hit, returns the original seq and stores nothing). */
  enqueue(namespace: string, name: string, payload: Uint8Array, opts: EnqueueOptions = {}): { seq: bigint; duplicate: boolean } {
    const q = this.queue(namespace, name, true);
    this.refresh(q, false);
    const now = this.clock.now();
    let dedupId: string | undefined;
    if (opts.dedupKey !== undefined && opts.dedupKey.length > 0) {
      dedupId = hex(opts.dedupKey);
      const hit = q.dedup.get(dedupId);
      if (hit && now < hit.until) {
        this.schedule(q);
        return { seq: hit.seq, duplicate: true };
      }
      this.markDedup(q, dedupId);
      q.dedup.delete(dedupId);
    }
    const seq = this.insert(q, payload, opts.priority ?? 0, toMs(opts.delayMs), now);
    if (dedupId !== undefined) q.dedup.set(dedupId, { seq, until: clampTime(now + this.config.dedupWindowMs) });
    this.finish(q, q.live.get(seq)?.state === 'ready');
    return { seq, duplicate: false };
  }

  /** Stores several messages with the same options (no dedup). */
  enqueueBatch(namespace: string, name: string, payloads: readonly Uint8Array[], opts: Omit<EnqueueOptions, 'dedupKey'> = {}): bigint[] {
    if (payloads.length === 0) return [];
    const q = this.queue(namespace, name, true);
    this.refresh(q, false);
    const now = this.clock.now();
    const delay = toMs(opts.delayMs);
    const seqs = payloads.map((p) => this.insert(q, p, opts.priority ?? 0, delay, now));
    this.finish(q, delay === 0);
    return seqs;
  }

  /** Leases up to `count` ready messages (priority, seq order). */
  dequeue(namespace: string, name: string, count: number, visibilityMs?: number): QueueMessage[] {
    const q = this.queue(namespace, name, false);
    if (!q) return [];
    this.refresh(q, false);
    const now = this.clock.now();
    const leaseMs = visibilityMs && visibilityMs > 0 ? visibilityMs : this.config.defaultVisibilityMs;
    const out: QueueMessage[] = [];
    while (out.length < count) {
      const msg = this.popValid(q.ready, 'ready');
      if (!msg) break;
      this.markMsg(q, msg);
      msg.attempts++;
      msg.leaseMs = leaseMs;
      msg.leaseEnd = clampTime(now + leaseMs);
      this.move(q, msg, 'leased');
      q.leased.push({ msg, token: msg.token, at: msg.leaseEnd });
      q.counters.dequeued++;
      out.push(view(msg));
    }
    this.finish(q, false);
    return out;
  }

  /** The first `count` ready messages in dequeue order, without leasing them. */
  peek(namespace: string, name: string, count: number): QueueMessage[] {
    const q = this.queue(namespace, name, false);
    if (!q) return [];
    this.refresh(q, false);
    const taken: Msg[] = [];
    while (taken.length < count) {
      const msg = this.popValid(q.ready, 'ready');
      if (!msg) break;
      taken.push(msg);
    }
    for (const msg of taken) q.ready.push({ msg, token: msg.token, at: 0 });
    this.finish(q, false);
    return taken.map(view);
  }

  /** Removes each listed ready, delayed or leased message; returns how many were removed. */
  ack(namespace: string, name: string, seqs: readonly bigint[]): number {
    const q = this.queue(namespace, name, false);
    if (!q) return 0;
    this.refresh(q, false);
    let n = 0;
    for (const seq of seqs) {
      const msg = q.live.get(seq);
      if (!msg) continue;
      this.move(q, msg, 'removed');
      q.counters.acked++;
      n++;
    }
    this.finish(q, false);
    return n;
  }

  /**
   * Fails the current delivery of each listed **leased** message: to the DLQ with `toDlq`, else
   * back to ready (or to the DLQ when the attempts are used up). Returns how many were nacked.
   */
  nack(namespace: string, name: string, seqs: readonly bigint[], toDlq = false): number {
    const q = this.queue(namespace, name, false);
    if (!q) return 0;
    this.refresh(q, false);
    let n = 0;
    let readied = false;
    for (const seq of seqs) {
      const msg = q.live.get(seq);
      if (!msg || msg.state !== 'leased') continue;
      this.markMeta(q);
      q.counters.nacked++;
      n++;
      if (toDlq) this.toDlq(q, msg);
      else readied = this.failDelivery(q, msg) || readied;
    }
    this.finish(q, readied);
    return n;
  }

  /** Renews the lease of each listed leased message (#21); returns how many were renewed. */
  touch(namespace: string, name: string, seqs: readonly bigint[], extendMs?: number): number {
    const q = this.queue(namespace, name, false);
    if (!q) return 0;
    this.refresh(q, false);
    const now = this.clock.now();
    let n = 0;
    for (const seq of seqs) {
      const msg = q.live.get(seq);
      if (!msg || msg.state !== 'leased') continue;
      this.markMsg(q, msg);
      msg.leaseEnd = clampTime(now + (extendMs && extendMs > 0 ? extendMs : msg.leaseMs));
      msg.token++;
      q.leased.push({ msg, token: msg.token, at: msg.leaseEnd });
      n++;
    }
    this.finish(q, false);
    return n;
  }

  /** DLQ entries, oldest first. */
  dlqList(namespace: string, name: string, limit: number): QueueMessage[] {
    const q = this.queue(namespace, name, false);
    if (!q) return [];
    this.refresh(q, true);
    const out: QueueMessage[] = [];
    for (const msg of q.dlq.values()) {
      if (out.length >= limit) break;
      out.push(view(msg));
    }
    return out;
  }

  /** Each listed DLQ seq back to ready, same seq, attempts 0 (#22); returns how many. */
  dlqRequeue(namespace: string, name: string, seqs: readonly bigint[]): number {
    return this.takeFromDlq(namespace, name, seqs, true, (q, msg) => {
      this.markMsg(q, msg);
      msg.attempts = 0;
      q.live.set(msg.seq, msg);
      this.move(q, msg, 'ready');
      q.ready.push({ msg, token: msg.token, at: 0 });
    });
  }

  /** Drops each listed DLQ seq; returns how many. */
  dlqDelete(namespace: string, name: string, seqs: readonly bigint[]): number {
    return this.takeFromDlq(namespace, name, seqs, false, (q, msg) => {
      this.markMsg(q, msg);
      msg.state = 'removed';
      msg.token++;
    });
  }

  /** Takes each listed seq out of the DLQ and hands it to `then`; unknown seqs are ignored. */
  private takeFromDlq(
    namespace: string,
    name: string,
    seqs: readonly bigint[],
    wakesReaders: boolean,
    then: (q: Queue, msg: Msg) => void,
  ): number {
    const q = this.queue(namespace, name, false);
    if (!q) return 0;
    this.refresh(q, false);
    let n = 0;
    for (const seq of seqs) {
      const msg = q.dlq.get(seq);
      if (!msg) continue;
      this.markMsg(q, msg);
      q.dlq.delete(seq);
      then(q, msg);
      n++;
    }
    this.finish(q, wakesReaders && n > 0);
    return n;
  }

  /** Removes ready and delayed messages (leased and DLQ kept); returns how many. */
  purge(namespace: string, name: string): number {
    const q = this.queue(namespace, name, false);
    if (!q) return 0;
    this.refresh(q, false);
    let n = 0;
    for (const msg of [...q.live.values()]) {
      if (msg.state !== 'ready' && msg.state !== 'delayed') continue;
      this.move(q, msg, 'removed');
      n++;
    }
    q.ready.filter(() => false);
    q.delayed.filter(() => false);
    this.finish(q, false);
    return n;
  }

  stats(namespace: string, name: string): QueueStats {
    const q = this.queue(namespace, name, false);
    if (!q) return { enqueued: 0, dequeued: 0, acked: 0, nacked: 0, dlqTotal: 0, leasesExpired: 0, ready: 0, delayed: 0, leased: 0, dlqCurrent: 0 };
    this.refresh(q, true);
    return { ...q.counters, ...q.counts, dlqCurrent: q.dlq.size };
  }

  /** Ready / leased / DLQ counts of every queue (for `/metrics`). */
  figures(): Array<{ namespace: string; queue: string; ready: number; leased: number; dlq: number }> {
    const out: Array<{ namespace: string; queue: string; ready: number; leased: number; dlq: number }> = [];
    for (const [namespace, queues] of this.namespaces) {
      for (const [queue, q] of queues) {
        this.refresh(q, true);
        out.push({ namespace, queue, ready: q.counts.ready, leased: q.counts.leased, dlq: q.dlq.size });
      }
    }
    return out;
  }

  /** Queues of a namespace in name order, after `cursor` (exclusive). */
  list(namespace: string, limit: number, after?: string): { queues: QueueListItem[]; hasMore: boolean } {
    const ns = this.namespaces.get(namespace);
    if (!ns) return { queues: [], hasMore: false };
    const names = [...ns.keys()].filter((n) => after === undefined || n > after).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const queues: QueueListItem[] = [];
    for (const name of names.slice(0, limit)) {
      const q = ns.get(name) as Queue;
      this.refresh(q, true);
      queues.push({
        name,
        pending: q.counts.ready + q.counts.delayed + q.counts.leased,
        available: q.counts.ready,
        enqueued: q.counters.enqueued,
        dequeued: q.counters.dequeued,
        dlq: q.dlq.size,
      });
    }
    return { queues, hasMore: names.length > limit };
  }

  /** The state of one message (tests and diagnostics); undefined once acked, purged or dropped. */
  stateOf(namespace: string, name: string, seq: bigint): QueueMessageState | undefined {
    const q = this.queue(namespace, name, false);
    if (!q) return undefined;
    this.refresh(q, true);
    const s = q.live.get(seq)?.state ?? (q.dlq.has(seq) ? 'dlq' : undefined);
    return s === 'removed' ? undefined : s;
  }

  /** Attempts so far of a live or dead-lettered message (tests and diagnostics). */
  attemptsOf(namespace: string, name: string, seq: bigint): number | undefined {
    const q = this.queue(namespace, name, false);
    return q ? (q.live.get(seq) ?? q.dlq.get(seq))?.attempts : undefined;
  }

  /** Cancels every timer; the store must not be used afterwards. */
  close(): void {
    this.closed = true;
    for (const ns of this.namespaces.values()) {
      for (const q of ns.values()) {
        q.timer?.cancel();
        q.timer = undefined;
        q.timerDue = undefined;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private queue(namespace: string, name: string, create: true): Queue;
  private queue(namespace: string, name: string, create: false): Queue | undefined;
  private queue(namespace: string, name: string, create: boolean): Queue | undefined {
    let ns = this.namespaces.get(namespace);
    if (!ns) {
      if (!create) return undefined;
      ns = new Map();
      this.namespaces.set(namespace, ns);
    }
    let q = ns.get(name);
    if (!q && create) {
      if (!this.loading) this.willChangeMeta(queueEntity(namespace, name));
      q = new Queue(namespace, name);
      ns.set(name, q);
    }
    return q;
  }

  private insert(q: Queue, payload: Uint8Array, priority: number, delayMs: number, now: number): bigint {
    this.markMeta(q);
    this.willChangeMsg(itemEntity(q, String(q.nextSeq)));
    const seq = q.nextSeq++;
    const msg: Msg = {
      seq,
      payload: payload.slice(),
      priority,
      enqueuedAt: now,
      state: 'removed',
      attempts: 0,
      visibleAt: clampTime(now + delayMs),
      leaseMs: 0,
      leaseEnd: 0,
      dlqOrder: 0,
      token: 0,
    };
    q.live.set(seq, msg);
    q.counters.enqueued++;
    if (delayMs > 0) {
      this.move(q, msg, 'delayed');
      q.delayed.push({ msg, token: msg.token, at: msg.visibleAt });
    } else {
      this.move(q, msg, 'ready');
      q.ready.push({ msg, token: msg.token, at: 0 });
    }
    return seq;
  }

  /** Changes a message's state, keeping the counts, the live map and the tokens right. */
  private move(q: Queue, msg: Msg, to: Msg['state']): void {
    this.markMsg(q, msg);
    this.markMeta(q);
    const from = msg.state;
    if (from === 'ready' || from === 'delayed' || from === 'leased') q.counts[from]--;
    if (to === 'ready' || to === 'delayed' || to === 'leased') q.counts[to]++;
    if (to === 'removed' || to === 'dlq') q.live.delete(msg.seq);
    msg.state = to;
    msg.token++;
  }

  /** A failed delivery (nack or expiry): ready again, or the DLQ when attempts are used up. */
  private failDelivery(q: Queue, msg: Msg): boolean {
    if (this.config.maxAttempts > 0 && msg.attempts >= this.config.maxAttempts) {
      this.toDlq(q, msg);
      return false;
    }
    this.move(q, msg, 'ready');
    q.ready.push({ msg, token: msg.token, at: 0 });
    return true;
  }

  private toDlq(q: Queue, msg: Msg): void {
    this.move(q, msg, 'dlq');
    q.dlq.set(msg.seq, msg);
    q.counters.dlqTotal++;
    msg.dlqOrder = q.counters.dlqTotal;
    while (q.dlq.size > this.config.dlqCapacity) {
      const oldest = q.dlq.values().next().value as Msg;
      this.markMsg(q, oldest);
      q.dlq.delete(oldest.seq);
      oldest.state = 'removed';
      oldest.token++;
    }
  }

  private popValid(heap: Heap<Entry>, state: QueueMessageState): Msg | undefined {
    for (;;) {
      const e = heap.pop();
      if (!e) return undefined;
      if (e.token === e.msg.token && e.msg.state === state) return e.msg;
    }
  }

  private topValid(heap: Heap<Entry>, state: QueueMessageState): Entry | undefined {
    for (;;) {
      const e = heap.peek();
      if (!e) return undefined;
      if (e.token === e.msg.token && e.msg.state === state) return e;
      heap.pop();
    }
  }

  /**
   * Applies what has come due: delayed messages become ready, expired leases fail their delivery.
   * Notifies `onReady` when something became ready. With `reschedule`, re-arms the queue timer.
   */
  private refresh(q: Queue, reschedule: boolean): void {
    const now = this.clock.now();
    let readied = false;
    for (let e = this.topValid(q.delayed, 'delayed'); e && e.at <= now; e = this.topValid(q.delayed, 'delayed')) {
      q.delayed.pop();
      this.move(q, e.msg, 'ready');
      q.ready.push({ msg: e.msg, token: e.msg.token, at: 0 });
      readied = true;
    }
    for (let e = this.topValid(q.leased, 'leased'); e && e.at <= now; e = this.topValid(q.leased, 'leased')) {
      q.leased.pop();
      q.counters.leasesExpired++;
      readied = this.failDelivery(q, e.msg) || readied;
    }
    for (const [key, d] of q.dedup) {
      if (d.until > now) break;
      this.markDedup(q, key);
      q.dedup.delete(key);
    }
    if (reschedule) this.finish(q, readied);
    else if (readied) this.onReady(q.namespace, q.name);
  }

  /** After an operation: compact the heaps if mostly stale, re-arm the timer, notify. */
  private finish(q: Queue, readied: boolean): void {
    compact(q.ready, q.counts.ready, 'ready');
    compact(q.delayed, q.counts.delayed, 'delayed');
    compact(q.leased, q.counts.leased, 'leased');
    this.schedule(q);
    if (readied) this.onReady(q.namespace, q.name);
  }

  private schedule(q: Queue): void {
    if (this.closed) return;
    const d = this.topValid(q.delayed, 'delayed')?.at;
    const l = this.topValid(q.leased, 'leased')?.at;
    const due = d === undefined ? l : l === undefined ? d : Math.min(d, l);
    if (due === q.timerDue && q.timer) return;
    q.timer?.cancel();
    q.timer = undefined;
    q.timerDue = undefined;
    if (due === undefined) return;
    q.timerDue = due;
    q.timer = this.clock.setTimer(Math.min(Math.max(0, due - this.clock.now()), MAX_TIMER_MS), () => {
      q.timer = undefined;
      q.timerDue = undefined;
      if (!this.closed) this.refresh(q, true);
    });
  }
}

function compact(heap: Heap<Entry>, live: number, state: QueueMessageState): void {
  if (heap.size > 64 && heap.size > 2 * live) heap.filter((e) => e.token === e.msg.token && e.msg.state === state);
}

function view(msg: Msg): QueueMessage {
  return { seq: msg.seq, payload: msg.payload, enqueuedAtMs: BigInt(msg.enqueuedAt), deliveryCount: msg.attempts, priority: msg.priority };
}
