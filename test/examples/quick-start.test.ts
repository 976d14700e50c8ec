import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { QUICK_START_OUTPUT, readmeCodeBlock } from '../support/readme.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe("README's quick start, run from the source tree", () => {
  it('runs as pasted (imports pointed at src/), prints what the README says and exits 0', async () => {
    const block = readmeCodeBlock('Quick start');
    expect(block).toContain("from 'flo-rx/node'");
    const source = block.replaceAll("'flo-rx/node'", `'${join(root, 'src/node.ts')}'`).replaceAll("'flo-rx/server'", `'${join(root, 'src/server.ts')}'`).replaceAll("'flo-rx'", `'${join(root, 'src/index.ts')}'`);
    // Inside the repository, so that `rxjs` resolves from its node_modules.
    const dir = await mkdtemp(join(root, 'test-output-quick-start-'));
    try {
      await writeFile(join(dir, 'quick-start.ts'), source);
      const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(join(root, 'node_modules/.bin/tsx'), [join(dir, 'quick-start.ts')], { cwd: dir, timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(stderr).toBe('');
      expect(stdout.trim().split('\n')).toEqual(QUICK_START_OUTPUT);
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
