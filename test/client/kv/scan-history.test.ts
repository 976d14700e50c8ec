// Scan and history against both reply profiles of the embedded server ('go': the Go SDK's layouts,
// 'flo': the newest Flo server's), over real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY, expand, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { InvalidArgumentError, TxnUnsupportedOpError, type FloClient } from '../../../src/index.js';
import type { KvScanPage } from '../../../src/client/kv.js';

const keys = Array.from({ length: 25 }, (_, i) => `item:${String(i).padStart(2, '0')}`);

function traced(e: Embedded): { flo: FloClient; scans: () => number } {
  const lines: string[] = [];
  const flo = e.newClient({ debug: (l) => lines.push(l) });
  return { flo, scans: () => lines.filter((l) => l.includes('→') && l.includes('kv_scan')).length };
}

describe.each(['go', 'flo'] as const)('scan and history, server profile %s', (profile) => {
  let e: Embedded;
  beforeAll(async () => {
    e = await startEmbedded({ profile });
    for (const k of keys) await firstValueFrom(e.client.kv.put(k, { k }));
    await firstValueFrom(e.client.kv.put('other:1', 'x'));
  });
  afterAll(() => e.close());

  it('scan emits every entry under the prefix, in byte order, with values', async () => {
    const all = await lastValueFrom(e.client.kv.scan('item:', { pageSize: 7 }).pipe(toArray()));
    expect(all.map((x) => x.key)).toEqual(keys);
    expect(all[3].data()).toEqual({ k: 'item:03' });
  });

  it('scan keysOnly returns empty values', async () => {
    const all = await lastValueFrom(e.client.kv.scan('item:', { keysOnly: true }).pipe(toArray()));
    expect(all.map((x) => x.key)).toEqual(keys);
    expect(all.every((x) => x.value.length === 0)).toBe(true);
  });

  it('take(10) fetches exactly one page; the whole scan fetches ceil(n / pageSize)', async () => {
    const { flo, scans } = traced(e);
    const first = await lastValueFrom(flo.kv.scan('item:').pipe(take(10), toArray()));
    expect(first.map((x) => x.key)).toEqual(keys.slice(0, 10));
    expect(scans()).toBe(1);
    const ten = await lastValueFrom(flo.kv.scan('item:', { pageSize: 10 }).pipe(take(10), toArray()));
    expect(ten).toHaveLength(10);
    expect(scans()).toBe(2); // still one page: the 10th entry ended it before a second request
    const eleven = await lastValueFrom(flo.kv.scan('item:', { pageSize: 10 }).pipe(take(11), toArray()));
    expect(eleven).toHaveLength(11);
    expect(scans()).toBe(4);
    await lastValueFrom(flo.kv.scan('item:', { pageSize: 10 }).pipe(toArray()));
    expect(scans()).toBe(7);
  });

  it('scanPage pages manually with the cursor', async () => {
    const pages = await lastValueFrom(
      e.client.kv.scanPage('item:', { limit: 10 }).pipe(
        expand((p: KvScanPage) => (p.hasMore ? e.client.kv.scanPage('item:', { limit: 10, cursor: p.cursor! }) : EMPTY)),
        toArray(),
      ),
    );
    expect(pages.map((p) => p.entries.length)).toEqual([10, 10, 5]);
    expect(pages.map((p) => p.hasMore)).toEqual([true, true, false]);
    expect(pages[2].cursor).toBeUndefined();
    expect(pages.flatMap((p) => p.entries.map((x) => x.key))).toEqual(keys);
  });

  it('scan of an empty prefix range completes with nothing; bad page sizes are refused', async () => {
    expect(await lastValueFrom(e.client.kv.scan('nothing:').pipe(toArray()))).toEqual([]);
    await expect(lastValueFrom(e.client.kv.scan('item:', { pageSize: 0 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(e.client.kv.scanPage('item:', { limit: 1025 }))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('history: newest first, limit honoured, a deletion is an empty value, a never-written key is []', async () => {
    const kv = e.client.kv;
    await firstValueFrom(kv.put('h', 'one'));
    await firstValueFrom(kv.put('h', 'two'));
    await firstValueFrom(kv.delete('h'));
    await firstValueFrom(kv.put('h', 'four'));
    const all = await firstValueFrom(kv.history('h'));
    expect(all.map((x) => [x.version, x.text()])).toEqual([
      [4n, 'four'],
      [3n, ''],
      [2n, 'two'],
      [1n, 'one'],
    ]);
    if (profile === 'go') expect(all.every((x) => typeof x.timestampNs === 'bigint')).toBe(true);
    else expect(all.every((x) => x.timestampNs === undefined)).toBe(true);
    const two = await firstValueFrom(kv.history('h', { limit: 2 }));
    expect(two.map((x) => x.version)).toEqual([4n, 3n]);
    expect(await firstValueFrom(kv.history('never-written'))).toEqual([]);
  });

  it('scan and history are refused inside a transaction', async () => {
    const err = await firstValueFrom(
      e.client.kv.transaction('item:00', (txn) => {
        (txn as unknown as { history(k: string): unknown }).history('h');
      }),
    ).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(TxnUnsupportedOpError);
  });
});
