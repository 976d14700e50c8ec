import { beforeAll, describe, expect, it } from 'vitest';
import { map, mergeMap } from 'rxjs';
import { FloClient } from '../src/client/client.js';
import type { RequestSpec } from '../src/connection/types.js';
import { ConnectionLostError } from '../src/protocol/errors.js';
import type { ResponseFrame } from '../src/protocol/frame.js';
import { Op } from '../src/protocol/opcodes.js';
import {
  decodeStreamGroupAck,
  decodeStreamGroupNack,
  decodeStreamGroupRead,
  encodeStreamGroupJoinReply,
  encodeStreamRecords,
  formatStreamId,
  streamId,
} from '../src/protocol/stream.js';
import { fakeChannel, loadOnDemandCode, newScheduler, ok } from './helpers.js';

const enc = new TextEncoder();
const rec = (ms: number) => ({ id: streamId(ms, 0), tier: 0, partition: 0, stream: 's', payload: enc.encode(`r${ms}`), headers: [] });
const records = (...ms: number[]) => ok(encodeStreamRecords(ms.map(rec)));
const joined = ok(encodeStreamGroupJoinReply({ generationId: 1n, partitionCount: 1, partition: 0 }));
const body = (spec: RequestSpec) => ({
  namespace: new Uint8Array(),
  key: spec.body.key ?? new Uint8Array(),
  value: spec.body.value ?? new Uint8Array(),
  options: spec.body.options ?? new Uint8Array(),
});
const name = (op: number) =>
  ({ [Op.StreamGroupJoin]: 'join', [Op.StreamGroupRead]: 'read', [Op.StreamGroupLeave]: 'leave', [Op.StreamGroupAck]: 'ack', [Op.StreamGroupNack]: 'nack' })[op] ?? op.toString(16);

describe('stream.group (marbles)', () => {
  beforeAll(loadOnDemandCode); // the KV/queue/stream code loads on first use: load it before virtual time
  it('joins on subscribe, re-joins after a reconnect before reading again, leaves on unsubscribe', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const lost = new ConnectionLostError('socket closed');
      const script = {
        join: [cold('-(j|)', { j: joined }), cold('-(j|)', { j: joined })],
        read: [cold('--(r|)', { r: records(1, 2) }), cold<ResponseFrame>('--#', undefined, lost), cold('-(r|)', { r: records(3) }), cold<ResponseFrame>('-------')],
        leave: [cold('-(o|)', { o: ok() })],
      };
      const seen: Record<string, number> = {};
      const ch = fakeChannel(ts, (spec) => {
        const n = name(spec.opcode);
        const i = seen[n] ?? 0;
        seen[n] = i + 1;
        return script[n as keyof typeof script][i]!;
      });
      //                              0123456789
      hot(/*                      */ '-----r-c', { r: 'reconnecting', c: 'connected' } as const).subscribe((s) => ch.stateSubject.next(s));
      hot(/*                      */ '-------x').subscribe(() => ch.reconnectedSubject.next());
      const flo = new FloClient(ch, { namespace: 'ns' });
      const group$ = flo.stream.group('s', 'g', { consumer: 'c1', batch: 5, claimPending: false }).pipe(map((r) => `${formatStreamId(r.id)}@${r.consumer}`));
      expectObservable(group$, '^-----------!').toBe('---(ab)--c---', { a: '1-0@c1', b: '2-0@c1', c: '3-0@c1' });
      expectSubscriptions(script.join[0]!.subscriptions).toBe('^!');
      expectSubscriptions(script.read[0]!.subscriptions).toBe('-^-!');
      expectSubscriptions(script.read[1]!.subscriptions).toBe('---^-!');
      expectSubscriptions(script.join[1]!.subscriptions).toBe('-------^!'); // re-join once connected
      expectSubscriptions(script.read[2]!.subscriptions).toBe('--------^!');
      expectSubscriptions(script.read[3]!.subscriptions).toBe('---------^--!'); // cancelled by the unsubscribe
      expectSubscriptions(script.leave[0]!.subscriptions).toBe('------------^!');
      ts.flush();
      expect(ch.sent.map((s) => `${name(s.spec.opcode)}@${s.at}`)).toEqual([
        'join@0',
        'read@1',
        'read@3',
        'join@7',
        'read@8',
        'read@9',
        'leave@12',
        'nack@12', // the three records still unsettled are handed back (a leaving member may settle)
      ]);
      // maxInFlight defaults to batch: 5, then 3 (2 unsettled), then 3, then 2 (3 unsettled)
      const reads = ch.sent.filter((s) => s.spec.opcode === Op.StreamGroupRead).map((s) => decodeStreamGroupRead(body(s.spec)));
      expect(reads.map((q) => q.count)).toEqual([5, 3, 3, 2]);
      expect(reads.every((q) => q.consumer === 'c1' && q.group === 'g' && q.blockMs === 30_000)).toBe(true);
      expect(ch.sent.every((s) => s.spec.namespace === 'ns')).toBe(true);
    });
  });

  it("coalesces one tick's acks into one group ack; a late reply's records are nacked back at once", () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const reads = [cold('-(r|)', { r: records(1, 2) }), cold<ResponseFrame>('-----')];
      let r = 0;
      const ch = fakeChannel(ts, (spec) => {
        if (spec.opcode === Op.StreamGroupRead) return reads[r++]!;
        if (spec.opcode === Op.StreamGroupJoin) return cold<ResponseFrame>('(j|)', { j: joined });
        return cold<ResponseFrame>('-(o|)', { o: ok() });
      });
      const flo = new FloClient(ch);
      const acked$ = flo.stream.group('s', 'g', { consumer: 'c' }).pipe(
        mergeMap((rec) => rec.lease.ack().pipe(map(() => formatStreamId(rec.id)))),
      );
      expectObservable(acked$, '^----!').toBe('--(ab)', { a: '1-0', b: '2-0' });
      ts.flush();
      // One read at a time (the window of 10 holds one batch of 10).
      expect(ch.sent.filter((s) => s.spec.opcode === Op.StreamGroupRead).map((s) => [s.at, decodeStreamGroupRead(body(s.spec)).count])).toEqual([
        [0, 10],
        [1, 10],
      ]);
      const acks = ch.sent.filter((s) => s.spec.opcode === Op.StreamGroupAck);
      expect(acks).toHaveLength(1);
      expect(acks[0]!.at).toBe(1);
      const ack = decodeStreamGroupAck(body(acks[0]!.spec));
      expect(ack.ids.map(formatStreamId)).toEqual(['1-0', '2-0']);
      expect(ack.group).toBe('g');

      // The long-poll in flight when the subscriber left answers late: its records go back at once.
      const pendingRead = ch.sent.filter((s) => s.spec.opcode === Op.StreamGroupRead)[1]!.spec;
      pendingRead.onLateReply!(records(7, 8));
      ts.flush();
      const nacks = ch.sent.filter((s) => s.spec.opcode === Op.StreamGroupNack);
      expect(nacks).toHaveLength(1);
      const nack = decodeStreamGroupNack(body(nacks[0]!.spec));
      expect(nack.ids.map(formatStreamId)).toEqual(['7-0', '8-0']);
      expect(nack.redeliveryDelayMs).toBeUndefined(); // due at once (`docs/protocol-decisions.md` #5, #23)
    });
  });
});
