import { describe, expect, it } from 'vitest';
import { map, type Observable } from 'rxjs';
import { jsonCodec } from '../src/codec/index.js';
import { SettleCoalescer } from '../src/client/core/coalescer.js';
import { createClientCore } from '../src/client/core/context.js';
import { WorkflowCalls } from '../src/client/workflow/calls.js';
import { encodeWorkflowStatusReply, Op, serverErrorFor, Status, utf8, type ResponseFrame } from '../src/protocol/index.js';
import { fakeChannel, newScheduler, ok, reply } from './helpers.js';

const status = (code: number, step: string, wait?: string) =>
  ok(
    encodeWorkflowStatusReply({
      runId: 'R',
      workflow: 'order-processing',
      version: 'latest',
      status: code,
      currentStep: step,
      input: utf8('{}'),
      createdAt: 1n,
      startedAt: 1n,
      ...(code >= 3 ? { completedAt: 9n } : {}),
      ...(wait ? { waitSignal: wait } : {}),
    }),
  );

function api(ts: ReturnType<typeof newScheduler>, answer: (i: number) => Observable<ResponseFrame>) {
  const channel = fakeChannel(ts, (spec, i) => {
    expect(spec.opcode).toBe(Op.WorkflowStatus);
    return answer(i);
  });
  const core = createClientCore({ channel, codec: jsonCodec, namespace: 'ns', timeoutMs: undefined, settles: new SettleCoalescer() });
  return { channel, workflow: new WorkflowCalls(core) };
}

const key = (s: { status: string; currentStep: string; waitSignal?: string; waitingOn?: { runId: string } }) =>
  `${s.status}@${s.currentStep}${s.waitSignal ? `:${s.waitSignal}` : ''}${s.waitingOn ? `/${s.waitingOn.runId}` : ''}`;

describe('workflow.watch', () => {
  it('polls every pollMs, emits only on change, completes after the terminal status', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const replies = [
        status(1, 'start'),
        status(2, 'start', '_action_done:A1'),
        status(2, 'start', '_action_done:A1'),
        status(2, 'charge', '_action_done:A2'),
        status(2, 'charge', '_action_done:A2'),
        status(3, 'notify'),
      ];
      const { channel, workflow } = api(ts, (i) => cold('-(r|)', { r: replies[i]! }));
      const watch$ = workflow.watch('R', { pollMs: 3 }).pipe(map(key));
      expectObservable(watch$).toBe('-a---b-------c-------(d|)', {
        a: 'running@start',
        b: 'waiting@start/A1',
        c: 'waiting@charge/A2',
        d: 'completed@notify',
      });
      ts.flush();
      expect(channel.sent.map((s) => s.at)).toEqual([0, 4, 8, 12, 16, 20]); // nothing after the terminal status
    });
  });

  it('a user wait signal is shown as waitSignal; unsubscribing stops polling', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { channel, workflow } = api(ts, () => cold('-(r|)', { r: status(2, 'wait_for_approval', 'approval_decision') }));
      expectObservable(workflow.watch('R', { pollMs: 2 }).pipe(map(key)), '^---------!').toBe('-a', { a: 'waiting@wait_for_approval:approval_decision' });
      ts.flush();
      expect(channel.sent.map((s) => s.at)).toEqual([0, 3, 6, 9]);
    });
  });

  it('errors NotFoundError for an unknown run', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { workflow } = api(ts, () => cold('-(r|)', { r: reply(Status.NotFound) }));
      expectObservable(workflow.watch('R')).toBe('-#', undefined, serverErrorFor(Status.NotFound, '', Op.WorkflowStatus));
    });
  });
});
