/**
 * Queue payload codecs (opcodes 0x170–0x17F, 0x198), both directions.
 *
 * Client side: `encodeQueueX(req): OpPayload` (key / value / options; the caller adds the
 * namespace) and `decodeQueueXReply(payload)`. Server side: `decodeQueueX(body)` and
 * `encodeQueueXReply(reply, profile?)`.
 *
 * Layout notes (see `docs/protocol-decisions.md` #1, #16, #22, #37):
 * - Options are emitted in the Go SDK's order; dequeue and peek always send `count` (0x15).
 * - Message lists (dequeue, peek, DLQ list) are `[n:u32]` then per message either the compact Go
 *   entry `[seq:u64][len:u32][payload]` (profile `'go'`, default) or the extended entry of the
 *   newest server, which appends `[enqueued_at_ms:i64][delivery_count:u32][priority:u8]`
 *   (profile `'flo'`). The client decoder takes whichever layout consumes the payload exactly
 *   (extended first) and reads a 0-byte payload as an empty list.
 * - Sequence lists (ack, nack, touch, extend lease, DLQ requeue/delete) are `[n:u32][seq:u64]*`.
 *   The server decoder also takes a lone ASCII decimal seq (what one server generation expects).
 * - Server-side decoders throw `BadRequestError` (status 3) on anything they refuse, so a handler
 *   can let the error through; client-side decoders throw only `ProtocolError`.
 */
import { ByteWriter, EMPTY, fromUtf8, U64_MAX, utf8 } from './bytes.js';
import { nameBytes } from './name-bytes.js';
import { ByteReader } from './byte-reader.js';
import { BadRequestError, ProtocolError } from './errors.js';
import type { OpPayload, RequestBody } from './frame.js';
import { Opt, OptionsBuilder, OptionsReader } from './options.js';
import { Status } from './status.js';

/** Reply layouts (`docs/protocol-decisions.md` #1): `go` = the Go SDK's short entries, `flo` = the newest server's. */
export type QueueReplyProfile = 'go' | 'flo';

/** A queue name as the caller gives it (the key section carries it as bytes). */
export type QueueNameInput = Uint8Array | string;

/** Dequeue, peek and DLQ-list default when a request carries no count (server side). */
export const QUEUE_DEFAULT_COUNT = 1;
/** The Go SDK's DLQ-list limit when it is called without options. */
export const QUEUE_GO_DLQ_LIST_LIMIT = 100;

// ---------------------------------------------------------------------------------------------
// Shared shapes

/** One message of a dequeue, peek or DLQ-list reply. */
export interface QueueMessage {
  readonly seq: bigint;
  readonly payload: Uint8Array;
  /** Extended layout only: enqueue time, ms since the epoch (i64). */
  readonly enqueuedAtMs?: bigint;
  /** Extended layout only: deliveries so far (u32). */
  readonly deliveryCount?: number;
  /** Extended layout only: the message priority (u8). */
  readonly priority?: number;
}

export interface QueueMessagesReply {
  readonly messages: readonly QueueMessage[];
}

export interface QueueSeqsRequest {
  readonly queue: QueueNameInput;
  readonly seqs: readonly bigint[];
}

/** Replies that carry no data (ack, nack, touch, extend lease, DLQ requeue/delete). */
export type QueueEmptyReply = void;

/** What a server-side decoder returns: the queue name as text. */
export type QueueDecoded<T extends { queue: QueueNameInput }> = Omit<T, 'queue'> & { readonly queue: string };

// ---------------------------------------------------------------------------------------------
// Helpers

const badRequest = (message: string): BadRequestError => new BadRequestError(Status.BadRequest, message);

/** Runs a server-side decode; any `ProtocolError` becomes BAD_REQUEST with the same message. */
function serverSide<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProtocolError) throw badRequest(err.message);
    throw err;
  }
}

