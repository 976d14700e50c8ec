/**
 * The embedded Flo-compatible server: one TCP port, protocol sniffed from the first bytes (binary
 * frames, WebSocket, or a plain HTTP status page), one `ServerConnection` per client, and the
 * subsystems' handlers behind one `Dispatcher`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { MAX_FRAME_PAYLOAD } from '../protocol/index.js';
import { systemClock, type Clock } from './clock.js';
import { ServerConnection } from './connection.js';
import { collectHandlers, Dispatcher } from './dispatcher.js';
import { ServerMetrics, type QueueFigures, type StreamFigures } from './metrics.js';
import { answerPlainHttp, isWebSocketUpgrade, parseHttpHead, respond, type StatusPage } from './http.js';
import { sniffProtocol } from './sniff.js';
import { DiskStorage } from './storage/disk-storage.js';
import type { FsyncMode } from './storage/types.js';
import { formatAddress, TcpTransport } from './transport.js';
import type { ReplyProfile, ServerEnv, Subsystem } from './types.js';
import { createWebSocketServer, upgradeToWebSocket, type WsTransport } from './websocket.js';

/** Options of `startServer`. */
export interface StartServerOptions {
  /** TCP port; 0 picks a free one. Default 9000. */
  readonly port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Source of time for TTLs, leases and timeouts. Default: the system clock. */
  readonly clock?: Clock;
  /** Reply layouts: the Go SDK's (`go`, default) or the newest Flo server's (`flo`). */
  readonly profile?: ReplyProfile;
  /** Receives one line per connection opened or closed, rejected frame and internal error. */
  readonly logger?: (line: string) => void;
  /** Builds the subsystems. Default: every subsystem of the embedded server. */
  readonly subsystems?: (env: ServerEnv) => Subsystem[];
  /** Largest request payload accepted; a larger frame is rejected. Default 100 MiB (Flo's limit). */
  readonly maxFramePayload?: number;
  /**
   * Keep the data in this directory (which must exist): every write is answered only after its
   * change is in the log there, and a restart finds everything again. Default: in memory only.
   */
  readonly dataDir?: string;
  /** With `dataDir`: `always` (default) fsyncs each turn's changes before replying; `everysec` once a second. */
  readonly fsync?: FsyncMode;
  /** With `dataDir`: compact the log into a snapshot once it holds this many bytes. Default 64 MiB. */
  readonly compactAfterBytes?: number;
}

/** What the banner and status page say of a server without a data directory. */
export const IN_MEMORY_NOTE = 'in-memory: data is lost on exit';

/** A running embedded server. */
export interface FloServer {
  readonly port: number;
  readonly host: string;
  /** `flo://host:port` */
  readonly url: string;
  /** `ws://host:port` */
  readonly wsUrl: string;
  readonly clock: Clock;
  readonly profile: ReplyProfile;
  /** `in-memory: data is lost on exit`, or `data directory DIR (fsync MODE)`. */
  readonly storage: string;
  /** Open binary and WebSocket connections. */
  readonly connections: number;
  /** Aborts parked requests, closes every connection and the subsystems' timers; resolves when the listener is closed. */
  close(): Promise<void>;
  /**
   * Restarts the server in place, as a durable Flo server coming back after a restart: every
   * connection is dropped (parked requests are aborted and dropped unanswered, replies already due
   * are flushed first, sockets still sniffing or in a handshake are destroyed), the listener is
   * closed, then the server listens again on the same host and port with the same subsystem state
   * (keys, queues with their leases, streams, groups with their pending lists, actions, workflows).
   *
   * The subsystems are not closed, so their timers (TTLs, visibility and ack timeouts, delayed
   * messages, workflow timers) keep running through the restart, and leases granted before it
   * still expire or can still be settled after it. Connection ids keep counting. Clients see their
   * connection lost and reconnect; connection attempts made while the port is closed are refused.
   *
   * Resolves once the server accepts connections again. Rejects if the server is closed or closing,
   * if `close()` is called before the restart has bound the port again (the server then stays
   * closed), or if the port cannot be bound again (the server is then closed). Restarts do not
   * overlap: a call made during a restart waits for it, then restarts again.
   */
  restart(): Promise<void>;
}

