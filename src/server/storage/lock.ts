/**
 * One server per data directory: a lock file holding the owner's pid, created exclusively. A lock
 * left by a process that is gone (killed) is taken over; one held by a live process refuses the start.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { StorageStartError } from './errors.js';
import { LOCK_FILE, pathIn } from './files.js';

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DirLock {
  release(): void;
}

export function lockDataDir(dir: string): DirLock {
  const path = pathIn(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new StorageStartError(`data directory ${dir} is not writable (${code ?? String(err)})`, { cause: err });
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      } catch {
        // vanished meanwhile: try again
      }
      if (alive(pid) && pid !== process.pid) {
        throw new StorageStartError(`data directory ${dir} is in use by another flo-rx server (pid ${pid}, lock file ${path})`);
      }
      rmSync(path, { force: true }); // stale: its owner is gone
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        rmSync(path, { force: true });
      },
    };
  }
  throw new StorageStartError(`data directory ${dir}: cannot take the lock file ${path}`);
}
