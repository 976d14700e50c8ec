import {
  asapScheduler,
  concat,
  defer,
  EMPTY,
  finalize,
  from,
  ignoreElements,
  map,
  merge,
  of,
  repeat,
  retry,
  share,
  switchMap,
  take,
  tap,
  throwError,
  timer,
  type Observable,
  type ObservableInput,
  type SchedulerLike,
} from 'rxjs';
import type { RequestChannel } from '../../connection/types.js';
import { isConnectionLost, isOverloaded, isTimeout } from '../../protocol/errors.js';
import { checkBlockMs } from './block-ms.js';


/** What the loop needs of the connection: when it comes back. */
export type ReconnectSignals = Pick<RequestChannel, 'state$' | 'reconnected$'>;

export interface ResumeOptions {
  /**
   * Runs before the first request after the connection came back (e.g. re-joining a consumer group);
   * the loop resumes when it completes. Its errors are handled like a request's (a lost connection
   * waits again, anything else ends the loop).
   */
  readonly onReconnect?: () => ObservableInput<unknown>;
  /** Scheduler for the one-tick grace described in `waitForReconnect`; defaults to `asapScheduler`. */
  readonly scheduler?: SchedulerLike;
}

export interface PollOptions extends ResumeOptions {
  /** The long-poll of each request, 1 to 300 000 ms; default 30 000. */
  readonly blockMs?: number;
}

/**
 * Completes (after one emission) when the connection is usable again after `error` (a
 * `ConnectionLostError`); errors with `error` if the connection state becomes `'closed'`.
 *
 * Usable again means: `reconnected$` emits, or `state$` shows `'connected'` (or `'idle'`: a lazy
 * connection reopens on the next request) after showing a down state. If the state replayed on
 * subscription already is `'connected'`, the connection either has already come back or has not yet
 * published that it went down; the wait then resolves one tick later (on `scheduler`) unless a down
 * state arrives first. (Contract for the Connection: publish `'reconnecting'` before, or in the same
 * tick as, failing in-flight requests with `ConnectionLostError`.)
 */
export function waitForReconnect(
  signals: ReconnectSignals,
  error: unknown,
  scheduler: SchedulerLike = asapScheduler,
): Observable<void> {
  const fromState$ = signals.state$.pipe(
    switchMap((state, index) => {
      if (state === 'closed') return throwError(() => error);
      if (state === 'connected' || state === 'idle') return index === 0 ? timer(0, scheduler) : of(0);
      return EMPTY; // connecting / reconnecting: keep waiting
    }),
  );
  return merge(signals.reconnected$, fromState$).pipe(
    take(1),
    map(() => undefined),
  );
}

/** First pause of a backoff streak (ms). */
export const BACKOFF_BASE_MS = 50;
/** Longest pause of a backoff streak (ms). */
export const BACKOFF_MAX_MS = 5_000;

/**
 * The pause before retry number `streak` (1-based) of a loop that keeps getting nothing early or
 * OVERLOADED: exponential from `BACKOFF_BASE_MS` up to `BACKOFF_MAX_MS`, with "equal jitter" (a
 * random half on top of a fixed half) so that many clients do not retry in step.
 */
export function backoffDelay(streak: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(Math.max(streak, 1) - 1, 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Per-subscription state shared by the attempts of one loop. */
interface ResumeSession {
  needsRejoin: boolean;
  /** The re-join under way, shared by the attempts that resume at once (a source with two requests in flight). */
  rejoin: Observable<never> | undefined;
  /** OVERLOADED answers in a row (reset by any other outcome). */
  overloadedStreak: number;
}

/**
 * One attempt of `request`, retried while the subscriber is there: after a `ConnectionLostError` it
 * waits for the connection (`waitForReconnect`), runs `onReconnect`, and tries again; after a
 * `TimeoutError` it tries again at once; after an `OverloadedError` it backs off with jitter
 * (`backoffDelay`) and tries again; any other error is passed on.
 */
function resumable<R>(
  signals: ReconnectSignals,
  request: () => Observable<R>,
  options: ResumeOptions,
  session: ResumeSession,
): Observable<R> {
  const { onReconnect, scheduler = asapScheduler } = options;
  return defer(() => {
    if (session.needsRejoin && onReconnect) {
      session.rejoin ??= from(onReconnect()).pipe(
        ignoreElements(),
        tap({ complete: () => (session.needsRejoin = false) }),
        finalize(() => (session.rejoin = undefined)),
        share(),
      );
      return concat(session.rejoin, defer(request));
    }
    session.needsRejoin = false;
    return request();
  }).pipe(
    tap({ next: () => (session.overloadedStreak = 0) }),
    retry({
      delay: (error: unknown) => {
        if (isOverloaded(error)) return timer(backoffDelay(++session.overloadedStreak), scheduler);
        session.overloadedStreak = 0;
        if (isConnectionLost(error)) {
          session.needsRejoin = true;
          return waitForReconnect(signals, error, scheduler);
        }
        if (isTimeout(error)) return of(0);
        return throwError(() => error);
      },
    }),
  );
}

/** Watches `reconnected$` for the lifetime of a loop so that the next attempt re-joins first. */
function markRejoins(signals: ReconnectSignals, session: ResumeSession): Observable<never> {
  return signals.reconnected$.pipe(
    tap(() => (session.needsRejoin = true)),
    ignoreElements(),
  );
}

/**
 * Wraps single attempts with the loop's reconnect semantics, for callers that drive their own loop
 * (the leasing source). Call once per subscription; `run(request)` is one resilient attempt, and
 * `watch` must be subscribed for as long as the loop lives.
 */
export function createResumer(
  signals: ReconnectSignals,
  options: ResumeOptions = {},
): { run<R>(request: () => Observable<R>): Observable<R>; watch: Observable<never> } {
  const session: ResumeSession = { needsRejoin: false, rejoin: undefined, overloadedStreak: 0 };
  return {
    run: (request) => resumable(signals, request, options, session),
    watch: markRejoins(signals, session),
  };
}

/**
 * The long-poll loop behind every infinite read path: sends `request(blockMs)` (a finite long-poll
 * that emits its result and completes), emits what it emits, and sends it again, for as long as
 * it is subscribed. Unsubscribing cancels the request in flight (its late reply goes to the
 * request's `onLateReply`) and sends nothing more.
 *
 * - `ConnectionLostError`: waits for the connection to come back, calls `onReconnect` (e.g. a group
 *   re-join), then resumes. `onReconnect` also runs before the next request after any
 *   `reconnected$` emission, even one that happened between two requests.
 * - `TimeoutError`: sends again at once.
 * - `OverloadedError` (the server could not park the request): sends again after a jittered,
 *   growing pause (`backoffDelay`), never in a busy loop.
 * - Any other error (and `blockMs` outside 1..300 000, as `InvalidArgumentError`): errors the loop.
 *
 * `request` is called afresh for every iteration, so it can carry loop state (e.g. a tail's last id).
 *
 * ```
 * request(b):  -a|           (each subscription of a request)
 * poll:        -a-a-a-a-...
 * ```
 */
export function poll<R>(
  signals: ReconnectSignals,
  request: (blockMs: number) => Observable<R>,
  options: PollOptions = {},
): Observable<R> {
  return defer(() => {
    const blockMs = checkBlockMs(options.blockMs);
    const { run, watch } = createResumer(signals, options);
    return merge(watch, run(() => request(blockMs)).pipe(repeat()));
  });
}
