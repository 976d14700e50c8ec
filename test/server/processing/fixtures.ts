/**
 * Processing tests over real sockets: the embedded server on port 0 with a ManualClock, frames built
 * by `src/protocol`, and small helpers for the streams, KV and queues a job reads and writes.
 */
import {
  Op,
  decodeKvGetReply,
  decodeProcessingListPage,
  decodeProcessingStatusReply,
  decodeQueuePeekReply,
  decodeStreamRecords,
  encodeKvGet,
  encodeKvPut,
  encodeProcessingCancel,
  encodeProcessingList,
  encodeProcessingRescale,
  encodeProcessingRestore,
  encodeProcessingSavepoint,
  encodeProcessingStatus,
  encodeProcessingStop,
  encodeProcessingSubmit,
  encodeQueuePeek,
  encodeStreamAppend,
  encodeStreamRead,
  fromUtf8,
  utf8,
  type DecodedResponse,
  type ProcessingJobStatusReply,
  type ProcessingListPage,
} from '../../../src/protocol/index.js';
import { okBody, SocketClient, startIntegration, type Integration } from '../integration/harness.js';

export const POLL_MS = 1000;

export interface ProcessingFixture {
  readonly it: Integration;
  readonly client: SocketClient;
  /** Closes the connection and opens a new one (e.g. after `it.server.restart()`). */
  reconnect(): Promise<void>;
  submit(yaml: string, ns?: string): Promise<DecodedResponse>;
  submitOk(yaml: string, ns?: string): Promise<string>;
  append(stream: string, value: unknown, ns?: string): Promise<void>;
  /** Payloads of a stream, parsed as JSON when they are. */
  read(stream: string, ns?: string): Promise<unknown[]>;
  kvGet(key: string, ns?: string): Promise<unknown>;
  kvPut(key: string, value: unknown, ns?: string): Promise<void>;
  peekQueue(queue: string, ns?: string): Promise<Array<{ payload: unknown; priority?: number }>>;
  status(jobId: string, ns?: string): Promise<ProcessingJobStatusReply>;
  list(ns?: string, limit?: number, cursor?: string): Promise<ProcessingListPage>;
  call(op: 'stop' | 'cancel' | 'savepoint', jobId: string, ns?: string): Promise<DecodedResponse>;
  restore(jobId: string, savepointId: string, ns?: string): Promise<DecodedResponse>;
  rescale(jobId: string, parallelism: number, ns?: string): Promise<DecodedResponse>;
  /** Advances the server clock by one poll interval (or `ms`) and lets the server answer again. */
  poll(ms?: number): Promise<void>;
  close(): Promise<void>;
}

const NS = 'test';

function parse(bytes: Uint8Array): unknown {
  const text = fromUtf8(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const bytes = (v: unknown) => (v instanceof Uint8Array ? v : utf8(typeof v === 'string' ? v : JSON.stringify(v)));

export async function startProcessing(): Promise<ProcessingFixture> {
  const it = await startIntegration();
  let client = await SocketClient.tcp(it.server.port);
  const f: ProcessingFixture = {
    it,
    get client() {
      return client;
    },
    async reconnect() {
      client.close();
      client = await SocketClient.tcp(it.server.port);
    },
    submit: (yaml, ns = NS) => client.request(Op.ProcessingSubmit, encodeProcessingSubmit({ definition: yaml }), ns),
    async submitOk(yaml, ns = NS) {
      return fromUtf8(okBody(await f.submit(yaml, ns)));
    },
    async append(stream, value, ns = NS) {
      okBody(await client.request(Op.StreamAppend, encodeStreamAppend({ stream, payload: bytes(value) }), ns));
    },
    async read(stream, ns = NS) {
      const r = await client.request(Op.StreamRead, encodeStreamRead({ stream, count: 1000 }), ns);
      return decodeStreamRecords(okBody(r)).map((rec) => parse(rec.payload));
    },
    async kvGet(key, ns = NS) {
      const r = await client.request(Op.KvGet, encodeKvGet({ key: utf8(key) }), ns);
      if (r.status !== 0) return undefined;
      return parse(decodeKvGetReply(r.payload).value);
    },
    async kvPut(key, value, ns = NS) {
      okBody(await client.request(Op.KvPut, encodeKvPut({ key: utf8(key), value: bytes(value) }), ns));
    },
    async peekQueue(queue, ns = NS) {
      const r = await client.request(Op.QueuePeek, encodeQueuePeek({ queue, count: 100 }), ns);
      return decodeQueuePeekReply(okBody(r)).messages.map((m) => ({ payload: parse(m.payload), ...(m.priority !== undefined ? { priority: m.priority } : {}) }));
    },
    async status(jobId, ns = NS) {
      return decodeProcessingStatusReply(okBody(await client.request(Op.ProcessingStatus, encodeProcessingStatus({ jobId }), ns)));
    },
    async list(ns = NS, limit, cursor) {
      const req = { ...(limit !== undefined ? { limit } : {}), ...(cursor !== undefined ? { cursor } : {}) };
      return decodeProcessingListPage(okBody(await client.request(Op.ProcessingList, encodeProcessingList(req), ns)));
    },
    call(op, jobId, ns = NS) {
      const enc = op === 'stop' ? encodeProcessingStop : op === 'cancel' ? encodeProcessingCancel : encodeProcessingSavepoint;
      const code = op === 'stop' ? Op.ProcessingStop : op === 'cancel' ? Op.ProcessingCancel : Op.ProcessingSavepoint;
      return client.request(code, enc({ jobId }), ns);
    },
    restore: (jobId, savepointId, ns = NS) => client.request(Op.ProcessingRestore, encodeProcessingRestore({ jobId, savepointId }), ns),
    rescale: (jobId, parallelism, ns = NS) => client.request(Op.ProcessingRescale, encodeProcessingRescale({ jobId, parallelism }), ns),
    async poll(ms = POLL_MS) {
      it.clock.advance(ms);
      await client.barrier();
    },
    async close() {
      client.close();
      await it.server.close();
    },
  };
  return f;
}

/** A job reading `in` and writing `out` (both in the job's namespace), with extra YAML appended. */
export function job(name: string, extra = '', sinks = 'sinks:\n  - name: out\n    stream: { name: out }\n'): string {
  return `kind: Processing\nname: ${name}\nsources:\n  - name: in\n    stream: { name: in }\n${sinks}${extra}`;
}
