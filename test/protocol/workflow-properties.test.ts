import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as P from '../../src/protocol/index.js';
import { ProtocolError, type OpPayload, type RequestBody } from '../../src/protocol/index.js';

const EMPTY = new Uint8Array(0);
const toBody = (p: OpPayload): RequestBody =>
  P.decodeRequestBody(P.encodeRequestBody({ namespace: P.utf8('ns'), key: p.key ?? EMPTY, value: p.value ?? EMPTY, options: p.options ?? EMPTY }));
const str = fc.string({ maxLength: 24 });
const name = fc.string({ minLength: 1, maxLength: 24 });
const bytes = fc.uint8Array({ maxLength: 64 });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const strip = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

function total(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}

describe('workflow + processing codecs: random bytes never crash a decoder', () => {
  const requestDecoders = [
    P.decodeWorkflowCreate,
    P.decodeWorkflowGetDefinition,
    P.decodeWorkflowStart,
    P.decodeWorkflowSignal,
    P.decodeWorkflowCancel,
    P.decodeWorkflowStatus,
    P.decodeWorkflowHistory,
    P.decodeWorkflowListRuns,
    P.decodeWorkflowDisable,
    P.decodeWorkflowEnable,
    P.decodeWorkflowListDefinitions,
    P.decodeProcessingSubmit,
    P.decodeProcessingStop,
    P.decodeProcessingCancel,
    P.decodeProcessingStatus,
    P.decodeProcessingList,
    P.decodeProcessingSavepoint,
    P.decodeProcessingRestore,
    P.decodeProcessingRescale,
  ];
  const replyDecoders = [
    P.decodeWorkflowCreateReply,
    P.decodeWorkflowGetDefinitionReply,
    P.decodeWorkflowStartReply,
    P.decodeWorkflowStatusReply,
    P.decodeWorkflowHistoryReply,
    P.decodeWorkflowListRunsReply,
    P.decodeWorkflowListDefinitionsReply,
    P.decodeProcessingSubmitReply,
    P.decodeProcessingStatusReply,
    P.decodeProcessingListReply,
    P.decodeProcessingSavepointReply,
    (b: Uint8Array) => P.scanWorkflowDefinitionHeader(b),
  ];
  it('request decoders', () => {
    const body = fc.record({ namespace: bytes, key: bytes, value: fc.uint8Array({ maxLength: 200 }), options: bytes });
    fc.assert(fc.property(body, (b) => requestDecoders.forEach((d) => total(() => d(b)))), { numRuns: 500 });
  });
  it('reply decoders', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => replyDecoders.forEach((d) => total(() => d(b)))), { numRuns: 1000 });
  });
});

describe('workflow codecs round trip', () => {
  it('start', () => {
    fc.assert(
      fc.property(name, bytes, name, opt(str), opt(str), (n, input, version, idempotencyKey, runId) => {
        const req = strip({ name: n, input, version, idempotencyKey, runId });
        expect(P.decodeWorkflowStart(toBody(P.encodeWorkflowStart(req)))).toEqual(req);
      }),
    );
  });
  it('signal, cancel, history, list runs, list definitions', () => {
    fc.assert(
      fc.property(str, str, bytes, fc.integer({ min: 1, max: 0xffffffff }), str, str, str, (runId, signal, payload, limit, status, cursor, search) => {
        expect(P.decodeWorkflowSignal(toBody(P.encodeWorkflowSignal({ runId, signal, payload })))).toEqual({ runId, signal, payload });
        expect(P.decodeWorkflowHistory(toBody(P.encodeWorkflowHistory({ runId, limit })))).toEqual({ runId, limit });
        expect(P.decodeWorkflowListRuns(toBody(P.encodeWorkflowListRuns({ workflow: runId, limit, status, cursor, search })))).toEqual({
          workflow: runId,
          limit,
          status,
          cursor,
          search,
        });
        expect(P.decodeWorkflowListDefinitions(toBody(P.encodeWorkflowListDefinitions({ limit, cursor })))).toEqual({ limit, cursor });
        const cancel = strip({ runId, reason: signal || undefined });
        expect(P.decodeWorkflowCancel(toBody(P.encodeWorkflowCancel(cancel)))).toEqual(cancel);
      }),
    );
  });
  it('status reply', () => {
    const arb = fc.record(
      {
        runId: str,
        workflow: str,
        version: str,
        status: fc.integer({ min: 0, max: 6 }),
        currentStep: str,
        input: bytes,
        createdAt: i64,
        startedAt: i64,
        completedAt: i64,
        waitSignal: str,
        output: bytes,
      },
      { requiredKeys: ['runId', 'workflow', 'version', 'status', 'currentStep', 'input', 'createdAt'] },
    );
    fc.assert(fc.property(arb, (s) => {
      expect(P.decodeWorkflowStatusReply(P.encodeWorkflowStatusReply(s))).toEqual(s);
    }));
  });
  it('history, list runs and list definitions replies', () => {
    const ev = fc.record({ type: str, detail: str, timestamp: i64 });
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 6 }), fc.boolean(), opt(name), (events, hasMore, cursor) => {
        const h = strip({ events, hasMore, cursor });
        expect(P.decodeWorkflowHistoryReply(P.encodeWorkflowHistoryReply(h))).toEqual(h);
        const runs = events.map((e) => ({ runId: e.type, workflow: e.detail, status: 'running', createdAt: e.timestamp }));
        const lr = strip({ runs, hasMore, cursor });
        expect(P.decodeWorkflowListRunsReply(P.encodeWorkflowListRunsReply(lr))).toEqual(lr);
        const definitions = events.map((e) => ({ name: e.type, version: e.detail, createdAt: e.timestamp }));
        const ld = strip({ definitions, hasMore, cursor });
        expect(P.decodeWorkflowListDefinitionsReply(P.encodeWorkflowListDefinitionsReply(ld))).toEqual(ld);
      }),
    );
  });
});
