/**
 * Payload codecs for stream-processing jobs (0x360-0x367).
 * Binary layouts as the Go SDK parses them (the opcodes it sends, not the 0xC0-0xD1 of the server's
 * handler comments); LIST's trailer carries `has_more` and a cursor, which the Go SDK skips.
 */
import { ByteWriter, fromUtf8, utf8 } from './bytes.js';
import { ByteReader } from './byte-reader.js';
import { ProtocolError } from './errors.js';
import type { OpPayload, RequestBody } from './frame.js';
import { scanField } from './workflow.js';

/** Job status byte. */
export const ProcessingJobStatus = { Running: 0, Stopped: 1, Cancelled: 2, Failed: 3, Completed: 4 } as const;
const PROCESSING_STATUS_NAMES = ['running', 'stopped', 'cancelled', 'failed', 'completed'] as const;

/** A job status byte's lowercase name (`running`, `stopped`, ...); `unknown` for any other byte. */
export function processingJobStatusName(status: number): string {
  return PROCESSING_STATUS_NAMES[status] ?? 'unknown';
}

/** Lowercase names of the job states. */
export type ProcessingJobStatusName = (typeof PROCESSING_STATUS_NAMES)[number];

/** Cancelled, failed and completed jobs never run again (a stopped one can be restored). */
export function isTerminalProcessingStatus(status: number): boolean {
  return status === ProcessingJobStatus.Cancelled || status === ProcessingJobStatus.Failed || status === ProcessingJobStatus.Completed;
}

/**
 * The job name of a processing definition, as Sync needs it: the first top-level `name:` line
 * (so a source's or sink's nested `name:` is never taken), else the first such line at any depth
 * (JSON text). `ProtocolError` when there is none.
 */
export function scanProcessingDefinitionName(text: string | Uint8Array): string {
  const lines = (typeof text === 'string' ? text : fromUtf8(text)).split(/\r?\n/);
  const name = scanField(lines.filter((l) => !/^\s/.test(l)), 'name') || scanField(lines, 'name');
  if (!name) throw new ProtocolError('processing definition has no name');
  return name;
}

function keyText(body: RequestBody): string {
  return fromUtf8(body.key);
}

export interface ProcessingJobIdRequest {
  readonly jobId: string;
}

// SUBMIT (0x360): key empty, value = YAML; reply = job id, raw
export function encodeProcessingSubmit(req: { readonly definition: Uint8Array | string }): OpPayload {
  return { value: utf8(req.definition) };
}
export function decodeProcessingSubmit(body: RequestBody): { readonly definition: Uint8Array } {
  return { definition: body.value };
}
export function encodeProcessingSubmitReply(jobId: string): Uint8Array {
  return utf8(jobId);
}
export function decodeProcessingSubmitReply(payload: Uint8Array): string {
  return fromUtf8(payload);
}

// STOP (0x361), CANCEL (0x362), STATUS (0x363), SAVEPOINT (0x365): key = job id
export function encodeProcessingStop(req: ProcessingJobIdRequest): OpPayload {
  return { key: utf8(req.jobId) };
}
export function decodeProcessingStop(body: RequestBody): ProcessingJobIdRequest {
  return { jobId: keyText(body) };
}
export function encodeProcessingCancel(req: ProcessingJobIdRequest): OpPayload {
  return { key: utf8(req.jobId) };
}
export function decodeProcessingCancel(body: RequestBody): ProcessingJobIdRequest {
  return { jobId: keyText(body) };
}
export function encodeProcessingStatus(req: ProcessingJobIdRequest): OpPayload {
  return { key: utf8(req.jobId) };
}
export function decodeProcessingStatus(body: RequestBody): ProcessingJobIdRequest {
  return { jobId: keyText(body) };
}
export function encodeProcessingSavepoint(req: ProcessingJobIdRequest): OpPayload {
  return { key: utf8(req.jobId) };
}
export function decodeProcessingSavepoint(body: RequestBody): ProcessingJobIdRequest {
  return { jobId: keyText(body) };
}
export function encodeProcessingSavepointReply(savepointId: string): Uint8Array {
  return utf8(savepointId);
}
export function decodeProcessingSavepointReply(payload: Uint8Array): string {
  return fromUtf8(payload);
}

// RESTORE (0x366): value = savepoint id
export interface ProcessingRestoreRequest {
  readonly jobId: string;
  readonly savepointId: string;
}
export function encodeProcessingRestore(req: ProcessingRestoreRequest): OpPayload {
  return { key: utf8(req.jobId), value: utf8(req.savepointId) };
}
export function decodeProcessingRestore(body: RequestBody): ProcessingRestoreRequest {
  return { jobId: keyText(body), savepointId: fromUtf8(body.value) };
}

