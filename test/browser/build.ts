/**
 * Browser bundles for the browser tests, built in memory with esbuild (tsup's own bundler),
 * the way a front-end bundler would take the universal entry: platform 'browser', ESM, minified,
 * with `rxjs` (a peer dependency) and `ws` (Node-only, loaded lazily) external.
 */
import { builtinModules } from 'node:module';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';

export interface BrowserBundle {
  readonly code: string;
  readonly metafile: Metafile;
  /** Every import of `ws` the bundler saw, with its kind ('import-statement', 'dynamic-import', ...). */
  readonly wsImports: readonly { importer: string; kind: string }[];
  /** Every Node builtin (`node:x` or a bare builtin name) some module imported. */
  readonly nodeBuiltins: readonly { path: string; importer: string }[];
}

const builtins = new Set(builtinModules.filter((m) => !m.startsWith('_')));

/** Records (and externalizes) imports of `ws` and of Node builtins, so a test can assert on them. */
function watchImports(wsImports: { importer: string; kind: string }[], nodeBuiltins: { path: string; importer: string }[]): Plugin {
  return {
    name: 'watch-imports',
    setup(b) {
      b.onResolve({ filter: /^ws$/ }, (args) => {
        wsImports.push({ importer: args.importer, kind: args.kind });
        return { path: 'ws', external: true };
      });
      b.onResolve({ filter: /^(node:)?[a-z_][a-z0-9_/]*$/ }, (args) => {
        const name = args.path.replace(/^node:/, '');
        if (!args.path.startsWith('node:') && !builtins.has(name)) return undefined;
        nodeBuiltins.push({ path: args.path, importer: args.importer });
        return { path: args.path, external: true };
      });
    },
  };
}

export async function bundleForBrowser(
  entry: { file: string } | { contents: string; resolveDir: string },
  options: Pick<BuildOptions, 'minify' | 'external'> = {},
): Promise<BrowserBundle> {
  const wsImports: { importer: string; kind: string }[] = [];
  const nodeBuiltins: { path: string; importer: string }[] = [];
  const result = await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, loader: 'ts', sourcefile: 'entry.ts' } }),
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: options.minify ?? true,
    external: options.external ?? ['rxjs', 'rxjs/*', 'ws'],
    metafile: true,
    logLevel: 'silent',
    plugins: [watchImports(wsImports, nodeBuiltins)],
  });
  const out = result.outputFiles[0];
  return { code: out.text, metafile: result.metafile, wsImports, nodeBuiltins };
}
