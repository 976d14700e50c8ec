import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/protocol/errors.js';
import { KeyBytesCache, keyBytes } from '../../src/client/kv-args.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('keyBytes', () => {
  it('gives the UTF-8 of short ASCII keys, of keys with other characters, and of long keys', () => {
    for (const key of ['k', 'bench:key:17', 'clé', 'ключ-🔑', 'a'.repeat(64) + 'é', 'x'.repeat(200), '\u007f\u0080']) {
      expect(keyBytes(key)).toEqual(bytes(key));
    }
  });
});

describe('KeyBytesCache', () => {
  it('gives the same bytes as keyBytes, reusing them for a repeated short string key', () => {
    const cache = new KeyBytesCache();
    for (const key of ['k', 'bench:key', 'clé', 'x'.repeat(200)]) expect(cache.bytes(key)).toEqual(bytes(key));
    expect(cache.bytes('bench:key')).toBe(cache.bytes('bench:key'));
    const raw = bytes('raw');
    expect(cache.bytes(raw)).toBe(raw);
  });
  it('stays bounded: a full cache starts over and still answers right', () => {
    const cache = new KeyBytesCache(4);
    const first = cache.bytes('k0');
    for (let i = 1; i <= 4; i++) cache.bytes(`k${i}`);
    const again = cache.bytes('k0');
    expect(again).not.toBe(first);
    expect(again).toEqual(bytes('k0'));
  });
  it('refuses empty and non-string keys like keyBytes, and remembers nothing for them', () => {
    const cache = new KeyBytesCache();
    expect(() => cache.bytes('')).toThrow(InvalidArgumentError);
    expect(() => cache.bytes(42 as unknown as string)).toThrow(InvalidArgumentError);
    expect(() => cache.bytes('')).toThrow(InvalidArgumentError);
  });
});
