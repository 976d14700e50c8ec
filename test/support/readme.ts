// The README as tests read it: its code blocks, by section.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const README_PATH = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The first fenced code block of the `## <heading>` section of README.md, verbatim. */
export function readmeCodeBlock(heading: string, text = readFileSync(README_PATH, 'utf8')): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const block = /\n```[a-z]*\n([\s\S]*?)\n```\n/.exec(section);
  if (!block) throw new Error(`README.md "## ${heading}" has no code block`);
  return `${block[1]}\n`;
}

/** What the quick start prints when it runs (checked by the source-tree and the package tests). */
export const QUICK_START_OUTPUT = ['John Doe 1n', "{ welcomed: 'user:123' }"];
