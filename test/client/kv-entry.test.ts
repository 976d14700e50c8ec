import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../../src/codec/json.js';
import { CodecError } from '../../src/codec/types.js';
import { kvEntry } from '../../src/client/kv-entry.js';
import { countingCodec } from '../support/counting-codec.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('kvEntry', () => {
  it('shows only the wire fields to keys, spreads, JSON and toEqual', () => {
    const e = kvEntry('k', bytes('{"a":1}'), 3n, jsonCodec);
    expect(Object.keys(e)).toEqual(['key', 'value', 'version']);
    expect({ ...e }).toEqual({ key: 'k', value: bytes('{"a":1}'), version: 3n });
    expect(e).toEqual({ key: 'k', value: bytes('{"a":1}'), version: 3n });
    expect(JSON.stringify({ ...e, version: String(e.version), value: undefined })).toBe('{"key":"k","version":"3"}');
  });

  it('decodes data() lazily and once, and text() as UTF-8', () => {
    const codec = countingCodec();
    const e = kvEntry('k', bytes('{"a":1}'), 1n, codec);
    expect(codec.decodes).toBe(0);
    expect(e.data<{ a: number }>()).toEqual({ a: 1 });
    expect(e.data()).toBe(e.data());
    expect(codec.decodes).toBe(1);
    expect(e.text()).toBe('{"a":1}');
  });

  it('remembers a decode failure and throws it again on every call', () => {
    const codec = countingCodec();
    const e = kvEntry('k', bytes('not json'), 1n, codec);
    expect(() => e.data()).toThrow(CodecError);
    let second: unknown;
    try {
      e.data();
    } catch (err) {
      second = err;
    }
    expect(second).toBeInstanceOf(CodecError);
    expect(codec.decodes).toBe(1);
    expect(e.text()).toBe('not json');
  });
});
