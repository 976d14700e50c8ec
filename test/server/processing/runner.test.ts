import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { job, startProcessing, type ProcessingFixture } from './fixtures.js';

let f: ProcessingFixture;
beforeEach(async () => (f = await startProcessing()));
afterEach(async () => f.close());

describe('the runner: sinks and polling', () => {
  it('KV sink: upsert overwrites, if_absent keeps the first value, TTL expires', async () => {
    await f.submitOk(
      job(
        'kv',
        'operators:\n  - type: keyby\n    key_expression: "$.id"\n',
        'sinks:\n  - kv: { key_prefix: last, separator: "/" }\n  - kv: { key_prefix: first, write_mode: if_absent, ttl_ms: 60000 }\n',
      ),
    );
    await f.append('in', { id: 'a', v: 1 });
    await f.append('in', { id: 'a', v: 2 });
    await f.poll();
    expect(await f.kvGet('last/a')).toEqual({ id: 'a', v: 2 });
    expect(await f.kvGet('first:a')).toEqual({ id: 'a', v: 1 });
    await f.poll(60_000);
    expect(await f.kvGet('first:a')).toBeUndefined();
  });

  it('queue sink enqueues with the priority', async () => {
    await f.submitOk(job('q', '', 'sinks:\n  - queue: { name: tasks, priority: 7 }\n'));
    await f.append('in', { task: 1 });
    await f.poll();
    expect(await f.peekQueue('tasks')).toEqual([expect.objectContaining({ payload: { task: 1 } })]);
  });

  it('reads a source in another namespace and polls only every poll_interval_ms', async () => {
    await f.append('events', { n: 1 }, 'upstream');
    await f.submitOk('kind: Processing\nname: x\nsources:\n  - stream: { name: events, namespace: upstream, poll_interval_ms: 5000 }\nsinks:\n  - stream: { name: copy }\n');
    await f.poll(0);
    expect(await f.read('copy')).toEqual([{ n: 1 }]); // first poll right after submit
    await f.append('events', { n: 2 }, 'upstream');
    await f.poll(4000);
    expect(await f.read('copy')).toEqual([{ n: 1 }]);
    await f.poll(1000);
    expect(await f.read('copy')).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await f.read('copy', 'upstream')).toEqual([]);
  });

  it('reads at most batch_size records per tick', async () => {
    await f.submitOk(job('b', 'batch_size: 2\n'));
    for (let i = 0; i < 5; i++) await f.append('in', { i });
    await f.poll(0); // the first poll, right after submit
    expect(await f.read('out')).toHaveLength(2);
    await f.poll();
    expect(await f.read('out')).toHaveLength(4);
    await f.poll();
    expect(await f.read('out')).toHaveLength(5);
  });
});
