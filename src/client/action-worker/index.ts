// The action worker: `actionWorker` (behind `flo.actions.worker`; its run loop loads on demand), its options, errors,
// result and event types. Only types come from `run.ts` and `task.ts`, so importing this loads neither.
export { actionWorker } from './start.js';
export type { WorkerEvent, DrainReason } from './run.js';
export {
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  type ActionHandler,
  type ActionDefinition,
  type ActionHandlers,
  type ActionWorkerOptions,
} from './options.js';
export type { ActionTask } from './task.js';
export { NonRetryableError, ActionResultTooLargeError, ActionTimeoutError } from './errors.js';
export { ActionResult, actionResult, MAX_ACTION_RESULT_BYTES } from './result.js';
