// Every kv_* Go SDK vector: our encoders reproduce the request bytes, the server-side decoders read
// them back, the reply payload decodes to what the SDK parsed (except `docs/protocol-decisions.md` #37) and the server
// encoders reproduce the reply bytes.
import { describe, expect, it } from 'vitest';
import {
  decodeKvBeginTxn,
  decodeKvBeginTxnReply,
  decodeKvCommitTxn,
  decodeKvCommitTxnReply,
  decodeKvDelete,
  decodeKvExists,
  decodeKvExistsReply,
  decodeKvGet,
  decodeKvGetReply,
  decodeKvHistory,
  decodeKvHistoryReply,
  decodeKvIncr,
  decodeKvIncrReply,
  decodeKvJsonDel,
  decodeKvJsonGet,
  decodeKvJsonGetReply,
  decodeKvJsonSet,
  decodeKvJsonSetReply,
  decodeKvMGet,
  decodeKvMGetReply,
  decodeKvPersist,
  decodeKvPut,
  decodeKvPutReply,
  decodeKvRollbackTxn,
  decodeKvScan,
  decodeKvScanReply,
  decodeKvTouch,
  decodeRequestBody,
  encodeKvBeginTxn,
  encodeKvBeginTxnReply,
  encodeKvCommitTxn,
  encodeKvCommitTxnReply,
  encodeKvDelete,
  encodeKvDeleteReply,
  encodeKvExists,
  encodeKvExistsReply,
  encodeKvGet,
  encodeKvGetReply,
  encodeKvHistory,
  encodeKvHistoryReply,
  encodeKvIncr,
  encodeKvIncrReply,
  encodeKvJsonDel,
  encodeKvJsonDelReply,
  encodeKvJsonGet,
  encodeKvJsonGetReply,
  encodeKvJsonSet,
  encodeKvJsonSetReply,
  encodeKvMGet,
  encodeKvMGetReply,
  encodeKvPersist,
  encodeKvPersistReply,
  encodeKvPut,
  encodeKvPutReply,
  encodeKvRollbackTxn,
  encodeKvRollbackTxnReply,
  encodeKvScan,
  encodeKvScanReply,
  encodeKvTouch,
  encodeKvTouchReply,
  encodeRequest,
  fromHex,
  serverErrorFor,
  toHex,
  utf8,
  ConflictError,
  NotFoundError,
  BadRequestError,
  type OpPayload,
  type RequestBody,
} from '../../src/protocol/index.js';
import { allVectors, vector } from '../vectors.js';

const b = utf8;
const txn7 = { routingKey: b('user:42'), txnId: 7n };

interface Case {
  /** Our encoding of the SDK call. */
  readonly request: OpPayload;
  /** Server-side decode of the frame, and what it must produce. */
  readonly decode: (body: RequestBody) => unknown;
  readonly decoded: unknown;
  /** OK replies: client decode, expected result, server re-encode. */
  readonly reply?: {
    readonly decode: (p: Uint8Array) => unknown;
    readonly expected: unknown;
    readonly encode: (r: never) => Uint8Array;
  };
  /** Non-OK replies: the typed error the client builds. */
  readonly error?: { readonly type: new (...args: never[]) => Error; readonly message: string };
}

