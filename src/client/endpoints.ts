/**
 * Addresses as `connect()` and `openFlo()` take them: split into endpoints and checked with the
 * transport's parser. Apart from `connect.ts` so that the modular entry reads them without
 * reaching `FloClient` and the modules its APIs load on demand.
 */
import { InvalidArgumentError } from '../protocol/errors.js';

/** Where to connect: `'host:port'`, a `ws://` / `wss://` URL, a comma-separated list or an array (tried in turn). */
export type Address = string | readonly string[];

export function endpointsOf(address: Address): string[] {
  const list = (typeof address === 'string' ? address.split(',') : [...address]).map((a) => a.trim()).filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError('connect: at least one address is required');
  return list;
}

export const isWebSocketAddress = (endpoint: string): boolean => /^(wss?|https?):\/\//i.test(endpoint);

/**
 * Checks every endpoint with the parser of the transport that will dial it, so a bad address
 * (`'host:notaport'`) is an `InvalidArgumentError` from `connect()`, not a failed connection later.
 */
export function checkEndpoints(endpoints: readonly string[], parse: (endpoint: string) => unknown): void {
  for (const endpoint of endpoints) {
    try {
      parse(endpoint);
    } catch (err) {
      throw new InvalidArgumentError(`connect: invalid address '${endpoint}': ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }
}
