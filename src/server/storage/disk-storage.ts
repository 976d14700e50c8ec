/**
 * The durable storage of the embedded server: one data directory, one append-only log of batches,
 * snapshots written by background compaction.
 *
 * Life of a change:
 *   a store calls `willChange(key)` → the entity's before-image is kept and a commit is scheduled
 *   for the end of this event-loop turn → `commit()` saves every changed entity, frames them as one
 *   batch record (length, inverted length, CRC32, MessagePack) and appends it → with fsync `always`
 *   an fdatasync runs in the background (off the event loop) while the next turns are served and
 *   written; when it returns, the replies held for the batches it covers (`afterCommit`) are
 *   released, and the next fdatasync covers every batch written meanwhile (group commit); while no
 *   batch is written during those fdatasyncs (nothing overlaps them: one client waiting for its
 *   replies), the commit runs its fdatasync on the event loop instead, as Redis does. With
 *   `everysec` the replies go as soon as the batch is written (so a process crash loses nothing)
 *   and an fdatasync runs about once a second.
 *
 * A failed write (disk full, I/O error) cuts the log back to where the batch began, loads every
 * entity's before-image back into its table (the changes are not applied) and fails the held
 * replies with `StorageWriteError`; reads keep working. If the log cannot be cut back, the storage
 * turns `broken` and refuses every later write.
 *
 * Phases: open ──close()──▶ closed;  open ──write failure without cut-back──▶ broken ──close()──▶ closed
 */
import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';

type CommitCallback = (error?: StorageWriteError) => void;
import { BatchWriter, packTableName } from './codec.js';
import { writeCompactedSnapshot } from './compaction.js';
import { StorageCounters, secondsSince } from './counters.js';
import { StorageStartError, StorageWriteError } from './errors.js';
import { fsyncDir, logName, pathIn } from './files.js';
import { lockDataDir, type DirLock } from './lock.js';
import { recoverDataDir, type Recovered } from './recovery.js';
import { ABSENT, entityKeyWithId, FSYNC_MODES, HEX_ID_KEY, REMOVED, type FsyncMode, type IdKeyForm, type PersistedTable, type Persistence, type WillChange } from './types.js';

export const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

/** The file calls a write goes through; tests swap them to simulate a full disk. */
export interface StorageIo {
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void;
  /** On the event loop (`always` when nothing overlaps a background one); without it every fdatasync runs in the background. */
  fdatasyncSync?(fd: number): void;
}

const nodeIo: StorageIo = { writeSync, fdatasync, fdatasyncSync };

/** `always` with fdatasyncs on the event loop: every this many commits one runs in the background, to see whether other work overlaps it again. */
const LOOP_SYNC_PROBE_EVERY = 16;

export interface DiskStorageOptions {
  readonly dir: string;
  readonly fsync?: FsyncMode;
  readonly log?: (line: string) => void;
  /** Compact once the live log holds this many bytes (and more than the last snapshot). Default 64 MiB. */
  readonly compactAfterBytes?: number;
  readonly io?: StorageIo;
}

/** What the server's reply path needs: is a commit due, and a call once it is done (or failed). */
export interface CommitGate {
  readonly pending: boolean;
  afterCommit(callback: (error?: StorageWriteError) => void): void;
}

export interface StorageStats {
  readonly dir: string;
  readonly fsync: FsyncMode;
  readonly logBytes: number;
  readonly snapshotBytes: number;
  readonly batches: number;
  readonly compactions: number;
  readonly entitiesRestored: number;
}

/** A registered table and the entities it changed this turn (undefined: none yet). */
interface TableChanges {
  readonly table: PersistedTable;
  /** Its name as the batch writes it, packed once (`packTableName`). */
  readonly packedName: Uint8Array;
  /** How its keys given in parts read whole. */
  readonly idKey: IdKeyForm;
  changed: Map<string, unknown> | undefined;
  /**
   * Entities created this turn with their persisted form given (`WillChange`'s `created`): key, id,
   * form, second, key, id, form, second, ... (id undefined: the key is whole; else the key's parts;
   * second undefined: the form is whole, else the pair [form, second]; see `WillChange`).
   */
  readonly created: TurnList;
  /** Entities removed this turn (`WillChange`'s `created` = `REMOVED`) and not otherwise changed in it: key, id, before-image, second, ... (as `created`) */
  readonly removed: TurnList;
  /** In `dirty` this turn. */
  listed: boolean;
}

