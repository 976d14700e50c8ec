/**
 * Child process of `queue-memory.ts`: the embedded server (queue subsystem only) with a backlog of
 * BENCH_BACKLOG messages (default 1 000 000) in queue `backlog` of namespace `bench`, filled
 * straight into the queue store before the port is announced (so filling costs no socket traffic
 * and nothing in the client being measured). All messages share one 64-byte payload.
 * Sends `{ port, filled, fillMs, rssMb }` to the parent over IPC, then serves until killed.
 */
import { startServer } from '../src/server/server.js';
import { createQueueSubsystem, type QueueSubsystem } from '../src/server/queues/index.js';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1_000_000);
process.on('disconnect', () => process.exit(0));

async function main(): Promise<void> {
  let queues: QueueSubsystem | undefined;
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    subsystems: (env) => [(queues = createQueueSubsystem(env))],
  });
  const payload = new TextEncoder().encode(JSON.stringify({ job: 'resize', image: 'img-000000.png', size: 1024, pad: 'xxxx' }).padEnd(64, ' '));
  const start = performance.now();
  for (let i = 0; i < BACKLOG; i++) queues!.store.enqueue('bench', 'backlog', payload);
  const fillMs = performance.now() - start;
  process.send!({ port: server.port, filled: BACKLOG, fillMs, rssMb: process.memoryUsage().rss / 2 ** 20 });
}

main().catch((err) => {
  process.send!({ skip: `backlog server failed: ${(err as Error).message}` });
});
