// Slow handlers over real sockets: a `settle` handler (queue and stream group) or an action
// worker's handler still running past `slowHandlerMs` is reported once, while it runs, as a typed
// `slow-handler` event on `flo.events$` and a `warn` line in the client's logger; fast handlers and
// `slowHandlerMs: Infinity` report nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, lastValueFrom, range, mergeMap, take, toArray } from 'rxjs';
import { formatStreamId, settle, type FloEvent, type FloLogger } from '../../../src/node.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { record } from '../action-worker/fixtures.js';

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

type SlowEvent = Extract<FloEvent, { type: 'slow-handler' }>;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A pino-shaped logger keeping its lines. */
function memoryLogger(): FloLogger & { lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('slow handlers', () => {
  it('settle on a queue: the slow handler is reported (events$ and logger) while it runs, the fast one is not', async () => {
    const logger = memoryLogger();
    env = await startEmbedded({ client: { slowHandlerMs: 40, logger } });
    const flo = env.client;
    await lastValueFrom(range(0, 2).pipe(mergeMap((i) => flo.queue.enqueue('jobs', `job${i}`), 1), toArray()));
    const events: SlowEvent[] = [];
    flo.events$.pipe(filter((e): e is SlowEvent => e.type === 'slow-handler')).subscribe((e) => events.push(e));
    const reported = firstValueFrom(flo.events$.pipe(filter((e): e is SlowEvent => e.type === 'slow-handler')));
    const seqOf: Record<string, string> = {};
    const results = await lastValueFrom(
      flo.queue.messages('jobs', { maxInFlight: 2, blockMs: 1000 }).pipe(
        take(2),
        settle(
          async (m) => {
            const name = text(m.payload);
            seqOf[name] = String(m.seq);
            // job0 finishes only once it has been reported as slow: the report comes while it runs.
            if (name === 'job0') await reported;
            return name;
          },
          { concurrency: 2 },
        ),
        toArray(),
      ),
    );
    expect(results.map((r) => r.outcome)).toEqual(['acked', 'acked']);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'slow-handler', source: 'queue:jobs', itemId: seqOf['job0'], thresholdMs: 40 });
    expect(events[0]!.elapsedMs).toBeGreaterThan(0);
    const warn = logger.lines.filter((l) => l.message === 'slow handler');
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ level: 'warn', fields: { source: 'queue:jobs', itemId: seqOf['job0'], thresholdMs: 40 } });
  });

  it("settle on a stream group reports the record id; settle's own slowHandlerMs wins over the client's", async () => {
    env = await startEmbedded({ client: { slowHandlerMs: 600_000 } });
    const flo = env.client;
    const appended = await firstValueFrom(flo.stream.append('orders', 'o1'));
    const reported = firstValueFrom(flo.events$.pipe(filter((e): e is SlowEvent => e.type === 'slow-handler')));
    const out = await lastValueFrom(
      flo.stream.group('orders', 'billing', { consumer: 'w1', blockMs: 1000 }).pipe(
        take(1),
        settle(() => reported, { slowHandlerMs: 30 }),
      ),
    );
    expect(out.outcome).toBe('acked');
    const event = await reported;
    expect(event).toMatchObject({ source: 'group:orders/billing', itemId: formatStreamId(appended), thresholdMs: 30 });
  });

  it('slowHandlerMs: Infinity on settle reports nothing, however long the handler runs', async () => {
    env = await startEmbedded({ client: { slowHandlerMs: 10 } });
    const flo = env.client;
    await firstValueFrom(flo.queue.enqueue('jobs', 'job0'));
    const events: FloEvent[] = [];
    flo.events$.subscribe((e) => events.push(e));
    const out = await lastValueFrom(
      flo.queue.messages('jobs', { blockMs: 1000 }).pipe(
        take(1),
        settle(() => new Promise((r) => setTimeout(r, 80)), { slowHandlerMs: Infinity }),
      ),
    );
    expect(out.outcome).toBe('acked');
    expect(events.filter((e) => e.type === 'slow-handler')).toEqual([]);
  });

  it('rejects a slowHandlerMs that is not positive', () => {
    expect(() => settle(() => 1, { slowHandlerMs: 0 })).toThrow(/slowHandlerMs/);
    expect(() => settle(() => 1, { slowHandlerMs: -5 })).toThrow(/slowHandlerMs/);
  });

  it("action worker: a slow task is reported with its action and task id through the client's logger and events$", async () => {
    const logger = memoryLogger();
    env = await startEmbedded({ client: { logger } });
    const flo = env.client;
    const reported = firstValueFrom(flo.events$.pipe(filter((e): e is SlowEvent => e.type === 'slow-handler')));
    const w = record(flo.actions.worker({ resize: () => reported.then(() => 'done'), quick: () => 'ok' }, { slowHandlerMs: 30 }));
    await w.next('registered');
    await firstValueFrom(flo.actions.invoke('quick', {}));
    await w.next('task-completed', (e) => e.task.action === 'quick');
    await firstValueFrom(flo.actions.invoke('resize', {}));
    const started = await w.next('task-started', (e) => e.task.action === 'resize');
    await w.next('task-completed', (e) => e.task.action === 'resize');
    const event = await reported;
    expect(event).toMatchObject({ source: 'action:resize', itemId: started.task.taskId, thresholdMs: 30 });
    const warn = logger.lines.filter((l) => l.message === 'slow handler');
    expect(warn).toHaveLength(1); // the quick task was not reported
    expect(warn[0]!.fields).toMatchObject({ source: 'action:resize', itemId: started.task.taskId });
    w.sub.unsubscribe();
  });
});
