import { describe, expect, it } from 'vitest';
import * as P from '../../../src/protocol/index.js';
import { Op, streamId, utf8 } from '../../../src/protocol/index.js';
import { append, flush, groupRead, harness, ids, pending, text, type Harness } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const S = 'events';
const G = 'workers';

function setup(n = 3, settings: { ackTimeoutMs?: number; maxDeliver?: number } = {}): Harness {
  const h = harness(T0);
  for (let i = 0; i < n; i++) append(h, S, `r${i}`);
  if (settings.ackTimeoutMs !== undefined || settings.maxDeliver !== undefined) {
    h.now(Op.StreamGroupCreate, P.encodeStreamGroupCreate({ stream: S, group: G, ...settings }));
  }
  return h;
}

const gr = (h: Harness, consumer: string, count?: number) => groupRead(h, { stream: S, group: G, consumer, count });
const ack = (h: Harness, idList: P.StreamId[], consumer = '') => h.now(Op.StreamGroupAck, P.encodeStreamGroupAck({ stream: S, group: G, consumer, ids: idList }));
const nack = (h: Harness, idList: P.StreamId[], redeliveryDelayMs?: number) =>
  h.now(Op.StreamGroupNack, P.encodeStreamGroupNack({ stream: S, group: G, ids: idList, redeliveryDelayMs }));
const info = (h: Harness) => P.decodeStreamGroupInfoReply(h.now(Op.StreamGroupInfo, P.encodeStreamGroupInfo({ stream: S, group: G })).payload!);

describe('group lifecycle', () => {
  it('create stores settings; a duplicate create is CONFLICT', () => {
    const h = setup(0, { ackTimeoutMs: 1000, maxDeliver: 3 });
    expect(h.fail(Op.StreamGroupCreate, P.encodeStreamGroupCreate({ stream: S, group: G })).status).toBe(8);
    expect(h.sub.store.groupSnapshot('test', S, G)).toMatchObject({ ackTimeoutMs: 1000, maxDeliver: 3 });
    expect(info(h)).toEqual({ pendingCount: 0n, memberCount: 0, createdAtNs: BigInt(T0) * 1_000_000n });
  });

  it('join auto-creates with defaults (30 s, 10) and answers [gen=1][partitions=1][partition=0]; it is idempotent', () => {
    const h = setup(0);
    for (let i = 0; i < 2; i++) {
      const r = h.now(Op.StreamGroupJoin, P.encodeStreamGroupJoin({ stream: S, group: G, consumer: 'c1' }));
      expect(P.toHex(r.payload!)).toBe('01000000000000000100000000000000');
    }
    expect(h.sub.store.groupSnapshot('test', S, G)).toMatchObject({ ackTimeoutMs: 30_000, maxDeliver: 10 });
    expect(info(h).memberCount).toBe(1);
  });

  it('NOT_FOUND for ack, nack, touch, info, pending, claim, leave and delete on an unknown group', () => {
    const h = setup(1);
    const id = [streamId(T0, 0)];
    const g = { stream: S, group: 'nope' };
    const gc = { ...g, consumer: 'c' };
    const cases: Array<[number, P.OpPayload]> = [
      [Op.StreamGroupAck, P.encodeStreamGroupAck({ ...g, ids: id })],
      [Op.StreamGroupNack, P.encodeStreamGroupNack({ ...g, ids: id })],
      [Op.StreamGroupNack, P.encodeStreamGroupNack({ ...g, ids: [] })],
      [Op.StreamGroupTouch, P.encodeStreamGroupTouch({ ...g, ids: [] })],
      [Op.StreamGroupInfo, P.encodeStreamGroupInfo(g)],
      [Op.StreamGroupPending, P.encodeStreamGroupPending(g)],
      [Op.StreamGroupClaim, P.encodeStreamGroupClaim(gc)],
      [Op.StreamGroupLeave, P.encodeStreamGroupLeave(gc)],
      [Op.StreamGroupDelete, P.encodeStreamGroupDelete(g)],
      [Op.StreamGroupConfigureSweeper, P.encodeStreamGroupCreate({ ...g, maxDeliver: 1 })],
    ];
    for (const [op, payload] of cases) expect(h.fail(op, payload).status, `0x${op.toString(16)}`).toBe(2);
  });

  it('BAD_REQUEST for an empty group, an undecodable value, an empty ack list and a wildcard read', () => {
    const h = setup(1);
    expect(h.fail(Op.StreamGroupRead, P.encodeStreamGroupRead({ stream: S, group: '', consumer: 'c' })).serverMessage).toBe('group name is required');
    expect(h.fail(Op.StreamGroupRead, { key: utf8(S), value: utf8('workers') }).status).toBe(3);
    expect(h.fail(Op.StreamGroupRead, P.encodeStreamGroupRead({ stream: 'ev*', group: G, consumer: 'c' })).status).toBe(3);
    gr(h, 'c');
    expect(h.fail(Op.StreamGroupAck, P.encodeStreamGroupAck({ stream: S, group: G, ids: [] })).serverMessage).toBe('stream IDs required for ack');
    expect(h.fail(Op.StreamGroupAck, { key: utf8(S), value: utf8('garbage') }).serverMessage).toBe('stream IDs required for ack');
  });

  it('leave keeps a member with pending entries as leaving until they are acked', () => {
    const h = setup(2);
    const recs = gr(h, 'c1', 1);
    gr(h, 'c2', 1);
    h.now(Op.StreamGroupLeave, P.encodeStreamGroupLeave({ stream: S, group: G, consumer: 'c1' }));
    expect(info(h).memberCount).toBe(2);
    expect(pending(h, S, G, 'c1')).toHaveLength(1);
    ack(h, recs.map((r) => r.id));
    expect(info(h).memberCount).toBe(1);
    h.now(Op.StreamGroupLeave, P.encodeStreamGroupLeave({ stream: S, group: G, consumer: 'c2' }));
    expect(info(h).memberCount).toBe(1);
    h.now(Op.StreamGroupLeave, P.encodeStreamGroupLeave({ stream: S, group: G, consumer: 'ghost' }));
  });

  it('delete removes the group, its members and pending list', () => {
    const h = setup(2);
    gr(h, 'c1');
    h.now(Op.StreamGroupDelete, P.encodeStreamGroupDelete({ stream: S, group: G }));
    expect(h.fail(Op.StreamGroupInfo, P.encodeStreamGroupInfo({ stream: S, group: G })).status).toBe(2);
    expect(gr(h, 'c1').map(text)).toEqual(['r0', 'r1']); // a new group starts at the beginning
  });
});

