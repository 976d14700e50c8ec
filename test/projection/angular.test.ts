/**
 * The Angular example (examples/angular/flo-board.service.ts) through Angular's own injector, in
 * Node, against the embedded server over WebSocket: the service injects the client from an
 * InjectionToken, exposes the projection and the connection as signals, writes through the client,
 * and everything it subscribed to is torn down when the injector is destroyed.
 */
import { createEnvironmentInjector, EnvironmentInjector, Injector, runInInjectionContext } from '@angular/core';
import { finalize, firstValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as connectWs, type FloClient } from '../../src/index.js';
import { connect as connectTcp } from '../../src/node.js';
import { startServer, type FloServer } from '../../src/server.js';
import { addCard, type BoardEvent } from '../../examples/event-sourced-ui/board.js';
import { FLO_BOARD_STREAM, FLO_CLIENT, FloBoardService, provideFloBoard, provideFloClient } from '../../examples/angular/flo-board.service.js';

const WAIT_MS = 20_000;

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('FloBoardService (Angular injector, embedded server over WebSocket)', () => {
  let server: FloServer;
  let node: FloClient;
  const stream = 'ng-board';

  beforeAll(async () => {
    server = await startServer({ port: 0 });
    node = connectTcp(`127.0.0.1:${server.port}`, { namespace: 'angular', timeoutMs: 5000 });
  });
  afterAll(async () => {
    await node?.close();
    await server?.close();
  });

  it('exposes the board and the connection as signals, writes, and tears everything down with the injector', async () => {
    await firstValueFrom(addCard(node, 'Replayed', 'todo', 'r1', stream));
    await firstValueFrom(addCard(node, 'Replayed too', 'doing', 'r2', stream));

    // Count the live tails the service holds (through the client it got from DI).
    let tails = 0;
    let client: FloClient | undefined;
    const create = () => {
      const flo = connectWs(server.wsUrl, { namespace: 'angular', timeoutMs: 5000 });
      const tail = flo.stream.tail.bind(flo.stream);
      flo.stream.tail = (...args: Parameters<typeof tail>) => {
        tails++;
        return tail(...args).pipe(finalize(() => tails--));
      };
      client = flo;
      return flo;
    };

    const injector = createEnvironmentInjector(
      [...provideFloClient(create), ...provideFloBoard(), { provide: FLO_BOARD_STREAM, useValue: stream }],
      Injector.NULL as EnvironmentInjector,
      'flo-board-test',
    );
    const board = injector.get(FloBoardService);
    expect(injector.get(FLO_CLIENT)).toBe(client);
    expect(board.projection().status).toBe('replaying');

    const live = await waitFor('the replay', () => board.projection().status === 'live' && board.projection());
    expect(live.applied).toBe(2);
    expect(board.columns().map((c) => [c.column, c.cards.map((card) => card.title)])).toEqual([
      ['todo', ['Replayed']],
      ['doing', ['Replayed too']],
      ['done', []],
    ]);
    expect(board.connection()).toMatchObject({ state: 'connected', online: true, label: 'Connected' });
    // Two signals over one shared projection: one tail.
    expect(tails).toBe(1);

    // Live from Node.
    await firstValueFrom(addCard(node, 'Live from Node', 'todo', 'n1', stream));
    await waitFor('the live card', () => board.board().cards['n1']);

    // Writes from the service, read back by Node.
    await board.add('From Angular', 'todo', 'a1');
    await board.move('a1', 'done');
    await waitFor('the service writes on the board', () => board.board().cards['a1']?.column === 'done');
    const events = (await firstValueFrom(node.stream.read(stream, { from: 'start' }).pipe(toArray()))).map((r) => r.data<BoardEvent>());
    expect(events.slice(-2)).toEqual([
      { type: 'card-added', cardId: 'a1', title: 'From Angular', column: 'todo' },
      { type: 'card-moved', cardId: 'a1', to: 'done' },
    ]);
    expect(board.projection().applied).toBe(5);
    expect(board.lastError()).toBeNull();

    // A failed write shows in lastError and in the connection status.
    await client!.close();
    await expect(board.add('after close')).rejects.toThrow();
    expect(board.lastError()).toMatch(/closed/i);
    expect(board.connection().lastError).toMatch(/closed/i);

    // Destroying the injector unsubscribes everything (the tail included) and closes the client.
    injector.destroy();
    expect(tails).toBe(0);
    const states: string[] = [];
    client!.state$.subscribe((s) => states.push(s)).unsubscribe();
    expect(states).toEqual(['closed']);
  });

  it('works when built with runInInjectionContext, and destroying the injector stops a live projection', async () => {
    let tails = 0;
    const injector = createEnvironmentInjector(
      [
        ...provideFloClient(() => {
          const flo = connectWs(server.wsUrl, { namespace: 'angular' });
          const tail = flo.stream.tail.bind(flo.stream);
          flo.stream.tail = (...args: Parameters<typeof tail>) => {
            tails++;
            return tail(...args).pipe(finalize(() => tails--));
          };
          return flo;
        }),
        { provide: FLO_BOARD_STREAM, useValue: stream },
      ],
      Injector.NULL as EnvironmentInjector,
    );
    const board = runInInjectionContext(injector, () => new FloBoardService());
    await waitFor('live', () => board.projection().status === 'live');
    expect(tails).toBe(1);
    const before = board.projection().applied;
    expect(before).toBeGreaterThan(0);
    injector.destroy();
    expect(tails).toBe(0);
  });
});
