import { describe, expect, it } from 'vitest';
import { keyBytes } from '../../src/client/kv-args.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('keyBytes', () => {
  it('gives the UTF-8 of short ASCII keys, of keys with other characters, and of long keys', () => {
    for (const key of ['k', 'bench:key:17', 'clé', 'ключ-🔑', 'a'.repeat(64) + 'é', 'x'.repeat(200), '\u007f\u0080']) {
      expect(keyBytes(key)).toEqual(bytes(key));
    }
  });
});
