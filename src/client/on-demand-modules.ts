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
 */
export * as kvRareCalls from './kv-rare-calls.js';
export * as actionsCalls from './actions/calls.js';
export * as workflowCalls from './workflow/calls.js';
export * as processingCalls from './processing/calls.js';
export * as actionWorkerRun from './action-worker/run.js';
export * as queueCalls from './queue-calls.js';
export * as streamCalls from './stream.js';
export * as projection from '../projection/project-run.js';
export * as streamWorkerRun from './stream-worker-run.js';
