/**
 * The embedded server's request path of a checkout, in process and without sockets, for
 * `bench/server-request-path.ts` and `bench/server-request-path-ab.ts`: a `ServerConnection` built
 * as the server builds it (all subsystems, the metrics observer) over a transport that takes every
 * write at once, and the request frames those benches feed it.
 */
import { resolve } from 'node:path';

/** What a request path is built with: the storage (or none: in memory) and a commit gate. */
export interface RequestPathOptions {
  readonly kvVersionsKept?: number;
  /** A `DiskStorage` of the same checkout (its `restore()` is called once the subsystems exist). */
  readonly persistence?: { restore(): void };
  /** Holds replies until their commit (the storage itself, or a bench's own gate). */
  readonly commitGate?: object;
  /** Sees every reply write. */
  readonly onSend?: (bytes: Uint8Array) => void;
}

export interface RequestPath {
  /** The checkout's `src/protocol` (to encode requests with). */
  readonly protocol: Record<string, any>;
  /** Hands `chunk` to the connection as one socket read, the last of its turn. */
  feed(chunk: Uint8Array): void;
}

export async function loadRequestPath(tree: string, options: RequestPathOptions = {}): Promise<RequestPath> {
  const protocol = await import(resolve(tree, 'src/protocol/index.ts'));
  const { ServerConnection } = await import(resolve(tree, 'src/server/connection.ts'));
  const { collectHandlers, Dispatcher } = await import(resolve(tree, 'src/server/dispatcher.ts'));
  const { createSubsystems } = await import(resolve(tree, 'src/server/registry.ts'));
  const { ServerMetrics } = await import(resolve(tree, 'src/server/metrics.ts'));
  const { ParkingLimits } = await import(resolve(tree, 'src/server/waiters.ts'));
  const { systemClock, BatchClock } = await import(resolve(tree, 'src/server/clock.ts'));
  // As the server builds it: the system clock read once per chunk where the tree has `BatchClock`.
  const batchClock = BatchClock ? new BatchClock(systemClock) : undefined;
  const subsystems = createSubsystems({
    clock: batchClock ?? systemClock,
    profile: 'go',
    parking: new ParkingLimits(),
    kvVersionsKept: options.kvVersionsKept ?? 65,
    ...(options.persistence ? { persistence: options.persistence } : {}),
  });
  options.persistence?.restore();
  const dispatcher = new Dispatcher(collectHandlers(subsystems), () => {}, new ServerMetrics({ connections: () => 1 }));
  const onSend = options.onSend ?? (() => {});
  let events: { data(bytes: Uint8Array, lastOfTurn?: boolean): void } | undefined;
  const transport = {
    protocol: 'binary',
    remoteAddress: 'bench',
    start(e: typeof events) {
      events = e;
    },
    send: onSend,
    bufferedBytes: 0,
    pauseReading() {},
    resumeReading() {},
    end() {},
    destroy() {},
  };
  new ServerConnection(transport, { id: 1, dispatcher, ...(options.commitGate ? { commitGate: options.commitGate } : {}), ...(batchClock ? { batchClock } : {}) }).start();
  return { protocol, feed: (chunk) => events!.data(chunk, true) };
}

export type RequestWork = 'put' | 'get' | 'append' | 'ping';

const VALUE = new Uint8Array(100).fill(0x61);

/**
 * Request `i` of a work: a KV put or get of key `bench:k<i mod keys>` (100-byte values), a stream
 * append of one 100-byte record to `bench`, or a ping; namespace `bench`, request id i + 1.
 */
export function requestFrame(protocol: Record<string, any>, op: RequestWork, i: number, keys: number): Uint8Array {
  const id = BigInt(i + 1);
  if (op === 'ping') return protocol.encodeRequest(id, protocol.Op.Ping, 'bench', {});
  if (op === 'append') return protocol.encodeRequest(id, protocol.Op.StreamAppend, 'bench', protocol.encodeStreamAppend({ stream: 'bench', payload: VALUE }));
  const key = protocol.utf8(`bench:k${i % keys}`);
  const body = op === 'put' ? protocol.encodeKvPut({ key, value: VALUE }) : protocol.encodeKvGet({ key });
  return protocol.encodeRequest(id, op === 'put' ? protocol.Op.KvPut : protocol.Op.KvGet, 'bench', body);
}
