/**
 * The structural view of a client that the projection helpers need. A `FloClient` satisfies it;
 * so does a small fake in tests. Universal: no `node:` import.
 */
import type { Observable } from 'rxjs';
import type { ConnectionState } from '../connection/types.js';
import type { StreamId } from '../protocol/options.js';

/** What a projection folds: the fields of `StreamRecord` it relies on. */
export interface ProjectionRecord {
  readonly stream: string;
  readonly id: StreamId;
  readonly payload: Uint8Array;
  readonly headers: Record<string, string>;
  /** The payload decoded with the client's codec. */
  data<T = unknown>(): T;
}

/** The start of a replay: a stream id, or the very start. */
export type ReplayFrom = StreamId | 'start';

/** The part of `flo.stream` a projection uses. */
export interface ProjectionStreamApi<R extends ProjectionRecord> {
  /** A finite read of `stream` from `from` (a replay). */
  read(stream: string, options?: { from?: StreamId | 'start'; to?: StreamId; pageSize?: number; namespace?: string }): Observable<R>;
  /** An infinite read of `stream` after `from` (live records). */
  tail(stream: string, options?: { from?: 'start' | 'end' | StreamId; namespace?: string }): Observable<R>;
  /** First and last ids and record count: how a projection checks that its stream still holds what it folded. */
  info(stream: string, options?: { namespace?: string }): Observable<{ readonly firstId: StreamId; readonly lastId: StreamId; readonly count: bigint }>;
}

/** The part of `flo.kv` a projection snapshot uses. */
export interface ProjectionKvApi {
  /** The snapshot entry, or null. */
  get(key: string, options?: { namespace?: string }): Observable<{ readonly value: Uint8Array } | null>;
  /** Writes the snapshot. */
  put(key: string, value: string, options?: { namespace?: string }): Observable<unknown>;
}

/** A client as `project()` needs it (a `FloClient` is one). */
export interface ProjectionClient<R extends ProjectionRecord = ProjectionRecord> {
  readonly stream: ProjectionStreamApi<R>;
  /** Needed only for snapshots. */
  readonly kv?: ProjectionKvApi;
  /** Used to wait for the connection before retrying after a lost connection. */
  readonly state$?: Observable<ConnectionState>;
}
