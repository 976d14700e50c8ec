import { describe, expect, it } from 'vitest';
import {
  decodeActionDelete,
  decodeActionInvoke,
  decodeActionInvokeReply,
  decodeActionRegister,
  decodeActionRegisterReply,
  decodeActionStatus,
  decodeActionStatusReply,
  encodeActionDelete,
  encodeActionInvoke,
  encodeActionInvokeReply,
  encodeActionRegister,
  encodeActionRegisterReply,
  encodeActionStatus,
  encodeActionStatusReply,
  fromUtf8,
  toHex,
  utf8,
} from '../../src/protocol/index.js';
import { checkRequest, reply, vector } from '../vectors.js';


describe('action vectors', () => {
  it('action_register_defaults', () => {
    const v = vector('action_register_defaults');
    const body = checkRequest(v, encodeActionRegister({ name: 'process-image' }));
    expect(decodeActionRegister(body)).toEqual({ name: 'process-image', actionType: 0, timeoutMs: 30000, maxRetries: 3 });
    expect(decodeActionRegisterReply(reply(v))).toBe('process-image');
    expect(toHex(encodeActionRegisterReply('process-image'))).toBe(v.response.payload_hex);
  });

  it('action_register_options', () => {
    const v = vector('action_register_options');
    const req = { name: 'process-image', description: 'Resize images', timeoutMs: 60000, maxRetries: 5 };
    const body = checkRequest(v, encodeActionRegister(req));
    expect(decodeActionRegister(body)).toEqual({ ...req, actionType: 0 });
    expect(toHex(encodeActionRegisterReply('process-image'))).toBe(v.response.payload_hex);
  });

  it('action_invoke_idempotency', () => {
    const v = vector('action_invoke_idempotency');
    const input = utf8('{"url":"a.png"}');
    const body = checkRequest(v, encodeActionInvoke({ name: 'process-image', input, priority: 5, delayMs: 1000, idempotencyKey: 'img-42' }));
    const d = decodeActionInvoke(body);
    expect(d).toEqual({ name: 'process-image', input, priority: 5, delayMs: 1000n, idempotencyKey: 'img-42' });
    const r = decodeActionInvokeReply(reply(v));
    expect({ run_id: r.runId }).toEqual(v.response.sdk_parsed);
    expect(toHex(encodeActionInvokeReply({ runId: 'act-5f3e2d1c' }))).toBe(v.response.payload_hex);
  });

  it('action_invoke_defaults_legacy_reply', () => {
    const v = vector('action_invoke_defaults_legacy_reply');
    const body = checkRequest(v, encodeActionInvoke({ name: 'process-image', input: utf8('{}') }));
    expect(decodeActionInvoke(body)).toEqual({ name: 'process-image', input: utf8('{}'), priority: 10, delayMs: 0n });
    // The legacy (bare run id) reply decodes; our server always writes the str16 form.
    expect({ run_id: decodeActionInvokeReply(reply(v)).runId }).toEqual(v.response.sdk_parsed);
  });

  for (const name of ['action_status_completed', 'action_status_failed']) {
    it(name, () => {
      const v = vector(name);
      const body = checkRequest(v, encodeActionStatus({ runId: 'act-5f3e2d1c' }));
      expect(decodeActionStatus(body)).toEqual({ runId: 'act-5f3e2d1c' });
      const s = decodeActionStatusReply(reply(v));
      expect({
        run_id: s.runId,
        status: s.status,
        created_at: Number(s.createdAt),
        started_at: s.startedAt === undefined ? null : Number(s.startedAt),
        completed_at: s.completedAt === undefined ? null : Number(s.completedAt),
        output: s.output ? fromUtf8(s.output) : null,
        error_message: s.errorMessage ?? '',
        retry_count: s.retryCount,
      }).toEqual(v.response.sdk_parsed);
      expect(toHex(encodeActionStatusReply(s))).toBe(v.response.payload_hex);
      // the newest server's u32 run-id form decodes to the same value
      expect(decodeActionStatusReply(encodeActionStatusReply(s, 'flo'))).toEqual(s);
      expect(toHex(encodeActionStatusReply(s, 'flo'))).not.toBe(v.response.payload_hex);
    });
  }

  it('action_delete', () => {
    const v = vector('action_delete');
    const body = checkRequest(v, encodeActionDelete({ name: 'process-image' }));
    expect(decodeActionDelete(body)).toEqual({ name: 'process-image' });
    expect(v.response.payload_hex).toBe('');
  });
});
