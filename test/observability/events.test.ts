// `flo.events$` through a server restart, over real sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import type { FloEvent } from '../../src/node.js';
import { startEmbedded, type Embedded } from '../support/embedded.js';

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('events$', () => {
  it('reports connecting, connected, disconnected, reconnect scheduled and connected again across a restart', async () => {
    env = await startEmbedded({ client: { reconnect: { minTimeoutMs: 5, maxTimeoutMs: 20, randomize: false } } });
    const seen: FloEvent[] = [];
    env.client.events$.subscribe((e) => seen.push(e));
    await env.client.connect();
    const endpoint = `127.0.0.1:${env.server.port}`;
    expect(seen).toEqual([
      { type: 'connecting', endpoint, attempt: 1 },
      { type: 'connected', endpoint, reconnected: false },
    ]);
    seen.length = 0;
    const back = firstValueFrom(env.client.events$.pipe(filter((e) => e.type === 'connected')));
    await env.server.restart();
    await back;
    expect(seen[0]).toMatchObject({ type: 'disconnected', endpoint });
    expect(seen[seen.length - 1]).toEqual({ type: 'connected', endpoint, reconnected: true });
    // Between them: attempts, each failed one followed by a scheduled retry with its delay.
    const middle = seen.slice(1, -1);
    expect(middle[0]).toEqual({ type: 'connecting', endpoint, attempt: 1 });
    for (let i = 0; i < middle.length; i++) {
      const e = middle[i];
      if (e.type === 'connect-failed') {
        expect((e.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
        expect(middle[i + 1]).toMatchObject({ type: 'reconnect-scheduled', attempt: e.attempt + 1 });
        expect((middle[i + 1] as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(5);
      }
    }
    await env.close();
    env = undefined;
    expect(seen[seen.length - 1]).toMatchObject({ type: 'closed' });
  });
});

describe('events$: settle-resent', () => {
  it('reports an ack lost with the connection, sent again after the reconnect', async () => {
    const { FakeServer } = await import('../support/fake-server.js');
    const { connect, settle } = await import('../../src/node.js');
    const { Op, Status, encodeQueueDequeueReply, utf8 } = await import('../../src/protocol/index.js');
    const server = await FakeServer.start();
    const flo = connect(server.endpoint, { reconnect: { minTimeoutMs: 5, maxTimeoutMs: 20, randomize: false } });
    try {
      let dequeues = 0;
      let acks = 0;
      server.handler = (req) => {
        if (req.opcode === Op.QueueDequeue) {
          // one message, then nothing (answered after a while, like an expired long-poll)
          if (++dequeues === 1) return { status: Status.OK, payload: encodeQueueDequeueReply({ messages: [{ seq: 1n, payload: utf8('m') }] }) };
          return { status: Status.OK, payload: encodeQueueDequeueReply({ messages: [] }), delayMs: 50 };
        }
        if (req.opcode === Op.QueueComplete) return ++acks === 1 ? 'drop' : { status: Status.OK };
        return { status: Status.OK };
      };
      const seen: FloEvent[] = [];
      flo.events$.subscribe((e) => seen.push(e));
      const result = await firstValueFrom(flo.queue.messages('jobs', { blockMs: 100 }).pipe(settle(() => 'done')));
      expect(result.outcome).toBe('acked');
      expect(result.settleError).toBeUndefined();
      expect(acks).toBe(2);
      const resent = seen.filter((e) => e.type === 'settle-resent');
      expect(resent).toHaveLength(1);
      expect(resent[0]).toMatchObject({ type: 'settle-resent', op: 'ack', count: 1, attempt: 1 });
    } finally {
      await flo.close();
      await server.stop();
    }
  });
});
