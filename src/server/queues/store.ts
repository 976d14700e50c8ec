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
 * Rules (`docs/protocol-decisions.md` #9–#12, #21, #22):
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
 * Memory: live messages are rows of a `MessageTable` (columns, seq as a number, payload copied once
 * into a slab); ready order is a `ReadyQueue`, delayed and leased orders are `SeqHeap`s of number
 * pairs; dead-lettered messages (capped) are one `DeadMessage` each. Seqs are exact numbers up to
 * 2^53 − 1: an enqueue beyond that is refused (BadRequest), a requested seq beyond it matches
 * nothing. The persisted forms above are plain objects with bigint seqs, translated in save/load.
 *
 * Time: delayed messages and lease expiries are applied lazily before every operation on the
 * queue, and by one clock timer per queue set at the queue's next due instant, so that blocked
 * dequeuers are woken (`onReady`) as soon as something becomes ready.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { QueueMessage } from '../../protocol/index.js';
import { badRequest } from '../reply.js';
import { ReadyQueue, SeqHeap } from './heap.js';
import { DELAYED, LEASED, MAX_SEQ, MessageTable, READY, type LiveState } from './message-table.js';
import { ABSENT, NO_CHANGE_LOG, type IdKeyForm, type Persistence, type WillChange } from '../storage/types.js';

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
const MAX_SEQ_BIG = BigInt(MAX_SEQ);
const STATE_NAMES = ['', 'ready', 'delayed', 'leased'] as const;

/**
 * A dead-lettered message. The DLQ is capped (`dlqCapacity`) and rarely large, so each is one
 * plain object with an exact-size copy of its payload; live messages are columns (`MessageTable`).
 */
class DeadMessage {
  constructor(
    readonly seq: number,
    readonly payload: Uint8Array,
    readonly priority: number,
    readonly enqueuedAt: number,
    readonly attempts: number,
    readonly visibleAt: number,
    readonly leaseMs: number,
    readonly leaseEnd: number,
    /** Order of arrival in the DLQ (the queue's dlqTotal when it arrived). */
    readonly dlqOrder: number,
  ) {}
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
  /** 0–255 (a u8 on the wire); lower leaves first. */
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

class Queue {
  /** Next seq to hand out; seqs are exact numbers up to `MAX_SEQ`. */
  nextSeq = 1;
  /** Ready, delayed and leased messages. */
  readonly live = new MessageTable();
  /** Insertion order = order of arrival in the DLQ (oldest first). */
  readonly dlq = new Map<number, DeadMessage>();
  /** Ready messages by (priority, seq). */
  readonly ready = new ReadyQueue();
  /** Delayed messages by (visible at, seq). */
  readonly delayed = new SeqHeap();
  /** Leased messages by (lease end, seq). */
  readonly leased = new SeqHeap();
  /** Live messages per state, indexed by `LiveState`. */
  readonly counts = [0, 0, 0, 0];
  readonly counters: QueueCounters = { enqueued: 0, dequeued: 0, acked: 0, nacked: 0, dlqTotal: 0, leasesExpired: 0 };
  /** hex(key) → original seq. */
  readonly dedupSeq = new Map<string, number>();
  /** hex(key) → end of its window; insertion order = expiry order (same keys as `dedupSeq`). */
  readonly dedupUntil = new Map<string, number>();
  timer: TimerHandle | undefined;
  timerDue: number | undefined;
  /** `queue.meta` entity key (`JSON.stringify([namespace, name])`), built once. */
  readonly entity: string;
  /** What the entity keys of its messages and dedup keys start with (`["ns","name","`). */
  readonly itemPrefix: string;

  constructor(
    readonly namespace: string,
    readonly name: string,
  ) {
    this.entity = queueEntity(namespace, name);
    this.itemPrefix = `${this.entity.slice(0, -1)},"`;
  }
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

/** A seq from a request as a number; -1 when no message can have it (0, negative, beyond `MAX_SEQ`). */
const seqOf = (seq: bigint): number => (seq >= 1n && seq <= MAX_SEQ_BIG ? Number(seq) : -1);

function checkedPriority(priority: number | undefined): number {
  if (priority === undefined) return 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 255) throw badRequest(`queue priority must be an integer from 0 to 255, got ${priority}`);
  return priority;
}

/**
 * A message as stored (`queue.msg`), written since batch format 3 as a tuple (no field names, seq in
 * the entity key): `[payload, priority, enqueuedAt]` for a message that is ready and was never
 * delivered (visible since it was enqueued: most of a backlog), else
 * `[payload, priority, enqueuedAt, state, attempts, visibleAt, leaseMs, leaseEnd, dlqOrder]` with
 * `state` one of `STORED_STATES`. The object form (`LegacyStoredMsg`) written before still loads.
 */
type StoredMsgTuple =
  | readonly [payload: Uint8Array, priority: number, enqueuedAt: number]
  | readonly [payload: Uint8Array, priority: number, enqueuedAt: number, state: number, attempts: number, visibleAt: number, leaseMs: number, leaseEnd: number, dlqOrder: number];

/** `state` of a stored message tuple (never renumber: stored in the log). */
const STORED_STATES: readonly QueueMessageState[] = ['ready', 'delayed', 'leased', 'dlq'];
const STORED_STATE_OF: Record<QueueMessageState, number> = { ready: 0, delayed: 1, leased: 2, dlq: 3 };

/** A message as stored before batch format 3 (an object with field names). */
interface LegacyStoredMsg {
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

/** The seq of a message entity key (`prefix` + decimal digits + `"]`), read in place; NaN when it is not one. */
function decimalItem(entity: string, from: number): number {
  const end = entity.length - 2;
  if (end <= from) return Number.NaN;
  let n = 0;
  for (let i = from; i < end; i++) {
    const d = entity.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

/** A stored message in either form, as the object form (start-up and rollbacks only). */
function storedMsg(stored: unknown): LegacyStoredMsg {
  if (!Array.isArray(stored)) return stored as LegacyStoredMsg;
  const v = stored as unknown as StoredMsgTuple;
  const [payload, priority, enqueuedAt] = v;
  if (v.length === 3) return { seq: 0n, payload, priority, enqueuedAt, state: 'ready', attempts: 0, visibleAt: enqueuedAt, leaseMs: 0, leaseEnd: 0, dlqOrder: 0 };
  const state = STORED_STATES[v[3]];
  if (state === undefined) throw new Error(`queue message stored with an unknown state ${v[3]}`);
  return { seq: 0n, payload, priority, enqueuedAt, state, attempts: v[4], visibleAt: v[5], leaseMs: v[6], leaseEnd: v[7], dlqOrder: v[8] };
}

/** A queue's own state as stored (`queue.meta`). */
interface StoredQueueMeta {
  readonly nextSeq: bigint;
  readonly counters: QueueCounters;
}

/** A remembered dedup key as stored (`queue.dedup`). */
interface StoredDedup {
  readonly seq: bigint;
  readonly until: number;
}

const queueEntity = (namespace: string, name: string) => JSON.stringify([namespace, name]);
/**
 * `JSON.stringify([namespace, name, item])`, from the queue's cached prefix: items (decimal seqs,
 * hex dedup keys) need no escaping, so the result is the same string.
 */
const itemEntity = (q: Queue, item: string | number) => `${q.itemPrefix}${item}"]`;
/** A message's entity key given in parts (an enqueue): the queue's `itemPrefix`, then the seq as `itemEntity` writes it. */
const SEQ_ID_KEY: IdKeyForm = { separator: '', radix: 10, suffix: '"]' };

export class QueueStore {
  readonly config: QueueStoreConfig;
  private readonly namespaces = new Map<string, Map<string, Queue>>();
  private closed = false;
  private readonly willChangeMsg: WillChange = NO_CHANGE_LOG;
  private readonly willChangeMeta: (entity: string) => void = NO_CHANGE_LOG;
  private readonly willChangeDedup: (entity: string) => void = NO_CHANGE_LOG;
  /** Set while the storage loads entities back: loading is not a change. */
  private loading = false;
  /** With a data directory: changes are announced (without one no entity key is even built). */
  private readonly persistent: boolean;
  private readonly loadedQueues = new Set<Queue>();
  /** With a data directory: each queue by the prefix of its items' entity keys (`findItem`). */
  private readonly byItemPrefix = new Map<string, Queue>();
  /** The queue `findItem` found last (forgotten when a queue is removed). */
  private lastItemQueue: Queue | undefined;

  constructor(
    private readonly clock: Clock,
    config: Partial<QueueStoreConfig> = {},
    /** Called (synchronously) whenever messages of a queue become ready. */
    private readonly onReady: (namespace: string, name: string) => void = () => {},
    persistence?: Persistence,
  ) {
    this.config = { ...DEFAULT_QUEUE_STORE_CONFIG, ...config };
    this.persistent = persistence !== undefined;
    if (persistence) {
      const loaded = () => this.loaded();
      this.willChangeMsg = persistence.table({ name: 'queue.msg', save: (k) => this.saveMsg(k), load: (k, v) => this.loadMsg(k, v), loaded, idKey: SEQ_ID_KEY });
      this.willChangeMeta = persistence.table({ name: 'queue.meta', save: (k) => this.saveMeta(k), load: (k, v) => this.loadMeta(k, v), loaded });
      this.willChangeDedup = persistence.table({ name: 'queue.dedup', save: (k) => this.saveDedup(k), load: (k, v) => this.loadDedup(k, v), loaded });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Persistence: the stored forms are the plain objects above; the columns are translated here.

  private markMsg(q: Queue, seq: number): void {
    if (this.persistent && !this.loading) this.willChangeMsg(itemEntity(q, seq));
  }

  private markMeta(q: Queue): void {
    if (this.persistent && !this.loading) this.willChangeMeta(q.entity);
  }

  private markDedup(q: Queue, id: string): void {
    if (this.persistent && !this.loading) this.willChangeDedup(itemEntity(q, id));
  }

  private findQueue(entity: string): [Queue | undefined, string, string, string] {
    const [namespace, name, item] = JSON.parse(entity) as [string, string, string?];
    return [this.namespaces.get(namespace)?.get(name), namespace, name, item ?? ''];
  }

  /**
   * The queue and item of a message or dedup entity key, on the save path (once per changed entity
   * per commit): by the key's prefix, without parsing it. Undefined when the queue is gone.
   */
  private findItem(entity: string): Queue | undefined {
    // A commit saves runs of one queue's items: the queue found last is tried first. JSON strings
    // delimit themselves, so a key that starts with a queue's prefix belongs to that queue.
    const last = this.lastItemQueue;
    if (last !== undefined && entity.startsWith(last.itemPrefix)) return last;
    const q = this.byItemPrefix.get(entity.slice(0, entity.lastIndexOf(',"') + 2));
    if (q !== undefined) this.lastItemQueue = q;
    return q;
  }

  private saveMsg(entity: string): StoredMsgTuple | undefined {
    const q = this.findItem(entity);
    if (!q) return undefined;
    const seq = decimalItem(entity, q.itemPrefix.length);
    const slot = q.live.slotOf(seq);
    if (slot >= 0) return this.storedLive(q, slot);
    const d = q.dlq.get(seq);
    if (!d) return undefined;
    return [d.payload, d.priority, d.enqueuedAt, STORED_STATE_OF.dlq, d.attempts, d.visibleAt, d.leaseMs, d.leaseEnd, d.dlqOrder];
  }

  /** The stored form of a live message (the short tuple for one ready and never delivered). */
  private storedLive(q: Queue, slot: number): StoredMsgTuple {
    const t = q.live;
    const state = t.state(slot);
    const payload = t.payload(slot);
    const priority = t.priority(slot);
    const enqueuedAt = t.enqueuedAt(slot);
    const attempts = t.attempts(slot);
    const visibleAt = t.visibleAt(slot);
    const leaseMs = t.leaseMs(slot);
    const leaseEnd = t.leaseEnd(slot);
    if (state === READY && attempts === 0 && visibleAt === enqueuedAt && leaseMs === 0 && leaseEnd === 0) return [payload, priority, enqueuedAt];
    return [payload, priority, enqueuedAt, STORED_STATE_OF[STATE_NAMES[state] as QueueMessageState], attempts, visibleAt, leaseMs, leaseEnd, 0];
  }

  private saveMeta(entity: string): StoredQueueMeta | undefined {
    const [q] = this.findQueue(entity);
    return q ? { nextSeq: BigInt(q.nextSeq), counters: { ...q.counters } } : undefined;
  }

  private saveDedup(entity: string): StoredDedup | undefined {
    const q = this.findItem(entity);
    const id = q ? entity.slice(q.itemPrefix.length, -2) : '';
    const seq = q?.dedupSeq.get(id);
    return seq === undefined ? undefined : { seq: BigInt(seq), until: q!.dedupUntil.get(id)! };
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
      const seq = Number(item);
      if (!(seq >= 1 && seq <= MAX_SEQ)) throw new Error(`queue ${name}: message seq ${item} is beyond ${MAX_SEQ}, the highest this server keeps`);
      const q = this.queue(namespace, name, true);
      this.loadedQueues.add(q);
      const old = q.live.slotOf(seq);
      if (old >= 0) this.removeLive(q, seq, old);
      q.dlq.delete(seq);
      if (stored === undefined) return;
      const v = storedMsg(stored);
      if (v.state === 'dlq') {
        const payload = new Uint8Array(v.payload);
        q.dlq.set(seq, new DeadMessage(seq, payload, v.priority, v.enqueuedAt, v.attempts, v.visibleAt, v.leaseMs, v.leaseEnd, v.dlqOrder));
        return;
      }
      const state: LiveState = v.state === 'ready' ? READY : v.state === 'delayed' ? DELAYED : LEASED;
      const slot = q.live.add(seq, v.payload, v.priority, v.enqueuedAt, v.visibleAt, state);
      q.live.setAttempts(slot, v.attempts);
      q.live.setLeaseMs(slot, v.leaseMs);
      q.live.setLeaseEnd(slot, v.leaseEnd);
      q.counts[state]++;
      this.pushEntry(q, seq, slot, state);
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
        this.byItemPrefix.delete(q.itemPrefix);
        if (this.lastItemQueue === q) this.lastItemQueue = undefined;
      }
      return;
    }
    const v = stored as StoredQueueMeta;
    const target = q ?? this.queue(namespace, name, true);
    // Beyond MAX_SEQ + 1 the queue is exhausted either way (enqueue refuses).
    target.nextSeq = v.nextSeq > MAX_SEQ_BIG ? MAX_SEQ + 1 : Number(v.nextSeq);
    Object.assign(target.counters, v.counters);
    this.loadedQueues.add(target);
  }

  private loadDedup(entity: string, stored: unknown): void {
    this.withLoading(() => this.loadDedupNow(entity, stored));
  }

  private loadDedupNow(entity: string, stored: unknown): void {
    const [, namespace, name, id] = this.findQueue(entity);
    const q = this.queue(namespace, name, true);
    q.dedupSeq.delete(id);
    q.dedupUntil.delete(id);
    if (stored !== undefined) {
      const v = stored as StoredDedup;
      q.dedupSeq.set(id, Number(v.seq));
      q.dedupUntil.set(id, v.until);
    }
    this.loadedQueues.add(q);
  }

  /** After loads: DLQ and dedup back in their orders, what came due applied, timers armed, readers woken. */
  private loaded(): void {
    const queues = [...this.loadedQueues];
    this.loadedQueues.clear();
    for (const q of queues) {
      q.live.rebuildIndex();
      const dlq = [...q.dlq.values()].sort((a, b) => a.dlqOrder - b.dlqOrder);
      q.dlq.clear();
      for (const m of dlq) q.dlq.set(m.seq, m);
      const dedup = [...q.dedupUntil].sort((a, b) => a[1] - b[1]);
      q.dedupUntil.clear();
      for (const [k, until] of dedup) q.dedupUntil.set(k, until);
      this.refresh(q, true);
      if (q.counts[READY]! > 0) this.onReady(q.namespace, q.name);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Operations

  /** Stores a message (or, for a dedup hit, returns the original seq and stores nothing). */
  enqueue(namespace: string, name: string, payload: Uint8Array, opts: EnqueueOptions = {}): { seq: bigint; duplicate: boolean } {
    const priority = checkedPriority(opts.priority);
    const q = this.queue(namespace, name, true);
    this.refresh(q, false);
    const now = this.clock.now();
    let dedupId: string | undefined;
    if (opts.dedupKey !== undefined && opts.dedupKey.length > 0) {
      dedupId = hex(opts.dedupKey);
      const until = q.dedupUntil.get(dedupId);
      if (until !== undefined && now < until) {
        this.schedule(q);
        return { seq: BigInt(q.dedupSeq.get(dedupId)!), duplicate: true };
      }
      this.markDedup(q, dedupId);
      q.dedupSeq.delete(dedupId);
      q.dedupUntil.delete(dedupId);
    }
    checkSeqs(q, 1);
    const delay = toMs(opts.delayMs);
    const seq = this.insert(q, payload, priority, delay, now);
    if (dedupId !== undefined) {
      q.dedupSeq.set(dedupId, seq);
      q.dedupUntil.set(dedupId, clampTime(now + this.config.dedupWindowMs));
    }
    this.finish(q, delay === 0);
    return { seq: BigInt(seq), duplicate: false };
  }

  /** Stores several messages with the same options (no dedup). */
  enqueueBatch(namespace: string, name: string, payloads: readonly Uint8Array[], opts: Omit<EnqueueOptions, 'dedupKey'> = {}): bigint[] {
    if (payloads.length === 0) return [];
    const priority = checkedPriority(opts.priority);
    const q = this.queue(namespace, name, true);
    checkSeqs(q, payloads.length);
    this.refresh(q, false);
    const now = this.clock.now();
    const delay = toMs(opts.delayMs);
    const seqs: bigint[] = [];
    for (const p of payloads) seqs.push(BigInt(this.insert(q, p, priority, delay, now)));
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
    const t = q.live;
    const out: QueueMessage[] = [];
    while (out.length < count) {
      const seq = q.ready.topSeq();
      if (seq === undefined) break;
      q.ready.pop();
      const slot = t.slotOf(seq);
      if (slot < 0 || t.state(slot) !== READY) continue;
      this.markMsg(q, seq);
      t.setAttempts(slot, t.attempts(slot) + 1);
      t.setLeaseMs(slot, leaseMs);
      const end = clampTime(now + leaseMs);
      t.setLeaseEnd(slot, end);
      this.setLive(q, seq, slot, LEASED);
      q.leased.push(end, seq);
      q.counters.dequeued++;
      out.push(view(t, seq, slot));
    }
    this.finish(q, false);
    return out;
  }

  /** The first `count` ready messages in dequeue order, without leasing them. */
  peek(namespace: string, name: string, count: number): QueueMessage[] {
    const q = this.queue(namespace, name, false);
    if (!q) return [];
    this.refresh(q, false);
    const t = q.live;
    const taken: number[] = [];
    const seen = new Set<number>();
    while (taken.length < count) {
      const seq = q.ready.topSeq();
      if (seq === undefined) break;
      q.ready.pop();
      const slot = t.slotOf(seq);
      if (slot < 0 || t.state(slot) !== READY || seen.has(seq)) continue;
      seen.add(seq);
      taken.push(seq);
    }
    const out: QueueMessage[] = [];
    for (const seq of taken) {
      const slot = t.slotOf(seq);
      q.ready.push(t.priority(slot), seq);
      out.push(view(t, seq, slot));
    }
    this.finish(q, false);
    return out;
  }

  /** Removes each listed ready, delayed or leased message; returns how many were removed. */
  ack(namespace: string, name: string, seqs: readonly bigint[]): number {
    const q = this.queue(namespace, name, false);
    if (!q) return 0;
    this.refresh(q, false);
    let n = 0;
    for (const s of seqs) {
      const seq = seqOf(s);
      const slot = seq < 0 ? -1 : q.live.slotOf(seq);
      if (slot < 0) continue;
      this.removeLive(q, seq, slot);
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
    for (const s of seqs) {
      const seq = seqOf(s);
      const slot = seq < 0 ? -1 : q.live.slotOf(seq);
      if (slot < 0 || q.live.state(slot) !== LEASED) continue;
      this.markMeta(q);
      q.counters.nacked++;
      n++;
      if (toDlq) this.toDlq(q, seq, slot);
      else readied = this.failDelivery(q, seq, slot) || readied;
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
    const t = q.live;
    let n = 0;
    for (const s of seqs) {
      const seq = seqOf(s);
      const slot = seq < 0 ? -1 : t.slotOf(seq);
      if (slot < 0 || t.state(slot) !== LEASED) continue;
      this.markMsg(q, seq);
      const end = clampTime(now + (extendMs && extendMs > 0 ? extendMs : t.leaseMs(slot)));
      if (end !== t.leaseEnd(slot)) {
        t.setLeaseEnd(slot, end);
        q.leased.push(end, seq);
      }
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
    for (const m of q.dlq.values()) {
      if (out.length >= limit) break;
      out.push({ seq: BigInt(m.seq), payload: m.payload, enqueuedAtMs: BigInt(m.enqueuedAt), deliveryCount: m.attempts, priority: m.priority });
    }
    return out;
  }

  /** Each listed DLQ seq back to ready, same seq, attempts 0 (#22); returns how many. */
  dlqRequeue(namespace: string, name: string, seqs: readonly bigint[]): number {
    return this.takeFromDlq(namespace, name, seqs, true, (q, m) => {
      this.markMeta(q);
      const slot = q.live.add(m.seq, m.payload, m.priority, m.enqueuedAt, m.visibleAt, READY);
      q.live.setLeaseMs(slot, m.leaseMs);
      q.live.setLeaseEnd(slot, m.leaseEnd);
      q.counts[READY]++;
      q.ready.push(m.priority, m.seq);
    });
  }

  /** Drops each listed DLQ seq; returns how many. */
  dlqDelete(namespace: string, name: string, seqs: readonly bigint[]): number {
    return this.takeFromDlq(namespace, name, seqs, false, () => {});
  }

  /** Takes each listed seq out of the DLQ and hands it to `then`; unknown seqs are ignored. */
  private takeFromDlq(
    namespace: string,
    name: string,
    seqs: readonly bigint[],
    wakesReaders: boolean,
    then: (q: Queue, m: DeadMessage) => void,
  ): number {
    const q = this.queue(namespace, name, false);
    if (!q) return 0;
    this.refresh(q, false);
    let n = 0;
    for (const s of seqs) {
      const seq = seqOf(s);
      const m = seq < 0 ? undefined : q.dlq.get(seq);
      if (!m) continue;
      this.markMsg(q, seq);
      q.dlq.delete(seq);
      then(q, m);
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
    const purged: number[] = [];
    for (const [seq, slot] of q.live.entries()) {
      const state = q.live.state(slot);
      if (state === READY || state === DELAYED) purged.push(seq);
    }
    // A removal may move rows (slots change): look each one up again.
    for (const seq of purged) this.removeLive(q, seq, q.live.slotOf(seq));
    q.ready.clear();
    q.delayed.clear();
    this.finish(q, false);
    return purged.length;
  }

  stats(namespace: string, name: string): QueueStats {
    const q = this.queue(namespace, name, false);
    if (!q) return { enqueued: 0, dequeued: 0, acked: 0, nacked: 0, dlqTotal: 0, leasesExpired: 0, ready: 0, delayed: 0, leased: 0, dlqCurrent: 0 };
    this.refresh(q, true);
    return { ...q.counters, ready: q.counts[READY]!, delayed: q.counts[DELAYED]!, leased: q.counts[LEASED]!, dlqCurrent: q.dlq.size };
  }

  /** Ready / leased / DLQ counts of every queue (for `/metrics`). */
  figures(): Array<{ namespace: string; queue: string; ready: number; leased: number; dlq: number }> {
    const out: Array<{ namespace: string; queue: string; ready: number; leased: number; dlq: number }> = [];
    for (const [namespace, queues] of this.namespaces) {
      for (const [queue, q] of queues) {
        this.refresh(q, true);
        out.push({ namespace, queue, ready: q.counts[READY]!, leased: q.counts[LEASED]!, dlq: q.dlq.size });
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
        pending: q.counts[READY]! + q.counts[DELAYED]! + q.counts[LEASED]!,
        available: q.counts[READY]!,
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
    const n = seqOf(seq);
    const slot = n < 0 ? -1 : q.live.slotOf(n);
    if (slot >= 0) return STATE_NAMES[q.live.state(slot)] as QueueMessageState;
    return q.dlq.has(n) ? 'dlq' : undefined;
  }

  /** Attempts so far of a live or dead-lettered message (tests and diagnostics). */
  attemptsOf(namespace: string, name: string, seq: bigint): number | undefined {
    const q = this.queue(namespace, name, false);
    if (!q) return undefined;
    const n = seqOf(seq);
    const slot = n < 0 ? -1 : q.live.slotOf(n);
    return slot >= 0 ? q.live.attempts(slot) : q.dlq.get(n)?.attempts;
  }

  /** Payload bytes a queue's live messages hold and the slab holds for them (tests and diagnostics). */
  payloadBytesOf(namespace: string, name: string): { live: number; held: number } | undefined {
    return this.queue(namespace, name, false)?.live.payloadBytes();
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
      if (this.persistent && !this.loading) this.willChangeMeta(queueEntity(namespace, name));
      q = new Queue(namespace, name);
      ns.set(name, q);
      if (this.persistent) this.byItemPrefix.set(q.itemPrefix, q);
    }
    return q;
  }

  private insert(q: Queue, payload: Uint8Array, priority: number, delayMs: number, now: number): number {
    this.markMeta(q);
    const seq = q.nextSeq++;
    const visibleAt = clampTime(now + delayMs);
    const state = delayMs > 0 ? DELAYED : READY;
    const slot = q.live.add(seq, payload, priority, now, visibleAt, state);
    // A new message, announced with its stored form (logged as it is now: no `save` at the commit;
    // a later change this turn is announced apart). A failed write just removes it.
    if (this.persistent) this.willChangeMsg(q.itemPrefix, ABSENT, this.storedLive(q, slot), seq);
    q.counts[state]++;
    q.counters.enqueued++;
    this.pushEntry(q, seq, slot, state);
    return seq;
  }

  /** The heap entry of a message that has just entered `state`. */
  private pushEntry(q: Queue, seq: number, slot: number, state: LiveState): void {
    if (state === READY) q.ready.push(q.live.priority(slot), seq);
    else if (state === DELAYED) q.delayed.push(q.live.visibleAt(slot), seq);
    else q.leased.push(q.live.leaseEnd(slot), seq);
  }

  /** Moves a live message to another live state, keeping the counts right (the caller pushes the heap entry). */
  private setLive(q: Queue, seq: number, slot: number, to: LiveState): void {
    this.markMsg(q, seq);
    this.markMeta(q);
    q.counts[q.live.state(slot)]--;
    q.counts[to]++;
    q.live.setState(slot, to);
  }

  /** Takes a message out of the live table (acked, purged, dead-lettered or replaced by a load). */
  private removeLive(q: Queue, seq: number, slot: number): void {
    this.markMsg(q, seq);
    this.markMeta(q);
    q.counts[q.live.state(slot)]--;
    q.live.remove(seq, slot);
  }

  /** A failed delivery (nack or expiry): ready again, or the DLQ when attempts are used up. */
  private failDelivery(q: Queue, seq: number, slot: number): boolean {
    if (this.config.maxAttempts > 0 && q.live.attempts(slot) >= this.config.maxAttempts) {
      this.toDlq(q, seq, slot);
      return false;
    }
    this.setLive(q, seq, slot, READY);
    q.ready.push(q.live.priority(slot), seq);
    return true;
  }

  private toDlq(q: Queue, seq: number, slot: number): void {
    const t = q.live;
    const payload = new Uint8Array(t.payload(slot)); // its own exact-size copy: the slab space is freed
    const dead = new DeadMessage(seq, payload, t.priority(slot), t.enqueuedAt(slot), t.attempts(slot), t.visibleAt(slot), t.leaseMs(slot), t.leaseEnd(slot), q.counters.dlqTotal + 1);
    this.removeLive(q, seq, slot);
    q.dlq.set(seq, dead);
    q.counters.dlqTotal++;
    while (q.dlq.size > this.config.dlqCapacity) {
      const oldest = q.dlq.keys().next().value as number;
      this.markMsg(q, oldest);
      q.dlq.delete(oldest);
    }
  }

  /** Whether a delayed or leased heap entry (key = due time) still stands for its message. */
  private isCurrent(q: Queue, state: LiveState, at: number, seq: number): boolean {
    const slot = q.live.slotOf(seq);
    if (slot < 0 || q.live.state(slot) !== state) return false;
    return state === READY || at === (state === DELAYED ? q.live.visibleAt(slot) : q.live.leaseEnd(slot));
  }

  /** Due time of the first current entry of a time heap (stale tops are dropped). */
  private nextDue(q: Queue, heap: SeqHeap, state: LiveState): number | undefined {
    for (;;) {
      const at = heap.topKey();
      if (at === undefined || this.isCurrent(q, state, at, heap.topSeq()!)) return at;
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
    for (let at = this.nextDue(q, q.delayed, DELAYED); at !== undefined && at <= now; at = this.nextDue(q, q.delayed, DELAYED)) {
      const seq = q.delayed.topSeq()!;
      q.delayed.pop();
      const slot = q.live.slotOf(seq);
      this.setLive(q, seq, slot, READY);
      q.ready.push(q.live.priority(slot), seq);
      readied = true;
    }
    for (let at = this.nextDue(q, q.leased, LEASED); at !== undefined && at <= now; at = this.nextDue(q, q.leased, LEASED)) {
      const seq = q.leased.topSeq()!;
      q.leased.pop();
      q.counters.leasesExpired++;
      readied = this.failDelivery(q, seq, q.live.slotOf(seq)) || readied;
    }
    if (q.dedupUntil.size > 0) this.expireDedup(q, now);
    if (reschedule) this.finish(q, readied);
    else if (readied) this.onReady(q.namespace, q.name);
  }

  /** Forgets the dedup keys whose window has ended (they are in expiry order). */
  private expireDedup(q: Queue, now: number): void {
    for (const [key, until] of q.dedupUntil) {
      if (until > now) break;
      this.markDedup(q, key);
      q.dedupUntil.delete(key);
      q.dedupSeq.delete(key);
    }
  }

  /** After an operation: compact the heaps if mostly stale, re-arm the timer, notify. */
  private finish(q: Queue, readied: boolean): void {
    this.compact(q, q.ready, READY);
    this.compact(q, q.delayed, DELAYED);
    this.compact(q, q.leased, LEASED);
    this.schedule(q);
    if (readied) this.onReady(q.namespace, q.name);
  }

  private compact(q: Queue, heap: SeqHeap | ReadyQueue, state: LiveState): void {
    if (heap.size > 64 && heap.size > 2 * q.counts[state]!) heap.filter((at, seq) => this.isCurrent(q, state, at, seq));
  }

  private schedule(q: Queue): void {
    if (this.closed) return;
    const d = this.nextDue(q, q.delayed, DELAYED);
    const l = this.nextDue(q, q.leased, LEASED);
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

/** Refuses an enqueue that would hand out a seq beyond `MAX_SEQ` (seqs are kept as exact numbers). */
function checkSeqs(q: Queue, count: number): void {
  if (q.nextSeq > MAX_SEQ - count + 1) throw badRequest(`queue ${q.name}: no sequence numbers left (seqs are kept up to ${MAX_SEQ})`);
}

function view(t: MessageTable, seq: number, slot: number): QueueMessage {
  return { seq: BigInt(seq), payload: t.payload(slot), enqueuedAtMs: BigInt(t.enqueuedAt(slot)), deliveryCount: t.attempts(slot), priority: t.priority(slot) };
}
