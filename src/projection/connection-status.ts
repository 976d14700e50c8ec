/**
 * `connectionStatus()`: the client's connection state as a UI shows it, with the last error seen.
 * Universal: no `node:` import.
 */
import { asyncScheduler, map, merge, Observable, scan, type SchedulerLike } from 'rxjs';
import type { ConnectionInfo, ConnectionState } from '../connection/types.js';

/** The connection as a UI shows it: what `connectionStatus()` emits. */
export interface ConnectionStatus {
  /** The connection's own state. */
  readonly state: ConnectionState;
  /** Words for a badge: 'Not connected', 'Connecting…', 'Connected', 'Reconnecting…', 'Closed'. */
  readonly label: string;
  /** True only while `connected`. */
  readonly online: boolean;
  /**
   * The last error seen, as text: `'connection lost'` when a live connection dropped, `'connection
   * closed'` when it ended, or the message of an error from `options.errors`. Kept after recovery
   * (it is the last error, not a current one); `null` until the first.
   */
  readonly lastError: string | null;
  /**
   * The endpoint connected to or being tried, when the client reports it (`flo.connection$`);
   * `null` otherwise. While not connected, `lastError` then carries the last attempt's error
   * (e.g. `connect ECONNREFUSED 127.0.0.1:9`).
   */
  readonly endpoint?: string | null;
  /** How many times the connection came back after being lost. */
  readonly reconnects: number;
  /** When `state` last changed (the scheduler's clock, ms since the epoch by default). */
  readonly since: number;
}

/** Options of `connectionStatus()`. */
export interface ConnectionStatusOptions {
  /** Errors to report as `lastError` too (a projection's, failed writes'...). */
  readonly errors?: Observable<unknown>;
  /** Clock of `since`. Default `asyncScheduler` (wall clock). */
  readonly scheduler?: SchedulerLike;
}

const LABELS: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Closed',
};

/** The badge text of a connection state. */
export const connectionLabel = (state: ConnectionState): string => LABELS[state] ?? String(state);

/** What one input (a state, a connection info, an error) does to the status; undefined: nothing seen yet. */
type Step = (prev: ConnectionStatus | undefined) => ConnectionStatus;

/**
 * Emits a `ConnectionStatus` for each state of `flo.state$` (which replays the current one, so the
 * first value comes at once) and for each error of `options.errors`. Cold: each subscriber gets its
 * own count of reconnects from the moment it subscribed.
 */
export function connectionStatus(
  flo: { readonly state$: Observable<ConnectionState>; readonly connection$?: Observable<ConnectionInfo> },
  options: ConnectionStatusOptions = {},
): Observable<ConnectionStatus> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const orInitial = (prev: ConnectionStatus | undefined): ConnectionStatus => prev ?? initialStatus(scheduler.now());
  const steps: Observable<Step> = merge(
    flo.state$.pipe(
      map((state): Step => (prev) => {
        const was = prev?.state;
        if (prev && was === state) return prev;
        let lastError = prev?.lastError ?? null;
        if (state === 'reconnecting' && was === 'connected') lastError = 'connection lost';
        if (state === 'closed' && was !== undefined && was !== 'closed') lastError = lastError ?? 'connection closed';
        const reconnects = (prev?.reconnects ?? 0) + (state === 'connected' && was === 'reconnecting' ? 1 : 0);
        const endpoint = prev?.endpoint ?? null;
        return { state, label: connectionLabel(state), online: state === 'connected', lastError, endpoint, reconnects, since: scheduler.now() };
      }),
    ),
    ...(flo.connection$
      ? [
          flo.connection$.pipe(
            map((info): Step => (prev) => {
              const base = orInitial(prev);
              const { endpoint, lastError } = info;
              const next = { ...base, endpoint: endpoint ?? null, lastError: lastError ? errorText(lastError) : base.lastError };
              return next.endpoint === base.endpoint && next.lastError === base.lastError ? base : next;
            }),
          ),
        ]
      : []),
    ...(options.errors ? [options.errors.pipe(map((error): Step => (prev) => ({ ...orInitial(prev), lastError: errorText(error) })))] : []),
  );
  // Every step returns a status: after the first value, none is undefined.
  return steps.pipe(scan<Step, ConnectionStatus | undefined>((prev, step) => step(prev), undefined)) as Observable<ConnectionStatus>;
}

function initialStatus(now: number): ConnectionStatus {
  return { state: 'idle', label: connectionLabel('idle'), online: false, lastError: null, endpoint: null, reconnects: 0, since: now };
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : String(error);
}