function queueNameOf(body: RequestBody): string {
  if (body.key.length === 0) throw badRequest('queue name is required');
  return fromUtf8(body.key);
}

function optionsOrUndefined(b: OptionsBuilder): Uint8Array | undefined {
  return b.length === 0 ? undefined : b.build();
}

/** `[n:u32][seq:u64]*` */
export function encodeQueueSeqList(seqs: readonly bigint[]): Uint8Array {
  const w = new ByteWriter(4 + 8 * seqs.length);
  w.u32(seqs.length);
  for (const s of seqs) w.u64(s);
  return w.finish();
}

const MAX_DECIMAL_SEQ_DIGITS = 20;

/**
 * Server side: the binary list; as a fallback a lone ASCII decimal seq of 1–20 digits (the
 * indexed server's format). Anything else is BAD_REQUEST.
 */
export function decodeQueueSeqList(value: Uint8Array): bigint[] {
  if (value.length >= 4) {
    const n = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0, true);
    if (value.length === 4 + 8 * n) {
      const r = new ByteReader(value, 'sequence list');
      r.u32();
      const out: bigint[] = [];
      for (let i = 0; i < n; i++) out.push(r.u64('seq'));
      return out;
    }
  }
  if (value.length >= 1 && value.length <= MAX_DECIMAL_SEQ_DIGITS && value.every((b) => b >= 0x30 && b <= 0x39)) {
    const seq = BigInt(fromUtf8(value));
    if (seq <= U64_MAX) return [seq];
  }
  if (value.length < 4) throw badRequest('message sequence is required');
  throw badRequest(`invalid sequence list: ${value.length} bytes do not match [count:u32][seq:u64]*`);
}

function encodeMessages(messages: readonly QueueMessage[], profile: QueueReplyProfile): Uint8Array {
  let size = 4;
  for (const m of messages) size += 12 + m.payload.length + (profile === 'flo' ? 13 : 0);
  const w = new ByteWriter(size);
  w.u32(messages.length);
  for (const m of messages) {
    w.u64(m.seq).bytes32(m.payload);
    if (profile === 'flo') w.i64(m.enqueuedAtMs ?? 0n).u32(m.deliveryCount ?? 0).u8(m.priority ?? 0);
  }
  return w.finish();
}

function parseMessages(payload: Uint8Array, extended: boolean, what: string): QueueMessage[] {
  const r = new ByteReader(payload, what);
  const n = r.u32('count');
  const minEntry = extended ? 25 : 12;
  if (n * minEntry > r.remaining) {
    throw new ProtocolError(`truncated ${what}: ${n} message(s) need at least ${n * minEntry} bytes, ${r.remaining} left`);
  }
  const out: QueueMessage[] = [];
  for (let i = 0; i < n; i++) {
    const seq = r.u64('seq');
    const body = r.bytes32('payload');
    if (extended) {
      const enqueuedAtMs = r.i64('enqueued_at_ms');
      const deliveryCount = r.u32('delivery_count');
      const priority = r.u8('priority');
      out.push({ seq, payload: body, enqueuedAtMs, deliveryCount, priority });
    } else {
      out.push({ seq, payload: body });
    }
  }
  r.end();
  return out;
}

/** Lenient list decoding: 0 bytes → empty (#16, #37); extended layout if it fits exactly, else compact. */
/**
 * Whether `payload` is exactly a message list in the extended layout (`[count:u32]` then per
 * message `[seq:u64][len:u32][payload][enqueued_at:i64][delivery_count:u32][priority:u8]`): a walk
 * over the lengths, so that picking the layout costs no exception (the compact layout is the
 * Go-profile default, i.e. the common case).
 */
function fitsExtendedLayout(payload: Uint8Array): boolean {
  if (payload.length < 4) return false;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const n = view.getUint32(0, true);
  if (n * 25 > payload.length - 4) return false;
  let at = 4;
  for (let i = 0; i < n; i++) {
    if (at + 12 > payload.length) return false;
    at += 12 + view.getUint32(at + 8, true) + 13;
  }
  return at === payload.length;
}

