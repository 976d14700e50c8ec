import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, Subject } from 'rxjs';
import { ManualClock, startServer, type FloServer } from '../../../src/server.js';
import { ClientClosedError, connect, tcpTransport, type ConnectOptions, type FloClient } from '../../../src/node.js';
import type { TransportFactory } from '../../../src/connection/types.js';
import { Op, RequestFrameDecoder } from '../../../src/protocol/index.js';
import { eventually, proxy, record, workers } from './fixtures.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function server(): Promise<{ srv: FloServer; clock: ManualClock; client(port?: number, debug?: (l: string) => void, extra?: ConnectOptions): FloClient }> {
  const clock = new ManualClock();
  const srv = await startServer({ port: 0, clock });
  cleanup.push(() => srv.close());
  return {
    srv,
    clock,
    client(port = srv.port, debug, extra = {}) {
      const c = connect(`127.0.0.1:${port}`, {
        namespace: 'test',
        timeoutMs: 5000,
        reconnect: { minTimeoutMs: 5, maxTimeoutMs: 20, randomize: false },
        ...(debug ? { debug } : {}),
        ...extra,
      });
      cleanup.push(() => c.close());
      return c;
    },
  };
}

/** TCP, recording the opcodes each connection (transport) writes, in the order the connections opened. */
function recordingTransport(): { transport: TransportFactory; sockets: number[][] } {
  const sockets: number[][] = [];
  const transport: TransportFactory = async (endpoint, handlers) => {
    const ops: number[] = [];
    sockets.push(ops);
    const decoder = new RequestFrameDecoder();
    const inner = await tcpTransport(endpoint, handlers);
    return {
      send(bytes) {
        for (const frame of decoder.push(bytes.slice())) ops.push(frame.opcode);
        inner.send(bytes);
      },
      close: () => inner.close(),
    };
  };
  return { transport, sockets };
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

  it('by default long-polls on a sibling connection opened for the worker, settles on the client\'s, and closes it after deregistering', async () => {
    const { srv, client } = await server();
    const rec = recordingTransport();
    const flo = client(undefined, undefined, { transport: rec.transport });
    await firstValueFrom(flo.actions.list()); // the client's connection is open (the server counts it once it spoke)
    expect(srv.connections).toBe(1);
    const stop = new Subject<void>();
    const w = record(flo.actions.worker({ job: (t) => t.data<number>() * 2 }, { concurrency: 2, until: stop }));
    await w.next('registered');
    const r = await firstValueFrom(flo.actions.invoke('job', 21));
    await w.next('task-completed', (e) => e.task.taskId === r);
    expect((await firstValueFrom(flo.actions.status(r))).data()).toBe(42);

    expect(srv.connections).toBe(2);
    expect(rec.sockets).toHaveLength(2);
    const [own, sibling] = rec.sockets as [number[], number[]];
    expect(new Set(sibling)).toEqual(new Set([Op.ActionAwait]));
    expect(own).not.toContain(Op.ActionAwait);
    for (const op of [Op.ActionRegister, Op.WorkerRegister, Op.ActionComplete]) expect(own).toContain(op);

    stop.next();
    await w.ended;
    expect(w.types().slice(-2)).toEqual(['draining', 'deregistered']);
    expect(own.at(-1)).toBe(Op.WorkerDeregister);
    await eventually(() => srv.connections === 1); // the sibling is closed, the client's stays
    expect(await workers(flo)).toEqual([]);
  });

  it('dedicatedAwaitConnection: false keeps everything on the client\'s connection', async () => {
    const { srv, client } = await server();
    const rec = recordingTransport();
    const flo = client(undefined, undefined, { transport: rec.transport });
    const stop = new Subject<void>();
    const w = record(flo.actions.worker({ job: () => 'ok' }, { concurrency: 2, until: stop, dedicatedAwaitConnection: false }));
    await w.next('registered');
    const r = await firstValueFrom(flo.actions.invoke('job', {}));
    await w.next('task-completed', (e) => e.task.taskId === r);
    expect(srv.connections).toBe(1);
    expect(rec.sockets).toHaveLength(1);
    for (const op of [Op.ActionAwait, Op.ActionComplete]) expect(rec.sockets[0]).toContain(op);
    stop.next();
    await w.ended;
    expect(srv.connections).toBe(1);
  });

  it('closing the client ends a worker with a sibling connection (ClientClosedError) and closes the sibling', async () => {
    const { srv, client } = await server();
    const flo = client();
    const w = record(flo.actions.worker({ job: () => 'ok' }));
    await w.next('registered');
    await eventually(() => srv.connections === 2); // the awaits are parked on the sibling
    await flo.close();
    await expect(w.ended).rejects.toBeInstanceOf(ClientClosedError);
    await eventually(() => srv.connections === 0);
    // a closed client opens no sibling: the worker fails at once
    await expect(firstValueFrom(flo.actions.worker({ job: () => 'ok' }))).rejects.toBeInstanceOf(ClientClosedError);
    expect(srv.connections).toBe(0);
  });
});
