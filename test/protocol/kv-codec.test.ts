// Property tests for the KV codecs: encode → decode round trips in both directions, and random
// bytes fed to every decoder end in a value or a ProtocolError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as P from '../../src/protocol/index.js';
import {
  ProtocolError,
  decodeRequestBody,
  encodeRequest,
  fromHex,
  toHex,
  utf8,
  type OpPayload,
  type RequestBody,
} from '../../src/protocol/index.js';

const bytes = (max = 40) => fc.uint8Array({ maxLength: max });
const nonEmpty = (max = 40) => fc.uint8Array({ minLength: 1, maxLength: max });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const posU64 = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const posU32 = fc.integer({ min: 1, max: 0xffffffff });
const txn = fc.option(fc.record({ txnId: u64, routingKey: nonEmpty(30) }, { requiredKeys: ['txnId'] }), { nil: undefined });
const path = fc.string({ maxLength: 20 });

/** Goes through a real frame, as the server would see it. */
function body(p: OpPayload): RequestBody {
  return decodeRequestBody(encodeRequest(1n, 0x100, 'ns', p).subarray(32));
}

/** Drops undefined fields (decoders omit absent ones). */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== false)) as T;
}

function roundTrip<T extends object>(arb: fc.Arbitrary<T>, enc: (r: T) => OpPayload, dec: (b: RequestBody) => unknown, norm: (r: T) => unknown = clean) {
  fc.assert(fc.property(arb, (req) => {
    expect(dec(body(enc(req)))).toEqual(norm(req));
  }));
}

describe('kv request codecs round-trip', () => {
  it('put', () =>
    roundTrip(
      fc.record(
        { key: bytes(), value: bytes(), ttlSeconds: posU64, casVersion: u64, ifNotExists: fc.boolean(), ifExists: fc.boolean(), txn },
        { requiredKeys: ['key', 'value'] },
      ),
      P.encodeKvPut,
      P.decodeKvPut,
    ));
  it('get', () =>
    roundTrip(fc.record({ key: bytes(), blockMs: u32, waitMs: u32, txn }, { requiredKeys: ['key'] }), P.encodeKvGet, P.decodeKvGet));
  it('watch', () =>
    roundTrip(fc.record({ key: bytes(), waitMs: u32 }), P.encodeKvWatch, P.decodeKvGet));
  it('mget', () => roundTrip(fc.record({ keys: fc.array(bytes(), { minLength: 1, maxLength: 256 }) }), P.encodeKvMGet, P.decodeKvMGet));
  it('delete', () => roundTrip(fc.record({ key: bytes(), ifMatch: u64, txn }, { requiredKeys: ['key'] }), P.encodeKvDelete, P.decodeKvDelete));
  it('scan', () =>
    roundTrip(
      fc.record({ prefix: bytes(), limit: u32, cursor: nonEmpty(), keysOnly: fc.boolean() }, { requiredKeys: ['prefix'] }),
      P.encodeKvScan,
      P.decodeKvScan,
      (r) => clean({ ...r, limit: r.limit ?? 0 }),
    ));
  it('history', () => roundTrip(fc.record({ key: bytes(), limit: posU32 }, { requiredKeys: ['key'] }), P.encodeKvHistory, P.decodeKvHistory));
  it('incr', () =>
    roundTrip(fc.record({ key: bytes(), delta: i64, txn }, { requiredKeys: ['key'] }), P.encodeKvIncr, P.decodeKvIncr, (r) =>
      clean({ ...r, delta: r.delta ?? 1n }),
    ));
  it('json get / del', () => {
    roundTrip(fc.record({ key: bytes(), path }), P.encodeKvJsonGet, P.decodeKvJsonGet);
    roundTrip(fc.record({ key: bytes(), path }), P.encodeKvJsonDel, P.decodeKvJsonDel, (r) => ({ ...r, path: r.path || '$' }));
  });
  it('json set', () =>
    roundTrip(
      fc.record({ key: bytes(), path, value: bytes(), ttlSeconds: posU64 }, { requiredKeys: ['key', 'path', 'value'] }),
      P.encodeKvJsonSet,
      P.decodeKvJsonSet,
      (r) => clean({ ...r, path: r.path || '$' }),
    ));
  it('begin / commit / rollback', () => {
    roundTrip(fc.record({ routingKey: nonEmpty() }), P.encodeKvBeginTxn, P.decodeKvBeginTxn);
    roundTrip(fc.record({ routingKey: nonEmpty(), txnId: u64 }), P.encodeKvCommitTxn, P.decodeKvCommitTxn);
    roundTrip(fc.record({ routingKey: nonEmpty(), txnId: u64 }), P.encodeKvRollbackTxn, P.decodeKvRollbackTxn);
  });
  it('touch / persist / exists', () => {
    roundTrip(fc.record({ key: bytes(), ttlSeconds: u64, ifMatch: u64, txn }, { requiredKeys: ['key', 'ttlSeconds'] }), P.encodeKvTouch, P.decodeKvTouch);
    roundTrip(fc.record({ key: bytes(), ifMatch: u64, txn }, { requiredKeys: ['key'] }), P.encodeKvPersist, P.decodeKvPersist);
    roundTrip(fc.record({ key: bytes(), txn }, { requiredKeys: ['key'] }), P.encodeKvExists, P.decodeKvExists);
  });
});

