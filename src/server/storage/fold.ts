/**
 * Folds snapshots and log batches into "the latest value of every entity": what a snapshot holds
 * and what recovery loads. Values stay packed (views into the files read); only the entity's
 * identity is looked at.
 */
import { unpackFrame, type SnapshotFooter, type StoredEntry } from './codec.js';

export class Fold {
  /** table → entity key → packed value */
  private readonly tables = new Map<string, Map<string, Uint8Array>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  apply(entry: StoredEntry): void {
    const [table, key, value] = entry;
    let entities = this.tables.get(table);
    if (value === null) {
      if (entities?.delete(key)) this.count--;
      return;
    }
    if (!entities) this.tables.set(table, (entities = new Map()));
    const before = entities.size;
    entities.set(key, value);
    this.count += entities.size - before;
  }

  /** Applies one log batch record (throws on a payload that is not a batch). */
  applyBatch(payload: Uint8Array): number {
    const entries = unpackFrame(payload);
    if (!Array.isArray(entries)) throw new Error('log record is not a batch');
    for (const e of entries as StoredEntry[]) this.apply(e);
    return entries.length;
  }

  /** Applies one snapshot record; returns the footer when it is the last one. */
  applySnapshotRecord(payload: Uint8Array): SnapshotFooter | undefined {
    const value = unpackFrame(payload);
    if (Array.isArray(value)) {
      for (const e of value as StoredEntry[]) this.apply(e);
      return undefined;
    }
    if (value && typeof value === 'object' && typeof (value as SnapshotFooter).end === 'number') return value as SnapshotFooter;
    throw new Error('unknown snapshot record');
  }

  /** Per table, its entities (key → packed value): start-up loads them a table at a time. */
  byTable(): ReadonlyMap<string, ReadonlyMap<string, Uint8Array>> {
    return this.tables;
  }

  *values(): IterableIterator<StoredEntry> {
    for (const [table, entities] of this.tables) for (const [key, value] of entities) yield [table, key, value];
  }
}
