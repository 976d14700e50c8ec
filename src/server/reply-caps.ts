/**
 * Reply size caps, as Flo builds its multi-item replies in fixed buffers (1 MiB for mget; KV scans
 * and reads page): a request can never make the server build an unbounded reply. Lists that page
 * (scan, history, stream reads, DLQ lists) are cut at the cap, keeping at least one item, and say
 * so with their has-more flag or cursor; a reply that cannot be cut (mget) is refused.
 */

/** Largest multi-item reply the server builds (Flo's mget response buffer). */
export const MAX_REPLY_BYTES = 1024 * 1024;

/**
 * How many leading items fit in `maxBytes`, given each item's encoded size; at least one (a single
 * item larger than the cap is still sent, since it alone could never be read otherwise).
 */
export function itemsWithin<T>(items: readonly T[], sizeOf: (item: T) => number, maxBytes = MAX_REPLY_BYTES): number {
  let total = 0;
  for (let i = 0; i < items.length; i++) {
    total += sizeOf(items[i]);
    if (total > maxBytes) return Math.max(1, i);
  }
  return items.length;
}
