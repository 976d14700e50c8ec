// Blocking gets and watches over real sockets. The server runs on a manual clock, so a parked
// request only gives up when the test advances time: nothing here depends on wall-clock timing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom, ReplaySubject, skip, type Observable, type Subscription } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { ManualClock } from '../../../src/server.js';
import { InvalidArgumentError, type FloClient } from '../../../src/index.js';
import type { KvEntry } from '../../../src/client/kv.js';

/** Subscribes and records; `next()` resolves with the next emission not yet taken. */
function record(source: Observable<KvEntry | null>) {
  const seen: Array<KvEntry | null> = [];
  const queue = new ReplaySubject<KvEntry | null>();
  let taken = 0;
  const sub: Subscription = source.subscribe({ next: (v) => (seen.push(v), queue.next(v)) });
  return {
    seen,
    sub,
    next: () => firstValueFrom(queue.pipe(skip(taken++))),
  };
}

/** A round trip on `flo`'s connection: the server has handled everything `flo` sent before it. */
const sync = (flo: FloClient) => firstValueFrom(flo.kv.exists('sync'));

describe.each(['tcp', 'ws'] as const)('blocking get and watch over %s', (transport) => {
  let e: Embedded;
  let clock: ManualClock;
  let writer: FloClient;
  beforeAll(async () => {
    clock = new ManualClock();
    e = await startEmbedded({ clock, transport });
    writer = e.newClient();
  });
  afterAll(() => e.close());

  it('a blocking get is woken by a put from another client', async () => {
    let done = false;
    const pending = firstValueFrom(e.client.kv.get('wake', { blockMs: 60_000 })).finally(() => (done = true));
    await sync(e.client); // the get is parked now
    expect(done).toBe(false);
    const { version } = await firstValueFrom(writer.kv.put('wake', 'up'));
    const got = await pending;
    expect(got?.text()).toBe('up');
    expect(got?.version).toBe(version);
  });

  it('a blocking get answers null when its block time passes on the server', async () => {
    const pending = firstValueFrom(e.client.kv.get('never', { blockMs: 300_000 }));
    await sync(e.client);
    clock.advance(300_000);
    expect(await pending).toBeNull();
  });

  it('watch emits the current entry, then every new version, then null on delete, then the key again', async () => {
    await firstValueFrom(writer.kv.put('w', 'v1'));
    const w = record(e.client.kv.watch('w'));
    expect((await w.next())?.text()).toBe('v1');
    await sync(e.client);
    await firstValueFrom(writer.kv.put('w', 'v2'));
    expect((await w.next())?.text()).toBe('v2');
    await sync(e.client);
    await firstValueFrom(writer.kv.put('w', { n: 3 }));
    expect((await w.next())?.data()).toEqual({ n: 3 });
    await sync(e.client);
    await firstValueFrom(writer.kv.delete('w'));
    expect(await w.next()).toBeNull();
    await sync(e.client);
    await firstValueFrom(writer.kv.put('w', 'back'));
    const back = await w.next();
    expect(back?.text()).toBe('back');
    w.sub.unsubscribe();
    const versions = w.seen.filter((x): x is KvEntry => x !== null).map((x) => x.version);
    expect(versions).toEqual([1n, 2n, 3n, 5n]); // 4 was the tombstone
    expect(w.seen.map((x) => (x ? x.text() : null))).toEqual(['v1', 'v2', '{"n":3}', null, 'back']);
  });

  it('watch of an absent key emits nothing until it is written; its polls re-arm when they expire', async () => {
    const w = record(e.client.kv.watch('late', { pollMs: 1000 }));
    await sync(e.client);
    clock.advance(1000); // the first watch request expires: a new round starts, nothing emitted
    await sync(e.client);
    clock.advance(1000);
    await sync(e.client);
    expect(w.seen).toEqual([]);
    await firstValueFrom(writer.kv.put('late', 'now'));
    expect((await w.next())?.text()).toBe('now');
    w.sub.unsubscribe();
  });

  it('watch notices an expiry (TTL) within one poll and emits null', async () => {
    await firstValueFrom(writer.kv.put('ttl-w', 'v', { ttlSeconds: 5 }));
    const w = record(e.client.kv.watch('ttl-w', { pollMs: 2000 }));
    expect((await w.next())?.text()).toBe('v');
    await sync(e.client);
    clock.advance(6000);
    expect(await w.next()).toBeNull();
    w.sub.unsubscribe();
  });

  it('watch never emits a version twice, with many writes from two clients', async () => {
    const w = record(e.client.kv.watch('many'));
    const third = e.newClient();
    for (let i = 0; i < 20; i++) await firstValueFrom((i % 2 ? writer : third).kv.put('many', `v${i}`));
    // the last write is always seen
    while (w.seen.at(-1)?.text() !== 'v19') await w.next();
    w.sub.unsubscribe();
    const versions = w.seen.map((x) => x!.version);
    expect(versions.length).toBeGreaterThan(0);
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]);
  });

  it('unsubscribing a watch stops its requests', async () => {
    const lines: string[] = [];
    const flo = e.newClient({ debug: (l) => lines.push(l) });
    const w = record(flo.kv.watch('quiet'));
    await firstValueFrom(writer.kv.put('quiet', 'a'));
    await w.next();
    w.sub.unsubscribe();
    const sentBefore = lines.filter((l) => l.includes('→')).length;
    await firstValueFrom(writer.kv.put('quiet', 'b'));
    await firstValueFrom(writer.kv.put('quiet', 'c'));
    await sync(flo);
    expect(lines.filter((l) => l.includes('→')).length).toBe(sentBefore + 1); // only the sync
    expect(w.seen).toHaveLength(1);
  });

  it('watch refuses pollMs outside 1..300000 before sending', async () => {
    await expect(firstValueFrom(e.client.kv.watch('x', { pollMs: 0 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(e.client.kv.watch('x', { pollMs: 300_001 }))).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