function decodeMessages(payload: Uint8Array, what: string): QueueMessagesReply {
  if (payload.length === 0) return { messages: [] };
  return { messages: parseMessages(payload, fitsExtendedLayout(payload), what) };
}

function seqsPayload(req: QueueSeqsRequest, options?: Uint8Array): OpPayload {
  return { key: nameBytes(req.queue), value: encodeQueueSeqList(req.seqs), options };
}

function decodeSeqsRequest(body: RequestBody): QueueDecoded<QueueSeqsRequest> {
  return serverSide(() => {
    const queue = queueNameOf(body);
    return { queue, seqs: decodeQueueSeqList(body.value) };
  });
}

/** Replies with no data: the server sends nothing, the client ignores whatever comes (as Go does). */
function emptyReply(): Uint8Array {
  return EMPTY;
}

function u64Reply(payload: Uint8Array, what: string): ByteReader {
  return new ByteReader(payload, what);
}

// ---------------------------------------------------------------------------------------------
// queue_enqueue (0x170)

export interface QueueEnqueueRequest {
  readonly queue: QueueNameInput;
  readonly payload: Uint8Array;
  /** u8; lower is dequeued first (#11). Sent only when ≠ 0, as Go does. */
  readonly priority?: number;
  /** u64 ms; sent whenever set (0 included), as Go does. */
  readonly delayMs?: bigint;
  /** At most 255 bytes; sent only when non-empty. */
  readonly dedupKey?: Uint8Array | string;
}
export type DecodedQueueEnqueue = Omit<QueueDecoded<QueueEnqueueRequest>, 'dedupKey'> & { readonly dedupKey?: Uint8Array };
export interface QueueEnqueueReply {
  readonly seq: bigint;
}

function enqueueOptions(priority: number | undefined, delayMs: bigint | undefined, dedupKey?: Uint8Array | string): Uint8Array | undefined {
  const o = new OptionsBuilder();
  if (priority !== undefined && priority !== 0) o.u8(Opt.Priority, priority);
  if (delayMs !== undefined) o.u64(Opt.DelayMS, delayMs);
  if (dedupKey !== undefined && utf8(dedupKey).length > 0) o.bytes(Opt.DedupKey, dedupKey);
  return optionsOrUndefined(o);
}

export function encodeQueueEnqueue(req: QueueEnqueueRequest): OpPayload {
  return { key: nameBytes(req.queue), value: req.payload, options: enqueueOptions(req.priority, req.delayMs, req.dedupKey) };
}

export function decodeQueueEnqueueReply(payload: Uint8Array): QueueEnqueueReply {
  return { seq: u64Reply(payload, 'enqueue reply').u64('seq') };
}

export function decodeQueueEnqueue(body: RequestBody): DecodedQueueEnqueue {
  return serverSide(() => {
    const queue = queueNameOf(body);
    const o = new OptionsReader(body.options);
    const out: { -readonly [K in keyof DecodedQueueEnqueue]: DecodedQueueEnqueue[K] } = { queue, payload: body.value };
    const priority = o.u8(Opt.Priority);
    if (priority !== undefined) out.priority = priority;
    const delayMs = o.u64(Opt.DelayMS);
    if (delayMs !== undefined) out.delayMs = delayMs;
    const dedupKey = o.raw(Opt.DedupKey);
    if (dedupKey !== undefined && dedupKey.length > 0) out.dedupKey = dedupKey;
    return out;
  });
}

export function encodeQueueEnqueueReply(reply: QueueEnqueueReply): Uint8Array {
  return new ByteWriter(8).u64(reply.seq).finish();
}

// ---------------------------------------------------------------------------------------------
// queue_dequeue (0x171)

