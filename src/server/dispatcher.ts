/**
 * Routes a decoded request to the handler registered for its opcode and turns whatever happens into
 * a `Reply`: the handler's own reply, its `ServerError` (status and message), a `ProtocolError` from a
 * payload codec (BAD_REQUEST), or anything else (INTERNAL_ERROR, logged). It never throws and the
 * promise it may return never rejects, so one bad handler cannot take a connection down.
 *
 * Every request is counted for `/metrics` (`ServerMetrics`) and, when someone subscribes,
 * published on the `flo-rx:server:request` TracingChannel: `start` → [`error`] → `end` for an
 * answer ready at once; `start` → `end` → [`error`] → `asyncStart` → `asyncEnd` for a parked one.
 */
import { tracingChannel } from 'node:diagnostics_channel';
// Imported rather than the global: `globalThis.performance` is a lazy getter in Node, run on every read.
import { performance } from 'node:perf_hooks';
import {
  bytesEqual,
  EMPTY as EMPTY_BYTES,
  FloError,
  OptionsReader,
  fromUtf8,
  opcodeName,
  Op,
  ProtocolError,
  ServerError,
  Status,
  statusText,
  utf8,
  type RequestBody,
} from '../protocol/index.js';
import { normaliseNamespace } from './namespace.js';
import { ok, OkWriter } from './reply.js';
import type { Handler, PayloadWriter, Reply, ReplyPayload, RequestContext, Subsystem } from './types.js';

/** Name of the server's TracingChannel: one event set per request handled. */
export const SERVER_REQUEST_CHANNEL = 'flo-rx:server:request';

/** The context published on `flo-rx:server:request` (one object through every event of a request). */
export interface ServerRequestTraceContext {
  readonly operation: string;
  readonly opcode: number;
  readonly namespace: string;
  readonly requestId: bigint;
  readonly connectionId: number;
  /** The key, queue or stream name (UTF-8 text), when the request has one. */
  readonly key: string | undefined;
  /** Set once answered. */
  status?: number;
  /** Set for a non-OK answer: its status text and message. */
  error?: Error;
}

const serverTrace = tracingChannel<unknown, ServerRequestTraceContext & object>(SERVER_REQUEST_CHANNEL);

/** What the dispatcher reports per request (the server's metrics). */
export interface DispatchObserver {
  record(opcode: number, status: number, seconds: number): void;
  parked(delta: 1 | -1): void;
}

/** What the dispatcher needs to know about one decoded request. */
export interface DispatchInput {
  readonly requestId: bigint;
  readonly opcode: number;
  readonly body: RequestBody;
  readonly signal: AbortSignal;
  readonly connectionId: number;
}

/** A reply ready to encode: status and payload (its bytes, or a writer of them). */
export interface Answer {
  readonly status: number;
  readonly payload: ReplyPayload;
}

const EMPTY = new Uint8Array(0);

/** The options of a request without any (most of them): one shared, never-changed reader. */
const NO_OPTIONS = new OptionsReader(EMPTY_BYTES);

/** What a handler gets for one request; the 64-bit id is read from the request only if asked for. */
class HandlerContext implements RequestContext {
  readonly opcode: number;
  readonly body: RequestBody;
  readonly signal: AbortSignal;
  readonly connectionId: number;

  constructor(
    private readonly input: DispatchInput,
    readonly namespace: string,
    readonly options: OptionsReader,
  ) {
    this.opcode = input.opcode;
    this.body = input.body;
    this.signal = input.signal;
    this.connectionId = input.connectionId;
  }

  get requestId(): bigint {
    return this.input.requestId;
  }
}

/** The namespace a trace shows: as handlers see it, or as sent when it is invalid (the request is then refused). */
function traceNamespace(bytes: Uint8Array): string {
  try {
    return normaliseNamespace(bytes);
  } catch {
    return fromUtf8(bytes);
  }
}

export function formatOpcode(opcode: number): string {
  return `0x${opcode.toString(16).padStart(3, '0')}`;
}

