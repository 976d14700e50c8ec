/**
 * The modular entry (`src/modular/index.ts`) bundles for browsers: no Node builtin, `ws` only
 * through the WebSocket transport's lazy import, and an app that opens a context and reads one key
 * carries none of `FloClient`'s subsystem APIs. The size ceiling is deliberately generous (the
 * figure itself is tracked by `npx tsx bench/bundle-size.ts`); it catches an import that drags the
 * whole client back in, not small growth.
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../browser/build.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const NODE_BUILTIN_REFERENCE = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s*)["'](?:node:[\w/]+|fs|net|tls|http|https|os|path|crypto|stream|zlib|child_process|worker_threads|events|buffer|util|url|module)["']/;

describe('browser bundle of the modular entry', () => {
  it('has no Node builtin; ws only through the lazy import of the WebSocket transport', async () => {
    const b = await bundleForBrowser({ file: `${root}src/modular/index.ts` });
    expect(b.nodeBuiltins).toEqual([]);
    expect(b.code).not.toMatch(NODE_BUILTIN_REFERENCE);
    expect(b.wsImports.length).toBeGreaterThan(0);
    for (const i of b.wsImports) expect(i).toEqual({ importer: expect.stringMatching(/websocket\.ts$/), kind: 'dynamic-import' });
  });

  it('openFlo + kvGet carries no subsystem API of FloClient and stays under 20 KB min+gz', async () => {
    const b = await bundleForBrowser({
      contents: "import { openFlo, kvGet } from './src/modular/index.ts';\nkvGet(openFlo('ws://localhost:9000'), 'k').subscribe((e) => console.log(e));",
      resolveDir: root,
    });
    const output = Object.values(b.metafile.outputs)[0]!;
    const bytesOf = (file: string) => output.inputs[file]?.bytesInOutput ?? 0;
    expect(bytesOf('src/modular/kv.ts')).toBeGreaterThan(0);
    // Modules the bundler walked through (imports of types, one shared helper) may appear with
    // what the app uses of them; none of FloClient's API classes or other subsystems' codecs may.
    const kept = Object.keys(b.metafile.inputs)
      .filter((f) => bytesOf(f) > 0)
      .filter((f) => /src\/client\/(?!core\/|kv-args|kv-entry|kv-types|connect|endpoints)|src\/protocol\/(stream|queue|workflow|action|worker|processing)\.ts$|src\/projection\//.test(f));
    expect(kept.map((f) => `${f} ${bytesOf(f)} B`)).toEqual([]);
    const gz = gzipSync(b.code, { level: 9 }).length;
    expect(gz).toBeLessThan(20 * 1024);
  });

  it('openFloDirect + kvGet carries neither Connection nor p-retry', async () => {
    const b = await bundleForBrowser({
      contents: "import { openFloDirect, kvGet } from './src/modular/index.ts';\nkvGet(openFloDirect('ws://localhost:9000'), 'k').subscribe((e) => console.log(e));",
      resolveDir: root,
    });
    const output = Object.values(b.metafile.outputs)[0]!;
    const kept = Object.keys(output.inputs).filter((f) => output.inputs[f]!.bytesInOutput > 0);
    expect(kept).toContain('src/connection/direct-channel.ts');
    expect(kept).toContain('src/modular/kv.ts');
    expect(kept.filter((f) => /src\/connection\/(connection|outbox|pending|deadlines|tracing)\.ts$|p-retry|is-network-error/.test(f))).toEqual([]);
    expect(b.nodeBuiltins).toEqual([]);
  });
});
