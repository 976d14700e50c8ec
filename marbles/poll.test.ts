import { describe, expect, it } from 'vitest';
import { Observable } from 'rxjs';
import { poll } from '../src/client/core/poll.js';
import {
  BadRequestError,
  ConnectionLostError,
  InvalidArgumentError,
  TimeoutError,
} from '../src/protocol/errors.js';
import { fakeChannel, newScheduler } from './helpers.js';

describe('poll', () => {
  it('repeats a finite request while subscribed and stops on unsubscribe', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const r = [cold('--a|'), cold('--b|'), cold('-----c|')];
      const ch = fakeChannel(ts, () => ({}) as never);
      const blocks: number[] = [];
      let i = 0;
      const p$ = poll(ch, (blockMs) => {
        blocks.push(blockMs);
        return r[i++] as Observable<string>;
      });
      expectObservable(p$, '^------!').toBe('--a--b--');
      expectSubscriptions(r[0]!.subscriptions).toBe('^--!');
      expectSubscriptions(r[1]!.subscriptions).toBe('---^--!');
      expectSubscriptions(r[2]!.subscriptions).toBe('------^!'); // cancelled by the unsubscribe
      ts.flush();
      expect(blocks).toEqual([30_000, 30_000, 30_000]);
      expect(i).toBe(3); // nothing sent after the unsubscribe
    });
  });

  it('passes the validated blockMs and refuses 0 and more than 300 000 ms', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const ch = fakeChannel(ts, () => ({}) as never);
      const seen: number[] = [];
      const once = (b: number) => {
        seen.push(b);
        return cold('-x|');
      };
      expectObservable(poll(ch, once, { blockMs: 0 })).toBe(
        '#',
        undefined,
        new InvalidArgumentError(
          'blockMs must be an integer from 1 to 300000 ms, got 0 (0 is never sent to mean "wait forever": infinite reads loop over finite long-polls)',
        ),
      );
      expectObservable(poll(ch, once, { blockMs: 300_001 })).toBe(
        '#',
        undefined,
        new InvalidArgumentError('blockMs must be an integer from 1 to 300000 ms, got 300001'),
      );
      expectObservable(poll(ch, once, { blockMs: 300_000 }), '^-!').toBe('-x');
      ts.flush();
      expect(seen).toEqual([300_000]);
    });
  });

  it('on ConnectionLostError waits for reconnected$, runs onReconnect, then resumes', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const lost = new ConnectionLostError('socket closed');
      const r1 = cold('--#', undefined, lost);
      const r2 = cold('--a|');
      const r3 = cold('--------');
      const rejoin = cold('-|');
      const ch = fakeChannel(ts, () => ({}) as never);
      //                            0123456789
      const states = hot(/*     */ '-r-----c', { r: 'reconnecting', c: 'connected' } as const);
      const reconnections = hot('-------x');
      states.subscribe((s) => ch.stateSubject.next(s));
      reconnections.subscribe(() => ch.reconnectedSubject.next());
      const rejoins: number[] = [];
      const reqs = [r1, r2, r3];
      let i = 0;
      const p$ = poll(ch, () => reqs[i++]!, {
        onReconnect: () => {
          rejoins.push(ts.now());
          return rejoin;
        },
      });
      expectObservable(p$, '^-----------!').toBe('----------a-');
      expectSubscriptions(r1.subscriptions).toBe('^-!');
      expectSubscriptions(rejoin.subscriptions).toBe('-------^!');
      expectSubscriptions(r2.subscriptions).toBe('--------^--!');
      expectSubscriptions(r3.subscriptions).toBe('-----------^!');
      ts.flush();
      expect(rejoins).toEqual([7]);
    });
  });

  it('resumes when the state becomes connected even without reconnected$', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const lost = new ConnectionLostError('socket closed');
      const r1 = cold('--#', undefined, lost);
      const r2 = cold('-a|');
      const ch = fakeChannel(ts, () => ({}) as never);
      hot('-r---c', { r: 'reconnecting', c: 'connected' } as const).subscribe((s) => ch.stateSubject.next(s));
      const reqs = [r1, r2, cold('----')];
      let i = 0;
      expectObservable(poll(ch, () => reqs[i++]!), '^-------!').toBe('------a-');
      expectSubscriptions(r2.subscriptions).toBe('-----^-!');
    });
  });

  it('with a stale "connected" state, resumes one tick later', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const r1 = cold('--#', undefined, new ConnectionLostError('x'));
      const r2 = cold('-a|');
      const ch = fakeChannel(ts, () => ({}) as never);
      const reqs = [r1, r2, cold('----')];
      let i = 0;
      expectObservable(poll(ch, () => reqs[i++]!), '^-----!').toBe('---a--');
      expectSubscriptions(r2.subscriptions).toBe('--^-!');
    });
  });

  it('a connection that fails the request before publishing "reconnecting" (same callback) is waited for', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ch = fakeChannel(ts, () => ({}) as never);
      const lost = new ConnectionLostError('socket closed');
      // errors at frame 2, then (same callback) the state goes down; it comes back at frame 6
      const r1 = new Observable<string>((sub) =>
        ts.schedule(() => {
          sub.error(lost);
          ch.stateSubject.next('reconnecting');
        }, 2),
      );
      hot('------c', { c: 'connected' } as const).subscribe((s) => ch.stateSubject.next(s));
      const r2 = cold('-a|');
      const reqs = [r1, r2, cold('----')];
      let i = 0;
      expectObservable(poll(ch, () => reqs[i++]!), '^--------!').toBe('-------a-');
      expectSubscriptions(r2.subscriptions).toBe('------^-!');
    });
  });

  it('errors with the ConnectionLostError when the connection closes instead of coming back', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const lost = new ConnectionLostError('socket closed');
      const ch = fakeChannel(ts, () => ({}) as never);
      hot('-r--z', { r: 'reconnecting', z: 'closed' } as const).subscribe((s) => ch.stateSubject.next(s));
      const reqs = [cold('--#', undefined, lost), cold('-a|')];
      let i = 0;
      expectObservable(poll(ch, () => reqs[i++]!)).toBe('----#', undefined, lost);
      ts.flush();
      expect(i).toBe(1);
    });
  });

  it('runs onReconnect before the next request after a reconnection between requests', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ch = fakeChannel(ts, () => ({}) as never);
      hot('-x').subscribe(() => ch.reconnectedSubject.next()); // during r1, which still succeeds
      const r1 = cold('---a|');
      const r2 = cold('-b|');
      const rejoin = cold('--|');
      const reqs = [r1, r2, cold('-----')];
      let i = 0;
      const p$ = poll(ch, () => reqs[i++]!, { onReconnect: () => rejoin });
      expectObservable(p$, '^--------!').toBe('---a---b-');
      expectSubscriptions(rejoin.subscriptions).toBe('----^-!');
      expectSubscriptions(r2.subscriptions).toBe('------^-!');
    });
  });

  it('retries at once after a TimeoutError', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const ch = fakeChannel(ts, () => ({}) as never);
      const r1 = cold('---#', undefined, new TimeoutError('deadline'));
      const r2 = cold('-a|');
      const reqs = [r1, r2, cold('----')];
      let i = 0;
      expectObservable(poll(ch, () => reqs[i++]!), '^-----!').toBe('----a-');
      expectSubscriptions(r2.subscriptions).toBe('---^-!');
    });
  });

  it('ends on any other error and sends nothing more', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const ch = fakeChannel(ts, () => ({}) as never);
      const bad = new BadRequestError(3, 'no such group');
      const reqs = [cold('-a|'), cold('--#', undefined, bad), cold('-c|')];
      let i = 0;
      expectObservable(poll(ch, () => reqs[i++]!)).toBe('-a--#', undefined, bad);
      ts.flush();
      expect(i).toBe(2);
    });
  });
});
