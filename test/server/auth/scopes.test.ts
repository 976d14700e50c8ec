import { describe, expect, it } from 'vitest';
import { Op } from '../../../src/protocol/index.js';
import { accessFor, matchScope } from '../../../src/server/auth/scopes.js';
import { hostProblem, originProblem } from '../../../src/server/auth/origin.js';

describe('matchScope (Flo rules)', () => {
  it('matches wildcards, prefixes and exact keys', () => {
    expect(matchScope('*:*:*', 'read', 'kv', 'anything')).toBe(true);
    expect(matchScope('read:kv:*', 'read', 'kv', 'x')).toBe(true);
    expect(matchScope('read:kv', 'read', 'kv', 'x')).toBe(false); // two parts: malformed
    expect(matchScope('read:kv:', 'read', 'kv', 'x')).toBe(true); // empty pattern = all
    expect(matchScope('read:stream:chat:*', 'read', 'stream', 'chat:room1')).toBe(true);
    expect(matchScope('read:stream:chat:*', 'read', 'stream', 'private:room1')).toBe(false);
    expect(matchScope('read:stream:chat:room1', 'read', 'stream', 'chat:room1')).toBe(true);
    expect(matchScope('read:stream:chat:room1', 'read', 'stream', 'chat:room10')).toBe(false);
    expect(matchScope('write:kv:*', 'read', 'kv', 'x')).toBe(false);
    expect(matchScope('read:queue:*', 'read', 'kv', 'x')).toBe(false);
  });

  it('maps opcodes to read or write on their resource', () => {
    expect(accessFor(Op.KvGet)).toEqual({ action: 'read', resource: 'kv' });
    expect(accessFor(Op.KvPut)).toEqual({ action: 'write', resource: 'kv' });
    expect(accessFor(Op.StreamRead)).toEqual({ action: 'read', resource: 'stream' });
    expect(accessFor(Op.StreamGroupRead)).toEqual({ action: 'write', resource: 'stream' });
    expect(accessFor(Op.QueueDequeue)).toEqual({ action: 'write', resource: 'queue' });
    expect(accessFor(Op.QueueDlqList)).toEqual({ action: 'read', resource: 'queue' });
    expect(accessFor(Op.WorkflowStart)).toEqual({ action: 'write', resource: 'workflow' });
    expect(accessFor(Op.Ping)).toBeUndefined();
  });
});

describe('origin and host rules', () => {
  const policy = { allowOrigins: [], port: 9000, host: '127.0.0.1' };
  it('accepts loopback and IP hosts on our port, refuses other names and ports', () => {
    expect(hostProblem('127.0.0.1:9000', policy)).toBeUndefined();
    expect(hostProblem('localhost:9000', policy)).toBeUndefined();
    expect(hostProblem('[::1]:9000', policy)).toBeUndefined();
    expect(hostProblem('192.168.1.5:9000', policy)).toBeUndefined();
    expect(hostProblem('localhost:9001', policy)).toMatch(/another port/);
    expect(hostProblem('evil.example:9000', policy)).toMatch(/not this server/);
    expect(hostProblem(undefined, policy)).toMatch(/missing/);
  });
  it('accepts loopback pages and the own origin, refuses others and null', () => {
    expect(originProblem(undefined, 'x', policy)).toBeUndefined();
    expect(originProblem('http://localhost:3000', 'localhost:9000', policy)).toBeUndefined();
    expect(originProblem('http://192.168.1.5:9000', '192.168.1.5:9000', policy)).toBeUndefined();
    expect(originProblem('http://192.168.1.5:8080', '192.168.1.5:9000', policy)).toMatch(/not allowed/);
    expect(originProblem('null', 'localhost:9000', policy)).toMatch(/not allowed/);
    expect(originProblem('null', 'localhost:9000', { ...policy, allowOrigins: ['*'] })).toBeUndefined();
  });
});