export interface QueueDequeueRequest {
  readonly queue: QueueNameInput;
  /** u32; always sent (1 when not given). The server caps it at 100. */
  readonly count?: number;
  /** u32 ms; 0 or absent = the server default (30 s). */
  readonly visibilityTimeoutMs?: number;
  /** u32 ms; absent or 0 = do not wait (#14). */
  readonly blockMs?: number;
}
export type QueueDequeueReply = QueueMessagesReply;

export function encodeQueueDequeue(req: QueueDequeueRequest): OpPayload {
  const o = new OptionsBuilder().u32(Opt.Count, req.count ?? QUEUE_DEFAULT_COUNT);
  if (req.visibilityTimeoutMs !== undefined) o.u32(Opt.VisibilityTimeoutMS, req.visibilityTimeoutMs);
  if (req.blockMs !== undefined) o.u32(Opt.BlockMS, req.blockMs);
  return { key: nameBytes(req.queue), options: o.build() };
}

export function decodeQueueDequeueReply(payload: Uint8Array): QueueDequeueReply {
  return decodeMessages(payload, 'dequeue reply');
}

export function decodeQueueDequeue(body: RequestBody): QueueDecoded<QueueDequeueRequest> {
  return serverSide(() => {
    const queue = queueNameOf(body);
    const o = new OptionsReader(body.options);
    const out: { -readonly [K in keyof QueueDecoded<QueueDequeueRequest>]: QueueDecoded<QueueDequeueRequest>[K] } = { queue };
    const count = o.u32(Opt.Count);
    if (count !== undefined) out.count = count;
    const vis = o.u32(Opt.VisibilityTimeoutMS);
    if (vis !== undefined) out.visibilityTimeoutMs = vis;
    const block = o.u32(Opt.BlockMS);
    if (block !== undefined) out.blockMs = block;
    return out;
  });
}

export function encodeQueueDequeueReply(reply: QueueDequeueReply, profile: QueueReplyProfile = 'go'): Uint8Array {
  return encodeMessages(reply.messages, profile);
}

// ---------------------------------------------------------------------------------------------
// queue_complete / ack (0x172)

export type QueueCompleteRequest = QueueSeqsRequest;

export function encodeQueueComplete(req: QueueCompleteRequest): OpPayload {
  return seqsPayload(req);
}
export function decodeQueueCompleteReply(_payload: Uint8Array): QueueEmptyReply {}
export function decodeQueueComplete(body: RequestBody): QueueDecoded<QueueCompleteRequest> {
  return decodeSeqsRequest(body);
}
export function encodeQueueCompleteReply(): Uint8Array {
  return emptyReply();
}

// ---------------------------------------------------------------------------------------------
// queue_fail / nack (0x174)

export interface QueueFailRequest extends QueueSeqsRequest {
  /** Straight to the DLQ; sent as `16 01 01` only when true (Go). */
  readonly toDlq?: boolean;
}
export type DecodedQueueFail = QueueDecoded<QueueFailRequest> & { readonly toDlq: boolean };

export function encodeQueueFail(req: QueueFailRequest): OpPayload {
  return seqsPayload(req, req.toDlq ? new OptionsBuilder().u8(Opt.SendToDLQ, 1).build() : undefined);
}
export function decodeQueueFailReply(_payload: Uint8Array): QueueEmptyReply {}
export function decodeQueueFail(body: RequestBody): DecodedQueueFail {
  const base = decodeSeqsRequest(body);
  return { ...base, toDlq: (new OptionsReader(body.options).u8(Opt.SendToDLQ) ?? 0) !== 0 };
}
export function encodeQueueFailReply(): Uint8Array {
  return emptyReply();
}

// ---------------------------------------------------------------------------------------------
// queue_touch (0x17D) and queue_extend_lease (0x173): same layout (`docs/protocol-decisions.md` #21)

export interface QueueTouchRequest extends QueueSeqsRequest {
  /** u32 ms (0x41), sent only when > 0 (the CLI's option; Go sends none). */
  readonly extendMs?: number;
}
export type QueueExtendLeaseRequest = QueueTouchRequest;

