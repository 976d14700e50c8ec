import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromUtf8, utf8 } from '../../src/protocol/bytes.js';
import { nameBytes, nameText } from '../../src/protocol/name-bytes.js';

describe('nameBytes', () => {
  it('gives the UTF-8 of a name, the same bytes on every call', () => {
    expect(nameBytes('orders')).toEqual(utf8('orders'));
    expect(nameBytes('orders')).toBe(nameBytes('orders'));
    const given = new Uint8Array([1, 2]);
    expect(nameBytes(given)).toBe(given);
  });
});

describe('nameText', () => {
  it('is fromUtf8 of the bytes, for names seen before or not, including invalid UTF-8 and long names', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.string({ maxLength: 70 }).map((s) => utf8(s))), { maxLength: 30 }), (names) => {
        for (const b of [...names, ...names]) expect(nameText(b)).toBe(fromUtf8(b));
      }),
    );
  });

  it('does not depend on the buffer it was given first (it keeps a copy)', () => {
    const buf = utf8('stream-a');
    expect(nameText(buf)).toBe('stream-a');
    buf.set(utf8('stream-b'));
    expect(nameText(buf)).toBe('stream-b');
    expect(nameText(utf8('stream-a'))).toBe('stream-a');
  });
});