/** One table's changes of a turn, as the commit writes them. */
type TableBatch = [changes: TableChanges, changed: Map<string, unknown> | undefined, created: unknown[] | undefined, removed: unknown[] | undefined];

/** A list's cells made up front at most (`TurnList`'s hint): a longer one grows as it fills. */
const MAX_LIST_HINT = 4 * 4096;

/**
 * One turn's flat list of entries of four cells (key, id, form or before-image, second). Its array is
 * made at the turn's first entry with as many cells as the last turn used, filled by index and cut
 * to its count at the commit, so that a turn of hundreds of puts or appends does not grow it by
 * copies.
 */
class TurnList {
  private cells: unknown[] | undefined = undefined;
  private count = 0;
  private hint = 0;

  push(key: string, id: bigint | number | undefined, form: unknown, second: unknown): void {
    let cells = this.cells;
    if (cells === undefined) this.cells = cells = new Array(this.hint);
    const n = this.count;
    cells[n] = key;
    cells[n + 1] = id;
    cells[n + 2] = form;
    cells[n + 3] = second;
    this.count = n + 4;
  }

  /** The turn's entries (undefined: none), cut to their count; the list starts the next turn empty. */
  take(): unknown[] | undefined {
    const cells = this.cells;
    if (cells === undefined) return undefined;
    cells.length = this.count;
    this.hint = Math.min(this.count, MAX_LIST_HINT);
    this.count = 0;
    this.cells = undefined;
    return cells;
  }
}

/** The form (or before-image) of the entry at `i` of a `created` or `removed` list: whole, or the pair given in parts. */
function formAt(list: readonly unknown[], i: number): unknown {
  const second = list[i + 3];
  return second === undefined ? list[i + 2] : [list[i + 2], second];
}

/** The whole entity key of the entry at `i` of a `created` or `removed` list (key, id, ...). */
function keyAt(list: readonly unknown[], i: number, form: IdKeyForm): string {
  const id = list[i + 1] as bigint | number | undefined;
  return id === undefined ? (list[i] as string) : entityKeyWithId(list[i] as string, id, form);
}

type Phase = { kind: 'open' } | { kind: 'broken'; error: StorageWriteError } | { kind: 'closed' };

export class DiskStorage implements Persistence, CommitGate {
  readonly dir: string;
  readonly fsync: FsyncMode;
  private phase: Phase = { kind: 'open' };
  private readonly log: (line: string) => void;
  private readonly io: StorageIo;
  private readonly compactAfterBytes: number;
  private readonly tables = new Map<string, PersistedTable>();
  /** The tables changed this turn, each with its changed entities and their before-images. */
  private dirty: TableChanges[] = [];
  /** Callbacks of this turn's batch (not yet written). */
  private waiting: CommitCallback[] = [];
  private scheduled = false;
  /** Encodes each batch, framed, in one buffer reused from batch to batch (written before the next begins). */
  private readonly batch = new BatchWriter();
  /** `always`: callbacks of batches written but not covered by an fdatasync started yet. */
  private written: CommitCallback[] = [];
  private writtenSinceSync = false;
  /** `always`: callbacks released when the fdatasync in flight returns. */
  private syncing: CommitCallback[] | undefined;
  /**
   * `always`: a batch was written while the last background fdatasync ran, so other work overlaps
   * it and the fdatasyncs stay off the event loop. Otherwise (one client waiting for its replies:
   * nothing to overlap) the commit syncs on the loop, as Redis does, which spares the hand-offs to
   * and from the thread pool (about half the context switches of a commit).
   */
  private overlapped = true;
  /** `always`: commits synced on the event loop since the last background fdatasync. */
  private loopSyncs = 0;
  private fd: number;
  private logSeq: number;
  private firstLogSeq: number;
  private logBytes: number;
  private snapshotSeq: number;
  private snapshotBytes: number;
  private unsynced = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private compaction: Promise<void> | undefined;
  private recovered: Recovered | undefined;
  private batches = 0;
  private compactions = 0;
  /** What `/metrics` reports of this storage (read-only for everyone else). */
  readonly counters = new StorageCounters();
  private entitiesRestored = 0;

