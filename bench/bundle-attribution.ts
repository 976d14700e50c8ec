/**
 * Where the gzipped bytes of a browser bundle come from, per source file: bundles an app as
 * `bench/bundle-size.ts` does (its apps and esbuild settings, `appBundleOptions`), maps every minified
 * character of the start-up chunks back to its source file through the source map, and reports for
 * each file its minified bytes and its marginal gzip bytes: how much smaller the gzipped chunk gets
 * when that file's characters are cut out of it (what removing the file's code would save, with
 * gzip's cross-file back-references accounted for; the marginals do not sum to the total).
 *
 * Run: `npx tsx bench/bundle-attribution.ts [app]`, app one of `whole` (default, `export * from
 * 'flo-rx'`), `kv` (`connect` + `kv.get`), `direct` (`openFloDirect` + `kvGet`). `BUNDLE_DUMP=dir`
 * also writes the chunks there, for reading.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { appBundleOptions, apps, initialOutputs } from './bundle-size.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The app names taken on the command line, as `bundle-size.ts` labels those apps. */
const APP_LABELS: Record<string, string> = { whole: 'whole client', kv: 'connect + kv.get', direct: 'openFloDirect+kvGet' };

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes a source map's `mappings` into, per generated line, [column, source index] pairs. */
function decodeMappings(mappings: string): Array<Array<[number, number]>> {
  const lines: Array<Array<[number, number]>> = [];
  let source = 0;
  for (const line of mappings.split(';')) {
    const segs: Array<[number, number]> = [];
    let col = 0;
    for (const seg of line.split(',')) {
      if (!seg) continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      col += values[0]!;
      if (values.length > 1) source += values[1]!;
      segs.push([col, values.length > 1 ? source : -1]);
    }
    lines.push(segs);
  }
  return lines;
}

const gz = (text: string) => gzipSync(Buffer.from(text), { level: 9 }).length;

async function main(): Promise<void> {
  const app = process.argv[2] ?? 'whole';
  const contents = apps('./src/index.ts', './src/modular/index.ts').find(([label]) => label === APP_LABELS[app])?.[1];
  if (contents === undefined) throw new Error(`unknown app ${app}: ${Object.keys(APP_LABELS).join(', ')}`);
  const result = await build({
    ...appBundleOptions(`${root}.bundle-attribution-out`),
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'app-entry.ts' },
    sourcemap: 'external',
  });
  const outputs = result.metafile.outputs;
  const initial = initialOutputs(result.metafile);
  const dump = process.env.BUNDLE_DUMP;
  if (dump) mkdirSync(dump, { recursive: true });
  const rows = new Map<string, { min: number; gz: number }>();
  let total = 0;
  for (const file of result.outputFiles) {
    if (!file.path.endsWith('.js')) continue;
    const path = Object.keys(outputs).find((p) => file.path.endsWith(p))!;
    if (dump) writeFileSync(`${dump}/${path.split('/').pop()}`, file.contents);
    if (!initial.has(path)) continue;
    const map = JSON.parse(result.outputFiles.find((f) => f.path === `${file.path}.map`)!.text) as { sources: string[]; mappings: string };
    const text = file.text;
    const full = gz(text);
    total += full;
    // owner[i]: the source index of character i (-1: none, e.g. import lists the bundler wrote).
    const owner = new Int32Array(text.length).fill(-1);
    const lines = decodeMappings(map.mappings);
    let offset = 0;
    const textLines = text.split('\n');
    for (const [l, segs] of lines.entries()) {
      const len = textLines[l]?.length ?? 0;
      for (const [k, [col, src]] of segs.entries()) {
        const end = k + 1 < segs.length ? segs[k + 1]![0] : len;
        owner.fill(src, offset + col, offset + end);
      }
      offset += len + 1;
    }
    // The chunk's closing export list has no mapping of its own: it is the bundler's, not the last file's.
    const exportList = text.lastIndexOf('export{');
    if (exportList >= 0) owner.fill(-1, exportList);
    const bySource = new Map<number, number>();
    for (const o of owner) bySource.set(o, (bySource.get(o) ?? 0) + 1);
    for (const [src, count] of bySource) {
      let rest = '';
      for (let i = 0; i < text.length; ) {
        let j = i;
        while (j < text.length && (owner[j] === src) === (owner[i] === src)) j++;
        if (owner[i] !== src) rest += text.slice(i, j);
        i = j;
      }
      const name = src < 0 ? '(bundler: imports, exports, glue)' : map.sources[src]!.replace(/^(\.\.\/)+/, '');
      const row = rows.get(name) ?? { min: 0, gz: 0 };
      row.min += count;
      row.gz += full - gz(rest);
      rows.set(name, row);
    }
  }
  const sorted = [...rows].sort((a, b) => b[1].gz - a[1].gz);
  const lines = sorted.map(([name, row]) => `  ${String(row.gz).padStart(6)} ${String(row.min).padStart(7)}  ${name}`);
  console.log([`bundle-attribution (${app}): start-up chunks ${total} B min+gz; per source: marginal gzip bytes, min bytes`, ...lines].join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
