/**
 * The argument checks of `flo.queue` (and its DLQ), shared by `QueueApi` (which runs them before
 * the calls' code has loaded) and `queue-calls.ts` (which runs them on every call).
 */
import { utf8 } from '../protocol/bytes.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import type { EnqueueOptions, Seqs } from './queue.js';
import { intIn } from './core/int-in.js';
import { requireName } from './core/require-name.js';

export { intIn };

/** The visibility timeout the server applies when a dequeue does not give one (`docs/protocol-decisions.md` #12). */
export const DEFAULT_VISIBILITY_TIMEOUT_MS = 30_000;

export const U32_MAX = 0xffff_ffff;

// ---------------------------------------------------------------------------------------------
// Validation (errors are delivered through the Observable, on subscription)

export function checkQueueName(queue: string): string {
  return requireName('queue name', queue);
}

export function seqList(seqs: Seqs): bigint[] {
  const list = typeof seqs === 'bigint' ? [seqs] : [...seqs];
  for (const s of list) {
    if (typeof s !== 'bigint' || s < 0n || s > 0xffff_ffff_ffff_ffffn) {
      throw new InvalidArgumentError(`queue seqs must be u64 bigints, got ${String(s)}`);
    }
  }
  return list;
}

export function checkDelay(delayMs: number | bigint | undefined): bigint | undefined {
  if (delayMs === undefined) return undefined;
  if (typeof delayMs === 'bigint') {
    if (delayMs < 0n || delayMs > 0xffff_ffff_ffff_ffffn) throw new InvalidArgumentError(`delayMs must be a u64, got ${delayMs}`);
    return delayMs;
  }
  return BigInt(intIn('delayMs', delayMs, 0, Number.MAX_SAFE_INTEGER));
}

export function checkVisibility(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : intIn('visibilityTimeoutMs', ms, 1, U32_MAX);
}

/** The checks of `enqueue`'s options: priority, delay, dedup key. */
export function checkEnqueueOptions(opts: EnqueueOptions): { priority: number | undefined; delayMs: bigint | undefined } {
  const priority = opts.priority === undefined ? undefined : intIn('priority', opts.priority, 0, 255);
  const delayMs = checkDelay(opts.delayMs);
  if (opts.dedupKey !== undefined && utf8(opts.dedupKey).length > 255) {
    throw new InvalidArgumentError(`dedupKey must be at most 255 bytes, got ${utf8(opts.dedupKey).length}`);
  }
  return { priority, delayMs };
}
