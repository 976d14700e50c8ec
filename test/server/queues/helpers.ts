/**
 * Drives the queue subsystem the way the dispatcher would: frames built with the client encoders,
 * parsed with the server's section parser, handed to the handler; replies decoded with the client
 * decoders. Time is a ManualClock.
 */
import {
  HEADER_SIZE,
  OptionsReader,
  Status,
  decodeQueueBatchEnqueueReply,
  decodeQueueDequeueReply,
  decodeQueueDlqListReply,
  decodeQueueDlqStatsReply,
  decodeQueueEnqueueReply,
  decodeQueueListReply,
  decodeQueuePeekReply,
  decodeQueuePurgeReply,
  decodeQueueStatsReply,
  decodeRequestBody,
  encodeQueueBatchEnqueue,
  encodeQueueComplete,
  encodeQueueDequeue,
  encodeQueueDlqDelete,
  encodeQueueDlqList,
  encodeQueueDlqRequeue,
  encodeQueueDlqStats,
  encodeQueueEnqueue,
  encodeQueueExtendLease,
  encodeQueueFail,
  encodeQueueList,
  encodeQueuePeek,
  encodeQueuePurge,
  encodeQueueStats,
  encodeQueueTouch,
  encodeRequest,
  fromUtf8,
  Op,
  utf8,
  type OpPayload,
  type QueueBatchEnqueueRequest,
  type QueueDequeueRequest,
  type QueueEnqueueRequest,
  type QueueListRequest,
  type QueueMessage,
  type QueueReplyProfile,
} from '../../../src/protocol/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import { createQueueSubsystem, type QueueSubsystem, type QueueSubsystemOptions } from '../../../src/server/queues/index.js';
import { payloadBytes } from '../../../src/server/reply.js';
import type { Reply, RequestContext } from '../../../src/server/types.js';

let nextId = 1n;

/** (opcode, namespace, OpPayload) → RequestContext, through a real frame. */
export function ctxFor(opcode: number, namespace: string, op: OpPayload, signal: AbortSignal = new AbortController().signal): RequestContext {
  const requestId = nextId++;
  const frame = encodeRequest(requestId, opcode, namespace, op);
  const body = decodeRequestBody(frame.subarray(HEADER_SIZE));
  const ns = fromUtf8(body.namespace);
  return { requestId, opcode, namespace: ns === '' ? 'default' : ns, body, options: new OptionsReader(body.options), signal, connectionId: 1 };
}

/** Waits for pending promise continuations (woken long-polls) to run. */
export const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

export const text = (m: QueueMessage) => fromUtf8(m.payload);

export class Harness {
  readonly clock = new ManualClock();
  readonly sub: QueueSubsystem;

  constructor(
    readonly namespace = 'test',
    options: QueueSubsystemOptions = {},
    profile: QueueReplyProfile = 'go',
  ) {
    this.sub = createQueueSubsystem({ clock: this.clock, profile }, options);
  }

  get store() {
    return this.sub.store;
  }

  /** Runs a handler; a thrown ServerError comes back as a rejected promise. */
  async call(opcode: number, op: OpPayload, signal?: AbortSignal): Promise<Reply> {
    const h = this.sub.handlers.get(opcode);
    if (!h) throw new Error(`no handler for 0x${opcode.toString(16)}`);
    return h(ctxFor(opcode, this.namespace, op, signal));
  }

  /** Same, but returns the reply promise without awaiting it (for long-polls). */
  start(opcode: number, op: OpPayload, signal?: AbortSignal): Promise<Reply> {
    return this.call(opcode, op, signal);
  }

  async payloadOf(p: Promise<Reply>): Promise<Uint8Array> {
    const r = await p;
    if (r.status !== Status.OK) throw new Error(`status ${r.status}`);
    return payloadBytes(r.payload);
  }

  async enqueue(queue: string, payload: string, opts: Omit<QueueEnqueueRequest, 'queue' | 'payload'> = {}): Promise<bigint> {
    return decodeQueueEnqueueReply(await this.payloadOf(this.call(Op.QueueEnqueue, encodeQueueEnqueue({ queue, payload: utf8(payload), ...opts })))).seq;
  }

  async batch(queue: string, payloads: string[], opts: Omit<QueueBatchEnqueueRequest, 'queue' | 'payloads'> = {}): Promise<readonly bigint[]> {
    const op = encodeQueueBatchEnqueue({ queue, payloads: payloads.map((p) => utf8(p)), ...opts });
    return decodeQueueBatchEnqueueReply(await this.payloadOf(this.call(Op.QueueBatchEnqueue, op))).seqs;
  }

  async dequeue(queue: string, count = 1, opts: Omit<QueueDequeueRequest, 'queue' | 'count'> = {}): Promise<readonly QueueMessage[]> {
    return this.dequeueReply(this.start(Op.QueueDequeue, encodeQueueDequeue({ queue, count, ...opts })));
  }

  async dequeueReply(p: Promise<Reply>): Promise<readonly QueueMessage[]> {
    return decodeQueueDequeueReply(await this.payloadOf(p)).messages;
  }

  async ack(queue: string, seqs: bigint[]): Promise<void> {
    await this.payloadOf(this.call(Op.QueueComplete, encodeQueueComplete({ queue, seqs })));
  }

  async nack(queue: string, seqs: bigint[], toDlq = false): Promise<void> {
    await this.payloadOf(this.call(Op.QueueFail, encodeQueueFail({ queue, seqs, toDlq })));
  }

  async touch(queue: string, seqs: bigint[], extendMs?: number): Promise<void> {
    await this.payloadOf(this.call(Op.QueueTouch, encodeQueueTouch({ queue, seqs, extendMs })));
  }

  async extendLease(queue: string, seqs: bigint[], extendMs?: number): Promise<void> {
    await this.payloadOf(this.call(Op.QueueExtendLease, encodeQueueExtendLease({ queue, seqs, extendMs })));
  }

  async peek(queue: string, count = 100): Promise<readonly QueueMessage[]> {
    return decodeQueuePeekReply(await this.payloadOf(this.call(Op.QueuePeek, encodeQueuePeek({ queue, count })))).messages;
  }

  async dlqList(queue: string, limit?: number): Promise<readonly QueueMessage[]> {
    return decodeQueueDlqListReply(await this.payloadOf(this.call(Op.QueueDlqList, encodeQueueDlqList({ queue, limit })))).messages;
  }

  async dlqRequeue(queue: string, seqs: bigint[]): Promise<void> {
    await this.payloadOf(this.call(Op.QueueDlqRequeue, encodeQueueDlqRequeue({ queue, seqs })));
  }

  async dlqDelete(queue: string, seqs: bigint[]): Promise<void> {
    await this.payloadOf(this.call(Op.QueueDlqDelete, encodeQueueDlqDelete({ queue, seqs })));
  }

  async dlqStats(queue: string) {
    return decodeQueueDlqStatsReply(await this.payloadOf(this.call(Op.QueueDlqStats, encodeQueueDlqStats({ queue }))));
  }

  async stats(queue: string) {
    return decodeQueueStatsReply(await this.payloadOf(this.call(Op.QueueStats, encodeQueueStats({ queue }))));
  }

  async purge(queue: string): Promise<bigint> {
    return decodeQueuePurgeReply(await this.payloadOf(this.call(Op.QueuePurge, encodeQueuePurge({ queue })))).purged;
  }

  async list(req: QueueListRequest = {}) {
    return decodeQueueListReply(await this.payloadOf(this.call(Op.QueueList, encodeQueueList(req))));
  }
}

export const seqsOf = (ms: readonly QueueMessage[]) => ms.map((m) => m.seq);
