import { describe, expect, it } from 'vitest';
import { defer, finalize, map, tap, type Observable } from 'rxjs';
import { jsonCodec } from '../../../src/codec/index.js';
import { SettleCoalescer } from '../../../src/client/core/coalescer.js';
import { createClientCore } from '../../../src/client/core/context.js';
import { ActionTimeoutError, type ActionHandlers, type ActionWorkerOptions } from '../../../src/client/action-worker/index.js';
import { checkWorkerOptions } from '../../../src/client/action-worker/options.js';
import { runWorker, type WorkerEvent } from '../../../src/client/action-worker/run.js';
import type { RequestSpec } from '../../../src/connection/types.js';
import { decodeActionComplete, decodeActionFail, encodeActionAwaitReply, Op, utf8, type ResponseFrame } from '../../../src/protocol/index.js';
import { fakeChannel, newScheduler, ok } from '../../helpers.js';

const task = (id: string) => ok(encodeActionAwaitReply({ taskId: id, taskType: 'job', createdAt: 1n, attempt: 1, payload: utf8(`"${id}"`) }));

const code = (e: WorkerEvent): string => {
  switch (e.type) {
    case 'registered':
      return 'r';
    case 'task-started':
      return e.task.taskId.toLowerCase();
    case 'task-completed':
      return e.task.taskId;
    case 'draining':
      return 'd';
    case 'deregistered':
      return 'x';
    default:
      return '?';
  }
};

/**
 * A fake channel: every request but ACTION_AWAIT is answered OK one frame later; the awaits get
 * the scripted replies in order. Checks on every change that awaits in flight + tasks running never
 * exceed `concurrency`.
 */
function setup(ts: ReturnType<typeof newScheduler>, cold: (m: string, v?: Record<string, unknown>) => Observable<unknown>, awaits: Observable<ResponseFrame>[], concurrency: number) {
  let inFlight = 0;
  let running = 0;
  let peak = 0;
  const check = () => {
    peak = Math.max(peak, inFlight + running);
    expect(inFlight + running).toBeLessThanOrEqual(concurrency);
  };
  let nextAwait = 0;
  const channel = fakeChannel(ts, (spec) => {
    if (spec.opcode !== Op.ActionAwait) return cold('-(r|)', { r: ok() }) as Observable<ResponseFrame>;
    const reply$ = awaits[nextAwait++] ?? (cold('-') as Observable<ResponseFrame>);
    return defer(() => {
      inFlight++;
      check();
      let counted = true;
      const release = () => {
        if (counted) inFlight--;
        counted = false;
      };
      // the await stops counting when its reply arrives (a task then counts as running) or it is cancelled
      return reply$.pipe(tap(release), finalize(release));
    });
  });
  const core = createClientCore({ channel, codec: jsonCodec, namespace: 'ns', timeoutMs: undefined, settles: new SettleCoalescer() });
  const track = (e: WorkerEvent) => {
    if (e.type === 'task-started') running++;
    if (e.type === 'task-completed' || e.type === 'task-failed') running--;
    check();
  };
  // The run loop itself (what `actions.worker` loads on first use), on the test scheduler's virtual time.
  const actions = {
    worker: (handlers: ActionHandlers, options: ActionWorkerOptions = {}) => defer(() => runWorker(core, checkWorkerOptions(handlers, options), options)),
  };
  return { channel, actions, track, peak: () => peak };
}

describe('actions.worker slot accounting', () => {
  it('keeps one await per free slot, never more awaits + tasks than concurrency; unsubscribe cancels the awaits', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a0 = cold('--(t|)', { t: task('A') });
      const a1 = cold('----(t|)', { t: task('B') });
      const a2 = cold('-');
      const a3 = cold('-');
      const handlers = { A: cold('-----(x|)', { x: 1 }), B: cold('--(y|)', { y: 2 }) };
      const { channel, actions, track, peak } = setup(ts, cold, [a0, a1, a2, a3] as Observable<ResponseFrame>[], 2);
      const worker$ = actions
        .worker({ job: (t) => handlers[t.data<'A' | 'B'>()] }, { concurrency: 2, heartbeatMs: 1000, workerId: 'w' })
        .pipe(map((e) => (track(e), code(e))));
      expectObservable(worker$, '^--------------!').toBe('--r-a-b--BA');
      expectSubscriptions(a0.subscriptions).toBe('--^-!');
      expectSubscriptions(a1.subscriptions).toBe('--^---!');
      expectSubscriptions(handlers.A.subscriptions).toBe('----^----!');
      expectSubscriptions(handlers.B.subscriptions).toBe('------^-!');
      // B settles at 9 → its slot awaits again; A settles at 10 → another await. Both are cancelled on unsubscribe.
      expectSubscriptions(a2.subscriptions).toBe('---------^-----!');
      expectSubscriptions(a3.subscriptions).toBe('----------^----!');
      ts.flush();
      expect(peak()).toBe(2);
      const ops = channel.sent.map((s) => `${s.at}:${s.spec.opcode.toString(16)}`);
      expect(ops).toEqual([
        '0:300', // ACTION_REGISTER job
        '1:320', // WORKER_REGISTER
        '2:306',
        '2:306',
        '8:307', // COMPLETE B
        '9:307', // COMPLETE A (its handler ended at 9)
        '9:306', // B's COMPLETE answered at 9: its slot awaits again
        '10:306',
        '15:322', // WORKER_DEREGISTER once nothing runs
      ]);
      const completes = channel.sent.filter((s) => s.spec.opcode === Op.ActionComplete).map((s) => decodeActionComplete({ key: s.spec.body.key!, value: s.spec.body.value!, options: new Uint8Array(0) } as never));
      expect(completes.map((c) => [c.taskId, c.outcome, new TextDecoder().decode(c.result)])).toEqual([
        ['B', 'success', '2'],
        ['A', 'success', '1'],
      ]);
    });
  });

  it('with one slot, the next await waits for the running task to settle; `until` drains and completes after deregistering', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a0 = cold('--(t|)', { t: task('A') });
      const handler = cold('------(x|)', { x: 'done' });
      const { channel, actions, track } = setup(ts, cold, [a0] as Observable<ResponseFrame>[], 1);
      const until = hot('-------s');
      const worker$ = actions.worker({ job: () => handler }, { concurrency: 1, heartbeatMs: 1000, until }).pipe(map((e) => (track(e), code(e))));
      expectObservable(worker$).toBe('--r-a--d---A(x|)');
      expectSubscriptions(handler.subscriptions).toBe('----^-----!');
      ts.flush();
      // a single await (the slot was busy until the drain), and the deregister after the COMPLETE
      expect(channel.sent.filter((s) => s.spec.opcode === Op.ActionAwait)).toHaveLength(1);
      expect(channel.sent.map((s) => s.spec.opcode).slice(-2)).toEqual([Op.ActionComplete, Op.WorkerDeregister]);
    });
  });
});

