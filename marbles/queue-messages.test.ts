// Timing contracts of flo.queue over a fake channel: backpressure, settle coalescing, stopping.
import { describe, expect, it } from 'vitest';
import { map, mergeMap, take, tap, timer, type Observable } from 'rxjs';
import { FloClient } from '../src/client/client.js';
import type { RequestSpec } from '../src/connection/types.js';
import { ack } from '../src/operators/index.js';
import { EMPTY } from '../src/protocol/bytes.js';
import { Op } from '../src/protocol/opcodes.js';
import type { ResponseFrame } from '../src/protocol/frame.js';
import { decodeQueueComplete, decodeQueueDequeue, decodeQueueFail, encodeQueueDequeueReply, type QueueMessage as Wire } from '../src/protocol/queue.js';
import { fakeChannel, newScheduler, ok } from './helpers.js';

const body = (spec: RequestSpec) => ({
  namespace: EMPTY,
  key: spec.body.key ?? EMPTY,
  value: spec.body.value ?? EMPTY,
  options: spec.body.options ?? EMPTY,
});
const wire = (seqs: bigint[]): Wire[] => seqs.map((seq) => ({ seq, payload: new TextEncoder().encode(`"m${seq}"`) }));
const dequeueReply = (seqs: bigint[]) => ok(encodeQueueDequeueReply({ messages: wire(seqs) }));