export function encodeQueueTouch(req: QueueTouchRequest): OpPayload {
  const opts = req.extendMs !== undefined && req.extendMs > 0 ? new OptionsBuilder().u32(Opt.ExtendMS, req.extendMs).build() : undefined;
  return seqsPayload(req, opts);
}
export function decodeQueueTouchReply(_payload: Uint8Array): QueueEmptyReply {}
export function decodeQueueTouch(body: RequestBody): QueueDecoded<QueueTouchRequest> {
  const base = decodeSeqsRequest(body);
  const extendMs = new OptionsReader(body.options).u32(Opt.ExtendMS);
  return extendMs === undefined ? base : { ...base, extendMs };
}
export function encodeQueueTouchReply(): Uint8Array {
  return emptyReply();
}

export const encodeQueueExtendLease: (req: QueueExtendLeaseRequest) => OpPayload = encodeQueueTouch;
export const decodeQueueExtendLeaseReply: (payload: Uint8Array) => QueueEmptyReply = decodeQueueTouchReply;
export const decodeQueueExtendLease: (body: RequestBody) => QueueDecoded<QueueExtendLeaseRequest> = decodeQueueTouch;
export const encodeQueueExtendLeaseReply: () => Uint8Array = encodeQueueTouchReply;

// ---------------------------------------------------------------------------------------------
// queue_dlq_list (0x176)

export interface QueueDlqListRequest {
  readonly queue: QueueNameInput;
  /** u32; always sent: 100 when not given (Go without options), 0 included. Server: 0 → 100, cap 1000. */
  readonly limit?: number;
}
export interface QueueDlqListReply extends QueueMessagesReply {
  /** Only from a server that answers the `[0:u32][total:u64]` summary instead of a list. */
  readonly dlqTotal?: bigint;
}

export function encodeQueueDlqList(req: QueueDlqListRequest): OpPayload {
  return { key: nameBytes(req.queue), options: new OptionsBuilder().u32(Opt.Limit, req.limit ?? QUEUE_GO_DLQ_LIST_LIMIT).build() };
}

export function decodeQueueDlqListReply(payload: Uint8Array): QueueDlqListReply {
  if (payload.length === 12) {
    const r = new ByteReader(payload, 'dlq list reply');
    if (r.u32() === 0) return { messages: [], dlqTotal: r.u64('total') };
  }
  return decodeMessages(payload, 'dlq list reply');
}

export function decodeQueueDlqList(body: RequestBody): QueueDecoded<QueueDlqListRequest> {
  return serverSide(() => {
    const queue = queueNameOf(body);
    const limit = new OptionsReader(body.options).u32(Opt.Limit);
    return limit === undefined ? { queue } : { queue, limit };
  });
}

export function encodeQueueDlqListReply(reply: QueueMessagesReply, profile: QueueReplyProfile = 'go'): Uint8Array {
  return encodeMessages(reply.messages, profile);
}

// ---------------------------------------------------------------------------------------------
// queue_dlq_delete (0x177), queue_dlq_requeue (0x178)

export type QueueDlqDeleteRequest = QueueSeqsRequest;
export function encodeQueueDlqDelete(req: QueueDlqDeleteRequest): OpPayload {
  return seqsPayload(req);
}
export function decodeQueueDlqDeleteReply(_payload: Uint8Array): QueueEmptyReply {}
export function decodeQueueDlqDelete(body: RequestBody): QueueDecoded<QueueDlqDeleteRequest> {
  return decodeSeqsRequest(body);
}
export function encodeQueueDlqDeleteReply(): Uint8Array {
  return emptyReply();
}

