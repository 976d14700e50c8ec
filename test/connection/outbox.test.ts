import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/connection/outbox.js';
import { encodeRequest } from '../../src/protocol/frame.js';
import { Op } from '../../src/protocol/opcodes.js';

const ns = new TextEncoder().encode('default');

// The outbox writes small frames into a shared slab and larger ones into a buffer of their own;
// both must be the bytes `encodeRequest` (the protocol's reference encoder) gives.
describe('Outbox.encode', () => {
  for (const [what, valueBytes] of [
    ['a small frame (in the slab)', 10],
    ['a frame larger than a slab entry (its own buffer)', 70_000],
  ] as const) {
    it(`encodes ${what} byte for byte as encodeRequest does`, () => {
      const outbox = new Outbox();
      const value = new Uint8Array(valueBytes).map((_, i) => i % 251);
      const body = { key: new TextEncoder().encode('k'), value, options: new Uint8Array([1, 2, 3]) };
      const id = 2 ** 40 + 7; // above 32 bits: both halves of the u64 id are written
      const frame = outbox.encode(id, Op.KvPut, ns, body);
      const bytes = frame.buf.subarray(frame.start, frame.end);
      expect(bytes).toEqual(encodeRequest(BigInt(id), Op.KvPut, ns, body));
      expect(frame.end - frame.start).toBe(32 + 10 + ns.length + 1 + valueBytes + 3);
    });
  }
});
