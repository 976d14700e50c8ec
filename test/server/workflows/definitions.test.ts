import { describe, expect, it } from 'vitest';
import {
  decodeWorkflowListDefinitionsReply,
  decodeWorkflowListRunsReply,
  encodeWorkflowCreate,
  encodeWorkflowDisable,
  encodeWorkflowEnable,
  encodeWorkflowGetDefinition,
  encodeWorkflowListDefinitions,
  encodeWorkflowListRuns,
  encodeWorkflowStart,
  fromUtf8,
  Op,
  Status,
  toHex,
  utf8,
  WorkflowRunStatus,
} from '../../../src/protocol/index.js';
import { parseWorkflowDefinition } from '../../../src/server/workflows/index.js';
import { createHarness } from '../actions/harness.js';
import { EXPENSE_YAML, ORDER_YAML } from './fixtures.js';
import { start, status } from './worker.js';

const NS = 'example';

describe('definition validation', () => {
  const bad: [string, string, RegExp][] = [
    ['not yaml', 'kind: [', /invalid workflow definition: cannot parse/],
    ['wrong kind', 'kind: Job\nname: x\nversion: "1"\nstart: { run: "@actions/a" }', /kind must be "Workflow"/],
    ['no version', 'kind: Workflow\nname: x\nstart: { run: "@actions/a" }', /version is required/],
    ['no start', 'kind: Workflow\nname: x\nversion: "1"', /start is required/],
    ['bad target', 'kind: Workflow\nname: x\nversion: "1"\nstart: { run: "actions/a" }', /step "start": run: unknown target "actions\/a"/],
    [
      'unknown transition target',
      'kind: Workflow\nname: x\nversion: "1"\nstart:\n  run: "@actions/a"\n  transitions: { success: nowhere }',
      /step "start": transitions.success: unknown target "nowhere"/,
    ],
    [
      'bad onTimeout',
      'kind: Workflow\nname: x\nversion: "1"\nstart:\n  waitForSignal: { type: go, onTimeout: later }',
      /step "start": waitForSignal.onTimeout: unknown target "later"/,
    ],
    ['wait without type', 'kind: Workflow\nname: x\nversion: "1"\nstart:\n  waitForSignal: { timeoutMs: 5 }', /step "start": waitForSignal: type is required/],
    ['step without run', 'kind: Workflow\nname: x\nversion: "1"\nstart: { run: "@actions/a" }\nsteps:\n  b: { transitions: {} }', /step "b": needs "run"/],
    ['duplicate start', 'kind: Workflow\nname: x\nversion: "1"\nstart: { run: "@actions/a" }\nsteps:\n  start: { run: "@actions/b" }', /step "start": duplicate step name/],
    [
      'terminal reuses a built-in',
      'kind: Workflow\nname: x\nversion: "1"\nstart: { run: "@actions/a" }\nterminals:\n  flo.Failed: { status: failed }',
      /terminal "flo.Failed": reuses a built-in/,
    ],
    [
      'plan without executors',
      'kind: Workflow\nname: x\nversion: "1"\nplans: { p: { executors: [] } }\nstart: { run: "@plan/p" }',
      /plan "p": executors: at least one executor/,
    ],
    ['bad retry', 'kind: Workflow\nname: x\nversion: "1"\nstart:\n  run: "@actions/a"\n  retry: { maxAttempts: -1 }', /step "start": retry: maxAttempts must be/],
    ['bad idempotency', 'kind: Workflow\nname: x\nversion: "1"\nidempotency: always\nstart: { run: "@actions/a" }', /idempotency: unknown mode/],
  ];
  for (const [what, text, msg] of bad) {
    it(`refuses ${what} with BAD_REQUEST naming the step and field`, async () => {
      const h = createHarness();
      const r = await h.call(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'x', definition: text }));
      expect(r.status).toBe(Status.BadRequest);
      expect(r.text).toMatch(msg);
    });
  }

  it('parses the example definitions (JSON too), ignoring unknown keys', () => {
    const d = parseWorkflowDefinition(ORDER_YAML);
    expect([...d.steps.keys()]).toEqual(['start', 'charge', 'fulfill', 'notify', 'rejected', 'manual_review']);
    expect(d.plans.get('payment')?.executors.map((e) => [e.name, e.action, e.retry?.maxAttempts, e.breaker?.cooldownMs])).toEqual([
      ['stripe', 'process-payment', 3, 30000],
      ['paypal', 'process-payment-fallback', 2, undefined],
    ]);
    const j = parseWorkflowDefinition(JSON.stringify({ kind: 'Workflow', name: 'j', version: '2', start: { run: '@workflow/child:1.0', transitions: { success: 'flo.Completed' } } }));
    expect(j.steps.get('start')).toMatchObject({ kind: 'run', target: { kind: 'workflow', name: 'child' } });
  });

  it('empty key or value is refused', async () => {
    const h = createHarness();
    expect((await h.call(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: '', definition: EXPENSE_YAML }))).text).toBe('workflow name is required as key');
    expect((await h.call(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'x', definition: '' }))).status).toBe(Status.BadRequest);
    expect((await h.call(Op.WorkflowCreate, 'bad:ns', encodeWorkflowCreate({ name: 'x', definition: EXPENSE_YAML }))).text).toBe('invalid namespace name');
  });
});

