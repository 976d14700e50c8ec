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
