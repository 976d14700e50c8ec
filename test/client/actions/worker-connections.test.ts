import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { ManualClock, startServer, type FloServer } from '../../../src/server.js';
import { connect, type FloClient } from '../../../src/node.js';
import { eventually, proxy, record, workers } from './support.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function server(): Promise<{ srv: FloServer; clock: ManualClock; client(port?: number, debug?: (l: string) => void): FloClient }> {
  const clock = new ManualClock();
  const srv = await startServer({ port: 0, clock });
  cleanup.push(() => srv.close());
  return {
    srv,
    clock,
    client(port = srv.port, debug) {
      const c = connect(`127.0.0.1:${port}`, {
        namespace: 'test',
        timeoutMs: 5000,
        reconnect: { minTimeoutMs: 5, maxTimeoutMs: 20, randomize: false },
        ...(debug ? { debug } : {}),
      });
      cleanup.push(() => c.close());
      return c;
    },
  };
}

describe('action worker connections', () => {
  it('survives a lost connection: reports reconnecting, registers again, and keeps taking tasks', async () => {
    const { srv, clock, client } = await server();
    const px = await proxy(srv.port);
    cleanup.push(() => px.close());
    const flo = client(px.port);
    const admin = client();
    const w = record(flo.actions.worker({ job: (t) => t.data<number>() + 1 }, { workerId: 'rc' }));
    await w.next('registered');
    const first = (await workers(admin))[0]!;
    const r1 = await firstValueFrom(admin.actions.invoke('job', 1));
    await w.next('task-completed', (e) => e.task.taskId === r1);

    clock.advance(1000);
    px.cut();
    await w.next('reconnecting');
    const again = await w.next('registered', (e) => e.reregistered);
    expect(again).toEqual({ type: 'registered', workerId: 'rc', actions: ['job'], reregistered: true });
    const second = (await workers(admin))[0]!;
    expect(second.registeredAt).toBe(first.registeredAt + 1000n);

    const r2 = await firstValueFrom(admin.actions.invoke('job', 41));
    await w.next('task-completed', (e) => e.task.taskId === r2);
    expect((await firstValueFrom(admin.actions.status(r2))).data()).toBe(42);
    w.sub.unsubscribe();
    await eventually(async () => (await workers(admin)).length === 0);
  });

  it('awaitClient: long-polls on the other connection, settles and heartbeats on its own', async () => {
    const { client } = await server();
    const mainLog: string[] = [];
    const awaitLog: string[] = [];
    const flo = client(undefined, (l) => mainLog.push(l));
    const poller = client(undefined, (l) => awaitLog.push(l));
    const w = record(flo.actions.worker({ job: () => 'ok' }, { awaitClient: poller, concurrency: 2 }));
    await w.next('registered');
    const r = await firstValueFrom(flo.actions.invoke('job', {}));
    await w.next('task-completed', (e) => e.task.taskId === r);
    const ops = (log: string[]) => new Set(log.filter((l) => l.includes('→')).map((l) => l.split(' ')[3]));
    expect([...ops(awaitLog)]).toEqual(['action_await']);
    expect(ops(mainLog).has('action_await')).toBe(false);
    expect(ops(mainLog).has('action_complete')).toBe(true);
    w.sub.unsubscribe();
  });
});
