import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as P from '../../src/protocol/index.js';
import { ProtocolError, type OpPayload, type RequestBody } from '../../src/protocol/index.js';

const EMPTY = new Uint8Array(0);
const toBody = (p: OpPayload, namespace = 'ns'): RequestBody =>
  P.decodeRequestBody(P.encodeRequestBody({ namespace: P.utf8(namespace), key: p.key ?? EMPTY, value: p.value ?? EMPTY, options: p.options ?? EMPTY }));

const str = fc.string({ maxLength: 24 });
const name = fc.string({ minLength: 1, maxLength: 24 });
const bytes = fc.uint8Array({ maxLength: 64 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const strip = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Every decoder ends in a value or a ProtocolError. */
function total(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}

const randomBody = fc.record({ namespace: bytes, key: bytes, value: fc.uint8Array({ maxLength: 200 }), options: bytes });

/** `toEqual`'s equality (absent and undefined fields alike) as a boolean. */
function looselyEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}

describe('action + worker codecs: random bytes never crash a decoder', () => {
  const requestDecoders = [
    P.decodeActionRegister,
    P.decodeActionInvoke,
    P.decodeActionStatus,
    P.decodeActionList,
    P.decodeActionListRuns,
    P.decodeActionDelete,
    P.decodeActionAwait,
    P.decodeActionComplete,
    P.decodeActionFail,
    P.decodeActionTouch,
    P.decodeWorkerRegister,
    P.decodeWorkerHeartbeat,
    P.decodeWorkerDeregister,
    P.decodeWorkerDrain,
    P.decodeWorkerInfo,
    P.decodeWorkerList,
  ];
  const replyDecoders = [
    P.decodeActionRegisterReply,
    P.decodeActionInvokeReply,
    P.decodeActionStatusReply,
    P.decodeActionListReply,
    P.decodeActionListRunsReply,
    P.decodeActionAwaitReply,
    P.decodeWorkerHeartbeatReply,
    P.decodeWorkerListReply,
    P.decodeWorkerInfoReply,
  ];
  it('request decoders', () => {
    fc.assert(fc.property(randomBody, (b) => requestDecoders.forEach((d) => total(() => d(b)))), { numRuns: 500 });
  });
  it('reply decoders', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => replyDecoders.forEach((d) => total(() => d(b)))), { numRuns: 1000 });
  });
});

describe('action codecs round trip', () => {
  it('register', () => {
    fc.assert(
      fc.property(name, fc.integer({ min: 0, max: 255 }), u32, u32, opt(str), (n, t, timeout, retries, description) => {
        const req = strip({ name: n, actionType: t, timeoutMs: timeout, maxRetries: retries, description });
        expect(P.decodeActionRegister(toBody(P.encodeActionRegister(req)))).toEqual(req);
      }),
    );
  });
  it('invoke', () => {
    fc.assert(
      fc.property(name, bytes, fc.integer({ min: 0, max: 255 }), i64, opt(str), opt(str), (n, input, priority, delayMs, idem, labels) => {
        const req = strip({ name: n, input, priority, delayMs, idempotencyKey: idem, labels });
        expect(P.decodeActionInvoke(toBody(P.encodeActionInvoke(req)))).toEqual(req);
      }),
    );
  });
  it('invoke reply', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), opt(bytes), (runId, output) => {
        const r = strip({ runId, output });
        expect(P.decodeActionInvokeReply(P.encodeActionInvokeReply(r))).toEqual(r);
      }),
    );
  });
  it('status reply in both profiles', () => {
    const arb = fc.record(
      {
        runId: str,
        status: fc.integer({ min: 0, max: 5 }),
        createdAt: i64,
        startedAt: i64,
        completedAt: i64,
        output: bytes,
        errorMessage: str,
        retryCount: u32,
      },
      { requiredKeys: ['runId', 'status', 'createdAt', 'retryCount'] },
    );
    fc.assert(
      fc.property(arb, fc.constantFrom('go' as const, 'flo' as const), (s, profile) => {
        const bytes = P.encodeActionStatusReply(s, profile);
        const decoded = P.decodeActionStatusReply(bytes);
        // Rare flo-profile replies also read exactly as a go-profile (u16 run id) reply, and the
        // decoder tries u16 first: then the bytes must be exactly that other reply's encoding. The
        // two readings can differ in any field (with an empty run id, only in the later ones), so
        // the whole decoded reply is compared, not just the run id.
        if (profile === 'flo' && !looselyEqual(decoded, s)) expect(P.encodeActionStatusReply(decoded, 'go')).toEqual(bytes);
        else expect(decoded).toEqual(s);
      }),
    );
  });
  it('list and list runs replies', () => {
    const info = fc.record({ name: str, actionType: fc.integer({ min: 0, max: 255 }), version: u32, enabled: fc.boolean() });
    fc.assert(
      fc.property(fc.array(info, { maxLength: 5 }), fc.boolean(), (actions, hasMore) => {
        expect(P.decodeActionListReply(P.encodeActionListReply({ actions, hasMore }))).toEqual({ actions, hasMore });
      }),
    );
    const run = fc.record(
      { runId: str, action: str, status: fc.integer({ min: 0, max: 5 }), createdAt: i64, startedAt: i64, completedAt: i64 },
      { requiredKeys: ['runId', 'action', 'status', 'createdAt'] },
    );
    fc.assert(fc.property(fc.array(run, { maxLength: 5 }), (runs) => {
      expect(P.decodeActionListRunsReply(P.encodeActionListRunsReply(runs))).toEqual(runs);
    }));
  });
});

