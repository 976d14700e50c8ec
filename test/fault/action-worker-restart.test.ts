// The action worker under faults: handlers that throw (retryably, not, or a non-Error "panic"), a
// handler that outlives its action's lease, and server restarts while tasks are leased. Every run
// must end terminal, none lost, none completed twice on the server; a run may be executed more than
// once (at-least-once) only when an earlier attempt's COMPLETE did not finish it.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, Subject } from 'rxjs';
import { connect, isNotFound, NonRetryableError, type FloClient } from '../../src/node.js';
import { ManualClock, startServer, type FloServer } from '../../src/server.js';
import type { ActionRunStatus, ActionTask, WorkerEvent } from '../../src/client/actions.js';
import { record } from '../client/action-worker/fixtures.js';
import { waitFor } from './support.js';

let server: FloServer | undefined;
const clients: FloClient[] = [];

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
});

function client(s: FloServer, debug?: (line: string) => void): FloClient {
  const c = connect(`127.0.0.1:${s.port}`, {
    namespace: 'fault',
    timeoutMs: 5000,
    reconnect: { minTimeoutMs: 5, maxTimeoutMs: 50, randomize: false },
    ...(debug ? { debug } : {}),
  });
  clients.push(c);
  return c;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls an async condition; the timeout is a safety net against a hang, never asserted on. */
async function until<T>(check: () => Promise<T | undefined | false>, what: () => string, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await sleep(20);
  }
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);
const bytesEqual = (a: Uint8Array | undefined, b: Uint8Array | undefined) => !!a && !!b && Buffer.from(a).equals(Buffer.from(b));

/** What the test's handler did, per run. */
interface Execution {
  readonly attempt: number;
  ended?: 'returned' | 'threw';
}

type Kind = 'ok' | 'flaky-once' | 'always-throws' | 'non-retryable' | 'panics';
/** The behaviour of run number `i` (5 of every 8 runs end completed, 3 failed). */
function kindOf(i: number): Kind {
  switch (i % 8) {
    case 3:
      return 'flaky-once';
    case 5:
      return 'always-throws';
    case 6:
      return 'non-retryable';
    case 7:
      return 'panics';
    default:
      return 'ok';
  }
}

