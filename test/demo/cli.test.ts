import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: root, env: { ...process.env, FLO_ADDR: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('flo-rx demo, as a process', () => {
  it('`flo-rx demo --events 200 --quiet` exits 0 after printing the verified summary', async () => {
    const { code, stdout, stderr } = await run(['demo', '--events', '200', '--quiet']);
    expect(stderr).not.toMatch(/error|mismatch/i);
    expect(code).toBe(0);
    expect(stdout).not.toContain('progress:');
    expect(stdout).toMatch(/^summary \(200 events, 40\/40 customers\)$/m);
    expect(stdout).toContain('2 in the DLQ (expected 2)');
    expect(stdout).toMatch(/^demo OK: 200 events processed, \d+ tasks done, 2 dead-lettered, 40 customer projections verified in [\d.]+ s$/m);
  }, 60_000);

  it('exits 2 on a bad option', async () => {
    const { code, stderr } = await run(['demo', '--events', 'many']);
    expect(code).toBe(2);
    expect(stderr).toContain('--events needs a number');
  }, 60_000);
});
