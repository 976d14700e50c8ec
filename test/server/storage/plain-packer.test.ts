// The storage's own MessagePack writer: for any plain data a table may save, msgpackr reads its
// bytes back to the same value it reads from msgpackr's own encoding (so logs decode as before).
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { PlainPacker } from '../../../src/server/storage/plain-packer.js';
import { entityKeyWithId, HEX_ID_KEY, type IdKeyForm } from '../../../src/server/storage/types.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, useBigIntExtension: true });
const unpack = (bytes: Uint8Array) => packr.unpack(Buffer.from(bytes));

const leaf = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.integer(),
  fc.integer({ min: -0x20, max: 0x100 }),
  fc.double(),
  fc.constantFrom(0, -0, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53, Number.MAX_SAFE_INTEGER, -1.5, Infinity, -Infinity, NaN),
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(2n ** 63n, -(2n ** 63n) - 1n, 2n ** 64n, 2n ** 70n),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 300 }),
  fc.date({ noInvalidDate: true }),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 20 }),
  object: fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 20 }),
}));

describe('PlainPacker', () => {
  it('writes what msgpackr reads back as it reads its own encoding, for random plain data', () => {
    const out = new PlainPacker(packr);
    fc.assert(
      fc.property(value, (v) => {
        out.reset();
        out.value(v);
        expect(unpack(out.bytes())).toEqual(unpack(packr.pack(v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('grows its buffer for large values and keeps earlier bytes', () => {
    const out = new PlainPacker(packr);
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    const v = ['before', big, 'x'.repeat(70_000), 'after'];
    out.value(v);
    const back = unpack(out.bytes()) as unknown[];
    expect(back[0]).toBe('before');
    expect(Buffer.compare(back[1] as Buffer, big)).toBe(0);
    expect(back[2] === v[2]).toBe(true);
    expect(back[3]).toBe('after');
  });

  it('encodes strings and numbers in their shortest MessagePack forms', () => {
    const out = new PlainPacker(packr);
    const bytesOf = (v: unknown) => {
      out.reset();
      out.value(v);
      return [...out.bytes()];
    };
    expect(bytesOf('kv')).toEqual([0xa2, 0x6b, 0x76]);
    expect(bytesOf('é')).toEqual([0xa2, 0xc3, 0xa9]);
    expect(bytesOf(5)).toEqual([5]);
    expect(bytesOf(-1)).toEqual([0xff]);
    expect(bytesOf(300)).toEqual([0xcd, 0x01, 0x2c]);
    expect(bytesOf(7n)).toEqual([0xd3, 0, 0, 0, 0, 0, 0, 0, 7]);
    expect(bytesOf(undefined)).toEqual([0xd4, 0, 0]);
    expect(bytesOf(new Uint8Array([1, 2]))).toEqual([0xc4, 2, 1, 2]);
  });

  it('writes ASCII strings of 32 to 255 characters as str8, as the UTF-8 path does, and falls back for non-ASCII', () => {
    const out = new PlainPacker(packr);
    const bytesOf = (v: string) => {
      out.reset();
      out.value(v);
      return [...out.bytes()];
    };
    const utf8 = (s: string) => [...Buffer.from(s, 'utf8')];
    for (const n of [31, 32, 33, 60, 255]) {
      const s = 'k'.repeat(n - 1) + '\u0000';
      expect(bytesOf(s)).toEqual([...(n < 32 ? [0xa0 | n] : [0xd9, n]), ...utf8(s)]);
    }
    const long = 'a'.repeat(256);
    expect(bytesOf(long)).toEqual([0xda, 1, 0, ...utf8(long)]);
    // A non-ASCII character late in the string: the bytes written so far are overwritten by the UTF-8 path.
    const mixed = 'a'.repeat(40) + 'é' + 'b'.repeat(20);
    expect(bytesOf(mixed)).toEqual([0xd9, 62, ...utf8(mixed)]);
    expect(unpack(new Uint8Array(bytesOf(mixed)))).toBe(mixed);
  });

  it('writes bigints of 2^64 up to 2^127 (stream ids) as the same bytes as msgpackr, and the rest as before', () => {
    const out = new PlainPacker(packr);
    const bytesOf = (v: bigint) => {
      out.reset();
      out.value(v);
      return [...out.bytes()];
    };
    const big = fc.oneof(
      fc.bigInt({ min: 2n ** 64n, max: 2n ** 127n - 1n }),
      fc.bigInt({ min: 2n ** 63n - 2n, max: 2n ** 64n + 2n }),
      fc.bigInt({ min: 2n ** 127n - 2n, max: 2n ** 127n + 2n }),
      fc.constantFrom((1_765_000_000_000n << 64n) | 3n, 2n ** 128n, -(2n ** 64n), -(2n ** 70n)),
    );
    fc.assert(
      fc.property(big, (v) => {
        expect(bytesOf(v)).toEqual([...packr.pack(v)]);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes a key given as prefix and id (stringWithId) as the same bytes as the built key string, in each key form', () => {
    const out = new PlainPacker(packr);
    const ofString = (s: string) => {
      out.reset();
      out.string(s);
      return [...out.bytes()];
    };
    const ofParts = (prefix: string, id: bigint | number, form: IdKeyForm) => {
      out.reset();
      out.stringWithId(prefix, id, form);
      return [...out.bytes()];
    };
    const forms: IdKeyForm[] = [HEX_ID_KEY, { separator: '', radix: 10, suffix: '"]' }, { separator: '/', radix: 16, suffix: 'x' }, { separator: '', radix: 16, suffix: '', width: 16 }, { separator: '/', radix: 10, suffix: '', width: 5 }];
    // A width pads the id's digits with zeros: a stream record's sequence under its millisecond.
    expect(entityKeyWithId('s\u00003e8', 0x1f, forms[3]!)).toBe('s\u00003e8000000000000001f');
    expect(ofParts('s\u00003e8', 0x1f, forms[3]!)).toEqual(ofString('s\u00003e8000000000000001f'));
    expect(ofParts('s', (1_000n << 64n) | 0x1fn, HEX_ID_KEY)).toEqual(ofString('s\u00003e8000000000000001f'));
    const ids = fc.oneof(
      fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) + 2n }),
      fc.constantFrom(0n, 1n, 9n, 10n, 15n, 16n, 255n, 256n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n + 7n, (1_700_000_000_000n << 64n) | 3n, 2n ** 128n - 1n, -1n, -(2n ** 70n)),
      fc.bigInt(),
      fc.nat(),
      fc.constantFrom(0, 9, 10, 99, 100, 2 ** 32, Number.MAX_SAFE_INTEGER),
    );
    const prefixes = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom('', 'default\u0000bench', 'default\u0000k'.repeat(20), 'é\u0000key', `a${'x'.repeat(230)}`, '["default","jobs","'),
    );
    fc.assert(
      fc.property(prefixes, ids, fc.constantFrom(...forms), (prefix, id, form) => {
        expect(ofParts(prefix, id, form)).toEqual(ofString(entityKeyWithId(prefix, id, form)));
      }),
      { numRuns: 5000 },
    );
    // Lengths around the fixstr/str8/str16 boundaries.
    for (const form of forms)
      for (let n = 20; n < 300; n++)
        for (const id of [5n, 0xabcdefn, 123456, (1_700_000_000_000n << 64n) | 1n]) expect(ofParts('p'.repeat(n), id, form)).toEqual(ofString(entityKeyWithId('p'.repeat(n), id, form)));
    // Keys written one after another into one buffer (a batch): a prefix the last key had is copied
    // from its bytes (`lastPrefix`), each key still the bytes of its string.
    const runs = fc.array(fc.tuple(fc.constantFrom('default\u0000bench\u0000193a4f2c1b0', 'ns\u0000k', 'abc', 'é\u0000x', 'p'.repeat(40)), ids, fc.constantFrom(...forms)), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(runs, (keys) => {
        out.reset();
        for (const [prefix, id, form] of keys) out.stringWithId(prefix, id, form);
        const asParts = [...out.bytes()];
        out.reset();
        for (const [prefix, id, form] of keys) out.string(entityKeyWithId(prefix, id, form));
        expect(asParts).toEqual([...out.bytes()]);
      }),
      { numRuns: 2000 },
    );
    // The default form is the KV and stream keys' NUL and hex; a queue message's is its JSON key.
    expect(entityKeyWithId('ns\u0000k', 255n)).toBe('ns\u0000k\u0000ff');
    expect(entityKeyWithId('["ns","q","', 42, forms[1])).toBe(JSON.stringify(['ns', 'q', '42']));
  });
});
