/**
 * Payload codecs for the worker side of actions: task dispatch (ACTION_AWAIT / COMPLETE / FAIL /
 * TOUCH, 0x306-0x309) and the worker registry (WORKER_*, 0x320-0x325).
 */
import { ByteWriter, EMPTY, fromUtf8, utf8 } from './bytes.js';
import { ByteReader } from './byte-reader.js';
import { ProtocolError } from './errors.js';
import type { OpPayload, RequestBody } from './frame.js';
import { Opt, OptionsBuilder, OptionsReader } from './options.js';
import type { ActionCaller } from './action.js';

export const WORKER_DEFAULT_BLOCK_MS = 30_000;
export const WORKER_DEFAULT_EXTEND_MS = 30_000;
export const WORKER_DEFAULT_MAX_CONCURRENCY = 10;
export const DEFAULT_ACTION_OUTCOME = 'success';

/** Worker type byte. */
export const WorkerType = { Action: 0, Stream: 1 } as const;
/** Process kind byte. */
export const ProcessKind = { Action: 0, StreamConsumer: 1 } as const;
/** Worker status byte. */
export const WorkerStatus = { Active: 0, Idle: 1, Draining: 2, Unhealthy: 3 } as const;

function keyText(body: RequestBody): string {
  return fromUtf8(body.key);
}

function readOptStr16(r: ByteReader, field: string): string | undefined {
  if (r.remaining === 0) return undefined;
  const f = r.u8(`has_${field}`);
  if (f === 0) return undefined;
  if (f !== 1) throw new ProtocolError(`invalid has_${field} flag ${f}`);
  return r.string16(field);
}

function writeOptStr16(w: ByteWriter, v: string | undefined): void {
  if (v === undefined) w.u8(0);
  else w.u8(1).bytes16(v);
}

// ---------------------------------------------------------------------------------------------
// ACTION_AWAIT (0x306)

export interface ActionAwaitRequest {
  readonly workerId: string;
  /** Action names the worker can run (at least one). */
  readonly actions: readonly string[];
  /** Long-poll time; 0 = no wait (`docs/protocol-decisions.md` #14). Sent as option 0x17 when given. */
  readonly blockMs?: number;
  /** Option 0x50 (u64), sent only when given; servers ignore it. */
  readonly timeoutMs?: bigint | number;
}

export interface DecodedActionAwait {
  readonly workerId: string;
  readonly actions: readonly string[];
  /** Absent → the server's default (30 000). */
  readonly blockMs?: number;
  readonly timeoutMs?: bigint;
}

/** Key = worker id; value = `[n:u32]([name:str16])*`; options BlockMS (u32) then TimeoutMS (u64). */
export function encodeActionAwait(req: ActionAwaitRequest): OpPayload {
  const w = new ByteWriter(64);
  w.u32(req.actions.length);
  for (const a of req.actions) w.bytes16(a);
  const o = new OptionsBuilder();
  if (req.blockMs !== undefined) o.u32(Opt.BlockMS, req.blockMs);
  if (req.timeoutMs !== undefined) o.u64(Opt.TimeoutMS, req.timeoutMs);
  return { key: utf8(req.workerId), value: w.finish(), ...(o.length > 0 ? { options: o.build() } : {}) };
}

