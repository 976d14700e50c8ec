/**
 * Reads a V8 CPU profile (`node --cpu-prof` writes `*.cpuprofile`) and prints where the time went:
 * self time per function (name, file:line) and per file, as a share of all samples, biggest first.
 * `(garbage collector)`, `(program)` (V8 and native work outside JS) and `(idle)` (waiting for I/O)
 * are V8's own entries. See CONTRIBUTING.md, "Profiling".
 * Usage: `npx tsx bench/profile-summary.ts <file.cpuprofile> [top=25]`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export interface Share {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const at = path.search(/\/(src|bench|node_modules)\//);
  return at >= 0 ? path.slice(at + 1) : path || '(native)';
}

/** Self time per function and per file, excluding `(idle)`. */
export function summarise(profile: CpuProfile): { total: number; idle: number; functions: Share[]; files: Share[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const f = url ? shortUrl(url) : functionName;
    file.set(f, (file.get(f) ?? 0) + us);
  }
  const rank = (m: Map<string, number>): Share[] =>
    [...m].map(([name, us]) => ({ name, ms: us / 1000, share: total > 0 ? us / total : 0 })).sort((a, b) => b.ms - a.ms);
  return { total: total / 1000, idle: idle / 1000, functions: rank(fn), files: rank(file) };
}

export function main(path: string, top = 25): void {
  const s = summarise(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile);
  const line = (x: Share) => `  ${(x.share * 100).toFixed(1).padStart(5)}%  ${x.ms.toFixed(0).padStart(7)} ms  ${x.name}`;
  console.log(`${path}: ${s.total.toFixed(0)} ms busy (shares below), ${s.idle.toFixed(0)} ms idle`);
  console.log('self time by function:');
  for (const x of s.functions.slice(0, top)) console.log(line(x));
  console.log('self time by file:');
  for (const x of s.files.slice(0, Math.ceil(top / 2))) console.log(line(x));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  const limit = Number(process.argv[3] ?? 25);
  if (!file) {
    console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exitCode = 2;
  } else {
    main(file, Number.isInteger(limit) && limit > 0 ? limit : 25);
  }
}
