/**
 * A binary min-heap of (key, seq) pairs of numbers, ordered by key then seq, held in two
 * `Float64Array`s: 16 bytes per entry, no object per entry, number comparisons only.
 *
 * The queue store keeps its ready messages by (priority, seq) and its delayed and leased messages
 * by (due time, seq). Entries are deleted lazily: the store skips an entry whose message is gone,
 * in another state, or due at another time (the key is a copy, so a stale entry never disturbs the
 * order of the others).
 */
export class SeqHeap {
  private keys = new Float64Array(16);
  private seqs = new Float64Array(16);
  size = 0;

  /** Key of the smallest entry (undefined when empty). */
  topKey(): number | undefined {
    return this.size > 0 ? this.keys[0] : undefined;
  }

  /** Seq of the smallest entry (undefined when empty). */
  topSeq(): number | undefined {
    return this.size > 0 ? this.seqs[0] : undefined;
  }

  push(key: number, seq: number): void {
    if (this.size === this.keys.length) this.resize(this.size * 2);
    const k = this.keys;
    const s = this.seqs;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = k[p]!;
      if (!(key < pk || (key === pk && seq < s[p]!))) break;
      k[i] = pk;
      s[i] = s[p]!;
      i = p;
    }
    k[i] = key;
    s[i] = seq;
  }

  /** Removes the smallest entry. */
  pop(): void {
    if (this.size === 0) return;
    const last = --this.size;
    if (last > 0) this.siftDown(0, this.keys[last]!, this.seqs[last]!);
  }

  /** Keeps only the entries for which `keep` is true (rebuilds in O(n)). */
  filter(keep: (key: number, seq: number) => boolean): void {
    const k = this.keys;
    const s = this.seqs;
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if (!keep(k[i]!, s[i]!)) continue;
      k[n] = k[i]!;
      s[n] = s[i]!;
      n++;
    }
    this.size = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, k[i]!, s[i]!);
    if (k.length > 64 && n < k.length / 4) this.resize(Math.max(16, n * 2));
  }

  clear(): void {
    this.size = 0;
    if (this.keys.length > 16) this.resize(16);
  }

  /** Places (key, seq) at `i` or below, moving smaller children up. */
  private siftDown(i: number, key: number, seq: number): void {
    const k = this.keys;
    const s = this.seqs;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (k[r]! < k[l]! || (k[r] === k[l] && s[r]! < s[l]!))) c = r;
      const ck = k[c]!;
      if (!(ck < key || (ck === key && s[c]! < seq))) break;
      k[i] = ck;
      s[i] = s[c]!;
      i = c;
    }
    k[i] = key;
    s[i] = seq;
  }

  private resize(capacity: number): void {
    const k = new Float64Array(capacity);
    const s = new Float64Array(capacity);
    k.set(this.keys.subarray(0, this.size));
    s.set(this.seqs.subarray(0, this.size));
    this.keys = k;
    this.seqs = s;
  }
}

/**
 * The ready messages of a queue in (priority, seq) order, 8 bytes per message in the common case.
 *
 * New messages become ready in seq order, so per priority (0–255) the seqs arrive ascending and a
 * ring of seqs keeps them in order with no comparisons. A seq that arrives out of order (a message
 * back from a lease, a delay or the DLQ, or loaded from storage) goes to a `SeqHeap` instead; the
 * smallest of the rings' heads and the heap's top leaves first. Same lazy deletion as `SeqHeap`.
 */
export class ReadyQueue {
  private readonly rings = new Map<number, SeqRing>();
  /** Priorities whose ring is not empty, ascending. */
  private active: number[] = [];
  private readonly returns = new SeqHeap();
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(priority: number, seq: number): void {
    this.count++;
    let ring = this.rings.get(priority);
    if (ring === undefined) this.rings.set(priority, (ring = new SeqRing()));
    if (ring.size > 0 && seq <= ring.last()) {
      this.returns.push(priority, seq);
      return;
    }
    if (ring.size === 0) this.activate(priority);
    ring.push(seq);
  }

