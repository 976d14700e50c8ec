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
