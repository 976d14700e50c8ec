/**
 * What a subsystem sees of durability: it registers its persisted tables and announces each change
 * of one of their entities *before* making it. The storage layer does the rest (group commit,
 * snapshots, recovery); a server without a data directory passes no `Persistence` at all.
 *
 * An entity is one record of a subsystem's state (a KV key with its history, one queue message,
 * one stream record, one pending entry, ...), named by a string key unique within its table.
 */

/** `always`: every turn's changes are fsynced before their replies leave. `everysec`: written each turn, fsynced once a second. */
export type FsyncMode = 'always' | 'everysec';

export const FSYNC_MODES: readonly FsyncMode[] = ['always', 'everysec'];

/** One kind of persisted entity of a subsystem: how to save and load one entity by key. */
export interface PersistedTable {
  /** Unique among the tables of a server; stored in the log, so never rename one. */
  readonly name: string;
  /**
   * The entity's current persisted form (plain data: numbers, strings, bigints, booleans, arrays,
   * plain objects, Uint8Arrays), or undefined when it no longer exists. Must return fresh
   * containers: the result may be kept (as a before-image) while the entity changes further.
   */
  save(key: string): unknown;
  /** Puts an entity back as `save` returned it, or removes it (undefined): at start and on a failed write. */
  load(key: string, value: unknown): void;
  /** After a run of `load`s: rebuild derived indexes (heaps, orders) and re-arm timers. */
  loaded?(): void;
}

/** What a subsystem is given to persist its state (`env.persistence`); absent without a data directory. */
export interface Persistence {
  /**
   * Registers a table (before the server starts). Returns `willChange(key)`: call it before
   * changing, creating or removing that entity; the change is committed at the end of the turn.
   */
  table(table: PersistedTable): (key: string) => void;
}

/** For stores built without persistence. */
export const NO_CHANGE_LOG = (_key: string): void => {};