export type QueueDlqRequeueRequest = QueueSeqsRequest;
export function encodeQueueDlqRequeue(req: QueueDlqRequeueRequest): OpPayload {
  return seqsPayload(req);
}
export function decodeQueueDlqRequeueReply(_payload: Uint8Array): QueueEmptyReply {}
export function decodeQueueDlqRequeue(body: RequestBody): QueueDecoded<QueueDlqRequeueRequest> {
  return decodeSeqsRequest(body);
}
export function encodeQueueDlqRequeueReply(): Uint8Array {
  return emptyReply();
}

// ---------------------------------------------------------------------------------------------
// queue_dlq_stats (0x179): flo-rx decision, value empty, reply [dlq_current:u64][dlq_total:u64]

export interface QueueNameRequest {
  readonly queue: QueueNameInput;
}
export type QueueDlqStatsRequest = QueueNameRequest;
export interface QueueDlqStatsReply {
  readonly current: bigint;
  readonly total: bigint;
}

function nameOnly(req: QueueNameRequest): OpPayload {
  return { key: nameBytes(req.queue) };
}
function decodeNameOnly(body: RequestBody): QueueDecoded<QueueNameRequest> {
  return serverSide(() => ({ queue: queueNameOf(body) }));
}

export function encodeQueueDlqStats(req: QueueDlqStatsRequest): OpPayload {
  return nameOnly(req);
}
export function decodeQueueDlqStatsReply(payload: Uint8Array): QueueDlqStatsReply {
  const r = new ByteReader(payload, 'dlq stats reply');
  return { current: r.u64('dlq_current'), total: r.u64('dlq_total') };
}
export function decodeQueueDlqStats(body: RequestBody): QueueDecoded<QueueDlqStatsRequest> {
  return decodeNameOnly(body);
}
export function encodeQueueDlqStatsReply(reply: QueueDlqStatsReply): Uint8Array {
  return new ByteWriter(16).u64(reply.current).u64(reply.total).finish();
}

// ---------------------------------------------------------------------------------------------
// queue_stats (0x17B): value empty, reply nine u64

export type QueueStatsRequest = QueueNameRequest;
export interface QueueStatsReply {
  readonly enqueued: bigint;
  readonly dequeued: bigint;
  readonly acked: bigint;
  readonly nacked: bigint;
  readonly dlqTotal: bigint;
  readonly leasesExpired: bigint;
  readonly ready: bigint;
  readonly leased: bigint;
  readonly dlqCurrent: bigint;
}
const STATS_FIELDS = ['enqueued', 'dequeued', 'acked', 'nacked', 'dlqTotal', 'leasesExpired', 'ready', 'leased', 'dlqCurrent'] as const;

