// GET /metrics on the server's port: Prometheus text, parsed, with a counter seen to increase; the
// JSON status page carries the same counts.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server.js';
import { connect } from '../../src/node.js';
import { startEmbedded, type Embedded } from '../support/embedded.js';

/** Parses the Prometheus text format into `name{labels}` → value. */
function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('GET /metrics', () => {
  it('serves Prometheus text whose request counter increases with each put', async () => {
    env = await startEmbedded();
    const url = `http://127.0.0.1:${env.server.port}/metrics`;
    await firstValueFrom(env.client.kv.put('a', '1'));
    const res1 = await fetch(url);
    expect(res1.status).toBe(200);
    expect(res1.headers.get('content-type')).toMatch(/^text\/plain/);
    const before = parseProm(await res1.text());
    const key = 'flo_rx_server_requests_total{operation="kv_put",status="OK"}';
    expect(before.get(key)).toBe(1);
    await firstValueFrom(env.client.kv.put('b', '2'));
    await firstValueFrom(env.client.kv.get('missing'));
    const after = parseProm(await (await fetch(url)).text());
    expect(after.get(key)).toBe(2);
    expect(after.get('flo_rx_server_requests_total{operation="kv_get",status="Not found"}')).toBe(1);
    expect(after.get('flo_rx_server_request_duration_seconds_count{operation="kv_put"}')).toBe(2);
    expect(after.get('flo_rx_server_request_duration_seconds_bucket{operation="kv_put",le="+Inf"}')).toBe(2);
    expect(after.get('flo_rx_server_connections')).toBe(1);
    expect(after.get('flo_rx_server_parked_requests')).toBe(0);
    expect(after.get('flo_rx_server_memory_bytes{kind="rss"}')).toBeGreaterThan(0);
  });

  it('counts parked requests, and the status page shows the same counts', async () => {
    env = await startEmbedded();
    const sub = env.client.queue.messages('jobs', { blockMs: 30_000 }).subscribe();
    try {
      const url = `http://127.0.0.1:${env.server.port}`;
      let parked = 0;
      for (let i = 0; i < 50 && parked === 0; i++) {
        parked = parseProm(await (await fetch(`${url}/metrics`)).text()).get('flo_rx_server_parked_requests') ?? 0;
        if (parked === 0) await new Promise((r) => setTimeout(r, 20));
      }
      expect(parked).toBe(1);
      const page = (await (await fetch(url)).json()) as { parkedRequests: number; requests: Record<string, Record<string, number>> };
      expect(page.parkedRequests).toBe(1);
      await firstValueFrom(env.client.kv.put('x', 'y'));
      const page2 = (await (await fetch(url)).json()) as { requests: Record<string, Record<string, number>> };
      expect(page2.requests.kv_put.OK).toBe(1);
    } finally {
      sub.unsubscribe();
    }
  });

  it('reports per-queue ready/leased/DLQ counts, stream lengths and group lag', async () => {
    env = await startEmbedded();
    const flo = env.client;
    for (let i = 0; i < 3; i++) await firstValueFrom(flo.queue.enqueue('jobs', `j${i}`));
    for (let i = 0; i < 4; i++) await firstValueFrom(flo.stream.append('events', `e${i}`));
    await lastValueFrom(flo.queue.dequeue('jobs', 1).pipe(toArray()));
    await lastValueFrom(flo.stream.groupRead('events', 'billing', 'w1', { count: 1 }).pipe(toArray()));
    const m = parseProm(await (await fetch(`http://127.0.0.1:${env.server.port}/metrics`)).text());
    expect(m.get('flo_rx_server_queue_ready{namespace="test",queue="jobs"}')).toBe(2);
    expect(m.get('flo_rx_server_queue_leased{namespace="test",queue="jobs"}')).toBe(1);
    expect(m.get('flo_rx_server_queue_dlq{namespace="test",queue="jobs"}')).toBe(0);
    expect(m.get('flo_rx_server_stream_length{namespace="test",stream="events"}')).toBe(4);
    expect(m.get('flo_rx_server_stream_group_lag{namespace="test",stream="events",group="billing"}')).toBe(3);
    expect(m.get('flo_rx_server_stream_group_pending{namespace="test",stream="events",group="billing"}')).toBe(1);
  });
});

