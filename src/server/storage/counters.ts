/**
 * What the storage has done since the server started, for `/metrics`: plain numbers bumped by
 * `DiskStorage` at the few places it writes, syncs or compacts (a field update each, no clock read
 * on the write path), read by the metrics collectors at scrape time. Owns `StorageCounters`; knows
 * nothing of Prometheus.
 */

/** Upper bounds (seconds) of the fsync latency histogram. */
export const FSYNC_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A cumulative histogram kept as plain numbers. */
export interface PlainHistogram {
  /** Cumulative count per bucket of `FSYNC_BUCKETS` (observations <= that bound). */
  readonly buckets: Float64Array;
  count: number;
  /** Sum of the observations, in seconds. */
  sum: number;
}

/** Counts of log writes, commits, fsyncs and compactions, and the last commit error. */
export class StorageCounters {
  /** Bytes appended to the log (all segments, frames included). */
  bytesWritten = 0;
  /** Batches written to the log (one per event-loop turn that changed something). */
  commits = 0;
  /** Batches that failed to be written or made durable (their changes were rolled back or refused). */
  commitErrors = 0;
  /** fdatasync calls that returned (success or failure), with their latency. */
  readonly fsync: PlainHistogram = { buckets: new Float64Array(FSYNC_BUCKETS.length), count: 0, sum: 0 };
  /** Snapshots written by compaction. */
  compactions = 0;
  /** Total time of the compactions that succeeded, in seconds. */
  compactionSeconds = 0;
  /** Compactions that failed (retried later). */
  compactionErrors = 0;
  /** The message of the last failed write or fsync, and when it happened (ms since the epoch). */
  lastCommitError: { readonly message: string; readonly at: number } | undefined;

  /** One batch appended. */
  wrote(bytes: number): void {
    this.bytesWritten += bytes;
    this.commits++;
  }

  /** A write or fsync failed. */
  failed(error: Error): void {
    this.commitErrors++;
    this.lastCommitError = { message: error.message, at: Date.now() };
  }

  /** An fdatasync returned after `seconds`. */
  synced(seconds: number): void {
    const h = this.fsync;
    h.count++;
    h.sum += seconds;
    for (let i = FSYNC_BUCKETS.length - 1; i >= 0 && seconds <= FSYNC_BUCKETS[i]; i--) h.buckets[i]++;
  }

  /** A compaction ended after `seconds` (`ok` false: it failed). */
  compacted(seconds: number, ok: boolean): void {
    if (!ok) {
      this.compactionErrors++;
      return;
    }
    this.compactions++;
    this.compactionSeconds += seconds;
  }
}

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
