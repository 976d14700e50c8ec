/**
 * Background compaction: folds the newest snapshot and the closed log segments up to `upTo` into
 * `snapshot-(upTo+1)`, written to a temporary file, fsynced, then renamed into place (atomic), and
 * only then removes what it replaces. Reads and folds in slices, yielding to the event loop between
 * them, so requests keep being served; the live log is a newer segment and is never touched.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { BatchWriter, packValue } from './codec.js';
import { fsyncDir, logName, pathIn, snapshotName } from './files.js';
import { RawFold } from './raw-fold.js';
import { frameRecord, scanRecords } from './record-frame.js';

const SLICE = 4096;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface CompactionResult {
  readonly snapshotSeq: number;
  readonly snapshotBytes: number;
  readonly entities: number;
}

/** Folds `snapshot-fromSnapshot` (0: none) and segments `firstLog..upTo` into `snapshot-(upTo+1)`. */
export async function writeCompactedSnapshot(dir: string, fromSnapshot: number, firstLog: number, upTo: number): Promise<CompactionResult> {
  // Values stay packed: the snapshot copies their bytes (no unpacking and packing of every value).
  const fold = new RawFold();
  const foldFile = async (name: string, apply: (payload: Uint8Array) => void) => {
    const bytes = await readFile(pathIn(dir, name));
    const payloads: Uint8Array[] = [];
    const end = scanRecords(bytes, (p) => payloads.push(p));
    if (end.kind !== 'clean') throw new Error(`${name} is not clean (${end.kind})`);
    for (let i = 0; i < payloads.length; i++) {
      apply(payloads[i]);
      if (i % SLICE === SLICE - 1) await yieldToLoop();
    }
  };
  if (fromSnapshot > 0) await foldFile(snapshotName(fromSnapshot), (p) => void fold.applySnapshotRecord(p));
  for (let seq = firstLog; seq <= upTo; seq++) await foldFile(logName(seq), (p) => fold.applyBatch(p));

  const seq = upTo + 1;
  const final = pathIn(dir, snapshotName(seq));
  const tmp = `${final}.tmp`;
  const file = await open(tmp, 'w', 0o644);
  let bytes = 0;
  try {
    const chunk = new BatchWriter();
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flushChunk = async (force: boolean) => {
      if (chunk.size) {
        const framed = Buffer.from(chunk.frame()); // a copy: the writer's buffer is reused
        pending.push(framed);
        pendingBytes += framed.length;
      }
      if (pendingBytes >= 1 << 20 || (force && pendingBytes > 0)) {
        const buf = Buffer.concat(pending);
        await file.write(buf, 0, buf.length);
        bytes += buf.length;
        pending = [];
        pendingBytes = 0;
      }
    };
    for (const [table, key, raw] of fold.entities()) {
      chunk.addRaw(table, key, raw);
      if (chunk.size >= SLICE) {
        await flushChunk(false);
        await yieldToLoop();
      }
    }
    await flushChunk(false);
    const footer = frameRecord(packValue({ end: fold.size }));
    pending.push(footer);
    pendingBytes += footer.length;
    await flushChunk(true);
    await file.datasync();
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  await rename(tmp, final);
  fsyncDir(dir);
  // Replaced files go only once the snapshot is durable.
  if (fromSnapshot > 0) await rm(pathIn(dir, snapshotName(fromSnapshot)), { force: true });
  for (let s = firstLog; s <= upTo; s++) await rm(pathIn(dir, logName(s)), { force: true });
  return { snapshotSeq: seq, snapshotBytes: bytes, entities: fold.size };
}
