// The server's "write into" stream append and queue enqueue reply payloads: byte for byte the golden
// replies and the allocating encoders, at any offset of a larger buffer, leaving the bytes around alone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeQueueEnqueueReply,
  decodeStreamAppendReply,
  encodeQueueEnqueueReply,
  encodeStreamAppendReply,
  fromHex,
  QUEUE_ENQUEUE_REPLY_SIZE,
  STREAM_APPEND_REPLY_SIZE,
  toHex,
  writeQueueEnqueueReplyAt,
  writeStreamAppendReplyAt,
} from '../../src/protocol/index.js';
import { vector } from '../vectors.js';
import { OFFSETS, writeAt } from '../support/write-at.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('writeStreamAppendReplyAt', () => {
  for (const name of ['stream_append', 'stream_append_headers']) {
    it(`writes the ${name} golden reply at odd offsets`, () => {
      const golden = vector(name).response.payload_hex;
      const id = decodeStreamAppendReply(fromHex(golden));
      for (const at of OFFSETS) {
        expect(toHex(writeAt(STREAM_APPEND_REPLY_SIZE, at, (t, v, o) => writeStreamAppendReplyAt(t, v, o, id)))).toBe(golden);
      }
    });
  }

  it('matches encodeStreamAppendReply for any id', () => {
    fc.assert(
      fc.property(u64, u64, fc.nat(9), (timestampMs, sequence, at) => {
        const id = { timestampMs, sequence };
        expect(writeAt(STREAM_APPEND_REPLY_SIZE, at, (t, v, o) => writeStreamAppendReplyAt(t, v, o, id))).toEqual(encodeStreamAppendReply(id));
      }),
    );
  });

  it('refuses a target too small and a sequence out of range', () => {
    const t = new Uint8Array(20);
    const v = new DataView(t.buffer);
    expect(() => writeStreamAppendReplyAt(t, v, 5, { timestampMs: 1n, sequence: 1n })).toThrow(RangeError);
    expect(() => writeStreamAppendReplyAt(t, v, 0, { timestampMs: 1n, sequence: -1n })).toThrow(RangeError);
  });
});

describe('writeQueueEnqueueReplyAt', () => {
  it('writes the queue_enqueue golden reply at odd offsets', () => {
    const golden = vector('queue_enqueue_priority_delay_dedup').response.payload_hex;
    const { seq } = decodeQueueEnqueueReply(fromHex(golden));
    for (const at of OFFSETS) {
      expect(toHex(writeAt(QUEUE_ENQUEUE_REPLY_SIZE, at, (t, v, o) => writeQueueEnqueueReplyAt(t, v, o, seq)))).toBe(golden);
    }
  });

  it('matches encodeQueueEnqueueReply for any u64 seq', () => {
    fc.assert(
      fc.property(u64, fc.nat(9), (seq, at) => {
        expect(writeAt(QUEUE_ENQUEUE_REPLY_SIZE, at, (t, v, o) => writeQueueEnqueueReplyAt(t, v, o, seq))).toEqual(encodeQueueEnqueueReply({ seq }));
      }),
    );
  });

  it('refuses a target too small and a seq out of range', () => {
    const t = new Uint8Array(10);
    const v = new DataView(t.buffer);
    expect(() => writeQueueEnqueueReplyAt(t, v, 3, 1n)).toThrow(RangeError);
    expect(() => writeQueueEnqueueReplyAt(t, v, 0, 1n << 64n)).toThrow(RangeError);
  });
});
