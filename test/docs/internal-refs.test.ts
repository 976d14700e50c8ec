// Users never see the maintainers' internal reference notes, so nothing the repository ships or
// shows (sources, tests, examples, scripts, docs, README, CONTRIBUTING) may point at them. The
// protocol questions those notes settled are recorded in docs/protocol-decisions.md instead.
// The forbidden strings are built from pieces so that this file does not contain them itself.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['src', 'test', 'marbles', 'examples', 'scripts', 'bench', 'docs', 'README.md', 'CONTRIBUTING.md'];
/** Build output, installed packages and generated pages: not ours to check. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'api', '.angular', 'test-output', 'coverage']);
const TEXT_FILE = /\.(?:[cm]?[jt]sx?|json|md|ya?ml|html|css|scss|sh|txt)$/;

const records = 'DECISIONS';
const FORBIDDEN = [
  `${records}.md`,
  `${records} #`,
  `..${'/'}shared`,
  `/work${'/'}shared`,
  ...['core-kv', 'queues-streams', 'actions-workflows'].map((part) => `protocol-${part}${'.'}md`),
];

function* files(path: string): Generator<string> {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isFile()) {
    if (TEXT_FILE.test(path)) yield path;
    return;
  }
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory() && SKIPPED_DIRS.has(entry.name)) continue;
    yield* files(join(path, entry.name));
  }
}

/** `file:line: text` for every line of `text` containing a forbidden string. */
function internalReferences(file: string, text: string): string[] {
  const hits: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (FORBIDDEN.some((s) => line.includes(s))) hits.push(`${file}:${i + 1}: ${line.trim()}`);
  });
  return hits;
}

describe('no references to internal notes users do not have', () => {
  it('the checker finds each forbidden string and passes ordinary text', () => {
    for (const s of FORBIDDEN) expect(internalReferences('x.ts', `// ok\n// see ${s} 5`)).toEqual([`x.ts:2: // see ${s} 5`]);
    expect(internalReferences('x.ts', '// see docs/protocol-decisions.md #5 and the Go SDK')).toEqual([]);
  });

  it('src, test, marbles, examples, scripts, bench, docs, README.md and CONTRIBUTING.md are clean', () => {
    const scanned: string[] = [];
    const hits: string[] = [];
    for (const top of SCANNED) {
      for (const file of files(join(ROOT, top))) {
        scanned.push(file);
        hits.push(...internalReferences(relative(ROOT, file), readFileSync(file, 'utf8')));
      }
    }
    expect(scanned.length).toBeGreaterThan(100);
    expect(hits).toEqual([]);
  });

  it('docs/protocol-decisions.md keeps the numbered entries #1-#37 that comments cite', () => {
    const doc = readFileSync(join(ROOT, 'docs/protocol-decisions.md'), 'utf8');
    const numbers = [...doc.matchAll(/^## #(\d+) — /gm)].map((m) => Number(m[1]));
    expect(numbers).toEqual(Array.from({ length: 37 }, (_, i) => i + 1));
    const cited = new Set<number>();
    for (const top of ['src', 'test', 'marbles', 'examples']) {
      for (const file of files(join(ROOT, top))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/protocol-decisions\.md`? #(\d+)/g)) cited.add(Number(m[1]));
      }
    }
    expect(cited.size).toBeGreaterThan(10);
    expect([...cited].filter((n) => !numbers.includes(n))).toEqual([]);
  });
});
