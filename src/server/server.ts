/**
 * The embedded Flo-compatible server: one TCP port, protocol sniffed from the first bytes (binary
 * frames, WebSocket, or a plain HTTP status page), one `ServerConnection` per client, and the
 * subsystems' handlers behind one `Dispatcher`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { MAX_FRAME_PAYLOAD } from '../protocol/index.js';
import { BatchClock, systemClock, type Clock } from './clock.js';
import { DEFAULT_FRAME_TIMEOUT_MS, DEFAULT_HARD_LIMIT, ServerConnection } from './connection.js';
import { collectHandlers, Dispatcher } from './dispatcher.js';
import { ServerMetrics, type QueueFigures, type StreamFigures } from './metrics.js';
import { answerPlainHttp, isWebSocketUpgrade, parseHttpHead, respond, type StatusPage } from './http.js';
import { createAuthorizer, tokenFromUpgrade, verifyToken, type JwksDocument, type JwtConfig, type RequestAuthorizer } from './auth/jwt.js';
import { hostProblem, isLoopbackHost, originProblem } from './auth/origin.js';
import { MemoryGuard, memoryInUse } from './memory.js';
import { sniffProtocol } from './sniff.js';
import { MAX_TIMER_MS } from './timers.js';
import { DiskStorage } from './storage/disk-storage.js';
import type { FsyncMode } from './storage/types.js';
import { formatAddress, TcpTransport } from './transport.js';
import type { ReplyProfile, ServerEnv, Subsystem } from './types.js';
import { DEFAULT_MAX_PARKED_PER_CONNECTION, DEFAULT_MAX_PARKED_TOTAL, ParkingLimits } from './waiters.js';
import { createWebSocketServer, upgradeToWebSocket, type WsTransport } from './websocket.js';

/** Who may use the server: the WebSocket's Origin allowlist, JWT auth, and binding beyond loopback. */
export interface ServerSecurityOptions {
  /**
   * Web page origins allowed to open a WebSocket besides pages served from localhost/loopback and
   * the server's own origin (`https://app.example.com`; `*` = any page, which re-opens the server to
   * every site the developer visits). Flag: `--allow-origin <origin>`, repeatable.
   */
  readonly allowOrigins?: readonly string[];
  /** HS256 secret: WebSocket connections must then carry a JWT signed with it. Flag: `--jwt-secret <secret>`. */
  readonly jwtSecret?: string;
  /** RS256 public keys (a JWKS document): WebSocket connections must then carry a JWT signed by one. Flag: `--jwks <file>`. */
  readonly jwks?: JwksDocument;
  /** Allow binding a non-loopback address without WebSocket auth (prints a warning). Default `false`. Flag: `--insecure`. */
  readonly insecure?: boolean;
}

/** Bounds on what clients can make the server hold: connections, waiting replies, parked requests, memory, time. */
export interface ServerLimitOptions {
  /**
   * Memory (JS heap plus buffers) beyond which requests that add data are answered OVERLOADED;
   * reads and deletes keep working (Redis's noeviction). Default: no limit. Flag: `--max-memory <n|512mb>`.
   */
  readonly maxMemoryBytes?: number;
  /** Open sockets allowed at once (all protocols, handshakes included); more are closed at once. Default 10,000. Flag: `--max-connections <n>`. */
  readonly maxConnections?: number;
  /** Close a connection that sends nothing and has nothing in flight for this long. Default 0 (never). Flag: `--idle-timeout <ms>`. */
  readonly idleTimeoutMs?: number;
  /** A new socket must pick its protocol (and finish a WebSocket handshake) within this time. Default 10,000 ms. Flag: `--handshake-timeout <ms>`. */
  readonly handshakeTimeoutMs?: number;
  /** A request frame begun must be complete within this time, else the connection closes. Default 30,000 ms. */
  readonly frameTimeoutMs?: number;
  /** Reply bytes waiting for one connection beyond which it stops being read. Default 1 MiB. */
  readonly softLimitBytes?: number;
  /** Reply bytes waiting for one connection beyond which it is closed (slow consumer). Default 64 MiB. */
  readonly hardLimitBytes?: number;
  /** Blocking requests one connection may have parked at once; beyond it: OVERLOADED. Default 256. */
  readonly maxParkedPerConnection?: number;
  /** Blocking requests parked server-wide at once; beyond it: OVERLOADED. Default 65,536. */
  readonly maxParkedTotal?: number;
  /** KV versions kept per key, the current one included. Default 65 (Flo: current + 64 older). */
  readonly kvVersionsKept?: number;
}

