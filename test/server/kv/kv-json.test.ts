import { describe, expect, it } from 'vitest';
import { Op, decodeKvGetReply, decodeKvJsonGetReply, decodeKvJsonSetReply } from '../../../src/protocol/index.js';
import { parseJsonPath } from '../../../src/server/kv/json-path.js';
import { b, harness, okPayload, s, statusOf } from './helpers.js';
import { ops } from './ops.js';

const jget = async (r: Promise<{ status: number; payload?: Uint8Array }>) => {
  const x = await r;
  if (x.status !== 0) return statusOf(x);
  const v = decodeKvJsonGetReply(okPayload(x));
  return { version: v.version, json: s(v.value) };
};

describe('kv json paths', () => {
  it('parses $, members and indexes; refuses the rest', () => {
    expect(parseJsonPath('$')).toEqual([]);
    expect(parseJsonPath('')).toEqual([]);
    expect(parseJsonPath('$.a.b[0][12].c')).toEqual([
      { kind: 'member', name: 'a' },
      { kind: 'member', name: 'b' },
      { kind: 'index', index: 0 },
      { kind: 'index', index: 12 },
      { kind: 'member', name: 'c' },
    ]);
    for (const bad of ['a', '$.', '$..a', '$[', '$[]', '$[-1]', '$[a]', '$[1', '$*', '$.a[*]']) expect(parseJsonPath(bad)).toBeUndefined();
  });
});

describe('kv json get / set / del', () => {
  it('get selects nodes and re-serializes compactly, keeping numbers and strings as written', async () => {
    const kv = ops(harness());
    await kv.put('d', '{ "a": { "b": [ 1, {"c": "x\\u0041"} ] }, "n": 12345678901234567890, "e": 1.50e+3 }');
    expect(await jget(kv.jsonGet('d', '$'))).toEqual({ version: 1n, json: '{"a":{"b":[1,{"c":"x\\u0041"}]},"n":12345678901234567890,"e":1.50e+3}' });
    expect(await jget(kv.jsonGet('d', ''))).toMatchObject({ version: 1n });
    expect(await jget(kv.jsonGet('d', '$.a.b[1].c'))).toEqual({ version: 1n, json: '"x\\u0041"' });
    expect(await jget(kv.jsonGet('d', '$.a.b[0]'))).toEqual({ version: 1n, json: '1' });
    // missing member, out of range, wrong container, absent key → 2
    for (const p of ['$.zz', '$.a.b[5]', '$.a[0]', '$.n.x']) expect(await jget(kv.jsonGet('d', p))).toEqual({ status: 2, message: '' });
    expect(await jget(kv.jsonGet('none', '$'))).toEqual({ status: 2, message: '' });
    // bad path, or a stored value that is not JSON → 3
    expect(await jget(kv.jsonGet('d', '$..'))).toEqual({ status: 3, message: 'invalid json path or document' });
    await kv.put('text', 'not json');
    expect(await jget(kv.jsonGet('text', '$'))).toEqual({ status: 3, message: 'invalid json path or document' });
  });

  it('set: $ on an absent key stores verbatim; sub-paths replace or create members; versions +1', async () => {
    const h = harness();
    const kv = ops(h);
    expect(decodeKvJsonSetReply(okPayload(await kv.jsonSet('o', '$', '{ "status" : "new", "items": [1,2] }'))).version).toBe(1n);
    expect(s(decodeKvGetReply(okPayload(await kv.get('o'))).value)).toBe('{ "status" : "new", "items": [1,2] }');
    expect(decodeKvJsonSetReply(okPayload(await kv.jsonSet('o', '$.status', '"shipped"'))).version).toBe(2n);
    expect(decodeKvJsonSetReply(okPayload(await kv.jsonSet('o', '$.items[1]', '{"x" : true}'))).version).toBe(3n);
    expect(decodeKvJsonSetReply(okPayload(await kv.jsonSet('o', '$.extra', 'null'))).version).toBe(4n);
    expect(await jget(kv.jsonGet('o', '$'))).toEqual({ version: 4n, json: '{"status":"shipped","items":[1,{"x":true}],"extra":null}' });
    // $ on a present key: compact re-serialization of the new document
    expect(decodeKvJsonSetReply(okPayload(await kv.jsonSet('o', '$', '[ 1 , 2 ]'))).version).toBe(5n);
    expect(s(decodeKvGetReply(okPayload(await kv.get('o'))).value)).toBe('[1,2]');
  });

  it('set errors: absent key with a sub-path, missing intermediate, index out of range, wrong container → 2; bad JSON → 3', async () => {
    const kv = ops(harness());
    expect(statusOf(await kv.jsonSet('o', '$.a', '1'))).toEqual({ status: 2, message: '' });
    await kv.jsonSet('o', '$', '{"a":[1]}');
    expect(statusOf(await kv.jsonSet('o', '$.x.y', '1')).status).toBe(2);
    expect(statusOf(await kv.jsonSet('o', '$.a[3]', '1')).status).toBe(2);
    expect(statusOf(await kv.jsonSet('o', '$.a.b', '1')).status).toBe(2);
    expect(statusOf(await kv.jsonSet('o', '$.a', '{bad'))).toEqual({ status: 3, message: 'invalid json document' });
    expect(statusOf(await kv.jsonSet('o', '$$', '1'))).toEqual({ status: 3, message: 'invalid json path or document' });
    await kv.put('t', 'plain');
    expect(statusOf(await kv.jsonSet('t', '$.a', '1'))).toEqual({ status: 3, message: 'invalid json path or document' });
    const h = harness();
    expect(statusOf(await h.send(Op.KvJsonSet, { key: b('o'), value: new Uint8Array([1]) }, 'test'))).toEqual({
      status: 3,
      message: 'json_set: missing path_len',
    });
    expect(statusOf(await h.send(Op.KvJsonSet, { key: b('o'), value: new Uint8Array([9, 0, 0x24]) }, 'test'))).toEqual({
      status: 3,
      message: 'json_set: truncated path',
    });
  });

  it('set replaces the TTL like a put', async () => {
    const h = harness();
    const kv = ops(h);
    await kv.put('o', '{"a":1}', { ttlSeconds: 5n });
    await kv.jsonSet('o', '$.a', '2');
    h.clock.advance(10_000);
    expect(await jget(kv.jsonGet('o', '$.a'))).toEqual({ version: 2n, json: '2' });
  });

  it('del: sub-path removes a member or element (version +1, empty reply); $ deletes the key; missing → 2', async () => {
    const kv = ops(harness());
    await kv.jsonSet('o', '$', '{"a":[1,2,3],"b":1}');
    const r = await kv.jsonDel('o', '$.a[1]');
    expect(r.status).toBe(0);
    expect(okPayload(r)).toHaveLength(0);
    expect(await jget(kv.jsonGet('o', '$'))).toEqual({ version: 2n, json: '{"a":[1,3],"b":1}' });
    expect((await kv.jsonDel('o', '$.b')).status).toBe(0);
    expect(await jget(kv.jsonGet('o', '$'))).toEqual({ version: 3n, json: '{"a":[1,3]}' });
    expect((await kv.jsonDel('o', '$.zz')).status).toBe(2);
    expect((await kv.jsonDel('o', '$.a[7]')).status).toBe(2);
    expect((await kv.jsonDel('o', '$')).status).toBe(0);
    expect((await kv.get('o')).status).toBe(2);
    expect((await kv.jsonDel('o', '$')).status).toBe(2);
    expect((await kv.put('o', '{}')).payload).toEqual(new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0]));
  });
});
