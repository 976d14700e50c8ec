// GET /metrics on the server's port: Prometheus text, parsed, with a counter seen to increase; the
// JSON status page carries the same counts.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
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
