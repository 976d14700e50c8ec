import { describe, expect, it } from 'vitest';
import { DELAYED, LEASED, MessageTable, READY } from '../../../src/server/queues/message-table.js';

const payload = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('MessageTable', () => {
  it('keeps every column of a row and finds it by seq', () => {
    const t = new MessageTable();
    const slot = t.add(42, payload(10, 1), 7, 1_700_000_000_000, 1_700_000_000_500, DELAYED);
    expect(t.slotOf(42)).toBe(slot);
    expect(t.slotOf(43)).toBe(-1);
    expect(t.priority(slot)).toBe(7);
    expect(t.enqueuedAt(slot)).toBe(1_700_000_000_000);
    expect(t.visibleAt(slot)).toBe(1_700_000_000_500);
    expect(t.state(slot)).toBe(DELAYED);
    expect(t.attempts(slot)).toBe(0);
    expect(t.leaseEnd(slot)).toBe(0);
    t.setState(slot, LEASED);
    t.setAttempts(slot, 3);
    t.setLeaseMs(slot, 30_000);
    t.setLeaseEnd(slot, 1_700_000_030_000);
    expect([t.state(slot), t.attempts(slot), t.leaseMs(slot), t.leaseEnd(slot)]).toEqual([LEASED, 3, 30_000, 1_700_000_030_000]);
    expect([...t.payload(slot)]).toEqual(new Array(10).fill(1));
  });

  it('keeps values that do not fit the narrow columns exactly (far times, many attempts, fractions)', () => {
    const t = new MessageTable();
    const at = 1_700_000_000_000;
    const a = t.add(1, payload(1, 0), 0, at, at + 60 * 86_400_000, DELAYED); // 60 days
    const b = t.add(2, payload(1, 0), 0, at, at - 5, READY); // a clock that went back
    const c = t.add(3, payload(1, 0), 0, at + 0.25, at + 1.5, READY); // fractional ms
    expect(t.visibleAt(a)).toBe(at + 60 * 86_400_000);
    expect(t.visibleAt(b)).toBe(at - 5);
    expect(t.visibleAt(c)).toBe(at + 1.5);
    t.setLeaseEnd(a, at - 1);
    t.setLeaseEnd(b, Number.MAX_SAFE_INTEGER);
    t.setLeaseEnd(c, at + 0.25);
    expect([t.leaseEnd(a), t.leaseEnd(b), t.leaseEnd(c)]).toEqual([at - 1, Number.MAX_SAFE_INTEGER, at + 0.25]);
    t.setLeaseEnd(a, at + 10);
    expect(t.leaseEnd(a)).toBe(at + 10);
    t.setAttempts(a, 70_000);
    expect(t.attempts(a)).toBe(70_000);
    t.setAttempts(a, 70_001);
    expect(t.attempts(a)).toBe(70_001);
    t.setAttempts(a, 2);
    expect(t.attempts(a)).toBe(2);
    t.setLeaseMs(a, 2 ** 40);
    expect(t.leaseMs(a)).toBe(0xffffffff);
  });

  it('copies the payload once: the received buffer can be reused, and the stored bytes are not a view of it', () => {
    const t = new MessageTable();
    const received = payload(64 * 1024, 5);
    const slot = t.add(1, received.subarray(1000, 1100), 0, 0, 0, READY);
    received.fill(6);
    const stored = t.payload(slot);
    expect(stored.buffer).not.toBe(received.buffer);
    expect([...stored]).toEqual(new Array(100).fill(5));
  });

  it('reuses freed slots, and gives all memory back when emptied', () => {
    const t = new MessageTable();
    const slots = Array.from({ length: 5000 }, (_, i) => t.add(i + 1, payload(100, i & 0xff), 0, 0, 0, READY));
    expect(t.size).toBe(5000);
    t.remove(10, slots[9]!);
    expect(t.add(5001, payload(100, 1), 0, 0, 0, READY)).toBe(slots[9]);
    for (let s = 1; s <= 5001; s++) if (s !== 10) t.remove(s, t.slotOf(s));
    expect(t.size).toBe(0);
    expect(t.payloadBytes()).toEqual({ live: 0, held: 0 });
    expect(t.indexLayout()).toEqual({ pages: 0, paged: 0, mapped: 0 });
  });

  it('relocates payloads out of sparse chunks, so a few survivors do not pin the memory of many', () => {
    const t = new MessageTable();
    const n = 60_000;
    for (let s = 1; s <= n; s++) t.add(s, payload(100, s & 0xff), 0, 0, 0, READY);
    for (let s = 1; s <= n; s++) if (s % 50 !== 0) t.remove(s, t.slotOf(s));
    const { live, held } = t.payloadBytes();
    expect(live).toBe((n / 50) * 100);
    expect(held).toBeLessThan(3 * live + 1024 * 1024 + 1);
    for (let s = 50; s <= n; s += 50) expect(t.payload(t.slotOf(s))[0]).toBe(s & 0xff);
  });

  it('moves the live rows into dense pages when a queue shrinks from a peak, keeping every value', () => {
    const t = new MessageTable();
    const at = 1_700_000_000_000;
    const n = 40_000;
    for (let s = 1; s <= n; s++) {
      const slot = t.add(s, payload(20, s & 0xff), s % 256, at + s, s % 1000 === 0 ? at + 2 ** 40 : at + s, s % 3 === 0 ? DELAYED : READY);
      t.setAttempts(slot, s % 5000 === 0 ? 100_000 + s : s % 7);
      if (s % 2 === 0) t.setLeaseEnd(slot, s % 4000 === 0 ? at - s : at + s + 30_000);
    }
    expect(t.rowsHeld()).toBe(n);
    for (let s = 1; s <= n; s++) if (s % 20 !== 0) t.remove(s, t.slotOf(s));
    expect(t.size).toBe(n / 20);
    expect(t.rowsHeld()).toBeLessThanOrEqual(4 * t.size);
    for (let s = 20; s <= n; s += 20) {
      const slot = t.slotOf(s);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(t.payload(slot)[0]).toBe(s & 0xff);
      expect(t.priority(slot)).toBe(s % 256);
      expect(t.enqueuedAt(slot)).toBe(at + s);
      expect(t.visibleAt(slot)).toBe(s % 1000 === 0 ? at + 2 ** 40 : at + s);
      expect(t.state(slot)).toBe(s % 3 === 0 ? DELAYED : READY);
      expect(t.attempts(slot)).toBe(s % 5000 === 0 ? 100_000 + s : s % 7);
      expect(t.leaseEnd(slot)).toBe(s % 4000 === 0 ? at - s : at + s + 30_000);
    }
    // Slots handed out after the move do not collide with the moved rows.
    const added = t.add(n + 1, payload(5, 9), 0, at, at, READY);
    expect(t.payload(added)[0]).toBe(9);
    expect(t.payload(t.slotOf(n))[0]).toBe(n & 0xff);
  });

  it('after rows arrive in key order rather than seq order (a load), rebuildIndex puts their seqs back in pages', () => {
    const t = new MessageTable();
    const seqs = Array.from({ length: 30_000 }, (_, i) => i + 1).sort((a, b) => (String(a) < String(b) ? -1 : 1));
    for (const s of seqs) t.add(s, payload(1, s & 0xff), 0, 0, 0, READY);
    expect(t.indexLayout().mapped).toBeGreaterThan(1024);
    t.rebuildIndex();
    expect(t.indexLayout()).toMatchObject({ mapped: 0, paged: 30_000 });
    for (const s of [1, 9, 10, 4095, 4096, 29_999, 30_000]) expect(t.payload(t.slotOf(s))[0]).toBe(s & 0xff);
  });
});
