/**
 * Child process of `fuzz.ts`: the embedded server with its default limits, in a process of its
 * own. Sends `{ port }` over IPC once listening; answers `'rss'` with `{ rss }` (after a GC when
 * run with `--expose-gc`), so the parent can read the server's memory.
 */
import { startServer } from '../src/server/server.js';

const server = await startServer({ port: 0, logger: () => undefined });
process.send?.({ port: server.port });
process.on('message', (msg) => {
  if (msg === 'rss') {
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ rss: process.memoryUsage.rss() });
  }
});
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
