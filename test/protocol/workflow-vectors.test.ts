import { describe, expect, it } from 'vitest';
import {
  decodeWorkflowCancel,
  decodeWorkflowCreate,
  decodeWorkflowCreateReply,
  decodeWorkflowDisable,
  decodeWorkflowEnable,
  decodeWorkflowGetDefinition,
  decodeWorkflowGetDefinitionReply,
  decodeWorkflowHistory,
  decodeWorkflowHistoryReply,
  decodeWorkflowListDefinitions,
  decodeWorkflowListDefinitionsReply,
  decodeWorkflowListRuns,
  decodeWorkflowListRunsReply,
  decodeWorkflowSignal,
  decodeWorkflowStart,
  decodeWorkflowStartReply,
  decodeWorkflowStatus,
  decodeWorkflowStatusReply,
  encodeWorkflowCancel,
  encodeWorkflowCreate,
  encodeWorkflowCreateReply,
  encodeWorkflowDisable,
  encodeWorkflowEnable,
  encodeWorkflowGetDefinition,
  encodeWorkflowGetDefinitionReply,
  encodeWorkflowHistory,
  encodeWorkflowHistoryReply,
  encodeWorkflowListDefinitions,
  encodeWorkflowListDefinitionsReply,
  encodeWorkflowListRuns,
  encodeWorkflowListRunsReply,
  encodeWorkflowSignal,
  encodeWorkflowStart,
  encodeWorkflowStartReply,
  encodeWorkflowStatus,
  encodeWorkflowStatusReply,
  fromHex,
  fromUtf8,
  scanWorkflowDefinitionHeader,
  toHex,
  utf8,
  workflowRunStatusName,
  workflowSyncAction,
} from '../../src/protocol/index.js';
import { checkRequest, reply, vector } from '../vectors.js';

const n = (x: bigint | undefined) => (x === undefined ? null : Number(x));