  private constructor(
    opts: DiskStorageOptions,
    private readonly lock: DirLock,
    recovered: Recovered,
  ) {
    this.dir = opts.dir;
    this.fsync = opts.fsync ?? 'always';
    this.log = opts.log ?? (() => {});
    this.io = opts.io ?? nodeIo;
    this.compactAfterBytes = opts.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    this.recovered = recovered;
    this.logSeq = recovered.logSeq;
    this.firstLogSeq = Math.max(1, recovered.snapshotSeq);
    this.logBytes = recovered.logBytes;
    this.snapshotSeq = recovered.snapshotSeq;
    this.snapshotBytes = recovered.snapshotBytes;
    this.fd = openSync(pathIn(this.dir, logName(this.logSeq)), 'a+');
    if (fstatSync(this.fd).size !== this.logBytes) throw new StorageStartError(`log ${logName(this.logSeq)} changed during start`);
    if (this.fsync === 'everysec') {
      this.syncTimer = setInterval(() => this.syncInBackground(), 1000);
      this.syncTimer.unref();
    }
  }

  /**
   * Checks the directory, takes its lock and reads what it holds (tables are loaded later, by
   * `restore()`, once the subsystems have registered them). Throws `StorageStartError`.
   */
  static open(opts: DiskStorageOptions): DiskStorage {
    const { dir } = opts;
    const fsync = opts.fsync ?? 'always';
    if (!FSYNC_MODES.includes(fsync)) throw new StorageStartError(`invalid fsync mode: ${String(fsync)} (expected always or everysec)`);
    let isDir: boolean;
    try {
      isDir = statSync(dir).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new StorageStartError(code === 'ENOENT' ? `data directory ${dir} does not exist` : `data directory ${dir}: ${code ?? String(err)}`, { cause: err });
    }
    if (!isDir) throw new StorageStartError(`data directory ${dir} is not a directory`);
    const lock = lockDataDir(dir);
    try {
      const recovered = recoverDataDir(dir, opts.log ?? (() => {}));
      // A fresh directory gets its first segment now, so that an unwritable one fails here.
      closeSync(openSync(pathIn(dir, logName(recovered.logSeq)), 'a'));
      fsyncDir(dir);
      return new DiskStorage(opts, lock, recovered);
    } catch (err) {
      lock.release();
      if (err instanceof StorageStartError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new StorageStartError(`data directory ${dir}: ${code === 'EACCES' || code === 'EROFS' ? `not writable (${code})` : (err as Error).message}`, { cause: err });
    }
  }

  /** `data directory DIR (fsync always)` */
  get description(): string {
    return `data directory ${this.dir} (fsync ${this.fsync})`;
  }

  get stats(): StorageStats {
    return {
      dir: this.dir,
      fsync: this.fsync,
      logBytes: this.logBytes,
      snapshotBytes: this.snapshotBytes,
      batches: this.batches,
      compactions: this.compactions,
      entitiesRestored: this.entitiesRestored,
    };
  }

  // ----- Persistence ---------------------------------------------------------------------------

  table(table: PersistedTable): WillChange {
    if (this.tables.has(table.name)) throw new Error(`storage table ${table.name} is registered twice`);
    this.tables.set(table.name, table);
    // Each table's changes of the turn hang off its own record: no lookup of the table per change.
    const changes: TableChanges = { table, packedName: packTableName(table.name), idKey: table.idKey ?? HEX_ID_KEY, changed: undefined, created: new TurnList(), removed: new TurnList(), listed: false };
    return (key, before, created, id, second) => this.willChange(changes, key, before, created, id, second);
  }

  private willChange(changes: TableChanges, key: string, before: unknown, created: unknown, id: bigint | number | undefined, second: unknown): void {
    if (!changes.listed) {
      changes.listed = true;
      this.dirty.push(changes);
    }
    if (created === REMOVED) {
      // A removal for good, its before-image given: a flat list written after `changed`. Already
      // changed this turn: that entry keeps the first before-image, and its `save` finds it gone.
      const changed = changes.changed;
      if (changed === undefined || !changed.has(id === undefined ? key : entityKeyWithId(key, id, changes.idKey))) {
        changes.removed.push(key, id, before, second);
      }
    } else if (created !== undefined && before === ABSENT) {
      // A new entity with its form: a flat list, no map operation and no `save` call at the commit.
      changes.created.push(key, id, created, second);
    } else {
      if (id !== undefined) key = entityKeyWithId(key, id, changes.idKey);
      let changed = changes.changed;
      if (changed === undefined) changes.changed = changed = new Map();
      // The before-image (for a rollback): given by the caller, none for an entity being created, else saved now.
      if (!changed.has(key)) changed.set(key, before === ABSENT ? undefined : before === undefined ? changes.table.save(key) : before);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.commit());
    }
  }

