/**
 * The check of a long-poll time (`blockMs`), on its own: the API objects check it synchronously at
 * start-up, while the read loops of `poll.ts` are needed only by the code loaded on demand (and
 * by nothing a connect + `kv.get` app runs), so importing it must not bring those loops along.
 */
import { InvalidArgumentError } from '../../protocol/errors.js';

/** The longest long-poll the client sends (`docs/protocol-decisions.md` #14). */
export const MAX_BLOCK_MS = 300_000;
/** The long-poll each iteration of an infinite read path uses when none is given. */
export const DEFAULT_POLL_BLOCK_MS = 30_000;

/**
 * Validates a long-poll time. `blockMs = 0` is ambiguous on the wire ("forever" to one server
 * generation, "don't wait" to the other), so infinite read paths refuse it and loop over finite
 * polls instead; single-shot reads may pass `allowZero` to mean "don't wait". Above
 * `MAX_BLOCK_MS`, negative, fractional or non-finite values are refused. Throws
 * `InvalidArgumentError`; returns the value (or `fallback` when it is undefined).
 */
export function checkBlockMs(
  blockMs: number | undefined,
  { fallback = DEFAULT_POLL_BLOCK_MS, allowZero = false }: { fallback?: number; allowZero?: boolean } = {},
): number {
  const ms = blockMs ?? fallback;
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(ms) || ms < min || ms > MAX_BLOCK_MS) {
    throw new InvalidArgumentError(
      `blockMs must be an integer from ${min} to ${MAX_BLOCK_MS} ms, got ${String(blockMs)}` +
        (ms === 0 ? ' (0 is never sent to mean "wait forever": infinite reads loop over finite long-polls)' : ''),
    );
  }
  return ms;
}