describe('group read', () => {
  it('a new group reads from the beginning; each record reaches one member; the cursor advances', () => {
    const h = setup(5);
    expect(gr(h, 'c1', 2).map(text)).toEqual(['r0', 'r1']);
    expect(gr(h, 'c2', 2).map(text)).toEqual(['r2', 'r3']);
    expect(gr(h, 'c1').map(text)).toEqual(['r4']);
    expect(gr(h, 'c2')).toEqual([]);
    expect(pending(h, S, G).map((e) => [P.formatStreamId(e.id), e.consumer, e.deliveryCount])).toEqual([
      [`${T0}-0`, 'c1', 1],
      [`${T0}-1`, 'c1', 1],
      [`${T0}-2`, 'c2', 1],
      [`${T0}-3`, 'c2', 1],
      [`${T0}-4`, 'c1', 1],
    ]);
    expect(pending(h, S, G, 'c2')).toHaveLength(2);
  });

  it('groups are per (namespace, stream, group)', () => {
    const h = setup(2);
    append(h, 'other', 'o0');
    expect(gr(h, 'c').map(text)).toEqual(['r0', 'r1']);
    expect(groupRead(h, { stream: 'other', group: G, consumer: 'c' }).map(text)).toEqual(['o0']);
    expect(groupRead(h, { stream: S, group: 'g2', consumer: 'c' }).map(text)).toEqual(['r0', 'r1']);
    append(h, S, 'x', {}, 'ns2');
    expect(groupRead(h, { stream: S, group: G, consumer: 'c' }, 'ns2').map(text)).toEqual(['x']);
  });

  it('an empty consumer is "default"; an unknown stream answers [0:u32] and creates the group', () => {
    const h = setup(1);
    gr(h, '');
    expect(pending(h, S, G)[0].consumer).toBe('default');
    const r = h.now(Op.StreamGroupRead, P.encodeStreamGroupRead({ stream: 'nope', group: G, consumer: 'c' }));
    expect(P.toHex(r.payload!)).toBe('00000000');
    expect(h.sub.store.groupSnapshot('test', 'nope', G)).toBeDefined();
  });

  it('no_ack delivers without a pending entry', () => {
    const h = setup(2);
    expect(groupRead(h, { stream: S, group: G, consumer: 'c', noAck: true }).map(text)).toEqual(['r0', 'r1']);
    expect(pending(h, S, G)).toEqual([]);
    expect(gr(h, 'c')).toEqual([]);
  });

  it('ack removes entries whoever owns them (consumer ignored); unknown ids are ignored', () => {
    const h = setup(3);
    const recs = gr(h, 'c1');
    ack(h, [recs[0].id, streamId(1, 1)]);
    ack(h, [recs[1].id], 'someone-else');
    expect(pending(h, S, G).map((e) => e.id)).toEqual([recs[2].id]);
  });
});

