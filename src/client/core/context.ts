import type { Observable } from 'rxjs';
import type { ValueCodec } from '../../codec/index.js';
import type { RequestChannel, RequestSpec } from '../../connection/types.js';
import type { OpPayload } from '../../protocol/index.js';
import { call, type CallOptions } from './call.js';
import type { SettleCoalescer } from './coalescer.js';

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
  /** Coalesces the settles (ack/nack/touch) of one tick; flushed by `close()`. */
  readonly settles: SettleCoalescer;
  /**
   * Opens a sibling client: the same endpoints and options on a connection of its own (lazy, as
   * the client's). Present on clients built by `connect()` / `connectWith()` only; throws
   * `ClientClosedError` once the client is closing. The caller closes the sibling.
   */
  readonly fork?: () => ForkedClient;
  /** The namespace of a call: `opts.namespace` if given, else the client's. */
  ns(opts?: NamespaceOption): string;
  /** A `RequestSpec` for `opcode` with the resolved namespace and timeout. */
  spec(
    opcode: number,
    body: OpPayload,
    opts?: RequestOptions & { blockMs?: number; onLateReply?: RequestSpec['onLateReply'] },
  ): RequestSpec;
  /** `call(channel, spec, decode, options)` on this client's channel. */
  call<T>(spec: RequestSpec, decode: (payload: Uint8Array) => T, options: CallOptions & { notFound: 'null' }): Observable<T | null>;
  call<T>(spec: RequestSpec, decode: (payload: Uint8Array) => T, options?: CallOptions): Observable<T>;
}

export function createClientCore(init: {
  channel: RequestChannel;
  codec: ValueCodec;
  namespace: string;
  timeoutMs: number | undefined;
  settles: SettleCoalescer;
  fork?: () => ForkedClient;
}): ClientCore {
  const { channel, namespace, timeoutMs } = init;
  const ns = (opts?: NamespaceOption): string => opts?.namespace ?? namespace;
  return {
    ...init,
    ns,
    spec(opcode, body, opts = {}) {
      // Assigned rather than spread: this runs once per request.
      const spec: { -readonly [K in keyof RequestSpec]: RequestSpec[K] } = { opcode, namespace: opts.namespace ?? namespace, body };
      const timeout = opts.timeoutMs ?? timeoutMs;
      if (timeout !== undefined) spec.timeoutMs = timeout;
      if (opts.blockMs !== undefined) spec.blockMs = opts.blockMs;
      if (opts.onLateReply) spec.onLateReply = opts.onLateReply;
      return spec;
    },
    call<T>(spec: RequestSpec, decode: (payload: Uint8Array) => T, options?: CallOptions): Observable<T | null> {
      return call(channel, spec, decode, options);
    },
  } as ClientCore;
}
