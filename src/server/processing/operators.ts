/**
 * A job's operator chain, compiled from its definition: each operator turns one record into zero
 * or more (filter, keyby, map, flatmap, kv_lookup, classify, passthrough, aggregate). Records go
 * through the operators in declaration order; what an operator emits goes on to the next one.
 *
 * Aggregate state lives in the job's `AggregateState` (plain numbers keyed by operator index and
 * group key), owned by the store, so savepoints copy it and a restored job carries on from it.
 * Tumbling windows close when the job's watermark (the highest event time seen) reaches their end:
 * the closed window's result is emitted then, through the rest of the chain.
 */
import type { KvPort } from '../ports.js';
import { parseCondition, type Predicate } from './conditions.js';
import type { AggregateFunction, OperatorDef } from './definition.js';
import { fieldText, isPath, parsePath, readPath, type JsonPath } from './json-path.js';
import { makeRecord, withRecord, type ProcessingRecord } from './record.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One group's running aggregate. `window` is the tumbling window index it belongs to. */
export interface AggregateCell {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  window?: number;
}

/** Operator index → group key → cell. */
export type AggregateState = Record<string, Record<string, AggregateCell>>;

export interface CompiledChain {
  /** Runs one source record through the chain. */
  process(rec: ProcessingRecord): ProcessingRecord[];
  /** Closes the tumbling windows that end at or before `watermarkMs`; emits their results through the rest of the chain. */
  advance(watermarkMs: number): ProcessingRecord[];
}

interface Stage {
  process(rec: ProcessingRecord): ProcessingRecord[];
  advance?(watermarkMs: number): ProcessingRecord[];
}

const json = (value: unknown) => encoder.encode(JSON.stringify(value));

function result(fn: AggregateFunction, c: AggregateCell): number | null {
  switch (fn) {
    case 'count':
      return c.count;
    case 'sum':
      return c.sum;
    case 'avg':
      return c.count === 0 ? null : c.sum / c.count;
    case 'min':
      return c.min;
    default:
      return c.max;
  }
}

function aggregateStage(op: Extract<OperatorDef, { type: 'aggregate' }>, cells: Record<string, AggregateCell>): Stage {
  const field: JsonPath | undefined = op.field !== undefined ? parsePath(op.field) : undefined;
  const emit = (groupKey: string, c: AggregateCell, eventTimeMs: number, sourceId: string, tags: ReadonlySet<string>) =>
    makeRecord({ key: encoder.encode(groupKey), value: json({ key: groupKey, value: result(op.fn, c), count: c.count }), eventTimeMs, sourceId, tags });
  const add = (c: AggregateCell, x: number | undefined) => {
    c.count++;
    if (x === undefined) return;
    c.sum += x;
    c.min = c.min === null ? x : Math.min(c.min, x);
    c.max = c.max === null ? x : Math.max(c.max, x);
  };
  const fresh = (window?: number): AggregateCell => ({ count: 0, sum: 0, min: null, max: null, ...(window !== undefined ? { window } : {}) });
  const window = op.window;
  return {
    process(rec) {
      let x: number | undefined;
      if (field) {
        const v = readPath(rec.json(), field);
        if (typeof v === 'number' && Number.isFinite(v)) x = v;
        else if (op.fn !== 'count') return []; // nothing to aggregate
      }
      const groupKey = decoder.decode(rec.key);
      if (window?.kind === 'tumbling') {
        const index = Math.floor(rec.eventTimeMs / window.sizeMs);
        const out: ProcessingRecord[] = [];
        const open = cells[groupKey] as AggregateCell | undefined;
        if (open?.window !== undefined && open.window > index) return []; // late for a closed window: dropped
        if (open && open.window !== undefined && open.window < index) {
          out.push(emit(groupKey, open, (open.window + 1) * window.sizeMs - 1, rec.sourceId, rec.tags));
        }
        const c = open && open.window === index ? open : (cells[groupKey] = fresh(index));
        add(c, x);
        return out;
      }
      const c = (cells[groupKey] ??= fresh());
      add(c, x);
      if (window?.kind === 'count') {
        if (c.count < window.size) return [];
        delete cells[groupKey];
      }
      return [emit(groupKey, c, rec.eventTimeMs, rec.sourceId, rec.tags)];
    },
    advance(watermarkMs) {
      if (window?.kind !== 'tumbling') return [];
      const out: ProcessingRecord[] = [];
      for (const [groupKey, c] of Object.entries(cells)) {
        const end = ((c.window ?? 0) + 1) * window.sizeMs;
        if (end > watermarkMs) continue;
        out.push(emit(groupKey, c, end - 1, '', new Set()));
        delete cells[groupKey];
      }
      return out;
    },
  };
}

