import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromUtf8, ProcessingJobStatus, Status } from '../../../src/protocol/index.js';
import { job, startProcessing, type ProcessingFixture } from './fixtures.js';

let f: ProcessingFixture;
beforeEach(async () => (f = await startProcessing()));
afterEach(async () => f.close());

const okText = (r: { status: number; payload: Uint8Array }) => {
  expect(r.status, fromUtf8(r.payload)).toBe(Status.OK);
  return fromUtf8(r.payload);
};

describe('job lifecycle', () => {
  it('status shows name, running state, batch size, parallelism and records processed', async () => {
    const id = await f.submitOk(job('st', 'parallelism: 3\nbatch_size: 50\n'));
    expect(id).toMatch(/^job-[0-9a-f]+$/);
    await f.append('in', 'a');
    await f.append('in', 'b');
    await f.poll();
    const s = await f.status(id);
    expect(s).toMatchObject({ jobId: id, name: 'st', status: ProcessingJobStatus.Running, parallelism: 3, batchSize: 50, recordsProcessed: 2n });
    expect(s.createdAt).toBe(BigInt(f.it.clock.now() - 1000));
  });

  it('unknown job → NOT_FOUND; missing job id → BAD_REQUEST', async () => {
    expect((await f.call('stop', 'job-ffffffff')).status).toBe(Status.NotFound);
    expect((await f.call('stop', '')).status).toBe(Status.BadRequest);
    expect((await f.restore('job-ffffffff', 'sp-1')).status).toBe(Status.NotFound);
  });

  it('stop halts reading; cancel is final', async () => {
    const id = await f.submitOk(job('s'));
    await f.append('in', 1);
    await f.poll();
    okText(await f.call('stop', id));
    await f.append('in', 2);
    await f.poll();
    expect(await f.read('out')).toEqual([1]);
    expect((await f.status(id)).status).toBe(ProcessingJobStatus.Stopped);
    okText(await f.call('stop', id)); // idempotent
    okText(await f.call('cancel', id));
    expect((await f.status(id)).status).toBe(ProcessingJobStatus.Cancelled);
    const again = await f.call('stop', id);
    expect(again.status).toBe(Status.BadRequest);
    expect(fromUtf8(again.payload)).toMatch(/job is cancelled/);
    expect((await f.rescale(id, 2)).status).toBe(Status.BadRequest);
  });

  it('savepoint then restore resumes exactly after the last record processed before it', async () => {
    const id = await f.submitOk(job('sp'));
    await f.append('in', 1);
    await f.append('in', 2);
    await f.poll();
    const sp = okText(await f.call('savepoint', id));
    expect(sp).toMatch(/^sp-[0-9a-f]+$/);
    okText(await f.call('stop', id));
    await f.append('in', 3); // appended while stopped
    await f.append('in', 4);
    await f.poll();
    expect(await f.read('out')).toEqual([1, 2]);
    okText(await f.restore(id, sp));
    expect((await f.status(id)).status).toBe(ProcessingJobStatus.Running);
    await f.poll();
    expect(await f.read('out')).toEqual([1, 2, 3, 4]); // 3 and 4 once, 1 and 2 not again
    expect((await f.status(id)).recordsProcessed).toBe(4n);
    await f.poll();
    expect(await f.read('out')).toEqual([1, 2, 3, 4]);
  });

  it('restore rewinds a running job to its savepoint, counters and aggregates included', async () => {
    const id = await f.submitOk(job('agg', 'operators:\n  - type: aggregate\n    function: count\n'));
    await f.append('in', 'a');
    await f.poll();
    const sp = okText(await f.call('savepoint', id));
    await f.append('in', 'b');
    await f.poll();
    expect((await f.status(id)).recordsProcessed).toBe(2n);
    okText(await f.restore(id, sp));
    expect((await f.status(id)).recordsProcessed).toBe(1n);
    await f.poll();
    // 'b' is read again after the rewind and counted from the savepoint's count (1), not from 2.
    expect((await f.read('out')).map((r) => (r as { count: number }).count)).toEqual([1, 2, 2]);
  });

  it('restore refuses an unknown savepoint or one of another job', async () => {
    const a = await f.submitOk(job('a'));
    const b = await f.submitOk(job('b'));
    const sp = okText(await f.call('savepoint', a));
    expect((await f.restore(b, sp)).status).toBe(Status.NotFound);
    expect((await f.restore(a, 'sp-nope')).status).toBe(Status.NotFound);
  });

  it('rescale changes parallelism and refuses 0', async () => {
    const id = await f.submitOk(job('r'));
    okText(await f.rescale(id, 8));
    expect((await f.status(id)).parallelism).toBe(8);
    expect((await f.rescale(id, 0)).status).toBe(Status.BadRequest);
    expect((await f.list()).jobs[0].parallelism).toBe(8);
  });

  it('list pages through the namespace\'s jobs with lowercase status names', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await f.submitOk(job(`j${i}`)));
    okText(await f.call('stop', ids[1]));
    okText(await f.call('cancel', ids[2]));
    const first = await f.list('test', 2);
    expect(first.jobs.map((j) => j.jobId)).toEqual(ids.slice(0, 2));
    expect(first.jobs.map((j) => j.status)).toEqual(['running', 'stopped']);
    expect(first.hasMore).toBe(true);
    const second = await f.list('test', 2, first.cursor);
    expect(second.jobs.map((j) => [j.jobId, j.status])).toEqual([
      [ids[2], 'cancelled'],
      [ids[3], 'running'],
    ]);
    const last = await f.list('test', 2, second.cursor);
    expect(last.jobs.map((j) => j.jobId)).toEqual([ids[4]]);
    expect(last).toMatchObject({ hasMore: false, cursor: '' });
  });

  it('jobs are isolated per namespace: same name, separate jobs, ids unknown elsewhere', async () => {
    const prod = await f.submitOk(job('same'), 'prod');
    const staging = await f.submitOk(job('same'), 'staging');
    expect(prod).not.toBe(staging);
    await f.append('in', 'p', 'prod');
    await f.poll();
    expect(await f.read('out', 'prod')).toEqual(['p']);
    expect(await f.read('out', 'staging')).toEqual([]);
    expect((await f.list('prod')).jobs.map((j) => j.jobId)).toEqual([prod]);
    expect((await f.call('stop', prod, 'staging')).status).toBe(Status.NotFound);
    expect((await f.list('other')).jobs).toEqual([]);
  });

  it('a running job keeps running across a server restart', async () => {
    const id = await f.submitOk(job('survivor'));
    await f.append('in', 1);
    await f.poll();
    await f.it.server.restart();
    await f.reconnect();
    await f.append('in', 2);
    await f.poll();
    expect(await f.read('out')).toEqual([1, 2]);
    expect((await f.status(id)).recordsProcessed).toBe(2n);
  });
});

