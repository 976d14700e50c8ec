/**
 * `project()`: a live read model folded from a stream. It replays the stream (from the start, or
 * from a snapshot kept in KV), then tails it, applying each record once with a reducer, and shares
 * the result between all its subscribers. Universal: no `node:` import.
 */
import {
  catchError,
  concat,
  defer,
  EMPTY,
  filter,
  ignoreElements,
  mergeMap,
  Observable,
  of,
  ReplaySubject,
  retry,
  share,
  Subscription,
  switchMap,
  take,
  tap,
  throwError,
  timer,
  type SchedulerLike,
} from 'rxjs';
import { ConnectionLostError, InvalidArgumentError, isNotFound, isRetryable } from '../protocol/errors.js';
import type { StreamId } from '../protocol/options.js';
import { compareStreamIds, formatStreamId, parseStreamId } from '../protocol/stream-common.js';
import { resetReason, type ProjectionReset, type ProjectionResetReason, type StreamExtent } from './reset.js';
import type { ProjectionClient, ProjectionKvApi, ProjectionRecord, ReplayFrom } from './types.js';

/**
 * `'replaying'` while catching up with a finite read (at the start, after a lost connection, after
 * a reset); `'live'` while tailing; `'stale'` while it waits to catch up again after a lost
 * connection or another retryable error (the state is the last one folded, and may be behind).
 */
export type ProjectionStatus = 'replaying' | 'live' | 'stale';

/** What a projection emits: the state, the last record applied, how many were applied, and whether it is still replaying. */
export interface ProjectionState<S> {
  /** The folded state. */
  readonly state: S;
  /** Id of the last record applied (or the snapshot's), `null` before any. */
  readonly lastId: StreamId | null;
  /** Records applied so far, counting those folded into the snapshot it started from. */
  readonly applied: number;
  readonly status: ProjectionStatus;
  /**
   * The latest reset of this run (the stream no longer held what had been folded, so the state was
   * rebuilt from the stream as it is now), or `null` if there was none. It stays on every later
   * value; compare `reset.nth` to tell a new one.
   */
  readonly reset: ProjectionReset | null;
}

/** Where and how often a projection keeps a snapshot of its state in KV. */
export interface ProjectionSnapshotOptions<S> {
  /** KV key of the snapshot: JSON `{ format, stream, lastId, applied, state }`. */
  readonly key: string;
  /** Writes a snapshot after every `everyN` records applied. Default 100. */
  readonly everyN?: number;
  /** Namespace of the snapshot key. Default: the projection's `namespace` (else the client's). */
  readonly namespace?: string;
  /** State → JSON-serialisable value. Default: the state itself (it must then be JSON-serialisable). */
  readonly encode?: (state: S) => unknown;
  /** The parsed JSON value → state. Default: the value itself. */
  readonly decode?: (json: unknown) => S;
  /**
   * Told about a snapshot that could not be read or written (the projection goes on: an unreadable
   * snapshot means a replay from the start). Default: ignored.
   */
  readonly onError?: (error: unknown) => void;
}

/** Options of `project()`. */
export interface ProjectOptions<S, R extends ProjectionRecord = ProjectionRecord> {
  /** Folds one record into the state. Must not mutate `state` if subscribers keep old states. */
  readonly reducer: (state: S, event: R) => S;
  /** The state before the first record (and after a reset). */
  readonly initial: S;
  /** Where the replay starts when there is no snapshot (and after a reset). Default `'start'`. */
  readonly from?: ReplayFrom;
  /** Start from (and keep) a snapshot in KV instead of replaying everything. */
  readonly snapshot?: ProjectionSnapshotOptions<S>;
  /** Namespace of the stream. Default: the client's. */
  readonly namespace?: string;
  /** Page size of the replay reads. Default: `stream.read`'s. */
  readonly pageSize?: number;
  /**
   * First wait before catching up again after a retryable error (lost connection, timeout, overload);
   * doubles with each failure in a row, up to 5 s, then the projection also waits for the connection
   * to be `connected`. Default 250 ms.
   */
  readonly retryDelayMs?: number;
  /** Scheduler of the retry waits (tests). */
  readonly scheduler?: SchedulerLike;
}

