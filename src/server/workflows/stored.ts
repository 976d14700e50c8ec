/**
 * Workflow definitions and runs as the storage layer keeps them: plain data (the parsed definition
 * is parsed again from its text; a run's timer handle is dropped, its `wake` kept; maps become arrays).
 */
import { fromUtf8 } from '../../protocol/index.js';
import { parseWorkflowDefinition } from './definition.js';
import type { DefinitionRecord, WorkflowRun } from './engine.js';

type StoredDefinition = Omit<DefinitionRecord, 'def'>;
type StoredRun = Omit<WorkflowRun, 'timer' | 'stepOutputs' | 'signals' | 'history'> & {
  readonly stepOutputs: Array<[string, { output: string; outcome: string }]>;
  readonly signals: WorkflowRun['signals'];
  readonly history: WorkflowRun['history'];
};

export function toStoredDefinition(d: DefinitionRecord): StoredDefinition {
  const { def: _parsed, ...rest } = d;
  return { ...rest };
}

export function fromStoredDefinition(stored: unknown): DefinitionRecord {
  const d = stored as StoredDefinition;
  return { ...d, def: parseWorkflowDefinition(fromUtf8(d.text)) };
}

export function toStoredRun(run: WorkflowRun): StoredRun {
  const { timer: _timer, stepOutputs, signals, history, plan, ...rest } = run;
  return {
    ...rest,
    ...(plan ? { plan: { ...plan, order: [...plan.order] } } : {}),
    stepOutputs: [...stepOutputs].map(([k, v]) => [k, { ...v }]),
    signals: signals.map((s) => ({ ...s })),
    history: [...history],
  };
}

export function fromStoredRun(stored: unknown): WorkflowRun {
  const r = stored as StoredRun;
  return {
    ...r,
    ...(r.plan ? { plan: { ...r.plan, order: [...r.plan.order] } } : {}),
    stepOutputs: new Map(r.stepOutputs.map(([k, v]) => [k, { ...v }])),
    signals: r.signals.map((s) => ({ ...s })),
    history: [...r.history],
  };
}
