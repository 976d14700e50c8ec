import { describe, expect, it } from 'vitest';
import {
  decodeRequestBody,
  decodeStreamAppend,
  decodeStreamAppendReply,
  decodeStreamGroupAck,
  decodeStreamGroupJoin,
  decodeStreamGroupJoinReply,
  decodeStreamGroupLeave,
  decodeStreamGroupNack,
  decodeStreamGroupRead,
  decodeStreamInfo,
  decodeStreamInfoReply,
  decodeStreamRead,
  decodeStreamRecords,
  decodeStreamTrim,
  decodeStreamTrimReply,
  encodeRequest,
  encodeStreamAppend,
  OptionsReader,
  encodeStreamAppendReply,
  encodeStreamGroupAck,
  encodeStreamGroupJoin,
  encodeStreamGroupJoinReply,
  encodeStreamGroupLeave,
  encodeStreamGroupNack,
  encodeStreamGroupRead,
  encodeStreamInfo,
  encodeStreamInfoReply,
  encodeStreamRead,
  encodeStreamRecords,
  encodeStreamTrim,
  encodeStreamTrimReply,
  formatStreamId,
  fromHex,
  fromUtf8,
  RequestFrameDecoder,
  ServerError,
  streamId,
  toHex,
  type OpPayload,
  type RequestBody,
  type StreamRecord,
} from '../../src/protocol/index.js';
import { allVectors, vector, type Vector } from '../vectors.js';
import { harness } from '../server/streams/helpers.js';
import { payloadBytes } from '../../src/server/reply.js';

const ID_2_7 = streamId(1700000000002n, 7n);
const ID_3_8 = streamId(1700000000003n, 8n);
const START = streamId(1700000000000n, 5n);

interface Case {
  /** Client encoder for the request (absent: server-side input only, docs/protocol-decisions.md #2/#36). */
  readonly encode?: () => OpPayload;
  /** Server decoder and what it must give. */
  readonly decode: (body: RequestBody) => unknown;
  readonly decoded: unknown;
}

const gc = { stream: 'events', group: 'workers', consumer: 'c1' };