export function decodeActionAwait(body: RequestBody): DecodedActionAwait {
  const r = new ByteReader(body.value, 'action await value');
  const actions: string[] = [];
  if (r.remaining > 0) {
    const n = r.u32('count');
    for (let i = 0; i < n; i++) actions.push(r.string16('action name'));
  }
  const o = new OptionsReader(body.options);
  const blockMs = o.u32(Opt.BlockMS);
  const timeoutMs = o.u64(Opt.TimeoutMS);
  return {
    workerId: keyText(body),
    actions,
    ...(blockMs !== undefined ? { blockMs } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

/** Reply data of ACTION_AWAIT. */
export interface TaskAssignment {
  /** The action run id. */
  readonly taskId: string;
  /** The action name. */
  readonly taskType: string;
  readonly createdAt: bigint;
  /** 1 on first delivery. */
  readonly attempt: number;
  /** Present iff a workflow step created the run. */
  readonly caller?: ActionCaller;
  readonly payload: Uint8Array;
}

/** `[task_id:str16][type:str16][created:i64][attempt:u32][caller:opt(run:str16,wf:str16)][payload:rest]`; none → 0 bytes. */
export function encodeActionAwaitReply(task: TaskAssignment | null | undefined): Uint8Array {
  if (!task) return EMPTY;
  const w = new ByteWriter(64 + task.payload.length);
  w.bytes16(task.taskId).bytes16(task.taskType).i64(task.createdAt).u32(task.attempt);
  if (task.caller) w.u8(1).bytes16(task.caller.runId).bytes16(task.caller.workflowName);
  else w.u8(0);
  w.bytes(task.payload);
  return w.finish();
}

/** 0 bytes → `null` (no task within the block time). */
export function decodeActionAwaitReply(payload: Uint8Array): TaskAssignment | null {
  if (payload.length === 0) return null;
  const r = new ByteReader(payload, 'task assignment');
  const taskId = r.string16('task_id');
  const taskType = r.string16('task_type');
  const createdAt = r.i64('created_at');
  const attempt = r.u32('attempt');
  const has = r.u8('has_caller');
  let caller: ActionCaller | undefined;
  if (has === 1) caller = { runId: r.string16('caller_run_id'), workflowName: r.string16('caller_workflow_name') };
  else if (has !== 0) throw new ProtocolError(`invalid has_caller flag ${has}`);
  const body = r.rest();
  return caller ? { taskId, taskType, createdAt, attempt, caller, payload: body } : { taskId, taskType, createdAt, attempt, payload: body };
}

// ---------------------------------------------------------------------------------------------
// ACTION_COMPLETE (0x307)

export interface ActionCompleteRequest {
  readonly workerId: string;
  readonly action: string;
  readonly taskId: string;
  /** Default `success`. */
  readonly outcome?: string;
  /** At most 65 535 bytes (u16 length; `docs/protocol-decisions.md` #29). */
  readonly result?: Uint8Array;
}

export interface DecodedActionComplete {
  readonly workerId: string;
  readonly action: string;
  readonly taskId: string;
  readonly outcome: string;
  readonly result: Uint8Array;
}

/** Value = `[action:str16][task_id:str16][outcome:str16][result:str16]`. */
export function encodeActionComplete(req: ActionCompleteRequest): OpPayload {
  const result = req.result ?? EMPTY;
  if (result.length > 0xffff) throw new RangeError(`action result too long: ${result.length} bytes (max 65535)`);
  const w = new ByteWriter(32 + result.length);
  w.bytes16(req.action).bytes16(req.taskId).bytes16(req.outcome ?? DEFAULT_ACTION_OUTCOME).bytes16(result);
  return { key: utf8(req.workerId), value: w.finish() };
}

/** An empty outcome reads as `success`; a missing result as empty. */
export function decodeActionComplete(body: RequestBody): DecodedActionComplete {
  const r = new ByteReader(body.value, 'action complete value');
  const action = r.string16('action');
  const taskId = r.string16('task_id');
  const outcome = r.remaining > 0 ? r.string16('outcome') : '';
  const result = r.remaining > 0 ? r.bytes16('result') : EMPTY;
  return { workerId: keyText(body), action, taskId, outcome: outcome || DEFAULT_ACTION_OUTCOME, result };
}

// ---------------------------------------------------------------------------------------------
// ACTION_FAIL (0x308)

export interface ActionFailRequest {
  readonly workerId: string;
  readonly action: string;
  readonly taskId: string;
  /** Ask for redelivery (default false, as Go without options). */
  readonly retry?: boolean;
  readonly error?: string;
}

export interface DecodedActionFail {
  readonly workerId: string;
  readonly action: string;
  readonly taskId: string;
  readonly retry: boolean;
  readonly error: string;
}

/** Value = `[action:str16][task_id:str16][retry:u8][error:rest]`. */
export function encodeActionFail(req: ActionFailRequest): OpPayload {
  const w = new ByteWriter(64);
  w.bytes16(req.action).bytes16(req.taskId).u8(req.retry ? 1 : 0).bytes(utf8(req.error ?? ''));
  return { key: utf8(req.workerId), value: w.finish() };
}

export function decodeActionFail(body: RequestBody): DecodedActionFail {
  const r = new ByteReader(body.value, 'action fail value');
  const action = r.string16('action');
  const taskId = r.string16('task_id');
  const retry = r.remaining > 0 ? r.u8('retry') === 1 : false;
  const error = fromUtf8(r.rest());
  return { workerId: keyText(body), action, taskId, retry, error };
}

// ---------------------------------------------------------------------------------------------
// ACTION_TOUCH (0x309)

export interface ActionTouchRequest {
  readonly workerId: string;
  readonly action: string;
  readonly taskId: string;
  /** Default 30 000. */
  readonly extendMs?: number;
}

/** Value = `[action:str16][task_id:str16][extend_ms:u32]`. */
export function encodeActionTouch(req: ActionTouchRequest): OpPayload {
  const w = new ByteWriter(64);
  w.bytes16(req.action).bytes16(req.taskId).u32(req.extendMs ?? WORKER_DEFAULT_EXTEND_MS);
  return { key: utf8(req.workerId), value: w.finish() };
}

/** A missing extend_ms reads as the default 30 000. */
export function decodeActionTouch(body: RequestBody): Required<ActionTouchRequest> {
  const r = new ByteReader(body.value, 'action touch value');
  const action = r.string16('action');
  const taskId = r.string16('task_id');
  const extendMs = r.remaining >= 4 ? r.u32('extend_ms') : WORKER_DEFAULT_EXTEND_MS;
  return { workerId: keyText(body), action, taskId, extendMs };
}

// ---------------------------------------------------------------------------------------------
// WORKER_REGISTER (0x320)

export interface WorkerProcess {
  readonly name: string;
  /** 0 action, 1 stream consumer (`stream/group`). */
  readonly kind: number;
}

export interface WorkerRegisterRequest {
  readonly workerId: string;
  /** Default 0 (action). */
  readonly workerType?: number;
  /** Default 10. */
  readonly maxConcurrency?: number;
  readonly processes?: readonly WorkerProcess[];
  /** JSON object text: the worker's labels. */
  readonly metadata?: string;
  readonly machineId?: string;
}

export interface DecodedWorkerRegister {
  readonly workerId: string;
  readonly workerType: number;
  readonly maxConcurrency: number;
  readonly processes: readonly WorkerProcess[];
  readonly metadata?: string;
  readonly machineId?: string;
}

/** Value = `[type:u8][max_conc:u32][n:u16]([name:str16][kind:u8])*[metadata:opt(str16)][machine:opt(str16)]`. */
export function encodeWorkerRegister(req: WorkerRegisterRequest): OpPayload {
  const processes = req.processes ?? [];
  const w = new ByteWriter(64);
  w.u8(req.workerType ?? WorkerType.Action).u32(req.maxConcurrency ?? WORKER_DEFAULT_MAX_CONCURRENCY).u16(processes.length);
  for (const p of processes) w.bytes16(p.name).u8(p.kind);
  writeOptStr16(w, req.metadata);
  writeOptStr16(w, req.machineId);
  return { key: utf8(req.workerId), value: w.finish() };
}

export function decodeWorkerRegister(body: RequestBody): DecodedWorkerRegister {
  const r = new ByteReader(body.value, 'worker register value');
  const workerType = r.remaining > 0 ? r.u8('worker_type') : WorkerType.Action;
  const maxConcurrency = r.remaining > 0 ? r.u32('max_concurrency') : WORKER_DEFAULT_MAX_CONCURRENCY;
  const processes: WorkerProcess[] = [];
  if (r.remaining > 0) {
    const n = r.u16('process_count');
    for (let i = 0; i < n; i++) processes.push({ name: r.string16('process name'), kind: r.u8('process kind') });
  }
  const metadata = readOptStr16(r, 'metadata');
  const machineId = readOptStr16(r, 'machine_id');
  return {
    workerId: keyText(body),
    workerType,
    maxConcurrency,
    processes,
    ...(metadata !== undefined ? { metadata } : {}),
    ...(machineId !== undefined ? { machineId } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// WORKER_HEARTBEAT (0x321)

export interface WorkerHeartbeatRequest {
  readonly workerId: string;
  readonly currentLoad?: number;
}

export function encodeWorkerHeartbeat(req: WorkerHeartbeatRequest): OpPayload {
  return { key: utf8(req.workerId), value: new ByteWriter(4).u32(req.currentLoad ?? 0).finish() };
}

/** A value shorter than 4 bytes reads as load 0. */
export function decodeWorkerHeartbeat(body: RequestBody): Required<WorkerHeartbeatRequest> {
  const currentLoad = body.value.length >= 4 ? new ByteReader(body.value).u32('current_load') : 0;
  return { workerId: keyText(body), currentLoad };
}

/** Reply `[status:u8]`. */
export function encodeWorkerHeartbeatReply(status: number): Uint8Array {
  return Uint8Array.of(status);
}

export function decodeWorkerHeartbeatReply(payload: Uint8Array): number {
  const r = new ByteReader(payload, 'worker heartbeat reply');
  const status = r.u8('status');
  r.end();
  return status;
}

// ---------------------------------------------------------------------------------------------
// WORKER_DEREGISTER (0x322), WORKER_DRAIN (0x325), WORKER_INFO (0x324): key only

export interface WorkerIdRequest {
  readonly workerId: string;
}

export function encodeWorkerDeregister(req: WorkerIdRequest): OpPayload {
  return { key: utf8(req.workerId) };
}
export function decodeWorkerDeregister(body: RequestBody): WorkerIdRequest {
  return { workerId: keyText(body) };
}
export function encodeWorkerDrain(req: WorkerIdRequest): OpPayload {
  return { key: utf8(req.workerId) };
}
export function decodeWorkerDrain(body: RequestBody): WorkerIdRequest {
  return { workerId: keyText(body) };
}
export function encodeWorkerInfo(req: WorkerIdRequest): OpPayload {
  return { key: utf8(req.workerId) };
}
export function decodeWorkerInfo(body: RequestBody): WorkerIdRequest {
  return { workerId: keyText(body) };
}

// ---------------------------------------------------------------------------------------------
// WORKER_LIST (0x323) and the worker record of LIST / INFO replies

export interface WorkerListRequest {
  readonly limit?: number;
}

export function encodeWorkerList(req: WorkerListRequest = {}): OpPayload {
  return { value: new ByteWriter(4).u32(req.limit ?? 100).finish() };
}

export function decodeWorkerList(body: RequestBody): WorkerListRequest {
  return body.value.length >= 4 ? { limit: new ByteReader(body.value).u32('limit') } : {};
}

export interface WorkerProcessInfo extends WorkerProcess {
  readonly runCount: bigint;
  readonly failCount: bigint;
  readonly lastRunAt: bigint;
}

export interface WorkerRecord {
  readonly workerId: string;
  readonly workerType: number;
  readonly status: number;
  readonly tasksCompleted: bigint;
  readonly tasksFailed: bigint;
  readonly currentLoad: number;
  readonly maxConcurrency: number;
  readonly registeredAt: bigint;
  readonly lastHeartbeat: bigint;
  readonly processes: readonly WorkerProcessInfo[];
  readonly metadata?: string;
  readonly machineId?: string;
}

function writeWorkerRecord(w: ByteWriter, rec: WorkerRecord): void {
  w.bytes16(rec.workerId)
    .u8(rec.workerType)
    .u8(rec.status)
    .u64(rec.tasksCompleted)
    .u64(rec.tasksFailed)
    .u32(rec.currentLoad)
    .u32(rec.maxConcurrency)
    .i64(rec.registeredAt)
    .i64(rec.lastHeartbeat)
    .u16(rec.processes.length);
  for (const p of rec.processes) w.bytes16(p.name).u8(p.kind).u64(p.runCount).u64(p.failCount).i64(p.lastRunAt);
  writeOptStr16(w, rec.metadata);
  writeOptStr16(w, rec.machineId);
}

function readWorkerRecord(r: ByteReader): WorkerRecord {
  const workerId = r.string16('worker id');
  const workerType = r.u8('worker_type');
  const status = r.u8('status');
  const tasksCompleted = r.u64('tasks_completed');
  const tasksFailed = r.u64('tasks_failed');
  const currentLoad = r.u32('current_load');
  const maxConcurrency = r.u32('max_concurrency');
  const registeredAt = r.i64('registered_at');
  const lastHeartbeat = r.i64('last_heartbeat');
  const n = r.u16('process_count');
  const processes: WorkerProcessInfo[] = [];
  for (let i = 0; i < n; i++) {
    processes.push({
      name: r.string16('process name'),
      kind: r.u8('process kind'),
      runCount: r.u64('run_count'),
      failCount: r.u64('fail_count'),
      lastRunAt: r.i64('last_run_at'),
    });
  }
  const flagM = r.u8('has_metadata');
  const metadata = flagM === 1 ? r.string16('metadata') : undefined;
  const flagH = r.u8('has_machine_id');
  const machineId = flagH === 1 ? r.string16('machine_id') : undefined;
  return {
    workerId,
    workerType,
    status,
    tasksCompleted,
    tasksFailed,
    currentLoad,
    maxConcurrency,
    registeredAt,
    lastHeartbeat,
    processes,
    ...(metadata !== undefined ? { metadata } : {}),
    ...(machineId !== undefined ? { machineId } : {}),
  };
}

/** `[count:u32](record)*[has_more:u8][cursor_len:u16]` */
export function encodeWorkerListReply(workers: readonly WorkerRecord[]): Uint8Array {
  const w = new ByteWriter(128);
  w.u32(workers.length);
  for (const rec of workers) writeWorkerRecord(w, rec);
  w.u8(0).u16(0);
  return w.finish();
}

/** 0 bytes → empty; the trailer may be absent. */
export function decodeWorkerListReply(payload: Uint8Array): WorkerRecord[] {
  if (payload.length === 0) return [];
  const r = new ByteReader(payload, 'worker list reply');
  const n = r.u32('count');
  const out: WorkerRecord[] = [];
  for (let i = 0; i < n; i++) out.push(readWorkerRecord(r));
  if (!r.done) {
    r.u8('has_more');
    r.bytes16('cursor');
  }
  r.end();
  return out;
}

/** One record, no trailer. */
export function encodeWorkerInfoReply(rec: WorkerRecord): Uint8Array {
  const w = new ByteWriter(128);
  writeWorkerRecord(w, rec);
  return w.finish();
}

export function decodeWorkerInfoReply(payload: Uint8Array): WorkerRecord {
  const r = new ByteReader(payload, 'worker info reply');
  const rec = readWorkerRecord(r);
  r.end();
  return rec;
}
