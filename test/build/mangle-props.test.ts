/**
 * The published build shortens the private members' names (`mangleProps` in `tsup.config.ts`): a
 * build of the ESM as `tsup` makes it keeps no property access and no field declaration whose name
 * ends with `_`. Fails when the option is dropped, or when a private constructor parameter property
 * comes back (esbuild leaves the field declaration it emits under its long name).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { publishedEsmBuild } from '../../tsup.config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function publishedEsm(mangle: boolean): Promise<Array<{ file: string; text: string }>> {
  const result = await build({ ...publishedEsmBuild(root, `${root}.mangle-props-out`, mangle), write: false });
  return result.outputFiles.map((f) => ({ file: f.path.split('/').pop()!, text: f.text }));
}

/** `.name_` (not the spread of a variable `...name_`) and `  name_;` field declarations. */
function longNames(files: Array<{ file: string; text: string }>): string[] {
  const found = new Set<string>();
  for (const { text } of files) {
    for (const m of text.matchAll(/(?<!\.\.)\.([A-Za-z$][\w$]*_)\b(?!\s*\()?/g)) found.add(`.${m[1]}`);
    for (const m of text.matchAll(/^\s+([A-Za-z$][\w$]*_);$/gm)) found.add(`${m[1]};`);
  }
  return [...found].sort();
}

describe('published build: private member names', () => {
  it('keeps no property or field name ending with _', async () => {
    expect(longNames(await publishedEsm(true))).toEqual([]);
  });

  it('would keep them without mangleProps (the check can fail)', async () => {
    const names = longNames(await publishedEsm(false));
    expect(names).toContain('.pending_');
    expect(names.length).toBeGreaterThan(100);
  });
});
