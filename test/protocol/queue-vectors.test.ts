import { describe, expect, it } from 'vitest';
import {
  EMPTY,
  Op,
  decodeQueueComplete,
  decodeQueueCompleteReply,
  decodeQueueDequeue,
  decodeQueueDequeueReply,
  decodeQueueDlqList,
  decodeQueueDlqListReply,
  decodeQueueDlqRequeue,
  decodeQueueDlqRequeueReply,
  decodeQueueEnqueue,
  decodeQueueEnqueueReply,
  decodeQueueFail,
  decodeQueueFailReply,
  decodeQueuePeek,
  decodeQueuePeekReply,
  decodeQueueTouch,
  decodeQueueTouchReply,
  decodeRequestBody,
  encodeQueueComplete,
  encodeQueueCompleteReply,
  encodeQueueDequeue,
  encodeQueueDequeueReply,
  encodeQueueDlqList,
  encodeQueueDlqListReply,
  encodeQueueDlqRequeue,
  encodeQueueDlqRequeueReply,
  encodeQueueEnqueue,
  encodeQueueEnqueueReply,
  encodeQueueFail,
  encodeQueueFailReply,
  encodeQueuePeek,
  encodeQueuePeekReply,
  encodeQueueTouch,
  encodeQueueTouchReply,
  encodeRequest,
  fromHex,
  fromUtf8,
  HEADER_SIZE,
  toHex,
  utf8,
  type OpPayload,
  type QueueMessagesReply,
  type RequestBody,
} from '../../src/protocol/index.js';
import { allVectors, vector } from '../vectors.js';

/** What the Go SDK's parsed list looks like in the fixtures. */
const parsedMessages = (r: QueueMessagesReply) => r.messages.map((m) => ({ payload: fromUtf8(m.payload), seq: Number(m.seq) }));

interface Case {
  /** Client side: the request as the flo-rx client would build it. */
  encode: () => OpPayload;
  /** Server side: decode the request body… */
  decode: (body: RequestBody) => unknown;
  /** …into exactly this. */
  decoded: unknown;
  /** Client side: decode the OK payload and map it to the fixture's `sdk_parsed`. */
  parseReply: (payload: Uint8Array) => unknown;
  /** What the decoded reply must equal (defaults to `sdk_parsed`). */
  parsed?: unknown;
  /** Server side: re-encode the reply from the decoded value (undefined: the server never sends these bytes). */
  encodeReply?: (payload: Uint8Array) => Uint8Array;
}

const tasks = 'tasks';
const seqsReply = {
  parseReply: (p: Uint8Array) => (decodeQueueCompleteReply(p) === undefined ? 'ok' : 'unexpected'),
};

