/**
 * One embedded server per `describe` block and the contexts its tests open on it (closed after the
 * block), over WebSocket (the default transport) or TCP.
 */
import { afterAll, beforeAll } from 'vitest';
import { tcpTransport } from '../../src/node.js';
import { startServer, type FloServer } from '../../src/server.js';
import { openFlo, type FloContext, type FloContextOptions } from '../../src/modular/index.js';

export function embeddedContexts(transport: 'ws' | 'tcp'): { server: () => FloServer; open: (options?: FloContextOptions) => FloContext } {
  let server: FloServer | undefined;
  const contexts: FloContext[] = [];
  beforeAll(async () => {
    server = await startServer({ port: 0 });
  });
  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await server?.close();
  });
  const open = (options: FloContextOptions = {}): FloContext => {
    const s = server!;
    const flo =
      transport === 'ws'
        ? openFlo(s.wsUrl, { namespace: 'modular', ...options })
        : openFlo(`127.0.0.1:${s.port}`, { namespace: 'modular', transport: tcpTransport, ...options });
    contexts.push(flo);
    return flo;
  };
  return { server: () => server!, open };
}
