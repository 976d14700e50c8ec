/**
 * Browser bundle sizes of the client, the way a front-end bundler builds them (esbuild, platform
 * browser, ESM, minified, code splitting, rxjs and ws external), gzipped at level 9:
 *
 *   whole client:    everything `src/index.ts` exports
 *   connect+kv.get:  an app that only connects and reads one key (what tree-shaking leaves)
 *   modular entry:   everything `flo-rx/modular` exports (`src/modular/index.ts`)
 *   openFlo+kvGet:   the same one-key app written against the modular entry
 *   openFloDirect+kvGet: the same over `openFloDirect()` (one socket, no reconnect loop)
 *
 * Each bundle is split the way Vite, Rollup and esbuild split lazy `import()`s: "initial" is the
 * entry chunk and the shared chunks it imports statically (what an app loads to start and to
 * connect); "lazy" is what only a dynamic import reaches: the code of the stream and queue
 * calls, the rarer KV calls, the actions, workflow and processing calls and the action worker's
 * run loop, one chunk loaded on first use (`src/client/on-demand-modules.ts`). min+gz is the sum over the chunks, each gzipped on its own (each is its own
 * download), so code shared by the initial and the lazy chunks counts once, in the initial ones.
 * esbuild emits a chunk for every `import()` in an included file even when tree-shaking dropped
 * the call, so the lazy figure is what could load, not what must.
 *
 * Each app is measured twice: bundled from the sources (with the per-file breakdown) and bundled from
 * the package's ESM build as `npm run build` makes it (`publishedBundleSizes`), what a user's bundler
 * really gets; the two differ where the build's shared chunks group start-up and on-demand code.
 *
 * Run: `npx tsx bench/bundle-size.ts` (also part of `npm run bench`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { distEsbuildOptions, publishedEsmBuild } from '../tsup.config.js';

const root = fileURLToPath(new URL('../', import.meta.url));

export interface BundleSize {
  readonly label: string;
  /** Initial chunks (entry and its static imports), minified bytes. */
  readonly minBytes: number;
  /** Initial chunks, each gzipped, summed. */
  readonly gzipBytes: number;
  /** Chunks reached only through a dynamic `import()`: minified and gzipped bytes, and the source files in them. */
  readonly lazy: { readonly minBytes: number; readonly gzipBytes: number; readonly files: readonly string[] };
  /** Minified bytes each source file contributes to the initial chunks, biggest first. */
  readonly inputs: ReadonlyArray<{ readonly file: string; readonly bytes: number }>;
}

/**
 * esbuild's options for an app's browser bundle as this bench measures it (as Vite and Rollup build
 * apps: code splitting, minified, rxjs external), with the published build's options
 * (`distEsbuildOptions`: its shortened internal property names). The caller adds the entry.
 */
export function appBundleOptions(outdir: string): BuildOptions & { metafile: true; write: false } {
  return {
    ...distEsbuildOptions,
    bundle: true,
    write: false,
    outdir,
    splitting: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    external: ['rxjs', 'rxjs/*', 'ws'],
    logLevel: 'silent',
    metafile: true,
  };
}

/** The output files an entry loads before any dynamic import: the entry and its static imports, transitively. */
export function initialOutputs(metafile: Metafile): Set<string> {
  const entry = Object.keys(metafile.outputs).find((path) => metafile.outputs[path]!.entryPoint !== undefined)!;
  const initial = new Set<string>([entry]);
  for (const path of initial) {
    for (const imported of metafile.outputs[path]!.imports) {
      if (imported.kind === 'import-statement' && !imported.external) initial.add(imported.path);
    }
  }
  return initial;
}

/** The entry point and plugin that make `contents` (TypeScript, imports relative to `resolveDir`) an app's entry file. */
export function appEntry(contents: string, resolveDir = root): Pick<BuildOptions, 'entryPoints' | 'plugins'> {
  return {
    entryPoints: ['bundle-entry'],
    plugins: [
      {
        name: 'entry',
        setup(b) {
          b.onResolve({ filter: /^bundle-entry$/ }, () => ({ path: 'bundle-entry.ts', namespace: 'entry' }));
          b.onLoad({ filter: /.*/, namespace: 'entry' }, () => ({ contents, loader: 'ts', resolveDir }));
        },
      },
    ],
  };
}

/**
 * Bundles `contents` (an app's entry, relative to the project root) and measures it; see the header.
 * The sources get the options the published build gets (`distEsbuildOptions`: its shortened internal
 * property names), so the per-file figures are those of the published code.
 */
