import { describe, expect, it } from 'vitest';
import { parseCron } from '../../../src/server/workflows/cron.js';

const at = (iso: string) => Date.parse(iso);
const next = (expr: string, from: string) => new Date(parseCron(expr).next(at(from))!).toISOString();

describe('workflow cron (5 fields, UTC, day-of-month AND day-of-week)', () => {
  it('steps, ranges, lists and plain values', () => {
    expect(next('*/5 * * * *', '2024-01-15T10:30:00Z')).toBe('2024-01-15T10:35:00.000Z');
    expect(next('0 9 * * 1', '2024-01-15T10:30:00Z')).toBe('2024-01-22T09:00:00.000Z');
    expect(next('30 2 1 * *', '2024-01-15T10:30:00Z')).toBe('2024-02-01T02:30:00.000Z');
    expect(next('0 0 * * *', '2024-01-15T10:30:00Z')).toBe('2024-01-16T00:00:00.000Z');
    expect(next('15,45 8-18/2 * * *', '2024-01-15T10:50:00Z')).toBe('2024-01-15T12:15:00.000Z');
  });

  it('Sunday is 0 or 7', () => {
    expect(next('0 0 * * 7', '2024-01-15T00:00:00Z')).toBe('2024-01-21T00:00:00.000Z');
    expect(next('0 0 * * 0', '2024-01-15T00:00:00Z')).toBe('2024-01-21T00:00:00.000Z');
  });

  it('a day must match both day fields (Friday the 13th)', () => {
    expect(next('0 0 13 * 5', '2024-01-15T10:30:00Z')).toBe('2024-09-13T00:00:00.000Z');
  });

  it('fires strictly after the given instant', () => {
    expect(next('30 10 * * *', '2024-01-15T10:30:00Z')).toBe('2024-01-16T10:30:00.000Z');
  });

  it.each(['invalid', '* *', '60 * * * *', '* 24 * * *', '0 0 * * * *', '*/0 * * * *'])('refuses %s', (expr) => {
    expect(() => parseCron(expr)).toThrow();
  });
});