/** Merges the subsystems' handler maps; two subsystems claiming one opcode is a programming error. */
export function collectHandlers(subsystems: readonly Subsystem[]): Map<number, Handler> {
  const handlers = new Map<number, Handler>();
  for (const s of subsystems) {
    for (const [opcode, handler] of s.handlers) {
      if (handlers.has(opcode)) throw new Error(`opcode ${formatOpcode(opcode)} is registered by two subsystems`);
      handlers.set(opcode, handler);
    }
  }
  // Ping answers OK with an empty payload unless a subsystem wants it.
  if (!handlers.has(Op.Ping)) handlers.set(Op.Ping, () => ok());
  return handlers;
}

/** Opcodes below this are looked up in an array (Flo's are all below 0x800), others in the map. */
const DIRECT_OPCODES = 0x1000;

export class Dispatcher {
  /** The handlers of opcodes below `DIRECT_OPCODES`, indexed by opcode: no map lookup per request. */
  private readonly direct: Array<Handler | undefined> = [];
  /** The namespace of the last request, as sent and as handlers see it: decoded and checked once while it repeats. */
  private lastNamespaceBytes: Uint8Array | undefined;
  private lastNamespace = '';

  constructor(
    private readonly handlers: ReadonlyMap<number, Handler>,
    private readonly log: (line: string) => void = () => {},
    private readonly observer?: DispatchObserver,
  ) {
    let top = 0;
    for (const opcode of handlers.keys()) if (opcode < DIRECT_OPCODES) top = Math.max(top, opcode + 1);
    // Filled, not holey: every index up to the highest opcode holds a handler or undefined.
    for (let op = 0; op < top; op++) this.direct.push(handlers.get(op));
  }

  /** Counts a request the connection refused before dispatch (auth, memory limit), as `/metrics` counts every answer. */
  refused(opcode: number, status: number): void {
    this.observer?.record(opcode, status, 0);
  }

  /**
   * When the last answer that was ready at once was counted (`performance.now()`, with metrics
   * only): a caller dispatching its next request straight after passes it as that one's start.
   */
  lastAnsweredAt = 0;

  /**
   * Runs the handler. Returns the answer, or a promise of it (never rejected) for parked requests.
   * `startedAt` (`performance.now()`), when given, is when the request's time started for the
   * metrics: a connection handling a batch of frames passes the previous answer's `lastAnsweredAt`,
   * so a request costs one clock read rather than two.
   */
  dispatch(input: DispatchInput, startedAt?: number): Answer | Promise<Answer> {
    const observer = this.observer;
    if (!serverTrace.hasSubscribers) {
      // The common case, kept free of closures: metrics only.
      if (observer === undefined) return this.run(input);
      const t0 = startedAt ?? performance.now();
      const answer = this.run(input);
      if (!(answer instanceof Promise)) {
        const t1 = performance.now();
        this.lastAnsweredAt = t1;
        observer.record(input.opcode, answer.status, (t1 - t0) / 1000);
        return answer;
      }
      observer.parked(1);
      return answer.then((a) => {
        observer.parked(-1);
        observer.record(input.opcode, a.status, (performance.now() - t0) / 1000);
        return a;
      });
    }
    return this.dispatchTraced(input, observer, startedAt);
  }

  /** `dispatch` while someone listens on the TracingChannel. */
  private dispatchTraced(input: DispatchInput, observer: DispatchObserver | undefined, startedAt: number | undefined): Answer | Promise<Answer> {
    const t0 = startedAt ?? performance.now();
    const key = input.body.key;
    const ctx: ServerRequestTraceContext | undefined = {
      operation: opcodeName(input.opcode),
      opcode: input.opcode,
      namespace: traceNamespace(input.body.namespace),
      requestId: input.requestId,
      connectionId: input.connectionId,
      key: key && key.length > 0 ? fromUtf8(key) : undefined,
    };
    serverTrace.start.publish(ctx);
    const done = (answer: Answer): void => {
      const t1 = performance.now();
      this.lastAnsweredAt = t1;
      observer?.record(input.opcode, answer.status, (t1 - t0) / 1000);
      if (ctx !== undefined) {
        ctx.status = answer.status;
        if (answer.status !== Status.OK) {
          const text = answer.payload instanceof Uint8Array && answer.payload.length > 0 ? `: ${fromUtf8(answer.payload)}` : '';
          ctx.error = new Error(`${statusText(answer.status)}${text}`);
          serverTrace.error.publish(ctx);
        }
      }
    };
    const answer = this.run(input);
    if (!(answer instanceof Promise)) {
      done(answer);
      if (ctx !== undefined) serverTrace.end.publish(ctx);
      return answer;
    }
    if (ctx !== undefined) serverTrace.end.publish(ctx);
    observer?.parked(1);
    return answer.then((a) => {
      observer?.parked(-1);
      done(a);
      if (ctx !== undefined) {
        serverTrace.asyncStart.publish(ctx);
        serverTrace.asyncEnd.publish(ctx);
      }
      return a;
    });
  }

