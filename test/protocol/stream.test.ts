import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as P from '../../src/protocol/index.js';
import {
  compareStreamIds,
  decodeRequestBody,
  encodeRequestBody,
  formatStreamId,
  InvalidArgumentError,
  MAX_STREAM_ID,
  MIN_STREAM_ID,
  parseStreamId,
  ProtocolError,
  streamIdFromBigInt,
  streamIdToBigInt,
  toHex,
  utf8,
  type OpPayload,
  type RequestBody,
  type StreamId,
} from '../../src/protocol/index.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const arbId: fc.Arbitrary<StreamId> = fc.record({ timestampMs: u64, sequence: u64 });
const name = fc.string({ unit: 'grapheme', maxLength: 12 });
const shortBytes = fc.uint8Array({ maxLength: 40 });
const headers = fc.array(fc.tuple(name, name), { maxLength: 4 });
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** What a request body looks like after it crossed the wire (namespace `ns`). */
function wire(op: OpPayload): RequestBody {
  return decodeRequestBody(encodeRequestBody({ namespace: utf8('ns'), key: op.key, value: op.value, options: op.options }));
}

/** Drops undefined fields (the decoders omit absent options). */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const record = fc.record({
  id: arbId,
  tier: fc.integer({ min: 0, max: 255 }),
  partition: u32,
  stream: optional(name),
  payload: shortBytes,
  headers,
});

describe('StreamId helpers', () => {
  it('formats and parses', () => {
    expect(formatStreamId({ timestampMs: 1703350800000n, sequence: 3n })).toBe('1703350800000-3');
    expect(parseStreamId('1703350800000-3')).toEqual({ timestampMs: 1703350800000n, sequence: 3n });
    expect(parseStreamId('42')).toEqual({ timestampMs: 42n, sequence: 0n });
    for (const bad of ['', '-', '1-', 'a-1', '1-2-3', '18446744073709551616-0', '-1-0']) {
      expect(() => parseStreamId(bad), bad).toThrow(InvalidArgumentError);
    }
  });

  it('round-trips text and 128-bit forms, and orders like the 128-bit number', () => {
    fc.assert(
      fc.property(arbId, arbId, (a, b) => {
        expect(parseStreamId(formatStreamId(a))).toEqual(a);
        expect(streamIdFromBigInt(streamIdToBigInt(a))).toEqual(a);
        const ka = streamIdToBigInt(a);
        const kb = streamIdToBigInt(b);
        expect(Math.sign(compareStreamIds(a, b))).toBe(ka < kb ? -1 : ka > kb ? 1 : 0);
      }),
    );
    expect(compareStreamIds(MIN_STREAM_ID, MAX_STREAM_ID)).toBeLessThan(0);
    expect(streamIdFromBigInt(streamIdToBigInt({ timestampMs: 5n, sequence: (1n << 64n) - 1n }) + 1n)).toEqual({ timestampMs: 6n, sequence: 0n });
  });
});

describe('batch frame', () => {
  it('encodes the documented example', () => {
    expect(toHex(P.encodeStreamBatch([{ payload: utf8('hello'), headers: { k1: 'v1' } }]))).toBe('010000000500000068656c6c6f010002006b3102007631');
  });

  it('keeps header insertion order and duplicates', () => {
    const h: Array<[string, string]> = [['b', '1'], ['a', '2'], ['b', '3']];
    expect(P.decodeStreamBatch(P.encodeStreamBatch([{ payload: utf8('x'), headers: h }]))![0].headers).toEqual(h);
    expect(P.decodeStreamBatch(P.encodeStreamBatch([{ payload: utf8('x'), headers: new Map(h.slice(0, 2)) }]))![0].headers).toEqual(h.slice(0, 2));
  });

  it('is a batch only when it parses exactly; otherwise the value is one raw record', () => {
    const frame = P.encodeStreamBatch([{ payload: utf8('hello') }]);
    expect(P.decodeStreamBatch(frame)).toHaveLength(1);
    expect(P.decodeStreamBatch(new Uint8Array([...frame, 0]))).toBeUndefined();
    expect(P.decodeStreamBatch(utf8('{"event":"login"}'))).toBeUndefined();
    const raw = P.decodeStreamAppend(wire({ key: utf8('s'), value: utf8('plain') }));
    expect(raw).toEqual({ stream: 's', batch: false, records: [{ payload: utf8('plain'), headers: [] }] });
    expect(P.decodeStreamAppend(wire({ key: utf8('s'), value: new Uint8Array(4) }))).toMatchObject({ batch: true, records: [] });
  });

  it('is not a batch when cut anywhere, headers included', () => {
    const frame = P.encodeStreamBatch([
      { payload: utf8('hello'), headers: [['k1', 'v1']] },
      { payload: utf8('world'), headers: [['content-type', 'json'], ['x', '']] },
    ]);
    expect(P.decodeStreamBatch(frame)).toEqual([
      { payload: utf8('hello'), headers: [['k1', 'v1']] },
      { payload: utf8('world'), headers: [['content-type', 'json'], ['x', '']] },
    ]);
    for (let cut = 0; cut < frame.length; cut++) expect(P.decodeStreamBatch(frame.subarray(0, cut))).toBeUndefined();
  });
});

