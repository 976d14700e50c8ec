/**
 * `project()` against the embedded server over real sockets: paged replay then live tail, one read
 * for many subscribers, KV snapshots, exactly-once application across connections cut in the
 * middle (through a TCP proxy that the test severs), and resets: a server that restarts empty on
 * the same port, a stream trimmed past the projection while it was away, a snapshot of a deleted
 * stream.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { filter, finalize, firstValueFrom, type Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../src/client/stream.js';
import { connect, formatStreamId, project, type FloClient, type ProjectionState } from '../../src/node.js';
import { startServer, type FloServer } from '../../src/server.js';

const WAIT_MS = 20_000;

/** Folds the JSON numbers of the records into the list of them, in order. */
const collect = (list: readonly number[], r: StreamRecord): number[] => [...list, r.data<number>()];

/** The first value that `pred` accepts, within the test's patience. */
function until<T>(source: Observable<T>, pred: (v: T) => boolean): Promise<T> {
  return firstValueFrom(source.pipe(filter(pred)));
}

async function appendAll(flo: FloClient, stream: string, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) await firstValueFrom(flo.stream.append(stream, i));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A TCP proxy to `port` whose live connections can be cut, and which can refuse new ones for a while. */
async function startProxy(port: number): Promise<{ port: number; cut(): void; refuse(on: boolean): void; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = netConnect(port, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    refuse(on: boolean) {
      refusing = on;
    },
    cut() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => r());
      }),
  };
}

