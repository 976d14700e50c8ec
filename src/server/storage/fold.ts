/**
 * Folds snapshots and log batches into "the latest value of every entity": what a snapshot holds
 * and what recovery loads. Values are kept unpacked, as their tables' `save` returned them (byte
 * strings are views into the files read).
 */
import { readBatch, readUnpackedBatch, snapshotFooter, unpackValue, type SnapshotFooter } from './codec.js';

export class Fold {
  /** table → entity key → value */
  private readonly tables = new Map<string, Map<string, unknown>>();
  private count = 0;
  private readonly applyEntry = (table: string, key: string, value: unknown) => this.apply(table, key, value);

  get size(): number {
    return this.count;
  }

  /** `value` undefined: the entity was removed. */
  apply(table: string, key: string, value: unknown): void {
    let entities = this.tables.get(table);
    if (value === undefined) {
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
    return readBatch(payload, this.applyEntry);
  }

  /** Applies one snapshot record; returns the footer when it is the last one. */
  applySnapshotRecord(payload: Uint8Array): SnapshotFooter | undefined {
    const value = unpackValue(payload);
    const footer = snapshotFooter(value);
    if (footer) return footer;
    if (!Array.isArray(value)) throw new Error('unknown snapshot record');
    readUnpackedBatch(value, this.applyEntry);
    return undefined;
  }

  /** Per table, its entities (key → value): start-up loads them a table at a time. */
  byTable(): ReadonlyMap<string, ReadonlyMap<string, unknown>> {
    return this.tables;
  }

  /** Every entity as [table, key, value], a table at a time. */
  *entities(): IterableIterator<[table: string, key: string, value: unknown]> {
    for (const [table, entities] of this.tables) for (const [key, value] of entities) yield [table, key, value];
  }
}
