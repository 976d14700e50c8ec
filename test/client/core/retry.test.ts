// Retries on injected OVERLOADED / UNAVAILABLE ("not leader") / RATE_LIMITED replies from a fake
// server over a real socket; no retry of a non-idempotent write unless opted in.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, OverloadedError, Status, UnavailableError, type FloClient, type FloEvent } from '../../../src/node.js';
import { Op, encodeKvGetReply, encodeKvPutReply, utf8 } from '../../../src/protocol/index.js';
import { FakeServer } from '../../support/fake-server.js';

let server: FakeServer;
const clients: FloClient[] = [];
beforeEach(async () => {
  server = await FakeServer.start();
});
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await server.stop();
});

function client(options: Parameters<typeof connect>[1] = {}): FloClient {
  const c = connect(server.endpoint, { retry: { minDelayMs: 1, maxDelayMs: 5 }, ...options });
  clients.push(c);
  return c;
}

/** Answers the first `n` requests with `status`, then OK with `ok`. */
function failFirst(n: number, status: number, ok: Uint8Array): () => number {
  let seen = 0;
  server.handler = () => (++seen <= n ? { status, payload: utf8('try later') } : { status: Status.OK, payload: ok });
  return () => seen;
}

describe('retry', () => {
  it('retries a get answered OVERLOADED, then UNAVAILABLE (not leader), and reports each retry', async () => {
    const flo = client();
    const events: FloEvent[] = [];
    flo.events$.subscribe((e) => events.push(e));
    let seen = 0;
    server.handler = () => {
      seen++;
      if (seen === 1) return { status: Status.Overloaded };
      if (seen === 2) return { status: Status.Unavailable, payload: utf8('not leader') };
      return { status: Status.OK, payload: encodeKvGetReply({ version: 7n, value: utf8('v') }) };
    };
    const entry = await firstValueFrom(flo.kv.get('k'));
    expect(entry?.version).toBe(7n);
    expect(seen).toBe(3);
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries.map((e) => [e.operation, e.attempt, e.error.constructor])).toEqual([
      ['kv_get', 1, OverloadedError],
      ['kv_get', 2, UnavailableError],
    ]);
  });

  it('gives up after the budget with the last error', async () => {
    const flo = client({ retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 } });
    const seen = failFirst(100, Status.Overloaded, new Uint8Array());
    await expect(firstValueFrom(flo.kv.get('k'))).rejects.toBeInstanceOf(OverloadedError);
    expect(seen()).toBe(3);
  });

  it('does not resend a plain put (not idempotent) answered UNAVAILABLE', async () => {
    const flo = client();
    const seen = failFirst(1, Status.Unavailable, encodeKvPutReply({ version: 1n }));
    await expect(firstValueFrom(flo.kv.put('k', 'v'))).rejects.toBeInstanceOf(UnavailableError);
    expect(seen()).toBe(1);
    expect(server.requests.map((r) => r.opcode)).toEqual([Op.KvPut]);
  });

  it('resends a CAS put (idempotent) and, when opted in, a plain put', async () => {
    const flo = client();
    let seen = failFirst(1, Status.Unavailable, encodeKvPutReply({ version: 2n }));
    expect(await firstValueFrom(flo.kv.put('k', 'v', { casVersion: 1n }))).toEqual({ version: 2n });
    expect(seen()).toBe(2);

    const optedIn = client({ retry: { minDelayMs: 1, maxDelayMs: 2, nonIdempotent: true } });
    seen = failFirst(1, Status.Unavailable, encodeKvPutReply({ version: 3n }));
    expect(await firstValueFrom(optedIn.kv.put('k', 'v'))).toEqual({ version: 3n });
    expect(seen()).toBe(2);
  });

  it('resends any write answered OVERLOADED or RATE_LIMITED (the server did nothing)', async () => {
    const flo = client();
    let n = 0;
    server.handler = () => {
      n++;
      return n === 1 ? { status: Status.Overloaded } : n === 2 ? { status: Status.RateLimited } : { status: Status.OK, payload: encodeKvPutReply({ version: 9n }) };
    };
    expect(await firstValueFrom(flo.kv.put('k', 'v'))).toEqual({ version: 9n });
    expect(n).toBe(3);
  });

  it('retry: false sends once', async () => {
    const flo = client({ retry: false });
    const seen = failFirst(1, Status.Overloaded, new Uint8Array());
    const results = await lastValueFrom(flo.kv.get('k').pipe(toArray())).catch((e: unknown) => e);
    expect(results).toBeInstanceOf(OverloadedError);
    expect(seen()).toBe(1);
  });
});