/** The `format` field of the snapshots `project()` writes to KV. */
export const SNAPSHOT_FORMAT = 'flo-rx.projection/1';

interface StoredSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly stream: string;
  readonly lastId: string;
  readonly applied: number;
  readonly state: unknown;
}

const MAX_RETRY_DELAY_MS = 5000;
const decoder = new TextDecoder();

/**
 * A shared, live projection of `stream`: emits `{ state, lastId, applied, status, reset }` once when
 * it starts (the initial or snapshot state, `'replaying'`), after each record applied, and on each
 * change of status. Late subscribers get the latest value at once. The first subscriber starts it
 * (one replay, one tail, whatever the number of subscribers); the last one to leave stops it, and
 * the next subscriber starts over.
 *
 * Records are applied in id order and at most once: a record whose id is not after the last one
 * applied is skipped, so a tail that re-delivers records after a reconnect, or a replay resumed from
 * the last id, never applies a record twice. When the connection is lost (or on another retryable
 * error: timeout, overload) the projection stops tailing and goes `'stale'`; once the connection is
 * back it catches up with a read from its last id (`'replaying'`), then tails again. Any other error
 * (including one thrown by the reducer) ends it with that error.
 *
 * Each catch-up that follows applied records first checks that the stream still holds them
 * (`stream.info`: the stream exists, its last id is not before the last one applied and its first
 * id is not after it). If not (the stream was deleted, trimmed past the projection, or is shorter
 * than what was folded, as after a server that came back empty) the projection starts again from
 * `initial`, replays the stream as it is now, and every value from then on carries a
 * `ProjectionReset` in `reset`, so a UI can say so. The check runs at the start (when resuming from
 * a snapshot) and after every lost connection; a stream deleted and rewritten while the projection
 * stays connected and tailing is not noticed until the next catch-up.
 */
