import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { ManualClock } from '../../../src/server.js';
import { BadRequestError, InvalidArgumentError, NotFoundError, syncProcessingDir, syncProcessingFile } from '../../../src/node.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';

const PIPELINE = `kind: Processing
name: big-orders
sources:
  - name: orders
    stream: { name: orders }
operators:
  - type: filter
    condition: "json:amount>100"
sinks:
  - name: out
    stream: { name: big-orders }
`;

let env: Embedded | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function setup() {
  const clock = new ManualClock();
  env = await startEmbedded({ clock });
  return { clock, flo: env.client };
}

describe('flo.processing', () => {
  it('submit, status, list, stop, savepoint, restore, rescale, cancel', async () => {
    const { clock, flo } = await setup();
    const jobId = await firstValueFrom(flo.processing.submit(PIPELINE));
    await firstValueFrom(flo.stream.append('orders', { amount: 500 }));
    await firstValueFrom(flo.stream.append('orders', { amount: 5 }));
    clock.advance(1000);
    const s = await firstValueFrom(flo.processing.status(jobId));
    expect(s).toMatchObject({ jobId, name: 'big-orders', status: 'running', terminal: false, parallelism: 1, batchSize: 100, recordsProcessed: 2n });
    expect((await firstValueFrom(flo.stream.read('big-orders'))).data()).toEqual({ amount: 500 });

    const sp = await firstValueFrom(flo.processing.savepoint(jobId));
    await lastValueFrom(flo.processing.stop(jobId), { defaultValue: undefined });
    expect((await firstValueFrom(flo.processing.status(jobId))).status).toBe('stopped');
    await lastValueFrom(flo.processing.restore(jobId, sp), { defaultValue: undefined });
    await lastValueFrom(flo.processing.rescale(jobId, 4), { defaultValue: undefined });
    const page = await firstValueFrom(flo.processing.list());
    expect(page).toMatchObject({ hasMore: false, jobs: [{ jobId, name: 'big-orders', status: 'running', parallelism: 4 }] });
    await lastValueFrom(flo.processing.cancel(jobId), { defaultValue: undefined });
    expect(await firstValueFrom(flo.processing.status(jobId))).toMatchObject({ status: 'cancelled', terminal: true });
  });

  it('typed errors: a bad definition, an unknown job, bad arguments (nothing sent)', async () => {
    const { flo } = await setup();
    const bad = firstValueFrom(flo.processing.submit(PIPELINE.replace('json:amount>100', 'json:amount>lots')));
    await expect(bad).rejects.toBeInstanceOf(BadRequestError);
    await expect(bad).rejects.toThrow(/operators\[0\]\.condition/);
    await expect(firstValueFrom(flo.processing.status('job-ffffffff'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(firstValueFrom(flo.processing.rescale('job-1', 0))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(flo.processing.sync('kind: Processing\nsources: []\n'))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(flo.processing.submit(''))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('jobs() pages through every job', async () => {
    const { flo } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await firstValueFrom(flo.processing.submit(PIPELINE.replace('big-orders\nsources', `j${i}\nsources`))));
    const all = await lastValueFrom(flo.processing.jobs({ limit: 2 }).pipe(toArray()));
    expect(all.map((j) => j.jobId)).toEqual(ids);
  });

  it('sync takes the top-level name (not a source name) and submits a new job each time; files and directories', async () => {
    const { flo } = await setup();
    const a = await firstValueFrom(flo.processing.sync(PIPELINE));
    const b = await firstValueFrom(flo.processing.sync(PIPELINE));
    expect(a.name).toBe('big-orders');
    expect(a.jobId).not.toBe(b.jobId);
    dir = await mkdtemp(join(tmpdir(), 'flo-rx-processing-'));
    await writeFile(join(dir, 'b.yaml'), PIPELINE.replace('name: big-orders', 'name: second'));
    await writeFile(join(dir, 'a.yml'), PIPELINE);
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    const fromFile = await firstValueFrom(syncProcessingFile(flo.processing, join(dir, 'a.yml')));
    expect(fromFile.name).toBe('big-orders');
    const results = await firstValueFrom(syncProcessingDir(flo.processing, dir));
    expect(results.map((r) => r.name)).toEqual(['big-orders', 'second']);
  });

  it('watch emits on every change of records processed and state, until cancelled', async () => {
    const { clock, flo } = await setup();
    const jobId = await firstValueFrom(flo.processing.submit(PIPELINE));
    const seen: string[] = [];
    const done = lastValueFrom(flo.processing.watch(jobId, { pollMs: 1 }).pipe(toArray()));
    const sub = flo.processing.watch(jobId, { pollMs: 1 }).subscribe((s) => seen.push(`${s.status}:${s.recordsProcessed}`));
    const until = async (what: string) => {
      for (let i = 0; i < 5000 && !seen.includes(what); i++) await new Promise((r) => setTimeout(r, 2));
      expect(seen).toContain(what);
    };
    await until('running:0');
    await firstValueFrom(flo.stream.append('orders', { amount: 1 }));
    await firstValueFrom(flo.stream.append('orders', { amount: 2 }));
    clock.advance(1000);
    await until('running:2');
    await lastValueFrom(flo.processing.stop(jobId), { defaultValue: undefined });
    await until('stopped:2');
    await lastValueFrom(flo.processing.cancel(jobId), { defaultValue: undefined });
    const all = await done;
    expect(all.at(-1)).toMatchObject({ status: 'cancelled', terminal: true });
    // The two watchers poll independently: the second may see the cancel a poll later.
    await until('cancelled:2');
    expect(seen).toEqual(['running:0', 'running:2', 'stopped:2', 'cancelled:2']);
    sub.unsubscribe();
  });
});
