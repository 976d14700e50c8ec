// examples/queue-worker.ts runs, end to end.
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { main } from '../../../examples/queue-worker.js';
import { startServer, type FloServer } from '../../../src/server.js';

const run = promisify(execFile);

let server: FloServer | undefined;
afterEach(async () => {
  delete process.env.FLO_ADDR;
  await server?.close();
  server = undefined;
});

describe('examples/queue-worker.ts', () => {
  it('processes every task once (lowest priority number first) and dead-letters the failing one after 3 deliveries', async () => {
    const lines: string[] = [];
    const result = await main((line) => lines.push(line));
    expect([...result.processed].sort()).toEqual(['email-1', 'email-2', 'report-1', 'report-2', 'resize-1', 'resize-2', 'urgent-1']);
    // The first lease of 4 takes the best priorities (lower first, then seq): they finish first.
    expect(new Set(result.processed.slice(0, 4))).toEqual(new Set(['urgent-1', 'email-1', 'email-2', 'resize-1']));
    expect(result.failures).toBe(3);
    expect(result.deadLettered).toEqual(['boom-1']);
    expect(lines.some((l) => l.includes('→ DLQ'))).toBe(true);
  });

  it('against a server without delivery counts (Go layouts) the server dead-letters after 5 deliveries', async () => {
    server = await startServer({ port: 0 });
    process.env.FLO_ADDR = `127.0.0.1:${server.port}`;
    const result = await main(() => undefined);
    expect(result.processed).toHaveLength(7);
    expect(result.failures).toBe(5);
    expect(result.deadLettered).toEqual(['boom-1']);
  });

  it('runs as a program: npx tsx examples/queue-worker.ts exits 0', async () => {
    const env = { ...process.env };
    delete env.FLO_ADDR;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/queue-worker.ts'], { env, timeout: 15_000 });
    expect(stdout).toContain('processed 7/8');
    expect(stdout).toContain('in the DLQ: boom-1');
  });
});