// RESCALE (0x367): value = [parallelism:u32]
export interface ProcessingRescaleRequest {
  readonly jobId: string;
  readonly parallelism: number;
}
export function encodeProcessingRescale(req: ProcessingRescaleRequest): OpPayload {
  return { key: utf8(req.jobId), value: new ByteWriter(4).u32(req.parallelism).finish() };
}
export function decodeProcessingRescale(body: RequestBody): ProcessingRescaleRequest {
  const r = new ByteReader(body.value, 'processing rescale value');
  return { jobId: keyText(body), parallelism: r.u32('parallelism') };
}

// LIST (0x364): value = [limit:u32][cursor:rest]
export interface ProcessingListRequest {
  readonly limit?: number;
  readonly cursor?: string;
}
export function encodeProcessingList(req: ProcessingListRequest = {}): OpPayload {
  const w = new ByteWriter(16).u32(req.limit ?? 100);
  if (req.cursor) w.bytes(utf8(req.cursor));
  return { value: w.finish() };
}
export function decodeProcessingList(body: RequestBody): Required<ProcessingListRequest> {
  if (body.value.length < 4) return { limit: 100, cursor: '' };
  const r = new ByteReader(body.value, 'processing list value');
  return { limit: r.u32('limit'), cursor: fromUtf8(r.rest()) };
}

export interface ProcessingJobStatusReply {
  readonly jobId: string;
  readonly name: string;
  readonly status: number;
  readonly parallelism: number;
  readonly batchSize: number;
  readonly recordsProcessed: bigint;
  readonly createdAt: bigint;
}

/** `[job_id:str16][name:str16][status:u8][parallelism:u32][batch:u32][records:u64][created:i64]` */
export function encodeProcessingStatusReply(s: ProcessingJobStatusReply): Uint8Array {
  return new ByteWriter(64)
    .bytes16(s.jobId)
    .bytes16(s.name)
    .u8(s.status)
    .u32(s.parallelism)
    .u32(s.batchSize)
    .u64(s.recordsProcessed)
    .i64(s.createdAt)
    .finish();
}
export function decodeProcessingStatusReply(payload: Uint8Array): ProcessingJobStatusReply {
  const r = new ByteReader(payload, 'processing status reply');
  const s = {
    jobId: r.string16('job_id'),
    name: r.string16('name'),
    status: r.u8('status'),
    parallelism: r.u32('parallelism'),
    batchSize: r.u32('batch_size'),
    recordsProcessed: r.u64('records_processed'),
    createdAt: r.i64('created_at'),
  };
  r.end();
  return s;
}

export interface ProcessingJobSummary {
  readonly name: string;
  readonly jobId: string;
  /** Lowercase status name. */
  readonly status: string;
  readonly parallelism: number;
  readonly createdAt: bigint;
}

/** One page of LIST: the jobs, whether more follow, and the cursor to ask for them with. */
export interface ProcessingListPage {
  readonly jobs: readonly ProcessingJobSummary[];
  readonly hasMore: boolean;
  /** Empty when there is no next page. */
  readonly cursor: string;
}

/**
 * `[n:u32]([name:str16][job_id:str16][status:str16][par:u32][created:i64])*[has_more:u8][cursor:str16]`.
 * Without `page` the trailer says "no more" (the Go SDK's vectors).
 */
export function encodeProcessingListReply(jobs: readonly ProcessingJobSummary[], page?: { readonly hasMore: boolean; readonly cursor: string }): Uint8Array {
  const w = new ByteWriter(128).u32(jobs.length);
  for (const j of jobs) w.bytes16(j.name).bytes16(j.jobId).bytes16(j.status).u32(j.parallelism).i64(j.createdAt);
  return w.u8(page?.hasMore ? 1 : 0).bytes16(page?.cursor ?? '').finish();
}

/** LIST reply with its paging trailer (absent trailer = no more pages). */
export function decodeProcessingListPage(payload: Uint8Array): ProcessingListPage {
  if (payload.length === 0) return { jobs: [], hasMore: false, cursor: '' };
  const r = new ByteReader(payload, 'processing list reply');
  const n = r.u32('count');
  const jobs: ProcessingJobSummary[] = [];
  for (let i = 0; i < n; i++) {
    jobs.push({ name: r.string16('name'), jobId: r.string16('job_id'), status: r.string16('status'), parallelism: r.u32('parallelism'), createdAt: r.i64('created_at') });
  }
  let hasMore = false;
  let cursor = '';
  if (!r.done) {
    hasMore = r.u8('has_more') !== 0;
    cursor = r.string16('cursor');
  }
  r.end();
  return { jobs, hasMore, cursor };
}

/** LIST reply, jobs only (the Go SDK's `List`). */
export function decodeProcessingListReply(payload: Uint8Array): ProcessingJobSummary[] {
  return [...decodeProcessingListPage(payload).jobs];
}
