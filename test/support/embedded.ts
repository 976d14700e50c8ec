// Integration-test harness: the embedded server on a free port and a flo-rx client connected to it
// over a real socket (TCP by default, WebSocket on request).
import { startServer, type FloServer } from '../../src/server.js';
import { connect, type FloClient, type ConnectOptions } from '../../src/node.js';
import type { Clock } from '../../src/server/clock.js';

export interface Embedded {
  server: FloServer;
  client: FloClient;
  /** Another client on its own connection. */
  newClient(options?: ConnectOptions): FloClient;
  close(): Promise<void>;
}

export async function startEmbedded(
  options: { profile?: 'go' | 'flo'; clock?: Clock; transport?: 'tcp' | 'ws'; client?: ConnectOptions; port?: number } = {},
): Promise<Embedded> {
  const server = await startServer({
    port: options.port ?? 0,
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const clients: FloClient[] = [];
  const newClient = (extra: ConnectOptions = {}) => {
    const address = options.transport === 'ws' ? `ws://127.0.0.1:${server.port}` : `127.0.0.1:${server.port}`;
    const c = connect(address, { namespace: 'test', timeoutMs: 5000, ...options.client, ...extra });
    clients.push(c);
    return c;
  };
  const client = newClient();
  return {
    server,
    client,
    newClient,
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await server.close();
    },
  };
}
