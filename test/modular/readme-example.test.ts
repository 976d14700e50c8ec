// The README's "Modular entry" example, run from the source tree against an embedded server (its
// address pointed at the server, its imports at src/): prints what the README's comments say.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/server.js';
import { readmeCodeBlock } from '../support/readme.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe("README's modular entry example (scenario: README + src/modular)", () => {
  it('runs as written and prints what its comments say', async () => {
    const block = readmeCodeBlock('Modular entry: `flo-rx/modular`');
    expect(block).toContain("from 'flo-rx/modular'");
    const server = await startServer({ port: 0 });
    // Inside the repository, so that `rxjs` resolves from its node_modules.
    const dir = await mkdtemp(join(root, 'test-output-quick-start-modular-'));
    try {
      const source = block.replaceAll("'flo-rx/modular'", `'${join(root, 'src/modular/index.ts')}'`).replace('wss://flo.example.com', server.wsUrl);
      await writeFile(join(dir, 'modular.mts'), source);
      const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(join(root, 'node_modules/.bin/tsx'), [join(dir, 'modular.mts')], { cwd: dir, timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(stderr).toBe('');
      expect(stdout.trim().split('\n')).toEqual(['1n hi', '2n']);
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await server.close();
    }
  }, 40_000);
});