/** Options of `startServer`. */
export interface StartServerOptions extends ServerSecurityOptions, ServerLimitOptions {
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

/** Live figures of a running server (also on its HTTP status page). */
export interface ServerStats {
  /** Open binary and WebSocket connections. */
  readonly connections: number;
  /** Sockets still choosing a protocol, in an HTTP exchange or a WebSocket handshake. */
  readonly handshaking: number;
  /** Reply bytes held for a commit, queued or unsent, over all connections. */
  readonly bufferedOutBytes: number;
  /** Request bytes received and not yet handled, over all connections. */
  readonly bufferedInBytes: number;
  /** Parked (blocking) requests holding a parking slot (what the parking caps limit). */
  readonly parked: number;
  /** The process's resident set size, in bytes. */
  readonly rssBytes: number;
  /** JS heap plus buffers: what `maxMemoryBytes` limits. */
  readonly memoryInUseBytes: number;
}

/** What `FloServer.storage` (and the status page) says of a server without a data directory. */
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
  /** Live figures: connections, handshakes, buffered bytes, parked requests, memory. */
  stats(): ServerStats;
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
const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Flo keeps the current version and 64 older ones per key. */
const DEFAULT_KV_VERSIONS_KEPT = 65;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_HOST = '127.0.0.1';
const SERVER_NAME = 'flo-rx embedded';

/** `value` if it is a positive integer, `fallback` when undefined; anything else is a RangeError. */
function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`invalid ${name}: ${value} (expected a positive integer)`);
  return value;
}