describe('redelivery (docs/protocol-decisions.md #4, #23)', () => {
  it('a nack without delay is due at once for any consumer; the delivery is counted then', () => {
    const h = setup(2);
    const [r0] = gr(h, 'c1', 1);
    nack(h, [r0.id]);
    expect(pending(h, S, G)[0]).toMatchObject({ consumer: 'c1', deliveryCount: 1 });
    // Due entries come before new records.
    expect(gr(h, 'c2').map(text)).toEqual(['r0', 'r1']);
    expect(pending(h, S, G).map((e) => [e.consumer, e.deliveryCount])).toEqual([
      ['c2', 2],
      ['c2', 1],
    ]);
  });

  it('a nack with a delay comes back only after the delay', () => {
    const h = setup(1);
    const [r0] = gr(h, 'c1');
    nack(h, [r0.id], 5000);
    h.clock.advance(4999);
    expect(gr(h, 'c1')).toEqual([]);
    h.clock.advance(1);
    expect(gr(h, 'c2').map(text)).toEqual(['r0']);
  });

  it('due entries beyond a read\'s count come on the next reads; an earlier nack delay overtakes later due times', () => {
    const h = setup(4);
    const recs = gr(h, 'c1', 4);
    nack(h, recs.slice(0, 3).map((r) => r.id)); // r0, r1, r2 due at once; r3 due after the ack timeout
    expect(gr(h, 'c2', 1).map(text)).toEqual(['r0']); // the walk stops after one
    expect(gr(h, 'c2', 1).map(text)).toEqual(['r1']);
    expect(gr(h, 'c2', 1).map(text)).toEqual(['r2']);
    expect(gr(h, 'c2', 1)).toEqual([]); // nothing due (r3 in 30 s), nothing new
    h.clock.advance(10);
    nack(h, [recs[3]!.id], 100); // due at 110 ms, long before its ack timeout
    h.clock.advance(99);
    expect(gr(h, 'c2', 1)).toEqual([]);
    h.clock.advance(1);
    expect(gr(h, 'c2', 1).map(text)).toEqual(['r3']);
    // A touch to a shorter deadline than the ack timeout comes due then too.
    h.now(Op.StreamGroupTouch, P.encodeStreamGroupTouch({ stream: S, group: G, consumer: '', ids: [recs[3]!.id], extendMs: 50 }));
    h.clock.advance(49);
    expect(gr(h, 'c3', 1)).toEqual([]);
    h.clock.advance(1);
    expect(gr(h, 'c3', 1).map(text)).toEqual(['r3']);
  });

  it('an unacked entry comes back after the ack timeout (default 30 s)', () => {
    const h = setup(1);
    gr(h, 'c1');
    h.clock.advance(29_999);
    expect(gr(h, 'c2')).toEqual([]);
    h.clock.advance(1);
    expect(gr(h, 'c2').map(text)).toEqual(['r0']);
    expect(pending(h, S, G)[0]).toMatchObject({ consumer: 'c2', deliveryCount: 2 });
  });

  it('ack timeout 0 never redelivers on time', () => {
    const h = setup(1, { ackTimeoutMs: 0 });
    gr(h, 'c1');
    h.clock.advance(10_000_000);
    expect(gr(h, 'c2')).toEqual([]);
  });

  it('after max_deliver deliveries the entry is dropped as dead', () => {
    const h = setup(1, { ackTimeoutMs: 1000, maxDeliver: 3 });
    for (let i = 1; i <= 3; i++) {
      expect(gr(h, 'c1').map(text)).toEqual(['r0']);
      expect(pending(h, S, G)[0].deliveryCount).toBe(i);
      h.clock.advance(1000);
    }
    expect(gr(h, 'c1')).toEqual([]);
    expect(pending(h, S, G)).toEqual([]);
    expect(h.sub.store.groupSnapshot('test', S, G)).toMatchObject({ dead: [P.streamIdToBigInt(streamId(T0, 0))], deadTotal: 1 });
  });

  it('touch pushes the deadline to now + extend (or the ack timeout) and answers the count touched', () => {
    const h = setup(2, { ackTimeoutMs: 1000 });
    const recs = gr(h, 'c1');
    h.clock.advance(900);
    const touch = (extendMs?: number) =>
      P.decodeStreamGroupTouchReply(
        h.now(Op.StreamGroupTouch, P.encodeStreamGroupTouch({ stream: S, group: G, ids: [recs[0].id, streamId(1, 1)], extendMs })).payload!,
      );
    expect(touch(5000)).toBe(1);
    h.clock.advance(200);
    expect(gr(h, 'c2').map(text)).toEqual(['r1']); // r1 timed out, r0 was extended
    ack(h, [recs[1].id]);
    h.clock.advance(4799);
    expect(gr(h, 'c2')).toEqual([]);
    h.clock.advance(1);
    expect(gr(h, 'c2').map(text)).toEqual(['r0']);
    expect(touch()).toBe(1);
  });

  it('trimmed records are skipped (and dropped) when they come due', () => {
    const h = setup(2, { ackTimeoutMs: 1000 });
    gr(h, 'c1');
    h.now(Op.StreamTrim, P.encodeStreamTrim({ stream: S, maxLen: 1n }));
    expect(pending(h, S, G)).toHaveLength(2);
    h.clock.advance(1000);
    expect(gr(h, 'c2').map(text)).toEqual(['r1']);
    expect(pending(h, S, G)).toHaveLength(1);
  });
});