export function project<S, R extends ProjectionRecord = ProjectionRecord>(
  flo: ProjectionClient<R>,
  stream: string,
  options: ProjectOptions<S, R>,
): Observable<ProjectionState<S>> {
  if (typeof stream !== 'string' || stream.length === 0) throw new InvalidArgumentError('project: stream must be a non-empty string');
  if (typeof options?.reducer !== 'function') throw new InvalidArgumentError('project: a reducer is required');
  const snapshot = options.snapshot;
  const everyN = snapshot?.everyN ?? 100;
  if (snapshot) {
    if (!flo.kv) throw new InvalidArgumentError('project: snapshots need a client with kv');
    if (typeof snapshot.key !== 'string' || snapshot.key.length === 0) throw new InvalidArgumentError('project: snapshot.key must be a non-empty string');
    if (!Number.isInteger(everyN) || everyN < 1) throw new InvalidArgumentError(`project: snapshot.everyN must be a positive integer, got ${everyN}`);
  }
  const baseDelay = options.retryDelayMs ?? 250;
  if (!(Number.isFinite(baseDelay) && baseDelay >= 0)) throw new InvalidArgumentError(`project: retryDelayMs must be >= 0, got ${baseDelay}`);
  const ns = options.namespace !== undefined ? { namespace: options.namespace } : {};
  const snapshotNs =
    snapshot?.namespace !== undefined ? { namespace: snapshot.namespace } : options.namespace !== undefined ? { namespace: options.namespace } : {};

  const run = new Observable<ProjectionState<S>>((subscriber) => {
    // One run per share connection: the fold lives here, and dies with the last subscriber.
    let state = options.initial;
    let lastId: StreamId | null = null;
    let applied = 0;
    let status: ProjectionStatus = 'replaying';
    let reset: ProjectionReset | null = null;
    let loaded = snapshot === undefined;
    let failures = 0;
    let savedAt = 0;
    let emitted: ProjectionState<S> | undefined;
    const saves = new Subscription();
    const saver = snapshot ? snapshotSaver(flo.kv!, snapshot, snapshotNs, saves) : undefined;

    /** Emits the current value unless it is the one emitted last. */
    const emit = (): void => {
      const e = emitted;
      if (e && e.status === status && e.applied === applied && e.lastId === lastId && e.reset === reset && e.state === state) return;
      emitted = { state, lastId, applied, status, reset };
      subscriber.next(emitted);
    };

    /** Applies `r` unless it is not after the last id. */
    const apply = (r: R): void => {
      if (lastId !== null && compareStreamIds(r.id, lastId) <= 0) return;
      state = options.reducer(state, r);
      lastId = r.id;
      applied++;
      failures = 0;
      if (saver && applied - savedAt >= everyN) {
        savedAt = applied;
        saver({ format: SNAPSHOT_FORMAT, stream, lastId: formatStreamId(r.id), applied, state: (snapshot!.encode ?? identity)(state) });
      }
      emit();
    };

    /** Throws the folded state away: the stream no longer holds it. */
    const startOver = (reason: ProjectionResetReason, extent: StreamExtent | null, previousLastId: StreamId): void => {
      const empty = extent === null || extent.count === 0n;
      reset = {
        reason,
        previousLastId,
        previousApplied: applied,
        stream: { firstId: empty ? null : extent.firstId, lastId: empty ? null : extent.lastId, count: empty ? 0 : Number(extent.count) },
        nth: (reset?.nth ?? 0) + 1,
      };
      state = options.initial;
      lastId = null;
      applied = 0;
      savedAt = 0;
      emit();
    };

    const load$ = defer(() => {
      if (loaded) return EMPTY;
      return flo.kv!.get(snapshot!.key, snapshotNs).pipe(
        tap((entry) => {
          loaded = true;
          if (entry === null) return;
          try {
            const snap = parseSnapshot(entry.value, stream);
            state = (snapshot!.decode ?? (identity as (json: unknown) => S))(snap.state);
            lastId = parseStreamId(snap.lastId);
            applied = savedAt = snap.applied;
          } catch (err) {
            snapshot!.onError?.(err);
          }
        }),
        ignoreElements(),
        // A snapshot that cannot be read for good is not fatal: replay from the start instead.
        retryableOr(() => {
          loaded = true;
          return EMPTY;
        }, snapshot!.onError),
      );
    });

    /** Checks that the stream still holds the last record applied; starts over if not. */
    const verify$ = defer(() => {
      const at = lastId;
      if (at === null) return EMPTY;
      return flo.stream.info(stream, ns).pipe(
        catchError((err: unknown) => (isNotFound(err) ? of(null) : throwError(() => err))),
        tap((extent) => {
          const reason = resetReason(extent, at);
          if (reason) startOver(reason, extent, at);
        }),
        ignoreElements(),
      );
    });

    const catchUp$ = defer(() => {
      status = 'replaying';
      emit();
      const read$ = defer(() => {
        const from: ReplayFrom = lastId ?? options.from ?? 'start';
        return flo.stream.read(stream, { from, ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}), ...ns });
      });
      const live$ = defer(() => {
        status = 'live';
        failures = 0;
        emit();
        const tailFrom: 'start' | StreamId = lastId ?? (options.from === undefined || options.from === 'start' ? 'start' : options.from);
        return flo.stream.tail(stream, { from: tailFrom, ...ns });
      });
      return concat(verify$, read$, live$).pipe(tap(apply), ignoreElements());
    });

    // The client's own requests wait out a lost connection and resume, possibly on a server that
    // came back empty: stop at once instead, so that the catch-up after it checks the stream first.
    const lost$: Observable<never> = flo.state$
      ? flo.state$.pipe(
          filter((s) => s === 'reconnecting'),
          take(1),
          mergeMap(() => throwError(() => new ConnectionLostError('connection lost'))),
        )
      : EMPTY;

    const attempt$ = new Observable<never>((inner) => {
      const watch = lost$.subscribe(inner);
      if (inner.closed) return watch;
      watch.add(catchUp$.subscribe(inner));
      return watch;
    });

    const waitForRetry = (err: unknown): Observable<unknown> => {
      if (!isRetryable(err)) return throwError(() => err);
      failures++;
      status = 'stale';
      emit();
      const wait = Math.min(baseDelay * 2 ** (failures - 1), MAX_RETRY_DELAY_MS);
      const connected$ = flo.state$ ? flo.state$.pipe(filter((s) => s === 'connected' || s === 'closed'), take(1)) : of(undefined);
      return timer(wait, options.scheduler).pipe(switchMap(() => connected$));
    };

    const sub = concat(load$, attempt$)
      .pipe(retry({ delay: waitForRetry }))
      .subscribe({ error: (err: unknown) => subscriber.error(err), complete: () => subscriber.complete() });
    return () => {
      sub.unsubscribe();
      saves.unsubscribe();
    };
  });

  return run.pipe(share({ connector: () => new ReplaySubject(1), resetOnError: true, resetOnComplete: true, resetOnRefCountZero: true }));
}

