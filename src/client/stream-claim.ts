/**
 * A group consumer claiming its own pending records (Redis's `XAUTOCLAIM` for one's own entries):
 * after a reconnect `stream.group` asks for the consumer's pending list and claims, one by one, the
 * entries it never emitted, so records whose group-read reply was lost with the connection come
 * back at once instead of after the ack timeout.
 *
 * Records this subscription has emitted are never claimed (the most recent `SEEN_KEPT` ids are
 * remembered): an unsettled one's handler is still at work, and a settled one's ack or nack may
 * still be on its way (settles lost with the connection are sent again after the reconnect). Each claim starts at the entry's id with count 1, so it takes
 * exactly that entry; if the entry was settled in between, the server takes the next idle one,
 * which may be another consumer's: that one is handed back at once (a nack without delay).
 *
 * Reads the group through two calls given by the stream API (`pending`, `claimAt`); never touches
 * the connection itself.
 */
import { concatMap, defer, from, map, mergeMap, of, toArray, type Observable } from 'rxjs';
import { formatStreamId } from '../protocol/stream.js';
import type { StreamId } from '../protocol/options.js';
import { handBack } from './core/lease.js';
import { SeenIds } from './stream-seen-ids.js';
import type { GroupRecord } from './stream.js';

/** What the claimer needs from the stream API. */
export interface ClaimChannel {
  /** This consumer's pending entries, in id order (the server returns at most `PENDING_PAGE`). */
  pending(): Observable<readonly StreamId[]>;
  /** Claims the first idle entry at or after `id` (count 1, min idle 0) for this consumer. */
  claimAt(id: StreamId): Observable<readonly GroupRecord[]>;
}

/** The most entries one pending reply carries (the server's cap). */
export const PENDING_PAGE = 1000;
/** Emitted records whose ids are remembered so they are never claimed back (bounded memory). */
export const SEEN_KEPT = 10_000;
/** Claims in flight at once. */
const CLAIM_CONCURRENCY = 8;

export interface OwnPendingClaimer {
  /** True while claiming is due (set by `start`, cleared once nothing is left to claim). */
  readonly active: boolean;
  /** Claiming is due: the next `fetch` lists the pending entries again. */
  start(): void;
  /** Remembers the ids of records the group emits (never claimed back). */
  hold(records: readonly GroupRecord[]): readonly GroupRecord[];
  /** Up to `n` claimed records; empty once nothing is left (and `active` turns false). */
  fetch(n: number): Observable<readonly GroupRecord[]>;
}

export function ownPendingClaimer(channel: ClaimChannel): OwnPendingClaimer {
  // The ids of the last SEEN_KEPT records emitted (`hold` runs for every record: it copies the
  // id's two numbers into a ring); formatted into a set only when a pending list is read.
  const seen = new SeenIds(SEEN_KEPT);
  let active = false;
  let queue: StreamId[] | undefined;
  let lastPageFull = false;

  const hold = (records: readonly GroupRecord[]): readonly GroupRecord[] => {
    for (let i = 0; i < records.length; i++) seen.add(records[i]!.id);
    return records;
  };

  const seenSet = (): Set<string> => seen.formatted();

  const list = (): Observable<StreamId[]> =>
    channel.pending().pipe(
      map((ids) => {
        lastPageFull = ids.length >= PENDING_PAGE;
        const emitted = seenSet();
        queue = ids.filter((id) => !emitted.has(formatStreamId(id)));
        return queue;
      }),
    );

  const claimSome = (ids: readonly StreamId[]): Observable<readonly GroupRecord[]> =>
    from(ids).pipe(
      mergeMap(
        (id) =>
          channel.claimAt(id).pipe(
            map((recs) => {
              const wanted = formatStreamId(id);
              const mine = recs.filter((r) => formatStreamId(r.id) === wanted);
              const foreign = recs.filter((r) => formatStreamId(r.id) !== wanted);
              if (foreign.length) handBack(foreign);
              return mine;
            }),
          ),
        CLAIM_CONCURRENCY,
      ),
      toArray(),
      map((parts) => hold(parts.flat())),
    );

  const finish = (): Observable<readonly GroupRecord[]> => {
    active = false;
    queue = undefined;
    return of([]);
  };

  const take = (q: StreamId[], n: number): Observable<readonly GroupRecord[]> =>
    claimSome(q.splice(0, n)).pipe(concatMap((got) => (got.length > 0 ? of(got) : fetch(n))));

  const fetch = (n: number): Observable<readonly GroupRecord[]> =>
    defer(() => {
      if (!active) return of([]);
      if (queue === undefined) return list().pipe(concatMap((q) => (q.length > 0 ? take(q, n) : finish())));
      if (queue.length > 0) return take(queue, n);
      // Drained: list once more only when the last page may have hidden entries behind it.
      if (!lastPageFull) return finish();
      queue = undefined;
      lastPageFull = false;
      return fetch(n);
    });

  return {
    get active() {
      return active;
    },
    start() {
      active = true;
      queue = undefined;
    },
    hold,
    fetch,
  };
}
