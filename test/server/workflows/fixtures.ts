// The workflow definitions shaped like the Go SDK examples (one source, shared with examples/workflow.ts), and their actions.
export { EXPENSE_WORKFLOW as EXPENSE_YAML, ORDER_WORKFLOW as ORDER_YAML } from '../../../examples/workflows/definitions.js';

export const ORDER_ACTIONS = [
  'validate-payment',
  'process-payment',
  'process-payment-fallback',
  'fulfill-order',
  'send-confirmation',
  'send-rejection',
];
export const EXPENSE_ACTIONS = ['validate-expense', 'process-expense'];

// The history each example run records, event by event (`type(detail)`), shared by the server-level
// and the client-level workflow tests.

/** The order workflow's happy path: validate, charge through stripe, fulfil, notify. */
export const orderHappyHistory = (input: string): string[] => [
  `workflow_started(${input})`,
  'step_started(start)',
  'awaiting_action(validate-payment)',
  'action_completed(success)',
  'step_completed(start)',
  'step_started(charge)',
  'plan_executor_start(stripe)',
  'awaiting_action(process-payment)',
  'action_completed(success)',
  'step_completed(charge)',
  'step_started(fulfill)',
  'awaiting_action(fulfill-order)',
  'action_completed(success)',
  'step_completed(fulfill)',
  'step_started(notify)',
  'awaiting_action(send-confirmation)',
  'action_completed(success)',
  'step_completed(notify)',
  'workflow_completed(flo.Completed)',
];

/** The order workflow when validation answers `failure`: straight to the rejection step. */
export const orderRejectedHistory = (input: string): string[] => [
  `workflow_started(${input})`,
  'step_started(start)',
  'awaiting_action(validate-payment)',
  'action_completed(failure)',
  'step_completed(start)',
  'step_started(rejected)',
  'awaiting_action(send-rejection)',
  'action_completed(success)',
  'step_completed(rejected)',
  'workflow_completed(flo.Completed)',
];

/** The expense workflow approved by a signal; the first 6 events are those recorded while it waits. */
export const expenseApprovedHistory = (input: string): string[] => [
  `workflow_started(${input})`,
  'step_started(start)',
  'awaiting_action(validate-expense)',
  'action_completed(success)',
  'step_completed(start)',
  'waiting_for_signal(approval_decision)',
  'signal_received(approval_decision)',
  'signal_matched(approval_decision)',
  'waiting_for_signal(approval_decision)',
  'step_completed(wait_for_approval)',
  'step_started(process_expense)',
  'awaiting_action(process-expense)',
  'action_completed(success)',
  'step_completed(process_expense)',
  'workflow_completed(flo.Completed)',
];
