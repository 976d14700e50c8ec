// kv.scan timing contracts over a scripted RequestChannel: the next page is requested only after
// the previous one was emitted and only while the subscriber is still there.
import { beforeAll, describe, expect, it } from 'vitest';
import { map, take } from 'rxjs';
import { FloClient } from '../src/client/client.js';
import type { RequestSpec } from '../src/connection/types.js';
import { decodeKvScan, encodeKvScanReply, type KvScanReply } from '../src/protocol/index.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { fakeChannel, loadOnDemandCode, newScheduler, ok } from './helpers.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const page = (keys: string[], cursor?: string, profile: 'go' | 'flo' = 'go') => {
  const r: KvScanReply = {
    entries: keys.map((k) => ({ key: enc.encode(k), value: enc.encode(k.toUpperCase()) })),
    hasMore: cursor !== undefined,
    ...(cursor !== undefined ? { cursor: enc.encode(cursor) } : {}),
  };
  return ok(encodeKvScanReply(r, profile));
};
const request = (spec: RequestSpec) =>
  decodeKvScan({
    namespace: new Uint8Array(0),
    key: spec.body.key ?? new Uint8Array(0),
    value: spec.body.value ?? new Uint8Array(0),
    options: spec.body.options ?? new Uint8Array(0),
  });

describe('kv.scan (marbles)', () => {
  beforeAll(loadOnDemandCode); // the KV/queue/stream code loads on first use: load it before virtual time

  it('fetches the next page only when the subscriber still wants more: take(3) of 2-entry pages sends 2 requests', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectSubscriptions }) => {
      const pages = [
        cold('--(p|)', { p: page(['a', 'b'], 'b') }),
        cold('--(p|)', { p: page(['c', 'd'], 'd') }),
        cold('--(p|)', { p: page(['e']) }),
      ];
      const ch = fakeChannel(ts, (_spec, i) => pages[i]);
      const flo = new FloClient(ch);
      const seen: unknown[] = [];
      flo.kv
        .scan('', { pageSize: 2 })
        .pipe(take(3))
        .subscribe({ next: (e) => seen.push([ts.now(), e.key]), complete: () => seen.push([ts.now(), 'done']) });
      expectSubscriptions(pages[0].subscriptions).toBe('^-!');
      expectSubscriptions(pages[1].subscriptions).toBe('--^-!');
      expectSubscriptions(pages[2].subscriptions).toBe([]);
      ts.flush();
      expect(seen).toEqual([
        [2, 'a'],
        [2, 'b'],
        [4, 'c'],
        [4, 'done'],
      ]);
      expect(ch.sent).toHaveLength(2);
      expect(ch.sent.map((s) => [s.at, request(s.spec).limit, dec.decode(request(s.spec).cursor ?? new Uint8Array(0))])).toEqual([
        [0, 2, ''],
        [2, 2, 'b'],
      ]);
    });
  });

  it('take(n) within the first page sends exactly one request', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const first = cold('-(p|)', { p: page(['a', 'b', 'c'], 'c') });
      const ch = fakeChannel(ts, () => first);
      const flo = new FloClient(ch);
      expectObservable(flo.kv.scan('x').pipe(take(3), map((e) => e.text()))).toBe('-(abc|)', { a: 'A', b: 'B', c: 'C' });
      ts.flush();
      expect(ch.sent).toHaveLength(1);
      expect(request(ch.sent[0].spec).limit).toBe(100); // the default page size
    });
  });

  it('unsubscribing cancels the page in flight and sends nothing more', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const pages = [cold('--(p|)', { p: page(['a', 'b'], 'b') }), cold('-----(p|)', { p: page(['c']) })];
      const ch = fakeChannel(ts, (_spec, i) => pages[i]);
      const flo = new FloClient(ch);
      expectObservable(flo.kv.scan('', { pageSize: 2 }).pipe(map((e) => e.key)), '^---!').toBe('--(ab)', { a: 'a', b: 'b' });
      expectSubscriptions(pages[1].subscriptions).toBe('--^-!');
      ts.flush();
      expect(ch.sent).toHaveLength(2);
    });
  });

  it('reads every page to the end, in both reply layouts', () => {
    for (const profile of ['go', 'flo'] as const) {
      const ts = newScheduler();
      ts.run(({ cold }) => {
        const pages = [cold('-(p|)', { p: page(['a', 'b'], 'b', profile) }), cold('-(p|)', { p: page(['c'], undefined, profile) })];
        const flo = new FloClient(fakeChannel(ts, (_spec, i) => pages[i]));
        const seen: unknown[] = [];
        flo.kv
          .scan('', { pageSize: 2, keysOnly: true })
          .subscribe({ next: (e) => seen.push([ts.now(), e.key]), complete: () => seen.push([ts.now(), 'done']) });
        ts.flush();
        expect(seen).toEqual([
          [1, 'a'],
          [1, 'b'],
          [2, 'c'],
          [2, 'done'],
        ]);
      });
    }
  });

  it('a page that says "more" without a cursor cannot be continued: ProtocolError', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Flo's cursor-less fallback layout: [n][entries][has_more]
      const bytes = new Uint8Array([1, 0, 0, 0, 1, 0, 0x61, 0, 0, 0, 0, 1]);
      const flo = new FloClient(fakeChannel(ts, () => cold('-(p|)', { p: ok(bytes) })));
      expectObservable(flo.kv.scan('').pipe(map((e) => e.key))).toBe(
        '-(a#)',
        { a: 'a' },
        new ProtocolError('flo: kv scan: the server reported more entries but sent no cursor'),
      );
    });
  });
});