describe('kv reply codecs round-trip', () => {
  const rt = <T>(arb: fc.Arbitrary<T>, enc: (r: T) => Uint8Array, dec: (p: Uint8Array) => unknown, norm: (r: T) => unknown = (r) => r) =>
    fc.assert(
      fc.property(arb, (r) => {
        expect(dec(enc(r))).toEqual(norm(r));
      }),
    );
  const versionValue = fc.record({ version: u64, value: bytes() });

  it('put / json set / get / json get / incr / exists', () => {
    rt(fc.record({ version: u64 }), P.encodeKvPutReply, P.decodeKvPutReply);
    rt(fc.record({ version: u64 }), P.encodeKvJsonSetReply, P.decodeKvJsonSetReply);
    rt(versionValue, P.encodeKvGetReply, P.decodeKvGetReply);
    rt(versionValue, P.encodeKvJsonGetReply, P.decodeKvJsonGetReply);
    rt(fc.record({ version: u64, value: i64 }), P.encodeKvIncrReply, P.decodeKvIncrReply);
    rt(fc.record({ version: u64, present: fc.boolean() }), P.encodeKvExistsReply, P.decodeKvExistsReply);
  });
  it('mget', () =>
    rt(
      fc.array(fc.oneof(fc.record({ key: bytes(), found: fc.constant(true), version: u64, value: bytes() }), fc.record({ key: bytes(), found: fc.constant(false), version: fc.constant(0n), value: fc.constant(new Uint8Array()) }))),
      P.encodeKvMGetReply,
      P.decodeKvMGetReply,
    ));
  it('txn begin / commit', () => {
    rt(fc.record({ txnId: u64, pinnedHash: u64 }), P.encodeKvBeginTxnReply, P.decodeKvBeginTxnReply);
    rt(fc.record({ commitIndex: u64, opCount: fc.integer({ min: 0, max: 0xffff }) }), P.encodeKvCommitTxnReply, P.decodeKvCommitTxnReply);
  });
  const scanReply = fc.record(
    { entries: fc.array(fc.record({ key: bytes(), value: bytes() }), { maxLength: 8 }), hasMore: fc.boolean(), cursor: nonEmpty(20) },
    { requiredKeys: ['entries', 'hasMore'] },
  );
  it('scan in both profiles', () => {
    for (const profile of ['go', 'flo'] as const) rt(scanReply, (r) => P.encodeKvScanReply(r, profile), P.decodeKvScanReply);
  });
  it('history in both profiles (layout C carries no timestamps)', () => {
    const history = fc.array(fc.record({ version: u64, timestampNs: i64, value: bytes() }), { maxLength: 8 });
    rt(history, (r) => P.encodeKvHistoryReply(r, 'go'), P.decodeKvHistoryReply);
    // Some byte strings are valid in both layouts (e.g. version 0 and an 8-byte zero value): the
    // decoder then reads layout A. The property holds wherever the flo bytes are not also layout A.
    fc.assert(
      fc.property(history, (r) => {
        const bytes = P.encodeKvHistoryReply(r, 'flo');
        const decoded = P.decodeKvHistoryReply(bytes);
        const alsoLayoutA = decoded.some((e) => e.timestampNs !== undefined);
        fc.pre(!alsoLayoutA);
        expect(decoded).toEqual(r.map(({ version, value }) => ({ version, value })));
      }),
    );
  });
});