/** `account:${$.id}` → resolved text, or undefined when a placeholder is missing. */
function template(text: string): (value: unknown) => string | undefined {
  const parts: Array<string | JsonPath> = [];
  const re = /\$\{([^}]*)\}/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    parts.push(text.slice(last, m.index), parsePath(m[1]));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return (value) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = readPath(value, p);
        if (v === undefined || v === null) return undefined;
        out += fieldText(v);
      }
    }
    return out;
  };
}

function stage(op: OperatorDef, state: AggregateState, index: number, kv: KvPort): Stage {
  switch (op.type) {
    case 'passthrough':
      return { process: (r) => [r] };
    case 'filter': {
      const keep: Predicate = parseCondition(op.condition);
      return { process: (r) => (keep(r) ? [r] : []) };
    }
    case 'keyby': {
      const path = parsePath(op.keyExpression);
      return {
        process(r) {
          const v = readPath(r.json(), path);
          return [v === undefined || v === null ? r : withRecord(r, { key: encoder.encode(fieldText(v)) })];
        },
      };
    }
    case 'map': {
      const fields = op.fields.map(([k, v]) => [k, isPath(v) ? parsePath(v) : v] as const);
      return {
        process(r) {
          const input = r.json();
          const out: Record<string, unknown> = {};
          for (const [k, v] of fields) out[k] = typeof v === 'string' ? v : (readPath(input, v) ?? null);
          return [withRecord(r, { value: json(out) })];
        },
      };
    }
    case 'flatmap': {
      const arrayPath = parsePath(op.arrayField);
      const keyPath = op.elementKey !== undefined ? parsePath(op.elementKey) : undefined;
      return {
        process(r) {
          const arr = readPath(r.json(), arrayPath);
          if (!Array.isArray(arr)) return [];
          return arr.map((el: unknown) => {
            const k = keyPath ? readPath(el, keyPath) : undefined;
            return withRecord(r, { value: json(el), ...(k !== undefined && k !== null ? { key: encoder.encode(fieldText(k)) } : {}) });
          });
        },
      };
    }
    case 'aggregate':
      return aggregateStage(op, (state[index] ??= {}));
    case 'kv_lookup': {
      const keyOf = template(op.lookupKey);
      return {
        process(r) {
          const key = keyOf(r.json());
          const found = key === undefined ? undefined : kv.get(op.namespace, encoder.encode(key));
          if (op.mode === 'filter') return found ? [r] : [];
          const obj = r.json();
          if (!found || obj === null || typeof obj !== 'object' || Array.isArray(obj)) return [r];
          let attached: unknown;
          const text = decoder.decode(found);
          try {
            attached = JSON.parse(text);
          } catch {
            attached = text;
          }
          return [withRecord(r, { value: json({ ...(obj as Record<string, unknown>), [op.enrichField ?? 'enrichment']: attached }) })];
        },
      };
    }
    case 'classify': {
      const rules = op.rules.map((rule) => ({ test: parseCondition(rule.condition), tag: rule.tag }));
      return {
        process(r) {
          const tags = new Set(r.tags);
          let matched = false;
          for (const rule of rules) {
            if (rule.test(r)) {
              tags.add(rule.tag);
              matched = true;
            }
          }
          if (!matched && op.defaultTag !== undefined) tags.add(op.defaultTag);
          return [withRecord(r, { tags })];
        },
      };
    }
  }
}

/** Compiles the operators of a job over its aggregate state (mutated in place) and a KV reader. */
export function compileChain(operators: readonly OperatorDef[], state: AggregateState, kv: KvPort): CompiledChain {
  const stages = operators.map((op, i) => stage(op, state, i, kv));
  const from = (start: number, recs: ProcessingRecord[]): ProcessingRecord[] => {
    let current = recs;
    for (let i = start; i < stages.length && current.length > 0; i++) {
      const next: ProcessingRecord[] = [];
      for (const r of current) for (const o of stages[i].process(r)) next.push(o);
      current = next;
    }
    return current;
  };
  return {
    process: (rec) => from(0, [rec]),
    advance(watermarkMs) {
      const out: ProcessingRecord[] = [];
      stages.forEach((s, i) => {
        const closed = s.advance?.(watermarkMs) ?? [];
        if (closed.length) out.push(...from(i + 1, closed));
      });
      return out;
    },
  };
}
