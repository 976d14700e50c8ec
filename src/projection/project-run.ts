/**
 * The fold of `project()` (`project.ts`): its replay, tail, snapshots, retries and resets. Loaded
 * on demand at the first subscription to a projection, with the stream calls it reads through
 * (`on-demand-modules.ts`): an app that never projects never loads it. Universal: no `node:` import.
 */
import {
  catchError,
  concat,
  defer,
  EMPTY,
  filter,
  ignoreElements,
  mergeMap,
  NEVER,
  Observable,
  of,
  retry,
  Subscription,
  switchMap,
  take,
  tap,
  throwError,
  timer,
} from 'rxjs';
import { ConnectionLostError, InvalidArgumentError, isNotFound, isRetryable } from '../protocol/errors.js';
import type { StreamId } from '../protocol/options.js';
import { compareStreamIds, formatStreamId } from '../protocol/stream-common.js';
import type { ProjectionPlan, ProjectionSnapshotOptions, ProjectionState, ProjectionStatus, ProjectOptions } from './project.js';
import type { ProjectionReset, ProjectionResetReason, StreamExtent } from './reset.js';
import { resetReason } from './reset-reason.js';
import { SNAPSHOT_FORMAT } from './snapshot-format.js';
import type { ProjectionClient, ProjectionKvApi, ProjectionRecord, ReplayFrom } from './types.js';

interface StoredSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly stream: string;
  readonly lastId: string;
  readonly applied: number;
  readonly state: unknown;
}

const MAX_RETRY_DELAY_MS = 5000;
const decoder = new TextDecoder();

/** One run of the projection of `stream` (`project()` checked the arguments and shares the run). */
export function projectionRun<S, R extends ProjectionRecord>(
  flo: ProjectionClient<R>,
  stream: string,
  options: ProjectOptions<S, R>,
  { everyN, baseDelay, parseStreamId }: ProjectionPlan,
): Observable<ProjectionState<S>> {
  const snapshot = options.snapshot;
  const ns = options.namespace !== undefined ? { namespace: options.namespace } : {};
  const snapshotNs = snapshot?.namespace !== undefined ? { namespace: snapshot.namespace } : ns;
  return new Observable<ProjectionState<S>>((subscriber) => {
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
      : NEVER; // no state$ (a client without one): nothing to watch, and the catch-up must still run

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