const identity = <T>(x: T): T => x;

/** Passes retryable errors on (so the whole projection waits and retries), turns others into `fallback()`. */
function retryableOr<T>(fallback: () => Observable<T>, onError?: (err: unknown) => void) {
  return (source: Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) =>
      source.subscribe({
        next: (v) => subscriber.next(v),
        complete: () => subscriber.complete(),
        error: (err: unknown) => {
          if (isRetryable(err)) {
            subscriber.error(err);
            return;
          }
          onError?.(err);
          fallback().subscribe(subscriber);
        },
      }),
    );
}

function parseSnapshot(value: Uint8Array, stream: string): StoredSnapshot {
  const json = JSON.parse(decoder.decode(value)) as Partial<StoredSnapshot> | null;
  if (!json || typeof json !== 'object' || json.format !== SNAPSHOT_FORMAT) throw new InvalidArgumentError(`projection snapshot: not a ${SNAPSHOT_FORMAT} snapshot`);
  if (json.stream !== stream) throw new InvalidArgumentError(`projection snapshot: it is of stream ${JSON.stringify(json.stream)}, not ${JSON.stringify(stream)}`);
  if (typeof json.lastId !== 'string' || typeof json.applied !== 'number' || !Number.isInteger(json.applied) || json.applied < 0) {
    throw new InvalidArgumentError('projection snapshot: bad lastId or applied');
  }
  return json as StoredSnapshot;
}

/**
 * Writes snapshots one at a time: while one is being written, only the newest of those that come in
 * meanwhile is kept, and written next.
 */
function snapshotSaver(
  kv: ProjectionKvApi,
  options: Pick<ProjectionSnapshotOptions<unknown>, 'key' | 'onError'>,
  ns: { namespace?: string },
  subscriptions: Subscription,
): (snap: StoredSnapshot) => void {
  let writing = false;
  let next: StoredSnapshot | undefined;
  const write = (snap: StoredSnapshot): void => {
    if (writing) {
      next = snap;
      return;
    }
    let text: string;
    try {
      text = JSON.stringify(snap);
    } catch (err) {
      options.onError?.(err);
      return;
    }
    writing = true;
    const done = () => {
      writing = false;
      const pending = next;
      next = undefined;
      if (pending && !subscriptions.closed) write(pending);
    };
    subscriptions.add(
      kv.put(options.key, text, ns).subscribe({
        error: (err: unknown) => {
          options.onError?.(err);
          done();
        },
        complete: done,
      }),
    );
  };
  return write;
}