describe('round trips: client encoder → wire → server decoder', () => {
  it('append (single record and batches)', () => {
    fc.assert(
      fc.property(name, shortBytes, headers, optional(u32), optional(fc.uint8Array({ minLength: 1, maxLength: 20 })), (stream, payload, h, partition, partitionKey) => {
        const got = P.decodeStreamAppend(wire(P.encodeStreamAppend({ stream, payload, headers: h, partition, partitionKey })));
        expect(got).toEqual(clean({ stream, batch: true, records: [{ payload, headers: h }], partition, partitionKey }));
      }),
    );
    fc.assert(
      fc.property(name, fc.array(fc.record({ payload: shortBytes, headers }), { minLength: 1, maxLength: 5 }), (stream, records) => {
        expect(P.decodeStreamAppend(wire(P.encodeStreamAppendBatch({ stream, records }))).records).toEqual(records);
      }),
    );
  });

  it('append without headers or options: the same bytes as a batch of one (no options section)', () => {
    fc.assert(
      fc.property(name, shortBytes, (stream, payload) => {
        const one = P.encodeStreamAppend({ stream, payload });
        const batch = P.encodeStreamAppendBatch({ stream, records: [{ payload }] });
        expect(one.options).toBeUndefined();
        expect(one.key).toEqual(batch.key);
        expect(one.value).toEqual(P.encodeStreamBatch([{ payload }]));
        expect(wire(one)).toEqual(wire(batch));
      }),
    );
  });

  it('read', () => {
    fc.assert(
      fc.property(
        fc.record({
          stream: name,
          tail: fc.boolean(),
          start: optional(arbId),
          end: optional(arbId),
          partition: optional(u32),
          partitionKey: optional(fc.uint8Array({ minLength: 1, maxLength: 20 })),
          count: optional(u32),
          blockMs: optional(u32),
        }),
        (req) => {
          expect(P.decodeStreamRead(wire(P.encodeStreamRead(req)))).toEqual(clean(req));
        },
      ),
    );
  });

  it('info, delete, list, create, alter, trim', () => {
    fc.assert(
      fc.property(name, fc.boolean(), (stream, force) => {
        expect(P.decodeStreamInfo(wire(P.encodeStreamInfo({ stream })))).toEqual({ stream });
        expect(P.decodeStreamDelete(wire(P.encodeStreamDelete({ stream, force })))).toEqual({ stream, force });
      }),
    );
    fc.assert(
      fc.property(u32, shortBytes, (limit, cursor) => {
        expect(P.decodeStreamList(wire(P.encodeStreamList({ limit, cursor })))).toEqual({ limit, cursor });
      }),
    );
    expect(P.decodeStreamList(wire(P.encodeStreamList()))).toEqual({ limit: 0, cursor: new Uint8Array(0) });
    const retention = { retentionCount: optional(u64), retentionAgeSeconds: optional(u64), retentionBytes: optional(u64) };
    fc.assert(
      fc.property(fc.record({ stream: name, partitionCount: optional(u32), ...retention }), (req) => {
        expect(P.decodeStreamCreate(wire(P.encodeStreamCreate(req)))).toEqual(clean(req));
      }),
    );
    fc.assert(
      fc.property(fc.record({ stream: name, ...retention }), (req) => {
        expect(P.decodeStreamAlter(wire(P.encodeStreamAlter(req)))).toEqual(clean(req));
      }),
    );
    fc.assert(
      fc.property(
        fc.record({
          stream: name,
          maxLen: optional(u64),
          maxAgeSeconds: optional(u64),
          maxBytes: optional(u64),
          before: optional(arbId),
          upTo: optional(arbId),
          firstN: optional(u64),
          dryRun: fc.boolean(),
        }),
        (req) => {
          expect(P.decodeStreamTrim(wire(P.encodeStreamTrim(req)))).toEqual(clean(req));
        },
      ),
    );
  });

  it('the server also reads the trim and count forms of other senders', () => {
    const o = new P.OptionsBuilder().u64(P.Opt.Limit, 7n).u64(P.Opt.MaxAgeSeconds, 60n).u64(P.Opt.MaxBytes, 9n).build();
    expect(P.decodeStreamTrim(wire({ key: utf8('s'), value: utf8('12'), options: o }))).toEqual({
      stream: 's',
      maxLen: 7n,
      maxAgeSeconds: 60n,
      maxBytes: 9n,
      firstN: 12n,
      dryRun: false,
    });
    expect(P.decodeStreamTrim(wire({ key: utf8('s'), options: new P.OptionsBuilder().u32(P.Opt.Limit, 3).build() })).maxLen).toBe(3n);
    expect(P.decodeStreamRead(wire({ key: utf8('s'), options: new P.OptionsBuilder().u32(P.Opt.Limit, 5).build() })).count).toBe(5);
  });

  it('group ops', () => {
    const member = fc.record({ stream: name, group: name, consumer: name });
    const ids = fc.array(arbId, { maxLength: 5 });
    fc.assert(
      fc.property(member, ids, optional(u32), optional(u32), fc.boolean(), (m, list, a, b, noAck) => {
        const g = { stream: m.stream, group: m.group };
        expect(P.decodeStreamGroupJoin(wire(P.encodeStreamGroupJoin(m)))).toEqual(m);
        expect(P.decodeStreamGroupLeave(wire(P.encodeStreamGroupLeave(m)))).toEqual(m);
        expect(P.decodeStreamGroupRead(wire(P.encodeStreamGroupRead({ ...m, count: a, blockMs: b, noAck })))).toEqual(clean({ ...m, count: a, blockMs: b, noAck }));
        expect(P.decodeStreamGroupAck(wire(P.encodeStreamGroupAck({ ...m, ids: list })))).toEqual({ ...m, ids: list });
        expect(P.decodeStreamGroupNack(wire(P.encodeStreamGroupNack({ ...m, ids: list, redeliveryDelayMs: a })))).toEqual(
          clean({ ...m, ids: list, redeliveryDelayMs: a }),
        );
        expect(P.decodeStreamGroupTouch(wire(P.encodeStreamGroupTouch({ ...m, ids: list, extendMs: b })))).toEqual(clean({ ...m, ids: list, extendMs: b }));
        const maxDeliver = a === undefined ? undefined : a & 0xff;
        expect(P.decodeStreamGroupCreate(wire(P.encodeStreamGroupCreate({ ...g, ackTimeoutMs: b, maxDeliver })))).toEqual(clean({ ...g, ackTimeoutMs: b, maxDeliver }));
        expect(P.decodeStreamGroupConfigureSweeper(wire(P.encodeStreamGroupConfigureSweeper({ ...g, ackTimeoutMs: b, maxDeliver })))).toEqual(
          clean({ ...g, ackTimeoutMs: b, maxDeliver }),
        );
        expect(P.decodeStreamGroupInfo(wire(P.encodeStreamGroupInfo(g)))).toEqual(g);
        expect(P.decodeStreamGroupDelete(wire(P.encodeStreamGroupDelete(g)))).toEqual(g);
        expect(P.decodeStreamGroupPending(wire(P.encodeStreamGroupPending(g)))).toEqual(g);
        expect(P.decodeStreamGroupPending(wire(P.encodeStreamGroupPending({ ...g, consumer: m.consumer })))).toEqual({ ...g, consumer: m.consumer });
      }),
    );
    fc.assert(
      fc.property(member, u32, arbId, u32, (m, minIdleMs, start, count) => {
        expect(P.decodeStreamGroupClaim(wire(P.encodeStreamGroupClaim({ ...m, minIdleMs, start, count })))).toEqual({ ...m, minIdleMs, start, count });
      }),
    );
  });

  it('claim trailing fields default (min_idle 0, start 0-0, count 100)', () => {
    const value = new P.ByteWriter().bytes16('g').bytes16('c').finish();
    expect(P.decodeStreamGroupClaim(wire({ key: utf8('s'), value }))).toEqual({
      stream: 's',
      group: 'g',
      consumer: 'c',
      minIdleMs: 0,
      start: MIN_STREAM_ID,
      count: 100,
    });
  });
});