describe('claim', () => {
  it('takes idle entries from start for the consumer, with a cursor; MAX when fully scanned', () => {
    const h = setup(4);
    gr(h, 'c1', 2);
    h.clock.advance(1000);
    gr(h, 'c2', 2);
    const claim = (req: Partial<P.StreamGroupClaimRequest>) =>
      P.decodeStreamGroupClaimReply(h.now(Op.StreamGroupClaim, P.encodeStreamGroupClaim({ stream: S, group: G, consumer: 'c3', ...req })).payload!);
    const first = claim({ minIdleMs: 500, count: 1 });
    expect(first.records.map(text)).toEqual(['r0']);
    expect(first.next).toEqual(streamId(T0, 1));
    const second = claim({ minIdleMs: 500, start: first.next, count: 5 });
    expect(second.records.map(text)).toEqual(['r1']); // r2, r3 are not idle enough
    expect(second.next).toEqual(P.MAX_STREAM_ID);
    expect(pending(h, S, G, 'c3').map((e) => e.deliveryCount)).toEqual([2, 2]);
    // Draining one's own pending after a reconnect: min_idle 0 from 0-0.
    const own = P.decodeStreamGroupClaimReply(h.now(Op.StreamGroupClaim, P.encodeStreamGroupClaim({ stream: S, group: G, consumer: 'c2' })).payload!);
    expect(ids(own.records)).toEqual([`${T0}-0`, `${T0}-1`, `${T0}-2`, `${T0}-3`]);
  });
});

describe('blocking group read', () => {
  const call = (h: Harness, consumer: string, blockMs: number, count?: number) =>
    h.call(Op.StreamGroupRead, P.encodeStreamGroupRead({ stream: S, group: G, consumer, count, blockMs })).then((r) => P.decodeStreamRecords(r.payload!));

  it('is woken by an append and answers with the records', async () => {
    const h = setup(0);
    const p = call(h, 'c1', 5000);
    append(h, S, 'new');
    expect((await p).map(text)).toEqual(['new']);
    expect(pending(h, S, G)[0].consumer).toBe('c1');
  });

  it('times out with OK and 0 bytes', async () => {
    const h = setup(0);
    const p = h.call(Op.StreamGroupRead, P.encodeStreamGroupRead({ stream: S, group: G, consumer: 'c', blockMs: 30_000 }));
    h.clock.advance(30_000);
    const r = await p;
    expect(r.status).toBe(0);
    expect(r.payload!.length).toBe(0);
  });

  it('parked readers are served in park order; one left without records stays parked', async () => {
    const h = setup(0);
    const a = call(h, 'c1', 5000, 1);
    const b = call(h, 'c2', 5000, 1);
    append(h, S, 'only');
    expect((await a).map(text)).toEqual(['only']);
    await flush();
    expect(h.sub.waiters.count()).toBe(1);
    append(h, S, 'second');
    expect((await b).map(text)).toEqual(['second']);
  });

  it('is woken by a delay-less nack of another consumer', async () => {
    const h = setup(1);
    const [r0] = gr(h, 'c1');
    const p = call(h, 'c2', 5000);
    await flush();
    nack(h, [r0.id]);
    expect((await p).map(text)).toEqual(['r0']);
    expect(pending(h, S, G)[0]).toMatchObject({ consumer: 'c2', deliveryCount: 2 });
  });

  it('is woken when a nack delay ends', async () => {
    const h = setup(1);
    const [r0] = gr(h, 'c1');
    nack(h, [r0.id], 2000);
    const p = call(h, 'c2', 5000);
    h.clock.advance(1999);
    await flush();
    expect(h.sub.waiters.count()).toBe(1);
    h.clock.advance(1);
    expect((await p).map(text)).toEqual(['r0']);
  });

  it('is woken when another consumer\'s ack timeout expires, within its own block time', async () => {
    const h = setup(1, { ackTimeoutMs: 3000 });
    gr(h, 'c1');
    const p = call(h, 'c2', 5000);
    h.clock.advance(3000);
    expect((await p).map(text)).toEqual(['r0']);
  });

  it('a due time after the block deadline does not extend the wait', async () => {
    const h = setup(1, { ackTimeoutMs: 10_000 });
    gr(h, 'c1');
    const p = call(h, 'c2', 5000);
    h.clock.advance(5000);
    expect(await p).toEqual([]);
  });
});