const cases: Record<string, Case> = {
  kv_put_ttl_cas: {
    request: encodeKvPut({ key: b('user:1'), value: b('hello'), ttlSeconds: 3600n, casVersion: 5n }),
    decode: decodeKvPut,
    decoded: { key: b('user:1'), value: b('hello'), ttlSeconds: 3600n, casVersion: 5n },
    reply: { decode: decodeKvPutReply, expected: { version: 6n }, encode: encodeKvPutReply },
  },
  kv_put_nx_ttl_conflict: {
    request: encodeKvPut({ key: b('lock:job'), value: b('owner-1'), ifNotExists: true, ttlSeconds: 30n }),
    decode: decodeKvPut,
    decoded: { key: b('lock:job'), value: b('owner-1'), ifNotExists: true, ttlSeconds: 30n },
    error: { type: ConflictError, message: '' },
  },
  kv_put_if_exists: {
    request: encodeKvPut({ key: b('user:1'), value: b('v2'), ifExists: true }),
    decode: decodeKvPut,
    decoded: { key: b('user:1'), value: b('v2'), ifExists: true },
    reply: { decode: decodeKvPutReply, expected: { version: 7n }, encode: encodeKvPutReply },
  },
  kv_get: {
    request: encodeKvGet({ key: b('user:1') }),
    decode: decodeKvGet,
    decoded: { key: b('user:1') },
    reply: { decode: decodeKvGetReply, expected: { version: 3n, value: b('hello') }, encode: encodeKvGetReply },
  },
  kv_get_block: {
    request: encodeKvGet({ key: b('job:result'), blockMs: 5000 }),
    decode: decodeKvGet,
    decoded: { key: b('job:result'), blockMs: 5000 },
    error: { type: NotFoundError, message: '' },
  },
  kv_delete_if_match: {
    request: encodeKvDelete({ key: b('lock:job'), ifMatch: 7n }),
    decode: decodeKvDelete,
    decoded: { key: b('lock:job'), ifMatch: 7n },
    reply: { decode: () => 'ok', expected: 'ok', encode: encodeKvDeleteReply },
  },
  kv_scan_cursor_limit_keys_only: {
    request: encodeKvScan({ prefix: b('user:'), cursor: fromHex('008064000000'), limit: 100, keysOnly: true }),
    decode: decodeKvScan,
    decoded: { prefix: b('user:'), cursor: fromHex('008064000000'), limit: 100, keysOnly: true },
    reply: {
      decode: decodeKvScanReply,
      expected: {
        entries: [
          { key: b('user:1'), value: b('hello') },
          { key: b('user:2'), value: new Uint8Array() },
        ],
        hasMore: true,
        cursor: fromHex('008064000000'),
      },
      encode: encodeKvScanReply,
    },
  },
  kv_scan_default: {
    request: encodeKvScan({ prefix: b('') }),
    decode: decodeKvScan,
    decoded: { prefix: b(''), limit: 0 },
    reply: { decode: decodeKvScanReply, expected: { entries: [], hasMore: false }, encode: encodeKvScanReply },
  },
  kv_mget: {
    request: encodeKvMGet({ keys: [b('a'), b('bb')] }),
    decode: decodeKvMGet,
    decoded: { keys: [b('a'), b('bb')] },
    reply: {
      decode: decodeKvMGetReply,
      expected: [
        { key: b('a'), found: true, version: 4n, value: b('va') },
        { key: b('bb'), found: false, version: 0n, value: new Uint8Array() },
      ],
      encode: encodeKvMGetReply,
    },
  },
  kv_history_limit: {
    request: encodeKvHistory({ key: b('user:1'), limit: 10 }),
    decode: decodeKvHistory,
    decoded: { key: b('user:1'), limit: 10 },
    reply: {
      decode: decodeKvHistoryReply,
      expected: [
        { version: 2n, timestampNs: 1700000000000000000n, value: b('v2') },
        { version: 1n, timestampNs: 1699999999000000000n, value: b('v1') },
      ],
      encode: encodeKvHistoryReply,
    },
  },
  kv_incr_delta: {
    request: encodeKvIncr({ key: b('visits'), delta: -3n }),
    decode: decodeKvIncr,
    decoded: { key: b('visits'), delta: -3n },
    reply: { decode: decodeKvIncrReply, expected: { version: 9n, value: 39n }, encode: encodeKvIncrReply },
  },
  kv_incr_default: {
    request: encodeKvIncr({ key: b('visits') }),
    decode: decodeKvIncr,
    decoded: { key: b('visits'), delta: 1n },
    reply: { decode: decodeKvIncrReply, expected: { version: 1n, value: 1n }, encode: encodeKvIncrReply },
  },
  kv_incr_not_counter_error: {
    request: encodeKvIncr({ key: b('user:1') }),
    decode: decodeKvIncr,
    decoded: { key: b('user:1'), delta: 1n },
    error: { type: BadRequestError, message: 'value is not a counter' },
  },
  kv_touch_if_match: {
    request: encodeKvTouch({ key: b('lock:job'), ttlSeconds: 60n, ifMatch: 7n }),
    decode: decodeKvTouch,
    decoded: { key: b('lock:job'), ttlSeconds: 60n, ifMatch: 7n },
    reply: { decode: () => 'ok', expected: 'ok', encode: encodeKvTouchReply },
  },
  kv_persist: {
    request: encodeKvPersist({ key: b('lock:job') }),
    decode: decodeKvPersist,
    decoded: { key: b('lock:job') },
    reply: { decode: () => 'ok', expected: 'ok', encode: encodeKvPersistReply },
  },
  kv_exists: {
    request: encodeKvExists({ key: b('user:1') }),
    decode: decodeKvExists,
    decoded: { key: b('user:1') },
    reply: { decode: decodeKvExistsReply, expected: { version: 3n, present: true }, encode: encodeKvExistsReply },
  },
  kv_json_get: {
    request: encodeKvJsonGet({ key: b('order:42'), path: '$.status' }),
    decode: decodeKvJsonGet,
    decoded: { key: b('order:42'), path: '$.status' },
    reply: { decode: decodeKvJsonGetReply, expected: { version: 5n, value: b('"new"') }, encode: encodeKvJsonGetReply },
  },
  kv_json_set: {
    request: encodeKvJsonSet({ key: b('order:42'), path: '$.status', value: b('"shipped"') }),
    decode: decodeKvJsonSet,
    decoded: { key: b('order:42'), path: '$.status', value: b('"shipped"') },
    reply: { decode: decodeKvJsonSetReply, expected: { version: 6n }, encode: encodeKvJsonSetReply },
  },
  kv_json_del: {
    request: encodeKvJsonDel({ key: b('order:42'), path: '$.status' }),
    decode: decodeKvJsonDel,
    decoded: { key: b('order:42'), path: '$.status' },
    reply: { decode: () => ({ version: 0n }), expected: { version: 0n }, encode: encodeKvJsonDelReply },
  },
  kv_begin_txn: {
    request: encodeKvBeginTxn({ routingKey: b('user:42') }),
    decode: decodeKvBeginTxn,
    decoded: { routingKey: b('user:42') },
    reply: {
      decode: decodeKvBeginTxnReply,
      expected: { txnId: 7n, pinnedHash: 0x1122334455667788n },
      encode: encodeKvBeginTxnReply,
    },
  },
  kv_txn_put: {
    request: encodeKvPut({ key: b('user:42:name'), value: b('Jane'), txn: txn7 }),
    decode: decodeKvPut,
    decoded: { key: b('user:42:name'), value: b('Jane'), txn: txn7 },
    reply: { decode: decodeKvPutReply, expected: { version: 0n }, encode: encodeKvPutReply },
  },
  kv_txn_incr: {
    request: encodeKvIncr({ key: b('user:42:visits'), delta: 1n, txn: txn7 }),
    decode: decodeKvIncr,
    decoded: { key: b('user:42:visits'), delta: 1n, txn: txn7 },
    // `docs/protocol-decisions.md` #37: the Go SDK reads the synthetic version (0); we decode what the bytes say.
    reply: { decode: decodeKvIncrReply, expected: { version: 0n, value: 1n }, encode: encodeKvIncrReply },
  },
  kv_commit_txn: {
    request: encodeKvCommitTxn({ routingKey: b('user:42'), txnId: 7n }),
    decode: decodeKvCommitTxn,
    decoded: { routingKey: b('user:42'), txnId: 7n },
    reply: { decode: decodeKvCommitTxnReply, expected: { commitIndex: 1234n, opCount: 2 }, encode: encodeKvCommitTxnReply },
  },
  kv_rollback_txn: {
    request: encodeKvRollbackTxn({ routingKey: b('user:42'), txnId: 8n }),
    decode: decodeKvRollbackTxn,
    decoded: { routingKey: b('user:42'), txnId: 8n },
    reply: { decode: () => 'ok', expected: 'ok', encode: encodeKvRollbackTxnReply },
  },
  kv_txn_get: {
    request: encodeKvGet({ key: b('user:42:name'), txn: txn7 }),
    decode: decodeKvGet,
    decoded: { key: b('user:42:name'), txn: txn7 },
    reply: { decode: decodeKvGetReply, expected: { version: 0n, value: b('Jane') }, encode: encodeKvGetReply },
  },
  kv_txn_delete: {
    request: encodeKvDelete({ key: b('user:42:old'), txn: txn7 }),
    decode: decodeKvDelete,
    decoded: { key: b('user:42:old'), txn: txn7 },
    reply: { decode: () => 'ok', expected: 'ok', encode: encodeKvDeleteReply },
  },
  kv_txn_touch: {
    request: encodeKvTouch({ key: b('user:42:name'), ttlSeconds: 60n, txn: txn7 }),
    decode: decodeKvTouch,
    decoded: { key: b('user:42:name'), ttlSeconds: 60n, txn: txn7 },
    reply: { decode: () => 'ok', expected: 'ok', encode: encodeKvTouchReply },
  },
  kv_txn_persist: {
    request: encodeKvPersist({ key: b('user:42:name'), txn: txn7 }),
    decode: decodeKvPersist,
    decoded: { key: b('user:42:name'), txn: txn7 },
    reply: { decode: () => 'ok', expected: 'ok', encode: encodeKvPersistReply },
  },
  kv_txn_exists: {
    request: encodeKvExists({ key: b('user:42:name'), txn: txn7 }),
    decode: decodeKvExists,
    decoded: { key: b('user:42:name'), txn: txn7 },
    reply: { decode: decodeKvExistsReply, expected: { version: 0n, present: true }, encode: encodeKvExistsReply },
  },
};

