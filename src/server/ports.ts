/**
 * What one subsystem may use of another's data, as narrow interfaces. Processing jobs read streams
 * and write streams, KV and queues; workflow triggers read streams and wake on appends.
 * `createPorts` builds them over the stream, KV and queue subsystems (the registry calls it), so
 * the subsystem folders never import each other.
 */
import type { KvSubsystem } from './kv/index.js';
import type { QueueSubsystem } from './queues/index.js';
import { partitionFor, type StreamSubsystem } from './streams/index.js';

/** One stream record as a server-side reader sees it. */
export interface PortRecord {
  /** The id as one 128-bit number (`ts << 64 | seq`): positions are plain bigints. */
  readonly key: bigint;
  readonly partition: number;
  readonly payload: Uint8Array;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export interface StreamPort {
  /** Up to `count` records with key ≥ `from`, in id order (one partition when given). */
  read(ns: string, stream: string, from: bigint, count: number, partition?: number): PortRecord[];
  /**
   * Appends records in order, each to partition 0 or the one its key hashes to (consecutive records
   * of one partition in one batch); wakes parked readers once per batch.
   */
  append(ns: string, stream: string, records: ReadonlyArray<{ readonly payload: Uint8Array; readonly key?: Uint8Array }>): void;
  /** Key just past the last record ever appended (0 for a stream never written): where a tail read starts. */
  tail(ns: string, stream: string): bigint;
  /** Partitions of a stream (1 when it does not exist). */
  partitionCount(ns: string, stream: string): number;
  /** Calls `listener` after every append; returns the unsubscribe. */
  onAppend(listener: (ns: string, stream: string) => void): () => void;
}

/** How a KV sink writes (Flo's `write_mode`). */
export type KvWriteMode = 'upsert' | 'if_absent' | 'versioned';

export interface KvPort {
  get(ns: string, key: Uint8Array): Uint8Array | undefined;
  /** Writes per `mode`; returns false when `if_absent` found the key taken. TTL in ms (rounded up to seconds). */
  put(ns: string, key: Uint8Array, value: Uint8Array, mode: KvWriteMode, ttlMs?: number): boolean;
}

export interface QueuePort {
  enqueue(ns: string, queue: string, payload: Uint8Array, priority: number, delayMs: number): void;
}

/** The ports the registry hands to subsystems that use other subsystems' data. */
export interface ServerPorts {
  readonly streams: StreamPort;
  readonly kv: KvPort;
  readonly queues: QueuePort;
}

/** The ports other subsystems use to read and write streams, KV and queues. */
export function createPorts(streams: StreamSubsystem, kv: KvSubsystem, queues: QueueSubsystem): ServerPorts {
  return {
    streams: {
      read: (ns, stream, from, count, partition) => streams.store.read(ns, stream, { from, count, ...(partition !== undefined ? { partition } : {}) }),
      append: (ns, stream, records) => {
        const partitions = streams.store.partitionCount(ns, stream);
        let run: Array<{ payload: Uint8Array; headers: [] }> = [];
        let runPartition = 0;
        for (const r of records) {
          const partition = r.key && r.key.length > 0 && partitions > 1 ? partitionFor(r.key, partitions) : 0;
          if (run.length > 0 && partition !== runPartition) {
            streams.append(ns, stream, run, runPartition);
            run = [];
          }
          runPartition = partition;
          run.push({ payload: r.payload, headers: [] });
        }
        if (run.length > 0) streams.append(ns, stream, run, runPartition);
      },
      tail: (ns, stream) => streams.store.tailFrom(ns, stream),
      partitionCount: (ns, stream) => streams.store.partitionCount(ns, stream),
      onAppend: (listener) => streams.onAppend(listener),
    },
    kv: {
      get: (ns, key) => {
        try {
          return kv.store.get(ns, key)?.value;
        } catch {
          return undefined; // a key the store refuses (reserved, too long) is simply not there
        }
      },
      put: (ns, key, value, mode, ttlMs) => {
        if (mode === 'if_absent' && kv.store.get(ns, key) !== undefined) return false;
        kv.store.put(ns, key, value, ttlMs !== undefined ? { ttlSeconds: BigInt(Math.ceil(ttlMs / 1000)) } : {});
        return true;
      },
    },
    queues: {
      enqueue: (ns, queue, payload, priority, delayMs) => void queues.store.enqueue(ns, queue, payload, { priority, delayMs }),
    },
  };
}
