/**
 * Node-only helpers for workflow definitions on disk: `syncFile` and `syncDir` (the Go SDK's
 * `SyncFile` / `SyncDir`). Kept out of `workflow.ts` so the universal entry never imports `node:fs`;
 * import this module from Node code only.
 */
import type { Observable } from 'rxjs';
import type { RequestOptions } from './core/index.js';
import type { WorkflowApi, WorkflowSyncResult } from './workflow.js';
import { syncYamlDir, syncYamlFile } from './yaml-files.js';

/** Reads `path` (UTF-8) and `workflow.sync`s it. */
export function syncFile(workflow: Pick<WorkflowApi, 'sync'>, path: string, options: RequestOptions = {}): Observable<WorkflowSyncResult> {
  return syncYamlFile((text) => workflow.sync(text, options), path);
}

/** Syncs every `*.yaml` / `*.yml` file of `dir`, in name order, one after the other; emits all results. */
export function syncDir(workflow: Pick<WorkflowApi, 'sync'>, dir: string, options: RequestOptions = {}): Observable<WorkflowSyncResult[]> {
  return syncYamlDir((text) => workflow.sync(text, options), dir);
}
