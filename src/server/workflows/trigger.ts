/**
 * Stream triggers (`trigger:` in a definition): records appended to `stream` (in `namespace`,
 * default the workflow's) start runs. `batch_size` 1 starts one run per record with the record as
 * input; N starts one run per N records with a JSON array input (payloads that start with `{`, `[`
 * or `"` embedded as they are, others as JSON strings). A partial batch is started once its oldest
 * record is `batch_timeout_ms` old (default 5000). Each run has the idempotency key
 * `trigger:<stream>@<ts>:<seq>` (the batch's last record) and first history event `trigger_started`.
 *
 * The trigger reads the stream with its own cursor (as Flo does; `consumer_group` and `mode` are
 * kept but not used). An append wakes it at once. A new trigger starts at the stream's tail;
 * re-creating the definition keeps the cursor while the stream and namespace stay the same. While
 * the workflow is disabled nothing starts and the cursor stays, so records appended meanwhile start
 * runs after ENABLE.
 *
 * With a data directory the cursors are the `workflow.trigger` table: a cursor moves in the turn
 * that starts its run, so both are in the same commit and a restart resumes after the last record
 * that started one (no record starts two runs, none is skipped).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { PortRecord, StreamPort } from '../ports.js';
import { NO_CHANGE_LOG, type Persistence } from '../storage/types.js';

export type TriggerMode = 'shared' | 'exclusive' | 'key_shared';

export interface TriggerDef {
  readonly stream: string;
  /** Undefined: the workflow's namespace. */
  readonly namespace?: string;
  readonly consumerGroup?: string;
  readonly mode: TriggerMode;
  readonly batchSize: number;
  readonly batchTimeoutMs: number;
}

export const DEFAULT_TRIGGER_BATCH_TIMEOUT_MS = 5000;
/** Most records one wake reads (the rest are read by the next pass, at once). */
const READ_CHUNK = 1000;
const MAX_BATCH = 10_000;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const pick = (o: Obj, ...keys: string[]): unknown => keys.map((k) => o[k]).find((v) => v !== undefined && v !== null);

function positiveInt(v: unknown, dflt: number, max: number): number | undefined {
  if (v === undefined) return dflt;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= max ? n : undefined;
}

/** Parses `trigger:`; throws `fail(message)` on a bad one. */
export function parseTriggerDef(raw: unknown, fail: (msg: string) => never): TriggerDef | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) return fail('trigger must be a map');
  const stream = pick(raw, 'stream');
  if (typeof stream !== 'string' || stream === '') return fail('trigger.stream is required');
  const namespace = pick(raw, 'namespace');
  if (namespace !== undefined && typeof namespace !== 'string') return fail('trigger.namespace must be a string');
  const group = pick(raw, 'consumerGroup', 'consumer_group');
  if (group !== undefined && typeof group !== 'string') return fail('trigger.consumerGroup must be a string');
  const modeRaw = pick(raw, 'mode') ?? 'shared';
  const mode = modeRaw === 'key-shared' ? 'key_shared' : modeRaw;
  if (mode !== 'shared' && mode !== 'exclusive' && mode !== 'key_shared') return fail(`trigger.mode must be shared, exclusive or key_shared, not "${String(modeRaw)}"`);
  const batchSize = positiveInt(pick(raw, 'batchSize', 'batch_size'), 1, MAX_BATCH);
  if (batchSize === undefined) return fail(`trigger.batchSize must be an integer from 1 to ${MAX_BATCH}`);
  const batchTimeoutMs = positiveInt(pick(raw, 'batchTimeoutMs', 'batch_timeout_ms'), DEFAULT_TRIGGER_BATCH_TIMEOUT_MS, 86_400_000);
  if (batchTimeoutMs === undefined) return fail('trigger.batchTimeoutMs must be a positive whole number of milliseconds');
  return {
    stream,
    ...(namespace ? { namespace } : {}),
    ...(group ? { consumerGroup: group } : {}),
    mode,
    batchSize,
    batchTimeoutMs,
  };
}

/** What the triggers need of the engine. */
export interface TriggerHost {
  /** The definition's trigger, and whether it may start runs now (enabled). */
  trigger(namespace: string, workflow: string): { readonly def: TriggerDef; readonly enabled: boolean } | undefined;
  /** Starts a run unless one with this idempotency key exists. */
  startTriggeredRun(namespace: string, workflow: string, input: Uint8Array, idempotencyKey: string): void;
}

/** A trigger's place in its stream, as plain data. */
export interface TriggerCursor {
  readonly namespace: string;
  readonly workflow: string;
  readonly sourceNs: string;
  readonly stream: string;
  /** Key (`ts << 64 | seq`) of the next record to read. */
  readonly next: bigint;
}

interface Cursor {
  readonly sourceNs: string;
  readonly stream: string;
  /** Key (`ts << 64 | seq`) of the next record to read. */
  next: bigint;
  timer?: TimerHandle;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SEQ_MASK = (1n << 64n) - 1n;
const key = (ns: string, wf: string) => `${ns}\u0000${wf}`;

function batchInput(records: readonly PortRecord[]): Uint8Array {
  const parts = records.map((r) => {
    const text = decoder.decode(r.payload);
    const first = text.trimStart()[0];
    return first === '{' || first === '[' || first === '"' ? text : JSON.stringify(text);
  });
  return encoder.encode(`[${parts.join(',')}]`);
}

/** One cursor per triggered workflow; wakes on appends to its stream. */
export class WorkflowTriggers {
  /** Workflow (namespace, name) → its cursor. */
  private readonly cursors = new Map<string, Cursor>();
  private readonly unsubscribe: () => void;
  private readonly cursorWillChange: (key: string) => void;

