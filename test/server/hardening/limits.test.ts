/**
 * Defect 3: stored data had no bound. With `maxMemoryBytes`, writes beyond it are answered
 * OVERLOADED with a message while reads and deletes keep working (Redis's noeviction); the KV
 * versions kept per key are bounded (`kvVersionsKept`, Flo's 65 by default).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeKvHistoryReply, encodeKvPut, encodeQueueEnqueue, Op, Status, utf8 } from '../../../src/protocol/index.js';
import { memoryInUse } from '../../../src/server/memory.js';
import { startServer, type FloServer } from '../../../src/server/server.js';
import { BinaryClient, text } from '../core/helpers.js';

let server: FloServer | undefined;
let client: BinaryClient | undefined;
const dirs: string[] = [];
afterEach(async () => {
  client?.close();
  await server?.close();
  server = client = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'flo-rx-limits-'));
  dirs.push(d);
  return d;
}

/** Stops the server and starts it again on the same data directory. */
async function reopen(dir: string, options: Parameters<typeof startServer>[0] = {}): Promise<BinaryClient> {
  client?.close();
  await server?.close();
  server = await startServer({ port: 0, dataDir: dir, ...options });
  client = await BinaryClient.open(server.port);
  return client;
}

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

describe('limits with a data directory', () => {
  it('versions dropped by kvVersionsKept are gone from the disk too (a larger bound after a restart does not bring them back)', async () => {
    const dir = dataDir();
    let c = await reopen(dir, { kvVersionsKept: 3 });
    for (let i = 0; i < 10; i++) expect((await c.call(i + 1, Op.KvPut, encodeKvPut({ key: utf8('k'), value: utf8(`v${i}`) }))).status).toBe(Status.OK);
    c = await reopen(dir);
    const h = await c.call(99, Op.KvHistory, { key: utf8('k') });
    expect(h.status).toBe(Status.OK);
    expect(decodeKvHistoryReply(h.payload).map((x) => new TextDecoder().decode(x.value))).toEqual(['v9', 'v8', 'v7']);
    // And a smaller bound after a restart drops the extra versions for good.
    c = await reopen(dir, { kvVersionsKept: 2 });
    expect(decodeKvHistoryReply((await c.call(100, Op.KvHistory, { key: utf8('k') })).payload)).toHaveLength(2);
    c = await reopen(dir);
    expect(decodeKvHistoryReply((await c.call(101, Op.KvHistory, { key: utf8('k') })).payload).map((x) => new TextDecoder().decode(x.value))).toEqual(['v9', 'v8']);
  });

  it('a write refused by maxMemoryBytes changes nothing, in memory or on disk', async () => {
    const dir = dataDir();
    let c = await reopen(dir);
    expect((await c.call(1, Op.KvPut, encodeKvPut({ key: utf8('kept'), value: utf8('v1') }))).status).toBe(Status.OK);
    // A limit below what the process already uses: every data-adding request is refused.
    c = await reopen(dir, { maxMemoryBytes: 1 });
    const put = await c.call(2, Op.KvPut, encodeKvPut({ key: utf8('new'), value: utf8('x') }));
    expect(put.status).toBe(Status.Overloaded);
    const over = await c.call(3, Op.KvPut, encodeKvPut({ key: utf8('kept'), value: utf8('v2') }));
    expect(over.status).toBe(Status.Overloaded);
    expect((await c.call(4, Op.QueueEnqueue, encodeQueueEnqueue({ queue: 'q', payload: utf8('x') }))).status).toBe(Status.Overloaded);
    expect((await c.call(5, Op.KvGet, { key: utf8('new') })).status).toBe(Status.NotFound);
    expect(text((await c.call(6, Op.KvGet, { key: utf8('kept') })).payload)).toContain('v1');
    c = await reopen(dir);
    expect((await c.call(7, Op.KvGet, { key: utf8('new') })).status).toBe(Status.NotFound);
    const h = decodeKvHistoryReply((await c.call(8, Op.KvHistory, { key: utf8('kept') })).payload);
    expect(h.map((x) => new TextDecoder().decode(x.value))).toEqual(['v1']);
  });
});
