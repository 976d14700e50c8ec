import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CodecError, jsonCodec, lazyData, rawCodec, textCodec, toPayload, withData } from '../../src/codec/index.js';
import { createMsgpackCodec, msgpackCodec } from '../../src/codec/msgpack.js';
import * as codecIndex from '../../src/codec/index.js';

const bytes = (...b: number[]) => new Uint8Array(b);
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('jsonCodec', () => {
  it('round-trips JSON values (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(jsonCodec.decode(jsonCodec.encode(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });
  it('encodes as UTF-8 JSON text', () => {
    expect(jsonCodec.encode({ a: 'é' })).toEqual(utf8('{"a":"é"}'));
  });
  it('maps undefined to an empty payload and back', () => {
    expect(jsonCodec.encode(undefined)).toEqual(bytes());
    expect(jsonCodec.decode(bytes())).toBeUndefined();
  });
  it('refuses what JSON cannot carry, with a CodecError', () => {
    expect(() => jsonCodec.encode(1n)).toThrow(CodecError);
    expect(() => jsonCodec.encode(() => 1)).toThrow(/cannot encode a value of type function/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => jsonCodec.encode(cyclic)).toThrow(CodecError);
  });
  it('reports invalid JSON bytes as a CodecError with the cause', () => {
    let err: unknown;
    try {
      jsonCodec.decode(utf8('{nope'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CodecError);
    expect((err as CodecError).codec).toBe('json');
    expect((err as CodecError).cause).toBeInstanceOf(SyntaxError);
  });
});

describe('textCodec and rawCodec', () => {
  it('text: strings only, any bytes back', () => {
    expect(textCodec.encode('héllo')).toEqual(utf8('héllo'));
    expect(textCodec.decode(utf8('héllo'))).toBe('héllo');
    expect(() => textCodec.encode(42)).toThrow(CodecError);
  });
  it('raw: bytes as is, views and buffers as views, nothing else', () => {
    const b = bytes(1, 2, 3);
    expect(rawCodec.encode(b)).toBe(b);
    expect(rawCodec.decode(b)).toBe(b);
    const buf = new ArrayBuffer(4);
    new Uint8Array(buf).set([9, 8, 7, 6]);
    expect(rawCodec.encode(new DataView(buf, 1, 2))).toEqual(bytes(8, 7));
    expect(rawCodec.encode(buf)).toEqual(bytes(9, 8, 7, 6));
    expect(() => rawCodec.encode('x')).toThrow(CodecError);
  });
});

describe('msgpackCodec', () => {
  it('round-trips values, maps as plain objects, 64-bit integers as bigint', () => {
    const v = { a: 1, b: [true, null, 'x'], c: { d: 1.5 }, big: 2n ** 60n };
    expect(msgpackCodec.decode(msgpackCodec.encode(v))).toEqual(v);
    expect(msgpackCodec.encode({ a: 1 })).toEqual(bytes(0x81, 0xa1, 0x61, 0x01)); // plain map, no record extension
  });
  it('round-trips (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        // msgpackr renames `__proto__` keys (prototype-pollution guard): not a round-trip case.
        fc.pre(!JSON.stringify(v).includes('"__proto__"'));
        // -0 comes back as 0 (msgpackr writes integral numbers as integers): compare JSON-normalised
        expect(msgpackCodec.decode(msgpackCodec.encode(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 200 },
    );
  });
  it('reports bad bytes as a CodecError', () => {
    expect(() => createMsgpackCodec().decode(bytes(0x92, 0x01))).toThrow(CodecError);
  });
  it('is not re-exported by the codec index (msgpackr stays out of bundles that do not import it)', () => {
    expect(Object.keys(codecIndex)).not.toContain('msgpackCodec');
    expect(Object.keys(codecIndex)).not.toContain('createMsgpackCodec');
  });
});

describe('toPayload', () => {
  it('sends bytes as is, strings as UTF-8 and everything else through the codec', () => {
    const b = bytes(0, 255);
    expect(toPayload(b, jsonCodec)).toBe(b);
    expect(toPayload('hello', jsonCodec)).toEqual(utf8('hello')); // not "\"hello\""
    expect(toPayload({ n: 1 }, jsonCodec)).toEqual(utf8('{"n":1}'));
    expect(toPayload(7, msgpackCodec)).toEqual(bytes(7));
    expect(toPayload(undefined, jsonCodec)).toEqual(bytes());
  });
});

describe('data<T>()', () => {
  it('decodes lazily and at most once', () => {
    let decodes = 0;
    const codec = { name: 'counting', encode: () => bytes(), decode: (b: Uint8Array) => (decodes++, { len: b.length }) };
    const data = lazyData(bytes(1, 2), codec);
    expect(decodes).toBe(0);
    const first = data<{ len: number }>();
    expect(first).toEqual({ len: 2 });
    expect(data()).toBe(first);
    expect(decodes).toBe(1);
  });
  it('memoises a failure and rethrows it', () => {
    let decodes = 0;
    const data = lazyData(utf8('{'), {
      name: 'j',
      encode: () => bytes(),
      decode: (b) => {
        decodes++;
        return jsonCodec.decode(b);
      },
    });
    expect(() => data()).toThrow(CodecError);
    expect(() => data()).toThrow(CodecError);
    expect(decodes).toBe(1);
  });
  it('withData adds a non-enumerable accessor over the named bytes field', () => {
    const entry = withData({ key: 'k', value: utf8('{"x":1}'), version: 3n }, 'value', jsonCodec);
    expect(entry.data<{ x: number }>().x).toBe(1);
    expect(Object.keys(entry)).toEqual(['key', 'value', 'version']);
    expect({ ...entry }).not.toHaveProperty('data');
  });
});
