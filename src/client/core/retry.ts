/**
 * Retries of single requests on the statuses a busy or re-electing cluster answers with
 * (`OVERLOADED`, `RATE_LIMITED`, `UNAVAILABLE`, which carries Flo's "not leader"), with jittered
 * exponential backoff up to a budget. `UNAVAILABLE` is retried only for operations that are safe
 * to send twice (reads, settles, CAS writes) unless the user opts in for the rest. A lost
 * connection is not retried here: read loops resume on their own (`poll`), settles are resent by
 * the coalescer, and a single call fails with `ConnectionLostError` as before. Owns the
 * idempotency table and the backoff; the client's `call` applies it.
 */
import type { RequestSpec } from '../../connection/types.js';
import { isOverloaded, isRateLimited, InvalidArgumentError } from '../../protocol/errors.js';
import { ClientOp as Op, clientOpcodeName } from '../../protocol/client-opcodes.js';
import { Status } from '../../protocol/status.js';
import { FloError } from '../../protocol/errors.js';
import type { FloEvent } from '../../observability/events.js';

/** The `retry` option of `connect()`. */
export interface RetryOptions {
  /** Resends after the first failure. Default 3. */
  readonly retries?: number;
  /** Wait before the first resend; doubles per resend, with full jitter. Default 50 ms. */
  readonly minDelayMs?: number;
  /** Cap on the wait. Default 2000 ms. */
  readonly maxDelayMs?: number;
  /**
   * Also retry writes that are not idempotent (appends, enqueues, plain puts, incr, invokes...).
   * A resend after `UNAVAILABLE` may then apply twice. Default false.
   */
  readonly nonIdempotent?: boolean;
}

/** Reads, settles and other requests that are safe to send twice. */
const IDEMPOTENT = new Set<number>([
  Op.Ping,
  Op.KvGet, Op.KvMGet, Op.KvScan, Op.KvHistory, Op.KvExists, Op.KvJsonGet, Op.KvTouch, Op.KvPersist,
  Op.StreamRead, Op.StreamInfo, Op.StreamList, Op.StreamGroupInfo, Op.StreamGroupPending,
  Op.StreamGroupAck, Op.StreamGroupNack, Op.StreamGroupTouch,
  Op.QueueStats, Op.QueuePeek, Op.QueueDlqList, Op.QueueDlqStats, Op.QueueList,
  Op.QueueComplete, Op.QueueFail, Op.QueueTouch, Op.QueueExtendLease,
  Op.ActionStatus, Op.ActionList, Op.ActionListRuns, Op.ActionTouch,
  Op.NamespaceList, Op.NamespaceInfo,
]);

const isUnavailable = (err: unknown): boolean => err instanceof FloError && err.status === Status.Unavailable;

/** True when `spec` may be sent again after `err`. */
export function mayRetry(err: unknown, spec: RequestSpec, nonIdempotent: boolean): boolean {
  // OVERLOADED and RATE_LIMITED mean the server did not do the work: always safe to resend.
  if (isOverloaded(err) || isRateLimited(err)) return true;
  return isUnavailable(err) && (nonIdempotent || spec.idempotent === true || IDEMPOTENT.has(spec.opcode));
}

/** Resolves the option once: `false` → undefined. */
export function resolveRetry(options: RetryOptions | false | undefined): Required<RetryOptions> | undefined {
  if (options === false) return undefined;
  const { retries = 3, minDelayMs = 50, maxDelayMs = 2000, nonIdempotent = false } = options ?? {};
  if (!(Number.isInteger(retries) && retries >= 0)) throw new InvalidArgumentError(`retry.retries must be an integer >= 0, got ${retries}`);
  if (!(minDelayMs >= 0)) throw new InvalidArgumentError(`retry.minDelayMs must be >= 0, got ${minDelayMs}`);
  if (!(maxDelayMs >= minDelayMs)) throw new InvalidArgumentError(`retry.maxDelayMs must be >= minDelayMs, got ${maxDelayMs}`);
  return { retries, minDelayMs, maxDelayMs, nonIdempotent };
}

/** Full jitter: uniform in [min, min(max, min·2^(n-1))]. */
function backoff(r: Required<RetryOptions>, n: number): number {
  const cap = Math.min(r.maxDelayMs, r.minDelayMs * 2 ** (n - 1));
  return Math.round(r.minDelayMs + Math.random() * (cap - r.minDelayMs));
}

/**
 * The wait before resend `n` (from 1) of `spec` after `error`, reporting the retry; undefined when
 * `error` is not one to resend (the budget is the caller's to count). The client's per-call path
 * (`call.ts`) applies it.
 */
export function retryDelayMs(
  spec: RequestSpec,
  r: Required<RetryOptions>,
  error: unknown,
  n: number,
  emit: ((event: FloEvent) => void) | undefined,
): number | undefined {
  if (!mayRetry(error, spec, r.nonIdempotent)) return undefined;
  const delayMs = backoff(r, n);
  emit?.({ type: 'retry', operation: clientOpcodeName(spec.opcode), attempt: n, delayMs, error: error as Error });
  return delayMs;
}
