/**
 * The older versions of one KV entry, newest first, at most `capacity` of them: a ring, so a write
 * to a key with a full history stores one slot instead of moving every kept version along (an
 * `unshift` on a 64-entry array cost ~0.3 µs per put, mostly write barriers on the moved slots).
 *
 * Kept flat, four cells per version (version, timestamp, value: the entry's own BigInts and bytes,
 * referenced again; and its state when it was current, `VersionState`) in one array sized by
 * doubling, not as an object per version: a put then
 * allocates nothing here, and a deep history is not a heap of small objects that live long enough
 * to be promoted and collected again. `Version` objects are made only when the history is read.
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

type Cell = bigint | Uint8Array | VersionState;

/** Cells per version: version, timestamp, value, state. */
const CELLS = 4;

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
    const c = this.cells;
    return { version: c[at] as bigint, value: c[at + 2] as Uint8Array, timestampNs: c[at + 1] as bigint };
  }

  /** The `i`-th newest version's number (no object made: the durable write path reads the parts it logs). */
  versionAt(i: number): bigint {
    return this.cells[this.slotOf(i) * CELLS] as bigint;
  }

  /** The `i`-th newest version's value. */
  valueAt(i: number): Uint8Array {
    return this.cells[this.slotOf(i) * CELLS + 2] as Uint8Array;
  }

  /** The `i`-th newest version's timestamp (ns). */
  timestampAt(i: number): bigint {
    return this.cells[this.slotOf(i) * CELLS + 1] as bigint;
  }

  /** The state of the `i`-th newest version when it was current. */
  stateAt(i: number): VersionState {
    return this.cells[this.slotOf(i) * CELLS + 3] as VersionState;
  }

  /** The version `push` would drop now: the oldest when the ring is full (with capacity 0, none kept: undefined). */
  get oldestIfFull(): Version | undefined {
    if (this.capacity === 0 || this.size < this.capacity) return undefined;
    return this.at(this.size - 1);
  }

  /** Adds a version as the newest (the oldest is dropped when the ring is full). Allocates nothing but growth. */
  add(version: bigint, value: Uint8Array, timestampNs: bigint, state?: VersionState): void {
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
    c[at] = version;
    c[at + 1] = timestampNs;
    c[at + 2] = value;
    c[at + 3] = state;
  }

  /** `add` of a version object. Returns the version dropped to make room (`v` itself when nothing is kept). */
  push(v: Version): Version | undefined {
    if (this.capacity === 0) return v;
    const dropped = this.oldestIfFull;
    this.add(v.version, v.value, v.timestampNs);
    return dropped;
  }

  /** The kept version `version`, by binary search (versions fall from newest to oldest). */
  find(version: bigint): Version | undefined {
    const i = this.indexOf(version);
    return i < 0 ? undefined : this.at(i);
  }

  /** Which newest the kept version `version` is (0: the newest), -1 when not kept. */
  indexOf(version: bigint): number {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const found = this.cells[this.slotOf(mid) * CELLS] as bigint;
      if (found === version) return mid;
      if (found > version) lo = mid + 1;
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
