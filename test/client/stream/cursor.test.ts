import { describe, expect, it } from 'vitest';
import { ReadCursor, successorId } from '../../../src/client/stream-cursor.js';
import { formatStreamId, streamId } from '../../../src/protocol/stream.js';

const U64_MAX = 0xffffffffffffffffn;
const r = (ms: number, seq = 0) => ({ id: streamId(ms, seq) });
const fmt = (req: { start?: { timestampMs: bigint; sequence: bigint }; count: number }) => [req.start ? formatStreamId(req.start) : '-', req.count];

describe('ReadCursor (docs/protocol-decisions.md #13)', () => {
  it('first read from the given start; then start = lastId with one spare slot, dropping ids ≤ lastId', () => {
    const c = new ReadCursor(streamId(5, 0));
    const first = c.next(2);
    expect(fmt(first)).toEqual(['5-0', 2]);
    expect(c.accept([r(5), r(6)], first).map((x) => formatStreamId(x.id))).toEqual(['5-0', '6-0']); // inclusive start kept
    const second = c.next(2);
    expect(fmt(second)).toEqual(['6-0', 3]);
    // an exclusive server: no echo, nothing dropped, keep the safe form
    expect(c.accept([r(7), r(8)], second).map((x) => formatStreamId(x.id))).toEqual(['7-0', '8-0']);
    const third = c.next(2);
    expect(fmt(third)).toEqual(['8-0', 3]);
    // an inclusive server echoes 8-0: dropped, and from now on start right after the last id
    expect(c.accept([r(8), r(9)], third).map((x) => formatStreamId(x.id))).toEqual(['9-0']);
    expect(fmt(c.next(2))).toEqual(['9-1', 2]);
    c.forgetEchoes();
    expect(fmt(c.next(2))).toEqual(['9-0', 3]);
  });

  it("an exclusive position ('end') never emits it or anything before it; the spare slot is capped at 1000", () => {
    const c = new ReadCursor(undefined, streamId(10, 3));
    const req = c.next(1000);
    expect(fmt(req)).toEqual(['10-3', 1000]);
    expect(c.accept([r(10, 2), r(10, 3), r(10, 4)], req).map((x) => formatStreamId(x.id))).toEqual(['10-4']);
    expect(formatStreamId(c.lastId!)).toBe('10-4');
  });

  it('successor rolls the sequence over into the next millisecond', () => {
    expect(formatStreamId(successorId(streamId(1, 2)))).toBe('1-3');
    expect(successorId({ timestampMs: 7n, sequence: U64_MAX })).toEqual({ timestampMs: 8n, sequence: 0n });
  });
});
