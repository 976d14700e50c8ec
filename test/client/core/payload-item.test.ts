import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../../../src/codec/json.js';
import type { ValueCodec } from '../../../src/codec/types.js';
import { PayloadItem } from '../../../src/client/core/payload-item.js';
import { countingCodec } from '../../support/counting-codec.js';

const bytes = (s: string) => new TextEncoder().encode(s);

class Item extends PayloadItem {
  readonly name: string;
  readonly payload: Uint8Array;
  constructor(name: string, payload: Uint8Array, codec: ValueCodec) {
    super(codec);
    this.name = name;
    this.payload = payload;
  }
}

describe('PayloadItem', () => {
  it("keeps data() and its state out of the item's own properties", () => {
    const item = new Item('a', bytes('{"n":1}'), jsonCodec);
    item.data();
    expect(Object.keys(item)).toEqual(['name', 'payload']);
    expect({ ...item }).toEqual({ name: 'a', payload: bytes('{"n":1}') });
    expect(item).toEqual({ name: 'a', payload: bytes('{"n":1}') });
    expect(Object.prototype.hasOwnProperty.call(item, 'data')).toBe(false);
  });

  it('decodes on the first data() call only, and once', () => {
    const codec = countingCodec();
    const item = new Item('a', bytes('{"n":1}'), codec);
    expect(codec.decodes).toBe(0);
    expect(item.data<{ n: number }>()).toEqual({ n: 1 });
    expect(item.data()).toBe(item.data());
    expect(codec.decodes).toBe(1);
  });

  it('remembers a decode failure and throws it again on every call', () => {
    const codec = countingCodec();
    const item = new Item('a', bytes('{not json'), codec);
    let first: unknown;
    try {
      item.data();
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(Error);
    expect(() => item.data()).toThrow(first as Error);
    expect(codec.decodes).toBe(1);
  });

  it('each item decodes its own payload with its own memo', () => {
    const a = new Item('a', bytes('1'), jsonCodec);
    const b = new Item('b', bytes('2'), jsonCodec);
    expect([a.data(), b.data(), a.data()]).toEqual([1, 2, 1]);
  });
});
