// Processing jobs and workflow stream triggers across real crashes: `flo-rx serve --data-dir` runs
// as a child process and is SIGKILLed while records are appended, then started again on the same
// directory. A job's sink ends up with every source record exactly once (its position and its sink
// writes are committed together), and a trigger starts exactly one run per record, including the
// records appended while its workflow was disabled (its cursor survives the restart).
import { describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, type FloClient } from '../../src/node.js';
import { startServe, useServeCli } from '../support/serve-process.js';

const KILLS = 6;

const { cli, tempDir } = useServeCli('flo-rx-pcrash-');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const client = (port: number) => connect(`127.0.0.1:${port}`, { namespace: 'pc', reconnect: false, timeoutMs: 5000 });
const texts = async (c: FloClient, stream: string) => (await lastValueFrom(c.stream.read(stream, { pageSize: 1000 }).pipe(toArray()))).map((r) => new TextDecoder().decode(r.payload));

/** Appends `in-<n>` records until the connection is gone; returns the numbers acknowledged. */
async function appendUntilGone(c: FloClient, stream: string, next: { n: number }, acked: number[]): Promise<void> {
  for (;;) {
    const n = next.n++;
    await firstValueFrom(c.stream.append(stream, `rec-${n}`));
    acked.push(n);
  }
}

async function waitUntil(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const JOB = `kind: Processing
name: copy
sources:
  - stream: { name: in, batch_size: 7, poll_interval_ms: 10 }
sinks:
  - stream: { name: out }
`;

const TRIGGERED = `kind: Workflow
name: onorder
version: "1"
trigger:
  stream: orders
start:
  waitForSignal: { type: go }
  transitions: { success: flo.Completed }
`;

describe('flo-rx serve --data-dir: processing jobs and triggers under SIGKILL', () => {
  it(`a running job resumes after ${KILLS} kills with every source record in its sink exactly once`, async () => {
    const dir = tempDir();
    const acked: number[] = [];
    const next = { n: 1 };
    let jobId = '';
    for (let round = 0; round <= KILLS; round++) {
      const server = await startServe(cli(), ['--data-dir', dir]);
      const c = client(server.port);
      try {
        if (round === 0) jobId = await firstValueFrom(c.processing.submit(JOB));
        const info = await firstValueFrom(c.processing.status(jobId));
        expect(info.status).toBe('running');
        if (round === KILLS) {
          // Last start: more records, then the sink must equal the source, record for record.
          for (let i = 0; i < 20; i++) acked.push(next.n), await firstValueFrom(c.stream.append('in', `rec-${next.n++}`));
          const source = await texts(c, 'in');
          await waitUntil(async () => (await texts(c, 'out')).length >= source.length, 'the sink to catch up');
          await sleep(100); // a duplicate would arrive with the next polls
          const sink = await texts(c, 'out');
          expect(sink).toEqual(source);
          for (const n of acked) expect(source).toContain(`rec-${n}`);
          expect(new Set(sink).size).toBe(sink.length);
          const done = await firstValueFrom(c.processing.status(jobId));
          expect(done.recordsProcessed).toBe(BigInt(source.length));
        } else {
          const work = appendUntilGone(c, 'in', next, acked).catch(() => undefined);
          await sleep(60 + round * 37);
          await server.kill('SIGKILL');
          await work;
        }
      } finally {
        await server.kill('SIGKILL');
        await c.close().catch(() => undefined);
      }
    }
    expect(acked.length).toBeGreaterThan(KILLS * 5);
  }, 60_000);

  it('a stream trigger keeps its cursor across kills: one run per record, records appended while disabled included', async () => {
    const dir = tempDir();
    const acked: number[] = [];
    const next = { n: 1 };
    for (let round = 0; round <= KILLS; round++) {
      const server = await startServe(cli(), ['--data-dir', dir]);
      const c = client(server.port);
      try {
        if (round === 0) await firstValueFrom(c.workflow.create(TRIGGERED));
        else await firstValueFrom(c.workflow.enable('onorder'));
        if (round === KILLS) {
          const source = await texts(c, 'orders');
          const inputs = async () => {
            const runs = await firstValueFrom(c.workflow.listRuns('onorder', { limit: 1000 }));
            return Promise.all(runs.map(async (r) => new TextDecoder().decode((await firstValueFrom(c.workflow.status(r.runId))).input)));
          };
          await waitUntil(async () => (await inputs()).length >= source.length, 'one run per record');
          const started = (await inputs()).sort();
          expect(started).toEqual([...source].sort());
          for (const n of acked) expect(source).toContain(`rec-${n}`);
        } else {
          // Appends while enabled start runs at once; then disabled, appends wait for ENABLE after the restart.
          const work = appendUntilGone(c, 'orders', next, acked).catch(() => undefined);
          await sleep(30 + round * 11);
          await firstValueFrom(c.workflow.disable('onorder'));
          await sleep(30);
          await server.kill('SIGKILL');
          await work;
        }
      } finally {
        await server.kill('SIGKILL');
        await c.close().catch(() => undefined);
      }
    }
    expect(acked.length).toBeGreaterThan(KILLS * 2);
  }, 60_000);
});
