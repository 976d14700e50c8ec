/**
 * Workflow definitions shaped like the Go SDK examples, as YAML text:
 * run by `examples/workflow.ts` and used by the workflow tests (`test/server/workflows/fixtures.ts`).
 */

/** Order processing: validate, charge through a payment plan (stripe, then paypal), fulfill (or wait for a review), notify. */
export const ORDER_WORKFLOW = `kind: Workflow
name: order-processing
version: "1.4.0"
description: Order pipeline with a payment failover plan

searchAttributes:
  - name: customer_id
    type: string
    from: $.input.customerId
  - name: order_amount
    type: number
    from: $.input.amount
  - name: order_id
    from: $.input.orderId

plans:
  payment:
    selection: health-weighted
    executors:
      - name: stripe
        run: "@actions/process-payment"
        retry:
          maxAttempts: 3
          backoffMs: 250
        breaker:
          failureThreshold: 5
          cooldownMs: 30000
      - name: paypal
        run: "@actions/process-payment-fallback"
        retry:
          maxAttempts: 2

start:
  run: "@actions/validate-payment"
  transitions:
    success: charge
    failure: rejected

steps:
  charge:
    run: "@plan/payment"
    transitions:
      success: fulfill
      failure: rejected
  fulfill:
    run: "@actions/fulfill-order"
    transitions:
      success: notify
      failure: manual_review
  notify:
    run: "@actions/send-confirmation"
    transitions:
      success: flo.Completed
      failure: flo.Failed
  rejected:
    run: "@actions/send-rejection"
    transitions:
      success: flo.Completed
      failure: flo.Failed
  manual_review:
    waitForSignal:
      type: review_decision
      timeoutMs: 86400000
      onTimeout: flo.Failed
    transitions:
      success: fulfill
      failure: rejected
`;

/** Expense approval: validate, wait (24 h at most) for an `approval_decision` signal, process. */
export const EXPENSE_WORKFLOW = `kind: Workflow
name: expense-approval
version: "1.0.0"
description: Expense approval with a human decision

start:
  run: "@actions/validate-expense"
  transitions:
    success: wait_for_approval
    failure: flo.Failed

steps:
  wait_for_approval:
    waitForSignal:
      type: approval_decision
      timeoutMs: 86400000
      onTimeout: flo.Failed
    transitions:
      success: process_expense
  process_expense:
    run: "@actions/process-expense"
    transitions:
      success: flo.Completed
`;