const cases: Record<string, Case> = {
  queue_enqueue_priority_delay_dedup: {
    encode: () => encodeQueueEnqueue({ queue: tasks, payload: utf8('{"task":"x"}'), priority: 10, delayMs: 60000n, dedupKey: 'task-123' }),
    decode: decodeQueueEnqueue,
    decoded: { queue: tasks, payload: utf8('{"task":"x"}'), priority: 10, delayMs: 60000n, dedupKey: utf8('task-123') },
    parseReply: (p) => Number(decodeQueueEnqueueReply(p).seq),
    encodeReply: (p) => encodeQueueEnqueueReply(decodeQueueEnqueueReply(p)),
  },
  queue_dequeue_count_block: {
    encode: () => encodeQueueDequeue({ queue: tasks, count: 10, visibilityTimeoutMs: 60000, blockMs: 30000 }),
    decode: decodeQueueDequeue,
    decoded: { queue: tasks, count: 10, visibilityTimeoutMs: 60000, blockMs: 30000 },
    parseReply: (p) => parsedMessages(decodeQueueDequeueReply(p)),
    encodeReply: (p) => encodeQueueDequeueReply(decodeQueueDequeueReply(p)),
  },
  queue_dequeue_zero: {
    encode: () => encodeQueueDequeue({ queue: tasks, count: 10 }),
    decode: decodeQueueDequeue,
    decoded: { queue: tasks, count: 10 },
    parseReply: (p) => parsedMessages(decodeQueueDequeueReply(p)),
    encodeReply: (p) => encodeQueueDequeueReply(decodeQueueDequeueReply(p)),
  },
  queue_dequeue_one: {
    encode: () => encodeQueueDequeue({ queue: tasks, count: 1, visibilityTimeoutMs: 30000 }),
    decode: decodeQueueDequeue,
    decoded: { queue: tasks, count: 1, visibilityTimeoutMs: 30000 },
    parseReply: (p) => parsedMessages(decodeQueueDequeueReply(p)),
    encodeReply: (p) => encodeQueueDequeueReply(decodeQueueDequeueReply(p), 'go'),
  },
  queue_dequeue_three: {
    encode: () => encodeQueueDequeue({ queue: tasks, count: 3, blockMs: 1000 }),
    decode: decodeQueueDequeue,
    decoded: { queue: tasks, count: 3, blockMs: 1000 },
    parseReply: (p) => parsedMessages(decodeQueueDequeueReply(p)),
    encodeReply: (p) => encodeQueueDequeueReply(decodeQueueDequeueReply(p)),
  },
  // Go reports "flo: incomplete response"; flo-rx decodes what the bytes say: no messages (docs/protocol-decisions.md #16, #37).
  // The embedded server never sends these bytes (it always sends at least [0:u32]).
  queue_dequeue_zero_byte_reply: {
    encode: () => encodeQueueDequeue({ queue: tasks, count: 10, blockMs: 1000 }),
    decode: decodeQueueDequeue,
    decoded: { queue: tasks, count: 10, blockMs: 1000 },
    parseReply: (p) => parsedMessages(decodeQueueDequeueReply(p)),
    parsed: [],
  },
  queue_ack: {
    encode: () => encodeQueueComplete({ queue: tasks, seqs: [101n, 102n] }),
    decode: decodeQueueComplete,
    decoded: { queue: tasks, seqs: [101n, 102n] },
    ...seqsReply,
    encodeReply: () => encodeQueueCompleteReply(),
  },
  queue_nack: {
    encode: () => encodeQueueFail({ queue: tasks, seqs: [101n] }),
    decode: decodeQueueFail,
    decoded: { queue: tasks, seqs: [101n], toDlq: false },
    parseReply: (p) => (decodeQueueFailReply(p) === undefined ? 'ok' : 'unexpected'),
    encodeReply: () => encodeQueueFailReply(),
  },
  queue_nack_to_dlq: {
    encode: () => encodeQueueFail({ queue: tasks, seqs: [101n], toDlq: true }),
    decode: decodeQueueFail,
    decoded: { queue: tasks, seqs: [101n], toDlq: true },
    parseReply: (p) => (decodeQueueFailReply(p) === undefined ? 'ok' : 'unexpected'),
    encodeReply: () => encodeQueueFailReply(),
  },
  queue_dlq_list_default: {
    encode: () => encodeQueueDlqList({ queue: tasks }),
    decode: decodeQueueDlqList,
    decoded: { queue: tasks, limit: 100 },
    parseReply: (p) => parsedMessages(decodeQueueDlqListReply(p)),
    encodeReply: (p) => encodeQueueDlqListReply(decodeQueueDlqListReply(p)),
  },
  queue_dlq_list_limit: {
    encode: () => encodeQueueDlqList({ queue: tasks, limit: 10 }),
    decode: decodeQueueDlqList,
    decoded: { queue: tasks, limit: 10 },
    parseReply: (p) => parsedMessages(decodeQueueDlqListReply(p)),
    encodeReply: (p) => encodeQueueDlqListReply(decodeQueueDlqListReply(p)),
  },
  queue_dlq_list_zero_limit: {
    encode: () => encodeQueueDlqList({ queue: tasks, limit: 0 }),
    decode: decodeQueueDlqList,
    decoded: { queue: tasks, limit: 0 },
    parseReply: (p) => parsedMessages(decodeQueueDlqListReply(p)),
    encodeReply: (p) => encodeQueueDlqListReply(decodeQueueDlqListReply(p)),
  },
  queue_dlq_requeue: {
    encode: () => encodeQueueDlqRequeue({ queue: tasks, seqs: [7n, 9n] }),
    decode: decodeQueueDlqRequeue,
    decoded: { queue: tasks, seqs: [7n, 9n] },
    parseReply: (p) => (decodeQueueDlqRequeueReply(p) === undefined ? 'ok' : 'unexpected'),
    encodeReply: () => encodeQueueDlqRequeueReply(),
  },
  queue_peek: {
    encode: () => encodeQueuePeek({ queue: tasks, count: 5 }),
    decode: decodeQueuePeek,
    decoded: { queue: tasks, count: 5 },
    parseReply: (p) => parsedMessages(decodeQueuePeekReply(p)),
    encodeReply: (p) => encodeQueuePeekReply(decodeQueuePeekReply(p)),
  },
  queue_touch: {
    encode: () => encodeQueueTouch({ queue: tasks, seqs: [101n] }),
    decode: decodeQueueTouch,
    decoded: { queue: tasks, seqs: [101n] },
    parseReply: (p) => (decodeQueueTouchReply(p) === undefined ? 'ok' : 'unexpected'),
    encodeReply: () => encodeQueueTouchReply(),
  },
};

const queueVectors = allVectors.filter((v) => v.name.startsWith('queue_'));

