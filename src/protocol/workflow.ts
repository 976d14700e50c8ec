/**
 * Payload codecs for the workflow operations (0x340-0x34A) and the client-side Sync helpers.
 */
import { ByteWriter, EMPTY, fromUtf8, utf8 } from './bytes.js';
import { ByteReader } from './byte-reader.js';
import { ProtocolError } from './errors.js';
import type { OpPayload, RequestBody } from './frame.js';

export const WORKFLOW_LATEST_VERSION = 'latest';
export const WORKFLOW_DEFAULT_LIST_LIMIT = 100;
export const WORKFLOW_DEFAULT_HISTORY_LIMIT = 100;

/** Workflow run status byte. */
export const WorkflowRunStatus = {
  Pending: 0,
  Running: 1,
  Waiting: 2,
  Completed: 3,
  Failed: 4,
  Cancelled: 5,
  TimedOut: 6,
} as const;
export type WorkflowRunStatusCode = (typeof WorkflowRunStatus)[keyof typeof WorkflowRunStatus];

export const WORKFLOW_RUN_STATUS_NAMES = ['pending', 'running', 'waiting', 'completed', 'failed', 'cancelled', 'timed_out'] as const;
/** The status of a workflow run, as a lowercase name. */
export type WorkflowRunStatusName = (typeof WORKFLOW_RUN_STATUS_NAMES)[number];

/** Lowercase wire name (`docs/protocol-decisions.md` #35); unknown codes → `unknown`. */
export function workflowRunStatusName(status: number): WorkflowRunStatusName | 'unknown' {
  return WORKFLOW_RUN_STATUS_NAMES[status] ?? 'unknown';
}

/** Status code for a name (case-insensitive); undefined when unknown. */
export function workflowRunStatusFromName(name: string): WorkflowRunStatusCode | undefined {
  const i = (WORKFLOW_RUN_STATUS_NAMES as readonly string[]).indexOf(name.toLowerCase());
  return i < 0 ? undefined : (i as WorkflowRunStatusCode);
}

export function isTerminalWorkflowStatus(status: number): boolean {
  return status >= WorkflowRunStatus.Completed && status <= WorkflowRunStatus.TimedOut;
}

function keyText(body: RequestBody): string {
  return fromUtf8(body.key);
}

function readFlag(r: ByteReader, field: string): boolean {
  const f = r.u8(field);
  if (f > 1) throw new ProtocolError(`invalid ${field} flag ${f}`);
  return f === 1;
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_CREATE (0x340)

export interface WorkflowCreateRequest {
  readonly name: string;
  /** YAML or JSON text. */
  readonly definition: Uint8Array | string;
}

export function encodeWorkflowCreate(req: WorkflowCreateRequest): OpPayload {
  return { key: utf8(req.name), value: utf8(req.definition) };
}

export function decodeWorkflowCreate(body: RequestBody): { readonly name: string; readonly definition: Uint8Array } {
  return { name: keyText(body), definition: body.value };
}

/** Reply data = the workflow name. */
export function encodeWorkflowCreateReply(name: string): Uint8Array {
  return utf8(name);
}
export function decodeWorkflowCreateReply(payload: Uint8Array): string {
  return fromUtf8(payload);
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_GET_DEFINITION (0x347)

export interface WorkflowGetDefinitionRequest {
  readonly name: string;
  /** Sent as the raw value when given. */
  readonly version?: string;
}

export function encodeWorkflowGetDefinition(req: WorkflowGetDefinitionRequest): OpPayload {
  return req.version ? { key: utf8(req.name), value: utf8(req.version) } : { key: utf8(req.name) };
}

export function decodeWorkflowGetDefinition(body: RequestBody): WorkflowGetDefinitionRequest {
  return body.value.length > 0 ? { name: keyText(body), version: fromUtf8(body.value) } : { name: keyText(body) };
}

/** Reply data = the stored definition text, byte for byte. */
export function encodeWorkflowGetDefinitionReply(definition: Uint8Array | string): Uint8Array {
  return utf8(definition);
}
export function decodeWorkflowGetDefinitionReply(payload: Uint8Array): string {
  return fromUtf8(payload);
}

// ---------------------------------------------------------------------------------------------
// Sync (client side, as the Go SDK's): GET_DEFINITION, then CREATE unless the stored version is the same

export interface WorkflowDefinitionHeader {
  readonly name: string;
  readonly version: string;
  readonly description: string;
}

/** The Go SDK's definition line scanner: the value of the first `field:` / `"field":` line (trimmed, unquoted). */
export function scanField(lines: readonly string[], field: string): string | undefined {
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let rest: string | undefined;
    if (line.startsWith(`${field}:`)) rest = line.slice(field.length + 1);
    else if (line.startsWith(`"${field}"`)) {
      const after = line.slice(field.length + 2).trimStart();
      if (after.startsWith(':')) rest = after.slice(1);
    }
    if (rest === undefined) continue;
    let v = rest.trim();
    if (v.endsWith(',')) v = v.slice(0, -1).trim();
    if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) v = v.slice(1, -1);
    return v;
  }
  return undefined;
}

