// Builds handler inputs the way the server's dispatcher does, from frames made with our encoders.
import {
  decodeRequestBody,
  encodeRequestBody,
  OptionsReader,
  ServerError,
  utf8,
  type OpPayload,
} from '../../../src/protocol/index.js';
import * as P from '../../../src/protocol/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import { payloadBytes } from '../../../src/server/reply.js';
import type { Reply, RequestContext } from '../../../src/server/types.js';

/** A reply with its payload as bytes (a payload writer's written out, as the connection would). */
export interface BytesReply {
  readonly status: number;
  readonly payload: Uint8Array;
}

const asBytes = (r: Reply): BytesReply => ({ status: r.status, payload: payloadBytes(r.payload) });
import { createStreamSubsystem, type StreamSubsystem, type StreamSubsystemOptions } from '../../../src/server/streams/index.js';

let nextRequestId = 1n;

/** (opcode, namespace, payload sections) → RequestContext, via the real request-body parser. */
export function requestContext(
  opcode: number,
  namespace: string,
  op: OpPayload,
  signal: AbortSignal = new AbortController().signal,
): RequestContext {
  const payload = encodeRequestBody({ namespace: utf8(namespace), key: op.key, value: op.value, options: op.options });
  const body = decodeRequestBody(payload);
  return {
    requestId: nextRequestId++,
    opcode,
    namespace: namespace === '' ? 'default' : namespace,
    body,
    options: new OptionsReader(body.options),
    signal,
    connectionId: 1,
  };
}

export interface Harness {
  readonly clock: ManualClock;
  readonly sub: StreamSubsystem;
  /** Runs a handler; resolves its reply (a parked request resolves later). */
  call(opcode: number, op: OpPayload, opts?: { ns?: string; signal?: AbortSignal }): Promise<BytesReply>;
  /** Runs a handler that must answer at once (no park). */
  now(opcode: number, op: OpPayload, ns?: string): BytesReply;
  /** Runs a handler and returns the ServerError it throws. */
  fail(opcode: number, op: OpPayload, ns?: string): ServerError;
}

export function harness(startMs = Date.UTC(2026, 0, 1), options?: StreamSubsystemOptions): Harness {
  const clock = new ManualClock(startMs);
  const sub = createStreamSubsystem({ clock, profile: 'go' }, options);
  const handler = (opcode: number) => {
    const h = sub.handlers.get(opcode);
    if (!h) throw new Error(`no handler for 0x${opcode.toString(16)}`);
    return h;
  };
  return {
    clock,
    sub,
    async call(opcode, op, opts = {}) {
      return asBytes(await handler(opcode)(requestContext(opcode, opts.ns ?? 'test', op, opts.signal)));
    },
    now(opcode, op, ns = 'test') {
      const r = handler(opcode)(requestContext(opcode, ns, op));
      if (r instanceof Promise) throw new Error('handler parked');
      return asBytes(r);
    },
    fail(opcode, op, ns = 'test') {
      try {
        const r = handler(opcode)(requestContext(opcode, ns, op));
        if (r instanceof Promise) throw new Error('handler parked');
      } catch (err) {
        if (err instanceof ServerError) return err;
        throw err;
      }
      throw new Error('handler did not fail');
    },
  };
}

/** Lets pending promise continuations run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

// ---- typed shortcuts over the wire codecs ----

export function append(h: Harness, stream: string, payload: string | Uint8Array, extra: Partial<P.StreamAppendRequest> = {}, ns?: string): P.StreamId {
  const r = h.now(P.Op.StreamAppend, P.encodeStreamAppend({ stream, payload: utf8(payload), ...extra }), ns);
  return P.decodeStreamAppendReply(r.payload!);
}

export function read(h: Harness, req: P.StreamReadRequest, ns?: string): P.StreamRecord[] {
  return P.decodeStreamRecords(h.now(P.Op.StreamRead, P.encodeStreamRead(req), ns).payload!);
}

export function groupRead(h: Harness, req: P.StreamGroupReadRequest, ns?: string): P.StreamRecord[] {
  return P.decodeStreamRecords(h.now(P.Op.StreamGroupRead, P.encodeStreamGroupRead(req), ns).payload!);
}

export function pending(h: Harness, stream: string, group: string, consumer?: string): P.StreamPendingEntry[] {
  return P.decodeStreamGroupPendingReply(h.now(P.Op.StreamGroupPending, P.encodeStreamGroupPending({ stream, group, consumer })).payload!);
}

export const text = (r: P.StreamRecord) => P.fromUtf8(r.payload);
export const ids = (rs: readonly P.StreamRecord[]) => rs.map((r) => P.formatStreamId(r.id));
