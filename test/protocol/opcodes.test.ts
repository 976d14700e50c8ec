import { describe, expect, it } from 'vitest';
import { Op, OPCODE_NAMES, opcodeName } from '../../src/protocol/opcodes.js';

describe('opcode names', () => {
  it('names every opcode in snake_case, once', () => {
    const opcodes = Object.values(Op);
    expect(OPCODE_NAMES.size).toBe(new Set(opcodes).size);
    for (const opcode of opcodes) expect(opcodeName(opcode)).toMatch(/^[a-z0-9]+(_[a-z0-9]+)*$/);
    expect(new Set(OPCODE_NAMES.values()).size).toBe(OPCODE_NAMES.size);
  });

  it('uses the wire names of Flo, including the irregular ones', () => {
    expect(opcodeName(Op.KvPut)).toBe('kv_put');
    expect(opcodeName(Op.KvGetResponse)).toBe('kv_get_response');
    expect(opcodeName(Op.ErrorResponse)).toBe('error_response');
    expect(opcodeName(Op.KvMGet)).toBe('kv_mget');
    expect(opcodeName(Op.KvMGetResponse)).toBe('kv_mget_response');
    expect(opcodeName(Op.TsFloQL)).toBe('ts_floql');
    expect(opcodeName(Op.ProcessingRescaleResponse)).toBe('processing_rescale_response');
    expect(OPCODE_NAMES.get(Op.StreamAppend)).toBe('stream_append');
  });

  it('falls back to the hex code for an unknown opcode', () => {
    expect(opcodeName(0xfff)).toBe('0xfff');
    expect(opcodeName(0x7)).toBe('0x007');
  });
});
