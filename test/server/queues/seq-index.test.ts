import { describe, expect, it } from 'vitest';
import { SeqIndex } from '../../../src/server/queues/seq-index.js';
import { rng } from '../../support/rng.js';

describe('SeqIndex', () => {
  it('agrees with a Map under random sets and deletes, sequential and out of order', () => {
    const next = rng(3);
    const idx = new SeqIndex();
    const model = new Map<number, number>();
    let seq = 1;
    for (let step = 0; step < 60_000; step++) {
      const r = next();
      if (r < 0.55) {
        idx.set(seq, step);
        model.set(seq++, step);
      } else if (r < 0.6) {
        // An old seq coming back (DLQ requeue, load).
        const s = 1 + Math.floor(next() * seq);
        if (!model.has(s)) {
          idx.set(s, step);
          model.set(s, step);
        }
      } else if (model.size > 0) {
        // Mostly the oldest, sometimes a random one.
        const keys = [...model.keys()];
        const s = next() < 0.7 ? Math.min(...keys.slice(0, 64)) : keys[Math.floor(next() * keys.length)]!;
        idx.delete(s);
        model.delete(s);
      }
    }
    expect(idx.size).toBe(model.size);
    for (let s = 1; s <= seq; s++) expect(idx.get(s)).toBe(model.get(s) ?? -1);
    expect(new Map(idx.entries())).toEqual(model);
  });

  it('a dense window costs pages only; a page left sparse moves its survivors to the map', () => {
    const idx = new SeqIndex();
    for (let s = 1; s <= 3 * 4096; s++) idx.set(s, s);
    expect(idx.layout()).toEqual({ pages: 4, paged: 3 * 4096, mapped: 0 });
    // Page 1 (seqs 4096..8191) keeps 10 seqs: it is evacuated once below 1/16 used.
    for (let s = 4096; s < 8192; s++) if (s % 400 !== 0) idx.delete(s);
    const layout = idx.layout();
    expect(layout.mapped).toBe(10);
    expect(layout.pages).toBe(3);
    for (let s = 4096; s < 8192; s++) expect(idx.get(s)).toBe(s % 400 === 0 ? s : -1);
  });

  it('one long-lived seq does not pin the window: memory follows the live seqs', () => {
    const idx = new SeqIndex();
    idx.set(1, 0);
    for (let s = 2; s <= 200_000; s++) {
      idx.set(s, s);
      if (s > 1001) idx.delete(s - 1000);
    }
    const layout = idx.layout();
    expect(idx.get(1)).toBe(0);
    expect(layout.pages).toBeLessThanOrEqual(2);
    expect(layout.paged + layout.mapped).toBe(idx.size);
  });

  it('handles seqs up to 2^53 - 1 exactly, and far jumps', () => {
    const idx = new SeqIndex();
    const top = Number.MAX_SAFE_INTEGER;
    idx.set(top, 1);
    idx.set(top - 1, 2);
    idx.set(5, 3);
    expect(idx.get(top)).toBe(1);
    expect(idx.get(top - 1)).toBe(2);
    expect(idx.get(top - 2)).toBe(-1);
    expect(idx.get(5)).toBe(3);
    idx.delete(top);
    expect(idx.get(top)).toBe(-1);
    expect(idx.size).toBe(2);
  });

  it('clear forgets everything', () => {
    const idx = new SeqIndex();
    for (let s = 1; s <= 10; s++) idx.set(s, s);
    idx.clear();
    expect(idx.size).toBe(0);
    expect(idx.get(3)).toBe(-1);
    idx.set(9000, 1);
    expect(idx.get(9000)).toBe(1);
  });
});
