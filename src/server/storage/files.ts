/**
 * The files of a data directory:
 *
 *   flo-rx.lock                    pid of the server using the directory
 *   log-<seq>.flo                  log segments: one framed record per committed batch
 *   snapshot-<seq>.flo             every entity as of the end of log segment seq-1 (logs < seq are folded in)
 *   snapshot-<seq>.flo.tmp         a snapshot being written (ignored and removed at start)
 *
 * Recovery loads the newest snapshot and replays the segments from its seq on, in order.
 */
import { closeSync, fsyncSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'flo-rx.lock';

const pad = (seq: number) => String(seq).padStart(12, '0');
export const logName = (seq: number) => `log-${pad(seq)}.flo`;
export const snapshotName = (seq: number) => `snapshot-${pad(seq)}.flo`;

export interface DirListing {
  readonly logs: number[];
  readonly snapshots: number[];
  readonly temporary: string[];
}

export function listDataDir(dir: string): DirListing {
  const logs: number[] = [];
  const snapshots: number[] = [];
  const temporary: string[] = [];
  for (const name of readdirSync(dir)) {
    let m = /^log-(\d{12})\.flo$/.exec(name);
    if (m) {
      logs.push(Number(m[1]));
      continue;
    }
    m = /^snapshot-(\d{12})\.flo$/.exec(name);
    if (m) {
      snapshots.push(Number(m[1]));
      continue;
    }
    if (/^snapshot-\d{12}\.flo\.tmp$/.test(name)) temporary.push(name);
  }
  const asc = (a: number, b: number) => a - b;
  return { logs: logs.sort(asc), snapshots: snapshots.sort(asc), temporary };
}

/** Makes a rename or file creation in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export const pathIn = (dir: string, name: string) => join(dir, name);