describe('round trips: server encoder → client decoder', () => {
  it('records, claim, append', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 4 }), arbId, (records, next) => {
        const expected = records.map((r) => clean(r));
        expect(P.decodeStreamRecords(P.encodeStreamRecords(records))).toEqual(expected);
        expect(P.decodeStreamGroupClaimReply(P.encodeStreamGroupClaimReply({ records, next }))).toEqual({ records: expected, next });
        expect(P.decodeStreamAppendReply(P.encodeStreamAppendReply(next))).toEqual(next);
      }),
    );
  });

  it('info, trim, list, join, touch, pending, group info', () => {
    fc.assert(
      fc.property(arbId, arbId, u64, u64, u32, fc.option(fc.tuple(u64, u64, u64), { nil: undefined }), (firstId, lastId, count, bytes, partitionCount, ret) => {
        const info = {
          firstId,
          lastId,
          count,
          bytes,
          partitionCount,
          ...(ret ? { retentionAgeSeconds: ret[0], retentionCount: ret[1], retentionBytes: ret[2] } : {}),
        };
        expect(P.decodeStreamInfoReply(P.encodeStreamInfoReply(info))).toEqual(info);
        expect(P.decodeStreamTrimReply(P.encodeStreamTrimReply({ removed: count, firstSeq: bytes }))).toEqual({ removed: count, firstSeq: bytes });
        expect(P.decodeStreamGroupJoinReply(P.encodeStreamGroupJoinReply({ generationId: count, partitionCount, partition: 3 }))).toEqual({
          generationId: count,
          partitionCount,
          partition: 3,
        });
        expect(P.decodeStreamGroupTouchReply(P.encodeStreamGroupTouchReply(partitionCount))).toBe(partitionCount);
        expect(P.decodeStreamGroupInfoReply(P.encodeStreamGroupInfoReply({ pendingCount: count, memberCount: partitionCount, createdAtNs: bytes }))).toEqual({
          pendingCount: count,
          memberCount: partitionCount,
          createdAtNs: bytes,
        });
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ name, partitionCount: u32 }), { maxLength: 4 }),
        fc.boolean(),
        shortBytes,
        fc.array(fc.record({ id: arbId, deliveryCount: u32, consumer: name }), { maxLength: 4 }),
        (streams, hasMore, cursor, pending) => {
          expect(P.decodeStreamListReply(P.encodeStreamListReply({ streams, hasMore, cursor }))).toEqual({ streams, hasMore, cursor });
          expect(P.decodeStreamGroupPendingReply(P.encodeStreamGroupPendingReply(pending))).toEqual(pending);
        },
      ),
    );
  });

  it('empty replies: 0 bytes and a zero count both decode as nothing (docs/protocol-decisions.md #16)', () => {
    const zero = new Uint8Array(4);
    const none = new Uint8Array(0);
    for (const bytes of [zero, none]) {
      expect(P.decodeStreamRecords(bytes)).toEqual([]);
      expect(P.decodeStreamGroupPendingReply(bytes)).toEqual([]);
      expect(P.decodeStreamListReply(bytes).streams).toEqual([]);
      expect(P.decodeStreamGroupClaimReply(bytes)).toEqual({ records: [], next: MAX_STREAM_ID });
    }
    expect(() => P.decodeStreamRecords(new Uint8Array([0, 0, 0, 0, 1]))).toThrow(ProtocolError);
  });
});

