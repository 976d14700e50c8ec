import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../examples/action-worker.js';

afterEach(() => vi.unstubAllEnvs());

describe('examples/action-worker.ts', () => {
  it('runs against an embedded server: completes, fails without retry, retries, then drains', async () => {
    vi.stubEnv('FLO_ADDR', '');
    const lines: string[] = [];
    const { runs, events } = await main((l) => lines.push(l));
    expect(runs['process-order']).toMatchObject({ status: 'completed', retryCount: 0 });
    expect(runs['process-order']!.data()).toEqual({ orderId: 'ORD-1', status: 'done' });
    expect(runs['validate-payment']).toMatchObject({ status: 'failed', error: 'amount must be positive' });
    expect(runs['send-notification']).toMatchObject({ status: 'completed', retryCount: 1 });
    expect(runs['health-check']!.data()).toEqual({ healthy: true });
    expect(events[0]).toBe('registered');
    expect(events.slice(-2)).toEqual(['draining', 'deregistered']);
    expect(lines).toContain('send-notification: completed output={"sent":true,"attempt":2} retries=1');
  });
});
