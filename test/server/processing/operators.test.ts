import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { job, startProcessing, type ProcessingFixture } from './fixtures.js';

let f: ProcessingFixture;
beforeEach(async () => (f = await startProcessing()));
afterEach(async () => f.close());

async function run(name: string, operators: string, inputs: unknown[], sinks?: string): Promise<void> {
  await f.submitOk(job(name, `operators:\n${operators}`, sinks));
  for (const v of inputs) await f.append('in', v);
  await f.poll();
}

describe('operators over a running job', () => {
  it('passthrough copies every record', async () => {
    await run('p', '  - type: passthrough\n', [{ a: 1 }, 'plain text']);
    expect(await f.read('out')).toEqual([{ a: 1 }, 'plain text']);
  });

  it('filter: record-level tests', async () => {
    await run('f', '  - type: filter\n    condition: "value_contains:keep"\n', ['keep me', 'drop me', 'keeper']);
    expect(await f.read('out')).toEqual(['keep me', 'keeper']);
  });

  it('filter: JSON comparisons, AND and OR', async () => {
    await f.submitOk(
      job('and', 'operators:\n  - type: filter\n    condition: "json:amount>100 AND json:status=approved"\n', 'sinks:\n  - stream: { name: both }\n'),
    );
    await f.submitOk(job('or', 'operators:\n  - type: filter\n    condition: "json:$.status^=rej OR json:amount<=5"\n', 'sinks:\n  - stream: { name: either }\n'));
    const rows = [
      { amount: 500, status: 'approved' },
      { amount: 50, status: 'approved' },
      { amount: 500, status: 'rejected' },
      { amount: 5, status: 'pending' },
      { status: 'approved' },
    ];
    for (const r of rows) await f.append('in', r);
    await f.poll();
    expect(await f.read('both')).toEqual([rows[0]]);
    expect(await f.read('either')).toEqual([rows[2], rows[3]]);
  });

  it('filter: a missing field or non-JSON value matches nothing, not even !=', async () => {
    await run('neq', '  - type: filter\n    condition: "json:kind!=a"\n', [{ kind: 'b' }, { other: 1 }, 'not json', { kind: 'a' }]);
    expect(await f.read('out')).toEqual([{ kind: 'b' }]);
  });

  it('keyby then aggregate sum emits a running total per key', async () => {
    await run(
      'sum',
      '  - type: keyby\n    key_expression: "$.customer"\n  - type: aggregate\n    function: sum\n    field: "$.amount"\n',
      [
        { customer: 'a', amount: 10 },
        { customer: 'b', amount: 1 },
        { customer: 'a', amount: 5 },
      ],
    );
    expect(await f.read('out')).toEqual([
      { key: 'a', value: 10, count: 1 },
      { key: 'b', value: 1, count: 1 },
      { key: 'a', value: 15, count: 2 },
    ]);
  });

  it('aggregate count windows emit every N records per key; avg/min/max', async () => {
    await run(
      'cnt',
      '  - type: keyby\n    key_expression: "$.k"\n  - type: aggregate\n    function: avg\n    field: "$.v"\n    window: count\n    window_size: 2\n',
      [
        { k: 'x', v: 1 },
        { k: 'y', v: 10 },
        { k: 'x', v: 3 },
        { k: 'x', v: 7 },
      ],
    );
    expect(await f.read('out')).toEqual([{ key: 'x', value: 2, count: 2 }]);
    await f.append('in', { k: 'x', v: 9 });
    await f.poll();
    expect((await f.read('out')).at(-1)).toEqual({ key: 'x', value: 8, count: 2 });
  });

  it('aggregate tumbling windows emit when the watermark passes the window end', async () => {
    await f.submitOk(
      job('tumble', 'operators:\n  - type: keyby\n    key_expression: "$.k"\n  - type: aggregate\n    function: max\n    field: "$.v"\n    window: tumbling\n    window_size: 10\n'),
    );
    await f.append('in', { k: 'x', v: 3 });
    await f.append('in', { k: 'x', v: 9 });
    await f.poll();
    expect(await f.read('out')).toEqual([]); // window still open
    f.it.clock.advance(10_000); // event time moves past the window end
    await f.append('in', { k: 'x', v: 1 });
    await f.poll();
    expect(await f.read('out')).toEqual([{ key: 'x', value: 9, count: 2 }]);
  });

  it('map projects paths and constants', async () => {
    await run('map', '  - type: map\n    user: "$.data.user"\n    amount: "$.tx.amount"\n    source: payments\n', [{ data: { user: 'u1' }, tx: { amount: 3 } }, { data: {} }]);
    expect(await f.read('out')).toEqual([
      { user: 'u1', amount: 3, source: 'payments' },
      { user: null, amount: null, source: 'payments' },
    ]);
  });

  it('flatmap emits one record per element, keyed by element_key; drops records without the array', async () => {
    await run(
      'flat',
      '  - type: flatmap\n    array_field: "$.order.items"\n    element_key: "$.sku"\n',
      [{ order: { items: [{ sku: 'a', n: 1 }, { sku: 'b', n: 2 }] } }, { order: {} }],
      'sinks:\n  - stream: { name: out }\n  - kv: { key_prefix: item }\n',
    );
    expect(await f.read('out')).toEqual([
      { sku: 'a', n: 1 },
      { sku: 'b', n: 2 },
    ]);
    expect(await f.kvGet('item:b')).toEqual({ sku: 'b', n: 2 });
  });

  it('kv_lookup filter keeps only records whose key exists (also in another namespace)', async () => {
    await f.kvPut('account:alice', 'ok', 'shared');
    await run('lookup', '  - type: kv_lookup\n    lookup_key: "account:${$.account}"\n    namespace: shared\n', [{ account: 'alice' }, { account: 'bob' }, { none: 1 }]);
    expect(await f.read('out')).toEqual([{ account: 'alice' }]);
  });

  it('kv_lookup enrich attaches the value and passes unmatched records through', async () => {
    await f.kvPut('user:u1', { tier: 'gold' });
    await run('enrich', '  - type: kv_lookup\n    lookup_key: "user:${$.id}"\n    mode: enrich\n    enrich_field: profile\n', [{ id: 'u1' }, { id: 'u2' }]);
    expect(await f.read('out')).toEqual([{ id: 'u1', profile: { tier: 'gold' } }, { id: 'u2' }]);
  });

  it('classify tags records and sinks route by AND of their match tags', async () => {
    await run(
      'route',
      '  - type: classify\n    default_tag: other\n    rules:\n      - { condition: "json:level=error", tag: errors }\n      - { condition: "json:latency>5000", tag: slow }\n',
      [
        { level: 'error', latency: 9000 },
        { level: 'error', latency: 1 },
        { level: 'info', latency: 9000 },
        { level: 'info', latency: 1 },
      ],
      'sinks:\n  - stream: { name: all }\n  - stream: { name: errors }\n    match: errors\n  - stream: { name: slow-errors }\n    match: [errors, slow]\n  - stream: { name: rest }\n    match: [other]\n',
    );
    expect(await f.read('all')).toHaveLength(4);
    expect(await f.read('errors')).toEqual([
      { level: 'error', latency: 9000 },
      { level: 'error', latency: 1 },
    ]);
    expect(await f.read('slow-errors')).toEqual([{ level: 'error', latency: 9000 }]);
    expect(await f.read('rest')).toEqual([{ level: 'info', latency: 1 }]);
  });
});
