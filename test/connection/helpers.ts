import { afterEach, beforeEach } from 'vitest';
import { Connection, type ConnectionOptions } from '../../src/connection/connection.js';
import { tcpTransport } from '../../src/connection/tcp.js';
import type { RequestSpec } from '../../src/connection/types.js';
import { Op, utf8 } from '../../src/protocol/index.js';
import { FakeServer, type FakeServerOptions } from '../support/fake-server.js';

/** A kv_get of `key` (the fake server echoes the key back by default). */
export function get(key: string, extra: Partial<RequestSpec> = {}): RequestSpec {
  return { opcode: Op.KvGet, namespace: 'default', body: { key: utf8(key) }, ...extra };
}

const open: Connection[] = [];

/** A connection with test-friendly defaults (fast reconnect); closed by `closeAll`. */
export function connection(endpoints: string[], options: Partial<ConnectionOptions> = {}): Connection {
  const c = new Connection({
    endpoints,
    transport: tcpTransport,
    timeoutMs: 2000,
    reconnect: { minTimeoutMs: 5, maxTimeoutMs: 20, randomize: false },
    ...options,
  });
  open.push(c);
  return c;
}

export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((c) => c.close()));
}

/**
 * Starts a FakeServer (with `options`) before each test of the file and hands it to `use`; after
 * each test, closes every connection made by `connection()`, then stops the server.
 */
export function fakeServerPerTest(use: (server: FakeServer) => void, options?: FakeServerOptions): void {
  let server: FakeServer;
  beforeEach(async () => {
    server = await FakeServer.start(options);
    use(server);
  });
  afterEach(async () => {
    await closeAll();
    await server.stop();
  });
}
