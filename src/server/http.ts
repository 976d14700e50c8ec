/**
 * The HTTP side of the shared port: just enough HTTP/1.1 to read one request head, hand a WebSocket
 * upgrade to `ws`, and answer a plain GET with a small JSON status page. Parsing the head ourselves
 * (instead of passing the socket to `http.Server`) keeps the bytes read while sniffing in order.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

/** Largest request head accepted (request line and headers). */
export const MAX_HEAD_BYTES = 16 * 1024;

export interface HttpHead {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
}

export type HeadResult =
  | { readonly kind: 'more' }
  | { readonly kind: 'error'; readonly status: number; readonly message: string }
  | { readonly kind: 'head'; readonly head: HttpHead; /** Bytes after the head (e.g. early WebSocket frames). */ readonly rest: Buffer };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses a request head from the bytes received so far. */
export function parseHttpHead(buf: Buffer): HeadResult {
  const end = buf.indexOf(CRLFCRLF);
  if (end < 0) {
    return buf.length > MAX_HEAD_BYTES ? { kind: 'error', status: 431, message: 'Request Header Fields Too Large' } : { kind: 'more' };
  }
  if (end > MAX_HEAD_BYTES) return { kind: 'error', status: 431, message: 'Request Header Fields Too Large' };
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const requestLine = /^([A-Z]+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0]);
  if (!requestLine) return { kind: 'error', status: 400, message: 'Bad Request' };
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'error', status: 400, message: 'Bad Request' };
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) return { kind: 'error', status: 400, message: 'Bad Request' };
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return {
    kind: 'head',
    head: { method: requestLine[1], url: requestLine[2], httpVersion: requestLine[3], headers },
    rest: buf.subarray(end + CRLFCRLF.length),
  };
}

export function isWebSocketUpgrade(head: HttpHead): boolean {
  const upgrade = head.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase().split(',').some((p) => p.trim() === 'websocket');
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  431: 'Request Header Fields Too Large',
};

/** Writes a complete response and closes the connection after it. */
export function respond(socket: Socket, status: number, body: string, opts: { contentType?: string; headOnly?: boolean; extra?: Record<string, string> } = {}): void {
  const payload = Buffer.from(body, 'utf8');
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    `Content-Type: ${opts.contentType ?? 'text/plain; charset=utf-8'}`,
    `Content-Length: ${payload.length}`,
    'Cache-Control: no-store',
    'Connection: close',
    ...Object.entries(opts.extra ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  if (!opts.headOnly) socket.write(payload);
  socket.end();
  // Read (and drop) until the peer closes, so its EOF is seen; give up after a while.
  socket.resume();
  socket.setTimeout(2000, () => socket.destroy());
}

export interface StatusPage {
  readonly server: 'flo-rx embedded';
  readonly profile: string;
  /** Open binary and WebSocket connections. */
  readonly connections: number;
  readonly uptimeMs: number;
  /** `in-memory: data is lost on exit`, or the data directory and fsync mode. */
  readonly storage: string;
  /** Requests waiting for something to happen (long polls). */
  readonly parkedRequests?: number;
  /** Requests answered, by operation and status text (what `/metrics` counts). */
  readonly requests?: Record<string, Record<string, number>>;
  /** Sockets still choosing a protocol or in a handshake. */
  readonly handshaking?: number;
  /** Reply bytes held, queued or unsent, over all connections. */
  readonly bufferedOutBytes?: number;
  /** Request bytes received and not yet handled, over all connections. */
  readonly bufferedInBytes?: number;
  /** Blocking requests holding a parking slot (what the parking caps limit). */
  readonly parked?: number;
  /** The process's resident set size, in bytes. */
  readonly rssBytes?: number;
  /** JS heap plus buffers: what the memory limit applies to. */
  readonly memoryInUseBytes?: number;
  /** The limits in force. */
  readonly limits?: Readonly<Record<string, number | string | boolean | null>>;
  /** With a data directory: the persistence counters `/metrics` reports. */
  readonly persistence?: PersistenceCounts;
}

/** The persistence counters on the status page (the same figures as `/metrics`). */
export interface PersistenceCounts {
  readonly bytesWritten: number;
  readonly commits: number;
  readonly commitErrors: number;
  readonly fsyncs: number;
  readonly fsyncSeconds: number;
  readonly compactions: number;
  readonly compactionSeconds: number;
  readonly lastCommitError?: { readonly message: string; readonly at: number };
}

/** `GET /metrics`: Prometheus text. */
export interface MetricsEndpoint {
  text(): Promise<string>;
  readonly contentType: string;
}

/**
 * Answers a non-upgrade HTTP request: `GET /metrics` gets Prometheus text (when `metrics` is
 * given), other GET/HEAD the status page, anything else 405.
 */
export function answerPlainHttp(socket: Socket, head: HttpHead, status: () => StatusPage, metrics?: MetricsEndpoint): void {
  if (metrics && (head.method === 'GET' || head.method === 'HEAD') && head.url.split('?')[0] === '/metrics') {
    metrics.text().then(
      (text) => respond(socket, 200, text, { contentType: metrics.contentType, headOnly: head.method === 'HEAD' }),
      (err: unknown) => respond(socket, 500, `metrics failed: ${(err as Error)?.message ?? String(err)}\n`),
    );
    return;
  }
  if (head.method === 'GET' || head.method === 'HEAD') {
    respond(socket, 200, JSON.stringify(status()) + '\n', { contentType: 'application/json', headOnly: head.method === 'HEAD' });
  } else {
    respond(socket, 405, 'Method Not Allowed\n', { extra: { Allow: 'GET, HEAD' } });
  }
}