describe('kv reply layouts', () => {
  it('decodes a worked layout-B scan payload', () => {
    const page = P.decodeKvScanReply(fromHex('020000000600757365723a31000000000600757365723a3200000000010600008064000000'));
    expect(page).toEqual({
      entries: [
        { key: utf8('user:1'), value: new Uint8Array() },
        { key: utf8('user:2'), value: new Uint8Array() },
      ],
      hasMore: true,
      cursor: fromHex('008064000000'),
    });
    expect(toHex(P.encodeKvScanReply(page, 'flo'))).toBe('020000000600757365723a31000000000600757365723a3200000000010600008064000000');
  });
  it("decodes Flo's cursor-less fallback scan payload", () => {
    expect(P.decodeKvScanReply(fromHex('010000000100610000000000'))).toEqual({ entries: [{ key: utf8('a'), value: new Uint8Array() }], hasMore: false });
  });
  it('decodes a worked layout-C history payload', () => {
    const h = P.decodeKvHistoryReply(fromHex('0200000002000000763202000000000000000200000076310100000000000000'));
    expect(h).toEqual([
      { version: 2n, value: utf8('v2') },
      { version: 1n, value: utf8('v1') },
    ]);
    expect(toHex(P.encodeKvHistoryReply(h, 'flo'))).toBe('0200000002000000763202000000000000000200000076310100000000000000');
  });
  it('treats 0-byte and zero-count list replies as empty (docs/protocol-decisions.md #16)', () => {
    for (const hex of ['', '00000000']) {
      expect(P.decodeKvScanReply(fromHex(hex))).toEqual({ entries: [], hasMore: false });
      expect(P.decodeKvHistoryReply(fromHex(hex))).toEqual([]);
      expect(P.decodeKvMGetReply(fromHex(hex))).toEqual([]);
    }
    expect(P.decodeKvScanReply(fromHex('000000000000000000'))).toEqual({ entries: [], hasMore: false });
  });
  it('refuses trailing bytes', () => {
    expect(() => P.decodeKvIncrReply(fromHex('0100000000000000010000000000000000'))).toThrow(ProtocolError);
    expect(() => P.decodeKvExistsReply(fromHex('01000000000000000100'))).toThrow(ProtocolError);
    expect(() => P.decodeKvPutReply(fromHex('010000000000000000'))).toThrow(ProtocolError);
  });
  it('refuses truncated fixed-layout replies with a ProtocolError naming the reply', () => {
    expect(() => P.decodeKvGetReply(fromHex('01000000000000'))).toThrow(new ProtocolError('truncated kv_get reply: 8 byte(s) expected, 7 received'));
    expect(() => P.decodeKvPutReply(fromHex('0100'))).toThrow(/truncated kv_put reply/);
    expect(() => P.decodeKvIncrReply(fromHex('010000000000000001'))).toThrow(/truncated kv_incr reply/);
    expect(() => P.decodeKvExistsReply(fromHex('0100000000000000'))).toThrow(/truncated kv_exists reply/);
  });
  it('refuses a truncated or overlong mget reply with the reader\'s messages, and reads one from an offset view', () => {
    const one = '01000000' + '00' + '0100' + '6b' + '0700000000000000' + '0200000076 31'.replace(' ', '');
    expect(P.decodeKvMGetReply(fromHex('ff' + one + 'ff').subarray(1, 1 + one.length / 2))).toEqual([
      { key: utf8('k'), found: true, version: 7n, value: utf8('v1') },
    ]);
    expect(() => P.decodeKvMGetReply(fromHex('010000'))).toThrow(
      new ProtocolError('truncated kv_mget reply: count needs 4 byte(s) at offset 0, 3 left'),
    );
    expect(() => P.decodeKvMGetReply(fromHex(one.slice(0, -2)))).toThrow(
      new ProtocolError('truncated kv_mget reply: value needs 2 byte(s) at offset 20, 1 left'),
    );
    expect(() => P.decodeKvMGetReply(fromHex('01000000' + '02' + '0500' + '6b'))).toThrow(
      new ProtocolError('truncated kv_mget reply: key needs 5 byte(s) at offset 7, 1 left'),
    );
    expect(() => P.decodeKvMGetReply(fromHex(one + '00'))).toThrow(new ProtocolError('1 unexpected trailing byte(s) in kv_mget reply'));
  });
  it('reads fixed-layout replies from a view into a larger buffer (offset payloads)', () => {
    const frame = fromHex('ffff' + '0200000000000000' + 'feffffffffffffff' + 'ff');
    expect(P.decodeKvIncrReply(frame.subarray(2, 18))).toEqual({ version: 2n, value: -2n });
    expect(P.decodeKvGetReply(frame.subarray(2, 12))).toEqual({ version: 2n, value: fromHex('feff') });
    expect(P.decodeKvExistsReply(frame.subarray(2, 11))).toEqual({ version: 2n, present: true });
  });
  it('reads get versions across the 32-bit boundary and copies the value out of the payload', () => {
    for (const version of [0n, 0xffff_ffffn, 0x1_0000_0000n, 0x8000_0000_0000_0001n, (1n << 64n) - 1n]) {
      expect(P.decodeKvGetReply(P.encodeKvGetReply({ version, value: fromHex('01') })).version).toBe(version);
    }
    const payload = fromHex('0700000000000000' + 'abcd');
    const reply = P.decodeKvGetReply(payload);
    payload[8] = 0;
    expect(reply.value).toEqual(fromHex('abcd'));
  });
});