describe('project() against the embedded server', () => {
  let server: FloServer;
  let writer: FloClient;
  const clients: FloClient[] = [];
  const client = (port = server.port) => {
    const c = connect(`127.0.0.1:${port}`, { namespace: 'proj', timeoutMs: 5000, reconnect: { minTimeoutMs: 20, maxTimeoutMs: 200 } });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startServer({ port: 0 });
    writer = connect(`127.0.0.1:${server.port}`, { namespace: 'proj', timeoutMs: 5000 });
  });
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await writer?.close();
    await server?.close();
  });

  it('replays page by page, goes live, and shares one read and one tail between subscribers', async () => {
    await appendAll(writer, 's1', 1, 120);
    const flo = client();
    let reads = 0;
    let tails = 0;
    const read = flo.stream.read.bind(flo.stream);
    const tail = flo.stream.tail.bind(flo.stream);
    flo.stream.read = (...a: Parameters<typeof read>) => (reads++, read(...a));
    flo.stream.tail = (...a: Parameters<typeof tail>) => (tails++, tail(...a).pipe(finalize(() => tails--)));

    const p$ = project(flo, 's1', { reducer: collect, initial: [] as number[], pageSize: 25 });
    const seen: ProjectionState<number[]>[] = [];
    const a = p$.subscribe((p) => seen.push(p));
    const live = await until(p$, (p) => p.status === 'live');
    expect(live.applied).toBe(120);
    expect(live.state).toEqual(range(1, 120));
    expect(seen[0]).toMatchObject({ status: 'replaying', applied: 0, lastId: null });
    // Applied counts go up one by one: nothing skipped, nothing twice.
    expect(seen.filter((p) => p.status === 'replaying').map((p) => p.applied)).toEqual(range(0, 120));

    await appendAll(writer, 's1', 121, 125);
    const after = await until(p$, (p) => p.applied === 125);
    expect(after.state).toEqual(range(1, 125));
    expect(after.lastId && formatStreamId(after.lastId)).toBe(formatStreamId((await firstValueFrom(writer.stream.info('s1'))).lastId));
    expect(reads).toBe(1);
    expect(tails).toBe(1);

    a.unsubscribe();
    expect(tails).toBe(0);
  });

  it('keeps a snapshot in KV and starts from it', async () => {
    await appendAll(writer, 's2', 1, 25);
    const snapshot = { key: 'snap:s2', everyN: 10 };
    const first = project(client(), 's2', { reducer: collect, initial: [] as number[], snapshot });
    const sub = first.subscribe();
    await until(first, (p) => p.status === 'live' && p.applied === 25);
    // Snapshots after 10 and 20 records; the newest one is kept.
    const stored = await waitForSnapshot(writer, 'snap:s2', 20);
    expect(stored).toMatchObject({ stream: 's2', applied: 20, state: range(1, 20) });
    sub.unsubscribe();

    await appendAll(writer, 's2', 26, 30);
    const flo = client();
    const froms: unknown[] = [];
    const read = flo.stream.read.bind(flo.stream);
    flo.stream.read = (name, opts) => (froms.push(opts?.from), read(name, opts));
    const second = project(flo, 's2', { reducer: collect, initial: [] as number[], snapshot });
    const seen: ProjectionState<number[]>[] = [];
    const sub2 = second.subscribe((p) => seen.push(p));
    const live = await until(second, (p) => p.status === 'live');
    sub2.unsubscribe();
    expect(live.state).toEqual(range(1, 30));
    expect(live.applied).toBe(30);
    // It started at the snapshot (applied 20), and replayed from the snapshot's id, not the start.
    expect(seen[0]).toMatchObject({ status: 'replaying', applied: 20 });
    expect(froms).toHaveLength(1);
    expect(formatStreamId(froms[0] as never)).toBe(stored.lastId);
  });

  it('applies every record exactly once across connections cut during the replay and the tail', async () => {
    await appendAll(writer, 's3', 1, 300);
    const proxy = await startProxy(server.port);
    try {
      const flo = client(proxy.port);
      let drops = 0;
      flo.state$.subscribe((st) => (drops += st === 'reconnecting' ? 1 : 0));
      const p$ = project(flo, 's3', { reducer: collect, initial: [] as number[], pageSize: 10, retryDelayMs: 10 });
      const states: ProjectionState<number[]>[] = [];
      const sub = p$.subscribe({ next: (p) => states.push(p), error: (e) => states.push(e as never) });

      // Cut while replaying.
      await until(p$, (p) => p.applied >= 50);
      proxy.cut();
      const live = await until(p$, (p) => p.status === 'live');
      expect(live.state).toEqual(range(1, 300));

      // Cut while tailing, append while the projection is away, then more once it is back.
      proxy.cut();
      await appendAll(writer, 's3', 301, 310);
      await until(p$, (p) => p.applied >= 310);
      proxy.cut();
      await appendAll(writer, 's3', 311, 320);
      const end = await until(p$, (p) => p.applied === 320 && p.status === 'live');
      expect(end.state).toEqual(range(1, 320));
      expect(end.status).toBe('live');
      expect(drops).toBe(3); // each cut was seen as a lost connection
      sub.unsubscribe();
      expect(states.every((s) => typeof s === 'object' && s !== null && 'applied' in s)).toBe(true);
      // Never twice: applied grows by at most one per emission and never goes back.
      for (let i = 1; i < states.length; i++) expect(states[i].applied - states[i - 1].applied).toBeGreaterThanOrEqual(0);
      for (let i = 1; i < states.length; i++) expect(states[i].applied - states[i - 1].applied).toBeLessThanOrEqual(1);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe('project() resets', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  const connectTo = (port: number) => {
    const c = connect(`127.0.0.1:${port}`, { namespace: 'reset', timeoutMs: 5000, reconnect: { minTimeoutMs: 20, maxTimeoutMs: 200 } });
    cleanups.push(() => c.close());
    return c;
  };

  it('rebuilds from the new server when the server restarts empty on the same port, and says so', async () => {
    let server = await startServer({ port: 0 });
    const port = server.port;
    cleanups.push(() => server.close());
    const writer = connectTo(port);
    await appendAll(writer, 'r1', 1, 5);

    const p$ = project(connectTo(port), 'r1', { reducer: collect, initial: [] as number[], retryDelayMs: 10 });
    const seen: ProjectionState<number[]>[] = [];
    const sub = p$.subscribe({ next: (p) => seen.push(p), error: (e) => seen.push(e as never) });
    cleanups.push(async () => sub.unsubscribe());
    await until(p$, (p) => p.status === 'live' && p.applied === 5);

    await server.close();
    await until(p$, (p) => p.status === 'stale');
    server = await startServer({ port });
    const reset = await until(p$, (p) => p.reset !== null);
    expect(reset.reset).toMatchObject({ reason: 'missing', previousApplied: 5, stream: { firstId: null, lastId: null, count: 0 }, nth: 1 });
    expect(reset.state).toEqual([]);
    expect(reset.applied).toBe(0);

    // The new server's records are all the board holds now.
    await appendAll(writer, 'r1', 100, 102);
    const after = await until(p$, (p) => p.applied === 3);
    expect(after.state).toEqual([100, 101, 102]);
    expect(after.status).toBe('live');
    expect(after.reset?.nth).toBe(1);
    // Before the reset: 1..5, never more; after it: only the new records.
    expect(seen.every((p) => typeof p === 'object' && 'state' in p)).toBe(true);
    const resetAt = seen.findIndex((p) => p.reset !== null);
    expect(seen.slice(0, resetAt).at(-1)!.state).toEqual([1, 2, 3, 4, 5]);
    expect(seen.slice(resetAt).every((p) => p.state.every((n) => n >= 100))).toBe(true);
  }, 60_000);

  it('rebuilds when the stream was trimmed past the projection while it was away', async () => {
    const server = await startServer({ port: 0 });
    cleanups.push(() => server.close());
    const proxy = await startProxy(server.port);
    cleanups.push(() => proxy.close());
    const writer = connectTo(server.port);
    await appendAll(writer, 'r2', 1, 10);

    const p$ = project(connectTo(proxy.port), 'r2', { reducer: collect, initial: [] as number[], retryDelayMs: 10 });
    const sub = p$.subscribe();
    cleanups.push(async () => sub.unsubscribe());
    await until(p$, (p) => p.status === 'live' && p.applied === 10);

    // Away: the connection is cut and refused while 11..20 are appended and all but 3 trimmed.
    proxy.refuse(true);
    proxy.cut();
    await until(p$, (p) => p.status === 'stale');
    await appendAll(writer, 'r2', 11, 20);
    await firstValueFrom(writer.stream.trim('r2', { maxLen: 3 }));
    proxy.refuse(false);

    const after = await until(p$, (p) => p.status === 'live' && p.reset !== null);
    expect(after.reset).toMatchObject({ reason: 'trimmed', previousApplied: 10, stream: { count: 3 }, nth: 1 });
    expect(after.state).toEqual([18, 19, 20]);
    expect(after.applied).toBe(3);
  }, 60_000);

  it('keeps its state across a reconnect when the stream is intact', async () => {
    const server = await startServer({ port: 0 });
    cleanups.push(() => server.close());
    const proxy = await startProxy(server.port);
    cleanups.push(() => proxy.close());
    const writer = connectTo(server.port);
    await appendAll(writer, 'r3', 1, 4);
    const p$ = project(connectTo(proxy.port), 'r3', { reducer: collect, initial: [] as number[], retryDelayMs: 10 });
    const sub = p$.subscribe();
    cleanups.push(async () => sub.unsubscribe());
    await until(p$, (p) => p.status === 'live' && p.applied === 4);
    proxy.refuse(true);
    proxy.cut();
    await until(p$, (p) => p.status === 'stale');
    await appendAll(writer, 'r3', 5, 6);
    proxy.refuse(false);
    const after = await until(p$, (p) => p.status === 'live' && p.applied === 6);
    expect(after.state).toEqual(range(1, 6));
    expect(after.reset).toBeNull();
  }, 60_000);

  it('drops a snapshot of a stream that was emptied since, and starts from the stream as it is', async () => {
    const server = await startServer({ port: 0 });
    cleanups.push(() => server.close());
    const writer = connectTo(server.port);
    await appendAll(writer, 'r4', 1, 6);
    const snapshot = { key: 'snap:r4', everyN: 3 };
    const first = project(connectTo(server.port), 'r4', { reducer: collect, initial: [] as number[], snapshot });
    const sub = first.subscribe();
    await until(first, (p) => p.status === 'live' && p.applied === 6);
    await waitForSnapshot(writer, 'snap:r4', 6);
    sub.unsubscribe();

    // The client has no stream delete: trimming every record leaves the same nothing behind.
    await firstValueFrom(writer.stream.trim('r4', { maxLen: 0 }));
    expect((await firstValueFrom(writer.stream.info('r4'))).count).toBe(0n);
    const second = project(connectTo(server.port), 'r4', { reducer: collect, initial: [] as number[], snapshot });
    const sub2 = second.subscribe();
    cleanups.push(async () => sub2.unsubscribe());
    const live = await until(second, (p) => p.status === 'live');
    expect(live.reset).toMatchObject({ reason: 'missing', previousApplied: 6, nth: 1 });
    expect(live.state).toEqual([]);
    await appendAll(writer, 'r4', 50, 50);
    expect((await until(second, (p) => p.applied === 1)).state).toEqual([50]);
  }, 60_000);
});

async function waitForSnapshot(flo: FloClient, key: string, applied: number): Promise<{ stream: string; lastId: string; applied: number; state: unknown }> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const entry = await firstValueFrom(flo.kv.get(key));
    if (entry) {
      const snap = JSON.parse(entry.text()) as { stream: string; lastId: string; applied: number; state: unknown };
      if (snap.applied >= applied) return snap;
    }
    if (Date.now() > deadline) throw new Error(`no snapshot with applied >= ${applied} under ${key}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
