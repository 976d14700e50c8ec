/**
 * What a handler may return besides a plain value: an `ActionResult` naming the outcome
 * (`actionResult('rejected', value)`), and the size limit of the COMPLETE that carries it.
 * Loads with the entry (users build results with it); read by `task.ts` when settling.
 * Rules: `docs/protocol-decisions.md` #29.
 */
import { requireName } from '../core/require-name.js';

/** The longest result a COMPLETE can carry: its length is a u16 (`docs/protocol-decisions.md` #29). */
export const MAX_ACTION_RESULT_BYTES = 0xffff;

/** A handler result with a named outcome (Go's `actx.Result(outcome, value)`); see `actionResult`. */
export class ActionResult<T = unknown> {
  declare readonly outcome: string;
  declare readonly value: T;
  constructor(outcome: string, value: T) {
    this.outcome = outcome;
    this.value = value;
  }
}

/**
 * Returns `value` under a named outcome instead of `success`, for workflow transitions keyed on it:
 * `return actionResult('rejected', { reason })`.
 */
export function actionResult<T>(outcome: string, value?: T): ActionResult<T | undefined> {
  requireName('actionResult: outcome', outcome);
  return new ActionResult(outcome, value);
}

