import { describe, expect, it } from 'vitest';
import { ConditionError, parseCondition } from '../../../src/server/processing/conditions.js';
import { makeRecord } from '../../../src/server/processing/record.js';

const enc = new TextEncoder();
const rec = (value: unknown, key = '') =>
  makeRecord({ key: enc.encode(key), value: enc.encode(typeof value === 'string' ? value : JSON.stringify(value)), eventTimeMs: 0, sourceId: '1-0' });

describe('filter conditions', () => {
  const cases: Array<[string, ReturnType<typeof rec>, boolean]> = [
    ['value_contains:err', rec('an error'), true],
    ['value_contains:err', rec('fine'), false],
    ['key_contains:us', rec('x', 'eu-user'), true],
    ['key_equals:k1', rec('x', 'k1'), true],
    ['key_equals:k1', rec('x', 'k10'), false],
    ['key_prefix:user:', rec('x', 'user:7'), true],
    ['value_prefix:{', rec({ a: 1 }), true],
    ['not_empty', rec(''), false],
    ['key_not_empty', rec('x', ''), false],
    ['min_length:3', rec('abc'), true],
    ['min_length:4', rec('abc'), false],
    ['json:level=error', rec({ level: 'error' }), true],
    ['json:$.a.b=1', rec({ a: { b: 1 } }), true],
    ['json:n=1.0', rec({ n: 1 }), true],
    ['json:level!=error', rec({ level: 'warn' }), true],
    ['json:level!=error', rec({}), false],
    ['json:type^=pay', rec({ type: 'payment' }), true],
    ['json:type*=ans', rec({ type: 'transfer' }), true],
    ['json:type!^=pay', rec({ type: 'refund' }), true],
    ['json:type!*=ans', rec({ type: 'transfer' }), false],
    ['json:amount>10', rec({ amount: 11 }), true],
    ['json:amount>=11', rec({ amount: 11 }), true],
    ['json:amount<11', rec({ amount: 11 }), false],
    ['json:amount<=11', rec({ amount: 11 }), true],
    ['json:amount>10', rec({ amount: '11' }), false],
    ['json:amount>10', rec('not json'), false],
    ['json:ok=true', rec({ ok: true }), true],
    ['json:o=x', rec({ o: { x: 1 } }), false],
    ['not_empty AND json:a=1 AND key_equals:k', rec({ a: 1 }, 'k'), true],
    ['not_empty AND json:a=2', rec({ a: 1 }), false],
    ['json:a=2 OR json:a=1', rec({ a: 1 }), true],
  ];
  for (const [condition, r, expected] of cases) {
    it(`${condition} → ${expected}`, () => expect(parseCondition(condition)(r)).toBe(expected));
  }

  it.each(['', 'valeu_contains:x', 'json:', 'json:a', 'json:=1', 'min_length:x', 'json:a>b', 'a AND b OR c', Array(9).fill('not_empty').join(' AND ')])(
    'refuses %j',
    (bad) => expect(() => parseCondition(bad)).toThrow(ConditionError),
  );
});
