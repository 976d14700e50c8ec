/**
 * Over real sockets: whatever the server does, a `queue.messages()` loop never busy-loops. A server
 * that answers every long-poll at once with nothing, or with OVERLOADED, gets a few requests with
 * growing, jittered pauses between them, and the loop keeps going (OVERLOADED does not end it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeQueueDequeueReply, Op } from '../../../src/protocol/index.js';
import { overloaded, ok } from '../../../src/server/reply.js';
import { startServer, type FloServer } from '../../../src/server/server.js';
import type { Handler } from '../../../src/server/types.js';
import { connect, type FloClient } from '../../../src/node.js';

let server: FloServer | undefined;
let client: FloClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  server = client = undefined;
});

async function misbehaving(answer: Handler): Promise<{ count: () => number }> {
  let n = 0;
  server = await startServer({
    port: 0,
    subsystems: () => [{ handlers: new Map<number, Handler>([[Op.QueueDequeue, (ctx) => (n++, answer(ctx))]]) }],
  });
  client = connect(`127.0.0.1:${server.port}`);
  return { count: () => n };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('long-poll backoff', () => {
  it('backs off when every long-poll comes back empty at once', async () => {
    const server = await misbehaving(() => ok(encodeQueueDequeueReply({ messages: [] }, 'go')));
    let failed: unknown;
    const sub = client!.queue.messages('jobs', { blockMs: 30_000 }).subscribe({ error: (e) => (failed = e) });
    await sleep(1000);
    sub.unsubscribe();
    expect(failed).toBeUndefined();
    // A busy loop sends thousands in a second; the backoff (25-50 ms, 50-100 ms, ...) a handful.
    expect(server.count()).toBeGreaterThan(2);
    expect(server.count()).toBeLessThan(30);
  });

  it('backs off on OVERLOADED and keeps polling', async () => {
    const server = await misbehaving(() => {
      throw overloaded('too many blocking requests parked on this connection (max 256)');
    });
    let failed: unknown;
    const sub = client!.queue.messages('jobs', { blockMs: 30_000 }).subscribe({ error: (e) => (failed = e) });
    await sleep(1000);
    sub.unsubscribe();
    expect(failed).toBeUndefined();
    expect(server.count()).toBeGreaterThan(2);
    expect(server.count()).toBeLessThan(30);
  });
});
