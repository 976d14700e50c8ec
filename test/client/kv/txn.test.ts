// KV transactions over real sockets: commit, rollback on error, rollback on unsubscribe, the
// lower-level begin/commit/rollback handle, and the unsupported operations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concat, defer, firstValueFrom, lastValueFrom, NEVER, Subject, switchMap, throwError, toArray } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { ConflictError, InvalidArgumentError, TxnUnsupportedOpError, type FloClient } from '../../../src/index.js';
import type { KvTxnOps } from '../../../src/client/kv.js';

function traced(e: Embedded): { flo: FloClient; sent: () => string[] } {
  const lines: string[] = [];
  const flo = e.newClient({ debug: (l) => lines.push(l) });
  return { flo, sent: () => lines.filter((l) => l.includes('→')).map((l) => /→ #\d+ (\S+)/.exec(l)![1]) };
}

/** Resolves once `check()` holds (yielding to the event loop between tries; no wall-clock assertion). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}

describe.each(['tcp', 'ws'] as const)('kv transactions over %s', (transport) => {
  let e: Embedded;
  beforeAll(async () => {
    e = await startEmbedded({ transport });
  });
  afterAll(() => e.close());

  it('commits when the body completes; writes are invisible outside until then', async () => {
    const other = e.newClient();
    const seenOutside: Array<boolean> = [];
    const result = await firstValueFrom(
      e.client.kv.transaction('acct:{1}', (txn) =>
        concat(
          txn.put('acct:{1}:name', 'Jane'),
          txn.incr('acct:{1}:visits', { delta: 5 }),
          defer(async () => seenOutside.push(await firstValueFrom(other.kv.exists('acct:{1}:name')))),
        ),
      ),
    );
    expect(result.opCount).toBe(2);
    expect(typeof result.commitIndex).toBe('bigint');
    expect(seenOutside).toEqual([false]);
    expect((await firstValueFrom(other.kv.get('acct:{1}:name')))?.text()).toBe('Jane');
    expect(await firstValueFrom(other.kv.incr('acct:{1}:visits', { delta: 0 }))).toBe(5n);
  });

  it('inside the txn: get sees buffered writes (version 0), exists, delete, touch, persist; incr answers the delta', async () => {
    const kv = e.client.kv;
    await firstValueFrom(kv.put('in:a', 'committed'));
    await firstValueFrom(kv.put('in:c', 'to-delete'));
    await firstValueFrom(kv.incr('in:n', { delta: 10 }));
    const log: unknown[] = [];
    const result = await firstValueFrom(
      kv.transaction('in', async (txn) => {
        log.push((await firstValueFrom(txn.get('in:a')))?.text());
        await firstValueFrom(txn.put('in:a', 'buffered'));
        const a = await firstValueFrom(txn.get('in:a'));
        log.push([a?.text(), a?.version]);
        await firstValueFrom(txn.delete('in:c'));
        log.push(await firstValueFrom(txn.exists('in:c')));
        await firstValueFrom(txn.delete('in:missing')); // quiet, as outside
        log.push(await firstValueFrom(txn.incr('in:n', { delta: 3 })));
        await firstValueFrom(txn.touch('in:a', 60));
        await firstValueFrom(txn.persist('in:a'));
      }),
    );
    expect(log).toEqual(['committed', ['buffered', 0n], false, 3n]);
    expect(result.opCount).toBe(5);
    expect((await firstValueFrom(kv.get('in:a')))?.text()).toBe('buffered');
    expect(await firstValueFrom(kv.exists('in:c'))).toBe(false);
    expect(await firstValueFrom(kv.incr('in:n', { delta: 0 }))).toBe(13n);
  });

  it('rolls back when the body errors, and re-throws the error', async () => {
    const { flo, sent } = traced(e);
    const boom = new Error('boom');
    const err = await firstValueFrom(
      flo.kv.transaction('rb', (txn) => concat(txn.put('rb:x', 'never'), throwError(() => boom))),
    ).catch((x: unknown) => x);
    expect(err).toBe(boom);
    expect(sent()).toEqual(['kv_begin_txn', 'kv_put', 'kv_rollback_txn']);
    expect(await firstValueFrom(flo.kv.exists('rb:x'))).toBe(false);
  });

  it('rolls back when an op fails (CAS conflict) and errors with it typed', async () => {
    await firstValueFrom(e.client.kv.put('cas:k', 'v'));
    const { flo, sent } = traced(e);
    const err = await firstValueFrom(
      flo.kv.transaction('cas', (txn) => concat(txn.put('cas:other', 'x'), txn.put('cas:k', 'y', { casVersion: 99 }))),
    ).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ConflictError);
    expect(sent()).toEqual(['kv_begin_txn', 'kv_put', 'kv_put', 'kv_rollback_txn']);
    expect(await firstValueFrom(flo.kv.exists('cas:other'))).toBe(false);
  });

  it('rolls back when a thrown body or a rejected promise ends it', async () => {
    const { flo, sent } = traced(e);
    await expect(
      firstValueFrom(
        flo.kv.transaction('p', () => {
          throw new RangeError('sync');
        }),
      ),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(firstValueFrom(flo.kv.transaction('p', async () => Promise.reject(new TypeError('async'))))).rejects.toBeInstanceOf(TypeError);
    expect(sent()).toEqual(['kv_begin_txn', 'kv_rollback_txn', 'kv_begin_txn', 'kv_rollback_txn']);
  });

  it('rolls back when unsubscribed before commit (nothing is applied)', async () => {
    const { flo, sent } = traced(e);
    const putDone = new Subject<void>();
    const sub = flo.kv
      .transaction('unsub', (txn) => concat(txn.put('unsub:x', 'never'), defer(() => (putDone.next(), NEVER))))
      .subscribe();
    await firstValueFrom(putDone);
    sub.unsubscribe();
    await until(() => sent().includes('kv_rollback_txn'));
    expect(sent()).toEqual(['kv_begin_txn', 'kv_put', 'kv_rollback_txn']);
    expect(await firstValueFrom(flo.kv.exists('unsub:x'))).toBe(false);
  });

  it('rolls back a transaction whose BEGIN was still in flight when unsubscribed', async () => {
    const { flo, sent } = traced(e);
    await flo.connect();
    const sub = flo.kv.transaction('early', () => undefined).subscribe();
    // the connection writes the frame at the end of this job; the reply needs an I/O turn
    await new Promise<void>((r) => queueMicrotask(r));
    expect(sent()).toEqual(['kv_begin_txn']);
    sub.unsubscribe(); // its reply will be late
    await until(() => sent().includes('kv_rollback_txn'));
    expect(sent()).toEqual(['kv_begin_txn', 'kv_rollback_txn']);
  });

  it('refuses an op created but never subscribed (rolled back), and ops after the end', async () => {
    const { flo, sent } = traced(e);
    let kept: KvTxnOps | undefined;
    const err = await firstValueFrom(
      flo.kv.transaction('forgot', (txn) => {
        kept = txn;
        txn.put('forgot:x', 'never sent'); // cold: not subscribed, so never sent
      }),
    ).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(sent()).toEqual(['kv_begin_txn', 'kv_rollback_txn']);
    await expect(firstValueFrom(kept!.put('late', 'x'))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('txn.scan/mget/json/history are type errors and throw TxnUnsupportedOpError at runtime', async () => {
    const calls: Array<(txn: KvTxnOps) => unknown> = [
      // @ts-expect-error not in the transaction type
      (txn) => txn.scan('a'),
      // @ts-expect-error not in the transaction type
      (txn) => txn.mget(['a']),
      // @ts-expect-error not in the transaction type
      (txn) => txn.json.get('a', '$'),
      // @ts-expect-error not in the transaction type
      (txn) => txn.history('a'),
    ];
    for (const call of calls) {
      let thrown: unknown;
      const err = await firstValueFrom(
        e.client.kv.transaction('unsupported', (txn) => {
          try {
            call(txn);
          } catch (x) {
            thrown = x;
            throw x;
          }
        }),
      ).catch((x: unknown) => x);
      expect(thrown).toBeInstanceOf(TxnUnsupportedOpError);
      expect(err).toBe(thrown);
    }
  });

  it('begin(): Go-style handle; rollback drops the writes; commit after rollback is refused', async () => {
    const kv = e.client.kv;
    const txn = await firstValueFrom(kv.begin('go'));
    expect(txn.state).toBe('open');
    expect(typeof txn.txnId).toBe('bigint');
    await firstValueFrom(txn.put('go:x', 'dropped'));
    await firstValueFrom(txn.rollback());
    expect(txn.state).toBe('rolled-back');
    await firstValueFrom(txn.rollback()); // idempotent
    await expect(firstValueFrom(txn.commit())).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await firstValueFrom(kv.exists('go:x'))).toBe(false);
  });

  it('begin() composes with switchMap; an empty routing key is refused before sending', async () => {
    const { flo, sent } = traced(e);
    const results = await lastValueFrom(
      flo.kv.begin('compose').pipe(
        switchMap((txn) => concat(txn.put('compose:x', '1'), txn.commit())),
        toArray(),
      ),
    );
    expect(results).toEqual([{ version: 0n }, expect.objectContaining({ opCount: 1 })]);
    expect((await firstValueFrom(flo.kv.get('compose:x')))?.text()).toBe('1');
    await expect(firstValueFrom(flo.kv.transaction('', () => undefined))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(sent()).toEqual(['kv_begin_txn', 'kv_put', 'kv_commit_txn', 'kv_get']);
  });
});