export async function measure(label: string, contents: string, resolveDir = root): Promise<BundleSize> {
  const result = await build({ ...appBundleOptions(`${root}.bundle-size-out`), ...appEntry(contents, resolveDir) });
  const metafile = result.metafile;
  const initial = initialOutputs(metafile);
  const sizes = { initial: { min: 0, gz: 0 }, lazy: { min: 0, gz: 0 } };
  const byInput = new Map<string, number>();
  const lazyFiles = new Set<string>();
  for (const file of result.outputFiles) {
    const path = Object.keys(metafile.outputs).find((p) => file.path.endsWith(p))!;
    const part = initial.has(path) ? sizes.initial : sizes.lazy;
    part.min += file.contents.length;
    part.gz += gzipSync(file.contents, { level: 9 }).length;
    if (!initial.has(path)) {
      for (const [input, info] of Object.entries(metafile.outputs[path]!.inputs)) if (info.bytesInOutput > 0) lazyFiles.add(input);
      continue;
    }
    for (const [input, info] of Object.entries(metafile.outputs[path]!.inputs)) {
      byInput.set(input, (byInput.get(input) ?? 0) + info.bytesInOutput);
    }
  }
  const inputs = [...byInput].map(([file, bytes]) => ({ file, bytes })).sort((a, b) => b.bytes - a.bytes);
  return {
    label,
    minBytes: sizes.initial.min,
    gzipBytes: sizes.initial.gz,
    lazy: { minBytes: sizes.lazy.min, gzipBytes: sizes.lazy.gz, files: [...lazyFiles].sort() },
    inputs,
  };
}

/** The apps measured, written against an entry file of `flo-rx` (`index`) and of `flo-rx/modular` (`modular`). */
export const apps = (index: string, modular: string): Array<[string, string]> => [
  ['whole client', `export * from '${index}';`],
  ['connect + kv.get', `import { connect } from '${index}';\nconnect('ws://localhost:9000').kv.get('k').subscribe((e) => console.log(e));`],
  ['modular entry', `export * from '${modular}';`],
  ['openFlo + kvGet', `import { openFlo, kvGet } from '${modular}';\nkvGet(openFlo('ws://localhost:9000'), 'k').subscribe((e) => console.log(e));`],
  ['openFloDirect+kvGet', `import { openFloDirect, kvGet } from '${modular}';\nkvGet(openFloDirect('ws://localhost:9000'), 'k').subscribe((e) => console.log(e));`],
];

/** The apps bundled from the sources (per-file figures). */
export function bundleSizes(): Promise<BundleSize[]> {
  return Promise.all(apps('./src/index.ts', './src/modular/index.ts').map(([label, contents]) => measure(label, contents)));
}

/**
 * The same apps bundled from the published ESM, what an app's bundler gets from `npm install flo-rx`:
 * the package's ESM build made as `tsup` makes `dist/` (same entries, chunk splitting, target and
 * externals; `tsup.config.ts`), written to a temporary directory in the project. Its chunks group modules by the
 * entries that reach them, so an app can carry code that the sources' figures leave out.
 */
export async function publishedBundleSizes(): Promise<BundleSize[]> {
  // Inside the project, so that the build's imports of p-retry resolve from its node_modules.
  const dir = mkdtempSync(join(root, '.bundle-size-dist-'));
  try {
    await build(publishedEsmBuild(root, dir));
    return await Promise.all(
      apps(`./index.js`, `./modular.js`).map(([label, contents]) => measure(label, contents, dir)),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export async function main(): Promise<BundleSize[]> {
  const [sizes, published] = await Promise.all([bundleSizes(), publishedBundleSizes()]);
  console.log('bundle-size: browser bundles, minified, without rxjs (initial chunks; + lazy chunks)');
  for (const [i, s] of sizes.entries()) {
    const lazy = s.lazy.minBytes > 0 ? ` (+ lazy ${kb(s.lazy.gzipBytes)} min+gz)` : '';
    const p = published[i]!;
    console.log(`  ${s.label.padEnd(20)} ${kb(s.minBytes).padStart(9)} min, ${kb(s.gzipBytes).padStart(8)} min+gz${lazy}; biggest sources (min):`);
    console.log(`    ${s.inputs.slice(0, 10).map((i) => `${i.file} ${kb(i.bytes)}`).join(', ')}`);
    console.log(`    bytes min+gz from the sources ${s.gzipBytes} B, from the published ESM ${p.gzipBytes} B (${kb(p.minBytes)} min, lazy ${p.lazy.gzipBytes} B)`);
  }
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
