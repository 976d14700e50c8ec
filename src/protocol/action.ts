/**
 * Payload codecs for the action operations (0x300-0x305): register, invoke, status, list,
 * list runs, delete. Worker-side task operations (await, complete, fail, touch) and the worker
 * registry live in `worker.ts`.
 *
 * Layouts: requests exactly as the Go SDK writes them;
 * replies in the Go SDK's layout by default and in the newest server's where they differ
 * (`profile: 'flo'`, `docs/protocol-decisions.md` #1); decoders accept both.
 */
import { ByteWriter, EMPTY, fromUtf8, utf8 } from './bytes.js';
import { ByteReader } from './byte-reader.js';
import { ProtocolError } from './errors.js';
import type { OpPayload, RequestBody } from './frame.js';

/** Reply layout selector (same values as the server's `ReplyProfile`). */
export type ActionReplyProfile = 'go' | 'flo';

/** `action_type`: 0 user (worker-hosted), 1 WASM (out of scope). */
export const ActionType = { User: 0, Wasm: 1 } as const;

/** Action run status byte. */
export const ActionRunStatus = {
  Pending: 0,
  Running: 1,
  Completed: 2,
  Failed: 3,
  Cancelled: 4,
  TimedOut: 5,
} as const;
export type ActionRunStatusCode = (typeof ActionRunStatus)[keyof typeof ActionRunStatus];

const ACTION_RUN_STATUS_NAMES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'timed_out'] as const;

/** Lowercase wire name of an action run status (`completed`, …); unknown codes → `unknown`. */
export function actionRunStatusName(status: number): string {
  return ACTION_RUN_STATUS_NAMES[status] ?? 'unknown';
}

export const ACTION_DEFAULT_TIMEOUT_MS = 30_000;
export const ACTION_DEFAULT_MAX_RETRIES = 3;
export const ACTION_DEFAULT_PRIORITY = 10;
export const ACTION_LIST_DEFAULT_LIMIT = 100;

// ---------------------------------------------------------------------------------------------
// small local helpers (kept private: other codec files define their own)

function writeOptStr16(w: ByteWriter, v: string | Uint8Array | undefined): void {
  if (v === undefined) w.u8(0);
  else w.u8(1).bytes16(v);
}

function readFlag(r: ByteReader, field: string): boolean {
  const f = r.u8(field);
  if (f > 1) throw new ProtocolError(`invalid ${field} flag ${f}`);
  return f === 1;
}

function readOptI64(r: ByteReader, field: string): bigint | undefined {
  return readFlag(r, `has_${field}`) ? r.i64(field) : undefined;
}

function keyText(body: RequestBody): string {
  return fromUtf8(body.key);
}

// ---------------------------------------------------------------------------------------------
// ACTION_REGISTER (0x300)

export interface ActionRegisterRequest {
  readonly name: string;
  /** Default 0 (user). */
  readonly actionType?: number;
  /** Default 30 000. */
  readonly timeoutMs?: number;
  /** Total deliveries allowed; default 3. */
  readonly maxRetries?: number;
  readonly description?: string;
}

/** Key = name; value = `[type:u8][timeout_ms:u32][max_retries:u32][desc:opt(str16)][3 × 0][2 × 0]`. */
export function encodeActionRegister(req: ActionRegisterRequest): OpPayload {
  const w = new ByteWriter(32);
  w.u8(req.actionType ?? ActionType.User)
    .u32(req.timeoutMs ?? ACTION_DEFAULT_TIMEOUT_MS)
    .u32(req.maxRetries ?? ACTION_DEFAULT_MAX_RETRIES);
  writeOptStr16(w, req.description);
  w.u8(0).u8(0).u8(0); // wasm module, entrypoint, memory limit
  w.u8(0).u8(0); // trigger stream, trigger group
  return { key: utf8(req.name), value: w.finish() };
}

/**
 * Server side. Missing trailing fields take their defaults (the older server read only bytes 0-8);
 * the description is read when its flag is 1; everything after it is ignored.
 */
export function decodeActionRegister(body: RequestBody): Required<Omit<ActionRegisterRequest, 'description'>> & {
  readonly description?: string;
} {
  const r = new ByteReader(body.value, 'action register value');
  const actionType = r.remaining >= 1 ? r.u8('action_type') : ActionType.User;
  const timeoutMs = r.remaining >= 4 ? r.u32('timeout_ms') : ACTION_DEFAULT_TIMEOUT_MS;
  const maxRetries = r.remaining >= 4 ? r.u32('max_retries') : ACTION_DEFAULT_MAX_RETRIES;
  let description: string | undefined;
  if (r.remaining >= 1 && r.u8('has_description') === 1) description = r.string16('description');
  return description === undefined
    ? { name: keyText(body), actionType, timeoutMs, maxRetries }
    : { name: keyText(body), actionType, timeoutMs, maxRetries, description };
}

