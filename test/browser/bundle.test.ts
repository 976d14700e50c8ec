/**
 * The universal entry bundles for browsers: no Node builtin, and `ws` reached only through the
 * lazy dynamic import that a browser never executes (it has a global WebSocket).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { appBundleOptions, appEntry, initialOutputs, measure } from '../../bench/bundle-size.js';
import { bundleForBrowser, type BrowserBundle } from './build.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const universalEntry = `${root}src/index.ts`;

/** The universal entry `src/index.ts` (client, codecs, errors, WebSocket transport, projections). */
function entry(): { label: string; bundle: () => Promise<BrowserBundle> } {
  return { label: 'src/index.ts', bundle: () => bundleForBrowser({ file: universalEntry }) };
}

/** Node builtins as a bundle would reference them: `from "node:x"`, `import("fs")`, `require("net")`. */
const NODE_BUILTIN_REFERENCE =
  /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s*)["'](?:node:[\w/]+|fs|net|tls|http|https|http2|os|path|crypto|stream|zlib|child_process|worker_threads|dns|dgram|events|buffer|util|url|module|readline|perf_hooks|async_hooks)["']/;

describe('browser bundle of the universal entry', () => {
  const { label, bundle } = entry();

  it(`has no Node builtin and does not need ws (${label})`, async () => {
    const b = await bundle();

    expect(b.nodeBuiltins).toEqual([]);
    expect(b.code).not.toMatch(NODE_BUILTIN_REFERENCE);

    // ws: never bundled, and only ever the dynamic import inside the transport factory.
    expect(Object.keys(b.metafile.inputs).filter((f) => /node_modules[\\/]ws[\\/]/.test(f))).toEqual([]);
    expect(b.wsImports.length).toBeGreaterThan(0);
    for (const i of b.wsImports) expect(i).toEqual({ importer: expect.stringMatching(/websocket\.ts$/), kind: 'dynamic-import' });
    expect(b.code).not.toMatch(/from\s*["']ws["']/);
    expect(b.code).not.toMatch(/import\s*["']ws["']/);

    const min = Buffer.byteLength(b.code);
    const gz = gzipSync(b.code, { level: 9 }).length;
    const report = { entry: label, minifiedBytes: min, minifiedGzipBytes: gz };
    console.log(`browser bundle (${label}): ${(min / 1024).toFixed(1)} KiB min, ${(gz / 1024).toFixed(1)} KiB min+gzip`);
    mkdirSync(`${root}test-output/browser`, { recursive: true });
    writeFileSync(`${root}test-output/browser/bundle-size.json`, `${JSON.stringify(report, null, 2)}\n`);
    expect(min).toBeGreaterThan(0);
  });

  it('bundles the event-sourced board page (rxjs inside) with no Node builtin', async () => {
    const b = await bundleForBrowser({ file: `${root}examples/event-sourced-ui/main.ts` }, { external: ['ws'] });
    expect(b.nodeBuiltins).toEqual([]);
    expect(b.code).not.toMatch(NODE_BUILTIN_REFERENCE);
    expect(Object.keys(b.metafile.inputs).some((f) => /node_modules[\\/]rxjs[\\/]/.test(f))).toBe(true);
    expect(Object.keys(b.metafile.inputs).some((f) => /src[\\/]projection[\\/]project\.ts$/.test(f))).toBe(true);
    const gz = gzipSync(b.code, { level: 9 }).length;
    console.log(`browser bundle (examples/event-sourced-ui, rxjs included): ${(b.code.length / 1024).toFixed(1)} KiB min, ${(gz / 1024).toFixed(1)} KiB min+gzip`);
  });

  it('is tree-shakeable: importing one export from the entry bundles only its own module', async () => {
    // No module reachable from the entry may run code at load time, or it would be kept here.
    // esbuild without code splitting wraps the modules a dynamic import() reaches (the APIs' code
    // loaded on first use, and the entry, which on-demand-modules.ts imports) in init functions,
    // and each barrel (`index.ts`) calls the init of what it re-exports: those calls are all the
    // barrels may add, a few bytes each.
    const sources = async (contents: string) => {
      const b = await bundleForBrowser({ contents, resolveDir: root });
      const output = Object.values(b.metafile.outputs)[0]!;
      const isBarrel = (file: string) => /^src\/(\w+\/)?index\.ts$/.test(file);
      for (const [file, info] of Object.entries(output.inputs)) if (isBarrel(file)) expect(info.bytesInOutput, file).toBeLessThan(64);
      return Object.entries(output.inputs)
        .filter(([file, info]) => info.bytesInOutput > 0 && file.startsWith('src/') && !isBarrel(file))
        .map(([file]) => file)
        .sort();
    };
    expect(await sources("import { Status } from './src/index.ts'; console.log(Status);")).toEqual(['src/protocol/status.ts']);
    expect(await sources("import { isRetryable } from './src/index.ts'; console.log(isRetryable);")).toEqual([
      'src/protocol/errors.ts',
      'src/protocol/status.ts',
    ]);
    // The opcode names are built on first use: naming one opcode needs Op, not a table of names.
    const named = await bundleForBrowser({
      contents: "import { opcodeName, Op } from './src/protocol/opcodes.ts'; console.log(opcodeName(Op.KvGet));",
      resolveDir: root,
    });
    expect(named.code).not.toContain('kv_get');
    expect(named.code).toContain('KvGet');
  });

  it("loads the action worker's run loop, the actions, workflow and processing calls and the rarer KV calls, the queue calls and the stream calls on first use, not with the entry", async () => {
    const whole = await measure('whole client', "export * from './src/index.ts';");
    const initial = whole.inputs.filter((i) => i.bytes > 0).map((i) => i.file);
    const onDemand = [
      'src/client/action-worker/run.ts',
      'src/client/action-worker/task.ts',
      'src/client/actions/calls.ts',
      'src/client/workflow/calls.ts',
      'src/client/processing/calls.ts',
      'src/client/kv-rare-calls.ts',
      'src/client/kv-txn.ts',
      'src/client/queue-calls.ts',
      'src/protocol/queue.ts',
      'src/client/stream.ts',
      // Bundle round 4: the parts of shared files only the on-demand code uses.
      'src/protocol/kv-rare.ts',
      'src/protocol/byte-reader.ts',
      'src/protocol/name-bytes.ts',
      'src/client/core/leasing-source.ts',
      'src/client/core/slow-handler-watch.ts',
      'src/client/core/poll-until-terminal.ts',
      // Bundle round 5: the settle coalescer (built on first use), kv.watch's rounds and the read loops.
      'src/client/core/coalescer.ts',
      'src/client/core/settles.ts',
      'src/client/kv-watch.ts',
      'src/client/core/poll.ts',
      'src/client/core/drain-of.ts',
      // Bundle round 6: project()'s fold loads at the first subscription, with the stream calls.
      'src/projection/project-run.ts',
      'src/projection/reset-reason.ts',
      // and streamWorker's pipeline; the drain control (settle() imports drain.ts for its options).
      'src/client/stream-worker-run.ts',
      'src/client/core/drain-control.ts',
      // Bundle round 7: the lease class (the operators reach it through lease-settle.ts's keys).
      'src/client/core/lease.ts',
      // Bundle round 8: the base class of queue messages and stream records (the KV entries' base
      // is core/lazily-decoded.ts).
      'src/client/core/payload-item.ts',
    ];
    for (const file of onDemand) {
      expect(initial).not.toContain(file);
      expect(whole.lazy.files).toContain(file);
    }
    // What the public API needs before any call stays in the entry: the API classes, the worker's
    // option checks and the error classes users throw and test with instanceof.
    // The client names its requests from ClientOp: the full opcode table is not in the bundle.
    expect(initial).not.toContain('src/protocol/opcodes.ts');
    expect(whole.lazy.files).not.toContain('src/protocol/opcodes.ts');
    // project() keeps its argument checks and the sharing at start: a few hundred bytes, not its fold.
    expect(whole.inputs.find((i) => i.file === 'src/projection/project.ts')!.bytes).toBeLessThan(1500);
    for (const file of ['src/client/kv.ts', 'src/client/queue.ts', 'src/client/stream-api.ts', 'src/client/actions.ts', 'src/client/workflow.ts', 'src/client/processing/api.ts', 'src/client/action-worker/errors.ts', 'src/client/action-worker/options.ts']) {
      expect(initial).toContain(file);
    }
  });

  it('keeps what only leasing code uses out of the start-up chunks of an app that connects and reads a key', async () => {
    const app = await measure(
      'connect + kv.get',
      "import { connect } from './src/index.ts';\nconnect('ws://localhost:9000').kv.get('k').subscribe((e) => console.log(e));",
    );
    const initial = app.inputs.filter((i) => i.bytes > 0).map((i) => i.file);
    // Bundle round 5: the settle coalescer is built on first use (core/settles.ts), by the lazy code;
    // kv.watch's rounds and the read loops of core/poll.ts load on first use (kv-watch.ts).
    // The drain control is built on first use too (core/drain-of.ts).
    for (const file of [
      'src/client/core/coalescer.ts',
      'src/client/core/settles.ts',
      'src/client/kv-watch.ts',
      'src/client/core/poll.ts',
      'src/client/core/drain.ts',
      'src/client/core/drain-of.ts',
      'src/client/core/drain-control.ts',
    ]) {
      expect(initial).not.toContain(file);
      expect(app.lazy.files).toContain(file);
    }
    // What connect + kv.get runs stays at start: the connection, its transport, the KV API.
    for (const file of ['src/connection/connection.ts', 'src/connection/websocket.ts', 'src/client/kv.ts', 'src/client/core/call.ts']) {
      expect(initial).toContain(file);
    }
  });

  it("puts the whole start-up code of the library in one chunk next to the app's own (esbuild splits by importer sets)", async () => {
    // esbuild puts every file that both the start-up code and the on-demand chunk reach into a chunk
    // of its own, gzipped apart from the entry chunk, with a binding list each way. The on-demand
    // chunk's bare import of the entry (on-demand-modules.ts) makes every live start-up file reached
    // from both, so the library's start-up code is that one chunk and the entry chunk is the app's.
    for (const app of [
      "export * from './src/index.ts';",
      "import { connect } from './src/index.ts';\nconnect('ws://localhost:9000').kv.get('k').subscribe((e) => console.log(e));",
    ]) {
      const result = await build({ ...appBundleOptions(`${root}.bundle-test-out`), ...appEntry(app, root) });
      const outputs = result.metafile.outputs;
      const entryChunk = Object.keys(outputs).find((path) => outputs[path]!.entryPoint !== undefined)!;
      const entryFiles = Object.entries(outputs[entryChunk]!.inputs).filter(([, info]) => info.bytesInOutput > 0).map(([file]) => file);
      expect(entryFiles.filter((file) => file !== 'entry:bundle-entry.ts')).toEqual([]); // only the app's own code
      const library = [...initialOutputs(result.metafile)].filter((path) => path !== entryChunk);
      expect(library).toHaveLength(1);
      const libraryFiles = Object.keys(outputs[library[0]!]!.inputs);
      for (const file of ['src/connection/connection.ts', 'src/client/kv.ts', 'src/client/client.ts', 'src/protocol/errors.ts']) {
        expect(libraryFiles).toContain(file);
      }
      // and the on-demand code stays on demand
      expect(libraryFiles).not.toContain('src/client/stream.ts');
      expect(libraryFiles).not.toContain('src/client/core/lease.ts');
    }
  });

  it('would fail on a static ws import (the check has teeth)', async () => {
    const b = await bundleForBrowser({
      contents: "import { WebSocket } from 'ws'; import * as net from 'node:net'; export const x = [WebSocket, net];",
      resolveDir: root,
    });
    expect(b.wsImports).toEqual([expect.objectContaining({ kind: 'import-statement' })]);
    expect(b.nodeBuiltins).toEqual([expect.objectContaining({ path: 'node:net' })]);
    expect(b.code).toMatch(NODE_BUILTIN_REFERENCE);
  });
});
