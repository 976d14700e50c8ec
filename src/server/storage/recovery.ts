/**
 * Start-up: reads the newest snapshot and the log segments after it into a `Fold`. A torn tail of
 * the last segment is cut off (one log line: file, offset, bytes dropped); anything damaged before
 * the tail, a damaged snapshot or a missing segment stops the start with a `StorageStartError`.
 */
import { readFileSync, rmSync, truncateSync } from 'node:fs';
import { StorageStartError } from './errors.js';
import { listDataDir, logName, pathIn, snapshotName } from './files.js';
import { Fold } from './fold.js';
import { scanRecords } from './record-frame.js';

export interface Recovered {
  readonly fold: Fold;
  /** Seq of the newest snapshot (0: none). */
  readonly snapshotSeq: number;
  /** The segment to append to (exists), and its size after any cut. */
  readonly logSeq: number;
  readonly logBytes: number;
  readonly snapshotBytes: number;
  readonly batchesReplayed: number;
}

export function recoverDataDir(dir: string, log: (line: string) => void): Recovered {
  const listing = listDataDir(dir);
  for (const tmp of listing.temporary) rmSync(pathIn(dir, tmp), { force: true });
  const fold = new Fold();
  const snapshotSeq = listing.snapshots.at(-1) ?? 0;
  let snapshotBytes = 0;
  if (snapshotSeq > 0) {
    const name = snapshotName(snapshotSeq);
    const bytes = readFileSync(pathIn(dir, name));
    snapshotBytes = bytes.length;
    let footer = false;
    const end = scanRecords(bytes, (payload, offset) => {
      if (footer) throw new StorageStartError(`snapshot ${pathIn(dir, name)} has data after its end marker (offset ${offset})`);
      try {
        footer = fold.applySnapshotRecord(payload) !== undefined;
      } catch (err) {
        throw new StorageStartError(`snapshot ${pathIn(dir, name)} is corrupt at offset ${offset}: ${(err as Error).message}`);
      }
    });
    if (end.kind !== 'clean' || !footer) {
      const where = end.kind === 'corrupt' ? ` at offset ${end.offset} (${end.reason})` : end.kind === 'torn' ? ` at offset ${end.end} (${end.reason})` : ' (no end marker)';
      throw new StorageStartError(`snapshot ${pathIn(dir, name)} is damaged${where}; refusing to start`);
    }
    // Segments folded into this snapshot may remain when a compaction stopped before removing them.
    for (const seq of listing.logs) if (seq < snapshotSeq) rmSync(pathIn(dir, logName(seq)), { force: true });
    for (const seq of listing.snapshots) if (seq < snapshotSeq) rmSync(pathIn(dir, snapshotName(seq)), { force: true });
  }
  const segments = listing.logs.filter((s) => s >= snapshotSeq);
  let batches = 0;
  let logSeq = Math.max(1, snapshotSeq);
  let logBytes = 0;
  segments.forEach((seq, i) => {
    if (i > 0 && seq !== segments[i - 1] + 1) {
      throw new StorageStartError(`data directory ${dir}: log segment ${logName(segments[i - 1] + 1)} is missing; refusing to start`);
    }
    const path = pathIn(dir, logName(seq));
    const bytes = readFileSync(path);
    const end = scanRecords(bytes, (payload, offset) => {
      try {
        batches++;
        fold.applyBatch(payload);
      } catch (err) {
        throw new StorageStartError(`log ${path} is corrupt at offset ${offset}: ${(err as Error).message}; refusing to start`);
      }
    });
    const last = i === segments.length - 1;
    if (end.kind === 'corrupt' || (end.kind === 'torn' && !last)) {
      const offset = end.kind === 'corrupt' ? end.offset : end.end;
      throw new StorageStartError(
        `log ${path} is corrupt at offset ${offset} (${end.reason}), before its end: refusing to start rather than drop acknowledged writes`,
      );
    }
    if (end.kind === 'torn') {
      truncateSync(path, end.end);
      log(`storage: ${path}: dropped ${end.dropped} byte(s) of a torn last record at offset ${end.end} (${end.reason})`);
    }
    logSeq = seq;
    logBytes = end.end;
  });
  return { fold, snapshotSeq, logSeq, logBytes, snapshotBytes, batchesReplayed: batches };
}
