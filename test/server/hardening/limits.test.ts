/**
 * Defect 3: stored data had no bound. With `maxMemoryBytes`, writes beyond it are answered
 * OVERLOADED with a message while reads and deletes keep working (Redis's noeviction); the KV
 * versions kept per key are bounded (`kvVersionsKept`, Flo's 65 by default).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeKvHistoryReply, encodeKvPut, encodeQueueEnqueue, Op, Status, utf8 } from '../../../src/protocol/index.js';
import { memoryInUse } from '../../../src/server/memory.js';
import { startServer, type FloServer } from '../../../src/server/server.js';
import { BinaryClient, text } from '../core/helpers.js';

let server: FloServer | undefined;
let client: BinaryClient | undefined;
afterEach(async () => {
  client?.close();
  await server?.close();
  server = client = undefined;
});

describe('limits', () => {
  it('answers writes OVERLOADED past max-memory; reads and deletes keep working', async () => {
    server = await startServer({ port: 0, maxMemoryBytes: memoryInUse() + 32 * 1024 * 1024 });
    client = await BinaryClient.open(server.port);
    const value = new Uint8Array(200_000).fill(1);
    let id = 1;
    let refused: { status: number; payload: Uint8Array } | undefined;
    let stored = 0;
    // Far more than the limit allows: 2,000 × 200 KB = 400 MB.
    for (let i = 0; i < 2000 && !refused; i++) {
      const r = await client.call(id++, Op.KvPut, encodeKvPut({ key: utf8(`k${i}`), value }));
      if (r.status === Status.OK) stored++;
      else refused = r;
      // Let the sampled memory figure catch up every few writes.
      if (i % 20 === 19) await new Promise((res) => setTimeout(res, 60));
    }
    expect(refused?.status).toBe(Status.Overloaded);
    expect(text(refused!.payload)).toMatch(/max-memory/);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(2000);
    // Other data-adding requests are refused too; reads and deletes work.
    expect((await client.call(id++, Op.QueueEnqueue, encodeQueueEnqueue({ queue: 'q', payload: utf8('x') }))).status).toBe(Status.Overloaded);
    expect((await client.call(id++, Op.KvGet, { key: utf8('k0') })).status).toBe(Status.OK);
    expect((await client.call(id++, Op.KvDelete, { key: utf8('k0') })).status).toBe(Status.OK);
    expect(server.stats().memoryInUseBytes).toBeGreaterThan(0);
  });

  it('keeps at most kvVersionsKept versions per key', async () => {
    server = await startServer({ port: 0, kvVersionsKept: 3 });
    client = await BinaryClient.open(server.port);
    for (let i = 0; i < 10; i++) await client.call(i + 1, Op.KvPut, encodeKvPut({ key: utf8('k'), value: utf8(`v${i}`) }));
    const h = await client.call(99, Op.KvHistory, { key: utf8('k') });
    expect(h.status).toBe(Status.OK);
    const items = decodeKvHistoryReply(h.payload);
    expect(items.map((x) => new TextDecoder().decode(x.value))).toEqual(['v9', 'v8', 'v7']);
  });
});
