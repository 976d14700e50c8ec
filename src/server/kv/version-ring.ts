/**
 * The older versions of one KV entry, newest first, at most `capacity` of them: a ring, so a write
 * to a key with a full history stores one slot instead of moving every kept version along (an
 * `unshift` on a 64-entry array cost ~0.3 µs per put, mostly write barriers on the moved slots).
 *
 * Kept flat, six cells per version in one array sized by doubling, not as an object per version:
 * the version number, its timestamp (a BigInt the store shares between the writes of one
 * millisecond), where its value's bytes are (buffer, offset, length: values sit in pools shared by
 * many of them, so no view object is needed per version; a put gives the buffer, `add` of a view
 * at start keeps that view) and its state when it was current (`VersionState`). A put then
 * allocates nothing here, and a deep history holds no small objects made per write, which would
 * live long enough to be promoted and collected again (a view and a BigInt per put were most of
 * what the young generation copied). `Version` objects and value views are made only when the
 * history is read (a durable put's dropped version as its before-image: a view that lives until
 * the turn's commit).
 *
 * Version numbers are kept as numbers (exact to 2^53; a key is never written that often); the
 * object forms give them as BigInts, as the protocol does.
 *
 * Physically the slots hold the versions oldest to newest, rotated so that the newest is at
 * `newest`; while the ring is not full they are in order and `newest` is the last slot.
 */
export interface Version {
  readonly version: bigint;
  readonly value: Uint8Array;
  readonly timestampNs: bigint;
}

/**
 * What a version was when it was the current one: `true` a tombstone, a number its expiry (ms on
 * the server clock), undefined live and permanent. Kept so that a rolled-back write (a failed
 * durable commit) makes the version before it current again exactly as it was.
 */
export type VersionState = true | number | undefined;

type Cell = number | bigint | ArrayBufferLike | Uint8Array | VersionState;

/** Cells per version: version, timestamp, value buffer, value offset, value length, state. */
const CELLS = 6;
const VERSION = 0;
const TIMESTAMP = 1;
const BUFFER = 2;
const OFFSET = 3;
const LENGTH = 4;
const STATE = 5;

export class VersionRing {
  /** `CELLS` cells per slot; its length is the slots allocated times `CELLS` (grown by doubling, exactly). */
  private cells: Cell[] = [];
  private size = 0;
  private newest = -1;

  constructor(readonly capacity: number) {}

  /** A ring holding `newestFirst` (at most `capacity` of them are kept). */
  static from(newestFirst: ReadonlyArray<Version & { readonly state?: VersionState }>, capacity: number): VersionRing {
    const ring = new VersionRing(capacity);
    const kept = newestFirst.slice(0, capacity);
    for (let i = kept.length - 1; i >= 0; i--) ring.add(kept[i].version, kept[i].value, kept[i].timestampNs, kept[i].state);
    return ring;
  }

  get length(): number {
    return this.size;
  }

  /** The `i`-th newest version (0: the newest), as a new object. */
  at(i: number): Version {
    const at = this.slotOf(i) * CELLS;
    return { version: BigInt(this.cells[at + VERSION] as number), value: this.valueOfCell(at), timestampNs: this.cells[at + TIMESTAMP] as bigint };
  }

  /** The `i`-th newest version's number (no object made: the durable write path reads the parts it logs). */
  versionAt(i: number): bigint {
    return BigInt(this.numberAt(i));
  }

  /** `versionAt` as a number (no BigInt made). */
  numberAt(i: number): number {
    return this.cells[this.slotOf(i) * CELLS + VERSION] as number;
  }

  /** The `i`-th newest version's value (the view kept, else a new view of its bytes). */
  valueAt(i: number): Uint8Array {
    return this.valueOfCell(this.slotOf(i) * CELLS);
  }

  /** The `i`-th newest version's timestamp (ns). */
  timestampAt(i: number): bigint {
    return this.cells[this.slotOf(i) * CELLS + TIMESTAMP] as bigint;
  }

  /** The state of the `i`-th newest version when it was current. */
  stateAt(i: number): VersionState {
    return this.cells[this.slotOf(i) * CELLS + STATE] as VersionState;
  }

  /** The version `push` would drop now: the oldest when the ring is full (with capacity 0, none kept: undefined). */
  get oldestIfFull(): Version | undefined {
    if (this.capacity === 0 || this.size < this.capacity) return undefined;
    return this.at(this.size - 1);
  }

  /** Adds a version as the newest (the oldest is dropped when the ring is full). */
  add(version: bigint | number, value: Uint8Array, timestampNs: bigint, state?: VersionState): void {
    this.addParts(Number(version), value, 0, value.length, timestampNs, state);
  }

  /**
   * `add` with the value given as where its bytes are, `length` bytes at `offset` of `bytes` when
   * that is a buffer (a view: the value itself, `offset` and `length` unused): allocates nothing but growth.
   */
  addParts(version: number, bytes: ArrayBufferLike | Uint8Array, offset: number, length: number, timestampNs: bigint, state: VersionState): void {
    const capacity = this.capacity;
    if (capacity === 0) return;
    let slot: number;
    if (this.size < capacity) {
      if (this.size * CELLS === this.cells.length) this.grow();
      slot = this.size++;
    } else slot = this.newest + 1 === capacity ? 0 : this.newest + 1;
    this.newest = slot;
    const at = slot * CELLS;
    const c = this.cells;
    c[at + VERSION] = version;
    c[at + TIMESTAMP] = timestampNs;
    c[at + BUFFER] = bytes;
    c[at + OFFSET] = offset;
    c[at + LENGTH] = length;
    c[at + STATE] = state;
  }

  /** `add` of a version object. Returns the version dropped to make room (`v` itself when nothing is kept). */
  push(v: Version): Version | undefined {
    if (this.capacity === 0) return v;
    const dropped = this.oldestIfFull;
    this.add(v.version, v.value, v.timestampNs);
    return dropped;
  }

  /** The kept version `version`, by binary search (versions fall from newest to oldest). */
  find(version: bigint | number): Version | undefined {
    const i = this.indexOf(version);
    return i < 0 ? undefined : this.at(i);
  }

  /** Which newest the kept version `version` is (0: the newest), -1 when not kept. */
  indexOf(version: bigint | number): number {
    const wanted = Number(version);
    if (!Number.isSafeInteger(wanted)) return -1;
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const found = this.cells[this.slotOf(mid) * CELLS + VERSION] as number;
      if (found === wanted) return mid;
      if (found > wanted) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The versions, newest first. */
  toArray(): Version[] {
    const out: Version[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.at(i));
    return out;
  }

  /** The value whose cells start at `at` (the view kept, else a new one). */
  private valueOfCell(at: number): Uint8Array {
    const c = this.cells;
    const bytes = c[at + BUFFER] as ArrayBufferLike | Uint8Array;
    return ArrayBuffer.isView(bytes) ? bytes : new Uint8Array(bytes, c[at + OFFSET] as number, c[at + LENGTH] as number);
  }

  /** The physical slot of the `i`-th newest version. */
  private slotOf(i: number): number {
    const n = this.size;
    return (this.newest - i + n) % n;
  }

  /** Doubles the slots, up to the capacity (only while the ring is not full: its slots are then in order). */
  private grow(): void {
    const slots = Math.min(this.capacity, Math.max(1, this.size * 2));
    const cells = new Array<Cell>(slots * CELLS);
    const used = this.size * CELLS;
    for (let i = 0; i < used; i++) cells[i] = this.cells[i];
    this.cells = cells;
  }
}
