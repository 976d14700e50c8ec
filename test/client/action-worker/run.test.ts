import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, Subject } from 'rxjs';
import { ManualClock } from '../../../src/server.js';
import { NotFoundError, InvalidArgumentError, BadRequestError } from '../../../src/node.js';
import { ActionTimeoutError, type ActionTask } from '../../../src/client/actions.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { eventually, record, workers } from './fixtures.js';

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function setup() {
  const clock = new ManualClock();
  env = await startEmbedded({ clock });
  return { clock, flo: env.client, env };
}

describe('flo.actions.worker', () => {
  it('registers actions and itself, runs a task, completes it with the codec-encoded result', async () => {
    const { flo } = await setup();
    const seen: ActionTask[] = [];
    const w = record(
      flo.actions.worker(
        {
          double: (task) => {
            seen.push(task);
            return { width: task.data<{ w: number }>().w * 2 };
          },
          bytes: async () => new Uint8Array([1, 2, 3]),
        },
        { workerId: 'w-1', concurrency: 4, labels: { zone: 'eu' }, machineId: 'host-a' },
      ),
    );
    const reg = await w.next('registered');
    expect(reg).toEqual({ type: 'registered', workerId: 'w-1', actions: ['double', 'bytes'], reregistered: false });
    const [info] = await workers(flo);
    expect(info).toMatchObject({ workerId: 'w-1', maxConcurrency: 4, metadata: '{"zone":"eu"}', machineId: 'host-a' });
    expect(info!.processes.map((p) => p.name)).toEqual(['double', 'bytes']);
    expect((await firstValueFrom(flo.actions.list())).map((a) => a.name).sort()).toEqual(['bytes', 'double']);

    const runId = await firstValueFrom(flo.actions.invoke('double', { w: 21 }, { labels: { zone: 'eu' } }));
    const done = await w.next('task-completed');
    expect(done.task).toMatchObject({ taskId: runId, action: 'double', attempt: 1, workerId: 'w-1', namespace: 'test' });
    expect(done.task.caller).toBeUndefined();
    expect(done.outcome).toBe('success');
    expect(new TextDecoder().decode(done.result)).toBe('{"width":42}');
    expect(done.settleError).toBeUndefined();
    const s = await firstValueFrom(flo.actions.status(runId));
    expect(s).toMatchObject({ status: 'completed', retryCount: 0 });
    expect(s.data()).toEqual({ width: 42 });

    const raw = await firstValueFrom(flo.actions.invoke('bytes', 'x'));
    await w.next('task-completed', (e) => e.task.taskId === raw);
    expect([...(await firstValueFrom(flo.actions.status(raw))).output!]).toEqual([1, 2, 3]);
    expect(w.types().slice(0, 3)).toEqual(['registered', 'task-started', 'task-completed']);
    w.sub.unsubscribe();
    await eventually(async () => (await workers(flo)).length === 0);
  });

  it('a handler that throws an Error is failed with retry=1 and redelivered (attempt 2) after the backoff', async () => {
    const { flo, clock } = await setup();
    let calls = 0;
    const w = record(
      flo.actions.worker({
        flaky: (task) => {
          calls++;
          if (task.attempt === 1) throw new Error('s3 timeout');
          return 'ok';
        },
      }),
    );
    await w.next('registered');
    const runId = await firstValueFrom(flo.actions.invoke('flaky', {}));
    const failed = await w.next('task-failed');
    expect(failed.retry).toBe(true);
    expect((failed.error as Error).message).toBe('s3 timeout');
    expect(await firstValueFrom(flo.actions.status(runId))).toMatchObject({ status: 'pending', error: 's3 timeout', retryCount: 0 });
    clock.advance(999);
    clock.advance(1); // server-side retry backoff 1000 × 2^0
    const done = await w.next('task-completed');
    expect(done.task.attempt).toBe(2);
    expect(calls).toBe(2);
    expect(await firstValueFrom(flo.actions.status(runId))).toMatchObject({ status: 'completed', retryCount: 1 });
    w.sub.unsubscribe();
  });

  it('NonRetryableError, a thrown non-Error and a result over 65535 bytes fail without retry', async () => {
    const { flo } = await setup();
    const { NonRetryableError, ActionResultTooLargeError } = await import('../../../src/client/actions.js');
    const w = record(
      flo.actions.worker({
        reject: () => {
          throw new NonRetryableError('amount must be positive');
        },
        panic: () => Promise.reject('boom'), // eslint-disable-line prefer-promise-reject-errors
        huge: () => new Uint8Array(65_536),
        fits: () => new Uint8Array(65_535),
      }),
    );
    await w.next('registered');
    const r1 = await firstValueFrom(flo.actions.invoke('reject', {}));
    const f1 = await w.next('task-failed', (e) => e.task.taskId === r1);
    expect(f1.retry).toBe(false);
    expect(await firstValueFrom(flo.actions.status(r1))).toMatchObject({ status: 'failed', error: 'amount must be positive', retryCount: 0 });

    const r2 = await firstValueFrom(flo.actions.invoke('panic', {}));
    const f2 = await w.next('task-failed', (e) => e.task.taskId === r2);
    expect(f2).toMatchObject({ retry: false, error: 'boom' });
    expect(await firstValueFrom(flo.actions.status(r2))).toMatchObject({ status: 'failed', error: 'action panicked: boom' });

    const r3 = await firstValueFrom(flo.actions.invoke('huge', {}));
    const f3 = await w.next('task-failed', (e) => e.task.taskId === r3);
    expect(f3.retry).toBe(false);
    expect(f3.error).toBeInstanceOf(ActionResultTooLargeError);
    const s3 = await firstValueFrom(flo.actions.status(r3));
    expect(s3.status).toBe('failed');
    expect(s3.error).toMatch(/65536 bytes.*65535/);

    const r4 = await firstValueFrom(flo.actions.invoke('fits', {}));
    await w.next('task-completed', (e) => e.task.taskId === r4);
    expect((await firstValueFrom(flo.actions.status(r4))).output).toHaveLength(65_535);
    w.sub.unsubscribe();
  });

  it('Observable handlers: the last value is the result; a named outcome via actionResult', async () => {
    const { flo } = await setup();
    const { actionResult } = await import('../../../src/client/actions.js');
    const { of } = await import('rxjs');
    const w = record(flo.actions.worker({ obs: () => of(1, 2, 3), named: () => actionResult('rejected', { why: 'no' }) }));
    await w.next('registered');
    const r1 = await firstValueFrom(flo.actions.invoke('obs', {}));
    const r2 = await firstValueFrom(flo.actions.invoke('named', {}));
    await w.next('task-completed', (e) => e.task.taskId === r1);
    const named = await w.next('task-completed', (e) => e.task.taskId === r2);
    expect(named.outcome).toBe('rejected');
    expect((await firstValueFrom(flo.actions.status(r1))).data()).toBe(3);
    expect((await firstValueFrom(flo.actions.status(r2))).data()).toEqual({ why: 'no' });
    w.sub.unsubscribe();
  });

  it('a handler that outlives its action timeout without touching loses its lease: another worker gets attempt 2', async () => {
    const { flo, clock, env: e } = await setup();
    const gate = new Subject<string>();
    const a = record(
      flo.actions.worker({ slow: { handler: () => firstValueFrom(gate), timeoutMs: 5000 } }, { workerId: 'a', concurrency: 1, touchFraction: false }),
    );
    await a.next('registered');
    const runId = await firstValueFrom(flo.actions.invoke('slow', {}));
    await a.next('task-started');
    const other = e.newClient();
    const b = record(other.actions.worker({ slow: { handler: () => 'from b', timeoutMs: 5000 } }, { workerId: 'b', concurrency: 1 }));
    await b.next('registered');
    clock.advance(4999);
    expect(await firstValueFrom(flo.actions.status(runId))).toMatchObject({ status: 'running', retryCount: 0 });
    clock.advance(1); // the lease runs out: a retryable failure, claimable at once (`docs/protocol-decisions.md` #27)
    const done = await b.next('task-completed');
    expect(done.task).toMatchObject({ taskId: runId, attempt: 2 });
    const s = await firstValueFrom(flo.actions.status(runId));
    expect(s).toMatchObject({ status: 'completed', retryCount: 1 });
    expect(new TextDecoder().decode(s.output)).toBe('from b');

    gate.next('from a, too late');
    const late = await a.next('task-completed');
    expect(late.settleError).toBeInstanceOf(NotFoundError); // `docs/protocol-decisions.md` #28: the run had moved on
    expect(new TextDecoder().decode((await firstValueFrom(flo.actions.status(runId))).output)).toBe('from b');
    a.sub.unsubscribe();
    b.sub.unsubscribe();
  });

  it('touches the lease of a long-running task so that it outlives the action timeout', async () => {
    const { flo, clock } = await setup();
    const gate = new Subject<string>();
    const w = record(flo.actions.worker({ long: { handler: () => firstValueFrom(gate), timeoutMs: 1000 } }, { touchFraction: 0.02 }));
    await w.next('registered');
    const runId = await firstValueFrom(flo.actions.invoke('long', {}));
    await w.next('task-started');
    let touches = 0;
    for (let i = 0; i < 4; i++) {
      // Two touches seen after the last advance: the second was sent after it, so the lease ends 1000 ms after now.
      touches += 2;
      await w.next('task-touched', () => true, touches);
      clock.advance(900);
    }
    expect(await firstValueFrom(flo.actions.status(runId))).toMatchObject({ status: 'running', retryCount: 0 });
    gate.next('done');
    await w.next('task-completed');
    expect(await firstValueFrom(flo.actions.status(runId))).toMatchObject({ status: 'completed', retryCount: 0 });
    w.sub.unsubscribe();
  });

  it('never runs more than `concurrency` tasks at once', async () => {
    const { flo } = await setup();
    const gates: Subject<number>[] = [];
    let running = 0;
    let peak = 0;
    const w = record(
      flo.actions.worker(
        {
          job: async () => {
            running++;
            peak = Math.max(peak, running);
            const g = new Subject<number>();
            gates.push(g);
            const v = await firstValueFrom(g);
            running--;
            return v;
          },
        },
        { concurrency: 3 },
      ),
    );
    await w.next('registered');
    const ids = await Promise.all(Array.from({ length: 7 }, (_, i) => firstValueFrom(flo.actions.invoke('job', i))));
    await w.next('task-started', () => true, 3);
    await eventually(async () => (await firstValueFrom(flo.actions.listRuns('job'))).filter((r) => r.status === 'running').length === 3);
    for (let done = 0; done < 7; done++) {
      await eventually(() => gates.length > done);
      gates[done]!.next(done);
      await w.next('task-completed', () => true, done + 1);
    }
    expect(peak).toBe(3);
    const statuses = await Promise.all(ids.map((id) => firstValueFrom(flo.actions.status(id))));
    expect(statuses.every((s) => s.status === 'completed')).toBe(true);
    w.sub.unsubscribe();
  });

  it('unsubscribing drains: running tasks finish and settle, then deregister; a late await reply is failed with retry=1', async () => {
    const { flo } = await setup();
    const gate = new Subject<void>();
    const w = record(flo.actions.worker({ job: async () => (await firstValueFrom(gate), 'finished') }, { concurrency: 3, workerId: 'drainer' }));
    await w.next('registered');
    const [r1, r2] = await Promise.all([firstValueFrom(flo.actions.invoke('job', 1)), firstValueFrom(flo.actions.invoke('job', 2))]);
    await w.next('task-started', () => true, 2);
    w.sub.unsubscribe();
    expect(w.sub.closed).toBe(true);
    // The third slot's await is still parked on the server: a run invoked now is claimed by it and
    // the reply comes back after the unsubscribe → FAIL retry=1 at once (`docs/protocol-decisions.md` #5).
    const r3 = await firstValueFrom(flo.actions.invoke('job', 3));
    const s3 = await eventually(async () => {
      const s = await firstValueFrom(flo.actions.status(r3));
      return s.error ? s : undefined;
    });
    expect(s3).toMatchObject({ status: 'pending', retryCount: 0, error: 'worker stopped before running the task' });
    expect((await workers(flo)).map((x) => x.workerId)).toEqual(['drainer']); // still running r1 and r2
    expect((await firstValueFrom(flo.actions.status(r1))).status).toBe('running');
    gate.next();
    await eventually(async () => (await workers(flo)).length === 0);
    for (const id of [r1, r2]) expect(await firstValueFrom(flo.actions.status(id))).toMatchObject({ status: 'completed' });
    expect(w.types().filter((t) => t !== 'heartbeat')).toEqual(['registered', 'task-started', 'task-started']);
  });

  it('`until` drains while still reporting, then completes after deregistered', async () => {
    const { flo } = await setup();
    const stop = new Subject<void>();
    const gate = new Subject<void>();
    const w = record(flo.actions.worker({ job: async () => (await firstValueFrom(gate), 1) }, { until: stop, concurrency: 2 }));
    await w.next('registered');
    await firstValueFrom(flo.actions.invoke('job', {}));
    await w.next('task-started');
    stop.next();
    await w.next('draining');
    gate.next();
    await w.ended;
    expect(w.types()).toEqual(['registered', 'task-started', 'draining', 'task-completed', 'deregistered']);
    expect(await workers(flo)).toEqual([]);
  });

  it('drainTimeoutMs: a handler that never finishes is abandoned (FAIL retry=1), the worker deregisters, the run is delivered again', async () => {
    const { flo, clock, env: e } = await setup();
    const stop = new Subject<void>();
    const w = record(flo.actions.worker({ hang: () => new Promise<never>(() => undefined) }, { until: stop, drainTimeoutMs: 50, workerId: 'hung' }));
    await w.next('registered');
    const runId = await firstValueFrom(flo.actions.invoke('hang', 'x'));
    await w.next('task-started');
    stop.next();
    const failed = await w.next('task-failed');
    expect(failed.retry).toBe(true);
    expect(failed.error).toBeInstanceOf(ActionTimeoutError);
    expect(failed.error).toMatchObject({ limit: 'drain', timeoutMs: 50 });
    expect(failed.settleError).toBeUndefined();
    await w.ended;
    expect(w.types()).toEqual(['registered', 'task-started', 'draining', 'task-failed', 'deregistered']);
    expect(await workers(flo)).toEqual([]);
    expect(await firstValueFrom(flo.actions.status(runId))).toMatchObject({
      status: 'pending',
      retryCount: 0,
      error: 'action abandoned: still running 50 ms after the worker began draining',
    });

    const b = record(e.newClient().actions.worker({ hang: (t) => t.attempt }, { workerId: 'next' }));
    await b.next('registered');
    clock.advance(1000); // server-side retry backoff
    const done = await b.next('task-completed');
    expect(done.task).toMatchObject({ taskId: runId, attempt: 2 });
    expect(await firstValueFrom(flo.actions.status(runId))).toMatchObject({ status: 'completed', retryCount: 1 });
    b.sub.unsubscribe();
  });

  it('unsubscribing bounds the drain too: the abandoned task is failed with retry=1, then the worker deregisters', async () => {
    const { flo } = await setup();
    const w = record(flo.actions.worker({ hang: () => new Subject<never>() }, { drainTimeoutMs: 50, workerId: 'gone' }));
    await w.next('registered');
    const runId = await firstValueFrom(flo.actions.invoke('hang', 'x'));
    await w.next('task-started');
    w.sub.unsubscribe();
    const s = await eventually(async () => {
      const st = await firstValueFrom(flo.actions.status(runId));
      return st.error ? st : undefined;
    });
    expect(s).toMatchObject({ status: 'pending', retryCount: 0, error: expect.stringMatching(/^action abandoned/) });
    await eventually(async () => (await workers(flo)).length === 0);
  });

  it('handlerTimeoutMs: a handler still running then is failed without retry, as the Go worker does', async () => {
    const { flo } = await setup();
    const w = record(flo.actions.worker({ slow: () => new Promise<never>(() => undefined) }, { handlerTimeoutMs: 50 }));
    await w.next('registered');
    const runId = await firstValueFrom(flo.actions.invoke('slow', {}));
    const failed = await w.next('task-failed');
    expect(failed).toMatchObject({ retry: false, error: { limit: 'handler', timeoutMs: 50, message: 'action timed out after 50 ms' } });
    expect(failed.error).toBeInstanceOf(ActionTimeoutError);
    expect(await firstValueFrom(flo.actions.status(runId))).toMatchObject({ status: 'failed', error: 'action timed out after 50 ms' });
    w.sub.unsubscribe();
    await eventually(async () => (await workers(flo)).length === 0);
  });

  it('drains when the server says so (WORKER_DRAIN)', async () => {
    const { flo } = await setup();
    const w = record(flo.actions.worker({ job: () => 1 }, { workerId: 'w-d', heartbeatMs: 20 }));
    await w.next('registered');
    const { encodeWorkerDrain } = await import('../../../src/protocol/index.js');
    const { Op } = await import('../../../src/protocol/index.js');
    await firstValueFrom(flo.core.call(flo.core.spec(Op.WorkerDrain, encodeWorkerDrain({ workerId: 'w-d' })), () => undefined));
    expect(await w.next('draining')).toEqual({ type: 'draining', reason: 'server' });
    await w.ended;
    expect(w.types().at(-1)).toBe('deregistered');
  });

  it('refuses bad options with InvalidArgumentError', async () => {
    const { flo } = await setup();
    await expect(lastValueFrom(flo.actions.worker({}))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(lastValueFrom(flo.actions.worker({ a: () => 1 }, { concurrency: 0 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(lastValueFrom(flo.actions.worker({ a: () => 1 }, { blockMs: 0 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(lastValueFrom(flo.actions.worker({ a: () => 1 }, { touchFraction: 1 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    for (const handlerTimeoutMs of [0, -1, NaN, 2 ** 31]) {
      await expect(lastValueFrom(flo.actions.worker({ a: () => 1 }, { handlerTimeoutMs }))).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    for (const drainTimeoutMs of [-1, NaN, -Infinity]) {
      await expect(lastValueFrom(flo.actions.worker({ a: () => 1 }, { drainTimeoutMs }))).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    // a registration the server refuses ends the worker with that error
    await expect(lastValueFrom(flo.actions.worker({ ['x'.repeat(300)]: () => 1 }))).rejects.toBeInstanceOf(BadRequestError);
  });
});
