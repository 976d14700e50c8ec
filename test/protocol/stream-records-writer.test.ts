import { describe, expect, it } from 'vitest';
import {
  decodeStreamRecords,
  encodeStreamRecords,
  streamIdFromBigInt,
  streamRecordsSize,
  utf8,
  writeStreamRecordsAt,
  type StreamRecordSource,
} from '../../src/protocol/index.js';

const rec = (key: bigint, partition: number, n: number, headers: Array<readonly [string, string]> = []): StreamRecordSource => ({
  key,
  partition,
  payload: new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff),
  headers,
});

const cases: Array<[string, StreamRecordSource[]]> = [
  ['s', []],
  ['orders', [rec((1_700_000_000_000n << 64n) | 1n, 0, 100)]],
  ['ströme/ü', [rec((0xffffffffffffffffn << 64n) | 0xffffffffffffffffn, 0xffffffff, 0), rec(5n, 3, 1000, [['k', 'v'], ['ключ', 'значение'], ['', '']])]],
  ['many', Array.from({ length: 50 }, (_, i) => rec((BigInt(i) << 64n) | BigInt(i * 3), i % 4, i))],
];

describe('writeStreamRecordsAt', () => {
  it("writes encodeStreamRecords's bytes for records of one stream, at an offset, every byte", () => {
    for (const [stream, records] of cases) {
      const expected = encodeStreamRecords(
        records.map((r) => ({ id: streamIdFromBigInt(r.key), tier: 0, partition: r.partition, stream, payload: r.payload, headers: r.headers })),
      );
      const name = utf8(stream);
      expect(streamRecordsSize(records, name)).toBe(expected.length);
      const target = new Uint8Array(expected.length + 6).fill(0xcd);
      const end = writeStreamRecordsAt(target, new DataView(target.buffer), 3, records, name);
      expect(end).toBe(3 + expected.length);
      expect(target.subarray(3, end)).toEqual(expected);
      expect([...target.subarray(0, 3), ...target.subarray(end)].every((b) => b === 0xcd)).toBe(true);
      expect(decodeStreamRecords(target.subarray(3, end)).map((r) => r.stream)).toEqual(records.map(() => stream));
    }
  });

  it('sizes a record by its `size` when it has one, without reading its payload', () => {
    const payload = new Uint8Array(37).fill(1);
    let payloadReads = 0;
    const sized: StreamRecordSource = {
      key: 7n,
      partition: 0,
      size: payload.length,
      headers: [],
      get payload() {
        payloadReads++;
        return payload;
      },
    };
    const name = utf8('s');
    expect(streamRecordsSize([sized], name)).toBe(streamRecordsSize([rec(7n, 0, 37)], name));
    expect(payloadReads).toBe(0);
  });

  it('refuses an out-of-range partition up front', () => {
    expect(() => streamRecordsSize([rec(1n, -1, 1)], utf8('s'))).toThrow(RangeError);
    expect(() => streamRecordsSize([rec(1n, 2 ** 32, 1)], utf8('s'))).toThrow(RangeError);
  });
});
