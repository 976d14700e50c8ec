/**
 * The KV flow of the Go SDK guide, in flo-rx.
 *
 *   npx tsx examples/kv.ts                       # starts an embedded server in-process
 *   FLO_ADDR=localhost:9000 npx tsx examples/kv.ts   # or talks to a running Flo / `flo-rx serve`
 */
import { EMPTY, concat, concatMap, firstValueFrom, ignoreElements, lastValueFrom, of, take, toArray } from 'rxjs';
import { isConflict } from '../src/node.js';
import { runIfMain, withFlo } from './support.js';

export async function main(log: (line: string) => void = console.log): Promise<void> {
  await withFlo({ log, label: 'embedded server', connect: { namespace: 'myapp', timeoutMs: 5000 } }, async (flo) => {
    // A fresh prefix per run, so the program can run against a long-lived server too.
    const p = `example:${Date.now().toString(36)}:`;
    // Put / Get
    await firstValueFrom(flo.kv.put(`${p}user:123`, 'John Doe'));
    const user = await firstValueFrom(flo.kv.get(`${p}user:123`));
    log(`get: ${user?.text()} @ v${user?.version}`);

    // CAS: write with the version we read; a stale version is a conflict
    const cas = await firstValueFrom(flo.kv.put(`${p}user:123`, 'Jane Doe', { casVersion: user!.version }));
    log(`cas put: v${cas.version}`);
    const stale = await firstValueFrom(flo.kv.put(`${p}user:123`, 'Nobody', { casVersion: user!.version })).catch((e: unknown) => e);
    log(`stale cas: ${isConflict(stale) ? 'conflict' : 'unexpected'}`);

    // TTL, touch, persist, exists
    await firstValueFrom(flo.kv.put(`${p}lock:resource`, 'me', { ttlSeconds: 3600 }));
    await firstValueFrom(flo.kv.touch(`${p}lock:resource`, 60));
    await firstValueFrom(flo.kv.persist(`${p}lock:resource`));
    log(`lock exists: ${await firstValueFrom(flo.kv.exists(`${p}lock:resource`))}`);

    // MGet
    const many = await firstValueFrom(flo.kv.mget([`${p}user:123`, `${p}user:999`]));
    log(`mget: ${many.map((e) => (e.found ? `${e.key.slice(p.length)}=${e.text()}` : `${e.key.slice(p.length)} missing`)).join(', ')}`);

    // Incr
    await firstValueFrom(flo.kv.incr(`${p}visits:home`));
    log(`incr: ${await firstValueFrom(flo.kv.incr(`${p}visits:home`, { delta: 10 }))}`);

    // JSON documents
    await firstValueFrom(flo.kv.json.set(`${p}order:42`, '$', { items: 3, status: 'new' }));
    const shipped = await firstValueFrom(flo.kv.json.set(`${p}order:42`, '$.status', 'shipped'));
    const status = await firstValueFrom(flo.kv.json.get(`${p}order:42`, '$.status'));
    log(`json: status=${status?.data<string>()} @ v${shipped.version}`);
    await firstValueFrom(flo.kv.json.del(`${p}order:42`, '$.status'));

    // Transaction: commits when the body completes, rolls back if it errors
    const txn = await firstValueFrom(
      flo.kv.transaction(`${p}user:42`, (t) => concat(t.put(`${p}user:42:name`, 'Jane'), t.incr(`${p}user:42:visits`))),
    );
    log(`txn: committed ${txn.opCount} ops at index ${txn.commitIndex}`);

    // Scan: entries one by one, pages fetched on demand
    for (const n of ['a', 'b', 'c']) await firstValueFrom(flo.kv.put(`${p}scan:${n}`, n.toUpperCase()));
    const scanned = await lastValueFrom(flo.kv.scan(`${p}scan:`, { pageSize: 2 }).pipe(toArray()));
    log(`scan: ${scanned.map((e) => `${e.key.slice(p.length)}=${e.text()}`).join(', ')}`);

    // History, newest first
    const history = await firstValueFrom(flo.kv.history(`${p}user:123`));
    log(`history: ${history.map((e) => `v${e.version}=${e.text()}`).join(', ')}`);

    // Watch: the current entry, then every new version. Each time it sees a version, this
    // program writes the next one, until it has seen three.
    await firstValueFrom(flo.kv.put(`${p}config`, 'one'));
    const next = ['two', 'three'];
    const seen = await lastValueFrom(
      flo.kv.watch(`${p}config`).pipe(
        take(3),
        concatMap((e, i) =>
          concat(of(e?.text() ?? 'deleted'), i < next.length ? flo.kv.put(`${p}config`, next[i]).pipe(ignoreElements()) : EMPTY),
        ),
        toArray(),
      ),
    );
    log(`watch: ${seen.join(' -> ')}`);
  });
  log('done');
}

runIfMain(import.meta.url, main);