const cases: Record<string, Case> = {
  stream_append: {
    decode: decodeStreamAppend,
    decoded: { stream: 'events', batch: false, records: [{ payload: fromHex('7b226576656e74223a226c6f67696e227d'), headers: [] }] },
  },
  stream_append_headers: {
    decode: decodeStreamAppend,
    decoded: { stream: 'events', batch: false, records: [{ payload: fromHex('7b226576656e74223a226c6f67696e227d'), headers: [] }] },
  },
  stream_read_start_count: {
    encode: () => encodeStreamRead({ stream: 'events', start: START, count: 50 }),
    decode: decodeStreamRead,
    decoded: { stream: 'events', tail: false, start: START, count: 50 },
  },
  stream_read_nil_opts_zero_records: {
    encode: () => encodeStreamRead({ stream: 'events' }),
    decode: decodeStreamRead,
    decoded: { stream: 'events', tail: false },
  },
  stream_read_tail_block_timeout: {
    encode: () => encodeStreamRead({ stream: 'events', tail: true, count: 10, blockMs: 5000 }),
    decode: decodeStreamRead,
    decoded: { stream: 'events', tail: true, count: 10, blockMs: 5000 },
  },
  stream_read_start_end_block_one_record: {
    encode: () => encodeStreamRead({ stream: 'events', start: START, end: streamId(1700000000010n, 0n), blockMs: 1000 }),
    decode: decodeStreamRead,
    decoded: { stream: 'events', tail: false, start: START, end: streamId(1700000000010n, 0n), blockMs: 1000 },
  },
  stream_read_partition_two_records: {
    encode: () => encodeStreamRead({ stream: 'events', partition: 2, count: 2 }),
    decode: decodeStreamRead,
    decoded: { stream: 'events', tail: false, partition: 2, count: 2 },
  },
  stream_info: { encode: () => encodeStreamInfo({ stream: 'events' }), decode: decodeStreamInfo, decoded: { stream: 'events' } },
  stream_info_server_76_bytes: { encode: () => encodeStreamInfo({ stream: 'events' }), decode: decodeStreamInfo, decoded: { stream: 'events' } },
  stream_trim_max_len: {
    encode: () => encodeStreamTrim({ stream: 'events', maxLen: 1000n }),
    decode: decodeStreamTrim,
    decoded: { stream: 'events', maxLen: 1000n, dryRun: false },
  },
  stream_trim_max_age: {
    encode: () => encodeStreamTrim({ stream: 'events', maxAgeSeconds: 86400n }),
    decode: decodeStreamTrim,
    decoded: { stream: 'events', maxAgeSeconds: 86400n, dryRun: false },
  },
  stream_trim_max_bytes: {
    encode: () => encodeStreamTrim({ stream: 'events', maxBytes: 1048576n }),
    decode: decodeStreamTrim,
    decoded: { stream: 'events', maxBytes: 1048576n, dryRun: false },
  },
  stream_trim_dry_run: {
    encode: () => encodeStreamTrim({ stream: 'events', dryRun: true }),
    decode: decodeStreamTrim,
    decoded: { stream: 'events', dryRun: true },
  },
  stream_trim_all_options: {
    encode: () => encodeStreamTrim({ stream: 'events', maxLen: 10n, maxAgeSeconds: 3600n, maxBytes: 4096n, dryRun: true }),
    decode: decodeStreamTrim,
    decoded: { stream: 'events', maxLen: 10n, maxAgeSeconds: 3600n, maxBytes: 4096n, dryRun: true },
  },
  stream_trim_no_options: {
    encode: () => encodeStreamTrim({ stream: 'events' }),
    decode: decodeStreamTrim,
    decoded: { stream: 'events', dryRun: false },
  },
  stream_group_join: { encode: () => encodeStreamGroupJoin(gc), decode: decodeStreamGroupJoin, decoded: gc },
  stream_group_leave: { encode: () => encodeStreamGroupLeave(gc), decode: decodeStreamGroupLeave, decoded: gc },
  stream_group_ack: {
    encode: () => encodeStreamGroupAck({ ...gc, ids: [ID_2_7, ID_3_8] }),
    decode: decodeStreamGroupAck,
    decoded: { ...gc, ids: [ID_2_7, ID_3_8] },
  },
  stream_group_ack_no_consumer: {
    encode: () => encodeStreamGroupAck({ stream: 'events', group: 'workers', ids: [ID_2_7] }),
    decode: decodeStreamGroupAck,
    decoded: { stream: 'events', group: 'workers', consumer: '', ids: [ID_2_7] },
  },
  stream_group_ack_empty_ids: {
    encode: () => encodeStreamGroupAck({ ...gc, ids: [] }),
    decode: decodeStreamGroupAck,
    decoded: { ...gc, ids: [] },
  },
  stream_group_nack_redelivery_delay: {
    encode: () => encodeStreamGroupNack({ ...gc, ids: [ID_2_7, ID_3_8], redeliveryDelayMs: 5000 }),
    decode: decodeStreamGroupNack,
    decoded: { ...gc, ids: [ID_2_7, ID_3_8], redeliveryDelayMs: 5000 },
  },
  stream_group_nack_plain: {
    encode: () => encodeStreamGroupNack({ stream: 'events', group: 'workers', ids: [ID_2_7] }),
    decode: decodeStreamGroupNack,
    decoded: { stream: 'events', group: 'workers', consumer: '', ids: [ID_2_7] },
  },
  stream_group_read: {
    encode: () => encodeStreamGroupRead({ ...gc, count: 10, blockMs: 5000 }),
    decode: decodeStreamGroupRead,
    decoded: { ...gc, count: 10, blockMs: 5000, noAck: false },
  },
  stream_group_read_zero_records: {
    encode: () => encodeStreamGroupRead(gc),
    decode: decodeStreamGroupRead,
    decoded: { ...gc, noAck: false },
  },
  stream_group_read_block_timeout: {
    encode: () => encodeStreamGroupRead({ ...gc, count: 10, blockMs: 30000 }),
    decode: decodeStreamGroupRead,
    decoded: { ...gc, count: 10, blockMs: 30000, noAck: false },
  },
  stream_group_read_one_record: {
    encode: () => encodeStreamGroupRead({ ...gc, count: 1 }),
    decode: decodeStreamGroupRead,
    decoded: { ...gc, count: 1, noAck: false },
  },
  stream_group_read_two_records: {
    encode: () => encodeStreamGroupRead({ ...gc, count: 2, blockMs: 5000 }),
    decode: decodeStreamGroupRead,
    decoded: { ...gc, count: 2, blockMs: 5000, noAck: false },
  },
};

const streamVectors = allVectors.filter((v) => v.name.startsWith('stream_'));

function bodyOf(v: Vector): RequestBody {
  const [frame] = new RequestFrameDecoder().push(fromHex(v.frame_hex));
  return decodeRequestBody(frame.payload);
}

