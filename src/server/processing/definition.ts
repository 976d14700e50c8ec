/**
 * Processing job definitions: the YAML (or JSON) of `kind: Processing`, parsed and validated at
 * submit into plain data (`ProcessingDefinition`), which the store keeps and the runner compiles.
 * Every refusal is a `DefinitionError` whose message names the offending field
 * (`sinks[1].kv.write_mode: ...`), answered as BAD_REQUEST.
 *
 * Namespaces (Flo's rule): a job writes only into the namespace it is submitted to (a top-level
 * `namespace:` or a sink namespace that differs is refused) and may read any (sources and
 * `kv_lookup` may name another one).
 */
import { parse as parseYaml } from 'yaml';
import { ConditionError, parseCondition } from './conditions.js';

/** Refusal of a definition; the message names the field. */
export class DefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DefinitionError';
  }
}

export const DEFAULT_PARALLELISM = 1;
export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_POLL_INTERVAL_MS = 1000;
export const DEFAULT_KV_SEPARATOR = ':';
/** Most tag names one job may use (Flo's bitfield width). */
export const MAX_TAGS = 32;
const MAX_PARALLELISM = 1024;
/** KV key prefixes the server keeps for itself (a KV sink may not write under them). */
const RESERVED_KV_PREFIXES = ['_action:', '_worker:', '_sys:', '_internal:', '_flo:'];
const MAX_BATCH = 10_000;
const MAX_PARTITIONS = 1024;

export interface StreamSourceDef {
  readonly name: string;
  readonly stream: string;
  readonly namespace: string;
  /** Partitions read: a list, or `all` (resolved from the stream when polled). */
  readonly partitions: readonly number[] | 'all';
  readonly batchSize: number;
  readonly pollIntervalMs: number;
}

export type KvWriteModeDef = 'upsert' | 'if_absent' | 'versioned';

export type SinkTargetDef =
  | { readonly kind: 'stream'; readonly stream: string; readonly namespace: string }
  | {
      readonly kind: 'kv';
      readonly namespace: string;
      readonly keyPrefix: string;
      readonly separator: string;
      readonly writeMode: KvWriteModeDef;
      readonly ttlMs?: number;
    }
  | { readonly kind: 'queue'; readonly queue: string; readonly namespace: string; readonly priority: number; readonly delayMs: number };

export interface SinkDef {
  readonly name: string;
  readonly target: SinkTargetDef;
  /** Tags a record must all carry to reach this sink; empty = every record. */
  readonly match: readonly string[];
}

export type AggregateFunction = 'sum' | 'count' | 'avg' | 'min' | 'max';

export type OperatorDef =
  | { readonly type: 'passthrough'; readonly name: string }
  | { readonly type: 'filter'; readonly name: string; readonly condition: string }
  | { readonly type: 'keyby'; readonly name: string; readonly keyExpression: string }
  | { readonly type: 'map'; readonly name: string; readonly fields: ReadonlyArray<readonly [string, string]> }
  | { readonly type: 'flatmap'; readonly name: string; readonly arrayField: string; readonly elementKey?: string }
  | {
      readonly type: 'aggregate';
      readonly name: string;
      readonly fn: AggregateFunction;
      readonly field?: string;
      /** No window: a running aggregate emitted on every record. */
      readonly window?: { readonly kind: 'tumbling'; readonly sizeMs: number } | { readonly kind: 'count'; readonly size: number };
    }
  | {
      readonly type: 'kv_lookup';
      readonly name: string;
      readonly lookupKey: string;
      readonly namespace: string;
      readonly mode: 'filter' | 'enrich';
      readonly enrichField?: string;
    }
  | {
      readonly type: 'classify';
      readonly name: string;
      readonly rules: ReadonlyArray<{ readonly condition: string; readonly tag: string }>;
      readonly defaultTag?: string;
    };

