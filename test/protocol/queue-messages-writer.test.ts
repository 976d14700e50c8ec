import { describe, expect, it } from 'vitest';
import {
  encodeQueueDequeueReply,
  queueMessagesSize,
  writeQueueMessagesAt,
  type QueueMessage,
  type QueueReplyProfile,
} from '../../src/protocol/index.js';

function lists(): QueueMessage[][] {
  const msg = (seq: bigint, n: number, extra: Partial<QueueMessage> = {}): QueueMessage => ({
    seq,
    payload: new Uint8Array(n).map((_, i) => (i * 13 + Number(seq)) & 0xff),
    ...extra,
  });
  return [
    [],
    [msg(1n, 0)],
    [msg(0xffffffffffffffffn, 100, { enqueuedAtMs: 1_700_000_000_123n, deliveryCount: 3, priority: 255 })],
    [msg(5n, 7, { enqueuedAtMs: -5n, deliveryCount: 0xffffffff, priority: 9 }), msg(6n, 300), msg(7n, 1)],
    Array.from({ length: 100 }, (_, i) => msg(BigInt(i + 1), i, { deliveryCount: i })),
  ];
}

describe('writeQueueMessagesAt', () => {
  for (const profile of ['go', 'flo'] as QueueReplyProfile[]) {
    it(`writes encodeQueueDequeueReply's bytes (${profile} profile), at an offset, every byte`, () => {
      for (const messages of lists()) {
        const expected = encodeQueueDequeueReply({ messages }, profile);
        expect(queueMessagesSize(messages, profile)).toBe(expected.length);
        const target = new Uint8Array(expected.length + 9).fill(0xee);
        const end = writeQueueMessagesAt(target, new DataView(target.buffer), 5, messages, profile);
        expect(end).toBe(5 + expected.length);
        expect(target.subarray(5, end)).toEqual(expected);
        expect([...target.subarray(0, 5), ...target.subarray(end)].every((b) => b === 0xee)).toBe(true);
      }
    });
  }

  it('refuses out-of-range fields up front, like the encoder', () => {
    expect(() => queueMessagesSize([{ seq: -1n, payload: new Uint8Array(0) }], 'go')).toThrow(RangeError);
    expect(() => queueMessagesSize([{ seq: 1n, payload: new Uint8Array(0), deliveryCount: -1 }], 'flo')).toThrow(RangeError);
    expect(() => queueMessagesSize([{ seq: 1n, payload: new Uint8Array(0), enqueuedAtMs: 1n << 63n }], 'flo')).toThrow(RangeError);
    expect(() => encodeQueueDequeueReply({ messages: [{ seq: -1n, payload: new Uint8Array(0) }] }, 'go')).toThrow(RangeError);
  });
});
