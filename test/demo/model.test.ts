import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from '../../src/demo/args.js';
import {
  expectationOf,
  foldProfile,
  isFlaky,
  isPoison,
  MAX_DELIVERIES,
  orderEvents,
  tasksFor,
  FRAUD_CHECK_CENTS,
  type CustomerProfile,
} from '../../src/demo/model.js';

describe('demo model', () => {
  it('generates the same events every time', () => {
    expect(orderEvents(50)).toEqual(orderEvents(50));
    expect(orderEvents(3).map((e) => e.orderId)).toEqual([1, 2, 3]);
  });

  it('gives every order a receipt, and big ones a fraud check', () => {
    for (const e of orderEvents(200)) {
      const kinds = tasksFor(e).map((t) => t.kind);
      expect(kinds).toEqual(e.cents >= FRAUD_CHECK_CENTS ? ['receipt', 'fraud-check'] : ['receipt']);
    }
  });

  it('expects poison receipts in the DLQ and counts the failed deliveries', () => {
    const events = orderEvents(200);
    const x = expectationOf(events);
    const tasks = events.flatMap(tasksFor);
    expect(x.tasks).toBe(tasks.length);
    expect(x.deadLettered).toEqual(['receipt:97', 'receipt:194']);
    expect(x.tasksDone).toBe(tasks.length - 2);
    expect(x.failedDeliveries).toBe(tasks.filter(isFlaky).length + 2 * MAX_DELIVERIES);
    expect(tasks.filter(isPoison).map((t) => t.id)).toEqual(x.deadLettered);
    let orders = 0;
    for (const p of x.profiles.values()) orders += p.orders;
    expect(orders).toBe(200);
  });

  it('folds a customer profile the same in any order (what the concurrent projector relies on)', () => {
    const events = orderEvents(60).map((e) => ({ ...e, customer: 'cust-001' }));
    fc.assert(
      fc.property(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), (shuffled) => {
        const fold = (list: typeof events) => list.reduce<CustomerProfile | null>((p, e) => foldProfile(p, e), null);
        expect(fold(shuffled)).toEqual(fold(events));
      }),
      { numRuns: 50 },
    );
  });

  it('parses its options', () => {
    expect(parseDemoArgs([])).toEqual({ kind: 'run', options: { events: 2000, quiet: false } });
    expect(parseDemoArgs(['--events', '200', '--quiet'])).toEqual({ kind: 'run', options: { events: 200, quiet: true } });
    expect(parseDemoArgs(['--events=7', '-q'])).toEqual({ kind: 'run', options: { events: 7, quiet: true } });
    expect(parseDemoArgs(['-h'])).toEqual({ kind: 'help' });
    expect(parseDemoArgs(['--events'])).toMatchObject({ kind: 'error' });
    expect(parseDemoArgs(['--events', '1.5'])).toMatchObject({ kind: 'error' });
    expect(parseDemoArgs(['--events', '2000000'])).toMatchObject({ kind: 'error' });
    expect(parseDemoArgs(['--quiet=yes'])).toMatchObject({ kind: 'error' });
    expect(parseDemoArgs(['serve'])).toMatchObject({ kind: 'error', message: 'unexpected argument for demo: serve' });
  });
});
