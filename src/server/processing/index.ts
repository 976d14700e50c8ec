/**
 * The processing subsystem of the embedded server: stream-processing jobs (opcodes 0x360-0x367)
 * kept by a `ProcessingStore` and run by a `ProcessingRunner` on the server clock, reading and
 * writing other subsystems' data through `ServerPorts`.
 */
import type { ServerPorts } from '../ports.js';
import type { ServerEnv, Subsystem } from '../types.js';
import { createProcessingHandlers } from './handlers.js';
import { ProcessingRunner } from './runner.js';
import { ProcessingStore } from './store.js';

export { ProcessingStore, JobStateError, MAX_SAVEPOINTS_PER_JOB } from './store.js';
export type { JobRecord, JobPhase, SavepointRecord, ProcessingSnapshot } from './store.js';
export { parseProcessingDefinition, DefinitionError } from './definition.js';
export type { ProcessingDefinition } from './definition.js';
export { MAX_PROCESSING_LIST_LIMIT } from './handlers.js';

/** The subsystem plus its store (tests use the store directly; with a data directory it persists itself). */
export interface ProcessingSubsystem extends Subsystem {
  readonly store: ProcessingStore;
  /** Restores the store from a snapshot and resumes its running jobs. */
  restore(snapshot: ReturnType<ProcessingStore['snapshot']>): void;
}

/** Builds the processing subsystem over the other subsystems' data (`ports`). */
export function createProcessingSubsystem(env: ServerEnv, ports: ServerPorts): ProcessingSubsystem {
  const store = new ProcessingStore(env.persistence);
  const runner = new ProcessingRunner(store, env.clock, ports);
  return {
    handlers: createProcessingHandlers(store, () => env.clock.now()),
    store,
    restore(snapshot) {
      store.restore(snapshot);
      runner.resumeAll();
    },
    close: () => runner.close(),
  };
}
