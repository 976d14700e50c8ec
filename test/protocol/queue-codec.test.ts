import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  EMPTY,
  ProtocolError,
  decodeQueueBatchEnqueue,
  decodeQueueBatchEnqueueReply,
  decodeQueueComplete,
  decodeQueueCompleteReply,
  decodeQueueDequeue,
  decodeQueueDequeueReply,
  decodeQueueDlqDelete,
  decodeQueueDlqDeleteReply,
  decodeQueueDlqList,
  decodeQueueDlqListReply,
  decodeQueueDlqRequeue,
  decodeQueueDlqRequeueReply,
  decodeQueueDlqStats,
  decodeQueueDlqStatsReply,
  decodeQueueEnqueue,
  decodeQueueEnqueueReply,
  decodeQueueExtendLease,
  decodeQueueExtendLeaseReply,
  decodeQueueFail,
  decodeQueueFailReply,
  decodeQueueList,
  decodeQueueListReply,
  decodeQueuePeek,
  decodeQueuePeekReply,
  decodeQueuePurge,
  decodeQueuePurgeReply,
  decodeQueueSeqList,
  decodeQueueStats,
  decodeQueueStatsReply,
  decodeQueueTouch,
  decodeQueueTouchReply,
  decodeRequestBody,
  encodeQueueBatchEnqueue,
  encodeQueueBatchEnqueueReply,
  encodeQueueComplete,
  encodeQueueDequeue,
  encodeQueueDequeueReply,
  encodeQueueDlqDelete,
  encodeQueueDlqList,
  encodeQueueDlqListReply,
  encodeQueueDlqRequeue,
  encodeQueueDlqStats,
  encodeQueueDlqStatsReply,
  encodeQueueEnqueue,
  encodeQueueEnqueueReply,
  encodeQueueExtendLease,
  encodeQueueFail,
  encodeQueueList,
  encodeQueueListReply,
  encodeQueuePeek,
  encodeQueuePeekReply,
  encodeQueuePurge,
  encodeQueuePurgeReply,
  encodeQueueSeqList,
  encodeQueueStats,
  encodeQueueStatsReply,
  encodeQueueTouch,
  encodeRequest,
  encodeRequestBody,
  fromHex,
  HEADER_SIZE,
  OptionsBuilder,
  Opt,
  utf8,
  type OpPayload,
  type QueueMessage,
  type QueueMessagesReply,
  type QueueReplyProfile,
  type RequestBody,
} from '../../src/protocol/index.js';

/** Client encoder → a real frame → the server's section parser. */
function viaFrame(op: OpPayload, namespace = 'ns'): RequestBody {
  return decodeRequestBody(encodeRequest(1n, 0x170, namespace, op).subarray(HEADER_SIZE));
}

