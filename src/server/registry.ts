import type { ServerEnv, Subsystem } from './types.js';
import { createPorts } from './ports.js';
import { createKvSubsystem } from './kv/index.js';
import { createQueueSubsystem } from './queues/index.js';
import { createStreamSubsystem } from './streams/index.js';
import { createActionSubsystem } from './actions/index.js';
import { createProcessingSubsystem } from './processing/index.js';

/** Every subsystem of the embedded server, in one place. */
export function createSubsystems(env: ServerEnv): Subsystem[] {
  const kv = createKvSubsystem(env);
  const queues = createQueueSubsystem(env);
  const streams = createStreamSubsystem(env);
  const ports = createPorts(streams, kv, queues);
  return [kv, queues, streams, createActionSubsystem(env, ports), createProcessingSubsystem(env, ports)];
}
