/**
 * Workflow definitions: YAML or JSON text → a validated model.
 * Errors name the step and the field, e.g. `step "charge": transitions.success: unknown target "x"`.
 * Unknown keys are ignored; both camelCase and snake_case spellings are accepted.
 */
import { parse as parseYaml } from 'yaml';
import { parseScheduleDef, type ScheduleDef } from './schedule.js';
import { parseTriggerDef, type TriggerDef } from './trigger.js';

export type Backoff = 'constant' | 'linear' | 'exponential' | 'exponential_jitter';
export type TerminalStatus = 'completed' | 'failed' | 'cancelled' | 'timed_out';

export interface RetryPolicy {
  /** Extra attempts after the first failure (Flo's counting; total = maxAttempts + 1). */
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export interface PollPolicy {
  readonly initialDelayMs: number;
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export type Target =
  | { readonly kind: 'action'; readonly name: string }
  | { readonly kind: 'plan'; readonly name: string }
  | { readonly kind: 'workflow'; readonly name: string };

export interface RunStep {
  readonly kind: 'run';
  readonly name: string;
  readonly target: Target;
  readonly inputMapping?: string;
  readonly retry?: RetryPolicy;
  readonly poll?: PollPolicy;
  readonly transitions: ReadonlyMap<string, string>;
}

export interface WaitStep {
  readonly kind: 'wait';
  readonly name: string;
  readonly signal: string;
  readonly timeoutMs?: number;
  readonly onTimeout?: string;
  readonly transitions: ReadonlyMap<string, string>;
}

export type Step = RunStep | WaitStep;

export interface Breaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  readonly halfOpenMaxCalls: number;
}

export interface Executor {
  readonly name: string;
  readonly action: string;
  readonly priority: number;
  readonly retry?: RetryPolicy;
  readonly breaker?: Breaker;
}

export interface Plan {
  readonly name: string;
  readonly selection: 'static-order' | 'round-robin' | 'random' | 'health-weighted';
  readonly executors: readonly Executor[];
}

export interface SearchAttribute {
  readonly name: string;
  readonly type: string;
  readonly from: string;
}

export interface WorkflowDefinition {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly idempotency: 'none' | 'optional' | 'required';
  readonly searchAttributes: readonly SearchAttribute[];
  readonly plans: ReadonlyMap<string, Plan>;
  /** Every step, the start step under the label `start`. */
  readonly steps: ReadonlyMap<string, Step>;
  /** Custom terminals (built-ins are resolved by `terminalStatus`). */
  readonly terminals: ReadonlyMap<string, TerminalStatus>;
  readonly output?: string;
  /** Starts runs on a cron or interval schedule. */
  readonly schedule?: ScheduleDef;
  /** Starts runs from records appended to a stream. */
  readonly trigger?: TriggerDef;
}

export const START_STEP = 'start';

export const BUILTIN_TERMINALS: ReadonlyMap<string, TerminalStatus> = new Map([
  ['flo.Completed', 'completed'],
  ['flo.Failed', 'failed'],
  ['flo.Cancelled', 'cancelled'],
  ['flo.TimedOut', 'timed_out'],
]);

export function terminalStatus(def: WorkflowDefinition, target: string): TerminalStatus | undefined {
  return BUILTIN_TERMINALS.get(target) ?? def.terminals.get(target);
}

/** A definition the server refuses; `message` is what BAD_REQUEST carries. */
export class DefinitionError extends Error {
  override name = 'DefinitionError';
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function pick(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined) return o[k];
  return undefined;
}

function fail(where: string, msg: string): never {
  throw new DefinitionError(`invalid workflow definition: ${where ? `${where}: ` : ''}${msg}`);
}

function str(o: Obj, where: string, field: string, ...keys: string[]): string | undefined {
  const v = pick(o, ...(keys.length ? keys : [field]));
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(where, `${field} must be a string`);
}

function int(o: Obj, where: string, field: string, dflt: number, ...keys: string[]): number {
  const v = pick(o, ...(keys.length ? keys : [field]));
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return fail(where, `${field} must be a non-negative number`);
  return Math.floor(n);
}

function backoff(o: Obj, where: string): Backoff {
  const v = str(o, where, 'backoff');
  if (v === undefined) return 'exponential';
  const s = v.toLowerCase();
  if (s.startsWith('exp-jitter') || s === 'exponential_jitter' || s === 'exponential-jitter') return 'exponential_jitter';
  if (s.startsWith('exp')) return 'exponential';
  if (s.startsWith('linear')) return 'linear';
  if (s.startsWith('constant')) return 'constant';
  return fail(where, `backoff: unknown backoff "${v}"`);
}

function retryPolicy(v: unknown, where: string): RetryPolicy | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) return fail(where, 'retry must be an object');
  const w = `${where}: retry`;
  return {
    maxAttempts: int(v, w, 'maxAttempts', 3, 'max', 'maxAttempts', 'max_attempts'),
    backoff: backoff(v, w),
    initialDelayMs: int(v, w, 'initialDelayMs', 1000, 'initialDelayMs', 'initial_delay_ms'),
    maxDelayMs: int(v, w, 'maxDelayMs', 30000, 'maxDelayMs', 'max_delay_ms'),
  };
}