export interface ProcessingDefinition {
  readonly name: string;
  readonly namespace: string;
  readonly parallelism: number;
  readonly batchSize: number;
  readonly sources: readonly StreamSourceDef[];
  readonly sinks: readonly SinkDef[];
  readonly operators: readonly OperatorDef[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (at: string, message: string): never => {
  throw new DefinitionError(`${at}: ${message}`);
};

function str(o: Obj, key: string, at: string, required: true): string;
function str(o: Obj, key: string, at: string, required?: false): string | undefined;
function str(o: Obj, key: string, at: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return required ? fail(`${at}${key}`, 'is required') : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v !== 'string') return fail(`${at}${key}`, 'must be a string');
  if (required && v.trim() === '') return fail(`${at}${key}`, 'must not be empty');
  return v;
}

function int(o: Obj, key: string, at: string, dflt: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) return fail(`${at}${key}`, `must be an integer from ${min} to ${max}`);
  return n;
}

/** Reads both spellings (`batch_size` / `batchSize`) of a key, snake case first. */
function alias(o: Obj, snake: string): Obj {
  const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  if (o[snake] === undefined && o[camel] !== undefined) return { ...o, [snake]: o[camel] };
  return o;
}

function normalise(o: Obj, keys: readonly string[]): Obj {
  return keys.reduce(alias, o);
}

