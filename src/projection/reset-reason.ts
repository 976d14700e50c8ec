/**
 * The check behind a projection's resets (`ProjectionReset` in `reset.ts`): does the stream still
 * hold the records a projection was folded from? Used only by the fold (`project-run.ts`, loaded on
 * demand). Universal: no `node:` import.
 */
import type { StreamId } from '../protocol/options.js';
import { compareStreamIds } from '../protocol/stream-common.js';
import type { ProjectionResetReason, StreamExtent } from './reset.js';

const isZero = (id: StreamId): boolean => id.timestampMs === 0n && id.sequence === 0n;

/** Why the stream no longer holds a projection that applied up to `lastId`, or `null` when it does. */
export function resetReason(extent: StreamExtent | null, lastId: StreamId): ProjectionResetReason | null {
  if (extent === null || extent.count === 0n || isZero(extent.lastId)) return 'missing';
  if (compareStreamIds(extent.lastId, lastId) < 0) return 'shorter';
  if (compareStreamIds(extent.firstId, lastId) > 0) return 'trimmed';
  return null;
}