describe('queue vectors', () => {
  it('every queue_* vector of requests.json and more.json has a case', () => {
    expect(queueVectors.length).toBeGreaterThanOrEqual(15);
    expect(queueVectors.map((v) => v.name).filter((n) => !(n in cases))).toEqual([]);
  });

  for (const v of queueVectors) {
    const c = cases[v.name];
    describe(v.name, () => {
      it('the client encoder reproduces the Go frame byte for byte', () => {
        const frame = encodeRequest(BigInt(v.request_id), v.opcode, v.namespace, c.encode());
        expect(toHex(frame)).toBe(v.frame_hex);
      });

      it('the server decoder reads back the same fields', () => {
        const body = decodeRequestBody(fromHex(v.frame_hex).subarray(HEADER_SIZE));
        expect(fromUtf8(body.namespace)).toBe(v.namespace);
        expect(c.decode(body)).toEqual(c.decoded);
      });

      it('the reply decodes to what the SDK parsed (or what the bytes say, #37)', () => {
        expect(v.response.status).toBe(0);
        expect(c.parseReply(fromHex(v.response.payload_hex))).toEqual(c.parsed ?? v.response.sdk_parsed);
      });

      if (c.encodeReply) {
        it('the server reply encoder reproduces the payload', () => {
          expect(toHex(c.encodeReply!(fromHex(v.response.payload_hex)))).toBe(v.response.payload_hex);
        });
      }
    });
  }
});

describe('more queue vectors (the Go SDK golden frames of more.json)', () => {
  it('Dequeue("q", 10, {BlockMS: 5000})', () => {
    expect(toHex(encodeQueueDequeue({ queue: 'q', count: 10, blockMs: 5000 }).options!)).toBe('15040a000000170488130000');
  });

  it('Enqueue("q", p, {Priority: 100, DelayMS: 60000, DedupKey: "order-1"})', () => {
    const op = encodeQueueEnqueue({ queue: 'q', payload: utf8('p'), priority: 100, delayMs: 60000n, dedupKey: 'order-1' });
    expect(toHex(op.options!)).toBe('100164110860ea00000000000013076f726465722d31');
    expect(toHex(op.value!)).toBe(toHex(utf8('p')));
  });

  it('Nack("q", [42], {ToDLQ: true})', () => {
    const op = encodeQueueFail({ queue: 'q', seqs: [42n], toDlq: true });
    expect(toHex(op.options!)).toBe('160101');
    expect(toHex(op.value!)).toBe('010000002a00000000000000');
  });

  it('Go omits priority 0, sends delay 0, omits an empty dedup key and a nack without ToDLQ has no options', () => {
    expect(encodeQueueEnqueue({ queue: 'q', payload: EMPTY, priority: 0 }).options).toBeUndefined();
    expect(toHex(encodeQueueEnqueue({ queue: 'q', payload: EMPTY, delayMs: 0n }).options!)).toBe('11080000000000000000');
    expect(encodeQueueEnqueue({ queue: 'q', payload: EMPTY, dedupKey: '' }).options).toBeUndefined();
    expect(encodeQueueFail({ queue: 'q', seqs: [1n], toDlq: false }).options).toBeUndefined();
  });

  it('dequeue and peek always send a count (1 when not given)', () => {
    expect(toHex(encodeQueueDequeue({ queue: 'q' }).options!)).toBe('150401000000');
    expect(toHex(encodeQueuePeek({ queue: 'q' }).options!)).toBe('150401000000');
  });

  it('the flo profile writes the 13-byte trailer; the client reads it and exposes the extra fields', () => {
    const reply = { messages: [{ seq: 101n, payload: utf8('{"task":"x"}'), enqueuedAtMs: 1767225600000n, deliveryCount: 2, priority: 7 }] };
    const bytes = encodeQueueDequeueReply(reply, 'flo');
    expect(toHex(bytes)).toBe(
      '01000000' + '6500000000000000' + '0c000000' + toHex(utf8('{"task":"x"}')) + toHex(new Uint8Array(new BigUint64Array([1767225600000n]).buffer)) + '02000000' + '07',
    );
    expect(decodeQueueDequeueReply(bytes)).toEqual(reply);
    expect(decodeQueuePeekReply(bytes)).toEqual(reply);
    expect(decodeQueueDlqListReply(bytes)).toEqual(reply);
    // The Go layout of the same message has no extra fields.
    expect(decodeQueueDequeueReply(encodeQueueDequeueReply(reply))).toEqual({ messages: [{ seq: 101n, payload: utf8('{"task":"x"}') }] });
  });

  it('the DLQ summary of the indexed server ([0:u32][total:u64]) reads as an empty list', () => {
    expect(decodeQueueDlqListReply(fromHex('000000000500000000000000'))).toEqual({ messages: [], dlqTotal: 5n });
  });

  it('the op codes used are the Go SDK ones', () => {
    expect([Op.QueueEnqueue, Op.QueueDequeue, Op.QueueComplete, Op.QueueFail, Op.QueueDlqList, Op.QueueDlqRequeue, Op.QueuePeek, Op.QueueTouch]).toEqual([
      vector('queue_enqueue_priority_delay_dedup').opcode,
      vector('queue_dequeue_zero').opcode,
      vector('queue_ack').opcode,
      vector('queue_nack').opcode,
      vector('queue_dlq_list_default').opcode,
      vector('queue_dlq_requeue').opcode,
      vector('queue_peek').opcode,
      vector('queue_touch').opcode,
    ]);
  });
});
