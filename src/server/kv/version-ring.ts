/**
 * The older versions of one KV entry, newest first, at most `capacity` of them: a ring, so a write
 * to a key with a full history stores one slot instead of moving every kept version along (an
 * `unshift` on a 64-entry array cost ~0.3 µs per put, mostly write barriers on the moved slots).
 *
 * Physically the slots hold the versions oldest to newest, rotated so that the newest is at
 * `newest`; while the ring is not full they are in order and `newest` is the last slot.
 */
export interface Version {
  readonly version: bigint;
  readonly value: Uint8Array;
  readonly timestampNs: bigint;
}

export class VersionRing {
  private slots: Version[] = [];
  private newest = -1;

  constructor(readonly capacity: number) {}

  /** A ring holding `newestFirst` (at most `capacity` of them are kept). */
  static from(newestFirst: readonly Version[], capacity: number): VersionRing {
    const ring = new VersionRing(capacity);
    const kept = newestFirst.slice(0, capacity).reverse();
    ring.slots = kept;
    ring.newest = kept.length - 1;
    return ring;
  }

  get length(): number {
    return this.slots.length;
  }

  /** The `i`-th newest version (0: the newest). */
  at(i: number): Version {
    const n = this.slots.length;
    return this.slots[(this.newest - i + n) % n];
  }

  /** The version `push` would drop now: the oldest when the ring is full (with capacity 0, none kept: undefined). */
  get oldestIfFull(): Version | undefined {
    if (this.capacity === 0 || this.slots.length < this.capacity) return undefined;
    return this.at(this.slots.length - 1);
  }

  /** Adds `v` as the newest. Returns the version dropped to make room (`v` itself when nothing is kept). */
  push(v: Version): Version | undefined {
    if (this.capacity === 0) return v;
    if (this.slots.length < this.capacity) {
      this.slots.push(v);
      this.newest = this.slots.length - 1;
      return undefined;
    }
    this.newest = (this.newest + 1) % this.capacity;
    const dropped = this.slots[this.newest];
    this.slots[this.newest] = v;
    return dropped;
  }

  /** The kept version `version`, by binary search (versions fall from newest to oldest). */
  find(version: bigint): Version | undefined {
    let lo = 0;
    let hi = this.slots.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.at(mid);
      if (v.version === version) return v;
      if (v.version > version) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The versions, newest first. */
  toArray(): Version[] {
    const out: Version[] = [];
    for (let i = 0; i < this.slots.length; i++) out.push(this.at(i));
    return out;
  }
}