const u8 = fc.integer({ min: 0, max: 0xff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const name = fc.string({ minLength: 1, maxLength: 40 });
const bytes = fc.uint8Array({ maxLength: 64 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const seqs = fc.array(u64, { maxLength: 20 });

/** Drops keys whose value is undefined, so `toEqual` compares what a decoder can see. */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const compactMessage: fc.Arbitrary<QueueMessage> = fc.record({ seq: u64, payload: bytes });
const extendedMessage: fc.Arbitrary<QueueMessage> = fc.record({ seq: u64, payload: bytes, enqueuedAtMs: i64, deliveryCount: u32, priority: u8 });

describe('queue codecs: request round trips (client encode → frame → server decode)', () => {
  it('enqueue', () => {
    fc.assert(
      fc.property(name, bytes, opt(u8), opt(u64), opt(fc.uint8Array({ maxLength: 255 })), (queue, payload, priority, delayMs, dedupKey) => {
        const got = decodeQueueEnqueue(viaFrame(encodeQueueEnqueue({ queue, payload, priority, delayMs, dedupKey })));
        expect(got).toEqual(
          clean({ queue, payload, priority: priority === 0 ? undefined : priority, delayMs, dedupKey: dedupKey?.length ? dedupKey : undefined }),
        );
      }),
    );
  });

  it('dequeue (count always sent)', () => {
    fc.assert(
      fc.property(name, opt(u32), opt(u32), opt(u32), (queue, count, visibilityTimeoutMs, blockMs) => {
        const got = decodeQueueDequeue(viaFrame(encodeQueueDequeue({ queue, count, visibilityTimeoutMs, blockMs })));
        expect(got).toEqual(clean({ queue, count: count ?? 1, visibilityTimeoutMs, blockMs }));
      }),
    );
  });

  it('ack, DLQ requeue, DLQ delete', () => {
    fc.assert(
      fc.property(name, seqs, (queue, s) => {
        expect(decodeQueueComplete(viaFrame(encodeQueueComplete({ queue, seqs: s })))).toEqual({ queue, seqs: s });
        expect(decodeQueueDlqRequeue(viaFrame(encodeQueueDlqRequeue({ queue, seqs: s })))).toEqual({ queue, seqs: s });
        expect(decodeQueueDlqDelete(viaFrame(encodeQueueDlqDelete({ queue, seqs: s })))).toEqual({ queue, seqs: s });
      }),
    );
  });

  it('nack', () => {
    fc.assert(
      fc.property(name, seqs, opt(fc.boolean()), (queue, s, toDlq) => {
        expect(decodeQueueFail(viaFrame(encodeQueueFail({ queue, seqs: s, toDlq })))).toEqual({ queue, seqs: s, toDlq: toDlq ?? false });
      }),
    );
  });

  it('touch and extend lease (extend_ms sent only when > 0)', () => {
    fc.assert(
      fc.property(name, seqs, opt(u32), (queue, s, extendMs) => {
        const want = clean({ queue, seqs: s, extendMs: extendMs ? extendMs : undefined });
        expect(decodeQueueTouch(viaFrame(encodeQueueTouch({ queue, seqs: s, extendMs })))).toEqual(want);
        expect(decodeQueueExtendLease(viaFrame(encodeQueueExtendLease({ queue, seqs: s, extendMs })))).toEqual(want);
      }),
    );
  });

  it('DLQ list (limit always sent, 100 when not given)', () => {
    fc.assert(
      fc.property(name, opt(u32), (queue, limit) => {
        expect(decodeQueueDlqList(viaFrame(encodeQueueDlqList({ queue, limit })))).toEqual({ queue, limit: limit ?? 100 });
      }),
    );
  });

  it('peek, stats, DLQ stats, purge', () => {
    fc.assert(
      fc.property(name, opt(u32), (queue, count) => {
        expect(decodeQueuePeek(viaFrame(encodeQueuePeek({ queue, count })))).toEqual({ queue, count: count ?? 1 });
        expect(decodeQueueStats(viaFrame(encodeQueueStats({ queue })))).toEqual({ queue });
        expect(decodeQueueDlqStats(viaFrame(encodeQueueDlqStats({ queue })))).toEqual({ queue });
        expect(decodeQueuePurge(viaFrame(encodeQueuePurge({ queue })))).toEqual({ queue });
      }),
    );
  });

  it('batch enqueue', () => {
    fc.assert(
      fc.property(name, fc.array(bytes, { maxLength: 10 }), opt(u8), opt(u64), (queue, payloads, priority, delayMs) => {
        const got = decodeQueueBatchEnqueue(viaFrame(encodeQueueBatchEnqueue({ queue, payloads, priority, delayMs })));
        expect(got).toEqual(clean({ queue, payloads, priority: priority === 0 ? undefined : priority, delayMs }));
      }),
    );
  });

  it('list (value form)', () => {
    fc.assert(
      fc.property(opt(u32), opt(bytes), (limit, cursor) => {
        expect(decodeQueueList(viaFrame(encodeQueueList({ limit, cursor })))).toEqual({ limit: limit ?? 0, cursor: cursor ?? EMPTY });
      }),
    );
  });
});

describe('queue codecs: reply round trips (server encode → client decode)', () => {
  const lists: [string, (r: QueueMessagesReply, p: QueueReplyProfile) => Uint8Array, (b: Uint8Array) => QueueMessagesReply][] = [
    ['dequeue', encodeQueueDequeueReply, decodeQueueDequeueReply],
    ['peek', encodeQueuePeekReply, decodeQueuePeekReply],
    ['dlq list', encodeQueueDlqListReply, decodeQueueDlqListReply],
  ];
  for (const [what, enc, dec] of lists) {
    it(`${what}: both profiles`, () => {
      const arb = fc.oneof(
        fc.record({ profile: fc.constant<QueueReplyProfile>('go'), messages: fc.array(compactMessage, { maxLength: 8 }) }),
        fc.record({ profile: fc.constant<QueueReplyProfile>('flo'), messages: fc.array(extendedMessage, { maxLength: 8 }) }),
      );
      fc.assert(
        fc.property(arb, ({ profile, messages }) => {
          const wire = enc({ messages }, profile);
          const got = dec(wire);
          // The two layouts can in rare crafted cases both consume a payload exactly; the decoder
          // prefers the extended one. Whatever it picks must re-encode to the same bytes.
          const picked: QueueReplyProfile = got.messages.some((m) => m.deliveryCount !== undefined) ? 'flo' : 'go';
          expect(enc(got, picked)).toEqual(wire);
          if (picked === profile) expect(got.messages).toEqual(messages);
        }),
      );
    });
  }

  it('0 bytes and [0:u32] are both empty lists (docs/protocol-decisions.md #16)', () => {
    for (const [, , dec] of lists) {
      expect(dec(EMPTY).messages).toEqual([]);
      expect(dec(fromHex('00000000')).messages).toEqual([]);
    }
  });

  it('enqueue, purge, DLQ stats, stats, batch enqueue, list', () => {
    fc.assert(
      fc.property(u64, u64, (a, b) => {
        expect(decodeQueueEnqueueReply(encodeQueueEnqueueReply({ seq: a }))).toEqual({ seq: a });
        expect(decodeQueuePurgeReply(encodeQueuePurgeReply({ purged: a }))).toEqual({ purged: a });
        expect(decodeQueueDlqStatsReply(encodeQueueDlqStatsReply({ current: a, total: b }))).toEqual({ current: a, total: b });
      }),
    );
    fc.assert(
      fc.property(fc.array(u64, { minLength: 9, maxLength: 9 }), (v) => {
        const s = { enqueued: v[0], dequeued: v[1], acked: v[2], nacked: v[3], dlqTotal: v[4], leasesExpired: v[5], ready: v[6], leased: v[7], dlqCurrent: v[8] };
        const wire = encodeQueueStatsReply(s);
        expect(wire.length).toBe(72);
        expect(decodeQueueStatsReply(wire)).toEqual(s);
      }),
    );
    fc.assert(
      fc.property(seqs, (s) => {
        expect(decodeQueueBatchEnqueueReply(encodeQueueBatchEnqueueReply({ seqs: s }))).toEqual({ seqs: s });
      }),
    );
    const entry = fc.record({ name, namespace: name, pending: u64, available: u64, enqueued: u64, dequeued: u64, dlq: u64 });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), fc.boolean(), bytes, (queues, hasMore, cursor) => {
        expect(decodeQueueListReply(encodeQueueListReply({ queues, hasMore, cursor }))).toEqual({ queues, hasMore, cursor });
      }),
    );
  });

  it('a list reply without the has_more trailer (older server) reads as the last page', () => {
    const full = encodeQueueListReply({ queues: [], hasMore: false, cursor: EMPTY });
    expect(decodeQueueListReply(full.subarray(0, 4))).toEqual({ queues: [], hasMore: false, cursor: EMPTY });
  });
});

describe('queue codecs: server-side edge cases', () => {
  const body = (value: Uint8Array, key = 'q', options: Uint8Array = EMPTY): RequestBody => ({ namespace: utf8('ns'), key: utf8(key), value, options });

  it('a lone ASCII decimal seq is accepted (the indexed server format)', () => {
    expect(decodeQueueComplete(body(utf8('42')))).toEqual({ queue: 'q', seqs: [42n] });
    expect(decodeQueueSeqList(utf8('18446744073709551615'))).toEqual([0xffffffffffffffffn]);
    expect(() => decodeQueueSeqList(utf8('18446744073709551616'))).toThrow(BadRequestError);
  });

  it('an empty list is a no-op; a wrong length, a short value or an empty key is BAD_REQUEST', () => {
    expect(decodeQueueFail(body(fromHex('00000000')))).toEqual({ queue: 'q', seqs: [], toDlq: false });
    expect(() => decodeQueueComplete(body(EMPTY))).toThrow(/message sequence is required/);
    expect(() => decodeQueueComplete(body(fromHex('0200000001000000000000')))).toThrow(BadRequestError);
    expect(() => decodeQueueComplete(body(encodeQueueSeqList([1n]), ''))).toThrow(/queue name is required/);
    expect(() => decodeQueueDequeue(body(EMPTY, ''))).toThrow(BadRequestError);
  });

  it('options: first occurrence wins, wrong widths read as absent, send_to_dlq 0 is false', () => {
    const o = new OptionsBuilder().u32(Opt.Count, 3).u32(Opt.Count, 9).u8(Opt.VisibilityTimeoutMS, 1).build();
    expect(decodeQueueDequeue(body(EMPTY, 'q', o))).toEqual({ queue: 'q', count: 3 });
    expect(decodeQueueFail(body(encodeQueueSeqList([1n]), 'q', new OptionsBuilder().u8(Opt.SendToDLQ, 0).build())).toDlq).toBe(false);
  });

  it('list: options form (older CLI) when the value is shorter than 4 bytes', () => {
    const o = new OptionsBuilder().u32(Opt.Limit, 5).bytes(Opt.Cursor, 'b').build();
    expect(decodeQueueList({ namespace: EMPTY, key: EMPTY, value: EMPTY, options: o })).toEqual({ limit: 5, cursor: utf8('b') });
  });

  it('batch enqueue refuses a dedup key and a malformed value', () => {
    const op = encodeQueueBatchEnqueue({ queue: 'q', payloads: [utf8('a')] });
    expect(() => decodeQueueBatchEnqueue({ ...viaFrame(op), options: new OptionsBuilder().bytes(Opt.DedupKey, 'k').build() })).toThrow(/dedup/);
    expect(() => decodeQueueBatchEnqueue(body(fromHex('0100000005000000')))).toThrow(BadRequestError);
  });
});

describe('queue codecs: random bytes never crash a decoder', () => {
  const clientDecoders: [string, (p: Uint8Array) => unknown][] = [
    ['enqueue', decodeQueueEnqueueReply],
    ['dequeue', decodeQueueDequeueReply],
    ['complete', decodeQueueCompleteReply],
    ['fail', decodeQueueFailReply],
    ['touch', decodeQueueTouchReply],
    ['extend lease', decodeQueueExtendLeaseReply],
    ['dlq list', decodeQueueDlqListReply],
    ['dlq delete', decodeQueueDlqDeleteReply],
    ['dlq requeue', decodeQueueDlqRequeueReply],
    ['dlq stats', decodeQueueDlqStatsReply],
    ['stats', decodeQueueStatsReply],
    ['peek', decodeQueuePeekReply],
    ['purge', decodeQueuePurgeReply],
    ['batch enqueue', decodeQueueBatchEnqueueReply],
    ['list', decodeQueueListReply],
  ];
  const serverDecoders: [string, (b: RequestBody) => unknown][] = [
    ['enqueue', decodeQueueEnqueue],
    ['dequeue', decodeQueueDequeue],
    ['complete', decodeQueueComplete],
    ['fail', decodeQueueFail],
    ['touch', decodeQueueTouch],
    ['extend lease', decodeQueueExtendLease],
    ['dlq list', decodeQueueDlqList],
    ['dlq delete', decodeQueueDlqDelete],
    ['dlq requeue', decodeQueueDlqRequeue],
    ['dlq stats', decodeQueueDlqStats],
    ['stats', decodeQueueStats],
    ['peek', decodeQueuePeek],
    ['purge', decodeQueuePurge],
    ['batch enqueue', decodeQueueBatchEnqueue],
    ['list', decodeQueueList],
  ];

  // Random bytes, plus bytes that start like a plausible list (a small count) to get past the first check.
  const payloads = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 120 })).map(([n, rest]) => {
      const out = new Uint8Array(4 + rest.length);
      out[0] = n;
      out.set(rest, 4);
      return out;
    }),
  );

  for (const [what, dec] of clientDecoders) {
    it(`client ${what} reply decoder: a value or a ProtocolError`, () => {
      fc.assert(
        fc.property(payloads, (p) => {
          try {
            dec(p);
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  for (const [what, dec] of serverDecoders) {
    it(`server ${what} request decoder: a value or BAD_REQUEST`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 3 }), payloads, fc.uint8Array({ maxLength: 40 }), (key, value, options) => {
          try {
            // Through the section parser too: the server sees only what it produces.
            dec(decodeRequestBody(encodeRequestBody({ namespace: utf8('ns'), key, value, options })));
          } catch (err) {
            expect(err).toBeInstanceOf(BadRequestError);
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});