describe('GET /metrics: persistence counters', () => {
  it('a server with a data directory counts log bytes, commits and fsyncs, which increase with writes; compactions too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flo-rx-metrics-'));
    // A tiny compaction threshold: every commit makes the log big enough to be compacted.
    const server = await startServer({ port: 0, dataDir: dir, compactAfterBytes: 1 });
    const flo = connect(`127.0.0.1:${server.port}`, { namespace: 'test', timeoutMs: 5000 });
    try {
      const scrape = async () => parseProm(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text());
      await firstValueFrom(flo.kv.put('a', '1'));
      const before = await scrape();
      const written = before.get('flo_rx_server_storage_written_bytes_total') ?? 0;
      const commits = before.get('flo_rx_server_storage_commits_total') ?? 0;
      const fsyncs = before.get('flo_rx_server_storage_fsync_duration_seconds_count') ?? 0;
      expect(written).toBeGreaterThan(0);
      expect(commits).toBeGreaterThanOrEqual(1);
      expect(fsyncs).toBeGreaterThanOrEqual(1); // fsync always: the put's reply waited for one
      expect(before.get('flo_rx_server_storage_fsync_duration_seconds_bucket{le="+Inf"}')).toBe(fsyncs);
      expect(before.get('flo_rx_server_storage_commit_errors_total')).toBe(0);
      expect([...before.keys()].some((k) => k.startsWith('flo_rx_server_storage_last_commit_error'))).toBe(false);

      for (let i = 0; i < 3; i++) await firstValueFrom(flo.kv.put(`k${i}`, 'v'));
      let after = await scrape();
      expect(after.get('flo_rx_server_storage_written_bytes_total')).toBeGreaterThan(written);
      expect(after.get('flo_rx_server_storage_commits_total')).toBeGreaterThanOrEqual(commits + 3);
      expect(after.get('flo_rx_server_storage_fsync_duration_seconds_count')).toBeGreaterThan(fsyncs);
      // Compaction runs in the background: wait (bounded) until one has finished.
      for (let i = 0; i < 100 && !(after.get('flo_rx_server_storage_compactions_total')! > 0); i++) {
        await new Promise((r) => setTimeout(r, 20));
        after = await scrape();
      }
      expect(after.get('flo_rx_server_storage_compactions_total')).toBeGreaterThanOrEqual(1);
      expect(after.get('flo_rx_server_storage_compaction_seconds_total')).toBeGreaterThanOrEqual(0);
      expect(after.get('flo_rx_server_storage_compaction_errors_total')).toBe(0);
      const page = (await (await fetch(`http://127.0.0.1:${server.port}/`)).json()) as { persistence?: Record<string, number> };
      expect(page.persistence?.commits).toBe(after.get('flo_rx_server_storage_commits_total'));
      expect(page.persistence?.bytesWritten).toBe(after.get('flo_rx_server_storage_written_bytes_total'));
    } finally {
      await flo.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a server without a data directory has no persistence counters', async () => {
    env = await startEmbedded();
    await firstValueFrom(env.client.kv.put('a', '1'));
    const text = await (await fetch(`http://127.0.0.1:${env.server.port}/metrics`)).text();
    expect(text).toContain('flo_rx_server_requests_total');
    expect(text).not.toContain('flo_rx_server_storage_');
  });
});

describe('ServerMetrics counts', () => {
  it('exposes cumulative latency buckets and answers by status, as recorded', async () => {
    const { ServerMetrics } = await import('../../src/server/metrics.js');
    const { Op, Status } = await import('../../src/protocol/index.js');
    const m = new ServerMetrics({ connections: () => 0 });
    m.record(Op.KvGet, Status.OK, 0.00005);
    m.record(Op.KvGet, Status.OK, 0.003);
    m.record(Op.KvGet, Status.NotFound, 0.0001);
    m.record(Op.KvGet, Status.NotFound, 20);
    const prom = parseProm(await m.registry.metrics());
    const bucket = (le: string) => prom.get(`flo_rx_server_request_duration_seconds_bucket{operation="kv_get",le="${le}"}`);
    expect([bucket('0.0001'), bucket('0.00025'), bucket('0.0025'), bucket('0.005'), bucket('10'), bucket('+Inf')]).toEqual([2, 2, 2, 3, 3, 4]);
    expect(prom.get('flo_rx_server_request_duration_seconds_count{operation="kv_get"}')).toBe(4);
    expect(prom.get('flo_rx_server_request_duration_seconds_sum{operation="kv_get"}')).toBeCloseTo(20.00315, 6);
    expect(prom.get('flo_rx_server_requests_total{operation="kv_get",status="OK"}')).toBe(2);
    expect(prom.get('flo_rx_server_requests_total{operation="kv_get",status="Not found"}')).toBe(2);
    expect(m.requestCounts()).toEqual({ kv_get: { OK: 2, 'Not found': 2 } });
  });
});
