/**
 * Runs a benchmark server in a child process (forked with IPC), so that server work does not share
 * the event loop (and the CPU core) of the client being measured.
 * Usage: `server-worker.ts fixed|embedded [startServer options as JSON]`.
 * Sends `{ port }` (or `{ skip: reason }`) to the parent, then serves until killed. Answers a
 * `'memory'` message with `{ memory: { rss, heapUsed } }`, taken right after a full GC when the
 * child runs with `--expose-gc`.
 */
import { startFixedServer } from './fixed-server.js';

const kind = process.argv[2] === 'embedded' ? 'embedded' : 'fixed';
/** Extra `startServer` options (e.g. a data directory and fsync mode for the durable rows). */
const extraOptions = process.argv[3] ? (JSON.parse(process.argv[3]) as Record<string, unknown>) : {};
const parentPort = { postMessage: (msg: unknown) => process.send!(msg) };
process.on('disconnect', () => process.exit(0));
// Exit normally on SIGTERM, so that `--cpu-prof` (BENCH_CPU_PROF) gets to write its profile.
process.on('SIGTERM', () => process.exit(0));
process.on('message', (msg) => {
  if (msg !== 'memory') return;
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  parentPort.postMessage({ memory: { rss, heapUsed } });
});

async function main(): Promise<void> {
  if (kind === 'fixed') {
    const s = await startFixedServer();
    parentPort!.postMessage({ port: s.port });
    return;
  }
  // The embedded server may not exist yet: import it by a computed path and skip when missing.
  const path = '../src/server/server.js';
  let mod: { startServer?: (opts: Record<string, unknown>) => unknown };
  try {
    mod = (await import(path)) as typeof mod;
  } catch (err) {
    parentPort!.postMessage({ skip: `src/server/server.ts not importable (${(err as Error).message.split('\n')[0]})` });
    return;
  }
  if (typeof mod.startServer !== 'function') {
    parentPort!.postMessage({ skip: 'src/server/server.ts does not export startServer' });
    return;
  }
  const started = (await mod.startServer({ port: 0, host: '127.0.0.1', ...extraOptions })) as Record<string, unknown>;
  const port = findPort(started);
  parentPort!.postMessage(port === undefined ? { skip: 'cannot tell the embedded server port' } : { port });
}

function findPort(s: Record<string, unknown>): number | undefined {
  if (typeof s.port === 'number' && s.port > 0) return s.port;
  const address = typeof s.address === 'function' ? (s.address as () => unknown).call(s) : s.address;
  if (address && typeof address === 'object' && typeof (address as { port?: unknown }).port === 'number') {
    return (address as { port: number }).port;
  }
  const inner = s.server;
  if (inner && typeof inner === 'object') return findPort(inner as Record<string, unknown>);
  return undefined;
}

main().catch((err) => {
  parentPort!.postMessage({ skip: `failed to start: ${(err as Error).message}` });
});
