import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromUtf8, Status } from '../../../src/protocol/index.js';
import { startProducers, waitingWorkflow, type Producers } from './producer-fixtures.js';

let f: Producers;
beforeEach(async () => (f = await startProducers()));
afterEach(async () => f.close());

describe('workflow stream triggers', () => {
  it('one run per appended record, started at once, with trigger_started and the record as input', async () => {
    await f.append('orders', '{"old":true}'); // before the trigger exists: not a run
    await f.createOk('on-order', waitingWorkflow('on-order', 'trigger:\n  stream: orders\n'));
    await f.append('orders', '{"id":1}');
    await f.append('orders', '{"id":2}');
    const runs = await f.runs('on-order');
    expect(runs.map((r) => r.input)).toEqual(['{"id":1}', '{"id":2}']);
    expect(runs[0]).toMatchObject({ version: 'latest', firstEvent: 'trigger_started:{"id":1}', status: 'waiting' });
  });

  it('batches of batch_size records become one run with a JSON array input', async () => {
    await f.createOk('batch', waitingWorkflow('batch', 'trigger:\n  stream: events\n  batch_size: 3\n  batch_timeout_ms: 1000\n'));
    for (const p of ['{"a":1}', 'plain', '"quoted"', '[1]']) await f.append('events', p);
    const runs = await f.runs('batch');
    expect(runs.map((r) => JSON.parse(r.input) as unknown)).toEqual([[{ a: 1 }, 'plain', 'quoted']]);
    // The 4th record waits for the batch timeout, then goes alone.
    await f.advance(999);
    expect(await f.runs('batch')).toHaveLength(1);
    await f.advance(1);
    expect((await f.runs('batch')).map((r) => r.input)).toEqual(['[{"a":1},"plain","quoted"]', '[[1]]']);
  });

  it('reads another namespace and ignores same-named streams elsewhere', async () => {
    await f.createOk('x', waitingWorkflow('x', 'trigger:\n  stream: feed\n  namespace: upstream\n  consumer_group: g\n  mode: key-shared\n'));
    await f.append('feed', '{"here":1}');
    await f.append('feed', '{"there":1}', 'upstream');
    expect((await f.runs('x')).map((r) => r.input)).toEqual(['{"there":1}']);
  });

  it('a disabled workflow starts nothing; after enable the records appended meanwhile start runs once', async () => {
    await f.createOk('d', waitingWorkflow('d', 'trigger:\n  stream: s\n'));
    await f.disable('d');
    await f.append('s', '{"n":1}');
    expect(await f.runs('d')).toEqual([]);
    await f.enable('d');
    expect((await f.runs('d')).map((r) => r.input)).toEqual(['{"n":1}']);
    await f.enable('d');
    expect(await f.runs('d')).toHaveLength(1);
  });

  it('re-creating the definition keeps the cursor (no run twice)', async () => {
    const yaml = waitingWorkflow('keep', 'trigger:\n  stream: s\n');
    await f.createOk('keep', yaml);
    await f.append('s', '{"n":1}');
    await f.createOk('keep', yaml.replace('version: "1"', 'version: "2"'));
    await f.append('s', '{"n":2}');
    expect((await f.runs('keep')).map((r) => r.input)).toEqual(['{"n":1}', '{"n":2}']);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['a trigger without stream', 'trigger:\n  batch_size: 2\n', /trigger\.stream is required/],
    ['a bad mode', 'trigger:\n  stream: s\n  mode: random\n', /trigger\.mode must be/],
    ['a zero batch size', 'trigger:\n  stream: s\n  batchSize: 0\n', /trigger\.batchSize must be/],
  ];
  for (const [what, extra, message] of bad) {
    it(`refuses ${what} with BAD_REQUEST`, async () => {
      const r = await f.create('bad', waitingWorkflow('bad', extra));
      expect(r.status).toBe(Status.BadRequest);
      expect(fromUtf8(r.payload)).toMatch(message);
    });
  }
});

describe('WorkflowTriggers snapshot / restore', () => {
  it('cursors are plain data; a restored cursor is kept by the definition replay', async () => {
    const { ManualClock } = await import('../../../src/server/clock.js');
    const { WorkflowTriggers } = await import('../../../src/server/workflows/trigger.js');
    const clock = new ManualClock();
    const started: string[] = [];
    const records = [10n, 11n, 12n].map((k) => ({ key: (BigInt(clock.now()) << 64n) + k, partition: 0, payload: new TextEncoder().encode(`{"k":${k}}`), headers: [] }));
    const streams = {
      read: (_ns: string, _s: string, from: bigint) => records.filter((r) => r.key >= from),
      append: () => undefined,
      tail: () => records[2].key + 1n,
      partitionCount: () => 1,
      onAppend: () => () => undefined,
    };
    const host = {
      trigger: () => ({ def: { stream: 's', mode: 'shared' as const, batchSize: 1, batchTimeoutMs: 5000 }, enabled: true }),
      startTriggeredRun: (_ns: string, _wf: string, input: Uint8Array) => void started.push(new TextDecoder().decode(input)),
    };
    const a = new WorkflowTriggers(clock, streams, host);
    a.restore([{ namespace: 'n', workflow: 'w', sourceNs: 'n', stream: 's', next: records[1].key }]);
    a.update('n', 'w'); // the definition replayed: the restored cursor is kept, not moved to the tail
    expect(started).toEqual(['{"k":11}', '{"k":12}']);
    expect(structuredClone(a.snapshot())).toEqual([{ namespace: 'n', workflow: 'w', sourceNs: 'n', stream: 's', next: records[2].key + 1n }]);
    a.close();
  });
});