function parsePartitions(v: unknown, at: string): readonly number[] | 'all' {
  if (v === undefined || v === null) return [0];
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v >= MAX_PARTITIONS) return fail(at, `must be a partition from 0 to ${MAX_PARTITIONS - 1}`);
    return [v];
  }
  if (typeof v !== 'string') return fail(at, 'must be a partition number, a range "a-b", a list "a,b" or "all"');
  const s = v.trim();
  if (s === 'all') return 'all';
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) return fail(at, `bad partition selection "${v}"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= MAX_PARTITIONS) return fail(at, `bad partition range "${part.trim()}" (0 to ${MAX_PARTITIONS - 1})`);
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}

function parseSource(raw: unknown, i: number, job: { namespace: string; batchSize: number }): StreamSourceDef {
  const at = `sources[${i}]`;
  if (!isObj(raw)) return fail(at, 'must be a mapping');
  if (raw.ts !== undefined) return fail(`${at}.ts`, 'time-series sources are not supported by the flo-rx server');
  if (!isObj(raw.stream)) return fail(`${at}.stream`, 'is required (a mapping with the stream name)');
  const s = normalise(raw.stream, ['batch_size', 'poll_interval_ms']);
  const sat = `${at}.stream.`;
  const stream = str(s, 'name', sat, true);
  return {
    name: str(raw, 'name', `${at}.`) ?? `source-${i}`,
    stream,
    namespace: str(s, 'namespace', sat) || job.namespace,
    partitions: parsePartitions(s.partitions, `${sat}partitions`),
    batchSize: int(s, 'batch_size', sat, job.batchSize, 1, MAX_BATCH),
    pollIntervalMs: int(s, 'poll_interval_ms', sat, DEFAULT_POLL_INTERVAL_MS, 1, 3_600_000),
  };
}

function sinkNamespace(o: Obj, at: string, jobNs: string): string {
  const ns = str(o, 'namespace', at) || jobNs;
  if (ns !== jobNs) fail(`${at}namespace`, `a job writes only into its own namespace ("${jobNs}"), not "${ns}"`);
  return ns;
}

function parseMatch(v: unknown, at: string): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((t, j) => {
    if (typeof t !== 'string' || t.trim() === '') return fail(`${at}[${j}]`, 'must be a tag name');
    return t;
  });
}

function parseSink(raw: unknown, i: number, jobNs: string): SinkDef {
  const at = `sinks[${i}]`;
  if (!isObj(raw)) return fail(at, 'must be a mapping');
  const name = str(raw, 'name', `${at}.`) ?? `sink-${i}`;
  const match = parseMatch(raw.match, `${at}.match`);
  const kinds = ['stream', 'kv', 'queue', 'ts'].filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) return fail(at, 'needs exactly one of stream, kv, queue');
  const kind = kinds[0];
  if (kind === 'ts') return fail(`${at}.ts`, 'time-series sinks are not supported by the flo-rx server');
  const body = raw[kind];
  if (!isObj(body)) return fail(`${at}.${kind}`, 'must be a mapping');
  const bat = `${at}.${kind}.`;
  if (kind === 'stream') {
    return { name, match, target: { kind: 'stream', stream: str(body, 'name', bat, true), namespace: sinkNamespace(body, bat, jobNs) } };
  }
  if (kind === 'kv') {
    const o = normalise(body, ['key_prefix', 'write_mode', 'ttl_ms']);
    const mode = str(o, 'write_mode', bat) ?? 'upsert';
    if (mode !== 'upsert' && mode !== 'if_absent' && mode !== 'versioned') return fail(`${bat}write_mode`, `must be upsert, if_absent or versioned, not "${mode}"`);
    const keyPrefix = str(o, 'key_prefix', bat) ?? '';
    const separator = str(o, 'separator', bat) ?? DEFAULT_KV_SEPARATOR;
    if (keyPrefix !== '') {
      const start = `${keyPrefix}${separator}`;
      const clash = RESERVED_KV_PREFIXES.find((r) => start.startsWith(r) || r.startsWith(start));
      if (clash) return fail(`${bat}key_prefix`, `keys starting with "${clash}" are reserved`);
    }
    const ttl = o.ttl_ms === undefined || o.ttl_ms === null ? undefined : int(o, 'ttl_ms', bat, 0, 1, Number.MAX_SAFE_INTEGER);
    return {
      name,
      match,
      target: {
        kind: 'kv',
        namespace: sinkNamespace(o, bat, jobNs),
        keyPrefix,
        separator,
        writeMode: mode,
        ...(ttl !== undefined ? { ttlMs: ttl } : {}),
      },
    };
  }
  const o = normalise(body, ['delay_ms']);
  return {
    name,
    match,
    target: {
      kind: 'queue',
      queue: str(o, 'name', bat, true),
      namespace: sinkNamespace(o, bat, jobNs),
      priority: int(o, 'priority', bat, 0, 0, 255),
      delayMs: int(o, 'delay_ms', bat, 0, 0, Number.MAX_SAFE_INTEGER),
    },
  };
}

function checkCondition(condition: string, at: string): void {
  try {
    parseCondition(condition);
  } catch (e) {
    if (e instanceof ConditionError) fail(at, e.message);
    throw e;
  }
}

const OPERATOR_KEYS = new Set(['type', 'name']);

function parseOperator(raw: unknown, i: number, jobNs: string): OperatorDef {
  const at = `operators[${i}]`;
  if (!isObj(raw)) return fail(at, 'must be a mapping');
  const type = str(raw, 'type', `${at}.`, true);
  const name = str(raw, 'name', `${at}.`) ?? `${type}-${i}`;
  const oat = `${at}.`;
  switch (type) {
    case 'passthrough':
      return { type, name };
    case 'filter': {
      const condition = str(raw, 'condition', oat, true);
      checkCondition(condition, `${oat}condition`);
      return { type, name, condition };
    }
    case 'keyby': {
      const o = normalise(raw, ['key_expression']);
      return { type, name, keyExpression: str(o, 'key_expression', oat, true) };
    }
    case 'map': {
      const fields: Array<[string, string]> = [];
      for (const [k, v] of Object.entries(raw)) {
        if (OPERATOR_KEYS.has(k)) continue;
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail(`${oat}${k}`, 'must be a "$." path or a constant');
        fields.push([k, String(v)]);
      }
      if (fields.length === 0) fail(at, 'map needs at least one field');
      return { type, name, fields };
    }
    case 'flatmap': {
      const o = normalise(raw, ['array_field', 'element_key']);
      const elementKey = str(o, 'element_key', oat);
      return { type, name, arrayField: str(o, 'array_field', oat, true), ...(elementKey ? { elementKey } : {}) };
    }
    case 'aggregate': {
      const o = normalise(raw, ['window_size']);
      const fn = str(o, 'function', oat, true);
      if (fn !== 'sum' && fn !== 'count' && fn !== 'avg' && fn !== 'min' && fn !== 'max') return fail(`${oat}function`, `must be sum, count, avg, min or max, not "${fn}"`);
      const field = str(o, 'field', oat);
      if (fn !== 'count' && !field) return fail(`${oat}field`, `is required for ${fn}`);
      const windowKind = str(o, 'window', oat);
      let window: Extract<OperatorDef, { type: 'aggregate' }>['window'];
      if (windowKind !== undefined) {
        const size = int(o, 'window_size', oat, 0, 1, Number.MAX_SAFE_INTEGER);
        if (size === 0) return fail(`${oat}window_size`, `is required with window ${windowKind}`);
        if (windowKind === 'tumbling') window = { kind: 'tumbling', sizeMs: size * 1000 };
        else if (windowKind === 'count') window = { kind: 'count', size };
        else return fail(`${oat}window`, `must be tumbling or count, not "${windowKind}"`);
      }
      return { type, name, fn, ...(field ? { field } : {}), ...(window ? { window } : {}) };
    }
    case 'kv_lookup': {
      const o = normalise(raw, ['lookup_key', 'enrich_field']);
      const mode = str(o, 'mode', oat) ?? 'filter';
      if (mode !== 'filter' && mode !== 'enrich') return fail(`${oat}mode`, `must be filter or enrich, not "${mode}"`);
      const enrichField = str(o, 'enrich_field', oat);
      if (mode === 'enrich' && !enrichField) return fail(`${oat}enrich_field`, 'is required in enrich mode');
      return {
        type,
        name,
        lookupKey: str(o, 'lookup_key', oat, true),
        namespace: str(o, 'namespace', oat) || jobNs,
        mode,
        ...(enrichField ? { enrichField } : {}),
      };
    }
    case 'classify': {
      const o = normalise(raw, ['default_tag']);
      if (!Array.isArray(o.rules) || o.rules.length === 0) return fail(`${oat}rules`, 'must be a non-empty list');
      const rules = o.rules.map((r, j) => {
        const rat = `${oat}rules[${j}].`;
        if (!isObj(r)) return fail(`${oat}rules[${j}]`, 'must be a mapping');
        const condition = str(r, 'condition', rat, true);
        checkCondition(condition, `${rat}condition`);
        return { condition, tag: str(r, 'tag', rat, true) };
      });
      const defaultTag = str(o, 'default_tag', oat);
      return { type, name, rules, ...(defaultTag ? { defaultTag } : {}) };
    }
    default:
      return fail(`${oat}type`, `unknown operator type "${type}" (expected filter, keyby, map, flatmap, aggregate, kv_lookup, classify or passthrough)`);
  }
}

/** Parses and validates a definition submitted to `namespace`; `DefinitionError` names the bad field. */
export function parseProcessingDefinition(text: string, namespace: string): ProcessingDefinition {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new DefinitionError(`definition is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isObj(doc)) throw new DefinitionError('definition must be a YAML mapping');
  const o = normalise(doc, ['batch_size']);
  const kind = str(o, 'kind', '', true);
  if (kind !== 'Processing') fail('kind', `must be Processing, not "${kind}"`);
  const name = str(o, 'name', '', true);
  const ns = str(o, 'namespace', '');
  if (ns !== undefined && ns !== '' && ns !== namespace) fail('namespace', `"${ns}" differs from the namespace the job is submitted to ("${namespace}")`);
  const parallelism = int(o, 'parallelism', '', DEFAULT_PARALLELISM, 1, MAX_PARALLELISM);
  const batchSize = int(o, 'batch_size', '', DEFAULT_BATCH_SIZE, 1, MAX_BATCH);
  const list = (key: string): unknown[] => {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return fail(key, 'must be a list');
    return v;
  };
  const sources = list('sources').map((s, i) => parseSource(s, i, { namespace, batchSize }));
  if (sources.length === 0) fail('sources', 'at least one source is required');
  const sinks = list('sinks').map((s, i) => parseSink(s, i, namespace));
  if (sinks.length === 0) fail('sinks', 'at least one sink is required');
  const operators = list('operators').map((op, i) => parseOperator(op, i, namespace));
  const tags = new Set<string>();
  for (const op of operators) if (op.type === 'classify') for (const t of [...op.rules.map((r) => r.tag), ...(op.defaultTag ? [op.defaultTag] : [])]) tags.add(t);
  for (const s of sinks) for (const t of s.match) tags.add(t);
  if (tags.size > MAX_TAGS) fail('operators', `at most ${MAX_TAGS} distinct tag names per job (found ${tags.size})`);
  return { name, namespace, parallelism, batchSize, sources, sinks, operators };
}
