// The server's "write into" KV reply payloads: byte for byte the golden replies and the allocating
// encoders, at any offset of a larger buffer, leaving the bytes around them alone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeKvGetReply,
  decodeKvPutReply,
  encodeKvGetReply,
  encodeKvPutReply,
  fromHex,
  kvGetReplySize,
  KV_PUT_REPLY_SIZE,
  toHex,
  writeKvGetReplyAt,
  writeKvPutReplyAt,
} from '../../src/protocol/index.js';
import { vector } from '../vectors.js';
import { OFFSETS, writeAt } from '../support/write-at.js';


describe('writeKvPutReplyAt', () => {
  for (const name of ['kv_put_ttl_cas', 'kv_put_if_exists']) {
    it(`writes the ${name} golden reply at odd offsets`, () => {
      const golden = vector(name).response.payload_hex;
      const { version } = decodeKvPutReply(fromHex(golden));
      for (const at of OFFSETS) {
        expect(toHex(writeAt(KV_PUT_REPLY_SIZE, at, (t, v, o) => writeKvPutReplyAt(t, v, o, version)))).toBe(golden);
      }
    });
  }

  it('matches encodeKvPutReply for any u64 version', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat(9), (version, at) => {
        expect(writeAt(KV_PUT_REPLY_SIZE, at, (t, v, o) => writeKvPutReplyAt(t, v, o, version))).toEqual(encodeKvPutReply({ version }));
      }),
    );
  });

  it('writes a version given as a number (the server keeps them so) as the same bytes as its BigInt', () => {
    const edges = [0, 1, 0xff, 0x7fff_ffff, 0xffff_ffff, 0x1_0000_0000, 0x1_2345_6789, Number.MAX_SAFE_INTEGER];
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...edges), fc.maxSafeNat()), fc.nat(9), (version, at) => {
        expect(writeAt(KV_PUT_REPLY_SIZE, at, (t, v, o) => writeKvPutReplyAt(t, v, o, version))).toEqual(encodeKvPutReply({ version: BigInt(version) }));
      }),
    );
  });

  it('refuses a target too small and a version out of range', () => {
    const t = new Uint8Array(10);
    const v = new DataView(t.buffer);
    expect(() => writeKvPutReplyAt(t, v, 3, 1n)).toThrow(RangeError);
    expect(() => writeKvPutReplyAt(t, v, 0, -1n)).toThrow(RangeError);
    expect(() => writeKvPutReplyAt(t, v, 0, 1n << 64n)).toThrow(RangeError);
    for (const bad of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) expect(() => writeKvPutReplyAt(t, v, 0, bad)).toThrow(RangeError);
  });
});

describe('writeKvGetReplyAt', () => {
  it('writes the kv_get golden reply at odd offsets', () => {
    const golden = vector('kv_get').response.payload_hex;
    const { version, value } = decodeKvGetReply(fromHex(golden));
    for (const at of OFFSETS) {
      expect(toHex(writeAt(kvGetReplySize(value.length), at, (t, v, o) => writeKvGetReplyAt(t, v, o, version, value)))).toBe(golden);
    }
  });

  it('matches encodeKvGetReply for any version and value (views into larger buffers too)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.uint8Array({ maxLength: 300 }), fc.nat(9), fc.nat(4), (version, bytes, at, skip) => {
        const backing = new Uint8Array(skip + bytes.length + 3);
        backing.set(bytes, skip);
        const value = backing.subarray(skip, skip + bytes.length);
        const written = writeAt(kvGetReplySize(value.length), at, (t, v, o) => writeKvGetReplyAt(t, v, o, version, value));
        expect(written).toEqual(encodeKvGetReply({ version, value }));
      }),
    );
  });

  it('writes a number version as the same bytes as its BigInt', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.uint8Array({ maxLength: 40 }), fc.nat(9), (version, value, at) => {
        const written = writeAt(kvGetReplySize(value.length), at, (t, v, o) => writeKvGetReplyAt(t, v, o, version, value));
        expect(written).toEqual(encodeKvGetReply({ version: BigInt(version), value }));
      }),
    );
  });

  it('refuses a target too small', () => {
    const t = new Uint8Array(12);
    expect(() => writeKvGetReplyAt(t, new DataView(t.buffer), 2, 1n, new Uint8Array(3))).toThrow(RangeError);
  });
});
