// `actions.worker` as the client loads it (start.ts): the options are checked when the worker is
// subscribed, then the run loop is imported. Run on its own file so that the run loop is not
// loaded before the first test starts a worker (vitest gives each file its own module graph).
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { InvalidArgumentError } from '../../../src/node.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { record, workers } from './fixtures.js';

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('actions.worker: the run loop loads on first use', () => {
  it('unsubscribing before the run loop loaded sends nothing: no worker is registered', async () => {
    env = await startEmbedded();
    const flo = env.client;
    const events: string[] = [];
    flo.actions.worker({ never: () => 1 }, { workerId: 'w-gone', dedicatedAwaitConnection: false }).subscribe((e) => events.push(e.type)).unsubscribe();
    // a later worker registers normally; the first one never did
    const w = record(flo.actions.worker({ later: () => 1 }, { workerId: 'w-later', dedicatedAwaitConnection: false }));
    await w.next('registered');
    expect(events).toEqual([]);
    expect((await workers(flo)).map((x) => x.workerId)).toEqual(['w-later']);
    w.sub.unsubscribe();
  });

  it('a worker started through the public API before the run loop was ever loaded registers, runs a task and completes it', async () => {
    env = await startEmbedded();
    const flo = env.client;
    const w = record(flo.actions.worker({ double: (task) => task.data<number>() * 2 }, { concurrency: 1, dedicatedAwaitConnection: false }));
    await w.next('registered');
    const runId = await firstValueFrom(flo.actions.invoke('double', 21));
    const done = await w.next('task-completed');
    expect(done.task.taskId).toBe(runId);
    expect(new TextDecoder().decode(done.result)).toBe('42');
    const status = await firstValueFrom(flo.actions.status(runId));
    expect(status.status).toBe('completed');
    expect(status.data()).toBe(42);
    w.sub.unsubscribe();
  });

  it('a bad option errors the subscription at once, before anything loads or is sent', async () => {
    env = await startEmbedded();
    const errors: unknown[] = [];
    env.client.actions.worker({ a: () => 1 }, { concurrency: 0 }).subscribe({ error: (e: unknown) => errors.push(e) });
    expect(errors).toHaveLength(1); // synchronously, as before the run loop was split off
    expect(errors[0]).toBeInstanceOf(InvalidArgumentError);
    await expect(lastValueFrom(env.client.actions.worker({}))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

});
