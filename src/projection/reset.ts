/**
 * Reset detection for `project()`: does the stream still hold the records a projection was folded
 * from? Universal: no `node:` import.
 */
import { distinctUntilChanged, filter, map, type OperatorFunction } from 'rxjs';
import type { StreamId } from '../protocol/options.js';

/**
 * Why a projection threw its state away and rebuilt it:
 * - `'missing'`: the stream is gone or empty (deleted, or a server that came back without it);
 * - `'shorter'`: its last record is before the last one the projection applied (the stream was
 *   replaced by a shorter one, e.g. a server restored from an older copy);
 * - `'trimmed'`: its first record is after the last one applied, so records the projection never
 *   saw may be gone (trimmed by retention while it was away, or the stream was deleted and written
 *   again: a server that came back empty and took new appends looks like this too).
 */
export type ProjectionResetReason = 'missing' | 'shorter' | 'trimmed';

/**
 * The typed notice a projection carries (in `ProjectionState.reset`) after it found that its stream
 * no longer holds what it had folded, and started again from the stream as it is now.
 */
export interface ProjectionReset {
  readonly reason: ProjectionResetReason;
  /** The last id the old state had applied. */
  readonly previousLastId: StreamId;
  /** How many records the old state had applied (snapshot included). */
  readonly previousApplied: number;
  /** The stream as the check found it: first and last ids (`null` when missing or empty) and record count. */
  readonly stream: { readonly firstId: StreamId | null; readonly lastId: StreamId | null; readonly count: number };
  /** 1 for the first reset of this projection run, 2 for the next, ... */
  readonly nth: number;
}

/** What the check reads: the fields of `StreamInfo` it relies on (`null`: the server said not found). */
export interface StreamExtent {
  readonly firstId: StreamId;
  readonly lastId: StreamId;
  readonly count: bigint;
}

/**
 * Each new reset of a projection, once: `board$.pipe(projectionResets())` emits a `ProjectionReset`
 * when one appears in the values (`reset` stays on every later value; this picks out the changes).
 *
 * @example
 * project(flo, 'board', { reducer, initial }).pipe(projectionResets()).subscribe((r) => toast(`board rebuilt: ${r.reason}`));
 */
export function projectionResets(): OperatorFunction<{ readonly reset: ProjectionReset | null }, ProjectionReset> {
  return (source) =>
    source.pipe(
      map((p) => p.reset),
      distinctUntilChanged(),
      filter((r): r is ProjectionReset => r !== null),
    );
}
