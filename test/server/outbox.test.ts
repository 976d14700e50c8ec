import { describe, expect, it } from 'vitest';
import { encodeKvGetReply, encodeKvPutReply, encodeResponseFrame, ResponseFrameDecoder, toHex } from '../../src/protocol/index.js';
import { KvGetOk, KvPutOk } from '../../src/server/kv/replies.js';
import { ReplyOutbox } from '../../src/server/outbox.js';

const payload = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('ReplyOutbox', () => {
  it('gathers reply frames byte for byte as encodeResponseFrame makes them, handed over once', () => {
    const box = new ReplyOutbox();
    expect(box.take()).toBeUndefined();
    expect(box.capacity).toBe(0); // nothing allocated before the first reply
    box.append(1n, 0, payload(10, 1));
    box.append(2n, 2, new Uint8Array(0));
    box.appendFrame(encodeResponseFrame(0n, 3, payload(3, 9)));
    expect(box.pendingBytes).toBe(42 + 32 + 35);
    const bytes = box.take()!;
    expect(toHex(bytes)).toBe(
      toHex(encodeResponseFrame(1n, 0, payload(10, 1))) + toHex(encodeResponseFrame(2n, 2)) + toHex(encodeResponseFrame(0n, 3, payload(3, 9))),
    );
    expect(box.pendingBytes).toBe(0);
    expect(box.take()).toBeUndefined();
  });

  it('hands out the right bytes when one reply at a time reuses the slab, equal sizes or not', () => {
    const box = new ReplyOutbox();
    for (const [i, n] of [10, 10, 10, 4, 4, 10, 0, 10].entries()) {
      box.append(BigInt(i + 1), 0, payload(n, i + 1));
      const bytes = box.take()!;
      expect(toHex(bytes)).toBe(toHex(encodeResponseFrame(BigInt(i + 1), 0, payload(n, i + 1))));
      box.recycle(); // the transport took every byte
    }
    // Two replies before a take: one view of both, then a lone one again.
    box.append(20n, 0, payload(10, 7));
    box.append(21n, 0, payload(10, 8));
    expect(toHex(box.take()!)).toBe(toHex(encodeResponseFrame(20n, 0, payload(10, 7))) + toHex(encodeResponseFrame(21n, 0, payload(10, 8))));
    box.recycle();
    box.append(22n, 0, payload(10, 9));
    expect(toHex(box.take()!)).toBe(toHex(encodeResponseFrame(22n, 0, payload(10, 9))));
  });

  it('writes the same frame from the id as a bigint or as its two u32 halves', () => {
    const box = new ReplyOutbox();
    const id = (0x89abcdefn << 32n) | 0x01234567n;
    box.append(id, 4, payload(6, 2));
    box.appendReply(0x01234567, 0x89abcdef, 4, payload(6, 2));
    const bytes = box.take()!;
    expect(toHex(bytes)).toBe(toHex(encodeResponseFrame(id, 4, payload(6, 2))).repeat(2));
  });

  it('writes payload writers in place, byte for byte the frames of their encoded payloads, across slab growth', () => {
    const box = new ReplyOutbox();
    const value = payload(77, 5).subarray(3, 70);
    const expected: string[] = [];
    // Odd sizes before each writer, so the writers land at odd offsets of the slab, and enough to grow it.
    for (let i = 0; i < 200; i++) {
      box.append(BigInt(3 * i), 0, payload(i % 7, i));
      box.append(BigInt(3 * i + 1), 0, new KvPutOk(BigInt(i) << 40n));
      box.append(BigInt(3 * i + 2), 0, new KvGetOk(BigInt(i), value));
      expected.push(
        toHex(encodeResponseFrame(BigInt(3 * i), 0, payload(i % 7, i))),
        toHex(encodeResponseFrame(BigInt(3 * i + 1), 0, encodeKvPutReply({ version: BigInt(i) << 40n }))),
        toHex(encodeResponseFrame(BigInt(3 * i + 2), 0, encodeKvGetReply({ version: BigInt(i), value }))),
      );
      // A take in the middle: the rest continues where it stopped.
      if (i === 100) expect(toHex(box.take()!)).toBe(expected.splice(0).join(''));
    }
    expect(toHex(box.take()!)).toBe(expected.join(''));
  });

  it('never writes over bytes handed over until recycled, even when it must grow', () => {
    const box = new ReplyOutbox();
    box.append(1n, 0, payload(1000, 1));
    const first = box.take()!;
    const firstHex = toHex(first);
    // Still held by the transport: the next replies (and a slab change) leave it alone.
    for (let i = 0; i < 50; i++) box.append(BigInt(i + 2), 0, payload(900, i));
    box.append(99n, 0, payload(200_000, 7));
    expect(toHex(first)).toBe(firstHex);
    const rest = new ResponseFrameDecoder().push(box.take()!);
    expect(rest.map((f) => f.requestId)).toEqual([...Array.from({ length: 50 }, (_, i) => BigInt(i + 2)), 99n]);
    expect(rest.every((f) => f.checksumOk)).toBe(true);
    expect(rest[49].payload.every((b) => b === 49)).toBe(true);
    expect(rest[50].payload.length).toBe(200_000);
  });

  it('starts over at the beginning of its slab once recycled, and lets a big one go', () => {
    const box = new ReplyOutbox();
    box.append(1n, 0, payload(100, 1));
    const a = box.take()!;
    box.recycle();
    box.append(2n, 0, payload(100, 2));
    const b = box.take()!;
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset); // the same bytes again
    box.append(3n, 0, payload(300_000, 3));
    box.take();
    box.recycle();
    expect(box.capacity).toBe(0);
  });

  it('does not recycle while replies are pending, and drops them on discard', () => {
    const box = new ReplyOutbox();
    box.append(1n, 0, payload(10, 1));
    box.recycle(); // not handed over yet: nothing happens
    expect(box.pendingBytes).toBe(42);
    box.discard();
    expect(box.pendingBytes).toBe(0);
    expect(box.take()).toBeUndefined();
  });
});
