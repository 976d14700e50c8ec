/**
 * Payload bytes of many small records packed into a few large buffers ("chunks"), so that a
 * queued message costs its bytes and not an `ArrayBuffer`, its backing store and a typed array
 * (~300 bytes of overhead per message when each payload has a buffer of its own).
 *
 * - `add` copies the bytes once and returns an *address* (`chunk · 2^32 + offset`), a plain number
 *   the caller keeps next to the length. The received buffer is never kept: a subarray of a read
 *   buffer would keep the whole read buffer alive.
 * - Chunks are append-only: bytes are never overwritten, so a `view` handed out earlier (a reply
 *   being encoded, a value the storage holds as a before-image) stays valid after `free` and after
 *   a relocation; the garbage collector reclaims a chunk once the slab has dropped it and no view
 *   refers to it.
 * - `free` keeps live-byte counts per chunk and drops a chunk as soon as nothing in it is live.
 *   A chunk pinned by a few survivors is reclaimed by relocation: the owner calls `compact` when
 *   `needsCompaction` says so and moves each payload for which `isSparse` is true.
 * - Chunks start small (4 KB, doubling up to 1 MB), so an owner with a handful of payloads holds
 *   a few KB; payloads of a quarter chunk or more get an exact-size chunk of their own.
 */
const ADDRESS_SPAN = 2 ** 32;
const FIRST_CHUNK = 4 * 1024;
const MAX_CHUNK = 1024 * 1024;
const OWN_CHUNK_FROM = MAX_CHUNK / 4;
/** Held bytes tolerated beyond three times the live bytes before relocation pays. */
const SLACK = MAX_CHUNK;
const EMPTY = new Uint8Array(0);

/** The next chunk size (doubling from 4 KB), at least large enough for `n` bytes (`n` < `OWN_CHUNK_FROM`). */
function chunkSizeFor(n: number, next: number): number {
  let size = next;
  while (size < n) size *= 2;
  return Math.min(MAX_CHUNK, size);
}

export class PayloadSlab {
  private readonly chunks: Array<Uint8Array | undefined> = [];
  /** Live bytes per chunk. */
  private readonly liveIn: number[] = [];
  private readonly freeIds: number[] = [];
  /** The chunk new payloads are appended to (-1 = none yet). */
  private current = -1;
  private used = 0;
  private nextSize = FIRST_CHUNK;
  /** Bytes of payloads still referenced by the owner. */
  liveBytes = 0;
  /** Bytes of all chunks the slab holds. */
  heldBytes = 0;

  /** Copies `bytes` in; returns the address to pass to `view` and `free` with the same length. */
  add(bytes: Uint8Array): number {
    const n = bytes.length;
    if (n === 0) return 0;
    this.liveBytes += n;
    if (n >= OWN_CHUNK_FROM) {
      const id = this.newChunk(n);
      this.chunks[id]!.set(bytes);
      this.liveIn[id] = n;
      return id * ADDRESS_SPAN;
    }
    let chunk = this.current < 0 ? undefined : this.chunks[this.current];
    if (!chunk || this.used + n > chunk.length) {
      this.retireCurrent();
      const size = chunkSizeFor(n, this.nextSize);
      this.nextSize = Math.min(MAX_CHUNK, size * 2);
      this.current = this.newChunk(size);
      this.used = 0;
      chunk = this.chunks[this.current]!;
    }
    const offset = this.used;
    chunk.set(bytes, offset);
    this.used += n;
    this.liveIn[this.current] += n;
    return this.current * ADDRESS_SPAN + offset;
  }

  /** The bytes at `address` (a view into the chunk: valid for as long as it is referenced). */
  view(address: number, length: number): Uint8Array {
    if (length === 0) return EMPTY;
    const id = Math.floor(address / ADDRESS_SPAN);
    const offset = address - id * ADDRESS_SPAN;
    return this.chunks[id]!.subarray(offset, offset + length);
  }

  /** The payload at `address` is no longer referenced by the owner. */
  free(address: number, length: number): void {
    if (length === 0) return;
    const id = Math.floor(address / ADDRESS_SPAN);
    this.liveBytes -= length;
    const left = (this.liveIn[id] -= length);
    if (left === 0 && id !== this.current) this.dropChunk(id);
  }

  /** Whether relocating the payloads of sparse chunks would give back memory worth the copying. */
  needsCompaction(): boolean {
    return this.heldBytes > 3 * this.liveBytes + SLACK;
  }

  /** Whether the payload at `address` sits in a chunk that is mostly free (relocate it). */
  isSparse(address: number, length: number): boolean {
    if (length === 0) return false;
    const id = Math.floor(address / ADDRESS_SPAN);
    return id !== this.current && this.liveIn[id]! * 2 < this.chunks[id]!.length;
  }

  /** Moves a payload to the current chunk; returns its new address. */
  relocate(address: number, length: number): number {
    const moved = this.add(this.view(address, length));
    this.free(address, length);
    return moved;
  }

  /** Forgets every payload (the owner holds none any more). */
  clear(): void {
    this.chunks.length = 0;
    this.liveIn.length = 0;
    this.freeIds.length = 0;
    this.current = -1;
    this.used = 0;
    this.nextSize = FIRST_CHUNK;
    this.liveBytes = 0;
    this.heldBytes = 0;
  }

  private newChunk(size: number): number {
    const id = this.freeIds.pop() ?? this.chunks.length;
    this.chunks[id] = new Uint8Array(size);
    this.liveIn[id] = 0;
    this.heldBytes += size;
    return id;
  }

  private retireCurrent(): void {
    const id = this.current;
    this.current = -1;
    if (id >= 0 && this.liveIn[id] === 0) this.dropChunk(id);
  }

  private dropChunk(id: number): void {
    this.heldBytes -= this.chunks[id]!.length;
    this.chunks[id] = undefined;
    this.freeIds.push(id);
  }
}

/**
 * An append-only byte arena for records that die in about the order they were written (stream
 * records are trimmed from the head): each payload is copied once into the current chunk and the
 * record keeps the chunk, an offset and a length. No accounting: a chunk goes when the garbage
 * collector finds no record referring to it. Chunks start at 4 KB and double up to 1 MB; payloads
 * of 256 KB or more get an exact-size chunk of their own.
 */
export class PayloadArena {
  /** The chunk the last `place` wrote to. */
  chunk: Uint8Array = EMPTY;
  private current: Uint8Array = EMPTY;
  private used = 0;
  private nextSize = FIRST_CHUNK;

  /** Copies `bytes` in; returns their offset in `chunk`. */
  place(bytes: Uint8Array): number {
    const n = bytes.length;
    if (n === 0) {
      this.chunk = EMPTY;
      return 0;
    }
    if (n >= OWN_CHUNK_FROM) {
      this.chunk = new Uint8Array(bytes);
      return 0;
    }
    if (this.used + n > this.current.length) {
      const size = chunkSizeFor(n, this.nextSize);
      this.current = new Uint8Array(size);
      this.nextSize = Math.min(MAX_CHUNK, size * 2);
      this.used = 0;
    }
    const offset = this.used;
    this.current.set(bytes, offset);
    this.used += n;
    this.chunk = this.current;
    return offset;
  }
}