/**
 * The Go SDK's line scanner: the first line (trimmed, blank and `#` lines skipped) that starts with
 * `field:` or `"field":`; quotes and a JSON trailing comma removed. Name and version are required.
 */
export function scanWorkflowDefinitionHeader(text: string | Uint8Array): WorkflowDefinitionHeader {
  const lines = (typeof text === 'string' ? text : fromUtf8(text)).split(/\r?\n/);
  const name = scanField(lines, 'name');
  const version = scanField(lines, 'version');
  if (!name) throw new ProtocolError('workflow definition has no name');
  if (!version) throw new ProtocolError('workflow definition has no version');
  return { name, version, description: scanField(lines, 'description') ?? '' };
}

export type WorkflowSyncAction = 'created' | 'updated' | 'unchanged';

export interface WorkflowSyncResult extends WorkflowDefinitionHeader {
  readonly action: WorkflowSyncAction;
}

/**
 * Decides a Sync from the GET_DEFINITION answer: `stored` is the reply text, or `undefined` when it
 * was NOT_FOUND. `unchanged` means no CREATE is sent.
 */
export function workflowSyncAction(local: WorkflowDefinitionHeader, stored: string | Uint8Array | undefined): WorkflowSyncAction {
  if (stored === undefined) return 'created';
  let storedVersion: string | undefined;
  try {
    storedVersion = scanWorkflowDefinitionHeader(stored).version;
  } catch {
    storedVersion = undefined;
  }
  return storedVersion === local.version ? 'unchanged' : 'updated';
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_START (0x341)

export interface WorkflowStartRequest {
  readonly name: string;
  readonly input?: Uint8Array;
  /** Default `latest`. */
  readonly version?: string;
  readonly idempotencyKey?: string;
  /** Explicit run id, used verbatim. */
  readonly runId?: string;
}

export interface DecodedWorkflowStart {
  readonly name: string;
  /** `latest` when sent empty. */
  readonly version: string;
  readonly idempotencyKey?: string;
  readonly runId?: string;
  /** As sent (the server substitutes `{}` for an empty input). */
  readonly input: Uint8Array;
}

/** Value = `[version:str16][idem:opt(str16)][run_id:opt(str16)][input:rest]`. */
export function encodeWorkflowStart(req: WorkflowStartRequest): OpPayload {
  const input = req.input ?? EMPTY;
  const w = new ByteWriter(32 + input.length);
  w.bytes16(req.version || WORKFLOW_LATEST_VERSION);
  if (req.idempotencyKey !== undefined) w.u8(1).bytes16(req.idempotencyKey);
  else w.u8(0);
  if (req.runId !== undefined) w.u8(1).bytes16(req.runId);
  else w.u8(0);
  w.bytes(input);
  return { key: utf8(req.name), value: w.finish() };
}

export function decodeWorkflowStart(body: RequestBody): DecodedWorkflowStart {
  const r = new ByteReader(body.value, 'workflow start value');
  const version = r.remaining > 0 ? r.string16('version') : '';
  const idempotencyKey = r.remaining > 0 && readFlag(r, 'has_idempotency_key') ? r.string16('idempotency_key') : undefined;
  const runId = r.remaining > 0 && readFlag(r, 'has_run_id') ? r.string16('run_id') : undefined;
  const input = r.rest();
  return {
    name: keyText(body),
    version: version || WORKFLOW_LATEST_VERSION,
    input,
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    ...(runId !== undefined ? { runId } : {}),
  };
}

/** Reply data = the run id, raw. */
export function encodeWorkflowStartReply(runId: string): Uint8Array {
  return utf8(runId);
}
export function decodeWorkflowStartReply(payload: Uint8Array): string {
  return fromUtf8(payload);
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_SIGNAL (0x342)

export interface WorkflowSignalRequest {
  readonly runId: string;
  readonly signal: string;
  readonly payload?: Uint8Array;
}

/** Value = `[name:str16][payload:rest]`. */
export function encodeWorkflowSignal(req: WorkflowSignalRequest): OpPayload {
  const payload = req.payload ?? EMPTY;
  const w = new ByteWriter(8 + payload.length);
  w.bytes16(req.signal).bytes(payload);
  return { key: utf8(req.runId), value: w.finish() };
}

/** Throws `ProtocolError` `signal type is required` (value < 2 bytes) or `malformed signal`. */
export function decodeWorkflowSignal(body: RequestBody): Required<WorkflowSignalRequest> {
  if (body.value.length < 2) throw new ProtocolError('signal type is required');
  const r = new ByteReader(body.value, 'workflow signal value');
  const len = r.u16('signal length');
  if (len > r.remaining) throw new ProtocolError('malformed signal');
  const signal = fromUtf8(r.bytes(len));
  return { runId: keyText(body), signal, payload: r.rest() };
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_CANCEL (0x343)

export interface WorkflowCancelRequest {
  readonly runId: string;
  /** Go sends none. */
  readonly reason?: string;
}

export function encodeWorkflowCancel(req: WorkflowCancelRequest): OpPayload {
  return req.reason ? { key: utf8(req.runId), value: utf8(req.reason) } : { key: utf8(req.runId) };
}

export function decodeWorkflowCancel(body: RequestBody): WorkflowCancelRequest {
  return body.value.length > 0 ? { runId: keyText(body), reason: fromUtf8(body.value) } : { runId: keyText(body) };
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_STATUS (0x344)

export interface WorkflowRunIdRequest {
  readonly runId: string;
}

export function encodeWorkflowStatus(req: WorkflowRunIdRequest): OpPayload {
  return { key: utf8(req.runId) };
}
export function decodeWorkflowStatus(body: RequestBody): WorkflowRunIdRequest {
  return { runId: keyText(body) };
}

export interface WorkflowStatusReply {
  readonly runId: string;
  readonly workflow: string;
  readonly version: string;
  /** `WorkflowRunStatus` code. */
  readonly status: number;
  readonly currentStep: string;
  readonly input: Uint8Array;
  readonly createdAt: bigint;
  readonly startedAt?: bigint;
  readonly completedAt?: bigint;
  /** Signal name, or a synthetic `_action_done:<id>` / `_child_done:<id>`. */
  readonly waitSignal?: string;
  readonly output?: Uint8Array;
}

/** All 11 fields, always ending with the `has_output` byte (the Go SDK requires it). */
export function encodeWorkflowStatusReply(s: WorkflowStatusReply): Uint8Array {
  const w = new ByteWriter(128 + s.input.length + (s.output?.length ?? 0));
  w.bytes16(s.runId).bytes16(s.workflow).bytes16(s.version).u8(s.status).bytes16(s.currentStep).bytes32(s.input).i64(s.createdAt);
  if (s.startedAt !== undefined) w.u8(1).i64(s.startedAt);
  else w.u8(0);
  if (s.completedAt !== undefined) w.u8(1).i64(s.completedAt);
  else w.u8(0);
  if (s.waitSignal !== undefined) w.u8(1).bytes16(s.waitSignal);
  else w.u8(0);
  if (s.output !== undefined) w.u8(1).bytes32(s.output);
  else w.u8(0);
  return w.finish();
}

/** Also accepts the older 10-field layout (no `has_output` byte): a status without output (#37). */
export function decodeWorkflowStatusReply(payload: Uint8Array): WorkflowStatusReply {
  const r = new ByteReader(payload, 'workflow status reply');
  const runId = r.string16('run_id');
  const workflow = r.string16('workflow');
  const version = r.string16('version');
  const status = r.u8('status');
  const currentStep = r.string16('current_step');
  const input = r.bytes32('input');
  const createdAt = r.i64('created_at');
  const startedAt = readFlag(r, 'has_started') ? r.i64('started_at') : undefined;
  const completedAt = readFlag(r, 'has_completed') ? r.i64('completed_at') : undefined;
  const waitSignal = readFlag(r, 'has_wait_signal') ? r.string16('wait_signal') : undefined;
  const output = !r.done && readFlag(r, 'has_output') ? r.bytes32('output') : undefined;
  r.end();
  return {
    runId,
    workflow,
    version,
    status,
    currentStep,
    input,
    createdAt,
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(completedAt !== undefined ? { completedAt } : {}),
    ...(waitSignal !== undefined ? { waitSignal } : {}),
    ...(output !== undefined ? { output } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_HISTORY (0x345)

/** The event types of a workflow run's history. */
export const WORKFLOW_HISTORY_EVENT_TYPES = [
  'workflow_started',
  'schedule_started',
  'trigger_started',
  'child_started',
  'step_started',
  'awaiting_action',
  'action_completed',
  'action_lost',
  'action_not_found',
  'action_disabled',
  'plan_not_found',
  'plan_executor_start',
  'plan_executor_success',
  'plan_executor_retry',
  'plan_executor_exhausted',
  'plan_breaker_skip',
  'awaiting_child',
  'child_completed',
  'child_lost',
  'child_not_found',
  'poll_scheduled',
  'poll_exhausted',
  'step_retry',
  'step_completed',
  'waiting_for_signal',
  'signal_received',
  'signal_matched',
  'signal_timeout',
  'workflow_completed',
  'workflow_failed',
  'workflow_cancelled',
  'workflow_timed_out',
] as const;

/** The name of a workflow history event (Flo's catalogue). */
export type WorkflowHistoryEventType = (typeof WORKFLOW_HISTORY_EVENT_TYPES)[number];

export function isWorkflowHistoryEventType(type: string): type is WorkflowHistoryEventType {
  return (WORKFLOW_HISTORY_EVENT_TYPES as readonly string[]).includes(type);
}

export interface WorkflowHistoryEvent {
  /** A catalogue type; unknown types from newer servers are kept as they are. */
  readonly type: WorkflowHistoryEventType | (string & {});
  /** Step label, action name, outcome, signal name, terminal name or input. */
  readonly detail: string;
  /** Unix ms. */
  readonly timestamp: bigint;
}

export interface WorkflowHistoryRequest {
  readonly runId: string;
  /** Go sends none (server default 100); when given it is sent as `[limit:u32]`. */
  readonly limit?: number;
}

export function encodeWorkflowHistory(req: WorkflowHistoryRequest): OpPayload {
  return req.limit !== undefined
    ? { key: utf8(req.runId), value: new ByteWriter(4).u32(req.limit).finish() }
    : { key: utf8(req.runId) };
}

export function decodeWorkflowHistory(body: RequestBody): Required<WorkflowHistoryRequest> {
  const limit = body.value.length >= 4 ? new ByteReader(body.value).u32('limit') : WORKFLOW_DEFAULT_HISTORY_LIMIT;
  return { runId: keyText(body), limit: limit === 0 ? WORKFLOW_DEFAULT_HISTORY_LIMIT : limit };
}

export interface WorkflowHistoryReply {
  readonly events: readonly WorkflowHistoryEvent[];
  readonly hasMore: boolean;
  readonly cursor?: string;
}

/** `[n:u32]([type:str16][detail:str16][ts:i64])*[has_more:u8][cursor:str16]` */
export function encodeWorkflowHistoryReply(reply: WorkflowHistoryReply): Uint8Array {
  const w = new ByteWriter(128);
  w.u32(reply.events.length);
  for (const e of reply.events) w.bytes16(e.type).bytes16(e.detail).i64(e.timestamp);
  w.u8(reply.hasMore ? 1 : 0).bytes16(reply.cursor ?? '');
  return w.finish();
}

/** 0 bytes → empty; the trailer may be absent. */
export function decodeWorkflowHistoryReply(payload: Uint8Array): WorkflowHistoryReply {
  if (payload.length === 0) return { events: [], hasMore: false };
  const r = new ByteReader(payload, 'workflow history reply');
  const n = r.u32('count');
  const events: WorkflowHistoryEvent[] = [];
  for (let i = 0; i < n; i++) {
    events.push({ type: r.string16('event type'), detail: r.string16('event detail'), timestamp: r.i64('event timestamp') });
  }
  if (r.done) return { events, hasMore: false };
  const hasMore = r.u8('has_more') === 1;
  const cursor = r.string16('cursor');
  r.end();
  return cursor ? { events, hasMore, cursor } : { events, hasMore };
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_LIST_RUNS (0x346)

export interface WorkflowListRunsRequest {
  /** Empty or absent = every workflow. */
  readonly workflow?: string;
  /** Default 100. */
  readonly limit?: number;
  /** Status name (`running`, `completed`, …); empty = any. */
  readonly status?: string;
  /** Run id of the last item of the previous page. */
  readonly cursor?: string;
  /** Case-insensitive substring. */
  readonly search?: string;
}

/** Value = `[limit:u32][status:str16][cursor:str16][search:str16]` (all four, as Go sends). */
export function encodeWorkflowListRuns(req: WorkflowListRunsRequest = {}): OpPayload {
  const w = new ByteWriter(32);
  w.u32(req.limit ?? WORKFLOW_DEFAULT_LIST_LIMIT).bytes16(req.status ?? '').bytes16(req.cursor ?? '').bytes16(req.search ?? '');
  return { key: utf8(req.workflow ?? ''), value: w.finish() };
}

/** Tolerates the older short forms (limit only, limit + status). */
export function decodeWorkflowListRuns(body: RequestBody): Required<WorkflowListRunsRequest> {
  const r = new ByteReader(body.value, 'workflow list runs value');
  const limit = r.remaining >= 4 ? r.u32('limit') : WORKFLOW_DEFAULT_LIST_LIMIT;
  const status = r.remaining > 0 ? r.string16('status') : '';
  const cursor = r.remaining > 0 ? r.string16('cursor') : '';
  const search = r.remaining > 0 ? r.string16('search') : '';
  return { workflow: keyText(body), limit: limit === 0 ? WORKFLOW_DEFAULT_LIST_LIMIT : limit, status, cursor, search };
}

export interface WorkflowRunSummary {
  readonly runId: string;
  readonly workflow: string;
  /** Lowercase status name. */
  readonly status: string;
  readonly createdAt: bigint;
}

export interface WorkflowListRunsReply {
  readonly runs: readonly WorkflowRunSummary[];
  readonly hasMore: boolean;
  /** Last run id of the page when hasMore. */
  readonly cursor?: string;
}

/** `[n:u32]([run_id:str16][workflow:str16][status:str16][created:i64])*[has_more:u8][cursor:str16]` */
export function encodeWorkflowListRunsReply(reply: WorkflowListRunsReply): Uint8Array {
  const w = new ByteWriter(128);
  w.u32(reply.runs.length);
  for (const run of reply.runs) w.bytes16(run.runId).bytes16(run.workflow).bytes16(run.status).i64(run.createdAt);
  w.u8(reply.hasMore ? 1 : 0).bytes16(reply.cursor ?? '');
  return w.finish();
}

export function decodeWorkflowListRunsReply(payload: Uint8Array): WorkflowListRunsReply {
  if (payload.length === 0) return { runs: [], hasMore: false };
  const r = new ByteReader(payload, 'workflow list runs reply');
  const n = r.u32('count');
  const runs: WorkflowRunSummary[] = [];
  for (let i = 0; i < n; i++) {
    runs.push({ runId: r.string16('run_id'), workflow: r.string16('workflow'), status: r.string16('status'), createdAt: r.i64('created_at') });
  }
  if (r.done) return { runs, hasMore: false };
  const hasMore = r.u8('has_more') === 1;
  const cursor = r.string16('cursor');
  r.end();
  return cursor ? { runs, hasMore, cursor } : { runs, hasMore };
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_DISABLE (0x348) / WORKFLOW_ENABLE (0x349)

export interface WorkflowNameRequest {
  readonly name: string;
}

export function encodeWorkflowDisable(req: WorkflowNameRequest): OpPayload {
  return { key: utf8(req.name) };
}
export function decodeWorkflowDisable(body: RequestBody): WorkflowNameRequest {
  return { name: keyText(body) };
}
export function encodeWorkflowEnable(req: WorkflowNameRequest): OpPayload {
  return { key: utf8(req.name) };
}
export function decodeWorkflowEnable(body: RequestBody): WorkflowNameRequest {
  return { name: keyText(body) };
}

// ---------------------------------------------------------------------------------------------
// WORKFLOW_LIST_DEFINITIONS (0x34A)

export interface WorkflowListDefinitionsRequest {
  /** Default 100. */
  readonly limit?: number;
  /** List starts after this name. */
  readonly cursor?: string;
}

/** Value = `[limit:u32][cursor:rest]`. */
export function encodeWorkflowListDefinitions(req: WorkflowListDefinitionsRequest = {}): OpPayload {
  const w = new ByteWriter(16);
  w.u32(req.limit ?? WORKFLOW_DEFAULT_LIST_LIMIT);
  if (req.cursor) w.bytes(utf8(req.cursor));
  return { value: w.finish() };
}

/** An empty value (the JS SDK's) reads as limit 100, no cursor. */
export function decodeWorkflowListDefinitions(body: RequestBody): Required<WorkflowListDefinitionsRequest> {
  if (body.value.length < 4) return { limit: WORKFLOW_DEFAULT_LIST_LIMIT, cursor: '' };
  const r = new ByteReader(body.value, 'workflow list definitions value');
  const limit = r.u32('limit');
  return { limit: limit === 0 ? WORKFLOW_DEFAULT_LIST_LIMIT : limit, cursor: fromUtf8(r.rest()) };
}

export interface WorkflowDefinitionSummary {
  readonly name: string;
  readonly version: string;
  readonly createdAt: bigint;
}

export interface WorkflowListDefinitionsReply {
  readonly definitions: readonly WorkflowDefinitionSummary[];
  readonly hasMore: boolean;
  readonly cursor?: string;
}

/** `[n:u32]([name:str16][version:str16][created:i64])*[has_more:u8][cursor:str16]` */
export function encodeWorkflowListDefinitionsReply(reply: WorkflowListDefinitionsReply): Uint8Array {
  const w = new ByteWriter(128);
  w.u32(reply.definitions.length);
  for (const d of reply.definitions) w.bytes16(d.name).bytes16(d.version).i64(d.createdAt);
  w.u8(reply.hasMore ? 1 : 0).bytes16(reply.cursor ?? '');
  return w.finish();
}

export function decodeWorkflowListDefinitionsReply(payload: Uint8Array): WorkflowListDefinitionsReply {
  if (payload.length === 0) return { definitions: [], hasMore: false };
  const r = new ByteReader(payload, 'workflow list definitions reply');
  const n = r.u32('count');
  const definitions: WorkflowDefinitionSummary[] = [];
  for (let i = 0; i < n; i++) definitions.push({ name: r.string16('name'), version: r.string16('version'), createdAt: r.i64('created_at') });
  if (r.done) return { definitions, hasMore: false };
  const hasMore = r.u8('has_more') === 1;
  const cursor = r.string16('cursor');
  r.end();
  return cursor ? { definitions, hasMore, cursor } : { definitions, hasMore };
}