  /** Priority of the first entry (undefined when empty). */
  topKey(): number | undefined {
    return this.pick() < 0 ? this.returns.topKey() : this.active[0];
  }

  /** Seq of the first entry (undefined when empty). */
  topSeq(): number | undefined {
    return this.pick() < 0 ? this.returns.topSeq() : this.rings.get(this.active[0]!)!.first();
  }

  /** Removes the first entry. */
  pop(): void {
    if (this.count === 0) return;
    this.count--;
    if (this.pick() < 0) {
      this.returns.pop();
      return;
    }
    const p = this.active[0]!;
    const ring = this.rings.get(p)!;
    ring.shift();
    if (ring.size === 0) {
      this.active.shift();
      this.rings.delete(p);
    }
  }

  /** Keeps only the entries for which `keep` is true. */
  filter(keep: (priority: number, seq: number) => boolean): void {
    this.returns.filter(keep);
    let count = this.returns.size;
    for (const p of [...this.active]) {
      const ring = this.rings.get(p)!;
      ring.filter((seq) => keep(p, seq));
      count += ring.size;
      if (ring.size === 0) {
        this.active.splice(this.active.indexOf(p), 1);
        this.rings.delete(p);
      }
    }
    this.count = count;
  }

  clear(): void {
    this.rings.clear();
    this.active = [];
    this.returns.clear();
    this.count = 0;
  }

  /** 1 when the first entry is a ring head, -1 when it is the heap's top (or both are empty). */
  private pick(): number {
    if (this.active.length === 0) return -1;
    const rk = this.returns.topKey();
    if (rk === undefined) return 1;
    const p = this.active[0]!;
    return p < rk || (p === rk && this.rings.get(p)!.first() < this.returns.topSeq()!) ? 1 : -1;
  }

  private activate(priority: number): void {
    let i = this.active.length;
    while (i > 0 && this.active[i - 1]! > priority) i--;
    this.active.splice(i, 0, priority);
  }
}

/** A queue of ascending seqs in blocks of 8,192 (64 KB): at most one partly used block at each end. */
class SeqRing {
  private blocks: Float64Array[] = [];
  /** Index of the first seq in `blocks[0]`. */
  private head = 0;
  /** Seqs used in the last block. */
  private tail = BLOCK;
  size = 0;

  first(): number {
    return this.blocks[0]![this.head]!;
  }

  last(): number {
    return this.blocks[this.blocks.length - 1]![this.tail - 1]!;
  }

  push(seq: number): void {
    if (this.tail === BLOCK) {
      this.blocks.push(new Float64Array(this.blocks.length === 0 ? FIRST_BLOCK : BLOCK));
      this.tail = 0;
    }
    let last = this.blocks[this.blocks.length - 1]!;
    if (this.tail === last.length) {
      // The only block is still small: grow it (a ring of a few seqs stays small).
      const grown = new Float64Array(Math.min(BLOCK, last.length * 4));
      grown.set(last);
      this.blocks[this.blocks.length - 1] = last = grown;
    }
    last[this.tail++] = seq;
    this.size++;
  }

  shift(): void {
    this.size--;
    if (++this.head === (this.blocks.length === 1 ? this.tail : BLOCK) || this.size === 0) {
      this.blocks.shift();
      this.head = 0;
      if (this.blocks.length === 0) this.tail = BLOCK;
    }
  }

  filter(keep: (seq: number) => boolean): void {
    const kept: number[] = [];
    for (let b = 0; b < this.blocks.length; b++) {
      const block = this.blocks[b]!;
      const end = b === this.blocks.length - 1 ? this.tail : BLOCK;
      for (let i = b === 0 ? this.head : 0; i < end; i++) if (keep(block[i]!)) kept.push(block[i]!);
    }
    this.blocks = [];
    this.head = 0;
    this.tail = BLOCK;
    this.size = 0;
    for (const seq of kept) this.push(seq);
  }
}

const BLOCK = 8192;
const FIRST_BLOCK = 32;
