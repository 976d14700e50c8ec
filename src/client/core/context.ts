import type { Observable, SchedulerLike } from 'rxjs';
import type { FloEvent } from '../../observability/events.js';
import type { ClientTelemetry } from '../../observability/telemetry.js';
import type { ValueCodec } from '../../codec/index.js';
import type { RequestChannel, RequestSpec } from '../../connection/types.js';
import type { OpPayload } from '../../protocol/index.js';
import { call, lazyCall, type CallOptions, type CallRetry } from './call.js';
import { checkRequestSizes } from './limits.js';
import type { SettleCoalescer } from './coalescer.js';
import type { RetryOptions } from './retry.js';
import type { DrainControl, DrainRequest } from './drain.js';
import type { LeaseContext } from './lease.js';

/** Default of the `slowHandlerMs` option: handlers running longer are reported. */
export const DEFAULT_SLOW_HANDLER_MS = 10_000;

/** The per-call option every options object accepts. */
export interface NamespaceOption {
  /** Overrides the client's namespace for this call. */
  readonly namespace?: string;
}

/** Per-call request options shared by every subsystem call. */
export interface RequestOptions extends NamespaceOption {
  /** Overrides the client's timeout for this call, in ms. */
  readonly timeoutMs?: number;
}

/** A sibling client opened by `ClientCore.fork`: its own connection, closed by its user. */
export interface ForkedClient {
  readonly core: ClientCore;
  close(): Promise<void>;
}

/**
 * What a subsystem API (`kv`, `queue`, `stream`, `actions`, `workflow`) is built from: the client's
 * channel, codec, namespace resolution and settle coalescer. Internal: not part of the public API.
 */
export interface ClientCore {
  readonly channel: RequestChannel;
  readonly codec: ValueCodec;
  /** The client's default namespace. */
  readonly namespace: string;
  /** The client's default request timeout (undefined: the connection's). */
  readonly timeoutMs: number | undefined;
  /**
   * Coalesces the settles (ack/nack/touch) of one tick; flushed by `close()`. Built on first use:
   * read it through `settlesOf(core)` (`settles.ts`); undefined until then.
   */
  settles: SettleCoalescer | undefined;
  /** Scheduler of the settle coalescer's end-of-tick flush (tests); undefined: `asapScheduler`. */
  readonly scheduler: SchedulerLike | undefined;
  /**
   * Opens a sibling client: the same endpoints and options on a connection of its own (lazy, as
   * the client's). Present on clients built by `connect()` / `connectWith()` only; throws
   * `ClientClosedError` once the client is closing. The caller closes the sibling.
   */
  readonly fork?: () => ForkedClient;
  /** Reports a client event (`flo.events$`, the logger). */
  readonly emit: (event: FloEvent) => void;
  /**
   * The client-wide drain (`flo.drain()`), built on first use by the code that leases
   * (`drainOf(core)`, `drain-of.ts`); undefined until then.
   */
  drain: DrainControl | undefined;
  /** A `flo.drain()` made before `drain` was built: `drainOf` starts the drain it builds with it. */
  drainRequested: DrainRequest | undefined;
  /** The tracing integration's hooks (`telemetry` option), if any. */
  readonly telemetry: ClientTelemetry | undefined;
  /** Handlers running longer than this are reported (`slow-handler`); `Infinity`: never. */
  readonly slowHandlerMs: number;
  /** The context given to the leases of one source (`queue:jobs`, ...): one object per source. */
  leaseContext(source: string): LeaseContext;
  /** The namespace of a call: `opts.namespace` if given, else the client's. */
  ns(opts?: NamespaceOption): string;
  /** A `RequestSpec` for `opcode` with the resolved namespace and timeout. */
  spec(
    opcode: number,
    body: OpPayload,
    opts?: RequestOptions & { blockMs?: number; onLateReply?: RequestSpec['onLateReply']; idempotent?: boolean },
  ): RequestSpec;
  /** `call(channel, spec, decode, options)` on this client's channel. */
  call<T>(spec: RequestSpec, decode: (payload: Uint8Array) => T, options: CallOptions & { notFound: 'null' }): Observable<T | null>;
  call<T>(spec: RequestSpec, decode: (payload: Uint8Array) => T, options?: CallOptions): Observable<T>;
  /**
   * `call` with the spec built on subscribe by `build` (argument errors it throws become the
   * Observable's error): the per-call path of the hot single-shot calls, with no `defer` around it.
   */
  lazyCall<T>(build: () => RequestSpec, decode: (payload: Uint8Array) => T, notFoundNull: true): Observable<T | null>;
  lazyCall<T>(build: () => RequestSpec, decode: (payload: Uint8Array) => T, notFoundNull?: false): Observable<T>;
}

export function createClientCore(init: {
  channel: RequestChannel;
  codec: ValueCodec;
  namespace: string;
  timeoutMs: number | undefined;
  /** A coalescer of the caller's (tests); default: built on first use (`settlesOf`). */
  settles?: SettleCoalescer;
  fork?: () => ForkedClient;
  emit?: (event: FloEvent) => void;
  /** Retry policy of `call` (undefined: no retries). */
  retry?: Required<RetryOptions>;
  scheduler?: SchedulerLike;
  telemetry?: ClientTelemetry;
  slowHandlerMs?: number;
}): ClientCore {
  const { channel, namespace, timeoutMs, retry, scheduler } = init;
  const emit = init.emit ?? (() => undefined);
  const slowHandlerMs = init.slowHandlerMs ?? DEFAULT_SLOW_HANDLER_MS;
  const leaseContexts = new Map<string, LeaseContext>();
  const ns = (opts?: NamespaceOption): string => opts?.namespace ?? namespace;
  const callRetry: CallRetry | undefined =
    retry === undefined || retry.retries === 0 ? undefined : { policy: retry, emit, ...(scheduler ? { scheduler } : {}) };
  return {
    ...init,
    settles: init.settles,
    scheduler,
    emit,
    drain: undefined,
    drainRequested: undefined,
    telemetry: init.telemetry,
    slowHandlerMs,
    leaseContext(source: string): LeaseContext {
      let context = leaseContexts.get(source);
      if (context === undefined) {
        context = { emit, slowHandlerMs, source };
        leaseContexts.set(source, context);
      }
      return context;
    },
    ns,
    spec(opcode, body, opts) {
      // Assigned rather than spread, and no default object: this runs once per request.
      const spec: { -readonly [K in keyof RequestSpec]: RequestSpec[K] } = { opcode, namespace: opts?.namespace ?? namespace, body };
      checkRequestSizes(spec.namespace, body);
      if (opts === undefined) {
        if (timeoutMs !== undefined) spec.timeoutMs = timeoutMs;
        return spec;
      }
      const timeout = opts.timeoutMs ?? timeoutMs;
      if (timeout !== undefined) spec.timeoutMs = timeout;
      if (opts.blockMs !== undefined) spec.blockMs = opts.blockMs;
      if (opts.onLateReply) spec.onLateReply = opts.onLateReply;
      if (opts.idempotent) spec.idempotent = true;
      return spec;
    },
    call<T>(spec: RequestSpec, decode: (payload: Uint8Array) => T, options?: CallOptions): Observable<T | null> {
      return call(channel, spec, decode, options, callRetry);
    },
    lazyCall<T>(build: () => RequestSpec, decode: (payload: Uint8Array) => T, notFoundNull = false): Observable<T | null> {
      return lazyCall(channel, build, decode, notFoundNull, callRetry);
    },
  } as ClientCore;
}
