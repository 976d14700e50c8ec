/**
 * Protocol detection on the shared port, as Flo does it: the first four bytes of a connection pick
 * the protocol. `FLO\0` is the binary protocol; an HTTP method prefix is HTTP (a WebSocket upgrade
 * or the status page); anything else with four bytes or more is treated as binary and then fails
 * magic validation. (Flo also detects RESP by a leading `*`; the embedded server has no RESP side,
 * so such a connection fails magic validation too.)
 */
export type SniffedProtocol = 'binary' | 'http';

export const SNIFF_BYTES = 4;

const HTTP_PREFIXES = ['GET ', 'POST', 'PUT ', 'DELE', 'OPTI', 'HEAD', 'PATC'];

/** `undefined` while fewer than four bytes have arrived. */
export function sniffProtocol(first: Uint8Array): SniffedProtocol | undefined {
  if (first.length < SNIFF_BYTES) return undefined;
  if (first[0] === 0x46 && first[1] === 0x4c && first[2] === 0x4f && first[3] === 0x00) return 'binary';
  const prefix = String.fromCharCode(first[0], first[1], first[2], first[3]);
  return HTTP_PREFIXES.includes(prefix) ? 'http' : 'binary';
}
