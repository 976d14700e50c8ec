/**
 * Folds snapshots and log batches into "the latest value of every entity": what a snapshot holds
 * and what recovery loads. Values stay packed; only the entity's identity is looked at.
 */
import { unpackValue, type SnapshotFooter, type StoredEntry } from './codec.js';

export class Fold {
  private readonly entities = new Map<string, StoredEntry>();

  get size(): number {
    return this.entities.size;
  }

  apply(entry: StoredEntry): void {
    const id = `${entry[0]}\u0001${entry[1]}`;
    if (entry[2] === null) this.entities.delete(id);
    else this.entities.set(id, entry);
  }

  /** Applies one log batch record (throws on a payload that is not a batch). */
  applyBatch(payload: Uint8Array): number {
    const entries = unpackValue(payload);
    if (!Array.isArray(entries)) throw new Error('log record is not a batch');
    for (const e of entries as StoredEntry[]) this.apply(e);
    return entries.length;
  }

  /** Applies one snapshot record; returns the footer when it is the last one. */
  applySnapshotRecord(payload: Uint8Array): SnapshotFooter | undefined {
    const value = unpackValue(payload);
    if (Array.isArray(value)) {
      for (const e of value as StoredEntry[]) this.apply(e);
      return undefined;
    }
    if (value && typeof value === 'object' && typeof (value as SnapshotFooter).end === 'number') return value as SnapshotFooter;
    throw new Error('unknown snapshot record');
  }

  values(): IterableIterator<StoredEntry> {
    return this.entities.values();
  }
}
