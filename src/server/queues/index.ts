import type { ServerEnv, Subsystem, Handler } from '../types.js';

/** Placeholder until the subsystem lands: registers no opcodes. */
export function createQueueSubsystem(_env: ServerEnv): Subsystem {
  return { handlers: new Map<number, Handler>() };
}
