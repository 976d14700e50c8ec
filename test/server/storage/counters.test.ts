// The storage counters behind /metrics: a failed write counts as a commit error and is reported as
// the last commit error (in the counters and in the Prometheus text), fsyncs are counted with their
// latency, and successful commits count bytes.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/server/clock.js';
import { utf8 } from '../../../src/protocol/index.js';
import { ServerMetrics } from '../../../src/server/metrics.js';
import { StorageCounters, FSYNC_BUCKETS } from '../../../src/server/storage/counters.js';
import { failingIo, nextTurn, openStores, tempDir } from './fixtures.js';

const NS = 'default';

describe('StorageCounters', () => {
  it('keeps a cumulative fsync histogram', () => {
    const c = new StorageCounters();
    c.synced(0.0001);
    c.synced(1000);
    expect(c.fsync.count).toBe(2);
    expect(c.fsync.buckets[0]).toBe(1); // only the fast one is under the first bound
    expect(c.fsync.buckets[FSYNC_BUCKETS.length - 1]).toBe(1); // the slow one is above every bound
    expect(c.fsync.sum).toBeCloseTo(1000.0001);
  });

  it('counts commits, fsyncs and a failed write of a real DiskStorage, and /metrics shows the last error', async () => {
    const io = failingIo();
    const s = openStores(tempDir(), new ManualClock(), { io });
    const counters = s.storage.counters;
    s.kv.put(NS, utf8('a'), utf8('1'));
    await new Promise<void>((resolve) => {
      s.storage.afterCommit(() => resolve());
    });
    expect(counters.commits).toBe(1);
    expect(counters.bytesWritten).toBeGreaterThan(0);
    expect(counters.fsync.count).toBeGreaterThanOrEqual(1);
    expect(counters.commitErrors).toBe(0);
    expect(counters.lastCommitError).toBeUndefined();

    io.fail = true;
    s.kv.put(NS, utf8('b'), utf8('2'));
    await nextTurn();
    expect(counters.commits).toBe(1); // the failed batch is not a commit
    expect(counters.commitErrors).toBe(1);
    expect(counters.lastCommitError?.message).toMatch(/disk full/);

    const metrics = new ServerMetrics({ connections: () => 0, storage: counters });
    const text = await metrics.text();
    expect(text).toMatch(/^flo_rx_server_storage_commit_errors_total 1$/m);
    expect(text).toMatch(/^flo_rx_server_storage_commits_total 1$/m);
    expect(text).toMatch(/^flo_rx_server_storage_last_commit_error_timestamp_seconds\{message="storage write failed \(disk full\)[^"]*"\} \d/m);
    io.fail = false;
    await s.close();
  });
});
