/**
 * `StreamId` helpers and the stream constants, apart from the stream codecs (`stream.ts`
 * re-exports them): a browser app that only compares or formats ids, or checks a read count,
 * does not keep the codecs. The ids and helpers only the codecs and the on-demand stream code use
 * (`MIN_STREAM_ID`, `MAX_STREAM_ID`, `streamIdEquals`) are in `stream.ts`, so that they are not in every
 * browser app's start-up code.
 */
import { U64_MAX } from './bytes.js';
import { InvalidArgumentError } from './errors.js';
import type { StreamId } from './options.js';

// ---------------------------------------------------------------------------------------------
// StreamId helpers

/** A `StreamId` from a timestamp in ms and a sequence number. */
export function streamId(timestampMs: bigint | number, sequence: bigint | number = 0n): StreamId {
  return { timestampMs: BigInt(timestampMs), sequence: BigInt(sequence) };
}

/** Orders ids by timestamp, then sequence: negative, 0 or positive like `Array.prototype.sort`. */
export function compareStreamIds(a: StreamId, b: StreamId): number {
  if (a.timestampMs !== b.timestampMs) return a.timestampMs < b.timestampMs ? -1 : 1;
  if (a.sequence !== b.sequence) return a.sequence < b.sequence ? -1 : 1;
  return 0;
}

/** `'<ms>-<seq>'`. */
export function formatStreamId(id: StreamId): string {
  return `${id.timestampMs}-${id.sequence}`;
}

/** Parses `'<ms>-<seq>'` (or `'<ms>'`, sequence 0). Throws `InvalidArgumentError`. */
export function parseStreamId(text: string): StreamId {
  const m = /^(\d{1,20})(?:-(\d{1,20}))?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`invalid stream id ${JSON.stringify(text)}: expected '<ms>-<seq>'`);
  const ts = BigInt(m[1]);
  const seq = m[2] === undefined ? 0n : BigInt(m[2]);
  if (ts > U64_MAX || seq > U64_MAX) throw new InvalidArgumentError(`stream id ${JSON.stringify(text)} out of range`);
  return { timestampMs: ts, sequence: seq };
}

/** The id as one 128-bit number (`ts << 64 | seq`), which sorts like the id. */
export function streamIdToBigInt(id: StreamId): bigint {
  return (id.timestampMs << 64n) | id.sequence;
}

export function streamIdFromBigInt(v: bigint): StreamId {
  return { timestampMs: (v >> 64n) & U64_MAX, sequence: v & U64_MAX };
}

// ---------------------------------------------------------------------------------------------
// constants and shared helpers

export const STREAM_DEFAULT_READ_COUNT = 100;
export const STREAM_MAX_READ_COUNT = 1000;
/** The longest wait a server accepts (SRV-B, `docs/protocol-decisions.md` #14). */
export const STREAM_MAX_BLOCK_MS = 300_000;
/** Largest `record_count` a value may announce and still count as a batch frame. */
export const STREAM_BATCH_MAX_RECORDS = 10_000;
export const STREAM_GROUP_DEFAULT_ACK_TIMEOUT_MS = 30_000;
export const STREAM_GROUP_DEFAULT_MAX_DELIVER = 10;
export const STREAM_CLAIM_DEFAULT_COUNT = 100;
