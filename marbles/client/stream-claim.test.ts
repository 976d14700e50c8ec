import { beforeAll, describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { FloClient } from '../../src/client/client.js';
import type { RequestSpec } from '../../src/connection/types.js';
import { ConnectionLostError } from '../../src/protocol/errors.js';
import type { ResponseFrame } from '../../src/protocol/frame.js';
import { Op } from '../../src/protocol/opcodes.js';
import {
  decodeStreamGroupClaim,
  decodeStreamGroupNack,
  encodeStreamGroupClaimReply,
  encodeStreamGroupJoinReply,
  encodeStreamGroupPendingReply,
  encodeStreamRecords,
  formatStreamId,
  MAX_STREAM_ID,
  streamId,
} from '../../src/protocol/stream.js';
import { decodeRequestBody, encodeRequest, HEADER_SIZE } from '../../src/protocol/index.js';
import { fakeChannel, loadOnDemandCode, newScheduler, ok } from '../helpers.js';

const enc = new TextEncoder();
const rec = (ms: number) => ({ id: streamId(ms, 0), tier: 0, partition: 0, stream: 's', payload: enc.encode(`r${ms}`), headers: [] });
const records = (...ms: number[]) => ok(encodeStreamRecords(ms.map(rec)));
const claimed = (...ms: number[]) => ok(encodeStreamGroupClaimReply({ records: ms.map(rec), next: MAX_STREAM_ID }));
const joined = ok(encodeStreamGroupJoinReply({ generationId: 1n, partitionCount: 1, partition: 0 }));
const pendingOf = (entries: Array<[number, string]>) =>
  ok(encodeStreamGroupPendingReply(entries.map(([ms, consumer]) => ({ id: streamId(ms, 0), deliveryCount: 1, consumer }))));
const claimStart = (spec: RequestSpec) => {
  const frame = encodeRequest(1n, spec.opcode, 'ns', spec.body);
  return formatStreamId(decodeStreamGroupClaim(decodeRequestBody(frame.subarray(HEADER_SIZE))).start);
};
const name = (op: number) =>
  ({
    [Op.StreamGroupJoin]: 'join',
    [Op.StreamGroupRead]: 'read',
    [Op.StreamGroupLeave]: 'leave',
    [Op.StreamGroupPending]: 'pending',
    [Op.StreamGroupClaim]: 'claim',
    [Op.StreamGroupNack]: 'nack',
  })[op] ??
  op.toString(16);

describe('stream.group claims its own pending records after a reconnect', () => {
  beforeAll(loadOnDemandCode); // the KV/queue/stream code loads on first use: load it before virtual time
  it('re-joins, lists its pending entries, claims those it never emitted one by one, then reads new records', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const lost = new ConnectionLostError('socket closed');
      // Record 1 was emitted before the outage; the read of 2 and 3 was answered by the server
      // but its reply was lost with the connection, so 2 and 3 sit in c1's pending list.
      const script = {
        join: [cold('-(j|)', { j: joined }), cold('-(j|)', { j: joined })],
        read: [cold('--(r|)', { r: records(1) }), cold<ResponseFrame>('--#', undefined, lost), cold('-(r|)', { r: records(4) }), cold<ResponseFrame>('-------')],
        pending: [cold('-(p|)', { p: pendingOf([[1, 'c1'], [2, 'c1'], [3, 'c1'], [5, 'other']]) })],
        claim: [cold('-(c|)', { c: claimed(2) }), cold('-(c|)', { c: claimed(3) })],
        leave: [cold('-(o|)', { o: ok() })],
      };
      const seen: Record<string, number> = {};
      const ch = fakeChannel(ts, (spec) => {
        const n = name(spec.opcode);
        const i = seen[n] ?? 0;
        seen[n] = i + 1;
        return script[n as keyof typeof script][i]!;
      });
      hot('-----r-c', { r: 'reconnecting', c: 'connected' } as const).subscribe((s) => ch.stateSubject.next(s));
      hot('-------x').subscribe(() => ch.reconnectedSubject.next());
      const flo = new FloClient(ch, { namespace: 'ns' });
      const group$ = flo.stream.group('s', 'g', { consumer: 'c1', batch: 5, maxInFlight: 10 }).pipe(map((r) => `${formatStreamId(r.id)}@${ts.now()}`));
      const got: string[] = [];
      expectObservable(group$.pipe(map((v) => void got.push(v))), '^-----------------!');
      ts.flush();
      // 1 before the outage; 2 and 3 claimed back as soon as the claims answer; then 4, read anew.
      expect(got).toEqual(['1-0@3', '2-0@10', '3-0@10', '4-0@11']);
      expect(ch.sent.map((s) => `${name(s.spec.opcode)}@${s.at}`)).toEqual([
        'join@0',
        'read@1',
        'read@3',
        'join@7',
        'pending@8',
        'claim@9',
        'claim@9',
        'read@10', // the claim pass found nothing more: back to reading
        'read@11',
        'leave@18',
        'nack@18', // the four records emitted and never settled are handed back on unsubscribe
      ]);
      expect(ch.sent.filter((s) => s.spec.opcode === Op.StreamGroupClaim).map((s) => claimStart(s.spec))).toEqual(['2-0', '3-0']);
      const nacked = ch.sent
        .filter((s) => s.spec.opcode === Op.StreamGroupNack)
        .flatMap((s) => decodeStreamGroupNack(decodeRequestBody(encodeRequest(1n, s.spec.opcode, 'ns', s.spec.body).subarray(HEADER_SIZE))).ids.map(formatStreamId));
      expect(nacked.sort()).toEqual(['1-0', '2-0', '3-0', '4-0']);
    });
  });
});