function pollPolicy(v: unknown, where: string): PollPolicy | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) return fail(where, 'poll must be an object');
  const w = `${where}: poll`;
  return {
    initialDelayMs: int(v, w, 'initialDelayMs', 0, 'initialDelayMs', 'initial_delay_ms'),
    maxAttempts: int(v, w, 'maxAttempts', 10, 'maxAttempts', 'max_attempts', 'max'),
    backoff: backoff(v, w),
    baseDelayMs: int(v, w, 'baseDelayMs', 1000, 'baseDelayMs', 'base_delay_ms'),
    maxDelayMs: int(v, w, 'maxDelayMs', 60000, 'maxDelayMs', 'max_delay_ms'),
  };
}

function parseTarget(run: string, where: string): Target {
  const m = /^@(actions|plan|workflow)\/(.+)$/.exec(run);
  if (!m) return fail(where, `run: unknown target "${run}" (expected @actions/, @plan/ or @workflow/)`);
  if (m[1] === 'actions') return { kind: 'action', name: m[2] };
  if (m[1] === 'plan') return { kind: 'plan', name: m[2] };
  return { kind: 'workflow', name: m[2].split(':')[0] }; // the version suffix is dropped
}

function transitions(v: unknown, where: string): Map<string, string> {
  const out = new Map<string, string>();
  if (v === undefined || v === null) return out;
  if (!isObj(v)) return fail(where, 'transitions must be a map of outcome to target');
  for (const [k, t] of Object.entries(v)) {
    if (typeof t !== 'string' || t === '') fail(where, `transitions.${k}: target must be a step or terminal name`);
    out.set(k, t);
  }
  return out;
}

function parseStep(label: string, v: unknown): Step {
  const where = `step "${label}"`;
  if (!isObj(v)) return fail(where, 'must be an object');
  const wait = v.waitForSignal ?? v.wait_for_signal;
  if (isObj(wait)) {
    const w = `${where}: waitForSignal`;
    const signal = str(wait, w, 'type');
    if (!signal) return fail(w, 'type is required');
    const timeout = pick(wait, 'timeoutMs', 'timeout_ms');
    const onTimeout = str(wait, w, 'onTimeout', 'onTimeout', 'on_timeout');
    return {
      kind: 'wait',
      name: label,
      signal,
      transitions: transitions(v.transitions, where),
      ...(timeout !== undefined ? { timeoutMs: int(wait, w, 'timeoutMs', 0, 'timeoutMs', 'timeout_ms') } : {}),
      ...(onTimeout ? { onTimeout } : {}),
    };
  }
  if (typeof v.run === 'string') {
    const inputMapping = pick(v, 'inputMapping', 'input_mapping');
    let mapping: string | undefined;
    if (typeof inputMapping === 'string') mapping = inputMapping;
    else if (inputMapping !== undefined && inputMapping !== null) mapping = JSON.stringify(inputMapping);
    const retry = retryPolicy(v.retry, where);
    const poll = pollPolicy(v.poll, where);
    return {
      kind: 'run',
      name: label,
      target: parseTarget(v.run, where),
      transitions: transitions(v.transitions, where),
      ...(mapping !== undefined ? { inputMapping: mapping } : {}),
      ...(retry ? { retry } : {}),
      ...(poll ? { poll } : {}),
    };
  }
  return fail(where, 'needs "run" (a target) or "waitForSignal" (an object)');
}

function parsePlan(name: string, v: unknown): Plan {
  const where = `plan "${name}"`;
  if (!isObj(v)) return fail(where, 'must be an object');
  const sel = (str(v, where, 'selection') ?? 'static-order').replace(/_/g, '-').toLowerCase();
  const selections = ['static-order', 'round-robin', 'random', 'health-weighted'] as const;
  const selection = selections.find((s) => s === sel);
  if (!selection) return fail(where, `selection: unknown selection "${sel}"`);
  if (!Array.isArray(v.executors) || v.executors.length === 0) return fail(where, 'executors: at least one executor is required');
  const executors = v.executors.map((e: unknown, i: number): Executor => {
    const w = `${where}: executors[${i}]`;
    if (!isObj(e)) return fail(w, 'must be an object');
    const ename = str(e, w, 'name');
    const run = str(e, w, 'run');
    if (!ename) return fail(w, 'name is required');
    if (!run) return fail(w, 'run is required');
    const b = e.breaker;
    const retry = retryPolicy(e.retry, w);
    return {
      name: ename,
      action: run.startsWith('@actions/') ? run.slice('@actions/'.length) : run,
      priority: int(e, w, 'priority', 100),
      ...(retry ? { retry } : {}),
      ...(isObj(b)
        ? {
            breaker: {
              failureThreshold: int(b, `${w}: breaker`, 'failureThreshold', 5, 'failureThreshold', 'failure_threshold'),
              cooldownMs: int(b, `${w}: breaker`, 'cooldownMs', 60000, 'cooldownMs', 'cooldown_ms'),
              halfOpenMaxCalls: int(b, `${w}: breaker`, 'halfOpenMaxCalls', 2, 'halfOpenMaxCalls', 'half_open_max_calls'),
            },
          }
        : {}),
    };
  });
  return { name, selection, executors };
}

