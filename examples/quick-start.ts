/**
 * The README's quick start, as a program that runs (a test runs it, so the README stays true).
 *
 *   npx tsx examples/quick-start.ts
 */
import { firstValueFrom, take, lastValueFrom, toArray } from 'rxjs';
import { connect, settle } from '../src/node.js';
import { startServer } from '../src/server.js';
import { runIfMain } from './support.js';

export async function main(log: (line: string) => void = console.log): Promise<string[]> {
  const seen: string[] = [];
  const server = await startServer({ port: 0 }); // the README uses port 9000
  const flo = connect(`localhost:${server.port}`, { namespace: 'myapp', timeoutMs: 5000 });
  try {
    await firstValueFrom(flo.kv.put('user:123', 'John Doe'));
    const entry = await firstValueFrom(flo.kv.get('user:123')); // KvEntry | null
    log(`kv: ${entry?.text()} v${entry?.version}`);

    await firstValueFrom(flo.queue.enqueue('tasks', { task: 'process' }));
    const results = await lastValueFrom(
      flo.queue
        .messages('tasks', { maxInFlight: 5 }) // leases at most 5 at a time
        .pipe(
          settle(async (msg) => seen.push(msg.data<{ task: string }>().task), { concurrency: 5 }), // ack on success, nack on error
          take(1),
          toArray(),
        ),
    );
    log(`queue: ${results.map((r) => `${r.outcome} ${r.item.data<{ task: string }>().task}`).join(', ')}`);

    await firstValueFrom(flo.stream.append('events', { event: 'login' }, { headers: { source: 'web' } }));
    const rec = await firstValueFrom(flo.stream.tail('events', { from: 'start' }));
    log(`stream: ${rec.data<{ event: string }>().event} from ${rec.headers.source}`);
    seen.push(rec.data<{ event: string }>().event);
  } finally {
    await flo.close();
    await server.close();
  }
  return seen;
}

runIfMain(import.meta.url, main);