describe('workflow definition vectors', () => {
  const yaml = fromUtf8(fromHex(vector('workflow_create').value_hex));

  it('workflow_create', () => {
    const v = vector('workflow_create');
    const body = checkRequest(v, encodeWorkflowCreate({ name: 'order-processing', definition: yaml }));
    expect(decodeWorkflowCreate(body)).toEqual({ name: 'order-processing', definition: utf8(yaml) });
    expect(decodeWorkflowCreateReply(reply(v))).toBe('order-processing');
    expect(toHex(encodeWorkflowCreateReply('order-processing'))).toBe(v.response.payload_hex);
  });

  it('workflow_get_definition', () => {
    const v = vector('workflow_get_definition');
    expect(decodeWorkflowGetDefinition(checkRequest(v, encodeWorkflowGetDefinition({ name: 'order-processing' })))).toEqual({
      name: 'order-processing',
    });
    expect(decodeWorkflowGetDefinitionReply(reply(v))).toBe(v.response.sdk_parsed);
    expect(toHex(encodeWorkflowGetDefinitionReply(yaml))).toBe(v.response.payload_hex);
  });

  it('workflow_get_definition_version_not_found', () => {
    const v = vector('workflow_get_definition_version_not_found');
    const body = checkRequest(v, encodeWorkflowGetDefinition({ name: 'order-processing', version: '2.0.0' }));
    expect(decodeWorkflowGetDefinition(body)).toEqual({ name: 'order-processing', version: '2.0.0' });
    expect(v.response.status).toBe(2);
  });

  it('workflow_disable / workflow_enable', () => {
    expect(decodeWorkflowDisable(checkRequest(vector('workflow_disable'), encodeWorkflowDisable({ name: 'order-processing' })))).toEqual({
      name: 'order-processing',
    });
    expect(decodeWorkflowEnable(checkRequest(vector('workflow_enable'), encodeWorkflowEnable({ name: 'order-processing' })))).toEqual({
      name: 'order-processing',
    });
  });

  describe('sync = get-definition, then create unless the stored version is the same', () => {
    const local = scanWorkflowDefinitionHeader(yaml);
    it('scans the header', () => {
      expect(local).toEqual({ name: 'order-processing', version: '1.0.0', description: 'Order pipeline' });
    });
    for (const [prefix, stored] of [
      ['workflow_sync_created', undefined],
      ['workflow_sync_updated', 'from-reply'],
    ] as const) {
      it(prefix, () => {
        const get = vector(`${prefix}_1_get_definition`);
        checkRequest(get, encodeWorkflowGetDefinition({ name: local.name }));
        const storedText = stored === undefined ? undefined : decodeWorkflowGetDefinitionReply(reply(get));
        expect(get.response.status).toBe(stored === undefined ? 2 : 0);
        const action = workflowSyncAction(local, storedText);
        expect({ ...local, action }).toEqual(get.response.sdk_parsed);
        const create = vector(`${prefix}_2_create`);
        checkRequest(create, encodeWorkflowCreate({ name: local.name, definition: yaml }));
        expect({ ...local, action }).toEqual(create.response.sdk_parsed);
        expect(toHex(encodeWorkflowCreateReply(local.name))).toBe(create.response.payload_hex);
      });
    }
    it('workflow_sync_unchanged', () => {
      const v = vector('workflow_sync_unchanged');
      checkRequest(v, encodeWorkflowGetDefinition({ name: local.name }));
      expect({ ...local, action: workflowSyncAction(local, decodeWorkflowGetDefinitionReply(reply(v))) }).toEqual(v.response.sdk_parsed);
    });
    it('scans JSON definitions and skips comments', () => {
      expect(scanWorkflowDefinitionHeader('# c\n{\n  "name": "x",\n  "version": \'2\',\n}')).toEqual({ name: 'x', version: '2', description: '' });
      expect(() => scanWorkflowDefinitionHeader('kind: Workflow\nname: x\n')).toThrow(/version/);
    });
  });

  it('workflow_list_definitions_defaults', () => {
    const v = vector('workflow_list_definitions_defaults');
    expect(decodeWorkflowListDefinitions(checkRequest(v, encodeWorkflowListDefinitions()))).toEqual({ limit: 100, cursor: '' });
    const r = decodeWorkflowListDefinitionsReply(reply(v));
    expect(r.definitions.map((d) => ({ name: d.name, version: d.version, created_at: Number(d.createdAt) }))).toEqual(
      (v.response.sdk_parsed as { example_parsed: unknown }).example_parsed,
    );
    expect(toHex(encodeWorkflowListDefinitionsReply(r))).toBe(v.response.payload_hex);
  });

  it('workflow_list_definitions_limit_cursor', () => {
    const v = vector('workflow_list_definitions_limit_cursor');
    const body = checkRequest(v, encodeWorkflowListDefinitions({ limit: 1, cursor: 'expense-approval' }));
    expect(decodeWorkflowListDefinitions(body)).toEqual({ limit: 1, cursor: 'expense-approval' });
    const r = decodeWorkflowListDefinitionsReply(reply(v));
    expect(r).toEqual({ definitions: [], hasMore: false });
    expect(toHex(encodeWorkflowListDefinitionsReply(r))).toBe(v.response.payload_hex);
  });
});

