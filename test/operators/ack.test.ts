// ack() / nack() over a real socket against the embedded server: the settles of one tick go out as
// ONE request per queue / group (outgoing frames counted at the connection), and the items are
// really settled on the server.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, mergeMap, of, take, toArray } from 'rxjs';
import { Connection } from '../../src/connection/connection.js';
import { tcpTransport } from '../../src/connection/tcp.js';
import { FloClient } from '../../src/client/client.js';
import { ack, nack } from '../../src/operators/index.js';
import { Op, type RequestFrame, type ResponseFrame } from '../../src/protocol/index.js';
import { startServer, type FloServer } from '../../src/server.js';

let server: FloServer | undefined;
let flo: FloClient | undefined;
afterEach(async () => {
  await flo?.close();
  await server?.close();
});

/** A client whose connection counts the request frames it sends, by opcode. */
async function countingClient(): Promise<{ flo: FloClient; sent: Map<number, number> }> {
  server = await startServer({ port: 0 });
  const sent = new Map<number, number>();
  const onFrame = (dir: 'in' | 'out', frame: RequestFrame | ResponseFrame) => {
    if (dir === 'out') sent.set((frame as RequestFrame).opcode, (sent.get((frame as RequestFrame).opcode) ?? 0) + 1);
  };
  const connection = new Connection({ endpoints: [`127.0.0.1:${server.port}`], transport: tcpTransport, onFrame, timeoutMs: 5000 });
  flo = new FloClient(connection, { namespace: 'test' });
  return { flo, sent };
}

describe('ack()', () => {
  it('acks a batch of 40 queue messages with one QueueComplete request, and they are gone from the server', async () => {
    const { flo, sent } = await countingClient();
    for (let i = 0; i < 40; i++) await firstValueFrom(flo.queue.enqueue('jobs', `m${i}`));
    const acked = await lastValueFrom(flo.queue.messages('jobs', { batch: 40, maxInFlight: 40 }).pipe(ack(), take(40), toArray()));
    expect(acked.map((m) => new TextDecoder().decode(m.payload))).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
    expect(acked.every((m) => m.lease.settled && m.lease.outcome === 'acked')).toBe(true);
    expect(sent.get(Op.QueueComplete)).toBe(1);
    const stats = await firstValueFrom(flo.queue.stats('jobs'));
    expect(stats).toMatchObject({ acked: 40n, leased: 0n, ready: 0n });
  });

  it('group → mergeMap(16) → ack(): the records of one read are acked with one StreamGroupAck request', async () => {
    const { flo, sent } = await countingClient();
    for (let i = 0; i < 30; i++) await firstValueFrom(flo.stream.append('orders', `r${i}`));
    const seen = await lastValueFrom(
      flo.stream
        .group('orders', 'billing', { consumer: 'w1', batch: 30, maxInFlight: 30 })
        .pipe(mergeMap((r) => of(r), 16), ack(), take(30), toArray()),
    );
    expect(seen.map((r) => new TextDecoder().decode(r.payload))).toEqual(Array.from({ length: 30 }, (_, i) => `r${i}`));
    expect(sent.get(Op.StreamGroupAck)).toBe(1);
  });

  it('an item already acked passes on at once without another request; nack() after ack() sends nothing', async () => {
    const { flo, sent } = await countingClient();
    await firstValueFrom(flo.queue.enqueue('jobs', 'only'));
    const m = await firstValueFrom(flo.queue.messages('jobs', { batch: 1 }));
    await lastValueFrom(of(m).pipe(ack()));
    await lastValueFrom(of(m).pipe(ack(), nack()));
    expect(sent.get(Op.QueueComplete)).toBe(1);
    expect(sent.get(Op.QueueFail)).toBeUndefined();
    expect(m.lease.outcome).toBe('acked');
  });
});
