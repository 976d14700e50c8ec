/**
 * What `openFlo()` and `openFloDirect()` both do with their options before they build their
 * channel: the calls' default namespace, and the transport (WebSocket unless one is given). Kept
 * apart from `context.ts` so that `openFloDirect()`'s bundle does not reach the `Connection`.
 */
import type { TransportFactory } from '../connection/types.js';
import { webSocketTransport, webSocketUrl } from '../connection/websocket.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import { checkEndpoints } from '../client/endpoints.js';
import type { FloContextOptions } from './context.js';

/** The calls' default namespace: `options.namespace`, else `'default'`; a non-empty string. */
export function contextNamespace(options: Pick<FloContextOptions, 'namespace'>): string {
  const namespace = options.namespace ?? 'default';
  if (typeof namespace !== 'string' || namespace.length === 0) throw new InvalidArgumentError('namespace must be a non-empty string');
  return namespace;
}

/** `options.transport`, else a WebSocket transport once every endpoint is checked as a WebSocket URL. */
export function contextTransport(endpoints: readonly string[], options: Pick<FloContextOptions, 'transport' | 'WebSocket' | 'authToken'>): TransportFactory {
  if (options.transport) return options.transport;
  checkEndpoints(endpoints, (e) => webSocketUrl(e));
  return webSocketTransport({
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    ...(options.authToken !== undefined ? { authToken: options.authToken } : {}),
  });
}