const DEFAULT_PORT = 9000;
const DEFAULT_HOST = '127.0.0.1';
const SERVER_NAME = 'flo-rx embedded';

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts the embedded Flo-compatible server; resolves once it listens. */
export async function startServer(opts: StartServerOptions = {}): Promise<FloServer> {
  const port = opts.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid port: ${port}`);
  const host = opts.host ?? DEFAULT_HOST;
  const profile = opts.profile ?? 'go';
  if (profile !== 'go' && profile !== 'flo') throw new RangeError(`invalid profile: ${String(profile)} (expected 'go' or 'flo')`);
  const maxFramePayload = opts.maxFramePayload ?? MAX_FRAME_PAYLOAD;
  if (!Number.isInteger(maxFramePayload) || maxFramePayload < 0) throw new RangeError(`invalid maxFramePayload: ${maxFramePayload}`);
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? (() => {});

  if (opts.fsync !== undefined && opts.dataDir === undefined) throw new RangeError('fsync needs a dataDir');
  const storage =
    opts.dataDir === undefined
      ? undefined
      : DiskStorage.open({
          dir: opts.dataDir,
          log,
          ...(opts.fsync ? { fsync: opts.fsync } : {}),
          ...(opts.compactAfterBytes !== undefined ? { compactAfterBytes: opts.compactAfterBytes } : {}),
        });
  const storageNote = storage ? storage.description : IN_MEMORY_NOTE;
  const env: ServerEnv = storage ? { clock, profile, persistence: storage } : { clock, profile };
  // Loaded on demand: a server built from custom subsystems does not load (or depend on) the real ones.
  let subsystems: Subsystem[];
  try {
    const build = opts.subsystems ?? (await import('./registry.js')).createSubsystems;
    subsystems = build(env);
    storage?.restore();
  } catch (err) {
    await storage?.close();
    throw err;
  }
  const closeSubsystems = () => {
    for (const s of subsystems) {
      try {
        s.close?.();
      } catch (err) {
        log(`subsystem close failed: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  };
  const connections = new Set<ServerConnection>();
  // Subsystems whose `store` reports figures (queues, streams) feed the per-queue/stream gauges.
  const storeFigures = (): Array<QueueFigures | StreamFigures> =>
    subsystems.flatMap((s) => {
      const store = (s as unknown as { store?: { figures?: () => Array<QueueFigures | StreamFigures> } }).store;
      return store?.figures ? store.figures() : [];
    });
  const metrics = new ServerMetrics({
    connections: () => connections.size,
    queues: () => storeFigures().filter((f): f is QueueFigures => 'queue' in f),
    streams: () => storeFigures().filter((f): f is StreamFigures => 'stream' in f),
    ...(storage ? { storage: storage.counters } : {}),
  });
  let dispatcher: Dispatcher;
  try {
    dispatcher = new Dispatcher(collectHandlers(subsystems), log, metrics);
  } catch (err) {
    closeSubsystems();
    await storage?.close();
    throw err;
  }

  const wss = createWebSocketServer(maxFramePayload);
  /** Sockets not (yet) owned by a connection: sniffing, HTTP, WebSocket handshake. */
  const loose = new Set<Socket>();
  const startedAt = clock.now();
  let nextId = 1;
  let stopping = false;

  const statusPage = (): StatusPage => ({
    server: SERVER_NAME,
    profile,
    connections: connections.size,
    uptimeMs: Math.max(0, clock.now() - startedAt),
    storage: storageNote,
    parkedRequests: metrics.parkedRequests,
    requests: metrics.requestCounts(),
    ...(storage ? { persistence: metrics.persistenceCounts() } : {}),
  });

  const open = (conn: ServerConnection, initial?: Uint8Array, note = '') => {
    connections.add(conn);
    log(`conn #${conn.id} open ${conn.protocol} ${conn.remoteAddress}${note}`);
    conn.start(initial);
  };
  const connOptions = () => ({
    id: nextId++,
    dispatcher,
    maxFramePayload,
    log,
    ...(storage ? { commitGate: storage } : {}),
    onClose: (conn: ServerConnection) => {
      connections.delete(conn);
      log(`conn #${conn.id} close ${conn.protocol} ${conn.remoteAddress}`);
    },
  });

  const onSocket = (socket: Socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    loose.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => loose.delete(socket));
    // EOF before the protocol is known (or before a whole HTTP head): nothing to answer.
    const onEnd = () => socket.end();
    socket.once('end', onEnd);

    let buf: Buffer = Buffer.alloc(0);
    let phase: 'sniff' | 'http' = 'sniff';
    const release = () => {
      socket.pause();
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    const onData = (chunk: Buffer) => {
      try {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        if (phase === 'sniff') {
          const proto = sniffProtocol(buf);
          if (proto === undefined) return;
          if (proto === 'binary') {
            release();
            loose.delete(socket);
            open(new ServerConnection(new TcpTransport(socket), connOptions()), buf);
            return;
          }
          phase = 'http';
        }
        const parsed = parseHttpHead(buf);
        if (parsed.kind === 'more') return;
        release();
        const remote = formatAddress(socket.remoteAddress, socket.remotePort);
        if (parsed.kind === 'error') {
          log(`http ${remote}: ${parsed.status} ${parsed.message}`);
          respond(socket, parsed.status, `${parsed.message}\n`);
          return;
        }
        const { head, rest } = parsed;
        if (!isWebSocketUpgrade(head)) {
          log(`http ${remote}: ${head.method} ${head.url}`);
          answerPlainHttp(socket, head, statusPage, metrics);
          return;
        }
        upgradeToWebSocket(wss, socket, head, rest, (transport: WsTransport) => {
          loose.delete(socket);
          if (stopping) {
            transport.destroy();
            return;
          }
          const sub = transport.subprotocol;
          open(new ServerConnection(transport, connOptions()), undefined, sub ? ` (subprotocol ${sub})` : '');
        });
      } catch (err) {
        log(`connection setup failed: ${(err as Error)?.message ?? String(err)}`);
        socket.destroy();
      }
    };
    socket.on('data', onData);
  };

  // Half-open sockets let a peer that shuts down its sending side still receive the replies due.
  const listen = async (at: number): Promise<Server> => {
    const server: Server = createServer({ allowHalfOpen: true }, onSocket);
    server.on('error', (err) => log(`listener error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen({ port: at, host }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    return server;
  };
  let listener: Server;
  try {
    listener = await listen(port);
  } catch (err) {
    closeSubsystems();
    await storage?.close();
    throw err;
  }
  const address = listener.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;

  /** Drops every connection and closes the listener; resolves when all of them are gone. */
  const disconnectAll = async (): Promise<void> => {
    stopping = true;
    const current = listener;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    const conns = [...connections];
    for (const conn of conns) conn.shutdown();
    for (const socket of [...loose]) socket.destroy();
    await Promise.all([closed, ...conns.map((c) => c.closed)]);
  };

  let closing: Promise<void> | undefined;
  /** The restart under way, if any (restarts and close() are serialised behind it). */
  let restarting: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Let a restart under way finish (or fail) first, so that its new listener is closed too.
      while (restarting) await restarting.catch(() => undefined);
      stopping = true;
      const done = disconnectAll();
      closeSubsystems();
      wss.close();
      await done;
      await storage?.close();
    })();
    return closing;
  };

  const restartOnce = async (): Promise<void> => {
    if (closing) throw new Error('server closed');
    log(`restart: dropping ${connections.size} connection(s)`);
    await disconnectAll();
    if (closing) throw new Error('server closed');
    try {
      listener = await listen(boundPort);
    } catch (err) {
      log(`restart: cannot listen again on port ${boundPort}: ${(err as Error)?.message ?? String(err)}`);
      void close();
      throw err;
    }
    stopping = false;
    log(`restart: listening again on port ${boundPort}`);
  };
  const restart = (): Promise<void> => {
    if (closing) return Promise.reject(new Error('server closed'));
    // Starts at once when no restart is under way, else right after the one under way.
    const started = restarting ? restarting.catch(() => undefined).then(restartOnce) : restartOnce();
    const run: Promise<void> = started.finally(() => {
      if (restarting === run) restarting = undefined;
    });
    restarting = run;
    return run;
  };

  return {
    port: boundPort,
    host,
    url: `flo://${hostForUrl(host)}:${boundPort}`,
    wsUrl: `ws://${hostForUrl(host)}:${boundPort}`,
    clock,
    profile,
    storage: storageNote,
    get connections() {
      return connections.size;
    },
    close,
    restart,
  };
}
