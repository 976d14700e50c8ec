import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { entries } from '../../tsup.config.js';

const read = (path: string) => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'));
const pkg = read('package.json') as {
  exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } } | string>;
  typesVersions: { '*': Record<string, string[]> };
};
const typedoc = read('typedoc.json') as { entryPoints: string[] };

describe('public entry points are declared consistently', () => {
  const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');
  const names = subpaths.map((s) => (s === '.' ? 'index' : s.slice(2)));

  it('package.json "exports" lists exactly the entries tsup builds, each in both formats', () => {
    expect(names.sort()).toEqual(Object.keys(entries).sort());
    for (const name of names) {
      const target = pkg.exports[name === 'index' ? '.' : `./${name}`];
      expect(target).toEqual({
        import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
        require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
      });
    }
  });

  it('"typesVersions" maps every subpath (TypeScript node10 resolution)', () => {
    expect(Object.keys(pkg.typesVersions['*']).sort()).toEqual(names.filter((n) => n !== 'index').sort());
    for (const [name, paths] of Object.entries(pkg.typesVersions['*'])) expect(paths).toEqual([`./dist/${name}.d.ts`]);
  });

  it('the API reference documents every entry', () => {
    expect([...typedoc.entryPoints].sort()).toEqual(Object.values(entries).sort());
  });
});
