// Durability across real crashes: `flo-rx serve --data-dir` runs as a child process under a mixed
// workload (KV puts, queue enqueue/ack/nack, stream appends, group reads and acks, workflow starts
// and signals) and is SIGKILLed at random moments, then started again on the same directory. After
// every restart: each acknowledged write is there, versions and stream ids never go back or repeat,
// no acked message or record is delivered again, every acknowledged workflow start is there and
// every acknowledged signal has completed its run; at the end every leased-but-unacked one is
// delivered again, every run reaches a terminal state and none has two terminal events.
import { describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, type FloClient } from '../../src/node.js';
import { compareStreamIds, formatStreamId, type StreamId } from '../../src/protocol/index.js';
import { startServe, useServeCli } from '../support/serve-process.js';
import { rng } from '../support/rng.js';

const KILLS = 24;
const KV_KEYS = 3;
const LEASE_MS = 800;
/** Runs wait for the signal `go` and complete on it (in the turn the signal is applied). */
const WORKFLOW = `kind: Workflow
name: crashwf
version: "1"
start:
  waitForSignal: { type: go }
  transitions: { success: flo.Completed }
`;

const { cli, tempDir } = useServeCli('flo-rx-crash-');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
interface KeyModel {
  acked: number;
  attempted: number;
  version: bigint;
}