  /** Loads what recovery read into the registered tables. Entities of unknown tables are kept as they are. */
  restore(): void {
    const recovered = this.recovered;
    if (!recovered) return;
    this.recovered = undefined;
    let orphans = 0;
    // A table at a time, with no per-entity wrapper objects (a million records start in seconds).
    for (const [name, entities] of recovered.fold.byTable()) {
      const table = this.tables.get(name);
      if (!table) {
        orphans += entities.size;
        continue;
      }
      for (const [key, value] of entities) table.load(key, value);
      this.entitiesRestored += entities.size;
    }
    if (orphans) this.log(`storage: ${orphans} stored record(s) of tables this server does not know were skipped`);
    for (const table of this.tables.values()) table.loaded?.();
  }

  // ----- CommitGate ------------------------------------------------------------------------------

  /** True while some change is not yet durable: a reply now must wait (`afterCommit`). */
  get pending(): boolean {
    return this.scheduled || this.writtenSinceSync || this.syncing !== undefined;
  }

  /** Calls back once every change made so far is durable (at once when it already is). */
  afterCommit(callback: CommitCallback): void {
    if (this.scheduled) this.waiting.push(callback);
    else if (this.writtenSinceSync) this.written.push(callback);
    else if (this.syncing) this.syncing.push(callback);
    else callback();
  }

  // ----- commit ------------------------------------------------------------------------------------

  /** Writes the turn's changes as one batch (run at the end of the turn; `close()` runs it too). */
  commit(): void {
    this.scheduled = false;
    const dirty: TableBatch[] = [];
    for (const changes of this.dirty) {
      dirty.push([changes, changes.changed, changes.created.take(), changes.removed.take()]);
      changes.changed = undefined;
      changes.listed = false;
    }
    const waiting = this.waiting;
    this.dirty = [];
    this.waiting = [];
    let error: StorageWriteError | undefined;
    if (dirty.length > 0) {
      try {
        this.append(dirty);
      } catch (err) {
        error = err instanceof StorageWriteError ? err : new StorageWriteError(`storage write failed: ${(err as Error)?.message ?? String(err)}`, undefined, { cause: err });
        this.rollBack(dirty);
        this.counters.failed(error);
      }
    }
    if (error || this.fsync === 'everysec') {
      for (const cb of waiting) cb(error);
    } else {
      for (const cb of waiting) this.written.push(cb);
      if (this.syncsOnLoop()) this.syncOnLoop();
      else this.startSync();
    }
    if (!error) this.maybeCompact();
  }

  /** `always`: whether this commit's fdatasync runs on the event loop (nothing else pending, nothing overlapping of late). */
  private syncsOnLoop(): boolean {
    if (this.overlapped || this.syncing || !this.writtenSinceSync || this.io.fdatasyncSync === undefined || this.phase.kind !== 'open') return false;
    // Now and then a background one, to notice when other work comes to overlap it again.
    if (++this.loopSyncs < LOOP_SYNC_PROBE_EVERY) return true;
    this.loopSyncs = 0;
    return false;
  }

