import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { syncDir, syncFile } from '../../../src/client/workflow-file.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { EXPENSE_YAML, ORDER_YAML } from '../../server/workflows/fixtures.js';

let env: Embedded | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  env = undefined;
  dir = undefined;
});

describe('workflow-file (Node only): syncFile, syncDir', () => {
  it('syncs a file, then a directory of *.yaml / *.yml files in name order', async () => {
    env = await startEmbedded();
    dir = await mkdtemp(join(tmpdir(), 'flo-rx-wf-'));
    await writeFile(join(dir, 'b-order.yaml'), ORDER_YAML);
    await writeFile(join(dir, 'a-expense.yml'), EXPENSE_YAML);
    await writeFile(join(dir, 'notes.txt'), 'not a workflow');
    const wf = env.client.workflow;
    expect(await firstValueFrom(syncFile(wf, join(dir, 'b-order.yaml')))).toMatchObject({ name: 'order-processing', action: 'created' });
    expect((await firstValueFrom(syncDir(wf, dir))).map((r) => `${r.name}:${r.action}`)).toEqual(['expense-approval:created', 'order-processing:unchanged']);
    await expect(firstValueFrom(syncFile(wf, join(dir, 'missing.yaml')))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
