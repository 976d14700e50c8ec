import { describe, expect, it } from 'vitest';
import { ClientOp, clientOpcodeName } from '../../src/protocol/client-opcodes.js';
import { Op, opcodeName } from '../../src/protocol/opcodes.js';

describe('client opcodes', () => {
  it('are a part of Op, with the same values', () => {
    const all: Record<string, number> = Op;
    for (const [key, opcode] of Object.entries(ClientOp)) expect(all[key]).toBe(opcode);
    expect(Object.keys(ClientOp).length).toBeLessThan(Object.keys(Op).length);
  });

  it('are named as opcodeName names them', () => {
    for (const opcode of Object.values(ClientOp)) expect(clientOpcodeName(opcode)).toBe(opcodeName(opcode));
    expect(clientOpcodeName(Op.KvGet)).toBe('kv_get');
    expect(clientOpcodeName(Op.KvMGet)).toBe('kv_mget');
    expect(clientOpcodeName(Op.StreamGroupAck)).toBe('stream_group_ack');
  });

  it('gives the hex code for an opcode the client does not send', () => {
    expect(clientOpcodeName(Op.KvGetResponse)).toBe('0x106');
    expect(clientOpcodeName(Op.ClusterStatus)).toBe('0x030');
    expect(clientOpcodeName(0xfff)).toBe('0xfff');
  });
});