/** Reply data = the action name. */
export function encodeActionRegisterReply(name: string): Uint8Array {
  return utf8(name);
}

export function decodeActionRegisterReply(payload: Uint8Array): string {
  return fromUtf8(payload);
}

// ---------------------------------------------------------------------------------------------
// ACTION_INVOKE (0x301)

/** The workflow run that created an action run (carried in task assignments). */
export interface ActionCaller {
  readonly runId: string;
  readonly workflowName: string;
}

export interface ActionInvokeRequest {
  readonly name: string;
  readonly input?: Uint8Array;
  /** 0-255, higher claimed first (`docs/protocol-decisions.md` #26); Go default 10. */
  readonly priority?: number;
  /** Not claimable before created + delay. */
  readonly delayMs?: bigint | number;
  readonly idempotencyKey?: string;
  /** JSON object text of required worker labels. */
  readonly labels?: string;
  /** Only servers set this; clients always send the flag 0. */
  readonly caller?: ActionCaller;
}

export interface DecodedActionInvoke {
  readonly name: string;
  readonly input: Uint8Array;
  readonly priority: number;
  readonly delayMs: bigint;
  readonly idempotencyKey?: string;
  readonly labels?: string;
  readonly caller?: ActionCaller;
}

/** Value = `[priority:u8][delay_ms:i64][has_caller:u8][idem:opt(str16)][labels:opt(str16)][input:rest]`. */
export function encodeActionInvoke(req: ActionInvokeRequest): OpPayload {
  const input = req.input ?? EMPTY;
  const w = new ByteWriter(16 + input.length);
  w.u8(req.priority ?? ACTION_DEFAULT_PRIORITY).i64(req.delayMs ?? 0n);
  if (req.caller) w.u8(1).bytes16(req.caller.runId).bytes16(req.caller.workflowName);
  else w.u8(0);
  writeOptStr16(w, req.idempotencyKey);
  writeOptStr16(w, req.labels);
  w.bytes(input);
  return { key: utf8(req.name), value: w.finish() };
}

