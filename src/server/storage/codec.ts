/**
 * MessagePack for what the storage layer writes: entity values (bigints of any size, byte arrays,
 * plain objects) and the batches and snapshot chunks that carry them. One configured `Packr`.
 */
import { Packr } from 'msgpackr';

// Restored byte strings are views into the file read at start (no copy per value): that buffer
// stays as large as the state it holds, and server code copies bytes it keeps from requests anyway.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, useBigIntExtension: true });

// Batches and snapshot chunks are read as views into the file just read.
const framePackr = packr;

export const packValue = (value: unknown): Uint8Array => packr.pack(value);
/** Unpacks a batch or snapshot chunk: its byte strings are views into `bytes`. */
export const unpackFrame = (bytes: Uint8Array): unknown =>
  framePackr.unpack(Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes);
/** Byte strings come back as plain `Uint8Array` views (not Buffers, whose `slice()` would not copy). */
export const unpackValue = (bytes: Uint8Array): unknown =>
  packr.unpack(Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes);

/** One change in a log batch or one entity in a snapshot: [table, key, packed value | null (removed)]. */
export type StoredEntry = [table: string, key: string, value: Uint8Array | null];

/** Snapshots end with this record so that a partial one is recognised. */
export interface SnapshotFooter {
  readonly end: number;
}