describe('random bytes never crash a decoder', () => {
  const replyDecoders: Array<[string, (b: Uint8Array) => unknown]> = [
    ['append', P.decodeStreamAppendReply],
    ['records', P.decodeStreamRecords],
    ['info', P.decodeStreamInfoReply],
    ['trim', P.decodeStreamTrimReply],
    ['list', P.decodeStreamListReply],
    ['join', P.decodeStreamGroupJoinReply],
    ['touch', P.decodeStreamGroupTouchReply],
    ['claim', P.decodeStreamGroupClaimReply],
    ['pending', P.decodeStreamGroupPendingReply],
    ['group info', P.decodeStreamGroupInfoReply],
    ['batch', (b) => P.decodeStreamBatch(b)],
  ];
  const requestDecoders: Array<[string, (b: RequestBody) => unknown]> = [
    ['append', P.decodeStreamAppend],
    ['read', P.decodeStreamRead],
    ['info', P.decodeStreamInfo],
    ['trim', P.decodeStreamTrim],
    ['create', P.decodeStreamCreate],
    ['alter', P.decodeStreamAlter],
    ['list', P.decodeStreamList],
    ['delete', P.decodeStreamDelete],
    ['group create', P.decodeStreamGroupCreate],
    ['group sweeper', P.decodeStreamGroupConfigureSweeper],
    ['group join', P.decodeStreamGroupJoin],
    ['group leave', P.decodeStreamGroupLeave],
    ['group read', P.decodeStreamGroupRead],
    ['group ack', P.decodeStreamGroupAck],
    ['group nack', P.decodeStreamGroupNack],
    ['group touch', P.decodeStreamGroupTouch],
    ['group claim', P.decodeStreamGroupClaim],
    ['group pending', P.decodeStreamGroupPending],
    ['group info', P.decodeStreamGroupInfo],
    ['group delete', P.decodeStreamGroupDelete],
  ];

  const onlyProtocolErrors = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
    }
  };

  for (const [label, decode] of replyDecoders) {
    it(`reply decoder: ${label}`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => onlyProtocolErrors(() => decode(bytes))));
    });
  }
  for (const [label, decode] of requestDecoders) {
    it(`request decoder: ${label}`, () => {
      const bytes = fc.uint8Array({ maxLength: 60 });
      fc.assert(
        fc.property(fc.record({ namespace: bytes, key: bytes, value: bytes, options: bytes }), (body) => onlyProtocolErrors(() => decode(body))),
      );
    });
  }
});

