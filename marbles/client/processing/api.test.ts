import { describe, expect, it } from 'vitest';
import { map, type Observable } from 'rxjs';
import { jsonCodec } from '../../../src/codec/index.js';
import { SettleCoalescer } from '../../../src/client/core/coalescer.js';
import { createClientCore } from '../../../src/client/core/context.js';
import { ProcessingCalls } from '../../../src/client/processing/calls.js';
import { encodeProcessingStatusReply, Op, serverErrorFor, Status, type ResponseFrame } from '../../../src/protocol/index.js';
import { fakeChannel, newScheduler, ok, reply } from '../../helpers.js';

const status = (code: number, records: number, parallelism = 1) =>
  ok(encodeProcessingStatusReply({ jobId: 'job-1', name: 'p', status: code, parallelism, batchSize: 100, recordsProcessed: BigInt(records), createdAt: 1n }));

function api(ts: ReturnType<typeof newScheduler>, answer: (i: number) => Observable<ResponseFrame>) {
  const channel = fakeChannel(ts, (spec, i) => {
    expect(spec.opcode).toBe(Op.ProcessingStatus);
    return answer(i);
  });
  const core = createClientCore({ channel, codec: jsonCodec, namespace: 'ns', timeoutMs: undefined, settles: new SettleCoalescer() });
  return { channel, processing: new ProcessingCalls(core) };
}

const key = (s: { status: string; recordsProcessed: bigint; parallelism: number }) => `${s.status}:${s.recordsProcessed}x${s.parallelism}`;

describe('processing.watch', () => {
  it('polls every pollMs, emits on a change of state, records or parallelism, completes after a terminal state', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const replies = [status(0, 0), status(0, 0), status(0, 2), status(0, 2, 4), status(1, 2, 4), status(2, 2, 4)];
      const { channel, processing } = api(ts, (i) => cold('-(r|)', { r: replies[i]! }));
      expectObservable(processing.watch('job-1', { pollMs: 3 }).pipe(map(key))).toBe('-a-------b---c---d---(e|)', {
        a: 'running:0x1',
        b: 'running:2x1',
        c: 'running:2x4',
        d: 'stopped:2x4',
        e: 'cancelled:2x4',
      });
      ts.flush();
      expect(channel.sent.map((s) => s.at)).toEqual([0, 4, 8, 12, 16, 20]); // nothing after the terminal status
    });
  });

  it('a stopped job is not terminal: watching goes on until unsubscribed, then polling stops', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { channel, processing } = api(ts, () => cold('-(r|)', { r: status(1, 7) }));
      expectObservable(processing.watch('job-1', { pollMs: 2 }).pipe(map(key)), '^---------!').toBe('-a', { a: 'stopped:7x1' });
      ts.flush();
      expect(channel.sent.map((s) => s.at)).toEqual([0, 3, 6, 9]);
    });
  });

  it('a subscription starts one STATUS request at a time, with its subscription marbles', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('--(r|)', { r: status(3, 1) });
      const { processing } = api(ts, () => first);
      expectObservable(processing.watch('job-1').pipe(map(key))).toBe('--(a|)', { a: 'failed:1x1' });
      expectSubscriptions(first.subscriptions).toBe('^-!');
    });
  });

  it('errors NotFoundError for an unknown job', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { processing } = api(ts, () => cold('-(r|)', { r: reply(Status.NotFound) }));
      expectObservable(processing.watch('job-1')).toBe('-#', undefined, serverErrorFor(Status.NotFound, '', Op.ProcessingStatus));
    });
  });
});