/** The Go SDK's parsed view of a record (what the vectors' sdk_parsed lists hold). */
function sdkView(r: StreamRecord, like: Record<string, unknown>): Record<string, unknown> {
  const full: Record<string, unknown> = {
    id: formatStreamId(r.id),
    payload: fromUtf8(r.payload),
    sequence: Number(r.id.sequence),
    timestamp_ms: Number(r.id.timestampMs),
    tier: r.tier,
    stream: r.stream ?? '',
    headers: r.headers.length ? Object.fromEntries(r.headers) : null,
  };
  return Object.fromEntries(Object.keys(like).map((k) => [k, full[k]]));
}

describe('stream vectors: every stream_* vector is covered', () => {
  it('has a case per vector', () => {
    expect(streamVectors.length).toBe(27);
    for (const v of streamVectors) expect(cases[v.name], v.name).toBeDefined();
  });
});

describe('stream vectors: client encoders reproduce the request frames', () => {
  for (const v of streamVectors) {
    const c = cases[v.name];
    if (!c?.encode) continue;
    it(v.name, () => {
      expect(toHex(encodeRequest(BigInt(v.request_id), v.opcode, v.namespace, c.encode!()))).toBe(v.frame_hex);
    });
  }

  it('stream_append and stream_append_headers are server inputs only: the client sends a batch frame (#2, #36)', () => {
    const v = vector('stream_append_headers');
    const op = encodeStreamAppend({ stream: 'events', payload: fromHex(v.value_hex), headers: [['trace-id', 'abc123']] });
    expect(toHex(op.value!)).toBe('01000000' + '11000000' + v.value_hex + '0100' + '0800' + toHex(new TextEncoder().encode('trace-id')) + '0600' + toHex(new TextEncoder().encode('abc123')));
    expect(op.options).toBeUndefined();
  });
});

describe('stream vectors: server decoders read the requests back', () => {
  for (const v of streamVectors) {
    const c = cases[v.name];
    if (!c) continue;
    it(v.name, () => {
      expect(c.decode(bodyOf(v))).toEqual(c.decoded);
    });
  }
});

describe('stream vectors: replies', () => {
  it('append replies decode to the id and re-encode', () => {
    for (const name of ['stream_append', 'stream_append_headers']) {
      const v = vector(name);
      const parsed = v.response.sdk_parsed as { sequence: number; timestamp_ms: number };
      const id = decodeStreamAppendReply(fromHex(v.response.payload_hex));
      expect(id).toEqual(streamId(parsed.timestamp_ms, parsed.sequence));
      expect(toHex(encodeStreamAppendReply(id))).toBe(v.response.payload_hex);
    }
  });

  const recordVectors = [
    'stream_read_start_count',
    'stream_read_nil_opts_zero_records',
    'stream_read_tail_block_timeout',
    'stream_read_start_end_block_one_record',
    'stream_read_partition_two_records',
    'stream_group_read',
    'stream_group_read_zero_records',
    'stream_group_read_block_timeout',
    'stream_group_read_one_record',
    'stream_group_read_two_records',
  ];
  for (const name of recordVectors) {
    it(`${name} decodes to sdk_parsed and re-encodes`, () => {
      const v = vector(name);
      const records = decodeStreamRecords(fromHex(v.response.payload_hex));
      const parsed = v.response.sdk_parsed;
      if (typeof parsed === 'number') expect(records).toHaveLength(parsed);
      else {
        const list = parsed as Array<Record<string, unknown>>;
        expect(records.map((r, i) => sdkView(r, list[i]))).toEqual(list);
      }
      // 0-byte replies (block timeouts) are the server's timeout answer, not an encoding of a list.
      if (v.response.payload_hex === '') expect(records).toEqual([]);
      else expect(toHex(encodeStreamRecords(records))).toBe(v.response.payload_hex);
    });
  }

  it('the partition and tier of a record are decoded (Go skips the partition)', () => {
    const records = decodeStreamRecords(fromHex(vector('stream_read_partition_two_records').response.payload_hex));
    expect(records.map((r) => [r.partition, r.tier])).toEqual([
      [2, 0],
      [2, 2],
    ]);
    expect(records[0].headers).toEqual([
      ['content-type', 'application/json'],
      ['trace-id', 't-1'],
    ]);
  });

  it('records without a key (key_present = 0) decode with no stream name', () => {
    const [r] = decodeStreamRecords(fromHex(vector('stream_read_start_count').response.payload_hex));
    expect(r.stream).toBeUndefined();
  });

  for (const name of ['stream_info', 'stream_info_server_76_bytes']) {
    it(`${name} decodes to sdk_parsed and re-encodes`, () => {
      const v = vector(name);
      const info = decodeStreamInfoReply(fromHex(v.response.payload_hex));
      expect({
        bytes: Number(info.bytes),
        count: Number(info.count),
        first_id: formatStreamId(info.firstId),
        last_id: formatStreamId(info.lastId),
        partition_count: info.partitionCount,
      }).toEqual(v.response.sdk_parsed);
      expect(toHex(encodeStreamInfoReply(info))).toBe(v.response.payload_hex);
    });
  }

  it('the 76-byte info carries the retention fields', () => {
    const info = decodeStreamInfoReply(fromHex(vector('stream_info_server_76_bytes').response.payload_hex));
    expect(info).toMatchObject({ retentionAgeSeconds: 86400n, retentionCount: 1000n, retentionBytes: 0n });
    expect(decodeStreamInfoReply(fromHex(vector('stream_info').response.payload_hex)).retentionCount).toBeUndefined();
  });

  for (const name of ['stream_trim_max_len', 'stream_trim_max_age', 'stream_trim_max_bytes', 'stream_trim_dry_run', 'stream_trim_all_options']) {
    it(`${name} reply decodes and re-encodes`, () => {
      const v = vector(name);
      const reply = decodeStreamTrimReply(fromHex(v.response.payload_hex));
      expect(reply).toEqual({ removed: 3n, firstSeq: 4n });
      expect(toHex(encodeStreamTrimReply(reply))).toBe(v.response.payload_hex);
    });
  }

  it('stream_group_join reply decodes and re-encodes', () => {
    const v = vector('stream_group_join');
    const reply = decodeStreamGroupJoinReply(fromHex(v.response.payload_hex));
    expect(reply).toEqual({ generationId: 1n, partitionCount: 1, partition: 0 });
    expect(toHex(encodeStreamGroupJoinReply(reply))).toBe(v.response.payload_hex);
  });
});