describe('flo-rx serve --data-dir under SIGKILL', () => {
  it(`loses no acknowledged write across ${KILLS} kills`, async () => {
    const dir = tempDir();
    const random = rng(12);
    const violations: string[] = [];
    const keys: KeyModel[] = Array.from({ length: KV_KEYS }, () => ({ acked: 0, attempted: 0, version: 0n }));
    const enqueued = new Set<number>();
    const queueAcked = new Set<number>();
    /** Acks sent whose reply was lost with the server: applied or not, either is right. */
    const queueAckInFlight = new Set<number>();
    let nextMsg = 1;
    const appended = new Map<string, number>();
    let lastAppendId: StreamId | undefined;
    let nextRecord = 1;
    const groupAcked = new Set<string>();
    const groupAckInFlight = new Set<string>();
    let groupReady = false;
    let totalOps = 0;
    /** Acknowledged starts, and the runs whose signal was acknowledged. */
    const runsStarted = new Set<string>();
    const runsSignalled = new Set<string>();
    const signalInFlight = new Set<string>();
    let nextRun = 1;

    const client = (port: number) => connect(`127.0.0.1:${port}`, { namespace: 'crash', reconnect: false, timeoutMs: 5000 });

    async function verify(c: FloClient): Promise<void> {
      for (let k = 0; k < KV_KEYS; k++) {
        const m = keys[k];
        const e = await firstValueFrom(c.kv.get(`key-${k}`));
        if (m.acked === 0 && !e) continue;
        if (!e) {
          violations.push(`key-${k}: acknowledged value ${m.acked} lost`);
          continue;
        }
        const v = Number(e.text());
        if (v !== m.acked && v !== m.attempted) violations.push(`key-${k}: value ${v}, expected ${m.acked} (or in-flight ${m.attempted})`);
        if (e.version < m.version) violations.push(`key-${k}: version went back from ${m.version} to ${e.version}`);
        m.acked = m.attempted = v;
        m.version = e.version;
      }
      const records = await lastValueFrom(c.stream.read('events', { pageSize: 1000 }).pipe(toArray()));
      const seen = new Map(records.map((r) => [formatStreamId(r.id), Number(r.data())]));
      for (let i = 1; i < records.length; i++) {
        if (compareStreamIds(records[i - 1].id, records[i].id) >= 0) violations.push(`stream ids out of order at ${formatStreamId(records[i].id)}`);
      }
      for (const [id, n] of appended) if (seen.get(id) !== n) violations.push(`acknowledged record ${id} (${n}) lost`);
      const last = records.at(-1);
      if (last) lastAppendId = last.id;
      for (const runId of runsStarted) {
        const st = await firstValueFrom(c.workflow.status(runId)).catch((e: Error) => e);
        if (st instanceof Error) {
          violations.push(`acknowledged workflow run ${runId} lost (${st.message})`);
          continue;
        }
        if (runsSignalled.has(runId) && st.status !== 'completed') violations.push(`run ${runId}: signal acknowledged but status ${st.status}`);
        if (signalInFlight.has(runId) && st.status === 'completed') runsSignalled.add(runId);
        signalInFlight.delete(runId);
      }
    }

    async function kvWriter(c: FloClient, k: number): Promise<void> {
      const m = keys[k];
      for (;;) {
        const value = m.attempted + 1;
        m.attempted = value;
        const { version } = await firstValueFrom(c.kv.put(`key-${k}`, String(value)));
        if (version <= m.version) violations.push(`key-${k}: version ${version} after ${m.version}`);
        m.acked = value;
        m.version = version;
        totalOps++;
      }
    }

    async function queueWorker(c: FloClient): Promise<void> {
      for (;;) {
        const n = nextMsg++;
        await firstValueFrom(c.queue.enqueue('jobs', String(n)));
        enqueued.add(n);
        const got = await lastValueFrom(c.queue.dequeue('jobs', 2, { visibilityTimeoutMs: LEASE_MS }).pipe(toArray()));
        for (const msg of got) {
          const id = Number(msg.data());
          if (queueAcked.has(id)) violations.push(`acked message ${id} delivered again`);
          const roll = random();
          if (roll < 0.6) {
            queueAckInFlight.add(id);
            await firstValueFrom(c.queue.ack('jobs', [msg.seq]));
            queueAckInFlight.delete(id);
            queueAcked.add(id);
          } else if (roll < 0.8) await firstValueFrom(c.queue.nack('jobs', [msg.seq]));
          // else: left leased, to be redelivered after its lease
        }
        totalOps += 2 + got.length;
      }
    }

    async function streamWriter(c: FloClient): Promise<void> {
      for (;;) {
        const n = nextRecord++;
        const id = await firstValueFrom(c.stream.append('events', String(n)));
        if (lastAppendId && compareStreamIds(id, lastAppendId) <= 0) violations.push(`stream id ${formatStreamId(id)} not after ${formatStreamId(lastAppendId)}`);
        lastAppendId = id;
        appended.set(formatStreamId(id), n);
        totalOps++;
      }
    }

    async function workflowWorker(c: FloClient): Promise<void> {
      for (;;) {
        const runId = `run-${nextRun++}`;
        await firstValueFrom(c.workflow.start('crashwf', { n: runId }, { runId }));
        runsStarted.add(runId);
        const waiting = [...runsStarted].filter((id) => !runsSignalled.has(id) && !signalInFlight.has(id));
        const pick = waiting[Math.floor(random() * waiting.length)];
        if (pick && random() < 0.5) {
          signalInFlight.add(pick);
          await firstValueFrom(c.workflow.signal(pick, 'go'));
          signalInFlight.delete(pick);
          runsSignalled.add(pick);
        }
        totalOps += 2;
      }
    }

    async function groupWorker(c: FloClient): Promise<void> {
      for (;;) {
        const got = await lastValueFrom(c.stream.groupRead('events', 'g', 'c1', { count: 5 }).pipe(toArray()));
        const toAck: StreamId[] = [];
        for (const r of got) {
          const id = formatStreamId(r.id);
          if (groupAcked.has(id)) violations.push(`acked group record ${id} delivered again`);
          if (random() < 0.7) toAck.push(r.id);
        }
        if (toAck.length) {
          for (const id of toAck) groupAckInFlight.add(formatStreamId(id));
          await firstValueFrom(c.stream.groupAck('events', 'g', toAck));
          for (const id of toAck) groupAckInFlight.delete(formatStreamId(id));
          for (const id of toAck) groupAcked.add(formatStreamId(id));
        }
        totalOps += 1 + toAck.length;
        if (got.length === 0) await sleep(5);
      }
    }

    for (let round = 0; round < KILLS; round++) {
      const server = await startServe(cli(), ['--data-dir', dir]);
      const c = client(server.port);
      try {
        await verify(c);
        if (!groupReady) {
          await firstValueFrom(c.stream.groupCreate('events', 'g', { ackTimeoutMs: LEASE_MS, maxDeliver: 0 }));
          await firstValueFrom(c.workflow.create(WORKFLOW));
          groupReady = true;
        }
        const work = [...keys.map((_, k) => kvWriter(c, k)), queueWorker(c), streamWriter(c), groupWorker(c), workflowWorker(c)].map((p) => p.catch(() => undefined));
        // Kill at a random moment, but only once this round has acknowledged a queue ack, an append
        // and a workflow start (bounded), so a slow machine still exercises every kind of write.
        const progress = { q: queueAcked.size, a: appended.size, r: runsStarted.size };
        await sleep(40 + Math.floor(random() * 160));
        for (let waited = 0; waited < 5000; waited += 10) {
          if (queueAcked.size > progress.q && appended.size > progress.a && runsStarted.size > progress.r) break;
          await sleep(10);
        }
        await server.kill('SIGKILL');
        await Promise.all(work);
      } finally {
        await server.kill('SIGKILL');
        await c.close().catch(() => undefined);
      }
    }

    // Last start: everything acknowledged is there, and every unacked delivery comes back.
    const server = await startServe(cli(), ['--data-dir', dir]);
    const c = client(server.port);
    try {
      await verify(c);
      const wanted = new Set([...enqueued].filter((n) => !queueAcked.has(n) && !queueAckInFlight.has(n)));
      const dlq = await lastValueFrom(c.queue.dlq.list('jobs', { limit: 1000 }).pipe(toArray()));
      for (const e of dlq) wanted.delete(Number(e.data()));
      const wantedRecords = new Set([...appended.keys()].filter((id) => !groupAcked.has(id) && !groupAckInFlight.has(id)));
      const deadline = Date.now() + 15_000;
      while ((wanted.size > 0 || wantedRecords.size > 0) && Date.now() < deadline) {
        const msgs = await lastValueFrom(c.queue.dequeue('jobs', 100, { visibilityTimeoutMs: 60_000 }).pipe(toArray()));
        for (const m of msgs) {
          const id = Number(m.data());
          if (queueAcked.has(id)) violations.push(`acked message ${id} delivered again`);
          wanted.delete(id);
        }
        const recs = await lastValueFrom(c.stream.groupRead('events', 'g', 'final', { count: 100 }).pipe(toArray()));
        for (const r of recs) {
          const id = formatStreamId(r.id);
          if (groupAcked.has(id)) violations.push(`acked group record ${id} delivered again`);
          wantedRecords.delete(id);
        }
        // A lease still running at the restart ends during this loop, and counts as a failed delivery
        // when it is collected (at a dequeue): a message on its last attempt goes to the DLQ then.
        if (wanted.size > 0) {
          const dead = await lastValueFrom(c.queue.dlq.list('jobs', { limit: 1000 }).pipe(toArray()));
          for (const e of dead) wanted.delete(Number(e.data()));
        }
        if (msgs.length === 0 && recs.length === 0) await sleep(100);
      }
      // Every run ends: the waiting ones are signalled now; each has exactly one terminal event.
      for (const runId of runsStarted) if (!runsSignalled.has(runId)) await firstValueFrom(c.workflow.signal(runId, 'go'));
      for (const runId of runsStarted) {
        const st = await firstValueFrom(c.workflow.status(runId));
        if (!st.terminal) violations.push(`run ${runId} not terminal after its signal: ${st.status}`);
        const events = await firstValueFrom(c.workflow.history(runId, { limit: 1000 }));
        const ends = events.filter((e) => e.type.startsWith('workflow_') && e.type !== 'workflow_started');
        if (ends.length !== 1) violations.push(`run ${runId}: ${ends.length} terminal events (${ends.map((e) => e.type).join(', ')})`);
      }
      expect(violations).toEqual([]);
      expect([...wanted]).toEqual([]);
      expect([...wantedRecords]).toEqual([]);
      // The workload really ran: writes of every kind were acknowledged between the kills.
      expect(queueAcked.size).toBeGreaterThan(KILLS);
      expect(appended.size).toBeGreaterThan(KILLS);
      expect(keys.every((k) => k.acked > 0)).toBe(true);
      expect(runsStarted.size).toBeGreaterThan(KILLS);
      expect(runsSignalled.size).toBeGreaterThan(0);
      expect(totalOps).toBeGreaterThan(KILLS * 10);
    } finally {
      await c.close().catch(() => undefined);
      await server.kill('SIGKILL');
    }
  }, 90_000);
});
