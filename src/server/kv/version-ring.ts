/**
 * The older versions of one KV entry, newest first, at most `capacity` of them: a ring, so a write
 * to a key with a full history stores one slot instead of moving every kept version along (an
 * `unshift` on a 64-entry array cost ~0.3 µs per put, mostly write barriers on the moved slots).
 *
 * Kept flat, three cells per version (version, timestamp, value: the entry's own BigInts and bytes,
 * referenced again) in one array sized by doubling, not as an object per version: a put then
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

type Cell = bigint | Uint8Array;

/** Cells per version: version, timestamp, value. */
const CELLS = 3;

export class VersionRing {
  /** `CELLS` cells per slot; its length is the slots allocated times `CELLS` (grown by doubling, exactly). */
  private cells: Cell[] = [];
  private size = 0;
  private newest = -1;

  constructor(readonly capacity: number) {}

  /** A ring holding `newestFirst` (at most `capacity` of them are kept). */
  static from(newestFirst: readonly Version[], capacity: number): VersionRing {
    const ring = new VersionRing(capacity);
    const kept = newestFirst.slice(0, capacity);
    for (let i = kept.length - 1; i >= 0; i--) ring.add(kept[i].version, kept[i].value, kept[i].timestampNs);
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

  /** The version `push` would drop now: the oldest when the ring is full (with capacity 0, none kept: undefined). */
  get oldestIfFull(): Version | undefined {
    if (this.capacity === 0 || this.size < this.capacity) return undefined;
    return this.at(this.size - 1);
  }

  /** Adds a version as the newest (the oldest is dropped when the ring is full). Allocates nothing but growth. */
  add(version: bigint, value: Uint8Array, timestampNs: bigint): void {
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
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const found = this.cells[this.slotOf(mid) * CELLS] as bigint;
      if (found === version) return this.at(mid);
      if (found > version) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
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