  /** `always`: fdatasync on the event loop, then the replies of every batch written go. */
  private syncOnLoop(): void {
    const released = this.written;
    this.written = [];
    this.writtenSinceSync = false;
    const syncStart = performance.now();
    try {
      this.io.fdatasyncSync!(this.fd);
    } catch (err) {
      this.counters.synced(secondsSince(syncStart));
      this.syncFailed(err as NodeJS.ErrnoException, released);
      return;
    }
    this.counters.synced(secondsSince(syncStart));
    for (const cb of released) cb();
  }

  /** A failed fdatasync: the storage refuses further writes, and `released` plus every batch written since fail with it. */
  private syncFailed(err: NodeJS.ErrnoException, released: CommitCallback[]): void {
    const code = err.code;
    const error = new StorageWriteError(`storage fsync failed (${code ?? err.message}): the server refuses further writes`, code, { cause: err });
    // After a failed fsync the kernel's page cache can no longer be trusted: stop writing.
    this.phase = { kind: 'broken', error };
    this.counters.failed(error);
    this.log(`storage: ${error.message}`);
    // The batches written meanwhile fail with it, and none is pending any more: a reply held
    // after this (a read) would otherwise wait in `written` for an fdatasync that never comes.
    const all = [...released, ...this.written];
    this.written = [];
    this.writtenSinceSync = false;
    for (const cb of all) cb(error);
  }

  /** `always`: one fdatasync in flight at a time, covering every batch written before it started. */
  private startSync(): void {
    if (this.syncing || !this.writtenSinceSync || this.phase.kind !== 'open') return;
    this.syncing = this.written;
    this.written = [];
    this.writtenSinceSync = false;
    const syncStart = performance.now();
    this.io.fdatasync(this.fd, (err) => {
      this.counters.synced(secondsSince(syncStart));
      const released = this.syncing ?? [];
      this.syncing = undefined;
      if (err) {
        this.syncFailed(err, released);
        return;
      }
      // Batches written while it ran: other work overlaps the fdatasyncs, which stay in the background.
      this.overlapped = this.writtenSinceSync;
      for (const cb of released) cb();
      this.startSync();
      this.maybeCompact();
    });
  }

  /** Makes everything written durable now (synchronously) and releases what waited for it. */
  private syncNow(): void {
    if (this.syncing) throw new Error('syncNow during an fdatasync in flight');
    if (this.phase.kind === 'open') {
      const syncStart = performance.now();
      fdatasyncSync(this.fd);
      this.counters.synced(secondsSince(syncStart));
    }
    this.writtenSinceSync = false;
    this.unsynced = false;
    const released = this.written;
    this.written = [];
    for (const cb of released) cb();
  }