function parseText(text: string): unknown {
  const t = text.trim();
  if (t.startsWith('{')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      // fall through to YAML (a superset of JSON) for a better message
    }
  }
  try {
    return parseYaml(text) as unknown;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return fail('', `cannot parse YAML/JSON: ${msg}`);
  }
}

/** Parses and validates; throws `DefinitionError` with the first problem. */
export function parseWorkflowDefinition(text: string): WorkflowDefinition {
  const doc = parseText(text);
  if (!isObj(doc)) return fail('', 'the document must be a map');
  if (doc.kind !== 'Workflow') return fail('', 'kind must be "Workflow"');
  const name = str(doc, '', 'name');
  if (!name) return fail('', 'name is required');
  const version = str(doc, '', 'version');
  if (!version) return fail('', 'version is required');
  const idem = (str(doc, '', 'idempotency') ?? 'none').toLowerCase();
  if (idem !== 'none' && idem !== 'optional' && idem !== 'required') return fail('', `idempotency: unknown mode "${idem}"`);
  if (doc.start === undefined) return fail('', 'start is required');

  const steps = new Map<string, Step>();
  steps.set(START_STEP, parseStep(START_STEP, doc.start));
  if (doc.steps !== undefined && doc.steps !== null) {
    if (!isObj(doc.steps)) return fail('', 'steps must be a map of step name to step');
    for (const [label, s] of Object.entries(doc.steps)) {
      if (steps.has(label)) return fail(`step "${label}"`, 'duplicate step name');
      steps.set(label, parseStep(label, s));
    }
  }

  const terminals = new Map<string, TerminalStatus>();
  if (isObj(doc.terminals)) {
    for (const [tname, t] of Object.entries(doc.terminals)) {
      if (BUILTIN_TERMINALS.has(tname)) return fail(`terminal "${tname}"`, 'reuses a built-in terminal name');
      if (steps.has(tname)) return fail(`terminal "${tname}"`, 'has the name of a step');
      const s = isObj(t) && typeof t.status === 'string' ? t.status.toLowerCase() : '';
      terminals.set(tname, s === 'completed' || s === 'failed' || s === 'cancelled' || s === 'timed_out' ? s : 'failed');
    }
  }

  const plans = new Map<string, Plan>();
  if (isObj(doc.plans)) for (const [pname, p] of Object.entries(doc.plans)) plans.set(pname, parsePlan(pname, p));

  const known = (t: string) => steps.has(t) || BUILTIN_TERMINALS.has(t) || terminals.has(t);
  for (const step of steps.values()) {
    const where = `step "${step.name}"`;
    for (const [outcome, t] of step.transitions) if (!known(t)) fail(where, `transitions.${outcome}: unknown target "${t}" (neither a step nor a terminal)`);
    if (step.kind === 'wait' && step.onTimeout !== undefined && !known(step.onTimeout)) {
      fail(where, `waitForSignal.onTimeout: unknown target "${step.onTimeout}" (neither a step nor a terminal)`);
    }
  }

  const searchAttributes: SearchAttribute[] = [];
  const sa = doc.searchAttributes ?? doc.search_attributes;
  if (Array.isArray(sa)) {
    for (const a of sa) {
      if (isObj(a) && typeof a.name === 'string' && typeof a.from === 'string') {
        searchAttributes.push({ name: a.name, from: a.from, type: typeof a.type === 'string' ? a.type : 'string' });
      }
    }
  }

  const output = typeof doc.output === 'string' ? doc.output : isObj(doc.output) ? JSON.stringify(doc.output) : undefined;
  const schedule = parseScheduleDef(doc.schedule, (msg) => fail('', msg));
  const trigger = parseTriggerDef(doc.trigger, (msg) => fail('', msg));
  return {
    name,
    version,
    description: str(doc, '', 'description') ?? '',
    idempotency: idem,
    searchAttributes,
    plans,
    steps,
    terminals,
    ...(output !== undefined ? { output } : {}),
    ...(schedule ? { schedule } : {}),
    ...(trigger ? { trigger } : {}),
  };
}
