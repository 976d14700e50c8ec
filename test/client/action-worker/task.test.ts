// The action worker's task.signal (aborts on handler timeout and at the drain deadline) and
// flo.drain() draining a worker, over real sockets against the embedded server.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { ManualClock } from '../../../src/server.js';
import { ActionTimeoutError } from '../../../src/client/actions.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { record } from './fixtures.js';

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const abortReason = (signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));

describe('action worker: task.signal', () => {
  it('aborts with ActionTimeoutError when the handler runs past handlerTimeoutMs', async () => {
    env = await startEmbedded({ clock: new ManualClock() });
    const flo = env.client;
    let reason: Promise<unknown> | undefined;
    const w = record(flo.actions.worker({ slow: (task) => ((reason = abortReason(task.signal)), new Promise<never>(() => undefined)) }, { handlerTimeoutMs: 50 }));
    await w.next('registered');
    await firstValueFrom(flo.actions.invoke('slow', {}));
    await w.next('task-failed');
    expect(await reason).toBeInstanceOf(ActionTimeoutError);
    w.sub.unsubscribe();
  });

  it('flo.drain() drains the worker: a task still running at the drain deadline sees its signal abort, then the worker deregisters', async () => {
    env = await startEmbedded({ clock: new ManualClock() });
    const flo = env.client;
    let reason: Promise<unknown> | undefined;
    const w = record(
      flo.actions.worker({ slow: (task) => ((reason = abortReason(task.signal)), new Promise<never>(() => undefined)) }, { drainTimeoutMs: 50 }),
    );
    await w.next('registered');
    await firstValueFrom(flo.actions.invoke('slow', {}));
    await w.next('task-started');
    await flo.drain();
    await w.ended;
    expect(w.types()).toContain('draining');
    expect(w.types().at(-1)).toBe('deregistered');
    const why = await reason;
    expect(why).toBeInstanceOf(ActionTimeoutError);
    expect((why as ActionTimeoutError).limit).toBe('drain');
  });

  it("without its own drainTimeoutMs, the worker's drain deadline is flo.drain({ timeoutMs })", async () => {
    env = await startEmbedded({ clock: new ManualClock() });
    const flo = env.client;
    let reason: Promise<unknown> | undefined;
    // No drainTimeoutMs: the default (30 s) would outlast the test's own timeout.
    const w = record(flo.actions.worker({ slow: (task) => ((reason = abortReason(task.signal)), new Promise<never>(() => undefined)) }));
    await w.next('registered');
    await firstValueFrom(flo.actions.invoke('slow', {}));
    await w.next('task-started');
    await flo.drain({ timeoutMs: 40 });
    await w.ended;
    const why = await reason;
    expect(why).toBeInstanceOf(ActionTimeoutError);
    expect((why as ActionTimeoutError).limit).toBe('drain');
    expect((why as ActionTimeoutError).timeoutMs).toBe(40);
    const failed = w.events.find((e) => e.type === 'task-failed');
    expect(failed).toMatchObject({ type: 'task-failed', retry: true });
  });

  it("the worker's own drainTimeoutMs wins over flo.drain({ timeoutMs })", async () => {
    env = await startEmbedded({ clock: new ManualClock() });
    const flo = env.client;
    let reason: Promise<unknown> | undefined;
    const w = record(
      flo.actions.worker({ slow: (task) => ((reason = abortReason(task.signal)), new Promise<never>(() => undefined)) }, { drainTimeoutMs: 30 }),
    );
    await w.next('registered');
    await firstValueFrom(flo.actions.invoke('slow', {}));
    await w.next('task-started');
    await flo.drain({ timeoutMs: 600_000 });
    await w.ended;
    expect(((await reason) as ActionTimeoutError).timeoutMs).toBe(30);
  });
});