describe('kv server-side decoders refuse bad values with Flo messages', () => {
  const bad = (fn: (b: RequestBody) => unknown, value: string, msg: string, options = '') =>
    expect(() => fn({ namespace: utf8('n'), key: utf8('k'), value: fromHex(value), options: fromHex(options) })).toThrow(
      new ProtocolError(msg),
    );
  it('mget', () => {
    bad(P.decodeKvMGet, '01', 'mget: missing key count');
    bad(P.decodeKvMGet, '0000', 'mget: zero keys');
    bad(P.decodeKvMGet, '0101', 'mget: too many keys (max 256)');
    bad(P.decodeKvMGet, '020001006100', 'mget: truncated key list');
    bad(P.decodeKvMGet, '01000500616263', 'mget: truncated key data');
  });
  it('incr / touch / json set / txn id', () => {
    bad(P.decodeKvIncr, '0102', 'incr: value must be empty or 8-byte i64 LE');
    bad(P.decodeKvTouch, '0102', 'touch: value must be empty or 8-byte u64 LE');
    bad(P.decodeKvJsonSet, '01', 'json_set: missing path_len');
    bad(P.decodeKvJsonSet, '0500242e61', 'json_set: truncated path');
    bad(P.decodeKvPut, '', 'txn_id option must be u64', '090401000000');
    bad(P.decodeKvCommitTxn, '', 'txn_id option must be u64', '090401000000');
  });
  it('commit/rollback accept the txn id as an 8-byte value', () => {
    expect(P.decodeKvCommitTxn({ namespace: utf8('n'), key: utf8('r'), value: fromHex('0900000000000000'), options: new Uint8Array() })).toEqual({
      routingKey: utf8('r'),
      txnId: 9n,
    });
    expect(P.decodeKvRollbackTxn({ namespace: utf8('n'), key: utf8('r'), value: new Uint8Array(), options: new Uint8Array() })).toEqual({
      routingKey: utf8('r'),
    });
  });
});

describe('random bytes fed to every kv decoder end in a value or a ProtocolError', () => {
  const replyDecoders = Object.entries(P).filter(([name, fn]) => /^decodeKv.*Reply$/.test(name) && typeof fn === 'function') as Array<
    [string, (p: Uint8Array) => unknown]
  >;
  const requestDecoders = Object.entries(P).filter(([name, fn]) => /^decodeKv(?!.*Reply$)/.test(name) && typeof fn === 'function') as Array<
    [string, (b: RequestBody) => unknown]
  >;
  const safely = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
    }
  };
  it('finds the decoders', () => {
    expect(replyDecoders.length).toBeGreaterThanOrEqual(16);
    expect(requestDecoders.length).toBe(16);
  });
  it('reply decoders', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (p) => {
        for (const [, dec] of replyDecoders) safely(() => dec(p));
      }),
      { numRuns: 500 },
    );
  });
  it('request decoders (random payloads through decodeRequestBody)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (payload, value, options) => {
        for (const [, dec] of requestDecoders) {
          safely(() => dec(decodeRequestBody(payload)));
          safely(() => dec({ namespace: new Uint8Array(), key: value, value, options }));
        }
      }),
      { numRuns: 500 },
    );
  });
});