describe('worker codecs round trip', () => {
  const caller = fc.record({ runId: str, workflowName: str });
  it('await request and task assignment', () => {
    fc.assert(
      fc.property(str, fc.array(str, { maxLength: 5 }), opt(u32), opt(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), (workerId, actions, blockMs, timeoutMs) => {
        const req = strip({ workerId, actions, blockMs, timeoutMs });
        expect(P.decodeActionAwait(toBody(P.encodeActionAwait(req)))).toEqual(req);
      }),
    );
    fc.assert(
      fc.property(str, str, i64, u32, opt(caller), bytes, (taskId, taskType, createdAt, attempt, c, payload) => {
        const t = strip({ taskId, taskType, createdAt, attempt, caller: c, payload });
        expect(P.decodeActionAwaitReply(P.encodeActionAwaitReply(t))).toEqual(t);
      }),
    );
  });
  it('complete / fail / touch', () => {
    fc.assert(
      fc.property(str, str, str, name, bytes, fc.boolean(), u32, (workerId, action, taskId, outcome, result, retry, extendMs) => {
        expect(P.decodeActionComplete(toBody(P.encodeActionComplete({ workerId, action, taskId, outcome, result })))).toEqual({
          workerId,
          action,
          taskId,
          outcome,
          result,
        });
        expect(P.decodeActionFail(toBody(P.encodeActionFail({ workerId, action, taskId, retry, error: outcome })))).toEqual({
          workerId,
          action,
          taskId,
          retry,
          error: outcome,
        });
        expect(P.decodeActionTouch(toBody(P.encodeActionTouch({ workerId, action, taskId, extendMs })))).toEqual({ workerId, action, taskId, extendMs });
      }),
    );
  });
  it('register and records', () => {
    const proc = fc.record({ name: str, kind: fc.integer({ min: 0, max: 1 }) });
    fc.assert(
      fc.property(str, fc.integer({ min: 0, max: 1 }), u32, fc.array(proc, { maxLength: 4 }), opt(str), opt(str), (workerId, workerType, maxConcurrency, processes, metadata, machineId) => {
        const req = strip({ workerId, workerType, maxConcurrency, processes, metadata, machineId });
        expect(P.decodeWorkerRegister(toBody(P.encodeWorkerRegister(req)))).toEqual(req);
      }),
    );
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const rec = fc.record(
      {
        workerId: str,
        workerType: fc.integer({ min: 0, max: 1 }),
        status: fc.integer({ min: 0, max: 3 }),
        tasksCompleted: u64,
        tasksFailed: u64,
        currentLoad: u32,
        maxConcurrency: u32,
        registeredAt: i64,
        lastHeartbeat: i64,
        processes: fc.array(fc.record({ name: str, kind: fc.integer({ min: 0, max: 1 }), runCount: u64, failCount: u64, lastRunAt: i64 }), { maxLength: 3 }),
        metadata: str,
        machineId: str,
      },
      { requiredKeys: ['workerId', 'workerType', 'status', 'tasksCompleted', 'tasksFailed', 'currentLoad', 'maxConcurrency', 'registeredAt', 'lastHeartbeat', 'processes'] },
    );
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 3 }), (recs) => {
        expect(P.decodeWorkerListReply(P.encodeWorkerListReply(recs))).toEqual(recs);
        for (const r of recs) expect(P.decodeWorkerInfoReply(P.encodeWorkerInfoReply(r))).toEqual(r);
      }),
    );
  });
});