/** A timeout in ms: a positive integer one Node timer can take (longer ones would fire at once, in a loop). */
function timeoutMs(value: number | undefined, fallback: number, name: string): number {
  const ms = positiveInt(value, fallback, name);
  if (ms > MAX_TIMER_MS) throw new RangeError(`invalid ${name}: ${ms} (at most ${MAX_TIMER_MS} ms)`);
  return ms;
}

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
  const maxConnections = positiveInt(opts.maxConnections, DEFAULT_MAX_CONNECTIONS, 'maxConnections');
  const handshakeTimeoutMs = timeoutMs(opts.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS, 'handshakeTimeoutMs');
  const idleTimeoutMs = opts.idleTimeoutMs === undefined || opts.idleTimeoutMs === 0 ? 0 : timeoutMs(opts.idleTimeoutMs, 0, 'idleTimeoutMs');
  const frameTimeoutMs = timeoutMs(opts.frameTimeoutMs, DEFAULT_FRAME_TIMEOUT_MS, 'frameTimeoutMs');
  const softLimit = positiveInt(opts.softLimitBytes, 1024 * 1024, 'softLimitBytes');
  const hardLimit = positiveInt(opts.hardLimitBytes, DEFAULT_HARD_LIMIT, 'hardLimitBytes');
  if (hardLimit < softLimit) throw new RangeError(`hardLimitBytes (${hardLimit}) must be at least softLimitBytes (${softLimit})`);
  const allowOrigins = [...(opts.allowOrigins ?? [])];
  const jwtConfig: JwtConfig | undefined =
    opts.jwtSecret !== undefined || opts.jwks !== undefined ? { ...(opts.jwtSecret !== undefined ? { secret: opts.jwtSecret } : {}), ...(opts.jwks ? { jwks: opts.jwks } : {}) } : undefined;
  if (opts.jwtSecret !== undefined && opts.jwtSecret.length === 0) throw new RangeError('jwtSecret must not be empty');
  if (!isLoopbackHost(host) && !jwtConfig && !opts.insecure) {
    throw new RangeError(
      `refusing to listen on ${host} (not a loopback address) without authentication: configure jwtSecret/jwks (--jwt-secret, --jwks), or pass insecure: true (--insecure) if the network is trusted`,
    );
  }
  // The system clock is read once per chunk of requests (`BatchClock`); a given clock (tests' `ManualClock`) is used as it is.
  const batchClock = opts.clock === undefined ? new BatchClock(systemClock) : undefined;
  const clock = opts.clock ?? batchClock!;
  const log = opts.logger ?? (() => {});

  const parking = new ParkingLimits(
    positiveInt(opts.maxParkedPerConnection, DEFAULT_MAX_PARKED_PER_CONNECTION, 'maxParkedPerConnection'),
    positiveInt(opts.maxParkedTotal, DEFAULT_MAX_PARKED_TOTAL, 'maxParkedTotal'),
  );
  const memory = opts.maxMemoryBytes === undefined ? undefined : new MemoryGuard(positiveInt(opts.maxMemoryBytes, 0, 'maxMemoryBytes'));
  const kvVersionsKept = positiveInt(opts.kvVersionsKept, DEFAULT_KV_VERSIONS_KEPT, 'kvVersionsKept');
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
  const env: ServerEnv = storage ? { clock, profile, parking, kvVersionsKept, persistence: storage } : { clock, profile, parking, kvVersionsKept };
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

  const stats = (): ServerStats => {
    let bufferedOutBytes = 0;
    let bufferedInBytes = 0;
    for (const c of connections) {
      bufferedOutBytes += c.bufferedOut;
      bufferedInBytes += c.bufferedIn;
    }
    return {
      connections: connections.size,
      handshaking: loose.size,
      bufferedOutBytes,
      bufferedInBytes,
      parked: parking.parked(),
      rssBytes: process.memoryUsage.rss(),
      memoryInUseBytes: memory ? memory.used() : memoryInUse(),
    };
  };
  const statusPage = (): StatusPage => ({
    server: SERVER_NAME,
    profile,
    uptimeMs: Math.max(0, clock.now() - startedAt),
    storage: storageNote,
    parkedRequests: metrics.parkedRequests,
    requests: metrics.requestCounts(),
    ...stats(),
    limits: {
      maxConnections,
      maxFramePayload,
      idleTimeoutMs,
      handshakeTimeoutMs,
      frameTimeoutMs,
      softLimitBytes: softLimit,
      hardLimitBytes: hardLimit,
      maxParkedPerConnection: parking.perConnection,
      maxParkedTotal: parking.serverWide,
      maxMemoryBytes: memory ? memory.maxBytes : null,
      kvVersionsKept,
      allowOrigins: allowOrigins.join(' ') || 'loopback pages and own origin',
      websocketAuth: jwtConfig ? [jwtConfig.secret !== undefined ? 'HS256' : '', jwtConfig.jwks ? 'RS256' : ''].filter(Boolean).join('+') : 'none',
    },
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
    highWaterMark: softLimit,
    hardLimit,
    frameTimeoutMs,
    idleTimeoutMs,
    ...(memory ? { overloaded: (opcode: number) => memory.refusal(opcode) } : {}),
    log,
    ...(storage ? { commitGate: storage } : {}),
    ...(batchClock ? { batchClock } : {}),
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
    if (connections.size + loose.size >= maxConnections) {
      log(`connection from ${formatAddress(socket.remoteAddress, socket.remotePort)} refused: ${maxConnections} connections open (max-connections)`);
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    loose.add(socket);
    socket.on('error', () => socket.destroy());
    // Until a connection owns it, a socket has this long to choose a protocol and finish its handshake.
    const handshakeTimer = setTimeout(() => {
      if (!loose.has(socket)) return;
      log(`${formatAddress(socket.remoteAddress, socket.remotePort)}: no protocol or handshake within ${handshakeTimeoutMs} ms, closing`);
      socket.destroy();
    }, handshakeTimeoutMs);
    handshakeTimer.unref();
    socket.once('close', () => {
      clearTimeout(handshakeTimer);
      loose.delete(socket);
    });
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
        const hostHeader = typeof head.headers.host === 'string' ? head.headers.host : undefined;
        const origin = typeof head.headers.origin === 'string' ? head.headers.origin : undefined;
        const policy = { allowOrigins, port: boundPort, host };
        const refused = hostProblem(hostHeader, policy) ?? originProblem(origin, hostHeader, policy);
        if (refused) {
          log(`websocket ${remote}: refused: ${refused}`);
          respond(socket, 403, `${refused}\n`);
          return;
        }
        const upgrade = (authorize?: RequestAuthorizer, who = '') =>
          upgradeToWebSocket(wss, socket, head, rest, (transport: WsTransport) => {
            loose.delete(socket);
            if (stopping) {
              transport.destroy();
              return;
            }
            const sub = transport.subprotocol;
            const options = { ...connOptions(), ...(authorize ? { authorize } : {}) };
            open(new ServerConnection(transport, options), undefined, `${sub ? ` (subprotocol ${sub})` : ''}${who}`);
          }, frameTimeoutMs);
        if (!jwtConfig) {
          upgrade();
          return;
        }
        const authHeader = typeof head.headers.authorization === 'string' ? head.headers.authorization : undefined;
        void verifyToken(tokenFromUpgrade(head.url, authHeader), jwtConfig).then((outcome) => {
          if (socket.destroyed || stopping) return socket.destroy();
          const who = outcome.ok ? ` (token${outcome.claims.sub ? ` sub ${outcome.claims.sub}` : ''}${outcome.claims.namespace ? `, namespace ${outcome.claims.namespace}` : ''})` : ` (unauthenticated: ${outcome.reason})`;
          try {
            upgrade(createAuthorizer(outcome), who);
          } catch (err) {
            log(`connection setup failed: ${(err as Error)?.message ?? String(err)}`);
            socket.destroy();
          }
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
  if (!isLoopbackHost(host) && !jwtConfig) {
    log(`WARNING: listening on ${host} without authentication (--insecure): anyone who can reach this address can read, write and delete all data`);
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
    stats,
    close,
    restart,
  };
}
