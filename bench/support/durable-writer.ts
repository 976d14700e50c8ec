/**
 * One tree's durable write path driven directly (no sockets, no dispatcher), as the benches that
 * compare trees use it (`durable-write-ab.ts`, `durable-write-solo.ts`): that tree's KV, stream or
 * queue store with a data directory of its own (or in memory with `fsync: 'off'`), 256 writes per
 * event-loop turn as the server's group commit sees them at 256 in flight, 100-byte values.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type DurableWrite = 'kv' | 'stream' | 'queue';

export interface DurableWriterOptions {
  /** `everysec`, `always`, or `off` (in memory). */
  readonly fsync: string;
  /** KV keys written in turn. */
  readonly keys: number;
}

export interface DurableWriter {
  readonly tree: string;
  /**
   * Writes `n` (from `i`) in turns of 256, then waits until they are durable; with `lockstep`,
   * also waits for each turn's commit before the next turn (as a client with 256 in flight waits
   * for their replies).
   */
  run(from: number, n: number, lockstep?: boolean): Promise<void>;
  /** Closes the stores and the storage, and removes the data directory (once; later calls do nothing). */
  close(): Promise<void>;
}

const PER_TURN = 256;
const PAYLOAD = new Uint8Array(100).fill(0x61);
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

export async function durableWriterOf(tree: string, write: DurableWrite, options: DurableWriterOptions): Promise<DurableWriter> {
  const at = (p: string) => import(resolve(tree, p));
  const { ManualClock } = await at('src/server/clock.ts');
  const { DiskStorage } = await at('src/server/storage/index.ts');
  const { utf8 } = await at('src/protocol/index.ts');
  const dir = options.fsync === 'off' ? undefined : mkdtempSync(join(tmpdir(), 'flo-rx-bench-writes-'));
  const storage = dir ? DiskStorage.open({ dir, fsync: options.fsync, compactAfterBytes: Number.MAX_SAFE_INTEGER }) : undefined;
  const env = { clock: new ManualClock(), profile: 'go', ...(storage ? { persistence: storage } : {}) };
  let one: (i: number) => void;
  let closeStores: () => void;
  if (write === 'kv') {
    const { createKvSubsystem } = await at('src/server/kv/index.ts');
    const kv = createKvSubsystem(env);
    const keys = Array.from({ length: options.keys }, (_, i) => utf8(`key:${i}`));
    one = (i) => void kv.store.put('default', keys[i % options.keys], PAYLOAD);
    closeStores = () => kv.close?.();
  } else if (write === 'stream') {
    const { createStreamSubsystem } = await at('src/server/streams/index.ts');
    const streams = createStreamSubsystem(env);
    const records = [{ payload: PAYLOAD, headers: [] }];
    one = () => void streams.store.append('default', 'bench', records, 0);
    closeStores = () => streams.close?.();
  } else if (write === 'queue') {
    const { createQueueSubsystem } = await at('src/server/queues/index.ts');
    const queues = createQueueSubsystem(env);
    one = () => void queues.store.enqueue('default', 'bench', PAYLOAD);
    closeStores = () => queues.close?.();
  } else throw new Error(`${String(write)}: kv, stream or queue`);
  storage?.restore();
  const committed = () => new Promise<void>((r) => storage.afterCommit(() => r()));
  let closed = false;
  return {
    tree,
    async run(from, n, lockstep = false) {
      for (let i = from; i < from + n; i += PER_TURN) {
        const end = Math.min(from + n, i + PER_TURN);
        for (let j = i; j < end; j++) one(j);
        await nextTurn();
        if (lockstep && storage?.pending) await committed();
      }
      if (storage?.pending) await committed();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        closeStores();
        await storage?.close();
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
