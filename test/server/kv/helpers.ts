// Drives the KV subsystem through its handlers with request frames built by the protocol encoders.
import {
  EMPTY,
  OptionsReader,
  RequestFrameDecoder,
  ServerError,
  decodeRequestBody,
  encodeRequest,
  fromUtf8,
  utf8,
  type OpPayload,
} from '../../../src/protocol/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import { createKvSubsystem } from '../../../src/server/kv/index.js';
import { payloadBytes } from '../../../src/server/reply.js';
import type { ReplyProfile, RequestContext } from '../../../src/server/types.js';

/** A reply with its payload as bytes (a payload writer's written out, as the connection would). */
export interface BytesReply {
  readonly status: number;
  readonly payload: Uint8Array;
}

export const b = (s: string): Uint8Array => utf8(s);
export const s = (u: Uint8Array): string => fromUtf8(u);

/** A request context exactly as the dispatcher would build it from a frame. */
export function requestContext(
  opcode: number,
  namespace: string,
  payload: OpPayload,
  signal: AbortSignal = new AbortController().signal,
  requestId = 1n,
): RequestContext {
  const frame = encodeRequest(requestId, opcode, namespace, payload);
  const [decoded] = new RequestFrameDecoder().push(frame);
  const body = decodeRequestBody(decoded.payload);
  const ns = fromUtf8(body.namespace);
  return {
    requestId,
    opcode: decoded.opcode,
    namespace: ns === '' ? 'default' : ns,
    body,
    options: new OptionsReader(body.options),
    signal,
    connectionId: 1,
  };
}

function toReply(err: unknown): BytesReply {
  if (err instanceof ServerError) return { status: err.status ?? 9, payload: utf8(err.serverMessage) };
  throw err;
}

export interface Harness {
  readonly clock: ManualClock;
  readonly kv: ReturnType<typeof createKvSubsystem>;
  /** Sends one request; the promise settles when the handler answers (parked ones later). */
  send(opcode: number, payload: OpPayload, namespace?: string, signal?: AbortSignal): Promise<BytesReply>;
}

export function harness(profile: ReplyProfile = 'go', startMs?: number): Harness {
  const clock = new ManualClock(startMs);
  const kv = createKvSubsystem({ clock, profile });
  let id = 1n;
  return {
    clock,
    kv,
    send(opcode, payload, namespace = 'test', signal) {
      const handler = kv.handlers.get(opcode);
      if (!handler) throw new Error(`no handler for 0x${opcode.toString(16)}`);
      try {
        const r = handler(requestContext(opcode, namespace, payload, signal, id++));
        return Promise.resolve(r).then(
          (x) => ({ status: x.status, payload: payloadBytes(x.payload) }),
          toReply,
        );
      } catch (err) {
        return Promise.resolve(toReply(err));
      }
    },
  };
}

/** The payload of an OK reply (fails the test otherwise). */
export function okPayload(r: { status: number; payload?: Uint8Array }): Uint8Array {
  if (r.status !== 0) throw new Error(`expected OK, got status ${r.status}: ${s(r.payload ?? EMPTY)}`);
  return r.payload ?? EMPTY;
}

export function statusOf(r: { status: number; payload?: Uint8Array }): { status: number; message: string } {
  return { status: r.status, message: s(r.payload ?? EMPTY) };
}
