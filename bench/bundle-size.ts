/**
 * Browser bundle sizes of the client, the way a front-end bundler builds them (esbuild, platform
 * browser, ESM, minified, rxjs and ws external), gzipped at level 9:
 *
 *   whole client:   everything `src/index.ts` exports
 *   connect+kv.get: an app that only connects and reads one key (what tree-shaking leaves)
 *   modular entry:  everything `flo-rx/modular` exports (`src/modular/index.ts`)
 *   openFlo+kvGet:  the same one-key app written against the modular entry
 *
 * Run: `npx tsx bench/bundle-size.ts` (also part of `npm run bench`).
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));

export interface BundleSize {
  readonly label: string;
  readonly minBytes: number;
  readonly gzipBytes: number;
  /** Minified bytes each source file contributes, biggest first. */
  readonly inputs: ReadonlyArray<{ readonly file: string; readonly bytes: number }>;
}

async function measure(label: string, contents: string): Promise<BundleSize> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'bundle-entry.ts' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    external: ['rxjs', 'rxjs/*', 'ws'],
    logLevel: 'silent',
    metafile: true,
  });
  const code = result.outputFiles[0]!.contents;
  const output = Object.values(result.metafile.outputs)[0]!;
  const inputs = Object.entries(output.inputs)
    .map(([file, info]) => ({ file, bytes: info.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  return { label, minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, inputs };
}

export function bundleSizes(): Promise<BundleSize[]> {
  return Promise.all([
    measure('whole client', "export * from './src/index.ts';"),
    measure(
      'connect + kv.get',
      "import { connect } from './src/index.ts';\nconnect('ws://localhost:9000').kv.get('k').subscribe((e) => console.log(e));",
    ),
    measure('modular entry', "export * from './src/modular/index.ts';"),
    measure(
      'openFlo + kvGet',
      "import { openFlo, kvGet } from './src/modular/index.ts';\nkvGet(openFlo('ws://localhost:9000'), 'k').subscribe((e) => console.log(e));",
    ),
  ]);
}

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export async function main(): Promise<BundleSize[]> {
  const sizes = await bundleSizes();
  console.log('bundle-size: browser bundles, minified, without rxjs');
  for (const s of sizes) {
    console.log(`  ${s.label.padEnd(20)} ${kb(s.minBytes).padStart(9)} min, ${kb(s.gzipBytes).padStart(8)} min+gz; biggest sources (min):`);
    console.log(`    ${s.inputs.slice(0, 10).map((i) => `${i.file} ${kb(i.bytes)}`).join(', ')}`);
  }
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
