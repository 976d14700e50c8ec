import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/protocol/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import { byteString, fromByteString, isReservedKey, KV_RESERVED_PREFIXES, KvStore, qualifiedKeyLength } from '../../../src/server/kv/store.js';

describe('KvStore keeps its own bytes', () => {
  it('a value put from a view into a larger buffer (a socket read) is a copy: changing the buffer later changes nothing', () => {
    const store = new KvStore(new ManualClock());
    // What a request looks like on the server: Buffer views into one read chunk (`Buffer#slice` does not copy).
    const chunk = Buffer.alloc(1024, 0x61);
    const value = chunk.subarray(100, 200).slice();
    store.put('ns', utf8('k'), value);
    store.txnPut('ns', utf8('t'), value, {}, { txnId: store.begin('ns', utf8('ns'), utf8('t')).txnId, nsBytes: utf8('ns'), routingKey: utf8('t') });
    chunk.fill(0x7a);
    const got = store.get('ns', utf8('k'))!;
    expect(got.value.length).toBe(100);
    expect(got.value.every((b) => b === 0x61)).toBe(true);
    expect(got.value.buffer === chunk.buffer && got.value.byteOffset >= chunk.byteOffset && got.value.byteOffset < chunk.byteOffset + chunk.length).toBe(false);
  });
});

describe('byte strings', () => {
  it('round-trip every byte value and keys longer than one conversion step, in byte order', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect([...fromByteString(byteString(all))]).toEqual([...all]);
    const long = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff);
    const s = byteString(long);
    expect(s.length).toBe(10_000);
    expect([...fromByteString(s)]).toEqual([...long]);
    const keys = [[0x61], [0x61, 0x00], [0x61, 0xff], [0x62], [0xff], [0x80, 0x01]].map((k) => Uint8Array.from(k));
    const sorted = [...keys].sort((a, b) => (byteString(a) < byteString(b) ? -1 : 1));
    expect(sorted.map((k) => [...k])).toEqual([[0x61], [0x61, 0x00], [0x61, 0xff], [0x62], [0x80, 0x01], [0xff]]);
  });

  it('convert keys of every short length (a path of their own) byte for byte', () => {
    for (let n = 0; n <= 20; n++) {
      const key = Uint8Array.from({ length: n }, (_, i) => (i * 53 + n * 11 + 0x80) & 0xff);
      const s = byteString(key);
      expect(s.length).toBe(n);
      expect([...fromByteString(s)]).toEqual([...key]);
      // A view into a larger buffer converts only its own bytes.
      const within = new Uint8Array(n + 4).fill(0x7a);
      within.set(key, 2);
      expect(byteString(within.subarray(2, 2 + n))).toBe(s);
    }
  });
});

describe('key checks', () => {
  it('reserved prefixes are refused; other keys, with or without a leading underscore, are not', () => {
    for (const p of KV_RESERVED_PREFIXES) expect(isReservedKey(utf8(`${p}x`))).toBe(true);
    for (const k of ['a', '_', '_act', '_other:x', 'x_action:', '']) expect(isReservedKey(utf8(k))).toBe(false);
  });

  it('qualified key lengths count the namespace in UTF-8 bytes, the default namespace as nothing', () => {
    expect(qualifiedKeyLength('default', utf8('abc'))).toBe(3);
    expect(qualifiedKeyLength('', utf8('abc'))).toBe(3);
    expect(qualifiedKeyLength('ns', utf8('abc'))).toBe(6);
    expect(qualifiedKeyLength('né', utf8('abc'))).toBe(7); // 'é' is two bytes
    expect(qualifiedKeyLength('né', utf8('abc'))).toBe(7); // and again, remembered
    // Alternating namespaces: the one remembered last never answers for another.
    for (const [ns, n] of [['ns', 6], ['né', 7], ['ns', 6], ['日本', 10], ['né', 7]] as const) expect(qualifiedKeyLength(ns, utf8('abc'))).toBe(n);
  });

  it('a NUL byte anywhere in a key is refused, in short keys and long ones', () => {
    const store = new KvStore(new ManualClock());
    for (const n of [1, 2, 16, 32, 33, 100]) {
      for (const at of new Set([0, n >> 1, n - 1])) {
        const key = new Uint8Array(n).fill(0x61);
        key[at] = 0;
        expect(() => store.put('ns', key, utf8('v'))).toThrow('key must not contain NUL');
        expect(store.mget('ns', [key])[0].found).toBe(false);
      }
      expect(store.put('ns', new Uint8Array(n).fill(0x61), utf8('v'))).toBe(1n);
    }
  });
});
