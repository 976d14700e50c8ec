/**
 * The `maxMemoryBytes` limit, as Redis's `noeviction` policy: once the memory the server holds
 * passes the limit, requests that add data are answered OVERLOADED with a message, while reads,
 * deletes, acks and everything else that frees or only looks keep working. Memory is the JS heap
 * plus the bytes held outside it (stored values are `Uint8Array`s), sampled at most every
 * `SAMPLE_MS` so the check costs nothing on the hot path.
 */
import { Op } from '../protocol/index.js';

const SAMPLE_MS = 50;

/** Opcodes that store new data (refused past the limit). */
const GROWING = new Set<number>([
  Op.KvPut,
  Op.KvIncr,
  Op.KvJsonSet,
  Op.KvBeginTxn,
  Op.KvCommitTxn,
  Op.QueueEnqueue,
  Op.QueueBatchEnqueue,
  Op.StreamAppend,
  Op.StreamCreate,
  Op.StreamGroupCreate,
  Op.ActionRegister,
  Op.ActionInvoke,
  Op.WorkerRegister,
  Op.WorkflowCreate,
  Op.WorkflowStart,
  Op.WorkflowSignal,
  Op.ProcessingSubmit,
  Op.ProcessingSavepoint,
]);

/** Memory the process holds for data: heap in use plus buffers outside the heap. */
export function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Refuses data-adding requests while memory in use is above `maxBytes`. */
export class MemoryGuard {
  private sampledAt = 0;
  private last = 0;

  constructor(
    readonly maxBytes: number,
    private readonly measure: () => number = memoryInUse,
  ) {}

  /** Memory in use, at most `SAMPLE_MS` old. */
  used(): number {
    const now = Date.now();
    if (now - this.sampledAt >= SAMPLE_MS) {
      this.last = this.measure();
      this.sampledAt = now;
    }
    return this.last;
  }

  /** The OVERLOADED message for `opcode`, or `undefined` when it may run. */
  refusal(opcode: number): string | undefined {
    if (!GROWING.has(opcode)) return undefined;
    const used = this.used();
    if (used <= this.maxBytes) return undefined;
    return `out of memory: ${used} bytes in use (max-memory ${this.maxBytes}); writes are refused until data is deleted (reads and deletes still work)`;
  }
}