describe('stream records', () => {
  const rec = (sequence: bigint, stream: string | undefined, headers: Array<[string, string]> = []) => ({
    id: { timestampMs: (1n << 63n) + sequence, sequence },
    tier: 0,
    partition: 0,
    ...(stream !== undefined ? { stream } : {}),
    payload: utf8(`p${sequence}`),
    headers,
  });

  it('decode every record name, repeated or not (each reply decodes a repeated name once), and timestamps past 2^63', () => {
    const records = [rec(1n, 'orders'), rec(2n, 'orders'), rec(3n, 'ordert'), rec(4n, 'order'), rec(5n, undefined), rec(6n, 'orders', [['k', 'v']]), rec(7n, 'ordersX')];
    const decoded = P.decodeStreamRecords(P.encodeStreamRecords(records));
    expect(decoded.map((r) => r.stream)).toEqual(['orders', 'orders', 'ordert', 'order', undefined, 'orders', 'ordersX']);
    expect(decoded.map((r) => 'stream' in r)).toEqual([true, true, true, true, false, true, true]);
    expect(decoded.map((r) => r.id)).toEqual(records.map((r) => r.id));
    expect(decoded.map((r) => r.headers)).toEqual(records.map((r) => r.headers));
    expect(decoded.map((r) => r.payload)).toEqual(records.map((r) => r.payload));
  });

  it('refuse a reply cut anywhere, naming the field that does not fit, and trailing bytes', () => {
    // Records with and without a name and headers: the unchecked fast path and the checked reads.
    const bytes = P.encodeStreamRecords([rec(1n, 'orders'), rec(2n, undefined), rec(3n, 'orders', [['k', 'v']]), rec(4n, 'orders')]);
    for (let cut = 1; cut < bytes.length; cut++) {
      let error: unknown;
      try {
        P.decodeStreamRecords(bytes.subarray(0, cut));
      } catch (err) {
        error = err;
      }
      expect(error, `cut at ${cut}`).toBeInstanceOf(ProtocolError);
      expect((error as Error).message, `cut at ${cut}`).toMatch(/^truncated /);
    }
    // A cut in the last record's payload names the payload, at the record's payload offset.
    const payloadAt = bytes.length - 4 - 2; // header count, then "p4"
    expect(() => P.decodeStreamRecords(bytes.subarray(0, payloadAt + 1))).toThrow(/payload needs 2 byte\(s\) at offset/);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => P.decodeStreamRecords(longer)).toThrow(/trailing/);
  });

  it('refuse a record name cut short, even one that starts like the previous record\'s', () => {
    const bytes = P.encodeStreamRecords([rec(1n, 'orders'), rec(2n, 'orders')]);
    // Cut inside the second record's name: the first 3 of its 6 bytes are there.
    const nameAt = bytes.length - (4 + 2) - 4 - 6; // header count, payload "p2" and its length, the name
    expect(() => P.decodeStreamRecords(bytes.subarray(0, nameAt + 3))).toThrow(ProtocolError);
  });
});
