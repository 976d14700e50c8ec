import type { ServerEnv, Subsystem } from './types.js';
import type { ServerPorts } from './ports.js';
import { createKvSubsystem, type KvSubsystem } from './kv/index.js';
import { createQueueSubsystem, type QueueSubsystem } from './queues/index.js';
import { createStreamSubsystem, partitionFor, type StreamSubsystem } from './streams/index.js';
import { createActionSubsystem } from './actions/index.js';
import { createProcessingSubsystem } from './processing/index.js';

/** The ports other subsystems use to read and write streams, KV and queues. */
export function createPorts(streams: StreamSubsystem, kv: KvSubsystem, queues: QueueSubsystem): ServerPorts {
  return {
    streams: {
      read: (ns, stream, from, count, partition) => streams.store.read(ns, stream, { from, count, ...(partition !== undefined ? { partition } : {}) }),
      append: (ns, stream, payload, key) => {
        const partitions = streams.store.partitionCount(ns, stream);
        const partition = key && partitions > 1 ? partitionFor(key, partitions) : 0;
        streams.append(ns, stream, [{ payload, headers: [] }], partition);
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

/** Every subsystem of the embedded server, in one place. */
export function createSubsystems(env: ServerEnv): Subsystem[] {
  const kv = createKvSubsystem(env);
  const queues = createQueueSubsystem(env);
  const streams = createStreamSubsystem(env);
  const ports = createPorts(streams, kv, queues);
  return [kv, queues, streams, createActionSubsystem(env, ports), createProcessingSubsystem(env, ports)];
}
