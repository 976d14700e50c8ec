import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { streamWorker, workerStreams } from '../../../src/client/stream-worker.js';
import { InvalidArgumentError } from '../../../src/protocol/errors.js';
import { Op } from '../../../src/protocol/opcodes.js';
import { decodeStreamGroupRead } from '../../../src/protocol/stream.js';
import { HandlerTimeoutError } from '../../../src/operators/types.js';
import { main } from '../../../examples/stream-worker.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { until } from '../../support/transport.js';
import { recordedClient, text } from './helpers.js';

let env: Embedded;
beforeEach(async () => {
  env = await startEmbedded();
});
afterEach(async () => {
  await env.close();
});

describe('streamWorker', () => {
  it('processes a backlog across 2 streams, at most `concurrency` handlers at once, and acks all', async () => {
    const flo = env.client;
    for (let i = 0; i < 12; i++) {
      await firstValueFrom(flo.stream.append('orders', `o${i}`, { headers: { n: String(i) } }));
      await firstValueFrom(flo.stream.append('refunds', `r${i}`));
    }
    const r = recordedClient(env);
    let running = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const results = lastValueFrom(
      streamWorker(r.client, { streams: ['orders', 'refunds'], group: 'billing', consumer: 'w1', concurrency: 3, batchSize: 4 }, (rec) => {
        running++;
        peak = Math.max(peak, running);
        return new Promise<string>((resolve) =>
          gates.push(() => {
            running--;
            resolve(`${rec.stream}:${text(rec.payload)}`);
          }),
        );
      }).pipe(take(24), toArray()),
    );
    // release handlers one at a time, only once 3 are waiting (or all that remain)
    for (let done = 0; done < 24; done++) {
      await until(() => gates.length > 0 && (running === 3 || 24 - done <= 3));
      gates.shift()!();
    }
    const out = await results;
    expect(out.every((x) => x.outcome === 'acked')).toBe(true);
    expect(new Set(out.map((x) => x.result)).size).toBe(24);
    expect(peak).toBe(3);
    expect(out.filter((x) => x.item.stream === 'orders')).toHaveLength(12);
    await until(() => r.requests().filter((q) => q.opcode === Op.StreamGroupLeave).length === 2);
    expect((await firstValueFrom(flo.stream.groupInfo('orders', 'billing'))).pendingCount).toBe(0n);
    expect((await firstValueFrom(flo.stream.groupInfo('refunds', 'billing'))).pendingCount).toBe(0n);
    // the group reads: consumer w1 on both streams, count ≤ batchSize, 30 s long-polls
    const reads = r.requests().filter((q) => q.opcode === Op.StreamGroupRead).map((q) => decodeStreamGroupRead(q.body));
    expect(new Set(reads.map((q) => q.stream))).toEqual(new Set(['orders', 'refunds']));
    expect(reads.every((q) => q.consumer === 'w1' && q.count! <= 4 && q.blockMs === 30_000)).toBe(true);
  });

  it('nacks a failing or timed-out handler; the record comes back and succeeds', async () => {
    const flo = env.client;
    await firstValueFrom(flo.stream.append('jobs', 'flaky'));
    await firstValueFrom(flo.stream.append('jobs', 'slow'));
    const attempts = new Map<string, number>();
    const out = await lastValueFrom(
      streamWorker(flo, { stream: 'jobs', messageTimeoutMs: 50 }, (rec) => {
        const p = text(rec.payload);
        const n = (attempts.get(p) ?? 0) + 1;
        attempts.set(p, n);
        if (p === 'flaky' && n === 1) throw new Error('first try fails');
        if (p === 'slow' && n === 1) return new Promise<string>(() => undefined); // never settles
        return `${p}#${n}`;
      }).pipe(take(4), toArray()),
    );
    expect(out.filter((x) => x.outcome === 'acked').map((x) => x.result).sort()).toEqual(['flaky#2', 'slow#2']);
    const nacked = out.filter((x) => x.outcome === 'nacked');
    expect(nacked).toHaveLength(2);
    expect(nacked.some((x) => x.error instanceof HandlerTimeoutError)).toBe(true);
    expect(out[0]!.item.group).toBe('default');
  });

  it('needs at least one stream; stream and streams merge without duplicates', () => {
    expect(() => workerStreams({})).toThrow(InvalidArgumentError);
    expect(workerStreams({ stream: 'a', streams: ['b', 'a'] })).toEqual(['a', 'b']);
    expect(workerStreams({ streams: 'x' })).toEqual(['x']);
  });
});

describe('examples/stream-worker.ts', () => {
  it('runs against an embedded server and processes every event once (one retried)', async () => {
    const lines: string[] = [];
    const saved = process.env.FLO_ADDR;
    delete process.env.FLO_ADDR;
    try {
      const result = await main((line) => lines.push(line));
      expect([...result.processed].sort()).toEqual(['orders/1', 'orders/2', 'orders/3', 'orders/4', 'refunds/1', 'refunds/3']);
      expect(result.retried).toBe(1);
      expect(lines.some((l) => l.includes('embedded Flo server'))).toBe(true);
      expect(lines.filter((l) => l.includes('→'))).toHaveLength(6);
    } finally {
      if (saved !== undefined) process.env.FLO_ADDR = saved;
    }
  });

  it('runs as a program (`npx tsx examples/stream-worker.ts`) and exits 0', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const env = { ...process.env };
    delete env.FLO_ADDR;
    const { stdout } = await promisify(execFile)(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'examples/stream-worker.ts'], {
      cwd: root,
      env,
      timeout: 60_000,
    });
    expect(stdout).toMatch(/processed 6 records \(1 retried\)/);
  }, 60_000);
});
