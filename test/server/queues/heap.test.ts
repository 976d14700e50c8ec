import { describe, expect, it } from 'vitest';
import { ReadyQueue, SeqHeap } from '../../../src/server/queues/heap.js';
import { rng } from '../../support/rng.js';

const byKeySeq = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];

function drain(h: { topKey(): number | undefined; topSeq(): number | undefined; pop(): void }): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = h.topKey(); k !== undefined; k = h.topKey()) {
    out.push([k, h.topSeq()!]);
    h.pop();
  }
  return out;
}

describe('SeqHeap', () => {
  it('pops (key, seq) pairs in key then seq order, big numbers included', () => {
    const next = rng(1);
    const h = new SeqHeap();
    const items: Array<[number, number]> = [];
    for (let i = 0; i < 5000; i++) {
      const item: [number, number] = [Math.floor(next() * 50) * 1e12, Math.floor(next() * 2 ** 53)];
      items.push(item);
      h.push(...item);
    }
    expect(h.size).toBe(5000);
    expect(drain(h)).toEqual(items.sort(byKeySeq));
    expect(h.size).toBe(0);
  });

  it('filter keeps the heap order', () => {
    const h = new SeqHeap();
    for (let s = 1; s <= 1000; s++) h.push(s % 7, s);
    h.filter((_k, s) => s % 3 === 0);
    const expected: Array<[number, number]> = [];
    for (let s = 3; s <= 1000; s += 3) expected.push([s % 7, s]);
    expect(drain(h)).toEqual(expected.sort(byKeySeq));
  });
});

describe('ReadyQueue', () => {
  it('leaves in (priority, seq) order whether seqs arrive in order or come back out of order', () => {
    const next = rng(2);
    const q = new ReadyQueue();
    const model: Array<[number, number]> = [];
    let seq = 1;
    const out: Array<[number, number]> = [];
    for (let step = 0; step < 4_000; step++) {
      const r = next();
      if (r < 0.5) {
        const p = [0, 0, 0, 1, 5, 255][Math.floor(next() * 6)]!;
        q.push(p, seq);
        model.push([p, seq++]);
      } else if (r < 0.6 && seq > 1) {
        // Out of order: an older seq comes back (a nack, an expiry, a requeue).
        const p = Math.floor(next() * 3);
        const s = 1 + Math.floor(next() * (seq - 1));
        q.push(p, s);
        model.push([p, s]);
      } else if (model.length > 0) {
        model.sort(byKeySeq);
        const [k, s] = model.shift()!;
        expect([q.topKey(), q.topSeq()]).toEqual([k, s]);
        q.pop();
        out.push([k, s]);
      }
      expect(q.size).toBe(model.length);
    }
    expect(drain(q)).toEqual(model.sort(byKeySeq));
  });

  it('holds a long run of one priority in blocks and gives them back in order', () => {
    const q = new ReadyQueue();
    for (let s = 1; s <= 50_000; s++) q.push(3, s);
    const out: number[] = [];
    for (let s = q.topSeq(); s !== undefined; s = q.topSeq()) {
      out.push(s);
      q.pop();
    }
    expect(out.length).toBe(50_000);
    expect(out.every((s, i) => s === i + 1)).toBe(true);
  });

  it('filter drops entries from the rings and from the heap', () => {
    const q = new ReadyQueue();
    for (let s = 10; s <= 40; s++) q.push(s % 2, s);
    q.push(0, 2);
    q.push(1, 3);
    q.filter((_p, s) => s % 5 === 0 || s < 5);
    expect(q.size).toBe(9);
    expect(drain(q)).toEqual([
      [0, 2],
      [0, 10],
      [0, 20],
      [0, 30],
      [0, 40],
      [1, 3],
      [1, 15],
      [1, 25],
      [1, 35],
    ]);
  });
});
