// Drives subsystem handlers with RequestContexts built from real frames (no sockets).
import {
  decodeRequestBody,
  encodeRequest,
  fromUtf8,
  HEADER_SIZE,
  type OpPayload,
  OptionsReader,
  ServerError,
  Status,
  utf8,
} from '../../../src/protocol/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import { payloadBytes } from '../../../src/server/reply.js';
import { createActionSubsystem } from '../../../src/server/actions/index.js';
import type { ReplyProfile, RequestContext } from '../../../src/server/types.js';
import type { Persistence } from '../../../src/server/storage/types.js';

export interface TestReply {
  readonly status: number;
  readonly payload: Uint8Array;
  /** The payload as text (error messages). */
  readonly text: string;
}

let nextId = 1n;

/** (opcode, namespace, OpPayload) → RequestContext, through encodeRequest + decodeRequestBody. */
export function makeCtx(opcode: number, namespace: string, payload: OpPayload, signal: AbortSignal = new AbortController().signal): RequestContext {
  const requestId = nextId++;
  const frame = encodeRequest(requestId, opcode, namespace, payload);
  const body = decodeRequestBody(frame.subarray(HEADER_SIZE));
  return {
    requestId,
    opcode,
    namespace: namespace === '' ? 'default' : namespace,
    body,
    options: new OptionsReader(body.options),
    signal,
    connectionId: 1,
  };
}

export function createHarness(profile: ReplyProfile = 'go', opts: { clock?: ManualClock; persistence?: Persistence } = {}) {
  const clock = opts.clock ?? new ManualClock();
  const sub = createActionSubsystem(opts.persistence ? { clock, profile, persistence: opts.persistence } : { clock, profile });
  async function call(opcode: number, namespace: string, payload: OpPayload, signal?: AbortSignal): Promise<TestReply> {
    const handler = sub.handlers.get(opcode);
    if (!handler) throw new Error(`no handler for 0x${opcode.toString(16)}`);
    try {
      const r = await handler(makeCtx(opcode, namespace, payload, signal));
      const p = payloadBytes(r.payload);
      return { status: r.status, payload: p, text: fromUtf8(p) };
    } catch (e) {
      if (e instanceof ServerError) return { status: e.status ?? Status.InternalError, payload: utf8(e.serverMessage), text: e.serverMessage };
      throw e;
    }
  }
  /** Calls and requires OK; returns the payload. */
  async function okCall(opcode: number, namespace: string, payload: OpPayload): Promise<Uint8Array> {
    const r = await call(opcode, namespace, payload);
    if (r.status !== Status.OK) throw new Error(`0x${opcode.toString(16)} answered ${r.status}: ${r.text}`);
    return r.payload;
  }
  return { clock, sub, store: sub.store, call, okCall };
}

export type Harness = ReturnType<typeof createHarness>;

/** Lets pending promise continuations run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
