/**
 * Filter and classify conditions: the record-level tests (`value_contains:`, `key_equals:`, ...),
 * JSON field comparisons (`json:<path><op><value>`) and up to 8 of them joined by ` AND ` or ` OR `
 * (never both). Parsed once at submit (a bad condition is refused there, naming where it is) into a
 * predicate over a record.
 *
 * A JSON comparison matches only a record whose value is JSON with the field present and
 * comparable: a missing field, a non-JSON value or a field of another type matches nothing, not even
 * `!=` / `!*=`. Numeric comparisons need a number on the right.
 */
import { parsePath, readPath, type JsonPath } from './json-path.js';
import type { ProcessingRecord } from './record.js';

export type Predicate = (rec: ProcessingRecord) => boolean;

const MAX_TERMS = 8;
const decoder = new TextDecoder();
const text = (b: Uint8Array) => decoder.decode(b);

/** Thrown for a condition that is none of the grammar's forms. */
export class ConditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConditionError';
  }
}

type JsonOp = '=' | '!=' | '^=' | '*=' | '!^=' | '!*=' | '>' | '>=' | '<' | '<=';
// Longest first, so `!^=` is not read as `!` + `^=` and `>=` not as `>`.
const JSON_OPS: readonly JsonOp[] = ['!^=', '!*=', '!=', '^=', '*=', '>=', '<=', '=', '>', '<'];

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function jsonTerm(expr: string, whole: string): Predicate {
  let at = -1;
  let op: JsonOp | undefined;
  for (let i = 1; i < expr.length && op === undefined; i++) {
    for (const candidate of JSON_OPS) {
      if (expr.startsWith(candidate, i)) {
        at = i;
        op = candidate;
        break;
      }
    }
  }
  if (op === undefined) throw new ConditionError(`bad condition "${whole}": json condition needs an operator`);
  const path: JsonPath = parsePath(expr.slice(0, at));
  if (path.length === 0) throw new ConditionError(`bad condition "${whole}": json condition needs a field`);
  const right = expr.slice(at + op.length);
  const numeric = op === '>' || op === '>=' || op === '<' || op === '<=';
  const rightNumber = Number(right);
  if (numeric && (right.trim() === '' || !Number.isFinite(rightNumber))) {
    throw new ConditionError(`bad condition "${whole}": ${op} needs a number on the right`);
  }
  return (rec) => {
    const field = readPath(rec.json(), path);
    if (field === undefined || field === null) return false;
    if (numeric) {
      if (typeof field !== 'number') return false;
      switch (op) {
        case '>':
          return field > rightNumber;
        case '>=':
          return field >= rightNumber;
        case '<':
          return field < rightNumber;
        default:
          return field <= rightNumber;
      }
    }
    const left = scalarText(field);
    if (left === undefined) return false;
    switch (op) {
      case '=':
        return typeof field === 'number' ? field === Number(right) && right.trim() !== '' : left === right;
      case '!=':
        return typeof field === 'number' ? !(field === Number(right) && right.trim() !== '') : left !== right;
      case '^=':
        return left.startsWith(right);
      case '*=':
        return left.includes(right);
      case '!^=':
        return !left.startsWith(right);
      default:
        return !left.includes(right);
    }
  };
}

function term(expr: string, whole: string): Predicate {
  const prefixed = (prefix: string) => (expr.startsWith(prefix) ? expr.slice(prefix.length) : undefined);
  let arg: string | undefined;
  if ((arg = prefixed('value_contains:')) !== undefined) {
    const a = arg;
    return (r) => text(r.value).includes(a);
  }
  if ((arg = prefixed('key_contains:')) !== undefined) {
    const a = arg;
    return (r) => text(r.key).includes(a);
  }
  if ((arg = prefixed('key_equals:')) !== undefined) {
    const a = arg;
    return (r) => text(r.key) === a;
  }
  if ((arg = prefixed('key_prefix:')) !== undefined) {
    const a = arg;
    return (r) => text(r.key).startsWith(a);
  }
  if ((arg = prefixed('value_prefix:')) !== undefined) {
    const a = arg;
    return (r) => text(r.value).startsWith(a);
  }
  if ((arg = prefixed('min_length:')) !== undefined) {
    const n = Number(arg);
    if (!/^\d+$/.test(arg.trim()) || !Number.isSafeInteger(n)) throw new ConditionError(`bad condition "${whole}": min_length needs a whole number`);
    return (r) => r.value.length >= n;
  }
  if ((arg = prefixed('json:')) !== undefined) return jsonTerm(arg, whole);
  if (expr === 'not_empty') return (r) => r.value.length > 0;
  if (expr === 'key_not_empty') return (r) => r.key.length > 0;
  throw new ConditionError(`bad condition "${whole}": unknown condition`);
}

/** Parses a condition into a predicate; `ConditionError` names the condition when it is not one. */
export function parseCondition(condition: string): Predicate {
  const whole = condition;
  const trimmed = condition.trim();
  if (trimmed === '') throw new ConditionError('bad condition "": empty condition');
  const hasAnd = trimmed.includes(' AND ');
  const hasOr = trimmed.includes(' OR ');
  if (hasAnd && hasOr) throw new ConditionError(`bad condition "${whole}": AND and OR cannot be mixed in one condition`);
  const parts = hasAnd ? trimmed.split(' AND ') : hasOr ? trimmed.split(' OR ') : [trimmed];
  if (parts.length > MAX_TERMS) throw new ConditionError(`bad condition "${whole}": at most ${MAX_TERMS} terms`);
  const terms = parts.map((p) => term(p.trim(), whole));
  if (terms.length === 1) return terms[0];
  return hasAnd ? (r) => terms.every((t) => t(r)) : (r) => terms.some((t) => t(r));
}