describe('action worker under faults', () => {
  it('throwing handlers and two server restarts while tasks are leased: every run ends completed or failed, none lost, none completed twice', async () => {
    server = await startServer({ port: 0 }); // real clock: leases and retry backoffs run by themselves
    const sent = new Map<string, number>(); // requests the worker's client wrote, by op (resends included)
    const flo = client(server, (line) => {
      if (!line.includes('→')) return;
      const op = line.split(' ')[3] ?? '?';
      sent.set(op, (sent.get(op) ?? 0) + 1);
    });
    const admin = client(server);

    const N = 40;
    const executions = new Map<string, Execution[]>();
    let inHandler = 0;
    let restartOnReturn = false;
    let restarting: Promise<void> | undefined;
    let started = 0;
    const handler = async (task: ActionTask): Promise<{ i: number; attempt: number }> => {
      const { i } = task.data<{ i: number }>();
      const exec: Execution = { attempt: task.attempt };
      const list = executions.get(task.taskId) ?? [];
      list.push(exec);
      executions.set(task.taskId, list);
      inHandler++;
      started++;
      try {
        await sleep(50 + ((i * 37) % 150)); // 50-199 ms of "work"
        const kind = kindOf(i);
        if (kind === 'flaky-once' && task.attempt === 1) throw new Error(`flaky ${i}`);
        if (kind === 'always-throws') throw new Error(`broken ${i}`);
        if (kind === 'non-retryable') throw new NonRetryableError(`invalid ${i}`);
        if (kind === 'panics') throw `panic ${i}`; // a non-Error throw: the Go "panic" case (`docs/protocol-decisions.md` #29)
        exec.ended = 'returned';
        if (restartOnReturn) {
          // Restart 2 starts as this handler returns: its COMPLETE goes out while connections drop.
          restartOnReturn = false;
          restarting = server!.restart();
        }
        return { i, attempt: task.attempt };
      } catch (e) {
        exec.ended = 'threw';
        throw e;
      } finally {
        inHandler--;
      }
    };

    const stop = new Subject<void>();
    let workerError: unknown;
    // Lease 2 s (touched every 1 s while a handler runs): a claim whose reply got lost would come back after it.
    const w = record(flo.actions.worker({ job: { handler, timeoutMs: 2000 } }, { workerId: 'faulty', concurrency: 4, until: stop }));
    w.ended.catch((e: unknown) => (workerError = e));
    await w.next('registered');

    const runIds: string[] = [];
    for (let i = 0; i < N; i++) runIds.push(await firstValueFrom(admin.actions.invoke('job', { i })));
    const indexOf = new Map(runIds.map((id, i) => [id, i]));

    const reregistered = () => w.events.filter((e) => e.type === 'registered' && e.reregistered).length;
    const reconnecting = () => w.events.filter((e) => e.type === 'reconnecting').length;

    // Restart 1: while several handlers run, i.e. several runs are leased to this worker.
    await waitFor(() => inHandler >= 3, () => `3 handlers running at once (running ${inHandler}, started ${started})`);
    const leasedAtFirst = inHandler;
    await server.restart();
    await waitFor(() => reconnecting() >= 1 && reregistered() >= 1, () => `reconnecting + re-registration (events: ${w.types().join(',')})`);

    // Restart 2: once the worker took more tasks after the first restart and runs some of them,
    // started by the next handler to return (so a COMPLETE races the dropped connections).
    const startedBefore = started;
    await waitFor(() => started >= startedBefore + 4 && inHandler >= 2, () => `more tasks after restart 1 (started ${started}, running ${inHandler})`);
    restartOnReturn = true;
    await waitFor(() => restarting !== undefined, () => 'a handler to return and start restart 2');
    const leasedAtSecond = inHandler + 1;
    await restarting;
    await waitFor(() => reconnecting() >= 2 && reregistered() >= 2, () => `second reconnecting + re-registration (events: ${w.types().join(',')})`);

    // Eventually every run is terminal, seen from another client.
    let statuses = new Map<string, ActionRunStatus>();
    await until(
      async () => {
        statuses = new Map(await Promise.all(runIds.map(async (id) => [id, await firstValueFrom(admin.actions.status(id))] as const)));
        return [...statuses.values()].every((s) => TERMINAL.has(s.status));
      },
      () => `all runs terminal; not yet: ${[...statuses.values()].filter((s) => !TERMINAL.has(s.status)).map((s) => `${indexOf.get(s.runId)}:${s.status}`).join(' ')}`,
    );
    // Settles still in flight for a run already terminal (a late COMPLETE answered NOT_FOUND) have landed.
    await waitFor(() => inHandler === 0, () => 'handlers to finish');
    await waitFor(
      () => {
        const settled = w.events.filter((e) => e.type === 'task-completed' || e.type === 'task-failed').length;
        return settled === w.events.filter((e) => e.type === 'task-started').length;
      },
      () => 'every started task to be settled',
    );

    const events = w.events;
    const byRun = <T extends WorkerEvent['type']>(type: T, id: string) =>
      events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type && 'task' in e && e.task.taskId === id);

    let duplicateExecutions = 0;
    const duplicateNotes: string[] = [];
    for (const [i, id] of runIds.entries()) {
      const s = statuses.get(id)!;
      const kind = kindOf(i);
      const execs = executions.get(id) ?? [];
      const completions = byRun('task-completed', id);
      const clean = completions.filter((e) => e.settleError === undefined);
      const failures = byRun('task-failed', id);
      const ctx = `run ${i} (${kind}): ${s.status} retryCount=${s.retryCount} execs=${JSON.stringify(execs)}`;

      // None lost: it ran, and it ended completed or failed (never pending, running or timed out).
      expect(execs.length, ctx).toBeGreaterThanOrEqual(1);
      expect(['completed', 'failed'], ctx).toContain(s.status);
      // Each delivery is a new attempt, and the server counted at least as many as the handler saw.
      const attempts = execs.map((e) => e.attempt);
      expect(new Set(attempts).size, ctx).toBe(attempts.length);
      expect(Math.max(...attempts), ctx).toBeLessThanOrEqual(s.retryCount + 1);
      expect(s.retryCount + 1, ctx).toBeLessThanOrEqual(3); // maxRetries (default 3)
      // A settle error is only ever "the run had moved on".
      for (const e of [...completions, ...failures]) if (e.settleError !== undefined) expect(isNotFound(e.settleError), ctx).toBe(true);
      // At most one COMPLETE was accepted for the run.
      expect(clean.length, ctx).toBeLessThanOrEqual(1);

      if (kind === 'ok' || kind === 'flaky-once') {
        expect(s.status, ctx).toBe('completed');
        const out = s.data<{ i: number; attempt: number }>()!;
        expect(out.i, ctx).toBe(i);
        // The output is the result of the one COMPLETE the server accepted: the clean one when its
        // reply came back, else one whose reply was lost in a restart (resent, answered NOT_FOUND).
        if (clean.length === 1) expect(bytesEqual(s.output, clean[0]!.result), ctx).toBe(true);
        else expect(completions.some((e) => bytesEqual(s.output, e.result)), ctx).toBe(true);
        expect(execs.some((e) => e.attempt === out.attempt && e.ended === 'returned'), ctx).toBe(true);
        if (kind === 'flaky-once') expect(out.attempt, ctx).toBeGreaterThanOrEqual(2);
        // No FAIL was accepted after the completion, nor a final (non-retry) FAIL at all.
        expect(failures.filter((e) => e.settleError === undefined && !e.retry), ctx).toEqual([]);
      } else {
        expect(s.status, ctx).toBe('failed');
        expect(s.output, ctx).toBeUndefined();
        expect(clean, ctx).toEqual([]);
        if (kind === 'always-throws') {
          expect(s.error, ctx).toBe(`broken ${i}`);
          expect(s.retryCount, ctx).toBe(2); // three deliveries, each FAIL retry=1
        } else if (kind === 'non-retryable') {
          expect(s.error, ctx).toBe(`invalid ${i}`);
        } else {
          expect(s.error, ctx).toBe(`action panicked: panic ${i}`);
        }
        if (kind !== 'always-throws') expect(failures.filter((e) => e.settleError === undefined).every((e) => !e.retry), ctx).toBe(true);
      }

      // At-least-once: a run executed again after a successful execution must not have been
      // finished by that earlier execution's COMPLETE.
      const returned = execs.filter((e) => e.ended === 'returned');
      if (returned.length > 1) {
        duplicateExecutions++;
        duplicateNotes.push(`${ctx} completions=${completions.map((e) => `a${e.task.attempt}${e.settleError ? ':NOT_FOUND' : ':ok'}`).join(',')}`);
        const out = s.data<{ attempt: number }>()!;
        for (const e of returned) {
          if (e.attempt < out.attempt) {
            const c = completions.find((x) => x.task.attempt === e.attempt);
            // Its COMPLETE was refused (lease gone) or never answered; it did not complete the run.
            expect(c === undefined || c.settleError !== undefined, ctx).toBe(true);
          }
        }
      }
    }

    // The worker Observable did not error: it reported the restarts, registered again each time,
    // and still drains and deregisters cleanly.
    expect(workerError).toBeUndefined();
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    const firstReconnect = w.types().indexOf('reconnecting');
    const firstReregister = events.findIndex((e) => e.type === 'registered' && e.reregistered);
    expect(firstReconnect).toBeGreaterThanOrEqual(0);
    expect(firstReregister).toBeGreaterThan(firstReconnect);
    stop.next();
    await w.next('deregistered');
    await w.ended;

    const settleErrors = events.filter((e) => (e.type === 'task-completed' || e.type === 'task-failed') && e.settleError !== undefined).length;
    console.log(
      `[action-worker-restart] ${N} runs, ${started} executions, leased at restarts: ${leasedAtFirst}/${leasedAtSecond}, ` +
        `reconnecting events: ${reconnecting()}, re-registrations: ${reregistered()}, settles answered NOT_FOUND: ${settleErrors}, ` +
        `COMPLETE/FAIL written ${sent.get('action_complete') ?? 0}/${sent.get('action_fail') ?? 0} for ` +
        `${events.filter((e) => e.type === 'task-completed').length}/${events.filter((e) => e.type === 'task-failed').length} settles, ` +
        `runs executed successfully more than once: ${duplicateExecutions}${duplicateNotes.length ? `\n  ${duplicateNotes.join('\n  ')}` : ''}`,
    );
  }, 120_000);

  it('a handler that outlives its action timeout: the lease runs out, attempt 2 completes the run, the late COMPLETE is refused', async () => {
    const clock = new ManualClock();
    server = await startServer({ port: 0, clock });
    const flo = client(server);
    const admin = client(server);

    const gates = new Map<number, Subject<{ attempt: number }>>();
    const seen: number[] = [];
    // touchFraction false: the worker does not extend the lease, so a handler slower than the
    // action's timeoutMs loses it (`docs/protocol-decisions.md` #27) and the run is delivered again.
    const w = record(
      flo.actions.worker(
        {
          slow: {
            timeoutMs: 200,
            maxRetries: 3,
            handler: (task) => {
              seen.push(task.attempt);
              if (task.attempt === 1) {
                const gate = new Subject<{ attempt: number }>();
                gates.set(task.attempt, gate);
                return gate; // hangs until the test releases it
              }
              return { attempt: task.attempt };
            },
          },
        },
        { workerId: 'slowpoke', concurrency: 4, touchFraction: false },
      ),
    );
    let workerError: unknown;
    w.ended.catch((e: unknown) => (workerError = e));
    await w.next('registered');

    const runId = await firstValueFrom(admin.actions.invoke('slow', 'input'));
    await w.next('task-started', (e) => e.task.taskId === runId && e.task.attempt === 1);
    expect((await firstValueFrom(admin.actions.status(runId))).status).toBe('running');

    clock.advance(200); // the lease of attempt 1 runs out: back to pending, claimed again at once
    const second = await w.next('task-completed', (e) => e.task.taskId === runId && e.task.attempt === 2);
    expect(second.settleError).toBeUndefined();
    const done = await firstValueFrom(admin.actions.status(runId));
    expect(done.status).toBe('completed');
    expect(done.retryCount).toBe(1);
    expect(done.data()).toEqual({ attempt: 2 });

    // Attempt 1 finally answers: its COMPLETE is refused (NOT_FOUND), the run keeps attempt 2's output.
    const gate = gates.get(1)!;
    gate.next({ attempt: 1 });
    gate.complete();
    const late = await w.next('task-completed', (e) => e.task.taskId === runId && e.task.attempt === 1);
    expect(isNotFound(late.settleError)).toBe(true);
    const after = await firstValueFrom(admin.actions.status(runId));
    expect(after.status).toBe('completed');
    expect(after.data()).toEqual({ attempt: 2 });
    expect(after.completedAt).toBe(done.completedAt);
    expect(seen).toEqual([1, 2]);
    expect(workerError).toBeUndefined();
    w.sub.unsubscribe();
  });

  it('a handler that always outlives its action timeout: after max retries the run ends timed_out, never stuck', async () => {
    const clock = new ManualClock();
    server = await startServer({ port: 0, clock });
    const flo = client(server);
    const admin = client(server);

    const gates: Subject<string>[] = [];
    const w = record(
      flo.actions.worker(
        {
          stuck: {
            timeoutMs: 200,
            maxRetries: 2,
            handler: () => {
              const gate = new Subject<string>();
              gates.push(gate);
              return gate;
            },
          },
        },
        { workerId: 'stuck', concurrency: 4, touchFraction: false },
      ),
    );
    await w.next('registered');
    const runId = await firstValueFrom(admin.actions.invoke('stuck', 'x'));
    await w.next('task-started', (e) => e.task.taskId === runId && e.task.attempt === 1);
    clock.advance(200);
    await w.next('task-started', (e) => e.task.taskId === runId && e.task.attempt === 2);
    clock.advance(200); // the last allowed delivery loses its lease too
    const s = await until(
      async () => {
        const st = await firstValueFrom(admin.actions.status(runId));
        return TERMINAL.has(st.status) && st;
      },
      () => 'the run to end',
    );
    // `docs/protocol-decisions.md` #27: a lease running out on the last attempt ends the run timed_out (status 5).
    expect(s.status).toBe('timed_out');
    expect(s.retryCount).toBe(1);
    expect(s.error).toBe('lease expired');

    // Both executions answer late: refused, the run stays timed_out with no output.
    for (const g of gates) {
      g.next('too late');
      g.complete();
    }
    for (const attempt of [1, 2]) {
      const late = await w.next('task-completed', (e) => e.task.taskId === runId && e.task.attempt === attempt);
      expect(isNotFound(late.settleError)).toBe(true);
    }
    const after = await firstValueFrom(admin.actions.status(runId));
    expect(after.status).toBe('timed_out');
    expect(after.output).toBeUndefined();
    expect(gates).toHaveLength(2);
    w.sub.unsubscribe();
  });
});