/** The FAIL requests sent: [virtual time, task, retry, message]. */
function fails(sent: readonly { spec: RequestSpec; at: number }[]): [number, string, boolean, string][] {
  return sent
    .filter((s) => s.spec.opcode === Op.ActionFail)
    .map((s) => {
      const f = decodeActionFail({ key: s.spec.body.key!, value: s.spec.body.value!, options: new Uint8Array(0) } as never);
      return [s.at, f.taskId, f.retry, f.error];
    });
}

describe('actions.worker time limits (virtual time)', () => {
  const failed = (e: WorkerEvent) => (e.type === 'task-failed' ? 'F' : code(e));

  it('handlerTimeoutMs defaults to 5 minutes: a handler still running then is failed without retry (ActionTimeoutError)', () => {
    const ts = newScheduler();
    const events: WorkerEvent[] = [];
    let channel!: ReturnType<typeof setup>['channel'];
    ts.run(({ cold, expectSubscriptions }) => {
      const a0 = cold('--(t|)', { t: task('A') });
      const handler = cold('-'); // never ends
      const s = setup(ts, cold, [a0] as Observable<ResponseFrame>[], 1);
      channel = s.channel;
      const sub = s.actions.worker({ job: () => handler }, { concurrency: 1, heartbeatMs: 1_000_000, workerId: 'w' }).subscribe((e) => events.push(e));
      ts.schedule(() => sub.unsubscribe(), 400_000);
      expectSubscriptions(handler.subscriptions).toBe('----^ 299999ms !'); // started at 4, stopped at 300 004
    });
    expect(fails(channel.sent)).toEqual([[300_004, 'A', false, 'action timed out after 300000 ms']]);
    const f = events.find((e) => e.type === 'task-failed');
    expect(f).toMatchObject({ retry: false, error: { timeoutMs: 300_000, limit: 'handler' } });
    expect((f as { error: unknown }).error).toBeInstanceOf(ActionTimeoutError);
    expect(channel.sent.at(-1)).toMatchObject({ at: 400_000, spec: { opcode: Op.WorkerDeregister } });
  });

  it('drainTimeoutMs: a handler still running when it runs out is abandoned (FAIL retry=1), then the worker deregisters', () => {
    const ts = newScheduler();
    let channel!: ReturnType<typeof setup>['channel'];
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a0 = cold('--(t|)', { t: task('A') });
      const handler = cold('-'); // never ends
      const s = setup(ts, cold, [a0] as Observable<ResponseFrame>[], 1);
      channel = s.channel;
      const until = hot('----------s');
      const worker$ = s.actions.worker({ job: () => handler }, { concurrency: 1, heartbeatMs: 1_000_000, until, drainTimeoutMs: 50, handlerTimeoutMs: Infinity });
      // draining at 10; at 60 the FAIL goes out, answered at 61; the deregister is answered at 62
      expectObservable(worker$.pipe(map(failed))).toBe('--r-a-----d 50ms F(x|)');
      expectSubscriptions(handler.subscriptions).toBe('----^ 55ms !');
    });
    expect(fails(channel.sent)).toEqual([[60, 'A', true, 'action abandoned: still running 50 ms after the worker began draining']]);
    expect(channel.sent.map((s) => s.spec.opcode).slice(-2)).toEqual([Op.ActionFail, Op.WorkerDeregister]);
  });

  it('handlerTimeoutMs and drainTimeoutMs Infinity: a draining worker waits for its handler however long it takes', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const a0 = cold('--(t|)', { t: task('A') });
      const handler = cold('500000ms (y|)', { y: 1 });
      const s = setup(ts, cold, [a0] as Observable<ResponseFrame>[], 1);
      const until = hot('----------s');
      const worker$ = s.actions.worker({ job: () => handler }, { concurrency: 1, heartbeatMs: 1_000_000, until, drainTimeoutMs: Infinity, handlerTimeoutMs: Infinity, touchFraction: false });
      // the handler ends at 500 004, its COMPLETE is answered at 500 005
      expectObservable(worker$.pipe(map(failed))).toBe('--r-a-----d 499994ms A(x|)');
    });
  });
});
