import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../examples/workflow.js';

afterEach(() => vi.unstubAllEnvs());

describe('examples/workflow.ts', () => {
  it('syncs, runs the order workflow and a signal-approved expense run against an embedded server', async () => {
    vi.stubEnv('FLO_ADDR', '');
    const lines: string[] = [];
    const r = await main((l) => lines.push(l));
    expect(lines.slice(1, 4)).toEqual([
      'order-processing v1.4.0 — created',
      'expense-approval v1.0.0 — created',
      'order-processing v1.4.0 — unchanged',
    ]);
    expect(r.order).toMatchObject({ status: 'completed', currentStep: 'notify' });
    expect(r.orderHistory).toHaveLength(19);
    expect(r.orderHistory.at(-1)).toBe('[workflow_completed] flo.Completed');
    expect(r.expense).toMatchObject({ status: 'completed', currentStep: 'process_expense' });
    expect(r.expenseHistory).toContain('[signal_matched] approval_decision');
    expect(lines).toContain('Final: status=completed step=process_expense');
  });
});
