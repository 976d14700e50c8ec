/**
 * Node-only: feeds YAML definitions on disk to a `sync` call (workflows, processing jobs). Imported
 * only by the Node entry's helpers (`workflow-file.ts`, `processing/file.ts`), so the universal entry
 * never pulls in `node:fs`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concatMap, defer, from, toArray, type Observable } from 'rxjs';

/** Reads `path` (UTF-8) and hands the text to `sync`. */
export function syncYamlFile<R>(sync: (text: string) => Observable<R>, path: string): Observable<R> {
  return defer(() => from(readFile(path, 'utf8'))).pipe(concatMap(sync));
}

/** Syncs every `*.yaml` / `*.yml` file of `dir`, in name order, one after the other; emits all results. */
export function syncYamlDir<R>(sync: (text: string) => Observable<R>, dir: string): Observable<R[]> {
  return defer(() => from(readdir(dir))).pipe(
    concatMap((names) => from(names.filter((n) => /\.ya?ml$/i.test(n)).sort())),
    concatMap((name) => syncYamlFile(sync, join(dir, name))),
    toArray(),
  );
}