  private run(input: DispatchInput): Answer | Promise<Answer> {
    const opcode = input.opcode;
    const handler = opcode < this.direct.length ? this.direct[opcode] : this.handlers.get(opcode);
    if (!handler) {
      return { status: Status.BadRequest, payload: utf8(`unknown opcode ${formatOpcode(input.opcode)}`) };
    }
    let result: Reply | Promise<Reply>;
    try {
      const body = input.body;
      const options = body.options.length === 0 ? NO_OPTIONS : new OptionsReader(body.options);
      result = handler(new HandlerContext(input, this.namespaceOf(body.namespace), options));
    } catch (err) {
      return this.fromError(err, input);
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (reply) => this.fromReply(reply, input),
        (err: unknown) => this.fromError(err, input),
      );
    }
    return this.fromReply(result, input);
  }

  /** `normaliseNamespace`, skipped while requests keep sending the same namespace bytes. */
  private namespaceOf(bytes: Uint8Array): string {
    const last = this.lastNamespaceBytes;
    if (last !== undefined && bytesEqual(last, bytes)) return this.lastNamespace;
    const name = normaliseNamespace(bytes); // throws for an invalid one, which is never remembered
    this.lastNamespaceBytes = new Uint8Array(bytes); // a copy: the request's bytes are a view into the read buffer
    this.lastNamespace = name;
    return name;
  }

  private fromReply(reply: Reply, input: DispatchInput): Answer {
    // Our own reply writers (the hot replies) are valid by construction: status OK, payload themselves.
    if (reply instanceof OkWriter) return reply;
    if (
      reply === null ||
      typeof reply !== 'object' ||
      !Number.isInteger(reply.status) ||
      reply.status < 0 ||
      reply.status > 0xff ||
      (reply.payload !== undefined && !(reply.payload instanceof Uint8Array) && !isPayloadWriter(reply.payload))
    ) {
      return this.fromError(new TypeError('handler returned an invalid reply'), input);
    }
    // A reply with its payload already is an answer: no second object per request.
    return reply.payload !== undefined ? (reply as Answer) : { status: reply.status, payload: EMPTY };
  }

  private fromError(err: unknown, input: DispatchInput): Answer {
    if (err instanceof ServerError && err.status !== undefined && err.status > 0 && err.status <= 0xff) {
      return { status: err.status, payload: utf8(err.serverMessage) };
    }
    // Payload codecs throw ProtocolError on malformed bytes: that is the client's fault.
    if (err instanceof ProtocolError) return { status: Status.BadRequest, payload: utf8(err.message) };
    const message = err instanceof Error ? err.message : String(err);
    const detail = err instanceof Error && !(err instanceof FloError) ? (err.stack ?? message) : message;
    this.log(`conn #${input.connectionId} opcode ${formatOpcode(input.opcode)} request ${input.requestId}: internal error: ${detail}`);
    return { status: Status.InternalError, payload: utf8(message) };
  }
}

function isPayloadWriter(value: unknown): value is PayloadWriter {
  const w = value as PayloadWriter | null;
  return typeof w === 'object' && w !== null && Number.isInteger(w.byteLength) && w.byteLength >= 0 && typeof w.writeAt === 'function';
}

function isPromiseLike(value: unknown): value is PromiseLike<Reply> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
