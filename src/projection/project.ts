/**
 * `project()`: a live read model folded from a stream. It replays the stream (from the start, or
 * from a snapshot kept in KV), then tails it, applying each record once with a reducer, and shares
 * the result between all its subscribers. Universal: no `node:` import.
 *
 * This file holds the API (types, argument checks, the sharing); the fold itself is in
 * `project-run.ts`, loaded at the first subscription together with the stream calls it reads
 * through, so an app that never projects does not load it at start.
 */
import { ReplaySubject, share, type Observable, type SchedulerLike } from 'rxjs';
import { onDemand } from '../client/on-demand.js';
import { requireName } from '../client/core/require-name.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import type { StreamId } from '../protocol/options.js';
import { parseStreamId } from '../protocol/stream-common.js';
import type { ProjectionReset } from './reset.js';
import type { ProjectionClient, ProjectionRecord, ReplayFrom } from './types.js';

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

export { SNAPSHOT_FORMAT } from './snapshot-format.js';

/** What `project()` worked out from its options, for the run (`project-run.ts`). */
export interface ProjectionPlan {
  readonly everyN: number;
  readonly baseDelay: number;
  /**
   * Reads a snapshot's last id. Handed over rather than imported by the run: `flo-rx` re-exports
   * it, and a bundler puts what the lazy chunk imports from such a file into the start-up chunk of
   * every app, projecting or not (docs/benchmarks.md, bundle round 6).
   */
  readonly parseStreamId: (text: string) => StreamId;
}

const loadRun = /* @__PURE__ */ onDemand(() => import('../client/on-demand-modules.js'));

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
 *
 * The first subscription in an app loads the fold's code, with the stream calls it reads through
 * (one lazy chunk); values start once it has arrived. Argument errors are thrown by `project()` itself.
 */
export function project<S, R extends ProjectionRecord = ProjectionRecord>(
  flo: ProjectionClient<R>,
  stream: string,
  options: ProjectOptions<S, R>,
): Observable<ProjectionState<S>> {
  requireName('project: stream', stream);
  if (typeof options?.reducer !== 'function') throw new InvalidArgumentError('project: a reducer is required');
  const snapshot = options.snapshot;
  const everyN = snapshot?.everyN ?? 100;
  if (snapshot) {
    if (!flo.kv) throw new InvalidArgumentError('project: snapshots need a client with kv');
    requireName('project: snapshot.key', snapshot.key);
    if (!Number.isInteger(everyN) || everyN < 1) throw new InvalidArgumentError(`project: snapshot.everyN must be a positive integer, got ${everyN}`);
  }
  const baseDelay = options.retryDelayMs ?? 250;
  if (!(Number.isFinite(baseDelay) && baseDelay >= 0)) throw new InvalidArgumentError(`project: retryDelayMs must be >= 0, got ${baseDelay}`);

  const plan: ProjectionPlan = { everyN, baseDelay, parseStreamId };
  // The fold loads with the stream calls (one lazy chunk) at the first subscription; unsubscribing
  // while it loads starts nothing.
  const run = loadRun((m) => m.projectionRun(flo, stream, options, plan));
  return run.pipe(share({ connector: () => new ReplaySubject(1), resetOnError: true, resetOnComplete: true, resetOnRefCountZero: true }));
}
