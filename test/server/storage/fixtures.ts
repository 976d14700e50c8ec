// Stores of the embedded server wired to a DiskStorage on a directory, without sockets: for the
// storage tests (restore, snapshot + replay, failed writes).
import { fdatasync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { ManualClock } from '../../../src/server/clock.js';
import { createActionSubsystem } from '../../../src/server/actions/index.js';
import { createKvSubsystem } from '../../../src/server/kv/index.js';
import { createProcessingSubsystem } from '../../../src/server/processing/index.js';
import { createPorts } from '../../../src/server/ports.js';
import { createQueueSubsystem } from '../../../src/server/queues/index.js';
import { createStreamSubsystem } from '../../../src/server/streams/index.js';
import { DiskStorage, type DiskStorageOptions, type StorageIo } from '../../../src/server/storage/index.js';
import type { ServerEnv, Subsystem } from '../../../src/server/types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'flo-rx-storage-'));
  dirs.push(d);
  return d;
}

export const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** Ends the turn and gives what its commit reported: undefined, or the write's error. */
export async function commitOutcome(storage: { afterCommit(cb: (err?: unknown) => void): void }): Promise<unknown> {
  let failure: unknown;
  storage.afterCommit((err) => (failure = err));
  await nextTurn();
  return failure;
}

/**
 * Disk I/O that fails on demand: while `fail` is set, each write throws an error with `code` (after
 * writing `afterBytes` of a batch's first chunk, for a torn write); fsync is the real one.
 */
export function failingIo(code = 'ENOSPC', afterBytes = 0): StorageIo & { fail: boolean } {
  const io = {
    fail: false,
    writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
      if (!io.fail) return writeSync(fd, buffer, offset, length, position);
      if (afterBytes > 0 && offset === 0) return writeSync(fd, buffer, 0, Math.min(afterBytes, length), position);
      throw Object.assign(new Error(`${code}: simulated`), { code });
    },
    fdatasync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => fdatasync(fd, cb),
  };
  return io;
}

export function openStores(dir: string, clock: ManualClock, opts: Partial<DiskStorageOptions> = {}, settings: Partial<ServerEnv> = {}) {
  const storage = DiskStorage.open({ dir, ...opts });
  const env: ServerEnv = { clock, profile: 'go', ...settings, persistence: storage };
  const kv = createKvSubsystem(env);
  const queues = createQueueSubsystem(env);
  const streams = createStreamSubsystem(env);
  const ports = createPorts(streams, kv, queues);
  const actions = createActionSubsystem(env, ports);
  const processing = createProcessingSubsystem(env, ports);
  storage.restore();
  const all: Subsystem[] = [kv, queues, streams, actions, processing];
  return {
    storage,
    kv: kv.store,
    queues: queues.store,
    streams: streams.store,
    actions: actions.store,
    processing: processing.store,
    async close() {
      for (const s of all) s.close?.();
      await storage.close();
    },
  };
}

export type Stores = ReturnType<typeof openStores>;
