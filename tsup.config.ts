import type { BuildOptions } from 'esbuild';
import { defineConfig, type Options } from 'tsup';

/**
 * The package's public entry points (each is a subpath in package.json "exports"). To add one, add a
 * line here and its block in "exports"; the package test (test/package/) loads every "exports" entry
 * from both module formats.
 */
export const entries = {
  index: 'src/index.ts',
  node: 'src/node.ts',
  server: 'src/server.ts',
  msgpack: 'src/msgpack.ts',
  otel: 'src/otel.ts',
  modular: 'src/modular/index.ts',
};

/** Dependencies and peers that stay `import`/`require` calls in the output. */
const external = ['rxjs', 'ws', 'msgpackr', 'yaml'];

/** What the ESM build leaves external (`bench/bundle-size.ts` builds it the same way). */
export const esmExternal = [...external, 'p-retry'];

/**
 * esbuild options of both builds, also applied by `bench/bundle-size.ts` when it bundles an app from
 * the sources.
 *
 * `mangleProps`: every property whose name ends with `_` gets a one- or two-letter name in the
 * published code (an app's minifier never renames properties, so this is the only place they can
 * get short). The convention: the TS-`private` members of the folders the browser entries reach
 * (`src/client`, `src/connection`, `src/modular`, `src/operators`, `src/observability`,
 * `src/projection`, `src/codec`) and the private and protected members of the frame decoder
 * (`src/protocol/decoder.ts`) end with `_`, as do the fields of the connection's internal books
 * (pending entries, deadline lists, the pending table's methods); not those of `src/server` and the rest of `src/protocol`; nothing
 * else may (a public name, an option, a wire or storage field ending with `_` would be renamed too),
 * and such a member is never read by a quoted name
 * (`x['name_']` is left alone). Write a private constructor parameter as a field plus an
 * assignment: esbuild shortens the assignment a parameter property becomes but not the field
 * declaration emitted with it.
 */
export const distEsbuildOptions = { mangleProps: /_$/ } as const;

/**
 * esbuild options that build the package's ESM as `tsup` builds `dist/` (same entries, chunk
 * splitting, target, externals and `distEsbuildOptions`), for the checks of what users get
 * (`bench/bundle-size.ts`, `test/build/`). `root`: the project folder, ending with `/`.
 * `mangle: false` leaves the private names long (to show a check can fail).
 */
export function publishedEsmBuild(root: string, outdir: string, mangle = true): BuildOptions {
  return {
    ...(mangle ? distEsbuildOptions : {}),
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, `${root}${file}`])),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir,
    external: esmExternal,
    logLevel: 'silent',
  };
}

const shared: Options = {
  // Readable, unminified output and no source maps (they would double the tarball).
  sourcemap: false,
  target: 'node20',
  // One copy of every module per format: shared code goes to chunks, so `FloError` from `flo-rx` and
  // from `flo-rx/node` is the same class (instanceof works across entries).
  splitting: true,
  // Declarations for the public entries only (not for the command).
  dts: { entry: entries },
  esbuildOptions(options) {
    Object.assign(options, distEsbuildOptions);
  },
};

export default defineConfig([
  {
    ...shared,
    // The `flo-rx` command (bin/flo-rx.js imports dist/cli.js) shares the chunks of the ESM build.
    entry: { ...entries, cli: 'src/cli/main.ts' },
    format: ['esm'],
    external: esmExternal,
  },
  {
    ...shared,
    entry: entries,
    format: ['cjs'],
    external,
    // p-retry (and its dependency) ship as ES modules only: require() cannot load them on every
    // Node version we support, so the CommonJS build carries its own copy. (jose, also ES modules
    // only, is loaded with import() where it is used: src/server/auth/jwt.ts.)
    noExternal: ['p-retry', 'is-network-error'],
  },
]);
