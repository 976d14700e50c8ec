// examples/kv.ts runs: in-process through its exported main(), and as a program (exit code 0).
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../../examples/kv.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const expected = [
  /^embedded server on 127\.0\.0\.1:\d+$/,
  /^get: John Doe @ v1$/,
  /^cas put: v2$/,
  /^stale cas: conflict$/,
  /^lock exists: true$/,
  /^mget: user:123=Jane Doe, user:999 missing$/,
  /^incr: 11$/,
  /^json: status=shipped @ v2$/,
  /^txn: committed 2 ops at index \d+$/,
  /^scan: scan:a=A, scan:b=B, scan:c=C$/,
  /^history: v2=Jane Doe, v1=John Doe$/,
  /^watch: one -> two -> three$/,
  /^done$/,
];

function checkLines(lines: string[]): void {
  expect(lines).toHaveLength(expected.length);
  lines.forEach((line, i) => expect(line).toMatch(expected[i]));
}

describe('examples/kv.ts', () => {
  it('main() runs the seed KV flow against an in-process embedded server', async () => {
    const saved = process.env.FLO_ADDR;
    delete process.env.FLO_ADDR;
    const lines: string[] = [];
    try {
      await main((l) => lines.push(l));
    } finally {
      if (saved !== undefined) process.env.FLO_ADDR = saved;
    }
    checkLines(lines);
  });

  it('runs as a program with `npx tsx examples/kv.ts` and exits 0', async () => {
    const env = { ...process.env };
    delete env.FLO_ADDR;
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      execFile('npx', ['tsx', 'examples/kv.ts'], { cwd: root, env, timeout: 60_000 }, (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    checkLines(stdout.trim().split('\n'));
  }, 60_000);
});