/** Server side: a value shorter than 11 bytes is taken entirely as input (back-compat). */
export function decodeActionInvoke(body: RequestBody): DecodedActionInvoke {
  const name = keyText(body);
  if (body.value.length < 11) return { name, input: body.value, priority: ACTION_DEFAULT_PRIORITY, delayMs: 0n };
  const r = new ByteReader(body.value, 'action invoke value');
  const priority = r.u8('priority');
  const delayMs = r.i64('delay_ms');
  let caller: ActionCaller | undefined;
  if (r.u8('has_caller') === 1) caller = { runId: r.string16('caller_run_id'), workflowName: r.string16('caller_workflow') };
  const idempotencyKey = r.remaining > 0 && r.u8('has_idempotency_key') === 1 ? r.string16('idempotency_key') : undefined;
  const labels = r.remaining > 0 && r.u8('has_labels') === 1 ? r.string16('labels') : undefined;
  const input = r.rest();
  return {
    name,
    input,
    priority,
    delayMs,
    ...(caller ? { caller } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    ...(labels !== undefined ? { labels } : {}),
  };
}

export interface ActionInvokeReply {
  readonly runId: string;
  /** Never sent by current servers (has_output = 0). */
  readonly output?: Uint8Array;
}

/** `[run_id:str16][has_output:u8]([output:blob32])?` */
export function encodeActionInvokeReply(reply: ActionInvokeReply): Uint8Array {
  const w = new ByteWriter(8 + reply.runId.length);
  w.bytes16(reply.runId);
  if (reply.output) w.u8(1).bytes32(reply.output);
  else w.u8(0);
  return w.finish();
}

/**
 * Accepts the str16 form (with its has_output byte) when it consumes the data exactly and the
 * length is 1-256; otherwise the whole data is the run id (legacy reply), as the Go SDK does.
 */
export function decodeActionInvokeReply(payload: Uint8Array): ActionInvokeReply {
  if (payload.length >= 3) {
    try {
      const r = new ByteReader(payload, 'action invoke reply');
      const len = r.u16('run_id length');
      if (len > 0 && len <= 256) {
        const runId = fromUtf8(r.bytes(len, 'run_id'));
        const has = r.u8('has_output');
        let output: Uint8Array | undefined;
        if (has === 1) output = r.bytes32('output');
        else if (has !== 0) throw new ProtocolError('bad has_output');
        r.end();
        return output ? { runId, output } : { runId };
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
    }
  }
  return { runId: fromUtf8(payload) };
}

// ---------------------------------------------------------------------------------------------
// ACTION_STATUS (0x302)

export interface ActionStatusRequest {
  readonly runId: string;
}

export function encodeActionStatus(req: ActionStatusRequest): OpPayload {
  return { key: utf8(req.runId) };
}

export function decodeActionStatus(body: RequestBody): ActionStatusRequest {
  return { runId: keyText(body) };
}

export interface ActionStatusReply {
  readonly runId: string;
  readonly status: number;
  readonly createdAt: bigint;
  readonly startedAt?: bigint;
  readonly completedAt?: bigint;
  /** The COMPLETE result of a completed run (`docs/protocol-decisions.md` #25). */
  readonly output?: Uint8Array;
  readonly errorMessage?: string;
  /** attempt − 1 (0 before the first claim). */
  readonly retryCount: number;
}

/**
 * Go layout (default): run id as str16; `profile: 'flo'`: run id with a u32 length (the newest
 * server's writer). The rest is identical.
 */
export function encodeActionStatusReply(reply: ActionStatusReply, profile: ActionReplyProfile = 'go'): Uint8Array {
  const w = new ByteWriter(64);
  if (profile === 'flo') w.bytes32(reply.runId);
  else w.bytes16(reply.runId);
  w.u8(reply.status).i64(reply.createdAt);
  if (reply.startedAt !== undefined) w.u8(1).i64(reply.startedAt);
  else w.u8(0);
  if (reply.completedAt !== undefined) w.u8(1).i64(reply.completedAt);
  else w.u8(0);
  if (reply.output !== undefined) w.u8(1).bytes32(reply.output);
  else w.u8(0);
  if (reply.errorMessage !== undefined) w.u8(1).bytes32(reply.errorMessage);
  else w.u8(0);
  w.u32(reply.retryCount);
  return w.finish();
}

function decodeActionStatusWith(payload: Uint8Array, wide: boolean): ActionStatusReply {
  const r = new ByteReader(payload, 'action status reply');
  const runId = wide ? r.string32('run_id') : r.string16('run_id');
  const status = r.u8('status');
  const createdAt = r.i64('created_at');
  const startedAt = readOptI64(r, 'started_at');
  const completedAt = readOptI64(r, 'completed_at');
  const output = readFlag(r, 'has_output') ? r.bytes32('output') : undefined;
  const errorMessage = readFlag(r, 'has_error') ? fromUtf8(r.bytes32('error_message')) : undefined;
  const retryCount = r.u32('retry_count');
  r.end();
  return {
    runId,
    status,
    createdAt,
    retryCount,
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(completedAt !== undefined ? { completedAt } : {}),
    ...(output !== undefined ? { output } : {}),
    ...(errorMessage !== undefined ? { errorMessage } : {}),
  };
}

/** Accepts both run-id widths; the one that consumes the data exactly wins (u16 tried first). */
export function decodeActionStatusReply(payload: Uint8Array): ActionStatusReply {
  try {
    return decodeActionStatusWith(payload, false);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    try {
      return decodeActionStatusWith(payload, true);
    } catch {
      throw e;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ACTION_LIST (0x303)

export interface ActionListRequest {
  /** Name prefix (key). */
  readonly prefix?: string;
  readonly limit?: number;
}

export function encodeActionList(req: ActionListRequest = {}): OpPayload {
  return { key: utf8(req.prefix ?? ''), value: new ByteWriter(4).u32(req.limit ?? ACTION_LIST_DEFAULT_LIMIT).finish() };
}

export function decodeActionList(body: RequestBody): { readonly prefix: string; readonly limit?: number } {
  const prefix = keyText(body);
  if (body.value.length >= 4) return { prefix, limit: new ByteReader(body.value).u32('limit') };
  return { prefix };
}

export interface ActionInfo {
  readonly name: string;
  readonly actionType: number;
  readonly version: number;
  readonly enabled: boolean;
}

export interface ActionListReply {
  readonly actions: readonly ActionInfo[];
  readonly hasMore: boolean;
  readonly cursor?: Uint8Array;
}

/** `[count:u32]([name:str16][blob32: type u8, version u32, enabled u8])*[has_more:u8][cursor:str16]` */
export function encodeActionListReply(reply: ActionListReply): Uint8Array {
  const w = new ByteWriter(64);
  w.u32(reply.actions.length);
  for (const a of reply.actions) {
    w.bytes16(a.name).u32(6).u8(a.actionType).u32(a.version).u8(a.enabled ? 1 : 0);
  }
  w.u8(reply.hasMore ? 1 : 0).bytes16(reply.cursor ?? EMPTY);
  return w.finish();
}

/** A 0-byte reply is an empty list (`docs/protocol-decisions.md` #16); the trailer may be absent. */
export function decodeActionListReply(payload: Uint8Array): ActionListReply {
  if (payload.length === 0) return { actions: [], hasMore: false };
  const r = new ByteReader(payload, 'action list reply');
  const n = r.u32('count');
  const actions: ActionInfo[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.string16('name');
    const v = new ByteReader(r.bytes32('action value'), 'action value');
    const actionType = v.u8('action_type');
    const version = v.remaining >= 4 ? v.u32('version') : 0;
    const enabled = v.remaining >= 1 ? v.u8('enabled') !== 0 : true;
    actions.push({ name, actionType, version, enabled });
  }
  if (r.done) return { actions, hasMore: false };
  const hasMore = r.u8('has_more') === 1;
  const cursor = r.bytes16('cursor');
  r.end();
  return cursor.length > 0 ? { actions, hasMore, cursor } : { actions, hasMore };
}

// ---------------------------------------------------------------------------------------------
// ACTION_LIST_RUNS (0x304)

export interface ActionListRunsRequest {
  /** Empty or absent = every action. */
  readonly action?: string;
  readonly limit?: number;
}

export function encodeActionListRuns(req: ActionListRunsRequest = {}): OpPayload {
  return { key: utf8(req.action ?? ''), value: new ByteWriter(4).u32(req.limit ?? ACTION_LIST_DEFAULT_LIMIT).finish() };
}

/** `limit` defaults to 100 when the value is shorter than 4 bytes. */
export function decodeActionListRuns(body: RequestBody): { readonly action: string; readonly limit: number } {
  const limit = body.value.length >= 4 ? new ByteReader(body.value).u32('limit') : ACTION_LIST_DEFAULT_LIMIT;
  return { action: keyText(body), limit };
}

export interface ActionRunSummary {
  readonly runId: string;
  readonly action: string;
  readonly status: number;
  readonly createdAt: bigint;
  readonly startedAt?: bigint;
  readonly completedAt?: bigint;
}

/** `[count:u32]([run_id:str16][action:str16][status:u8][created:i64][started:opt(i64)][completed:opt(i64)])*`, no trailer. */
export function encodeActionListRunsReply(runs: readonly ActionRunSummary[]): Uint8Array {
  const w = new ByteWriter(64);
  w.u32(runs.length);
  for (const run of runs) {
    w.bytes16(run.runId).bytes16(run.action).u8(run.status).i64(run.createdAt);
    if (run.startedAt !== undefined) w.u8(1).i64(run.startedAt);
    else w.u8(0);
    if (run.completedAt !== undefined) w.u8(1).i64(run.completedAt);
    else w.u8(0);
  }
  return w.finish();
}

/** A 0-byte reply is an empty list; a `[has_more][cursor_len]` trailer is tolerated. */
export function decodeActionListRunsReply(payload: Uint8Array): ActionRunSummary[] {
  if (payload.length === 0) return [];
  const r = new ByteReader(payload, 'action list runs reply');
  const n = r.u32('count');
  const runs: ActionRunSummary[] = [];
  for (let i = 0; i < n; i++) {
    const runId = r.string16('run_id');
    const action = r.string16('action');
    const status = r.u8('status');
    const createdAt = r.i64('created_at');
    const startedAt = readOptI64(r, 'started_at');
    const completedAt = readOptI64(r, 'completed_at');
    runs.push({
      runId,
      action,
      status,
      createdAt,
      ...(startedAt !== undefined ? { startedAt } : {}),
      ...(completedAt !== undefined ? { completedAt } : {}),
    });
  }
  if (!r.done) {
    r.u8('has_more');
    r.bytes16('cursor');
  }
  r.end();
  return runs;
}

// ---------------------------------------------------------------------------------------------
// ACTION_DELETE (0x305)

export interface ActionDeleteRequest {
  readonly name: string;
}

export function encodeActionDelete(req: ActionDeleteRequest): OpPayload {
  return { key: utf8(req.name) };
}

export function decodeActionDelete(body: RequestBody): ActionDeleteRequest {
  return { name: keyText(body) };
}
