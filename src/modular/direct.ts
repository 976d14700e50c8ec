/**
 * `openFloDirect()`: a `FloContext` over a `DirectChannel` (`connection/direct-channel.ts`), one
 * socket that sends requests and routes replies, without the reconnect loop, the outbox and the
 * tracing hooks of `Connection`. The modular functions (`kvGet`, `kvPut`, ...) take it as they take
 * `openFlo()`'s context, with the same checks, results and typed errors; what differs is what
 * happens when the socket drops (see `openFloDirect`). For the smallest browser bundles.
 */
import { jsonCodec } from '../codec/index.js';
import { DirectChannel } from '../connection/direct-channel.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import type { FloContext, FloContextOptions } from './context.js';
import { contextNamespace, contextTransport } from './context-setup.js';

/** Options of `openFloDirect()`: those of `openFlo()` without reconnecting. */
export type FloDirectOptions = Omit<FloContextOptions, 'reconnect' | 'connectTimeoutMs'>;

/**
 * Opens a context on one lazy socket to one server: WebSocket (`ws://host:port`, `wss://...`, or
 * `host:port` meaning `ws://host:port`) unless `options.transport` says otherwise. Nothing is sent
 * before the first call is subscribed (or `connect()`, or `eager: true`). Bad options or a bad
 * address throw `InvalidArgumentError` at once.
 *
 * Unlike `openFlo()`, a socket that cannot open fails the call with `ConnectionError` at once (no
 * retries, no waiting), and a socket that drops fails the calls in flight with
 * `ConnectionLostError`; the next call opens a new socket. Add RxJS `retry` where a call should
 * ride out a drop.
 *
 * ```ts
 * import { openFloDirect, kvGet } from 'flo-rx/modular';
 * const flo = openFloDirect('wss://flo.example.com', { namespace: 'app' });
 * kvGet(flo, 'greeting').subscribe((entry) => console.log(entry?.text()));
 * ```
 */
export function openFloDirect(address: string, options: FloDirectOptions = {}): FloContext {
  const endpoint = typeof address === 'string' ? address.trim() : '';
  if (!endpoint) throw new InvalidArgumentError('openFloDirect: an address is required');
  const namespace = contextNamespace(options);
  const transport = contextTransport([endpoint], options);
  const channel = new DirectChannel({
    endpoint,
    transport,
    timeoutMs: options.timeoutMs,
    maxPayload: options.maxPayload,
  });
  if (options.eager) channel.connect().catch(() => undefined);
  return {
    namespace,
    codec: options.codec ?? jsonCodec,
    timeoutMs: options.timeoutMs,
    state$: channel.state$,
    info$: channel.info$,
    connect: () => channel.connect(),
    close: () => channel.close(),
    channel,
  };
}