describe('definition operations', () => {
  it('get-definition returns the stored bytes; a different version is NOT_FOUND; create replaces', async () => {
    const h = createHarness();
    const text = EXPENSE_YAML + '# trailing comment\n';
    expect(fromUtf8(await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'expense-approval', definition: text })))).toBe('expense-approval');
    expect(toHex(await h.okCall(Op.WorkflowGetDefinition, NS, encodeWorkflowGetDefinition({ name: 'expense-approval' })))).toBe(toHex(utf8(text)));
    expect(toHex(await h.okCall(Op.WorkflowGetDefinition, NS, encodeWorkflowGetDefinition({ name: 'expense-approval', version: '1.0.0' })))).toBe(toHex(utf8(text)));
    expect(await h.call(Op.WorkflowGetDefinition, NS, encodeWorkflowGetDefinition({ name: 'expense-approval', version: '2.0.0' }))).toMatchObject({ status: 2, text: '' });
    expect((await h.call(Op.WorkflowGetDefinition, NS, encodeWorkflowGetDefinition({ name: 'nope' }))).status).toBe(2);
    expect((await h.call(Op.WorkflowGetDefinition, 'other', encodeWorkflowGetDefinition({ name: 'expense-approval' }))).status).toBe(2);
    await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'expense-approval', definition: EXPENSE_YAML.replace('1.0.0', '1.1.0') }));
    expect(fromUtf8(await h.okCall(Op.WorkflowGetDefinition, NS, encodeWorkflowGetDefinition({ name: 'expense-approval' })))).toContain('1.1.0');
  });

  it('list definitions: sorted by name, limit and cursor', async () => {
    const h = createHarness();
    await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'order-processing', definition: ORDER_YAML }));
    h.clock.advance(1000);
    await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'expense-approval', definition: EXPENSE_YAML }));
    const all = decodeWorkflowListDefinitionsReply(await h.okCall(Op.WorkflowListDefinitions, NS, encodeWorkflowListDefinitions()));
    expect(all.definitions.map((d) => [d.name, d.version])).toEqual([
      ['expense-approval', '1.0.0'],
      ['order-processing', '1.4.0'],
    ]);
    expect(all.definitions[1].createdAt + 1000n).toBe(all.definitions[0].createdAt);
    const p1 = decodeWorkflowListDefinitionsReply(await h.okCall(Op.WorkflowListDefinitions, NS, encodeWorkflowListDefinitions({ limit: 1 })));
    expect(p1).toMatchObject({ hasMore: true, cursor: 'expense-approval' });
    const p2 = decodeWorkflowListDefinitionsReply(await h.okCall(Op.WorkflowListDefinitions, NS, encodeWorkflowListDefinitions({ limit: 1, cursor: p1.cursor })));
    expect(p2.definitions.map((d) => d.name)).toEqual(['order-processing']);
    expect(p2.hasMore).toBe(false);
    // the JS SDK's empty value
    expect(decodeWorkflowListDefinitionsReply(await h.okCall(Op.WorkflowListDefinitions, NS, {})).definitions).toHaveLength(2);
  });

  it('disable refuses START with "workflow is disabled"; enable restores it', async () => {
    const h = createHarness();
    await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'expense-approval', definition: EXPENSE_YAML }));
    await h.okCall(Op.WorkflowDisable, NS, encodeWorkflowDisable({ name: 'expense-approval' }));
    expect(await h.call(Op.WorkflowStart, NS, encodeWorkflowStart({ name: 'expense-approval' }))).toMatchObject({
      status: Status.BadRequest,
      text: 'workflow is disabled',
    });
    expect((await h.call(Op.WorkflowDisable, NS, encodeWorkflowDisable({ name: 'nope' }))).status).toBe(Status.NotFound);
    await h.okCall(Op.WorkflowEnable, NS, encodeWorkflowEnable({ name: 'expense-approval' }));
    await h.okCall(Op.WorkflowEnable, NS, encodeWorkflowEnable({ name: 'nope' }));
    expect((await h.call(Op.WorkflowStart, NS, encodeWorkflowStart({ name: 'expense-approval' }))).status).toBe(Status.OK);
  });
});

