/**
 * Node-only helpers for processing definitions on disk: `syncProcessingFile` and
 * `syncProcessingDir` (the Go SDK's `Sync` / `SyncDir`). Kept apart so the universal entry never
 * imports `node:fs`.
 */
import type { Observable } from 'rxjs';
import type { RequestOptions } from '../core/index.js';
import { syncYamlDir, syncYamlFile } from '../yaml-files.js';
import type { ProcessingApi, ProcessingSyncResult } from './api.js';

/** Reads `path` (UTF-8) and `processing.sync`s it: submits one new job. */
export function syncProcessingFile(processing: Pick<ProcessingApi, 'sync'>, path: string, options: RequestOptions = {}): Observable<ProcessingSyncResult> {
  return syncYamlFile((text) => processing.sync(text, options), path);
}

/** Syncs every `*.yaml` / `*.yml` file of `dir`, in name order, one after the other; emits all results. */
export function syncProcessingDir(processing: Pick<ProcessingApi, 'sync'>, dir: string, options: RequestOptions = {}): Observable<ProcessingSyncResult[]> {
  return syncYamlDir((text) => processing.sync(text, options), dir);
}