const kvVectors = allVectors.filter((v) => v.name.startsWith('kv_'));

describe('kv vectors', () => {
  it('covers every kv_* vector', () => {
    expect(kvVectors.map((v) => v.name).sort()).toEqual(Object.keys(cases).sort());
  });

  for (const v of kvVectors) {
    const c = cases[v.name];
    describe(v.name, () => {
      it('encodes the request byte for byte', () => {
        expect(toHex(c.request.key ?? new Uint8Array())).toBe(toHex(b(v.key)));
        expect(toHex(c.request.value ?? new Uint8Array())).toBe(v.value_hex);
        expect(toHex(c.request.options ?? new Uint8Array())).toBe(v.options_hex);
        expect(toHex(encodeRequest(BigInt(v.request_id), v.opcode, v.namespace, c.request))).toBe(v.frame_hex);
      });

      it('decodes the request server-side', () => {
        const frame = fromHex(v.frame_hex);
        const body = decodeRequestBody(frame.subarray(32));
        expect(c.decode(body)).toEqual(c.decoded);
      });

      if (c.reply) {
        const reply = c.reply;
        it('decodes the reply client-side and re-encodes it server-side', () => {
          expect(v.response.status).toBe(0);
          const payload = fromHex(v.response.payload_hex);
          const decoded = reply.decode(payload);
          expect(decoded).toEqual(reply.expected);
          expect(toHex((reply.encode as (r: unknown) => Uint8Array)(decoded))).toBe(v.response.payload_hex);
        });
      }
      if (c.error) {
        const error = c.error;
        it('maps the non-OK reply to a typed error', () => {
          const err = serverErrorFor(v.response.status, new TextDecoder().decode(fromHex(v.response.payload_hex)));
          expect(err).toBeInstanceOf(error.type);
          expect(err.serverMessage).toBe(error.message);
          if (v.response.sdk_error) expect(err.message).toBe(v.response.sdk_error);
        });
      }
    });
  }
});

