// Helpers for the actions / workflow client tests: recording a worker's events, waiting for
// conditions on real sockets (no wall-clock assertions: only "eventually"), and a TCP proxy whose
// connections can be cut to force reconnects.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { filter, firstValueFrom, ReplaySubject, type Observable, type Subscription } from 'rxjs';
import type { FloClient } from '../../../src/node.js';
import type { WorkerEvent } from '../../../src/client/actions.js';
import { decodeWorkerListReply, encodeWorkerList, Op, type WorkerRecord } from '../../../src/protocol/index.js';

export interface Recorded {
  readonly events: WorkerEvent[];
  readonly sub: Subscription;
  /** The first event (already seen or still to come) matching `pred`, counting from the `nth` match (default 1). */
  next<T extends WorkerEvent['type']>(type: T, pred?: (e: Extract<WorkerEvent, { type: T }>) => boolean, nth?: number): Promise<Extract<WorkerEvent, { type: T }>>;
  /** Resolves when the worker Observable completes, rejects when it errors. */
  readonly ended: Promise<void>;
  types(): string[];
}

export function record(worker$: Observable<WorkerEvent>): Recorded {
  const events: WorkerEvent[] = [];
  const all = new ReplaySubject<WorkerEvent>();
  let resolveEnd!: () => void;
  let rejectEnd!: (e: unknown) => void;
  const ended = new Promise<void>((res, rej) => {
    resolveEnd = res;
    rejectEnd = rej;
  });
  ended.catch(() => undefined);
  const sub = worker$.subscribe({
    next: (e) => {
      events.push(e);
      all.next(e);
    },
    error: (e: unknown) => {
      all.error(e);
      rejectEnd(e);
    },
    complete: () => {
      all.complete();
      resolveEnd();
    },
  });
  return {
    events,
    sub,
    ended,
    types: () => events.map((e) => e.type),
    next(type, pred = () => true, nth = 1) {
      let seen = 0;
      return firstValueFrom(
        all.pipe(filter((e): e is never => e.type === type && pred(e as never) && ++seen === nth)),
      ) as never;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value (or stops throwing); gives up after `tries`. */
export async function eventually<T>(check: () => Promise<T> | T, tries = 400): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await check();
      if (v) return v;
      last = new Error(`condition still false: ${String(v)}`);
    } catch (e) {
      last = e;
    }
    await sleep(10);
  }
  throw last;
}

/** WORKER_LIST of the client's namespace (no public API for it). */
export async function workers(flo: FloClient): Promise<WorkerRecord[]> {
  return firstValueFrom(flo.core.call(flo.core.spec(Op.WorkerList, encodeWorkerList({})), decodeWorkerListReply));
}

/** A TCP proxy in front of the embedded server; `cut()` destroys every proxied connection. */
export async function proxy(targetPort: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      for (const s of [...sockets]) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of [...sockets]) s.destroy();
        server.close(() => r());
      }),
  };
}
