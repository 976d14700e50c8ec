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

/** One kind of persisted entity of a subsystem: how to save it, load it back, and rebuild after loading. */
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
  /** How a key given in parts (`WillChange`'s `id`) reads whole. Default `HEX_ID_KEY`. */
  readonly idKey?: IdKeyForm;
}

/**
 * How an entity key given in parts reads whole: the prefix (`WillChange`'s `key`), `separator`,
 * the id in `radix` (lower case), `suffix`. ASCII separator and suffix.
 */
export interface IdKeyForm {
  readonly separator: string;
  readonly radix: 10 | 16;
  readonly suffix: string;
  /** The id's digits zero-padded to at least this many (a stream record's sequence under its millisecond's prefix). */
  readonly width?: number;
}

/** `prefix` NUL `id` in hex: KV versions (`ns\0key\0versionHex`) and stream records (`ns\0stream\0idHex`). */
export const HEX_ID_KEY: IdKeyForm = { separator: '\u0000', radix: 16, suffix: '' };

/** Passed as `before` to `WillChange` for an entity about to be created: a rollback removes it. */
export const ABSENT: unique symbol = Symbol('absent');

/**
 * Passed as `created` to `WillChange` (with `before` = the entity's stored form) for an entity
 * about to be removed for good this turn (not re-created or changed again in it): logged as a
 * removal with no map operation and no `save` call at the commit (a KV put that drops its key's
 * oldest kept version).
 */
export const REMOVED: unique symbol = Symbol('removed');

/**
 * Announces a change of one entity, before it is made; committed at the end of the turn.
 * `before` spares the storage a `save(key)` call for the before-image (kept for a rollback):
 * `ABSENT` when the entity does not exist yet, or its current persisted form when the caller has
 * it at hand (fresh containers, exactly what `save` would return). Omitted: the storage calls `save`.
 *
 * `created` (with `before` = `ABSENT` only): the new entity's persisted form, known now. It is
 * logged as given, with no `save` call and no lookup by key (the hot path of appends and KV
 * versions). It must not change later this turn unless announced again (by `willChange(key)` or
 * `willChange(key, itsForm)`), which the commit then writes after it; a rollback removes it.
 * The form may also be an object that writes its own encoding (`SelfPacking` in `plain-packer.ts`:
 * the bytes of the plain form it stands for), read by the table's `load` as that plain form.
 * `created` = `REMOVED`: see there.
 *
 * `id` (a non-negative integer): the entity's key is given in parts, `key` its prefix and `id` the
 * rest in the table's `idKey` form (default: NUL, `id` in lower-case hex; `entityKeyWithId`), so
 * that the hot paths (a KV version, a stream record, an enqueued message) build no key string: the
 * commit writes the key's bytes from its parts (the same bytes as the built string), and the string
 * is built only where one is needed (a rollback, or an entity also in the turn's map of changes).
 *
 * `second` (with `created` given and `before` = `ABSENT`, or with `created` = `REMOVED`; not
 * undefined): the form is the pair `[created, second]` (for a removal the before-image is
 * `[before, second]`), given in parts so that no pair is made per change: the commit writes the
 * bytes of the pair, and a rollback builds it (a KV version `[value, timestampNs]`).
 */
export type WillChange = (key: string, before?: unknown, created?: unknown, id?: bigint | number, second?: unknown) => void;

/** The entity key of `prefix` and `id` in `form`: what `WillChange` means by a key given with an `id`. */
export const entityKeyWithId = (prefix: string, id: bigint | number, form: IdKeyForm = HEX_ID_KEY): string =>
  `${prefix}${form.separator}${form.width === undefined ? id.toString(form.radix) : id.toString(form.radix).padStart(form.width, '0')}${form.suffix}`;

/** What a subsystem's store gets from a server with a data directory: its tables' change announcements. */
export interface Persistence {
  /**
   * Registers a table (before the server starts). Returns `willChange(key, before?)`: call it
   * before changing, creating or removing that entity.
   */
  table(table: PersistedTable): WillChange;
}

/** For stores built without persistence. */
export const NO_CHANGE_LOG: WillChange = () => {};
