import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReadme } from '../../scripts/readme-options.js';
import { README_PATH } from '../support/readme.js';

const readme = readFileSync(README_PATH, 'utf8');

describe('README.md', () => {
  it('option tables match the doc comments of the options types (else: npm run docs:readme)', () => {
    expect(renderReadme(readme)).toBe(readme);
  }, 60_000);

  it('points at nothing users do not have', () => {
    expect(readme).not.toMatch(/DECISIONS|\/work\/|\.\.\/shared|protocol-[\w-]*\.md|protocol notes|STYLE\.md|API\.md|DESIGN\.md|\b(src|test|examples|scripts|bench)\/[\w.-]/);
    // no local links into the repository except files the package ships (package.json "files")
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)]+)\)/g)].map((m) => m[1]!);
    const shipped = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { files: string[] }).files;
    const unshipped = links.filter((link) => !shipped.some((f) => link === f || link.startsWith(`${f}/`)) || !existsSync(new URL(`../../${link}`, import.meta.url)));
    expect(unshipped).toEqual([]);
  });

  it('has the sections users look for, one `##` each', () => {
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    for (const h of ['Install', 'Quick start', 'Connecting', 'KV', 'Queues', 'Streams', 'Errors', 'Limits', 'Compatibility']) expect(headings).toContain(h);
    expect(headings.indexOf('Install')).toBe(0);
    expect(headings.indexOf('Quick start')).toBe(1);
    expect(new Set(headings).size).toBe(headings.length);
  });
});