export function encodeQueueStats(req: QueueStatsRequest): OpPayload {
  return nameOnly(req);
}
/** Reads the nine counters; bytes after them are ignored (room for a longer layout). */
export function decodeQueueStatsReply(payload: Uint8Array): QueueStatsReply {
  const r = new ByteReader(payload, 'queue stats reply');
  const out: Partial<Record<(typeof STATS_FIELDS)[number], bigint>> = {};
  for (const f of STATS_FIELDS) out[f] = r.u64(f);
  return out as QueueStatsReply;
}
export function decodeQueueStats(body: RequestBody): QueueDecoded<QueueStatsRequest> {
  return decodeNameOnly(body);
}
export function encodeQueueStatsReply(reply: QueueStatsReply): Uint8Array {
  const w = new ByteWriter(72);
  for (const f of STATS_FIELDS) w.u64(reply[f]);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// queue_peek (0x17C)

export interface QueuePeekRequest {
  readonly queue: QueueNameInput;
  /** u32; always sent (1 when not given). The server caps it at 100. */
  readonly count?: number;
}
export type QueuePeekReply = QueueMessagesReply;

export function encodeQueuePeek(req: QueuePeekRequest): OpPayload {
  return { key: nameBytes(req.queue), options: new OptionsBuilder().u32(Opt.Count, req.count ?? QUEUE_DEFAULT_COUNT).build() };
}
export function decodeQueuePeekReply(payload: Uint8Array): QueuePeekReply {
  return decodeMessages(payload, 'peek reply');
}
export function decodeQueuePeek(body: RequestBody): QueueDecoded<QueuePeekRequest> {
  return serverSide(() => {
    const queue = queueNameOf(body);
    const count = new OptionsReader(body.options).u32(Opt.Count);
    return count === undefined ? { queue } : { queue, count };
  });
}
export function encodeQueuePeekReply(reply: QueuePeekReply, profile: QueueReplyProfile = 'go'): Uint8Array {
  return encodeMessages(reply.messages, profile);
}

// ---------------------------------------------------------------------------------------------
// queue_purge (0x17F): flo-rx decision, value empty, reply [purged:u64]

export type QueuePurgeRequest = QueueNameRequest;
export interface QueuePurgeReply {
  readonly purged: bigint;
}
export function encodeQueuePurge(req: QueuePurgeRequest): OpPayload {
  return nameOnly(req);
}
export function decodeQueuePurgeReply(payload: Uint8Array): QueuePurgeReply {
  return { purged: new ByteReader(payload, 'purge reply').u64('purged') };
}
export function decodeQueuePurge(body: RequestBody): QueueDecoded<QueuePurgeRequest> {
  return decodeNameOnly(body);
}
export function encodeQueuePurgeReply(reply: QueuePurgeReply): Uint8Array {
  return new ByteWriter(8).u64(reply.purged).finish();
}

// ---------------------------------------------------------------------------------------------
// queue_batch_enqueue (0x17E): flo-rx only, a layout of our own (Flo has no batch enqueue payload)
// value [n:u32]([len:u32][payload])*, options priority / delay as enqueue (no dedup key);
// reply [n:u32][seq:u64]*

export interface QueueBatchEnqueueRequest {
  readonly queue: QueueNameInput;
  readonly payloads: readonly Uint8Array[];
  readonly priority?: number;
  readonly delayMs?: bigint;
}
export interface QueueBatchEnqueueReply {
  readonly seqs: readonly bigint[];
}

export function encodeQueueBatchEnqueue(req: QueueBatchEnqueueRequest): OpPayload {
  let size = 4;
  for (const p of req.payloads) size += 4 + p.length;
  const w = new ByteWriter(size).u32(req.payloads.length);
  for (const p of req.payloads) w.bytes32(p);
  return { key: nameBytes(req.queue), value: w.finish(), options: enqueueOptions(req.priority, req.delayMs) };
}
export function decodeQueueBatchEnqueueReply(payload: Uint8Array): QueueBatchEnqueueReply {
  const r = new ByteReader(payload, 'batch enqueue reply');
  const n = r.u32('count');
  if (n * 8 !== r.remaining) throw new ProtocolError(`batch enqueue reply: ${n} seq(s) need ${n * 8} bytes, ${r.remaining} present`);
  const seqs: bigint[] = [];
  for (let i = 0; i < n; i++) seqs.push(r.u64('seq'));
  return { seqs };
}
export function decodeQueueBatchEnqueue(body: RequestBody): QueueDecoded<QueueBatchEnqueueRequest> {
  return serverSide(() => {
    const queue = queueNameOf(body);
    const o = new OptionsReader(body.options);
    if (o.has(Opt.DedupKey)) throw badRequest('dedup_key is not supported by batch enqueue');
    const r = new ByteReader(body.value, 'batch enqueue value');
    const n = r.u32('count');
    if (n * 4 > r.remaining) throw badRequest(`batch enqueue value: ${n} message(s) do not fit in ${r.remaining} bytes`);
    const payloads: Uint8Array[] = [];
    for (let i = 0; i < n; i++) payloads.push(r.bytes32('payload'));
    r.end();
    const out: { -readonly [K in keyof QueueDecoded<QueueBatchEnqueueRequest>]: QueueDecoded<QueueBatchEnqueueRequest>[K] } = { queue, payloads };
    const priority = o.u8(Opt.Priority);
    if (priority !== undefined) out.priority = priority;
    const delayMs = o.u64(Opt.DelayMS);
    if (delayMs !== undefined) out.delayMs = delayMs;
    return out;
  });
}
export function encodeQueueBatchEnqueueReply(reply: QueueBatchEnqueueReply): Uint8Array {
  return encodeQueueSeqList(reply.seqs);
}

// ---------------------------------------------------------------------------------------------
// queue_list (0x198): key empty; value [limit:u32][cursor] (newest JS / SRV-B), or options
// limit 0x05 / cursor 0x07 (older CLI). Reply [n:u32] entries, then [has_more:u8][cursor_len:u16][cursor].

export interface QueueListRequest {
  /** 0 or absent = the server default (100). */
  readonly limit?: number;
  /** Opaque bytes from the previous page; empty on the first page. */
  readonly cursor?: Uint8Array;
}
export interface QueueListEntry {
  readonly name: string;
  readonly namespace: string;
  readonly pending: bigint;
  readonly available: bigint;
  readonly enqueued: bigint;
  readonly dequeued: bigint;
  readonly dlq: bigint;
}
export interface QueueListReply {
  readonly queues: readonly QueueListEntry[];
  readonly hasMore: boolean;
  readonly cursor: Uint8Array;
}

export function encodeQueueList(req: QueueListRequest): OpPayload {
  const cursor = req.cursor ?? EMPTY;
  return { value: new ByteWriter(4 + cursor.length).u32(req.limit ?? 0).bytes(cursor).finish() };
}

/** A reply that stops right after the entries (an older server) reads as has_more = false. */
export function decodeQueueListReply(payload: Uint8Array): QueueListReply {
  if (payload.length === 0) return { queues: [], hasMore: false, cursor: EMPTY };
  const r = new ByteReader(payload, 'queue list reply');
  const n = r.u32('count');
  if (n * 48 > r.remaining) throw new ProtocolError(`truncated queue list reply: ${n} entries do not fit in ${r.remaining} bytes`);
  const queues: QueueListEntry[] = [];
  for (let i = 0; i < n; i++) {
    queues.push({
      name: r.string32('name'),
      namespace: r.string32('namespace'),
      pending: r.u64('pending'),
      available: r.u64('available'),
      enqueued: r.u64('enqueued'),
      dequeued: r.u64('dequeued'),
      dlq: r.u64('dlq'),
    });
  }
  if (r.done) return { queues, hasMore: false, cursor: EMPTY };
  const hasMore = r.u8('has_more') !== 0;
  const cursor = r.bytes16('cursor');
  r.end();
  return { queues, hasMore, cursor };
}

export function decodeQueueList(body: RequestBody): QueueListRequest {
  return serverSide(() => {
    if (body.value.length >= 4) {
      const r = new ByteReader(body.value, 'queue list value');
      const limit = r.u32('limit');
      return { limit, cursor: r.rest() };
    }
    const o = new OptionsReader(body.options);
    const out: { -readonly [K in keyof QueueListRequest]: QueueListRequest[K] } = {};
    const limit = o.u32(Opt.Limit);
    if (limit !== undefined) out.limit = limit;
    const cursor = o.raw(Opt.Cursor);
    if (cursor !== undefined) out.cursor = cursor;
    return out;
  });
}

export function encodeQueueListReply(reply: QueueListReply): Uint8Array {
  const w = new ByteWriter(64).u32(reply.queues.length);
  for (const q of reply.queues) {
    w.bytes32(q.name).bytes32(q.namespace).u64(q.pending).u64(q.available).u64(q.enqueued).u64(q.dequeued).u64(q.dlq);
  }
  return w.u8(reply.hasMore ? 1 : 0).bytes16(reply.cursor).finish();
}
