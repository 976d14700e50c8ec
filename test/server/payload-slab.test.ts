import { describe, expect, it } from 'vitest';
import { PayloadArena, PayloadSlab } from '../../src/server/payload-slab.js';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('PayloadSlab', () => {
  it('copies each payload once: changing the received buffer afterwards changes nothing stored', () => {
    const slab = new PayloadSlab();
    const received = new Uint8Array(4096).fill(7);
    const a = slab.add(received.subarray(100, 200));
    received.fill(9);
    const view = slab.view(a, 100);
    expect([...view]).toEqual(new Array(100).fill(7));
    expect(view.buffer).not.toBe(received.buffer);
  });

  it('packs small payloads into shared chunks and drops a chunk once nothing in it is live', () => {
    const slab = new PayloadSlab();
    const addresses = Array.from({ length: 200 }, (_, i) => slab.add(bytes(100, i)));
    expect(slab.liveBytes).toBe(20_000);
    expect(slab.heldBytes).toBeGreaterThanOrEqual(20_000);
    expect(slab.heldBytes).toBeLessThan(20_000 * 2);
    addresses.forEach((a, i) => expect(slab.view(a, 100)[0]).toBe(i));
    // Free all but the last: every chunk but the current one goes.
    const heldBefore = slab.heldBytes;
    for (const a of addresses.slice(0, -1)) slab.free(a, 100);
    expect(slab.liveBytes).toBe(100);
    expect(slab.heldBytes).toBeLessThan(heldBefore);
  });

  it('keeps views handed out earlier intact after free and relocation (chunks are append-only)', () => {
    const slab = new PayloadSlab();
    const a = slab.add(bytes(50, 1));
    const early = slab.view(a, 50);
    const b = slab.relocate(a, 50);
    slab.add(bytes(50, 2));
    expect([...early]).toEqual(new Array(50).fill(1));
    expect([...slab.view(b, 50)]).toEqual(new Array(50).fill(1));
    slab.free(b, 50);
    expect([...early]).toEqual(new Array(50).fill(1));
  });

  it('gives large payloads an exact-size chunk of their own, freed with the payload', () => {
    const slab = new PayloadSlab();
    const big = bytes(300 * 1024, 3);
    const a = slab.add(big);
    expect(slab.heldBytes).toBe(big.length);
    expect(Buffer.compare(slab.view(a, big.length), big)).toBe(0);
    slab.free(a, big.length);
    expect(slab.heldBytes).toBe(0);
  });

  it('asks for compaction when sparse chunks hold much more than is live, and relocation gives it back', () => {
    const slab = new PayloadSlab();
    const live: number[] = [];
    const all = Array.from({ length: 40_000 }, (_, i) => slab.add(bytes(100, i & 0xff)));
    // Keep every 20th payload: every chunk stays pinned by a few survivors.
    all.forEach((a, i) => (i % 20 === 0 ? live.push(a) : slab.free(a, 100)));
    expect(slab.needsCompaction()).toBe(true);
    const moved = live.map((a) => (slab.isSparse(a, 100) ? slab.relocate(a, 100) : a));
    expect(slab.needsCompaction()).toBe(false);
    expect(slab.heldBytes).toBeLessThan(4 * slab.liveBytes + 1024 * 1024);
    moved.forEach((a, j) => expect(slab.view(a, 100)[0]).toBe((j * 20) & 0xff));
  });

  it('takes a payload larger than the next chunk size (a bigger chunk), in a fresh slab and later', () => {
    const slab = new PayloadSlab();
    const a = slab.add(bytes(200_000, 1));
    const b = slab.add(bytes(10, 2));
    const c = slab.add(bytes(250_000, 3));
    expect(slab.view(a, 200_000).every((x) => x === 1)).toBe(true);
    expect([...slab.view(b, 10)]).toEqual(new Array(10).fill(2));
    expect(slab.view(c, 250_000).every((x) => x === 3)).toBe(true);
    expect(slab.liveBytes).toBe(450_010);
  });

  it('empty payloads take no space', () => {
    const slab = new PayloadSlab();
    const a = slab.add(new Uint8Array(0));
    expect(slab.view(a, 0).length).toBe(0);
    expect(slab.heldBytes).toBe(0);
    slab.free(a, 0);
    expect(slab.liveBytes).toBe(0);
  });
});

describe('PayloadArena', () => {
  it('copies into shared chunks; the source buffer can change afterwards', () => {
    const arena = new PayloadArena();
    const src = bytes(64, 5);
    const o1 = arena.place(src);
    const c1 = arena.chunk;
    const o2 = arena.place(bytes(64, 6));
    expect(arena.chunk).toBe(c1);
    expect(o2).toBe(o1 + 64);
    src.fill(0);
    expect([...c1.subarray(o1, o1 + 64)]).toEqual(new Array(64).fill(5));
    expect(c1.buffer).not.toBe(src.buffer);
  });

  it('starts a new chunk when the current one is full, leaving written bytes alone', () => {
    const arena = new PayloadArena();
    arena.place(bytes(4000, 1));
    const first = arena.chunk;
    const off = arena.place(bytes(200, 2));
    expect(arena.chunk).not.toBe(first);
    expect(off).toBe(0);
    expect(first[0]).toBe(1);
  });

  it('takes a payload larger than the next chunk size, in a fresh arena', () => {
    const arena = new PayloadArena();
    const off = arena.place(bytes(200_000, 7));
    expect(arena.chunk.length).toBeGreaterThanOrEqual(200_000);
    expect(arena.chunk.subarray(off, off + 200_000).every((x) => x === 7)).toBe(true);
    const off2 = arena.place(bytes(100, 8));
    expect(arena.chunk[off2]).toBe(8);
  });

  it('large payloads get an exact-size chunk', () => {
    const arena = new PayloadArena();
    const off = arena.place(bytes(256 * 1024, 4));
    expect(off).toBe(0);
    expect(arena.chunk.length).toBe(256 * 1024);
  });
});
