// A connection that goes away with parked requests leaves nothing behind: every subsystem's waiter
// count returns to 0, their clock timers are cancelled, nothing is consumed on the dead
// connection's behalf, and the server keeps serving.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Op,
  decodeKvGetReply,
  decodeQueueDequeueReply,
  decodeStreamRecords,
  encodeKvGet,
  encodeKvPut,
  encodeQueueDequeue,
  encodeQueueEnqueue,
  encodeStreamAppend,
  encodeStreamGroupRead,
  encodeStreamRead,
  encodeKvWatch,
  fromUtf8,
  utf8,
} from '../../../src/protocol/index.js';
import { SocketClient, okBody, startIntegration, until, type Integration } from './harness.js';

let it_: Integration;
let conns: SocketClient[] = [];
beforeEach(async () => {
  it_ = await startIntegration();
  conns = [];
});
afterEach(async () => {
  for (const c of conns) c.close();
  await it_.server.close();
});

const open = async (kind: 'tcp' | 'ws') => {
  const c = kind === 'tcp' ? await SocketClient.tcp(it_.server.port) : await SocketClient.ws(it_.server.wsUrl);
  conns.push(c);
  return c;
};

/** One parked request of every kind the subsystems have. */
function parkEverything(c: SocketClient): Promise<unknown>[] {
  return [
    c.request(Op.KvGet, encodeKvGet({ key: utf8('k'), blockMs: 60_000 })),
    c.request(Op.KvGet, encodeKvWatch({ key: utf8('w'), waitMs: 60_000 })),
    c.request(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', count: 3, blockMs: 60_000 })),
    c.request(Op.StreamRead, encodeStreamRead({ stream: 's', tail: true, blockMs: 60_000 })),
    c.request(Op.StreamGroupRead, encodeStreamGroupRead({ stream: 's', group: 'g', consumer: 'dead', blockMs: 60_000 })),
  ].map((p) => p.catch(() => 'closed'));
}

describe.each(['tcp', 'ws'] as const)('closing a connection with parked requests (%s)', (kind) => {
  it('drops every waiter and timer, consumes nothing, and the server stays healthy', async () => {
    const observer = await open('tcp');
    await observer.barrier();
    const timersBefore = it_.clock.pendingTimers;

    const doomed = await open(kind);
    const parked = parkEverything(doomed);
    await doomed.barrier();
    expect({ kv: it_.kv.waiting(), queue: it_.queues.waiters.count(), stream: it_.streams.waiters.count() }).toEqual({ kv: 2, queue: 1, stream: 2 });
    expect(it_.clock.pendingTimers).toBe(timersBefore + 5);
    expect(it_.server.connections).toBe(2);

    doomed.close();
    expect(await Promise.all(parked)).toEqual(['closed', 'closed', 'closed', 'closed', 'closed']);
    await until(() => it_.waiting() === 0 && it_.server.connections === 1, 'waiters released');
    expect(it_.clock.pendingTimers).toBe(timersBefore);

    // nothing was consumed for the dead connection: the observer gets what is written now
    await observer.request(Op.QueueEnqueue, encodeQueueEnqueue({ queue: 'q', payload: utf8('m') })).then(okBody);
    const msgs = decodeQueueDequeueReply(okBody(await observer.request(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q' })))).messages;
    expect(msgs.map((m) => fromUtf8(m.payload))).toEqual(['m']);
    await observer.request(Op.StreamAppend, encodeStreamAppend({ stream: 's', payload: utf8('r') })).then(okBody);
    const recs = decodeStreamRecords(okBody(await observer.request(Op.StreamGroupRead, encodeStreamGroupRead({ stream: 's', group: 'g', consumer: 'alive' }))));
    expect(recs.map((r) => fromUtf8(r.payload))).toEqual(['r']);
    await observer.request(Op.KvPut, encodeKvPut({ key: utf8('k'), value: utf8('v') })).then(okBody);
    expect(fromUtf8(decodeKvGetReply(okBody(await observer.request(Op.KvGet, encodeKvGet({ key: utf8('k') })))).value)).toBe('v');

    // parking still works afterwards, and the deadline still answers
    const again = observer.request(Op.QueueDequeue, encodeQueueDequeue({ queue: 'q', blockMs: 1000 }));
    await observer.barrier();
    expect(it_.waiting()).toBe(1);
    it_.clock.advance(1000);
    expect(decodeQueueDequeueReply(okBody(await again)).messages).toEqual([]);
    expect(it_.waiting()).toBe(0);
    expect(observer.strays).toEqual([]);
    expect(it_.internalErrors()).toEqual([]);
  });
});

describe('server close with parked requests', () => {
  it('answers nothing more, clears every waiter and closes the sockets', async () => {
    const a = await open('tcp');
    const b = await open('ws');
    const parked = [...parkEverything(a), ...parkEverything(b)];
    await a.barrier();
    await b.barrier();
    expect(it_.waiting()).toBe(10);
    await it_.server.close();
    await Promise.all(parked);
    expect(it_.waiting()).toBe(0);
    expect(it_.server.connections).toBe(0);
  });
});
