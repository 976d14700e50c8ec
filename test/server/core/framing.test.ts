import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, encodeRequest, RequestFrameDecoder, type DecodedRequest } from '../../../src/protocol/index.js';
import { FrameReader } from '../../../src/server/framing.js';

const frameArb = fc
  .record({
    id: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    opcode: fc.integer({ min: 0, max: 0xffff }),
    ns: fc.string({ maxLength: 8 }),
    key: fc.uint8Array({ maxLength: 16 }),
    value: fc.uint8Array({ maxLength: 300 }),
  })
  .map((f) => encodeRequest(f.id, f.opcode, f.ns, { key: f.key, value: f.value }));

/** Cuts `bytes` at the given (sorted, deduplicated) points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(bytes.subarray(prev, p));
    prev = p;
  }
  parts.push(bytes.subarray(prev));
  return parts;
}

const summary = (f: DecodedRequest) => [f.requestId, f.opcode, f.checksumOk, Array.from(f.payload)];

describe('FrameReader', () => {
  it('yields the same frames as one-shot decoding, however the bytes are split', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const bytes = concatBytes(frames);
        const expected = new RequestFrameDecoder().push(bytes).map(summary);
        const reader = new FrameReader();
        const got: DecodedRequest[] = [];
        for (const part of split(bytes, cuts)) {
          const batch = reader.push(part);
          expect(batch.error).toBeUndefined();
          got.push(...batch.frames);
        }
        expect(got.map(summary)).toEqual(expected);
        expect(reader.buffered).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('returns frames decoded before a bad header together with the error, then stays failed', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const bad = frames[frames.length - 1].slice();
        bad[0] ^= 0xff; // magic
        const bytes = concatBytes([...frames.slice(0, -1), bad]);
        const reader = new FrameReader();
        const got: DecodedRequest[] = [];
        let error: Error | undefined;
        for (const part of split(bytes, cuts)) {
          const batch = reader.push(part);
          got.push(...batch.frames);
          error ??= batch.error;
        }
        expect(error).toBeDefined();
        expect(got.length).toBe(frames.length - 1);
        expect(reader.push(frames[0]).frames).toHaveLength(0);
      }),
      { numRuns: 200 },
    );
  });

  it('holds at most the announced frame while it waits for a payload', () => {
    const frame = encodeRequest(1n, 0x100, 'ns', { value: new Uint8Array(100_000) });
    const reader = new FrameReader();
    let max = 0;
    for (let at = 0; at < frame.length; at += 1000) {
      const batch = reader.push(frame.subarray(at, at + 1000));
      max = Math.max(max, reader.buffered);
      if (at + 1000 < frame.length) expect(batch.frames).toHaveLength(0);
      else expect(batch.frames).toHaveLength(1);
    }
    expect(max).toBeLessThanOrEqual(frame.length);
  });

  it('rejects an oversize header before the payload arrives', () => {
    const frame = encodeRequest(1n, 0x100, 'ns', { value: new Uint8Array(5000) });
    const reader = new FrameReader(1024);
    const batch = reader.push(frame.subarray(0, 32));
    expect(batch.error?.name).toBe('FrameTooLargeError');
  });
});

describe('FrameReader memory', () => {
  it('holds a trickled partial frame in memory that grows with the bytes received, not the declared length', () => {
    const reader = new FrameReader();
    // A header announcing a 100 MiB payload, then single bytes, each a view into a 64 KiB read buffer.
    const header = encodeRequest(1n, 0x7e0, 'ns', { value: new Uint8Array(0) }).slice(0, 32);
    new DataView(header.buffer).setUint32(4, 100 * 1024 * 1024, true);
    reader.push(header);
    let received = header.length;
    for (let i = 0; i < 2000; i++) {
      const slab = new Uint8Array(64 * 1024);
      expect(reader.push(slab.subarray(0, 1)).frames).toEqual([]);
      received++;
    }
    expect(reader.buffered).toBe(received);
    expect(reader.retainedBytes).toBeLessThanOrEqual(2 * received + 256);
  });
});

describe('RequestFrameRef', () => {
  it('reads the id as its two halves and the bigint, and checks the CRC when asked', () => {
    const id = (7n << 32n) | 0xfffffffen;
    const frame = encodeRequest(id, 0x123, 'ns', { key: new Uint8Array([1, 2]), value: new Uint8Array([3]) });
    const chunk = new Uint8Array(5 + frame.length);
    chunk.set(frame, 5);
    const [ref] = new FrameReader().push(chunk.subarray(5)).frames; // a view at byte 5 of its buffer
    expect([ref.idLow, ref.idHigh, ref.requestId, ref.opcode, ref.checksumOk]).toEqual([0xfffffffe, 7, id, 0x123, true]);
    expect(Array.from(ref.payload)).toEqual(Array.from(frame.subarray(32)));
    chunk[5 + frame.length - 1] ^= 1; // the last value byte, after the frame was read: the CRC is checked on each read
    expect(ref.checksumOk).toBe(false);
  });
});
