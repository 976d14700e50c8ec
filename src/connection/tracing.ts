/**
 * The connection's tracing hooks: `node:diagnostics_channel` TracingChannels named
 * `flo-rx:request` and `flo-rx:connect`, found at run time through `process.getBuiltinModule`
 * so this file stays universal (browsers, and Node before 20.16, get no hooks unless
 * `flo-rx/node` hands the module in). Publishing is skipped unless `hasSubscribers` is true, so
 * the hooks cost one property read per request when nobody listens.
 *
 * Event order per request (Node's TracingChannel convention for callbacks):
 * `start` (subscribe, before encoding) → `end` (frame queued) → [`error`] → `asyncStart` (reply
 * routed, before the subscriber sees it) → `asyncEnd` (after).
 */

/** One of a TracingChannel's five channels (Node's `Channel` fits). */
export interface TraceEventChannel {
  /** Hands `message` to the channel's subscribers. */
  publish(message: unknown): void;
}

/** The part of Node's `TracingChannel` the client uses. */
export interface TraceChannel {
  readonly hasSubscribers: boolean;
  readonly start: TraceEventChannel;
  readonly end: TraceEventChannel;
  readonly asyncStart: TraceEventChannel;
  readonly asyncEnd: TraceEventChannel;
  readonly error: TraceEventChannel;
}

/** What `node:diagnostics_channel` offers that we use. */
export interface DiagnosticsChannelModule {
  /** The TracingChannel called `name`. */
  tracingChannel(name: string): TraceChannel;
}

/** Name of the TracingChannel of every client request. */
export const REQUEST_CHANNEL = 'flo-rx:request';
/** Name of the TracingChannel of every connection attempt. */
export const CONNECT_CHANNEL = 'flo-rx:connect';

/**
 * The context object published on `flo-rx:request`. The same object goes through every event of
 * one request; fields are filled in as they become known.
 */
export interface RequestTraceContext {
  /** Operation name, e.g. `kv_put`, `queue_dequeue`. */
  readonly operation: string;
  /** Wire opcode. */
  readonly opcode: number;
  readonly namespace: string;
  /** The key, queue or stream name the request addresses (UTF-8 text), when it has one. */
  readonly key: string | undefined;
  /** The request id on the wire. */
  readonly requestId: number;
  /** Frame bytes sent (header included). */
  readonly bytesOut: number;
  /** Endpoint of the connection the request went out on (set when sent). */
  endpoint?: string;
  /** Reply payload bytes (set on reply). */
  bytesIn?: number;
  /** Reply status (set on reply; 0 is OK). */
  status?: number;
  /** Why it failed: a non-OK reply's typed error, a timeout, a lost connection. */
  error?: Error;
  /** True when the subscriber unsubscribed before the reply. */
  cancelled?: boolean;
}

/** The context object published on `flo-rx:connect`, one per connection attempt. */
export interface ConnectTraceContext {
  readonly endpoint: string;
  /** 1 for the first attempt of a (re)connect, then 2, 3... */
  readonly attempt: number;
  /** Set when the attempt failed. */
  error?: Error;
}

/** The two client channels, or undefined where diagnostics_channel does not exist. */
export interface ClientTracing {
  readonly request: TraceChannel;
  readonly connect: TraceChannel;
}

let cached: ClientTracing | null | undefined;

/** Builds the client channels from a `node:diagnostics_channel` module. */
export function tracingFrom(dc: DiagnosticsChannelModule): ClientTracing {
  return { request: dc.tracingChannel(REQUEST_CHANNEL), connect: dc.tracingChannel(CONNECT_CHANNEL) };
}

/** The client channels of this runtime (Node ≥ 20.16, Deno, Bun), or undefined (browsers). */
export function defaultTracing(): ClientTracing | undefined {
  if (cached === undefined) {
    cached = null;
    try {
      const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
      const dc = proc?.getBuiltinModule?.('node:diagnostics_channel') as DiagnosticsChannelModule | undefined;
      if (dc && typeof dc.tracingChannel === 'function') cached = tracingFrom(dc);
    } catch {
      // no diagnostics_channel here: the hooks are a no-op
    }
  }
  return cached ?? undefined;
}