describe('flo.queue.messages (marbles)', () => {
  it('never holds more than maxInFlight unsettled messages; asks for exactly the free slots', () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      let nextSeq = 1n;
      let unsettled = 0;
      let maxUnsettled = 0;
      const asked: { n: number; unsettled: number }[] = [];
      const channel = fakeChannel(ts, (spec) => {
        if (spec.opcode === Op.QueueDequeue) {
          const req = decodeQueueDequeue(body(spec));
          asked.push({ n: req.count!, unsettled });
          expect(req.blockMs).toBe(30_000); // the default long-poll, never 0
          const seqs = Array.from({ length: req.count! }, () => nextSeq++);
          return cold('--(r|)', { r: dequeueReply(seqs) }) as Observable<ResponseFrame>;
        }
        return cold('-(r|)', { r: ok() }) as Observable<ResponseFrame>;
      });
      const flo = new FloClient(channel);
      const done: bigint[] = [];
      flo.queue
        .messages('jobs', { batch: 4, maxInFlight: 6 })
        .pipe(
          tap((m) => {
            unsettled++;
            maxUnsettled = Math.max(maxUnsettled, unsettled);
            m.lease.settled$.subscribe(() => unsettled--);
          }),
          mergeMap((m) => timer(Number(m.seq % 3n) * 3 + 5).pipe(map(() => m)), 6),
          ack(),
          take(40),
        )
        .subscribe((m) => done.push(m.seq));
      ts.flush();
      expect(done).toHaveLength(40);
      expect(new Set(done).size).toBe(40);
      expect(maxUnsettled).toBe(6);
      for (const a of asked) expect(a.n).toBe(Math.min(4, 6 - a.unsettled));
      expect(asked.slice(0, 2).map((a) => a.n)).toEqual([4, 2]);
    });
  });

  it('the acks of one tick go out as one complete request', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const channel = fakeChannel(ts, (spec) =>
        (spec.opcode === Op.QueueDequeue
          ? cold('--(r|)', { r: dequeueReply([1n, 2n, 3n, 4n, 5n, 6n]) })
          : cold('-(r|)', { r: ok() })) as Observable<ResponseFrame>,
      );
      const flo = new FloClient(channel, { namespace: 'app' });
      const acked = flo.queue.dequeue('jobs', 6).pipe(ack(), map((m) => String(m.seq)));
      // The batch arrives at frame 2, one ack request goes out then and is answered at frame 3.
      expectObservable(acked).toBe('---(123456|)');
      ts.flush();
      const completes = channel.sent.filter((s) => s.spec.opcode === Op.QueueComplete);
      expect(completes.map((c) => [c.at, c.spec.namespace, decodeQueueComplete(body(c.spec))])).toEqual([
        [2, 'app', { queue: 'jobs', seqs: [1n, 2n, 3n, 4n, 5n, 6n] }],
      ]);
      expect(channel.sent).toHaveLength(2);
    });
  });

  it('acks and nacks of one tick: one complete, one fail per nack option', () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const channel = fakeChannel(ts, (spec) =>
        (spec.opcode === Op.QueueDequeue
          ? cold('--(r|)', { r: dequeueReply([1n, 2n, 3n, 4n, 5n, 6n]) })
          : cold('-(r|)', { r: ok() })) as Observable<ResponseFrame>,
      );
      const flo = new FloClient(channel);
      flo.queue
        .dequeue('jobs', 6)
        .pipe(mergeMap((m) => (m.seq <= 3n ? m.lease.ack() : m.lease.nack({ toDlq: m.seq === 6n }))))
        .subscribe();
      ts.flush();
      const settles = channel.sent.filter((s) => s.spec.opcode !== Op.QueueDequeue);
      expect(settles.map((s) => s.at)).toEqual([2, 2, 2]);
      expect(settles.filter((s) => s.spec.opcode === Op.QueueComplete).map((s) => decodeQueueComplete(body(s.spec)).seqs)).toEqual([
        [1n, 2n, 3n],
      ]);
      expect(settles.filter((s) => s.spec.opcode === Op.QueueFail).map((s) => decodeQueueFail(body(s.spec)))).toEqual([
        { queue: 'jobs', seqs: [4n, 5n], toDlq: false },
        { queue: 'jobs', seqs: [6n], toDlq: true },
      ]);
    });
  });

  it('polling stops on unsubscribe: the parked poll is cancelled, nothing more is sent', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const polls = [
        cold('---(r|)', { r: dequeueReply([]) }), // an expired long-poll (3 of 6 ms): poll again at once
        cold('--(r|)', { r: dequeueReply([1n]) }),
        cold('----------'), // parked
      ];
      const channel = fakeChannel(ts, (_spec, i) => polls[i]! as Observable<ResponseFrame>);
      const flo = new FloClient(channel);
      const seqs = flo.queue.messages('jobs', { blockMs: 6 }).pipe(map((m) => String(m.seq)));
      expectObservable(seqs, '^--------!').toBe('-----1---');
      expectSubscriptions(polls[0]!.subscriptions).toBe('^--!');
      expectSubscriptions(polls[1]!.subscriptions).toBe('---^-!');
      expectSubscriptions(polls[2]!.subscriptions).toBe('-----^---!');
      ts.flush();
      // Three polls, then message 1 (delivered, never settled) is handed back with a plain nack.
      expect(channel.sent).toHaveLength(4);
      const polls3 = channel.sent.slice(0, 3);
      expect(polls3.map((s) => s.spec.blockMs)).toEqual([6, 6, 6]);
      expect(polls3.every((s) => typeof s.spec.onLateReply === 'function')).toBe(true);
      expect(channel.sent[3]!.spec.opcode).toBe(Op.QueueFail);
    });
  });

  it("a late reply's messages are handed back with one plain nack", () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const channel = fakeChannel(ts, (spec) =>
        (spec.opcode === Op.QueueDequeue ? cold('-----') : cold('-(r|)', { r: ok() })) as Observable<ResponseFrame>,
      );
      const flo = new FloClient(channel);
      const sub = flo.queue.messages('jobs').subscribe();
      ts.schedule(() => sub.unsubscribe(), 2);
      ts.schedule(() => channel.sent[0]!.spec.onLateReply!(dequeueReply([7n, 8n])), 4);
      ts.flush();
      const fails = channel.sent.filter((s) => s.spec.opcode === Op.QueueFail);
      expect(fails.map((f) => [f.at, decodeQueueFail(body(f.spec))])).toEqual([[4, { queue: 'jobs', seqs: [7n, 8n], toDlq: false }]]);
      expect(channel.sent.filter((s) => s.spec.opcode === Op.QueueDequeue)).toHaveLength(1);
    });
  });
});