describe('kv vectors agree with the Go SDK parsed results', () => {
  const num = (x: unknown) => BigInt(x as number);
  it('scalar results', () => {
    expect(decodeKvPutReply(fromHex(vector('kv_put_ttl_cas').response.payload_hex)).version).toBe(
      num((vector('kv_put_ttl_cas').response.sdk_parsed as { version: number }).version),
    );
    expect(decodeKvIncrReply(fromHex(vector('kv_incr_delta').response.payload_hex)).value).toBe(num(vector('kv_incr_delta').response.sdk_parsed));
    expect(decodeKvIncrReply(fromHex(vector('kv_incr_default').response.payload_hex)).value).toBe(num(vector('kv_incr_default').response.sdk_parsed));
    expect(decodeKvExistsReply(fromHex(vector('kv_exists').response.payload_hex)).present).toBe(vector('kv_exists').response.sdk_parsed);
    expect(decodeKvExistsReply(fromHex(vector('kv_txn_exists').response.payload_hex)).present).toBe(vector('kv_txn_exists').response.sdk_parsed);
    const history = vector('kv_history_limit').response.sdk_parsed as Array<{ timestamp: number; value: string; version: number }>;
    const ours = decodeKvHistoryReply(fromHex(vector('kv_history_limit').response.payload_hex));
    expect(ours.map((e) => [e.version, new TextDecoder().decode(e.value)])).toEqual(history.map((e) => [num(e.version), e.value]));
    const mget = vector('kv_mget').response.sdk_parsed as Array<{ found: boolean; key: string; value: string; version: number }>;
    expect(
      decodeKvMGetReply(fromHex(vector('kv_mget').response.payload_hex)).map((e) => ({
        found: e.found,
        key: new TextDecoder().decode(e.key),
        value: new TextDecoder().decode(e.value),
        version: Number(e.version),
      })),
    ).toEqual(mget);
    const scan = vector('kv_scan_cursor_limit_keys_only').response.sdk_parsed as {
      cursor_hex: string;
      entries: Array<{ key: string; value: string }>;
      has_more: boolean;
    };
    const page = decodeKvScanReply(fromHex(vector('kv_scan_cursor_limit_keys_only').response.payload_hex));
    expect(toHex(page.cursor!)).toBe(scan.cursor_hex);
    expect(page.hasMore).toBe(scan.has_more);
    expect(page.entries.map((e) => ({ key: new TextDecoder().decode(e.key), value: new TextDecoder().decode(e.value) }))).toEqual(scan.entries);
  });
  it('kv_txn_incr: the SDK parsed the synthetic version 0, we decode the delta (docs/protocol-decisions.md #37)', () => {
    const v = vector('kv_txn_incr');
    expect(v.response.sdk_parsed).toBe(0);
    expect(decodeKvIncrReply(fromHex(v.response.payload_hex))).toEqual({ version: 0n, value: 1n });
  });
});
