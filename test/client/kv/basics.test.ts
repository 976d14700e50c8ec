// flo.kv over real sockets (TCP and WebSocket) against the embedded server: single-shot calls,
// laziness, options, typed errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, materialize, merge, toArray } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import {
  BadRequestError,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  isBadRequest,
  isConflict,
  isNotFound,
  type FloClient,
} from '../../../src/index.js';
import { ManualClock } from '../../../src/server.js';

const enc = new TextEncoder();

/** A client whose outgoing frames are recorded (`sent()` lists their opcode names). */
function tracedClient(e: Embedded, namespace = 'test'): { flo: FloClient; sent: () => string[] } {
  const lines: string[] = [];
  const flo = e.newClient({ namespace, debug: (line) => lines.push(line) });
  return { flo, sent: () => lines.filter((l) => l.includes('→')).map((l) => /→ #\d+ (\S+)/.exec(l)![1]) };
}

describe.each(['tcp', 'ws'] as const)('kv basics over %s', (transport) => {
  let e: Embedded;
  beforeAll(async () => {
    e = await startEmbedded({ transport });
  });
  afterAll(() => e.close());

  it('is cold: nothing is sent before subscribe; each subscription sends again', async () => {
    const { flo, sent } = tracedClient(e);
    const put$ = flo.kv.put('cold', 'v');
    const get$ = flo.kv.get('cold');
    await firstValueFrom(flo.kv.exists('warm-up'));
    expect(sent()).toEqual(['kv_exists']);
    expect((await firstValueFrom(put$)).version).toBe(1n);
    expect((await firstValueFrom(put$)).version).toBe(2n);
    await firstValueFrom(get$);
    expect(sent()).toEqual(['kv_exists', 'kv_put', 'kv_put', 'kv_get']);
  });

  it('put/get round-trips bytes untouched, strings as UTF-8, objects through the codec', async () => {
    const kv = e.client.kv;
    const bytes = new Uint8Array([0, 255, 1, 2]);
    await firstValueFrom(kv.put('bytes', bytes));
    expect((await firstValueFrom(kv.get('bytes')))!.value).toEqual(bytes);
    await firstValueFrom(kv.put('str', 'héllo'));
    const s = (await firstValueFrom(kv.get('str')))!;
    expect(s.value).toEqual(enc.encode('héllo'));
    expect(s.text()).toBe('héllo');
    await firstValueFrom(kv.put('obj', { a: 1, b: [true] }));
    const o = (await firstValueFrom(kv.get('obj')))!;
    expect(o.data<{ a: number }>()).toEqual({ a: 1, b: [true] });
    expect(o.key).toBe('obj');
    expect(Object.keys(o)).toEqual(['key', 'value', 'version']); // data/text are not enumerable
    // a Uint8Array key works too
    await firstValueFrom(kv.put(enc.encode('bin-key'), 'x'));
    expect((await firstValueFrom(kv.get('bin-key')))!.text()).toBe('x');
  });

  it('per-call namespace isolates keys; per-call timeoutMs is accepted', async () => {
    const kv = e.client.kv;
    await firstValueFrom(kv.put('shared', 'in-a', { namespace: 'ns-a' }));
    await firstValueFrom(kv.put('shared', 'in-b', { namespace: 'ns-b', timeoutMs: 2000 }));
    expect((await firstValueFrom(kv.get('shared', { namespace: 'ns-a' })))!.text()).toBe('in-a');
    expect((await firstValueFrom(kv.get('shared', { namespace: 'ns-b' })))!.text()).toBe('in-b');
    expect(await firstValueFrom(kv.get('shared'))).toBeNull();
  });

  it('put conditions: ifExists on a missing key and ifNotExists on a present one are conflicts', async () => {
    const kv = e.client.kv;
    await expect(firstValueFrom(kv.put('xx', 'v', { ifExists: true }))).rejects.toBeInstanceOf(ConflictError);
    await firstValueFrom(kv.put('xx', 'v', { ifNotExists: true }));
    await firstValueFrom(kv.put('xx', 'w', { ifExists: true }));
    await expect(firstValueFrom(kv.put('xx', 'z', { ifNotExists: true }))).rejects.toSatisfy(isConflict);
    expect((await firstValueFrom(kv.get('xx')))!.text()).toBe('w');
  });

  it('delete: idempotent without ifMatch; with ifMatch a wrong version conflicts and a missing key is NotFound', async () => {
    const kv = e.client.kv;
    await expect(firstValueFrom(kv.delete('never-there'))).resolves.toBeUndefined();
    const { version } = await firstValueFrom(kv.put('dm', 'v'));
    await expect(firstValueFrom(kv.delete('dm', { ifMatch: version + 1n }))).rejects.toSatisfy(isConflict);
    await firstValueFrom(kv.delete('dm', { ifMatch: version }));
    expect(await firstValueFrom(kv.exists('dm'))).toBe(false);
    await expect(firstValueFrom(kv.delete('dm', { ifMatch: version }))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('get blockMs: > 300000 refused before sending; 0 means "do not wait" and is never sent', async () => {
    const { flo, sent } = tracedClient(e);
    await expect(firstValueFrom(flo.kv.get('k', { blockMs: 300_001 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(flo.kv.get('k', { blockMs: -1 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(sent()).toEqual([]);
    expect(await firstValueFrom(flo.kv.get('absent', { blockMs: 0 }))).toBeNull();
    expect(sent()).toEqual(['kv_get']);
  });

  it('mget: order kept, found flags, > 256 keys refused before sending, [] sends nothing', async () => {
    const { flo, sent } = tracedClient(e);
    await firstValueFrom(flo.kv.put('m1', 'one'));
    const keys = Array.from({ length: 257 }, (_, i) => `k${i}`);
    await expect(firstValueFrom(flo.kv.mget(keys))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await firstValueFrom(flo.kv.mget([]))).toEqual([]);
    expect(sent()).toEqual(['kv_put']);
    const r = await firstValueFrom(flo.kv.mget(['m2', 'm1']));
    expect(r.map((x) => [x.key, x.found, x.version])).toEqual([
      ['m2', false, 0n],
      ['m1', true, 1n],
    ]);
    expect(r[1].text()).toBe('one');
    const all = await firstValueFrom(flo.kv.mget(keys.slice(0, 256)));
    expect(all).toHaveLength(256);
  });

  it('incr: default +1, negative deltas, bigint results; overflow is a BadRequestError that changes nothing', async () => {
    const kv = e.client.kv;
    expect(await firstValueFrom(kv.incr('ctr'))).toBe(1n);
    expect(await firstValueFrom(kv.incr('ctr', { delta: -5n }))).toBe(-4n);
    expect(await firstValueFrom(kv.incr('big', { delta: (1n << 63n) - 1n }))).toBe((1n << 63n) - 1n);
    await expect(firstValueFrom(kv.incr('big'))).rejects.toBeInstanceOf(BadRequestError);
    expect(await firstValueFrom(kv.incr('big', { delta: 0 }))).toBe((1n << 63n) - 1n);
    await expect(firstValueFrom(kv.incr('ctr', { delta: 1.5 }))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('exists, touch and persist; touch of a missing key is NotFound', async () => {
    const kv = e.client.kv;
    await firstValueFrom(kv.put('t', 'v'));
    expect(await firstValueFrom(kv.exists('t'))).toBe(true);
    await expect(firstValueFrom(kv.touch('t', 30))).resolves.toBeUndefined();
    await expect(firstValueFrom(kv.persist('t'))).resolves.toBeUndefined();
    await expect(firstValueFrom(kv.touch('t-missing', 30))).rejects.toSatisfy(isNotFound);
    await expect(firstValueFrom(kv.persist('t-missing'))).rejects.toSatisfy(isNotFound);
  });

  it('json: set/get/del with paths; missing key or path reads null; del of a missing path completes', async () => {
    const kv = e.client.kv;
    expect(await firstValueFrom(kv.json.get('doc', '$'))).toBeNull();
    const v1 = await firstValueFrom(kv.json.set('doc', '$', { a: { b: 1 }, list: [1, 2] }));
    const v2 = await firstValueFrom(kv.json.set('doc', '$.a.b', 2));
    expect(v2.version).toBe(v1.version + 1n);
    expect((await firstValueFrom(kv.json.get('doc', '$.a')))!.data()).toEqual({ b: 2 });
    expect((await firstValueFrom(kv.json.get('doc', '$.list[1]')))!.data()).toBe(2);
    expect(await firstValueFrom(kv.json.get('doc', '$.nope'))).toBeNull();
    await firstValueFrom(kv.json.del('doc', '$.a'));
    await expect(firstValueFrom(kv.json.del('doc', '$.a'))).resolves.toBeUndefined();
    expect((await firstValueFrom(kv.json.get('doc')))!.data()).toEqual({ list: [1, 2] });
    // raw JSON text as bytes
    await firstValueFrom(kv.json.set('doc', '$.raw', enc.encode('{"x":true}')));
    expect((await firstValueFrom(kv.json.get('doc', '$.raw')))!.data()).toEqual({ x: true });
    await expect(firstValueFrom(kv.json.set('doc', '$.bad', enc.encode('{nope')))).rejects.toSatisfy(isBadRequest);
    await expect(firstValueFrom(kv.json.set('doc', '$.u', undefined))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('an oversize key is a typed error and nothing else in flight is lost', async () => {
    const kv = e.client.kv;
    const tooLong = 'k'.repeat(5000); // above Flo's 4096-byte qualified key: refused before sending
    const outcomes = await lastValueFrom(
      merge(
        kv.put('before', 'b').pipe(materialize()),
        kv.put(tooLong, 'x').pipe(materialize()),
        kv.put('after', 'a').pipe(materialize()),
      ).pipe(toArray()),
    );
    const errors = outcomes.filter((n) => n.kind === 'E').map((n) => n.error as unknown);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(InvalidArgumentError);
    expect(outcomes.filter((n) => n.kind === 'N')).toHaveLength(2);
    expect((await firstValueFrom(kv.get('before')))!.text()).toBe('b');
    expect((await firstValueFrom(kv.get('after')))!.text()).toBe('a');
    // beyond what a frame can carry: refused client-side, the connection stays usable
    await expect(firstValueFrom(kv.get('k'.repeat(70_000)))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(kv.put('', 'x'))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await firstValueFrom(kv.exists('after'))).toBe(true);
  });
});

describe('kv TTLs (manual server clock)', () => {
  let e: Embedded;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock();
    e = await startEmbedded({ clock });
  });
  afterAll(() => e.close());

  it('ttlSeconds expires the key; touch extends it; persist clears it', async () => {
    const kv = e.client.kv;
    await firstValueFrom(kv.put('ttl', 'v', { ttlSeconds: 10 }));
    await firstValueFrom(kv.put('ttl2', 'v', { ttlSeconds: 10 }));
    await firstValueFrom(kv.put('ttl3', 'v', { ttlSeconds: 10 }));
    clock.advance(5_000);
    await firstValueFrom(kv.touch('ttl2', 20));
    await firstValueFrom(kv.persist('ttl3'));
    clock.advance(5_000);
    expect(await firstValueFrom(kv.get('ttl'))).toBeNull();
    expect(await firstValueFrom(kv.exists('ttl2'))).toBe(true);
    clock.advance(20_000);
    expect(await firstValueFrom(kv.exists('ttl2'))).toBe(false);
    expect(await firstValueFrom(kv.exists('ttl3'))).toBe(true);
  });
});
