/**
 * `connectionStatus()`: the client's connection state as a UI shows it, with the last error seen.
 * Universal: no `node:` import.
 */
import { asyncScheduler, map, merge, Observable, scan, type SchedulerLike } from 'rxjs';
import type { ConnectionState } from '../connection/types.js';

/** The connection as a UI shows it: the state, a label, and the last error. */
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

type Input = { readonly kind: 'state'; readonly state: ConnectionState } | { readonly kind: 'error'; readonly error: unknown };

/**
 * Emits a `ConnectionStatus` for each state of `flo.state$` (which replays the current one, so the
 * first value comes at once) and for each error of `options.errors`. Cold: each subscriber gets its
 * own count of reconnects from the moment it subscribed.
 */
export function connectionStatus(
  flo: { readonly state$: Observable<ConnectionState> },
  options: ConnectionStatusOptions = {},
): Observable<ConnectionStatus> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const inputs: Observable<Input> = merge(
    flo.state$.pipe(map((state): Input => ({ kind: 'state', state }))),
    ...(options.errors ? [options.errors.pipe(map((error): Input => ({ kind: 'error', error })))] : []),
  );
  const start: ConnectionStatus | undefined = undefined;
  return inputs.pipe(
    scan<Input, ConnectionStatus | undefined>((prev, input) => {
      if (input.kind === 'error') {
        const base = prev ?? initialStatus(scheduler.now());
        return { ...base, lastError: errorText(input.error) };
      }
      const state = input.state;
      const was = prev?.state;
      if (prev && was === state) return prev;
      let lastError = prev?.lastError ?? null;
      if (state === 'reconnecting' && was === 'connected') lastError = 'connection lost';
      if (state === 'closed' && was !== undefined && was !== 'closed') lastError = lastError ?? 'connection closed';
      const reconnects = (prev?.reconnects ?? 0) + (state === 'connected' && was === 'reconnecting' ? 1 : 0);
      return { state, label: connectionLabel(state), online: state === 'connected', lastError, reconnects, since: scheduler.now() };
    }, start),
    map((s) => s!),
  );
}

function initialStatus(now: number): ConnectionStatus {
  return { state: 'idle', label: connectionLabel('idle'), online: false, lastError: null, reconnects: 0, since: now };
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : String(error);
}
