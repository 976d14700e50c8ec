import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray, type Observable } from 'rxjs';
import { ack } from '../../../src/operators/ack.js';
import { settle } from '../../../src/operators/settle.js';
import { InvalidArgumentError, NotFoundError } from '../../../src/protocol/errors.js';
import { Op } from '../../../src/protocol/opcodes.js';
import { decodeStreamGroupRead, formatStreamId, streamId } from '../../../src/protocol/stream.js';
import type { GroupRecord } from '../../../src/client/stream.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { sleep, until } from '../../support/transport.js';
import { collect, recordedClient, text } from './helpers.js';

let env: Embedded;
beforeEach(async () => {
  env = await startEmbedded();
});
afterEach(async () => {
  await env.close();
});

const all = <T>(o: Observable<T>) => lastValueFrom(o.pipe(toArray()));
async function appendN(stream: string, n: number, prefix = 'r') {
  const out = [];
  for (let i = 1; i <= n; i++) out.push(await firstValueFrom(env.client.stream.append(stream, `${prefix}${i}`)));
  return out;
}
const pending = async (stream: string, group: string) => (await firstValueFrom(env.client.stream.groupInfo(stream, group))).pendingCount;

describe('consumer groups: the seed snippets', () => {
  it('GroupRead with Count, then GroupAck', async () => {
    const flo = env.client;
    await appendN('events', 3);
    // records, _ = client.Stream.GroupRead("events", "processors", "worker-1", &{Count: &count})
    const records = await all(flo.stream.groupRead('events', 'processors', 'worker-1', { count: 10 }));
    expect(records.map((r) => text(r.payload))).toEqual(['r1', 'r2', 'r3']);
    expect(records[0]).toMatchObject({ stream: 'events', group: 'processors', consumer: 'worker-1', namespace: 'test' });
    expect(await pending('events', 'processors')).toBe(3n);
    // client.Stream.GroupAck("events", "processors", []flo.StreamID{...}, nil)
    await firstValueFrom(flo.stream.groupAck('events', 'processors', records.map((r) => r.id)));
    expect(await pending('events', 'processors')).toBe(0n);
    // nothing new: a non-blocking read is empty
    expect(await all(flo.stream.groupRead('events', 'processors', 'worker-1'))).toEqual([]);
  });

  it('a group record shows its wire fields, where it was delivered and its lease as own properties; data() on the side', async () => {
    const flo = env.client;
    await firstValueFrom(flo.stream.append('shape', { n: 1 }, { headers: { k: 'v' } }));
    await firstValueFrom(flo.stream.append('shape', { n: 2 }));
    const [a, b] = await all(flo.stream.groupRead('shape', 'g', 'w', { count: 10 }));
    expect(Object.keys(a!)).toEqual(['stream', 'id', 'payload', 'headers', 'partition', 'namespace', 'group', 'consumer', 'lease']);
    expect(a!.headers).toEqual({ k: 'v' });
    expect(b!.headers).toEqual({});
    expect(a!.headers).not.toBe(b!.headers);
    expect([a!.data(), b!.data()]).toEqual([{ n: 1 }, { n: 2 }]);
    expect({ ...a! }).not.toHaveProperty('data');
    const [plain] = await all(flo.stream.read('shape'));
    expect(Object.keys(plain!)).toEqual(['stream', 'id', 'payload', 'headers', 'partition']);
    expect(plain!.data()).toEqual({ n: 1 });
  });

  it('groupNack without a delay makes a record due at once, for any consumer; with a delay it waits', async () => {
    const flo = env.client;
    await appendN('n', 2);
    const [a, b] = await all(flo.stream.groupRead('n', 'g', 'c1'));
    await firstValueFrom(flo.stream.groupNack('n', 'g', [a!.id]));
    await firstValueFrom(flo.stream.groupNack('n', 'g', [b!.id], { delayMs: 60_000 }));
    const again = await all(flo.stream.groupRead('n', 'g', 'c2', { count: 10 }));
    expect(again.map((r) => text(r.payload))).toEqual(['r1']);
    expect(again[0]!.consumer).toBe('c2');
  });

  it('groupRead hands back what take() leaves; empty id lists send nothing; unknown group info is NotFound', async () => {
    const flo = env.client;
    await appendN('hb', 3);
    const [first] = await all(flo.stream.groupRead('hb', 'g', 'c1').pipe(take(1)));
    expect(text(first!.payload)).toBe('r1');
    // r2 and r3 were nacked back at once: another consumer gets them now
    const rest = await (async () => {
      for (;;) {
        const got = await all(flo.stream.groupRead('hb', 'g', 'c2'));
        if (got.length) return got;
        await sleep(5);
      }
    })();
    expect(rest.map((r) => text(r.payload))).toEqual(['r2', 'r3']);
    await firstValueFrom(flo.stream.groupAck('hb', 'g', []));
    await expect(firstValueFrom(flo.stream.groupInfo('hb', 'nope'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(firstValueFrom(flo.stream.groupRead('hb', 'g', 'c', { blockMs: 300_001 }))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('groupCreate stores the settings; groupTouch reports what it touched', async () => {
    const flo = env.client;
    await firstValueFrom(flo.stream.groupCreate('gc', 'g', { ackTimeoutMs: 1000, maxDeliver: 3 }));
    await appendN('gc', 1);
    const [rec] = await all(flo.stream.groupRead('gc', 'g', 'c'));
    expect(await firstValueFrom(flo.stream.groupTouch('gc', 'g', [rec!.id, streamId(1, 1)]))).toBe(1);
  });
});

describe('stream.group: leased records forever', () => {
  it('joins on subscribe, reads with long-polls, acks through ack(), leaves on unsubscribe', async () => {
    const r = recordedClient(env);
    const sub = collect(r.client.stream.group('orders', 'billing', { consumer: 'w1', batch: 5 }).pipe(ack()));
    await until(() => r.requests().some((q) => q.opcode === Op.StreamGroupRead));
    const info = await firstValueFrom(env.client.stream.groupInfo('orders', 'billing'));
    expect(info.memberCount).toBe(1);
    const ops = r.requests().map((q) => q.opcode);
    expect(ops.slice(0, 2)).toEqual([Op.StreamGroupJoin, Op.StreamGroupRead]);
    const read = decodeStreamGroupRead(r.requests()[1]!.body);
    expect(read).toMatchObject({ group: 'billing', consumer: 'w1', count: 5, blockMs: 30_000 });

    await appendN('orders', 3);
    await until(() => sub.values.length === 3);
    expect(sub.values.map((v) => text(v.payload))).toEqual(['r1', 'r2', 'r3']);
    expect(sub.values.every((v) => v.lease.outcome === 'acked' && v.lease.leaseMs === 30_000)).toBe(true);
    await until(() => r.requests().some((q) => q.opcode === Op.StreamGroupAck));
    expect(await pending('orders', 'billing')).toBe(0n);

    sub.sub.unsubscribe();
    await until(() => r.requests().some((q) => q.opcode === Op.StreamGroupLeave));
    let members = 1;
    while (members !== 0) {
      members = (await firstValueFrom(env.client.stream.groupInfo('orders', 'billing'))).memberCount;
    }
    expect(members).toBe(0);
  });

  it('two consumers share the records: each record reaches one of them', async () => {
    await appendN('shared', 4);
    const a = collect(env.newClient().stream.group('shared', 'g', { consumer: 'a', batch: 2, maxInFlight: 2 }));
    await until(() => a.values.length === 2);
    const b = collect(env.newClient().stream.group('shared', 'g', { consumer: 'b', batch: 2, maxInFlight: 2 }));
    await until(() => b.values.length === 2);
    expect(a.values.map((v) => text(v.payload))).toEqual(['r1', 'r2']);
    expect(b.values.map((v) => text(v.payload))).toEqual(['r3', 'r4']);
    expect(a.values.every((v) => v.consumer === 'a')).toBe(true);
    expect(b.values.every((v) => v.consumer === 'b')).toBe(true);
    await Promise.all([...a.values, ...b.values].map((v) => firstValueFrom(v.lease.ack())));
    expect(await pending('shared', 'g')).toBe(0n);
    // more records go to whoever has room
    await appendN('shared', 2, 'n');
    await until(() => a.values.length + b.values.length === 6);
    a.sub.unsubscribe();
    b.sub.unsubscribe();
  });

  it('never holds more than maxInFlight unsettled records', async () => {
    await appendN('bound', 5);
    const r = recordedClient(env);
    const sub = collect(r.client.stream.group('bound', 'g', { consumer: 'c', batch: 10, maxInFlight: 2 }));
    await until(() => sub.values.length === 2);
    await sleep(50);
    expect(sub.values).toHaveLength(2);
    const reads = () => r.requests().filter((q) => q.opcode === Op.StreamGroupRead).map((q) => decodeStreamGroupRead(q.body));
    expect(reads().map((q) => q.count)).toEqual([2]);
    await firstValueFrom(sub.values[0]!.lease.ack());
    await until(() => sub.values.length === 3);
    expect(reads().map((q) => q.count)).toEqual([2, 1]);
    sub.sub.unsubscribe();
  });

  it('a failing handler: settle nacks, and the record is redelivered to another consumer', async () => {
    const [id] = await appendN('fail', 1);
    const failed = await firstValueFrom(
      env.newClient().stream.group('fail', 'g', { consumer: 'a' }).pipe(
        take(1),
        settle(() => {
          throw new Error('boom');
        }),
      ),
    );
    expect(failed.outcome).toBe('nacked');
    expect((failed.error as Error).message).toBe('boom');
    const redelivered = await firstValueFrom(
      env.newClient().stream.group('fail', 'g', { consumer: 'b' }).pipe(settle((rec: GroupRecord) => rec.consumer)),
    );
    expect(redelivered.outcome).toBe('acked');
    expect(formatStreamId(redelivered.item.id)).toBe(formatStreamId(id!));
    expect(redelivered.result).toBe('b');
    let p = 1n;
    while (p !== 0n) p = await pending('fail', 'g');
  });

  it('re-joins after the socket drops, then reads on', async () => {
    const r = recordedClient(env);
    let reconnects = 0;
    r.client.core.channel.reconnected$.subscribe(() => reconnects++);
    const sub = collect(r.client.stream.group('rj', 'g', { consumer: 'c' }).pipe(ack()));
    await until(() => r.requests().some((q) => q.opcode === Op.StreamGroupRead));
    r.dropSocket();
    await until(() => reconnects === 1);
    await appendN('rj', 2);
    await until(() => sub.values.length === 2);
    const ops = r.requests().map((q) => q.opcode).filter((o) => o === Op.StreamGroupJoin || o === Op.StreamGroupRead);
    expect(ops.slice(0, 4)).toEqual([Op.StreamGroupJoin, Op.StreamGroupRead, Op.StreamGroupJoin, Op.StreamGroupRead]);
    expect(sub.error).toBeUndefined();
    sub.sub.unsubscribe();
  });

  it('generates a unique consumer id by default', async () => {
    await appendN('gen', 2);
    const a = await firstValueFrom(env.client.stream.group('gen', 'g1'));
    const b = await firstValueFrom(env.client.stream.group('gen', 'g2'));
    expect(a.consumer).toMatch(/^flo-rx-[0-9a-f]{12}$/);
    expect(b.consumer).toMatch(/^flo-rx-[0-9a-f]{12}$/);
    expect(a.consumer).not.toBe(b.consumer);
  });
});
