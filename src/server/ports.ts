/**
 * What one subsystem may use of another's data, as narrow interfaces. Processing jobs read streams
 * and write streams, KV and queues; workflow triggers read streams and wake on appends. The
 * registry (`registry.ts`) wires these ports from the stream, KV and queue subsystems, so the
 * subsystem folders never import each other.
 */

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
  /** Appends one record (partition 0, or the one its key hashes to); wakes parked readers. */
  append(ns: string, stream: string, payload: Uint8Array, key?: Uint8Array): void;
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
