// The action worker: `actionWorker` (behind `flo.actions.worker`), its options, errors, result and event types.
export { actionWorker, type WorkerEvent, type DrainReason } from './run.js';
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
