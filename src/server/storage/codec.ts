/**
 * MessagePack for what the storage layer writes: entity values (bigints of any size, byte arrays,
 * plain objects) and the batches and snapshot chunks that carry them. One configured `Packr`.
 */
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, useBigIntExtension: true });

export const packValue = (value: unknown): Uint8Array => packr.pack(value);
export const unpackValue = (bytes: Uint8Array): unknown => packr.unpack(bytes);

/** One change in a log batch or one entity in a snapshot: [table, key, packed value | null (removed)]. */
export type StoredEntry = [table: string, key: string, value: Uint8Array | null];

/** Snapshots end with this record so that a partial one is recognised. */
export interface SnapshotFooter {
  readonly end: number;
}
