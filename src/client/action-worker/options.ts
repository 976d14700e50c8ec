/**
 * What `flo.actions.worker(handlers, options)` is given: the handler types, `ActionWorkerOptions`
 * with its defaults, and `checkWorkerOptions`, which checks them once when the worker is
 * subscribed (a bad option errors the subscription before anything is sent); the run loop
 * (`run.ts`) resolves the rest once it has loaded.
 * Reads: `client/core` (block time and slow-handler checks). Rules: `docs/protocol-decisions.md` #27-#30.
 */
import type { Observable, ObservableInput, SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../../protocol/errors.js';
import type { ClientCore, NamespaceOption } from '../core/context.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../core/drain-timeout.js';
import { checkBlockMs } from '../core/block-ms.js';
import { MAX_TIMER_MS, checkSlowHandlerMs } from '../core/slow-handler.js';
import type { ActionTask } from './task.js';

/** The handler timeout of a worker unless `handlerTimeoutMs` says otherwise: 5 minutes, as Go's `ActionWorker`. */
export const DEFAULT_HANDLER_TIMEOUT_MS = 300_000;
export { DEFAULT_DRAIN_TIMEOUT_MS };

/** A handler: returns a value, a Promise or an Observable (its last value is the result). */
export type ActionHandler<R = unknown> = (task: ActionTask) => R | PromiseLike<R> | Observable<R>;

/** A handler with the options its action is registered with. */
export interface ActionDefinition<R = unknown> {
  readonly handler: ActionHandler<R>;
  /** The action's lease (ACTION_REGISTER timeout_ms). Default 30 000. */
  readonly timeoutMs?: number;
  /** Total deliveries allowed (ACTION_REGISTER max_retries). Default 3. */
  readonly maxRetries?: number;
  readonly description?: string;
}

/** The handlers of an action worker: action name → handler (or a definition with its options). */
export type ActionHandlers = Readonly<Record<string, ActionHandler | ActionDefinition>>;

/** Options of `actions.worker`. */
export interface ActionWorkerOptions extends NamespaceOption {
  /** Tasks run at once; also the number of awaits kept parked while idle. Default 10. */
  readonly concurrency?: number;
  /** The worker id (registry key). Default `flo-rx-<8 hex>`. */
  readonly workerId?: string;
  /** Long-poll of each ACTION_AWAIT, 1 to 300 000 ms. Default 30 000. */
  readonly blockMs?: number;
  /** WORKER_HEARTBEAT period. Default 30 000. */
  readonly heartbeatMs?: number;
  /**
   * Touch a running task's lease every `touchFraction × timeoutMs` (asking for `timeoutMs` more),
   * `0 < touchFraction < 1`; `false` never touches (the lease then runs out after the action's
   * timeout and the run is redelivered, `docs/protocol-decisions.md` #27). Default 0.5.
   */
  readonly touchFraction?: number | false;
  /**
   * Fail a handler still running after this many ms, without retry as Go does (`ActionTimeoutError`,
   * `action timed out`); the handler's Observable is unsubscribed (a Promise cannot be stopped and is
   * ignored). `Infinity` sets no limit. Default 300 000 (5 minutes, as Go's `ActionWorker`).
   */
  readonly handlerTimeoutMs?: number;
  /**
   * After the worker began draining (unsubscribe, `until`, a server drain), handlers still running
   * after this many ms are abandoned: their tasks are failed with retry=1 (`ActionTimeoutError` with
   * `limit: 'drain'`), so the server delivers them again, then the worker deregisters. `0` abandons
   * them at once, `Infinity` waits for them however long they take. Default: `flo.drain()`'s
   * `timeoutMs` when the worker is drained by it, else 30 000.
   */
  readonly drainTimeoutMs?: number;
  /**
   * A handler still running after this many ms is reported once, while it runs (a `slow-handler`
   * event on `flo.events$`, source `action:<name>`, and a `warn` line in the client's logger).
   * `Infinity` turns it off. Default: the client's `slowHandlerMs` (10 000).
   */
  readonly slowHandlerMs?: number;
  /** Worker labels (sent as the registry metadata JSON): runs invoked with `labels` need them all. */
  readonly labels?: Readonly<Record<string, string | number | boolean | null>>;
  /** Registry machine id. Default: none. */
  readonly machineId?: string;
  /** Send ACTION_REGISTER for every handler on start (as the Go worker does). Default true. */
  readonly registerActions?: boolean;
  /** When this emits (or completes), the worker drains gracefully and the Observable completes. */
  readonly until?: ObservableInput<unknown>;
  /**
   * Run the ACTION_AWAIT long-polls on this client's connection (e.g. a second
   * `connect(sameAddress)`) instead, keeping registration, heartbeats and settles on this one.
   * Overrides `dedicatedAwaitConnection`; the worker does not close it.
   */
  readonly awaitClient?: { readonly core: ClientCore };
  /**
   * Without `awaitClient`, run the long-polls on a connection of their own, as the reference SDKs
   * do: a sibling of this client's connection (same endpoints and options), opened when the worker
   * is subscribed and closed after it deregistered or failed. `false` keeps them on this client's
   * connection (replies are multiplexed, so a parked await blocks nothing). A client not built by
   * `connect()` (e.g. over a channel of your own) cannot open one and uses its own. Default true.
   */
  readonly dedicatedAwaitConnection?: boolean;
  /** Pause after an await failed with an unexpected error, before awaiting again. Default 1000. */
  readonly retryDelayMs?: number;
  /** Scheduler of the heartbeat, touch, handler and drain timeout and retry timers (virtual time in tests). */
  readonly scheduler?: SchedulerLike;
}

/** The options of one worker, checked, with their defaults applied. */
export interface ResolvedWorkerOptions {
  readonly ns: string;
  readonly workerId: string;
  readonly concurrency: number;
  readonly blockMs: number;
  readonly heartbeatMs: number;
  readonly touchFraction: number | false;
  /** Infinity: no limit. */
  readonly handlerTimeoutMs: number;
  /** Infinity: wait for running handlers however long they take. Undefined: `flo.drain()`'s, else the default. */
  readonly drainTimeoutMs: number | undefined;
  readonly retryDelayMs: number;
  /** Infinity: never reported. */
  readonly slowHandlerMs: number;
  readonly scheduler: SchedulerLike | undefined;
  readonly definitions: ReadonlyMap<string, ActionDefinition>;
  readonly names: readonly string[];
}

function positive(name: string, v: number | undefined, fallback: number, integer = true): number {
  const x = v ?? fallback;
  if (!(Number.isFinite(x) && x > 0) || (integer && !Number.isInteger(x))) {
    throw new InvalidArgumentError(`worker ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
  return x;
}

/** A time limit in ms: `Infinity` (none), or finite up to a timer's maximum, > 0 (or >= 0 with `allowZero`). */
function timeLimit(name: string, v: number | undefined, fallback: number, allowZero: boolean): number {
  const x = v ?? fallback;
  if (x === Infinity) return x;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || (x === 0 && !allowZero) || x > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `worker ${name} must be ${allowZero ? 'from 0' : 'above 0'} to ${MAX_TIMER_MS} ms, or Infinity for no limit, got ${String(v)}`,
    );
  }
  return x;
}

/**
 * What `actions.worker()` checks at subscription, with the defaults of the checked options
 * applied. The rest (namespace, worker id, retry delay, scheduler, the client's slow-handler
 * threshold) is resolved by the run loop once it has loaded (`run.ts`).
 */
export type CheckedWorkerOptions = Omit<ResolvedWorkerOptions, 'ns' | 'workerId' | 'retryDelayMs' | 'slowHandlerMs' | 'scheduler' | 'names'> & {
  /** Undefined: the client's. */
  readonly slowHandlerMs: number | undefined;
};

/** Checks the handlers and options of a worker and applies the defaults of what it checks; throws `InvalidArgumentError`. */
export function checkWorkerOptions(handlers: ActionHandlers, o: ActionWorkerOptions): CheckedWorkerOptions {
  const definitions = new Map<string, ActionDefinition>();
  for (const [name, h] of Object.entries(handlers ?? {})) {
    if (!name) throw new InvalidArgumentError('worker: action names must be non-empty');
    const def = typeof h === 'function' ? { handler: h } : h;
    if (!def || typeof def.handler !== 'function') throw new InvalidArgumentError(`worker: the handler of "${name}" is not a function`);
    definitions.set(name, def);
  }
  if (definitions.size === 0) throw new InvalidArgumentError('worker: at least one action handler is required');
  const touchFraction = o.touchFraction ?? 0.5;
  if (touchFraction !== false && !(touchFraction > 0 && touchFraction < 1)) {
    throw new InvalidArgumentError(`worker touchFraction must be > 0 and < 1, or false, got ${String(touchFraction)}`);
  }
  return {
    concurrency: positive('concurrency', o.concurrency, 10),
    blockMs: checkBlockMs(o.blockMs),
    heartbeatMs: positive('heartbeatMs', o.heartbeatMs, 30_000, false),
    touchFraction,
    handlerTimeoutMs: timeLimit('handlerTimeoutMs', o.handlerTimeoutMs, DEFAULT_HANDLER_TIMEOUT_MS, false),
    drainTimeoutMs: o.drainTimeoutMs === undefined ? undefined : timeLimit('drainTimeoutMs', o.drainTimeoutMs, DEFAULT_DRAIN_TIMEOUT_MS, true),
    slowHandlerMs: o.slowHandlerMs === undefined ? undefined : checkSlowHandlerMs(o.slowHandlerMs, 'worker slowHandlerMs'),
    definitions,
  };
}

