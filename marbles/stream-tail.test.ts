import { beforeAll, describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { FloClient } from '../src/client/client.js';
import type { RequestSpec } from '../src/connection/types.js';
import { ConnectionLostError } from '../src/protocol/errors.js';
import type { ResponseFrame } from '../src/protocol/frame.js';
import { Op } from '../src/protocol/opcodes.js';
import {
  decodeStreamRead,
  encodeStreamInfoReply,
  encodeStreamRecords,
  formatStreamId,
  streamId,
  type StreamReadQuery,
} from '../src/protocol/stream.js';
import { fakeChannel, loadOnDemandCode, newScheduler, ok } from './helpers.js';

const enc = new TextEncoder();
/** A wire record `<ms>-0` whose payload is its letter. */
const rec = (ms: number) => ({ id: streamId(ms, 0), tier: 0, partition: 0, stream: 's', payload: enc.encode(`r${ms}`), headers: [] });
const records = (...ms: number[]) => ok(encodeStreamRecords(ms.map(rec)));
const info = (lastMs: number) =>
  ok(encodeStreamInfoReply({ firstId: streamId(1, 0), lastId: streamId(lastMs, 0), count: BigInt(lastMs), bytes: 0n, partitionCount: 1 }));

function body(spec: RequestSpec) {
  return { namespace: new Uint8Array(), key: spec.body.key ?? new Uint8Array(), value: spec.body.value ?? new Uint8Array(), options: spec.body.options ?? new Uint8Array() };
}
const readQuery = (spec: RequestSpec): StreamReadQuery => decodeStreamRead(body(spec));
const startOf = (spec: RequestSpec) => {
  const q = readQuery(spec);
  return q.start ? formatStreamId(q.start) : 'none';
};

describe('stream.tail (marbles)', () => {
  beforeAll(loadOnDemandCode); // the KV/queue/stream code loads on first use: load it before virtual time
  it("from 'end': positions with info, resumes after the last id on reconnect and drops ids ≤ lastId", () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const lost = new ConnectionLostError('socket closed');
      const replies = [
        cold('-(i|)', { i: info(5) }), //                0: info → lastId 5-0
        cold('--(r|)', { r: records(5, 6) }), //         1: start 5-0 (inclusive server echoes 5-0)
        cold<ResponseFrame>('---#', undefined, lost), //                2: start 6-1 (after 6-0), the socket drops
        cold('-(r|)', { r: records(6, 7) }), //          3: after the reconnect: start 6-0 again, 6-0 dropped
        cold<ResponseFrame>('----------'), //                           4: parked long-poll (start 7-0: see below)
      ];
      const ch = fakeChannel(ts, (_spec, i) => replies[i]!);
      //                              0123456789
      hot(/*                      */ '------r--c', { r: 'reconnecting', c: 'connected' } as const).subscribe((s) => ch.stateSubject.next(s));
      hot(/*                      */ '---------x').subscribe(() => ch.reconnectedSubject.next());
      const flo = new FloClient(ch, { namespace: 'ns' });
      const tail$ = flo.stream.tail('s').pipe(map((r) => formatStreamId(r.id)));
      expectObservable(tail$, '^-------------!').toBe('---a------b----', { a: '6-0', b: '7-0' });
      expectSubscriptions(replies[3]!.subscriptions).toBe('---------^!');
      expectSubscriptions(replies[4]!.subscriptions).toBe('----------^---!'); // polling stops on unsubscribe
      ts.flush();
      expect(ch.sent.map((s) => s.spec.opcode)).toEqual([Op.StreamInfo, Op.StreamRead, Op.StreamRead, Op.StreamRead, Op.StreamRead]);
      const reads = ch.sent.slice(1).map((s) => s.spec);
      // The connection publishes 'connected' and then reconnected$ (as `Connection` does): `poll` runs
      // onReconnect before the retried read and once more before the next one, so read 4 also
      // starts at the last id (harmless: one more echo to learn from).
      expect(reads.map(startOf)).toEqual(['5-0', '6-1', '6-0', '7-0']);
      expect(reads.map((s) => readQuery(s).count)).toEqual([101, 100, 101, 101]);
      expect(reads.every((s) => s.blockMs === 30_000 && readQuery(s).blockMs === 30_000 && !readQuery(s).tail)).toBe(true);
      expect(reads.every((s) => s.namespace === 'ns')).toBe(true);
    });
  });

  it("from 'start': no info; an empty long-poll (timeout answer of 0 bytes) polls again from the same place", () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const replies = [
        cold('-(r|)', { r: records(1, 2) }),
        cold('---(e|)', { e: ok() }), // long-poll expired: 0 bytes = no records (docs/protocol-decisions.md #16)
        cold('--(r|)', { r: records(2, 3) }),
        cold<ResponseFrame>('-------'),
      ];
      const ch = fakeChannel(ts, (_spec, i) => replies[i]!);
      const flo = new FloClient(ch);
      expectObservable(flo.stream.tail('s', { from: 'start', blockMs: 1000 }).pipe(map((r) => formatStreamId(r.id))), '^---------!').toBe(
        '-(ab)-c---',
        { a: '1-0', b: '2-0', c: '3-0' },
      );
      ts.flush();
      expect(ch.sent.map((s) => startOf(s.spec))).toEqual(['none', '2-0', '2-0', '3-1']);
      expect(ch.sent.map((s) => s.spec.blockMs)).toEqual([1000, 1000, 1000, 1000]);
      expect(ch.sent.map((s) => s.at)).toEqual([0, 1, 4, 6]);
    });
  });

  it('against a server that reads start exclusively, keeps sending start = lastId', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const replies = [
        cold('-(r|)', { r: records(1) }),
        cold('-(r|)', { r: records(2) }), // no echo of 1-0
        cold('-(r|)', { r: records(3) }),
        cold<ResponseFrame>('-----'),
      ];
      const ch = fakeChannel(ts, (_spec, i) => replies[i]!);
      const flo = new FloClient(ch);
      expectObservable(flo.stream.tail('s', { from: 'start' }).pipe(map((r) => formatStreamId(r.id))), '^----!').toBe('-abc-', {
        a: '1-0',
        b: '2-0',
        c: '3-0',
      });
      ts.flush();
      expect(ch.sent.map((s) => startOf(s.spec))).toEqual(['none', '1-0', '2-0', '3-0']);
    });
  });
});
