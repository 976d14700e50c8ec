/**
 * Words for what the board shows: status, errors, resets. Plain functions of plain values, shared by
 * the DOM page and the Angular app. No imports: the shapes below are the parts of flo-rx's
 * `ProjectionState`, `ProjectionReset` and `ConnectionStatus` that the words need.
 */

/** What the words need of a `ProjectionState`. */
export interface ProjectionView {
  readonly status: 'replaying' | 'live' | 'stale';
  readonly applied: number;
  readonly reset: ResetView | null;
}

/** What the words need of a `ProjectionReset`. */
export interface ResetView {
  readonly reason: 'missing' | 'shorter' | 'trimmed';
  readonly previousApplied: number;
  readonly nth: number;
}

/** What the words need of a `ConnectionStatus`. */
export interface ConnectionView {
  readonly state: 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The status line: what the board is doing, in words. `total` is the stream's record count when
 * known (for "Replaying 40 of 120 events").
 */
export function statusText(p: ProjectionView, c: ConnectionView, url: string, total?: number): string {
  if (c.state === 'idle' || c.state === 'connecting') return `Connecting to ${url}…`;
  if (c.state === 'closed') return 'Disconnected.';
  if (c.state === 'connected' && p.status === 'stale') {
    return `The server did not answer; retrying. Showing the last board seen (${plural(p.applied, 'event')}).`;
  }
  if (c.state === 'reconnecting' || p.status === 'stale') {
    return `Server unreachable at ${url}; retrying. Showing the last board seen (${plural(p.applied, 'event')}).`;
  }
  if (p.status === 'replaying') {
    return total !== undefined && total > 0 ? `Replaying ${Math.min(p.applied, total)} of ${plural(total, 'event')}…` : `Replaying ${plural(p.applied, 'event')}…`;
  }
  return `Live · ${plural(p.applied, 'event')} folded`;
}

/** The notice after a reset: what happened and what the board is now. */
export function resetText(r: ResetView, appliedNow: number): string {
  const why =
    r.reason === 'missing'
      ? 'The board stream is gone from the server (it restarted empty, or the stream was deleted)'
      : r.reason === 'shorter'
        ? 'The board stream on the server is shorter than what this page had folded'
        : 'The events this board was built from are no longer on the server (the stream was trimmed, or written anew)';
  return `${why}. The ${plural(r.previousApplied, 'event')} shown before were dropped and the board was rebuilt from the stream as it is now (${plural(appliedNow, 'event')}).`;
}

/** A failed write or read, for people: no protocol text. `doing`: "add the card", "move the card". */
export function errorText(err: unknown, doing?: string): string {
  const name = err instanceof Error ? err.name : '';
  const what = doing ? `Could not ${doing}: ` : '';
  switch (name) {
    case 'TimeoutError':
      return `${what}the server did not answer in time.`;
    case 'ConnectionLostError':
      return `${what}the connection to the server was lost.`;
    case 'ClientClosedError':
      return `${what}the connection is closed. Reload the page.`;
    case 'OverloadedError':
    case 'RateLimitedError':
      return `${what}the server is busy. Try again in a moment.`;
    case 'UnauthorizedError':
      return `${what}the server refused it (not authorised).`;
    case 'BadRequestError':
      return `${what}the server rejected it as malformed.`;
    default:
      return `${what}something went wrong${err instanceof Error && err.message ? ` (${err.message})` : ''}.`;
  }
}

/** `14:03:07` for a time in ms since the epoch. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
