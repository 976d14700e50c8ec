/**
 * Every module the client loads on demand (`onDemand` in `on-demand.ts`), behind ONE dynamic
 * import: the rarer KV calls, the queue and DLQ calls, the stream calls, the calls of `actions`,
 * `workflow` and `processing`, the action worker's run loop, and the fold of `project()` and the
 * pipeline of `streamWorker` (both read through the stream calls, so they need this chunk anyway). One lazy module rather than one per API because
 * a bundler (esbuild, Rollup, Vite) puts each group of modules shared by the entry and a different
 * set of lazy modules into a chunk of its own, and each chunk is gzipped apart: six lazy modules
 * split the start-up code into seven files, which cost 1.3 KB more min+gz than the same code in
 * two (`bench/bundle-size.ts`; docs/benchmarks.md, bundle round 3). The price: the first call of
 * any of them loads all of them (one file, 17 KB min+gz).
 *
 * Import this module only with `import()`; elsewhere import only types from the modules below.
 *
 * Their exports are re-exported by name (`export *`: a name two of them exported would be a type
 * error), not as one namespace object per module (`export * as`): a bundler builds a namespace
 * object with a helper of its own (esbuild's `__export`), which esbuild puts into the chunk this
 * module shares with the start-up code (60 B min+gz; docs/benchmarks.md, bundle round 12).
 */

// Nothing is used from the entry here (it has no side effects, `"sideEffects": false`), so Rollup,
// Vite and webpack drop this import. It is for esbuild's code splitting, which puts every file
// reached from both the app's entry and this module into a chunk of their own, apart from the
// files only the entry reaches: this import makes every start-up file the app uses reached from
// here too, so the library's start-up code is one chunk instead of two downloads gzipped apart
// with a list of ~110 bindings between them (−835 B min+gz for the whole client; docs/benchmarks.md,
// bundle round 11). It adds no code to any app: only files the app already uses are reached.
import '../index.js';
export * from './kv-rare-calls.js';
export * from './actions/calls.js';
export * from './workflow/calls.js';
export * from './processing/calls.js';
export * from './action-worker/run.js';
export * from './queue-calls.js';
export * from './stream.js';
export * from '../projection/project-run.js';
export * from './stream-worker-run.js';
