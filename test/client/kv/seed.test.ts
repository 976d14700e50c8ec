// Every KV snippet of the seed (the Go SDK guide), rewritten in flo-rx, against the embedded server
// over a real socket. Each test names the Go lines it stands for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concat, expand, EMPTY, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { isBadRequest, isConflict, isNotFound, isOverloaded, ConflictError, TxnUnsupportedOpError } from '../../../src/index.js';
import type { KvScanPage } from '../../../src/client/kv.js';

let e: Embedded;
beforeAll(async () => {
  e = await startEmbedded({ client: { namespace: 'myapp' } });
});
afterAll(() => e.close());

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('seed: Go SDK KV section in flo-rx', () => {
  it('quick start: KV.Put("user:123", "John Doe") then KV.Get', async () => {
    const flo = e.client;
    await firstValueFrom(flo.kv.put('user:123', 'John Doe'));
    const value = await firstValueFrom(flo.kv.get('user:123'));
    expect(value?.text()).toBe('John Doe');
    expect(text(value!.value)).toBe('John Doe');
  });

  it('Get returns value and version, nil (null) when absent', async () => {
    const { version } = await firstValueFrom(e.client.kv.put('key', 'value'));
    const result = await firstValueFrom(e.client.kv.get('key'));
    expect(result).not.toBeNull();
    expect(`${result!.text()} @ v${result!.version}`).toBe(`value @ v${version}`);
    expect(await firstValueFrom(e.client.kv.get('no-such-key'))).toBeNull();
  });

  it('blocking get (BlockMS 5000) waits for the key to appear', async () => {
    const pending = firstValueFrom(e.client.kv.get('appears-later', { blockMs: 5000 }));
    // a round trip on the same connection: the blocking get has been parked by now
    await firstValueFrom(e.client.kv.exists('anything'));
    await firstValueFrom(e.newClient({ namespace: 'myapp' }).kv.put('appears-later', 'here'));
    expect((await pending)?.text()).toBe('here');
  });

  it('simple put returns the committed version; TTLSeconds 3600', async () => {
    const res = await firstValueFrom(e.client.kv.put('put-key', 'value'));
    expect(res.version).toBeGreaterThan(0n);
    const res2 = await firstValueFrom(e.client.kv.put('put-key', 'value', { ttlSeconds: 3600 }));
    expect(res2.version).toBe(res.version + 1n);
  });

  it('CAS with the version returned by Get; IsConflict on mismatch', async () => {
    await firstValueFrom(e.client.kv.put('cas', 'v1'));
    const cur = await firstValueFrom(e.client.kv.get('cas'));
    const res = await firstValueFrom(e.client.kv.put('cas', 'new', { casVersion: cur!.version }));
    expect(res.version).toBe(cur!.version + 1n);
    const err = await firstValueFrom(e.client.kv.put('cas', 'again', { casVersion: cur!.version })).catch((x: unknown) => x);
    expect(isConflict(err)).toBe(true);
    expect(err).toBeInstanceOf(ConflictError);
  });

  it('CAS create-if-absent (version 0) and IfNotExists', async () => {
    const first = await firstValueFrom(e.client.kv.put('create-once', 'first', { casVersion: 0 }));
    expect(first.version).toBe(1n);
    await expect(firstValueFrom(e.client.kv.put('create-once', 'second', { casVersion: 0n }))).rejects.toSatisfy(isConflict);
    await expect(firstValueFrom(e.client.kv.put('create-once', 'value', { ifNotExists: true }))).rejects.toSatisfy(isConflict);
    expect((await firstValueFrom(e.client.kv.get('create-once')))?.text()).toBe('first');
  });

  it('Delete', async () => {
    await firstValueFrom(e.client.kv.put('del', 'x'));
    await firstValueFrom(e.client.kv.delete('del'));
    expect(await firstValueFrom(e.client.kv.get('del'))).toBeNull();
  });

  it('MGet of up to 256 keys, each with Found', async () => {
    await lastValueFrom(concat(e.client.kv.put('user:1', 'Ann'), e.client.kv.put('user:3', 'Cid')));
    const entries = await firstValueFrom(e.client.kv.mget(['user:1', 'user:2', 'user:3']));
    const lines = entries.map((x) => (x.found ? `${x.key} = ${x.text()} (v${x.version})` : `${x.key} missing`));
    expect(lines).toEqual(['user:1 = Ann (v1)', 'user:2 missing', 'user:3 = Cid (v1)']);
  });

  it('Incr (+1) and Incr with Delta 10', async () => {
    expect(await firstValueFrom(e.client.kv.incr('visits:home'))).toBe(1n);
    expect(await firstValueFrom(e.client.kv.incr('visits:home', { delta: 10 }))).toBe(11n);
  });

  it('Touch (extend TTL), Persist (clear TTL), Exists', async () => {
    await firstValueFrom(e.client.kv.put('lock:resource', 'me', { ttlSeconds: 5 }));
    await firstValueFrom(e.client.kv.touch('lock:resource', 60));
    await firstValueFrom(e.client.kv.persist('lock:resource'));
    expect(await firstValueFrom(e.client.kv.exists('lock:resource'))).toBe(true);
    expect(await firstValueFrom(e.client.kv.exists('lock:other'))).toBe(false);
  });

  it('JsonSet whole doc, JsonSet $.status, JsonGet, JsonDel', async () => {
    const kv = e.client.kv;
    await firstValueFrom(kv.json.set('order:42', '$', { items: 3, status: 'new' }));
    const res = await firstValueFrom(kv.json.set('order:42', '$.status', 'shipped'));
    const status = await firstValueFrom(kv.json.get('order:42', '$.status'));
    expect(status?.data<string>()).toBe('shipped');
    expect(text(status!.value)).toBe('"shipped"');
    expect(status!.version).toBe(res.version);
    await firstValueFrom(kv.json.del('order:42', '$.status'));
    expect(await firstValueFrom(kv.json.get('order:42', '$.status'))).toBeNull();
    expect((await firstValueFrom(kv.json.get('order:42', '$')))?.data()).toEqual({ items: 3 });
  });

  it('transaction: Begin("user:42"), Put, Incr, Commit → OpCount, CommitIndex', async () => {
    const result = await firstValueFrom(
      e.client.kv.transaction('user:42', (txn) => concat(txn.put('user:42:name', 'Jane'), txn.incr('user:42:visits', { delta: 1 }))),
    );
    expect(result.opCount).toBe(2);
    expect(result.commitIndex).toBeGreaterThan(0n);
    expect((await firstValueFrom(e.client.kv.get('user:42:name')))?.text()).toBe('Jane');
    expect(await firstValueFrom(e.client.kv.incr('user:42:visits', { delta: 0 }))).toBe(1n);
  });

  it('transaction, Go style: begin(), ops, commit(), rollback() idempotent', async () => {
    const txn = await firstValueFrom(e.client.kv.begin('user:43'));
    await firstValueFrom(txn.put('user:43:name', 'Joe'));
    await firstValueFrom(txn.incr('user:43:visits', { delta: 1 }));
    const result = await firstValueFrom(txn.commit());
    expect(result.opCount).toBe(2);
    await firstValueFrom(txn.rollback()); // idempotent, as Go's
    expect((await firstValueFrom(e.client.kv.get('user:43:name')))?.text()).toBe('Joe');
  });

  it('scan, mget, JsonGet, JsonSet, JsonDel, History are not supported inside a transaction', async () => {
    const err = await firstValueFrom(
      e.client.kv.transaction('user:44', (txn) => {
        // @ts-expect-error scan is not part of the transaction type
        txn.scan('user:');
        return EMPTY;
      }),
    ).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(TxnUnsupportedOpError);
  });

  it('Scan("user:") and the paginated cursor loop', async () => {
    const kv = e.client.kv;
    for (const k of ['user:a', 'user:b', 'user:c', 'user:d', 'user:e']) await firstValueFrom(kv.put(k, k.toUpperCase()));
    const all = await lastValueFrom(kv.scan('user:').pipe(toArray()));
    expect(all.map((x) => x.key)).toEqual(expect.arrayContaining(['user:a', 'user:e']));
    expect(all.map((x) => x.key)).toEqual([...all.map((x) => x.key)].sort());

    // for result.HasMore { result = Scan(prefix, Cursor) }, with a limit of 2
    const pages = await lastValueFrom(
      kv.scanPage('user:', { limit: 2 }).pipe(
        expand((p: KvScanPage) => (p.hasMore ? kv.scanPage('user:', { cursor: p.cursor!, limit: 2 }) : EMPTY)),
        toArray(),
      ),
    );
    expect(pages.flatMap((p) => p.entries.map((x) => x.key))).toEqual(all.map((x) => x.key));
    expect(pages.at(-1)!.hasMore).toBe(false);
    expect(pages.slice(0, -1).every((p) => p.hasMore && p.entries.length === 2)).toBe(true);
  });

  it('History: version, timestamp, value', async () => {
    await lastValueFrom(concat(e.client.kv.put('hist', 'a'), e.client.kv.put('hist', 'b')));
    const entries = await firstValueFrom(e.client.kv.history('hist'));
    expect(entries.map((x) => `v${x.version}: ${x.text()}`)).toEqual(['v2: b', 'v1: a']);
    expect(entries.every((x) => typeof x.timestampNs === 'bigint' && x.timestampNs > 0n)).toBe(true);
  });

  it('error guards: IsNotFound, IsConflict, IsBadRequest, IsOverloaded', async () => {
    const notFound = await firstValueFrom(e.client.kv.touch('missing-key', 10)).catch((x: unknown) => x);
    expect(isNotFound(notFound)).toBe(true);
    await firstValueFrom(e.client.kv.put('not-a-counter', 'abc'));
    const bad = await firstValueFrom(e.client.kv.incr('not-a-counter')).catch((x: unknown) => x);
    expect(isBadRequest(bad)).toBe(true);
    expect(isOverloaded(bad)).toBe(false);
  });
});