describe('stream vectors: the embedded server answers the vector requests', () => {
  for (const v of streamVectors) {
    it(v.name, async () => {
      const h = harness(1700000000000);
      const body = bodyOf(v);
      const handler = h.sub.handlers.get(v.opcode)!;
      expect(handler).toBeDefined();
      const ctx = {
        requestId: BigInt(v.request_id),
        opcode: v.opcode,
        namespace: v.namespace,
        body,
        options: new OptionsReader(body.options),
        signal: new AbortController().signal,
        connectionId: 1,
      };
      let status = 0;
      let payload: Uint8Array | undefined;
      try {
        const r = handler(ctx);
        if (r instanceof Promise) {
          h.clock.advance(300_000);
          const reply = await r;
          status = reply.status;
          payload = payloadBytes(reply.payload);
        } else {
          status = r.status;
          payload = payloadBytes(r.payload);
        }
      } catch (err) {
        if (!(err instanceof ServerError)) throw err;
        status = err.status!;
        payload = new TextEncoder().encode(err.serverMessage);
      }
      if (v.response.status !== 0) {
        // The error vectors: same status and message as Flo.
        expect(status).toBe(v.response.status);
        expect(toHex(payload ?? new Uint8Array())).toBe(v.response.payload_hex);
        return;
      }
      // On a fresh server: group ops on an unknown group answer NOT_FOUND exactly where Flo does.
      if (['stream_group_ack', 'stream_group_ack_no_consumer', 'stream_group_nack_redelivery_delay', 'stream_group_nack_plain', 'stream_group_leave'].includes(v.name)) {
        expect(status).toBe(2);
        return;
      }
      if (v.name === 'stream_trim_dry_run') {
        // The vector's OK reply is a fake server's canned answer; a lone dry run is no bound.
        expect(status).toBe(3);
        expect(fromUtf8(payload!)).toBe('trim offset is required');
        return;
      }
      expect(status).toBe(0);
      if (v.name === 'stream_append' || v.name === 'stream_append_headers') {
        expect(decodeStreamAppendReply(payload!)).toEqual(streamId(1700000000000n, 0n));
      }
      if (v.name === 'stream_group_join') expect(toHex(payload!)).toBe(v.response.payload_hex);
      if (v.name === 'stream_read_tail_block_timeout' || v.name === 'stream_group_read_block_timeout') expect(payload!.length).toBe(0);
      if (v.name === 'stream_read_nil_opts_zero_records' || v.name === 'stream_group_read_zero_records') {
        expect(toHex(payload!)).toBe(v.response.payload_hex);
      }
    });
  }
});
