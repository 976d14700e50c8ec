/**
 * Node-only helpers for processing definitions on disk: `syncProcessingFile` and
 * `syncProcessingDir` (the Go SDK's `Sync` / `SyncDir`). Kept apart so the universal entry never
 * imports `node:fs`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concatMap, defer, from, toArray, type Observable } from 'rxjs';
import type { RequestOptions } from '../core/index.js';
import type { ProcessingApi, ProcessingSyncResult } from './api.js';

/** Reads `path` (UTF-8) and `processing.sync`s it: submits one new job. */
export function syncProcessingFile(processing: Pick<ProcessingApi, 'sync'>, path: string, options: RequestOptions = {}): Observable<ProcessingSyncResult> {
  return defer(() => from(readFile(path, 'utf8'))).pipe(concatMap((text) => processing.sync(text, options)));
}

/** Syncs every `*.yaml` / `*.yml` file of `dir`, in name order, one after the other; emits all results. */
export function syncProcessingDir(processing: Pick<ProcessingApi, 'sync'>, dir: string, options: RequestOptions = {}): Observable<ProcessingSyncResult[]> {
  return defer(() => from(readdir(dir))).pipe(
    concatMap((names) => from(names.filter((n) => /\.ya?ml$/i.test(n)).sort())),
    concatMap((name) => syncProcessingFile(processing, join(dir, name), options)),
    toArray(),
  );
}
