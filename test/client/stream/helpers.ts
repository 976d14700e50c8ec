// Helpers of the stream integration tests: a client whose transport records what it sends (and can
// be killed), decoding of the requests it sent, and collection of emitted values.
import type { Observable, Subscription } from 'rxjs';
import { tcpTransport } from '../../../src/connection/tcp.js';
import { createFrameDecoder, decodeRequestBody, type RequestBody } from '../../../src/protocol/index.js';
import { decodeStreamRead, formatStreamId, type StreamReadQuery } from '../../../src/protocol/stream.js';
import { Op } from '../../../src/protocol/opcodes.js';
import type { FloClient } from '../../../src/node.js';
import type { Embedded } from '../../support/embedded.js';
import { recording, type RecordingTransport } from '../../support/transport.js';

export interface Recorded {
  readonly client: FloClient;
  readonly rec: RecordingTransport;
  /** The requests sent so far, decoded. */
  requests(): { opcode: number; body: RequestBody }[];
  /** The STREAM_READ requests sent so far, decoded. */
  reads(): StreamReadQuery[];
  /** Closes the client's current socket (the client reconnects to the same server). */
  dropSocket(): void;
}

export function recordedClient(env: Embedded): Recorded {
  const rec = recording(tcpTransport);
  const client = env.newClient({ transport: rec.factory });
  const requests = () => {
    const decoder = createFrameDecoder('request');
    return rec.sends.flatMap((bytes) => decoder.push(bytes)).map((f) => ({ opcode: f.opcode, body: decodeRequestBody(f.payload) }));
  };
  return {
    client,
    rec,
    requests,
    reads: () => requests().filter((r) => r.opcode === Op.StreamRead).map((r) => decodeStreamRead(r.body)),
    dropSocket: () => rec.opened.at(-1)!.close(),
  };
}

/** Subscribes and collects values (and the error, if any) until `stop()`. */
export function collect<T>(source: Observable<T>): { values: T[]; error: unknown; done: boolean; sub: Subscription } {
  const out = { values: [] as T[], error: undefined as unknown, done: false, sub: undefined as unknown as Subscription };
  out.sub = source.subscribe({
    next: (v) => out.values.push(v),
    error: (e: unknown) => {
      out.error = e;
      out.done = true;
    },
    complete: () => (out.done = true),
  });
  return out;
}

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
export const ids = (records: readonly { id: { timestampMs: bigint; sequence: bigint } }[]): string[] => records.map((r) => formatStreamId(r.id));
