// kv.watch timing contracts over a scripted RequestChannel: a round is a watch (get + WaitMS) sent
// first and a plain get right behind it; the next round starts when both are answered.
import { beforeAll, describe, expect, it } from 'vitest';
import { map, type Observable } from 'rxjs';
import { FloClient } from '../src/client/client.js';
import type { RequestSpec } from '../src/connection/types.js';
import { decodeKvGet, encodeKvGetReply, type ResponseFrame } from '../src/protocol/index.js';
import { Op } from '../src/protocol/opcodes.js';
import { Status } from '../src/protocol/status.js';
import { ConnectionLostError } from '../src/protocol/errors.js';
import { drive, fakeChannel, loadOnDemandCode, newScheduler, ok, reply } from './helpers.js';

const enc = new TextEncoder();
const entry = (version: number, text: string) => ok(encodeKvGetReply({ version: BigInt(version), value: enc.encode(text) }));
const notFound = reply(Status.NotFound);
const values = { a: entry(1, 'v1'), b: entry(2, 'v2'), c: entry(3, 'v3'), n: notFound };

const request = (spec: RequestSpec) =>
  decodeKvGet({
    namespace: new Uint8Array(0),
    key: spec.body.key ?? new Uint8Array(0),
    value: spec.body.value ?? new Uint8Array(0),
    options: spec.body.options ?? new Uint8Array(0),
  });
const isWatch = (spec: RequestSpec) => spec.opcode === Op.KvGet && request(spec).waitMs !== undefined;

/** Routes watches and gets to their own scripted lists (in order). */
function script(watches: Observable<ResponseFrame>[], gets: Observable<ResponseFrame>[]) {
  let w = 0;
  let g = 0;
  return (spec: RequestSpec) => (isWatch(spec) ? watches[w++] : gets[g++]) ?? (undefined as never);
}

const text = (e: { text(): string } | null) => (e ? e.text() : null);

describe('kv.watch (marbles)', () => {
  beforeAll(loadOnDemandCode); // watch's rounds load on first use (kv-watch.ts): load them before virtual time
  it('re-polls after each version: round n+1 starts when round n is answered', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const watches = [cold('-----(b|)', values), cold('---(c|)', values), cold<ResponseFrame>('-')];
      const gets = [cold('-(a|)', values), cold('-(b|)', values), cold('-(c|)', values)];
      const ch = fakeChannel(ts, script(watches, gets));
      const flo = new FloClient(ch);
      expectObservable(flo.kv.watch('k').pipe(map(text)), '^-------------------!').toBe('-a---b--c', {
        a: 'v1',
        b: 'v2',
        c: 'v3',
      });
      expectSubscriptions(watches[0].subscriptions).toBe('^----!');
      expectSubscriptions(watches[1].subscriptions).toBe('-----^--!');
      expectSubscriptions(watches[2].subscriptions).toBe('--------^-----------!');
      expectSubscriptions(gets[1].subscriptions).toBe('-----^!');
      ts.flush();
      // each round: the watch first, then the get; the watch's long-poll extends its deadline
      expect(ch.sent.map((s) => [isWatch(s.spec) ? 'watch' : 'get', s.at])).toEqual([
        ['watch', 0],
        ['get', 0],
        ['watch', 5],
        ['get', 5],
        ['watch', 8],
        ['get', 8],
      ]);
      expect(request(ch.sent[0].spec).waitMs).toBe(30_000);
      expect(ch.sent[0].spec.blockMs).toBe(30_000);
      expect(ch.sent[1].spec.blockMs).toBeUndefined();
    });
  });

  it('handles the get of a round before its watch: a stale get never follows a newer version', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // the watch answers first (v2), the get (processed earlier: v1) arrives later
      const watches = [cold('-(b|)', values), cold<ResponseFrame>('-')];
      const gets = [cold('---(a|)', values), cold('-(b|)', values)];
      const flo = new FloClient(fakeChannel(ts, script(watches, gets)));
      expectObservable(flo.kv.watch('k').pipe(map(text)), '^------!').toBe('---(ab)', { a: 'v1', b: 'v2' });
    });
  });

  it('emits null once when the key goes away, and the entry again when it comes back', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // round 1: v1; the watch answers NOT_FOUND (deleted); round 2's get confirms: null;
      // round 3: re-created (version 3 here, any version counts after a null)
      const watches = [cold('--(n|)', values), cold('----(c|)', values), cold<ResponseFrame>('-')];
      const gets = [cold('-(a|)', values), cold('-(n|)', values), cold('-(c|)', values)];
      const flo = new FloClient(fakeChannel(ts, script(watches, gets)));
      expectObservable(flo.kv.watch('k').pipe(map(text)), '^----------!').toBe('-a-n--c', { a: 'v1', n: null, c: 'v3' });
    });
  });

  it('a watch that expires (NOT_FOUND) while the key is unchanged emits nothing and polls again', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const watches = [cold('---(n|)', values), cold('---(n|)', values), cold<ResponseFrame>('-')];
      const gets = [cold('-(a|)', values), cold('-(a|)', values), cold('-(a|)', values)];
      const ch = fakeChannel(ts, script(watches, gets));
      const flo = new FloClient(ch);
      expectObservable(flo.kv.watch('k', { pollMs: 1000 }).pipe(map(text)), '^---------!').toBe('-a', { a: 'v1' });
      ts.flush();
      expect(ch.sent.filter((s) => isWatch(s.spec)).map((s) => s.at)).toEqual([0, 3, 6]);
      expect(request(ch.sent[0].spec).waitMs).toBe(1000);
    });
  });

  it('backs off when rounds keep answering at once with nothing (e.g. a full waiter pool)', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const now = () => cold('(n|)', values);
      const ch = fakeChannel(ts, () => now());
      const flo = new FloClient(ch);
      expectObservable(flo.kv.watch('k'), '^ 2000ms !').toBe('');
      ts.flush();
      const rounds = ch.sent.filter((s) => isWatch(s.spec)).map((s) => s.at);
      // two idle rounds back to back, then 50, 100, 200, 400, 800 ms, then 1 s apart
      expect(rounds.slice(0, 8)).toEqual([0, 0, 50, 150, 350, 750, 1550, 2550].filter((t) => t <= 2001));
    });
  });

  it('resumes with a fresh round after a lost connection', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const watches = [cold<ResponseFrame>('--#', undefined, new ConnectionLostError('lost')), cold<ResponseFrame>('-')];
      const gets = [cold('-(a|)', values), cold('-(b|)', values)];
      const ch = fakeChannel(ts, script(watches, gets));
      drive(ch, hot('--r---c', { r: 'reconnecting' as const, c: 'connected' as const }), hot('------x'));
      const flo = new FloClient(ch);
      expectObservable(flo.kv.watch('k').pipe(map(text)), '^---------!').toBe('-a-----b', { a: 'v1', b: 'v2' });
    });
  });

  it('sends nothing before subscribe', () => {
    const ts = newScheduler();
    ts.run(() => {
      const ch = fakeChannel(ts, () => {
        throw new Error('unexpected');
      });
      new FloClient(ch).kv.watch('k');
      expect(ch.sent).toEqual([]);
    });
  });
});