  /** `persistence` undefined: cursors live in memory only (a restart starts them at the tail). */
  constructor(
    private readonly clock: Clock,
    private readonly streams: StreamPort,
    private readonly host: TriggerHost,
    persistence?: Persistence,
  ) {
    this.unsubscribe = streams.onAppend((ns, stream) => this.onAppend(ns, stream));
    this.cursorWillChange =
      persistence?.table({
        name: 'workflow.trigger',
        save: (k) => {
          const c = this.cursors.get(k);
          return c ? { sourceNs: c.sourceNs, stream: c.stream, next: c.next } : undefined;
        },
        // Loaded before the definitions' `loaded()` calls `update`, which keeps a matching cursor.
        load: (k, v) => {
          this.cursors.get(k)?.timer?.cancel();
          if (v === undefined) this.cursors.delete(k);
          else {
            const c = v as { sourceNs: string; stream: string; next: bigint };
            this.cursors.set(k, { sourceNs: c.sourceNs, stream: c.stream, next: BigInt(c.next) });
          }
        },
      }) ?? NO_CHANGE_LOG;
  }

  /** Follows a definition change: creates, keeps, moves or drops the workflow's cursor, then looks for work. */
  update(namespace: string, workflow: string): void {
    const k = key(namespace, workflow);
    const t = this.host.trigger(namespace, workflow);
    const current = this.cursors.get(k);
    if (!t) {
      current?.timer?.cancel();
      if (current) this.cursorWillChange(k);
      this.cursors.delete(k);
      return;
    }
    const sourceNs = t.def.namespace ?? namespace;
    if (!current || current.sourceNs !== sourceNs || current.stream !== t.def.stream) {
      current?.timer?.cancel();
      this.cursorWillChange(k);
      this.cursors.set(k, { sourceNs, stream: t.def.stream, next: this.streams.tail(sourceNs, t.def.stream) });
    }
    this.pass(namespace, workflow);
  }

  /** Every trigger's cursor, as plain data (for persistence). */
  snapshot(): TriggerCursor[] {
    return [...this.cursors].map(([k, c]) => {
      const sep = k.indexOf('\u0000');
      return { namespace: k.slice(0, sep), workflow: k.slice(sep + 1), sourceNs: c.sourceNs, stream: c.stream, next: c.next };
    });
  }

  /** Puts cursors back (before the definitions are replayed through `update`, which keeps them). */
  restore(cursors: readonly TriggerCursor[]): void {
    for (const c of cursors) this.cursorWillChange(key(c.namespace, c.workflow));
    for (const c of cursors) this.cursors.set(key(c.namespace, c.workflow), { sourceNs: c.sourceNs, stream: c.stream, next: c.next });
  }

  /** The cursor of a workflow's trigger (tests, diagnostics, snapshots). */
  position(namespace: string, workflow: string): bigint | undefined {
    return this.cursors.get(key(namespace, workflow))?.next;
  }

  close(): void {
    this.unsubscribe();
    for (const c of this.cursors.values()) c.timer?.cancel();
    this.cursors.clear();
  }

  private onAppend(ns: string, stream: string): void {
    for (const [k, c] of this.cursors) {
      if (c.sourceNs !== ns || c.stream !== stream) continue;
      const sep = k.indexOf('\u0000');
      this.pass(k.slice(0, sep), k.slice(sep + 1));
    }
  }

  /** Starts every run the records past the cursor call for; arms the partial-batch timer if one waits. */
  private pass(namespace: string, workflow: string): void {
    const c = this.cursors.get(key(namespace, workflow));
    const t = this.host.trigger(namespace, workflow);
    if (!c || !t) return;
    c.timer?.cancel();
    c.timer = undefined;
    if (!t.enabled) return;
    const { batchSize, batchTimeoutMs } = t.def;
    // A read of `count` ≥ batchSize records holds at least one full batch, so every pass moves on.
    const count = Math.max(READ_CHUNK, batchSize);
    for (;;) {
      const records = this.streams.read(c.sourceNs, c.stream, c.next, count);
      let i = 0;
      for (; i + batchSize <= records.length; i += batchSize) this.start(namespace, workflow, c, records.slice(i, i + batchSize), batchSize);
      if (records.length === count) continue; // more may follow: read again from the new cursor
      const rest = records.slice(i);
      if (rest.length === 0) return;
      const dueAt = Number(rest[0].key >> 64n) + batchTimeoutMs;
      const now = this.clock.now();
      if (dueAt > now) {
        c.timer = this.clock.setTimer(dueAt - now, () => this.pass(namespace, workflow));
        return;
      }
      this.start(namespace, workflow, c, rest, batchSize);
      return;
    }
  }

  private start(namespace: string, workflow: string, c: Cursor, batch: readonly PortRecord[], batchSize: number): void {
    const last = batch[batch.length - 1];
    this.cursorWillChange(key(namespace, workflow));
    c.next = last.key + 1n;
    const input = batchSize === 1 ? last.payload : batchInput(batch);
    this.host.startTriggeredRun(namespace, workflow, input, `trigger:${c.stream}@${last.key >> 64n}:${last.key & SEQ_MASK}`);
  }
}
