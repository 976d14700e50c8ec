/**
 * The code of `flo.kv.watch` (its rounds of a watch and a get, resumed after a reconnect by
 * `poll`). `KvApi.watch` in `kv.ts` keeps the docs and checks the arguments at subscription, then
 * loads this module (with the rarer KV calls, `kv-rare-calls.ts`): an app that only gets and puts
 * never downloads it, nor the read loops of `core/poll.ts`.
 */
import { Observable, Subscription, defer, timer } from 'rxjs';
import { decodeKvGetReply, encodeKvGet } from '../protocol/kv.js';
import { ClientOp as Op } from '../protocol/client-opcodes.js';
import type { ClientCore } from './core/context.js';
import { poll } from './core/poll.js';
import { keyText } from './kv-args.js';
import { kvEntry } from './kv-entry.js';
import type { KvCallOptions, KvEntry, KvKey } from './kv-types.js';

/** `kv.watch` (see `KvApi.watch`): `k` is the key's bytes, `pollMs` and `opts` already checked. */
export function watch(core: ClientCore, key: KvKey, k: Uint8Array, pollMs: number, opts: KvCallOptions): Observable<KvEntry | null> {
  return defer(() => {
    /** Version last emitted; undefined when nothing or `null` was last emitted. */
    let last: bigint | undefined;
    let idleRounds = 0;

    const get$ = () =>
      core.call(core.spec(Op.KvGet, encodeKvGet({ key: k }), opts), decodeKvGetReply, { notFound: 'null' });
    // A watch is a get with WaitMS (`encodeKvWatch`'s request), and its reply a get reply. The get
    // codecs here: the watch's alone would sit in every app's start-up code (protocol/kv.ts).
    const watch$ = (waitMs: number) =>
      core.call(core.spec(Op.KvGet, encodeKvGet({ key: k, waitMs }), { ...opts, blockMs: waitMs }), decodeKvGetReply, {
        notFound: 'null',
      });

    /** What to emit for a reply (if anything); a watch's NOT_FOUND (timeout or delete) says nothing. */
    const step = (from: 'get' | 'watch', r: { version: bigint; value: Uint8Array } | null): Array<KvEntry | null> => {
      if (r === null) {
        if (from === 'get' && last !== undefined) {
          last = undefined;
          return [null];
        }
        return [];
      }
      if (last !== undefined && r.version <= last) return [];
      last = r.version;
      return [kvEntry(keyText(key), r.value, r.version, core.codec)];
    };

    // One round: the watch is sent first, then the get; the get's answer is handled before the
    // watch's, so a stale get can never follow a newer watch answer.
    const round = (waitMs: number) =>
      new Observable<KvEntry | null>((subscriber) => {
        let emitted = false;
        let watchAnswer: { version: bigint; value: Uint8Array } | null | undefined;
        let getDone = false;
        let watchDone = false;
        const emit = (items: Array<KvEntry | null>) => {
          for (const item of items) {
            emitted = true;
            subscriber.next(item);
          }
        };
        const finish = () => {
          if (!getDone || !watchDone) return;
          if (watchAnswer !== undefined) emit(step('watch', watchAnswer));
          idleRounds = emitted || watchAnswer ? 0 : idleRounds + 1;
          subscriber.complete();
        };
        const delay = idleRounds >= 2 ? Math.min(50 * 2 ** (idleRounds - 2), 1000) : 0;
        const sub = new Subscription();
        const send = () => {
          sub.add(
            watch$(waitMs).subscribe({
              next: (r) => (watchAnswer = r),
              error: (e: unknown) => subscriber.error(e),
              complete: () => {
                watchDone = true;
                finish();
              },
            }),
          );
          sub.add(
            get$().subscribe({
              next: (r) => emit(step('get', r)),
              error: (e: unknown) => subscriber.error(e),
              complete: () => {
                getDone = true;
                finish();
              },
            }),
          );
        };
        if (delay > 0) sub.add(timer(delay).subscribe(send));
        else send();
        return sub;
      });

    return poll(core.channel, round, { blockMs: pollMs });
  });
}