describe('a job whose sink write fails', () => {
  it('is failed, keeps its position after the last record written, and can be restored', async () => {
    const id = await f.submitOk(job('kvfail', 'operators:\n  - type: keyby\n    key_expression: "$.k"\n', 'sinks:\n  - kv: { key_prefix: ok }\n'));
    const sp = okText(await f.call('savepoint', id));
    await f.append('in', { k: 'a' });
    await f.append('in', { k: 'x'.repeat(5000) }); // a key longer than KV allows
    await f.append('in', { k: 'c' });
    await f.poll();
    const s = await f.status(id);
    expect(s.status).toBe(ProcessingJobStatus.Failed);
    expect(s.recordsProcessed).toBe(1n);
    expect(await f.kvGet('ok:a')).toEqual({ k: 'a' });
    expect(await f.kvGet('ok:c')).toBeUndefined();
    expect((await f.list()).jobs[0].status).toBe('failed');
    okText(await f.restore(id, sp));
    expect((await f.status(id)).status).toBe(ProcessingJobStatus.Running);
  });

  it('a KV sink under a reserved prefix is refused at submit', async () => {
    const r = await f.submit(job('reserved', '', 'sinks:\n  - kv: { key_prefix: _sys }\n'));
    expect(r.status).toBe(Status.BadRequest);
    expect(fromUtf8(r.payload)).toMatch(/sinks\[0\]\.kv\.key_prefix: keys starting with "_sys:" are reserved/);
  });
});