describe('START', () => {
  it('unknown → NOT_FOUND; idempotency key → the same run; explicit run id used verbatim, reused → CONFLICT', async () => {
    const h = createHarness();
    expect(await h.call(Op.WorkflowStart, NS, encodeWorkflowStart({ name: 'nope' }))).toMatchObject({ status: Status.NotFound, text: 'workflow not found' });
    await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'expense-approval', definition: EXPENSE_YAML }));
    const a = await start(h, NS, 'expense-approval', '{}', { idempotencyKey: 'k1' });
    expect(await start(h, NS, 'expense-approval', '{"x":1}', { idempotencyKey: 'k1' })).toBe(a);
    expect(await start(h, NS, 'expense-approval', '{}', { runId: 'wfr-custom-1' })).toBe('wfr-custom-1');
    expect(await h.call(Op.WorkflowStart, NS, encodeWorkflowStart({ name: 'expense-approval', runId: 'wfr-custom-1' }))).toMatchObject({
      status: Status.Conflict,
      text: 'run id already exists',
    });
    const s = await status(h, NS, 'wfr-custom-1');
    expect(fromUtf8(s.input)).toBe('{}'); // empty input becomes {}
    expect(s.version).toBe('latest');
    expect(s.startedAt).toBe(s.createdAt);
    expect(await h.call(Op.WorkflowStart, NS, { key: utf8('expense-approval'), value: new Uint8Array([9, 0, 1]) })).toMatchObject({
      status: Status.BadRequest,
      text: 'malformed start request',
    });
  });

  it('idempotency: required needs a key', async () => {
    const h = createHarness();
    const yaml = EXPENSE_YAML.replace('version: "1.0.0"', 'version: "1.0.0"\nidempotency: required');
    await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'e', definition: yaml }));
    expect((await h.call(Op.WorkflowStart, NS, encodeWorkflowStart({ name: 'e' }))).text).toBe('idempotency key is required for this workflow');
    expect((await h.call(Op.WorkflowStart, NS, encodeWorkflowStart({ name: 'e', idempotencyKey: 'k' }))).status).toBe(Status.OK);
  });
});

describe('LIST_RUNS (docs/protocol-decisions.md #35)', () => {
  it('newest first, lowercase status filter (case-insensitive), cursor pages, search', async () => {
    const h = createHarness();
    await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'expense-approval', definition: EXPENSE_YAML }));
    await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'order-processing', definition: ORDER_YAML }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await start(h, NS, 'expense-approval', `{"n":${i}}`));
      h.clock.advance(10);
    }
    const order = await start(h, NS, 'order-processing', '{"orderId":"ORD-77"}'); // fails at once: actions not registered
    const list = async (o: Parameters<typeof encodeWorkflowListRuns>[0]) => decodeWorkflowListRunsReply(await h.okCall(Op.WorkflowListRuns, NS, encodeWorkflowListRuns(o)));
    expect((await list({})).runs.map((r) => r.runId)).toEqual([order, ...ids.slice().reverse()]);
    expect((await list({ workflow: 'expense-approval' })).runs.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    expect((await list({ status: 'FAILED' })).runs).toHaveLength(4);
    expect((await list({ status: 'waiting' })).runs).toHaveLength(0);
    const p1 = await list({ limit: 2 });
    expect(p1.hasMore).toBe(true);
    expect(p1.cursor).toBe(ids[2]);
    const p2 = await list({ limit: 2, cursor: p1.cursor });
    expect(p2.runs.map((r) => r.runId)).toEqual([ids[1], ids[0]]);
    expect(p2.hasMore).toBe(false);
    expect((await list({ search: 'ord-77' })).runs.map((r) => r.runId)).toEqual([order]);
    expect((await list({ search: '"n":1' })).runs.map((r) => r.runId)).toEqual([ids[1]]);
    expect(decodeWorkflowListRunsReply(await h.okCall(Op.WorkflowListRuns, 'elsewhere', encodeWorkflowListRuns({})))).toEqual({ runs: [], hasMore: false });
    expect((await status(h, NS, ids[0])).status).toBe(WorkflowRunStatus.Failed);
  });
});