  /** Resolves once no fdatasync is in flight (more may start later). */
  private async syncIdle(): Promise<void> {
    while (this.syncing) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private append(dirty: readonly TableBatch[]): void {
    if (this.phase.kind === 'broken') throw this.phase.error;
    if (this.phase.kind === 'closed') throw new StorageWriteError('storage is closed', undefined);
    const batch = this.batch;
    batch.begin();
    for (const [{ table, packedName: name, idKey }, changed, created, removed] of dirty) {
      // Created entities first: a later change of one this turn is in `changed`, written after it (the latest wins).
      if (created !== undefined)
        for (let i = 0; i < created.length; i += 4) {
          const second = created[i + 3];
          if (second === undefined) batch.add(name, created[i] as string, created[i + 2], created[i + 1] as bigint | number | undefined, idKey);
          else batch.addPair(name, created[i] as string, created[i + 2], second, created[i + 1] as bigint | number | undefined, idKey);
        }
      if (changed !== undefined) for (const key of changed.keys()) batch.add(name, key, table.save(key));
      // Removals last: an entity created and removed this turn ends removed.
      if (removed !== undefined) for (let i = 0; i < removed.length; i += 4) batch.add(name, removed[i] as string, undefined, removed[i + 1] as bigint | number | undefined, idKey);
    }
    const frame = batch.frame();
    const start = this.logBytes;
    try {
      let done = 0;
      while (done < frame.length) done += this.io.writeSync(this.fd, frame, done, frame.length - done, start + done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      try {
        ftruncateSync(this.fd, start);
      } catch {
        this.phase = { kind: 'broken', error: new StorageWriteError(`storage unusable: the log could not be cut back after a failed write (${code ?? String(err)})`, code) };
      }
      const what = code === 'ENOSPC' ? 'disk full' : (code ?? (err as Error)?.message ?? String(err));
      throw new StorageWriteError(`storage write failed (${what}): the write was not applied`, code, { cause: err });
    }
    if (this.fsync === 'always') this.writtenSinceSync = true;
    else this.unsynced = true;
    this.logBytes = start + frame.length;
    this.batches++;
    this.counters.wrote(frame.length);
  }

  private rollBack(dirty: readonly TableBatch[]): void {
    for (const [{ table, idKey }, changed, created, removed] of dirty) {
      if (changed !== undefined) for (const [key, before] of changed) table.load(key, before);
      if (removed !== undefined) for (let i = 0; i < removed.length; i += 4) table.load(keyAt(removed, i, idKey), formAt(removed, i));
      // Entities created this turn did not exist before it, whatever happened to them since: removed last.
      if (created !== undefined) for (let i = 0; i < created.length; i += 4) table.load(keyAt(created, i, idKey), undefined);
      table.loaded?.();
    }
  }

  private syncInBackground(): void {
    if (!this.unsynced || this.phase.kind !== 'open') return;
    this.unsynced = false;
    const syncStart = performance.now();
    fdatasync(this.fd, (err) => {
      this.counters.synced(secondsSince(syncStart));
      if (err) this.log(`storage: background fsync failed: ${err.message}`);
    });
  }

  // ----- compaction --------------------------------------------------------------------------------

  private maybeCompact(): void {
    if (this.compaction || this.syncing || this.phase.kind !== 'open') return;
    if (this.logBytes < this.compactAfterBytes || this.logBytes < this.snapshotBytes) return;
    void this.compact();
  }

  /** Rotates the log and folds everything before the new segment into a snapshot, in the background. */
  async compact(): Promise<void> {
    await this.syncIdle();
    if (this.compaction) return this.compaction;
    if (this.phase.kind !== 'open' || this.syncing) return;
    if (this.scheduled) this.commit();
    if (this.syncing) return; // the commit started one: the next commit will try again
    const compactStart = performance.now();
    const upTo = this.logSeq;
    const next = upTo + 1;
    const fd = openSync(pathIn(this.dir, logName(next)), 'a+');
    fsyncDir(this.dir);
    this.syncNow();
    closeSync(this.fd);
    this.fd = fd;
    this.logSeq = next;
    this.logBytes = 0;
    const run = writeCompactedSnapshot(this.dir, this.snapshotSeq, this.firstLogSeq, upTo).then(
      (result) => {
        this.snapshotSeq = result.snapshotSeq;
        this.snapshotBytes = result.snapshotBytes;
        this.firstLogSeq = next;
        this.compactions++;
        this.counters.compacted(secondsSince(compactStart), true);
        this.log(`storage: compacted ${result.entities} record(s) into a ${result.snapshotBytes}-byte snapshot`);
      },
      (err: unknown) => {
        this.counters.compacted(secondsSince(compactStart), false);
        this.log(`storage: compaction failed (will retry later): ${(err as Error)?.message ?? String(err)}`);
      },
    );
    this.compaction = run.finally(() => {
      this.compaction = undefined;
    });
    return this.compaction;
  }

  // ----- close -------------------------------------------------------------------------------------

  /** Commits what is due, waits for a compaction under way, syncs and releases the directory. */
  async close(): Promise<void> {
    if (this.phase.kind === 'closed') return;
    if (this.scheduled) this.commit();
    if (this.syncTimer) clearInterval(this.syncTimer);
    await this.compaction;
    await this.syncIdle();
    if (this.scheduled) this.commit();
    await this.syncIdle();
    try {
      this.syncNow();
    } catch (err) {
      this.log(`storage: final fsync failed: ${(err as Error).message}`);
    }
    this.phase = { kind: 'closed' };
    closeSync(this.fd);
    this.lock.release();
  }
}
