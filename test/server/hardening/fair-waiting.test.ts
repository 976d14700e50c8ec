/**
 * Defect 5: only 256 blocking requests could park server-wide per subsystem; beyond that they were
 * answered at once with nothing, so one client parking 256 reads changed another client's results.
 * Parking caps are now per connection (plus a high server-wide bound), and a request that cannot
 * park is answered OVERLOADED, never with an early empty answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeQueueDequeueReply, encodeQueueDequeue, encodeQueueEnqueue, encodeRequest, Op, Status, utf8 } from '../../../src/protocol/index.js';
import { startServer, type FloServer } from '../../../src/server/server.js';
import { BinaryClient, text } from '../core/helpers.js';

let server: FloServer | undefined;
const clients: BinaryClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function client(): Promise<BinaryClient> {
  const c = await BinaryClient.open(server!.port);
  clients.push(c);
  return c;
}

describe('fair waiting', () => {
  it("one client parking 300 dequeues cannot change another client's blocking dequeue", async () => {
    server = await startServer({ port: 0 });
    const greedy = await client();
    const tenant = await client();
    // 300 blocking dequeues on one connection: 256 park, the other 44 are answered OVERLOADED at once.
    const frames = Array.from({ length: 300 }, (_, i) => encodeRequest(BigInt(i + 1), Op.QueueDequeue, 'greedy', encodeQueueDequeue({ queue: 'a', count: 1, blockMs: 60_000 })));
    await greedy.write(Buffer.concat(frames));
    const refused = await greedy.waitFor(44);
    for (const r of refused) {
      expect(r.status).toBe(Status.Overloaded);
      expect(text(r.payload)).toMatch(/parked on this connection/);
    }

    // The other tenant's blocking dequeue parks (it is not answered empty) and gets the message.
    await tenant.write(encodeRequest(1n, Op.QueueDequeue, 'tenant', encodeQueueDequeue({ queue: 'b', count: 1, blockMs: 60_000 })));
    const enq = await tenant.call(2, Op.QueueEnqueue, encodeQueueEnqueue({ queue: 'b', payload: utf8('hello') }), 'tenant');
    expect(enq.status).toBe(Status.OK);
    const replies = await tenant.waitFor(2);
    const dequeued = replies.find((r) => r.requestId === 1n)!;
    expect(dequeued.status).toBe(Status.OK);
    const { messages } = decodeQueueDequeueReply(dequeued.payload);
    expect(messages.map((m) => new TextDecoder().decode(m.payload))).toEqual(['hello']);
    // The greedy client still has no further answers: its 256 parked dequeues wait on.
    expect(greedy.replies.frames.length).toBe(44);
  });
});
