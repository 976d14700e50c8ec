import type { ServerEnv, Subsystem } from './types.js';
import { createKvSubsystem } from './kv/index.js';
import { createQueueSubsystem } from './queues/index.js';
import { createStreamSubsystem } from './streams/index.js';
import { createActionSubsystem } from './actions/index.js';

/** Every subsystem of the embedded server, in one place. */
export function createSubsystems(env: ServerEnv): Subsystem[] {
  return [createKvSubsystem(env), createQueueSubsystem(env), createStreamSubsystem(env), createActionSubsystem(env)];
}