describe('workflow run vectors', () => {
  it('workflow_start (requests.json)', () => {
    const v = vector('workflow_start');
    const input = utf8('{"id":42}');
    const body = checkRequest(v, encodeWorkflowStart({ name: 'order-flow', input, version: '1.0.0', idempotencyKey: 'order-42' }));
    expect(decodeWorkflowStart(body)).toEqual({ name: 'order-flow', version: '1.0.0', idempotencyKey: 'order-42', input });
    expect(decodeWorkflowStartReply(reply(v))).toBe(v.response.sdk_parsed);
    expect(toHex(encodeWorkflowStartReply('run-0001'))).toBe(v.response.payload_hex);
  });

  it('workflow_start_defaults', () => {
    const v = vector('workflow_start_defaults');
    const input = utf8('{"orderId":"ORD-1"}');
    expect(decodeWorkflowStart(checkRequest(v, encodeWorkflowStart({ name: 'order-processing', input })))).toEqual({
      name: 'order-processing',
      version: 'latest',
      input,
    });
    expect(decodeWorkflowStartReply(reply(v))).toBe(v.response.sdk_parsed);
    expect(toHex(encodeWorkflowStartReply('wfr-1a2b3c4d'))).toBe(v.response.payload_hex);
  });

  it('workflow_start_explicit_run_id', () => {
    const v = vector('workflow_start_explicit_run_id');
    const d = decodeWorkflowStart(checkRequest(v, encodeWorkflowStart({ name: 'order-processing', runId: 'wfr-custom-1' })));
    expect(d).toEqual({ name: 'order-processing', version: 'latest', runId: 'wfr-custom-1', input: new Uint8Array(0) });
    expect(toHex(encodeWorkflowStartReply(decodeWorkflowStartReply(reply(v))))).toBe(v.response.payload_hex);
  });

  for (const name of ['workflow_status_completed_with_output', 'workflow_status_waiting_for_signal']) {
    it(name, () => {
      const v = vector(name);
      expect(decodeWorkflowStatus(checkRequest(v, encodeWorkflowStatus({ runId: v.key })))).toEqual({ runId: v.key });
      const s = decodeWorkflowStatusReply(reply(v));
      expect({
        run_id: s.runId,
        workflow: s.workflow,
        version: s.version,
        status: workflowRunStatusName(s.status),
        current_step: s.currentStep,
        input: fromUtf8(s.input),
        created_at: n(s.createdAt),
        started_at: n(s.startedAt),
        completed_at: n(s.completedAt),
        wait_signal: s.waitSignal ?? null,
        output: s.output ? fromUtf8(s.output) : null,
      }).toEqual(v.response.sdk_parsed);
      expect(toHex(encodeWorkflowStatusReply(s))).toBe(v.response.payload_hex);
    });
  }

  it('workflow_status_missing_has_output: decoded as what the bytes say (docs/protocol-decisions.md #37)', () => {
    const v = vector('workflow_status_missing_has_output');
    checkRequest(v, encodeWorkflowStatus({ runId: v.key }));
    const s = decodeWorkflowStatusReply(reply(v));
    expect(s.output).toBeUndefined();
    expect(s.waitSignal).toBe('approval_decision');
    // our server always writes the 11th field
    expect(toHex(encodeWorkflowStatusReply(s))).toBe(v.response.payload_hex + '00');
  });

  it('workflow_signal', () => {
    const v = vector('workflow_signal');
    const req = { runId: 'wfr-2b3c4d5e', signal: 'approval_decision', payload: utf8('{"approved":true}') };
    expect(decodeWorkflowSignal(checkRequest(v, encodeWorkflowSignal(req)))).toEqual(req);
  });

  it('workflow_cancel', () => {
    const v = vector('workflow_cancel');
    expect(decodeWorkflowCancel(checkRequest(v, encodeWorkflowCancel({ runId: 'wfr-2b3c4d5e' })))).toEqual({ runId: 'wfr-2b3c4d5e' });
  });

  it('workflow_history', () => {
    const v = vector('workflow_history');
    expect(decodeWorkflowHistory(checkRequest(v, encodeWorkflowHistory({ runId: 'wfr-1a2b3c4d' })))).toEqual({ runId: 'wfr-1a2b3c4d', limit: 100 });
    const h = decodeWorkflowHistoryReply(reply(v));
    expect(h.events.map((e) => ({ type: e.type, detail: e.detail, timestamp: Number(e.timestamp) }))).toEqual(
      (v.response.sdk_parsed as { example_parsed: unknown }).example_parsed,
    );
    expect(h.hasMore).toBe(false);
    expect(toHex(encodeWorkflowHistoryReply(h))).toBe(v.response.payload_hex);
  });

  it('workflow_list_runs_filters', () => {
    const v = vector('workflow_list_runs_filters');
    const req = { workflow: 'order-processing', limit: 5, status: 'completed', cursor: 'wfr-9', search: 'ORD' };
    expect(decodeWorkflowListRuns(checkRequest(v, encodeWorkflowListRuns(req)))).toEqual(req);
    const r = decodeWorkflowListRunsReply(reply(v));
    expect(r.runs.map((x) => ({ run_id: x.runId, workflow: x.workflow, status: x.status, created_at: Number(x.createdAt) }))).toEqual(
      (v.response.sdk_parsed as { example_parsed: unknown }).example_parsed,
    );
    expect(r.hasMore).toBe(true);
    expect(r.cursor).toBe('wfr-1a2b3c4d');
    expect(toHex(encodeWorkflowListRunsReply(r))).toBe(v.response.payload_hex);
  });

  it('workflow_list_runs_defaults', () => {
    const v = vector('workflow_list_runs_defaults');
    expect(decodeWorkflowListRuns(checkRequest(v, encodeWorkflowListRuns()))).toEqual({ workflow: '', limit: 100, status: '', cursor: '', search: '' });
    const r = decodeWorkflowListRunsReply(reply(v));
    expect(r).toEqual({ runs: [], hasMore: false });
    expect(toHex(encodeWorkflowListRunsReply(r))).toBe(v.response.payload_hex);
  });
});
