// The storage layer on a real directory: recovery from torn tails at every offset, refusal on
// corruption before the tail, failed writes rolled back (not applied), the lock, compaction.
import { cpSync, fdatasyncSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/server/clock.js';
import { utf8 } from '../../../src/protocol/index.js';
import { frameRecord, scanRecords } from '../../../src/server/storage/record-frame.js';
import { packValue, unpackValue } from '../../../src/server/storage/codec.js';
import { logName } from '../../../src/server/storage/files.js';
import { ABSENT, DiskStorage, entityKeyWithId, REMOVED, StorageStartError, StorageWriteError, type StorageIo } from '../../../src/server/storage/index.js';
import { createKvSubsystem } from '../../../src/server/kv/index.js';
import { commitOutcome, failingIo, nextTurn, openStores, tempDir } from './fixtures.js';

const NS = 'default';
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString() : undefined);

/** A directory whose only log segment holds `n` batches: batch i puts key `k<i>` = `v<i>`. */
async function logOfPuts(n: number): Promise<{ dir: string; log: string; ends: number[] }> {
  const dir = tempDir();
  const s = openStores(dir, new ManualClock());
  for (let i = 0; i < n; i++) {
    s.kv.put(NS, utf8(`k${i}`), utf8(`v${i}`));
    await nextTurn();
  }
  await s.close();
  const log = join(dir, readdirSync(dir).find((f) => f.startsWith('log-'))!);
  const ends: number[] = [];
  scanRecords(readFileSync(log), (payload, offset) => ends.push(offset + 12 + payload.length));
  return { dir, log, ends };
}

function keysPresent(dir: string, n: number, log: string[] = []): number {
  const s = openStores(dir, new ManualClock(), { log: (l) => log.push(l) });
  let present = 0;
  for (let i = 0; i < n; i++) if (s.kv.get(NS, utf8(`k${i}`))) present++;
  void s.close();
  return present;
}

describe('recovery', () => {
  it('a log cut at any byte offset loses only the cut record, with one log line naming offset and bytes', async () => {
    const n = 4;
    const { dir, log, ends } = await logOfPuts(n);
    expect(ends).toHaveLength(n);
    const size = statSync(log).size;
    for (let cut = 0; cut <= size; cut++) {
      const copy = tempDir();
      cpSync(dir, copy, { recursive: true });
      const copyLog = join(copy, log.slice(dir.length + 1));
      truncateSync(copyLog, cut);
      const whole = ends.filter((e) => e <= cut).length;
      const lastEnd = whole === 0 ? 0 : ends[whole - 1];
      const lines: string[] = [];
      expect(keysPresent(copy, n, lines)).toBe(whole);
      if (cut === lastEnd) expect(lines).toEqual([]);
      else {
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`dropped ${cut - lastEnd} byte(s)`);
        expect(lines[0]).toContain(`at offset ${lastEnd}`);
      }
      // The cut was applied to the file: a second start finds a clean log.
      expect(statSync(copyLog).size).toBe(lastEnd);
    }
  });

  it('zeros after the last record (a preallocated or half-written tail) are cut off too', async () => {
    const { dir, log, ends } = await logOfPuts(3);
    writeFileSync(log, Buffer.concat([readFileSync(log), Buffer.alloc(100)]));
    const lines: string[] = [];
    expect(keysPresent(dir, 3, lines)).toBe(3);
    expect(lines[0]).toContain(`dropped 100 byte(s) of a torn last record at offset ${ends[2]}`);
  });

  it('a flipped byte before the tail stops the start with a clear error; in the last record it is cut', async () => {
    const { dir, log, ends } = await logOfPuts(4);
    const bytes = readFileSync(log);
    // Payload byte of record 1 (of 0..3): corruption before the tail.
    const mid = Buffer.from(bytes);
    mid[ends[0] + 20] ^= 0x40;
    writeFileSync(log, mid);
    expect(() => DiskStorage.open({ dir })).toThrow(StorageStartError);
    expect(() => DiskStorage.open({ dir })).toThrow(new RegExp(`corrupt at offset ${ends[0]} \\(checksum mismatch\\)`));
    // Length field of record 2: the header check catches it (the length is not trusted).
    const header = Buffer.from(bytes);
    header[ends[1] + 1] ^= 0x01;
    writeFileSync(log, header);
    expect(() => DiskStorage.open({ dir })).toThrow(/damaged record header/);
    // The same flip in the last record is a torn tail: that record is dropped, the rest kept.
    const last = Buffer.from(bytes);
    last[ends[2] + 20] ^= 0x40;
    writeFileSync(log, last);
    const lines: string[] = [];
    expect(keysPresent(dir, 4, lines)).toBe(3);
    expect(lines[0]).toContain('checksum mismatch in the last record');
  });
});

describe('KV history', () => {
  it('keeps the 64 older versions across restarts, one stored version per write', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    let s = openStores(dir, clock);
    for (let i = 1; i <= 70; i++) {
      s.kv.put(NS, utf8('h'), utf8(`v${i}`));
      clock.advance(1);
      await nextTurn();
      if (i === 30) {
        await s.close();
        s = openStores(dir, clock);
      }
    }
    const before = s.kv.history(NS, utf8('h'));
    expect(before).toHaveLength(65);
    expect(text(before![0].value)).toBe('v70');
    expect(text(before![64].value)).toBe('v6');
    await s.close();
    const again = openStores(dir, clock);
    expect(again.kv.history(NS, utf8('h'))).toEqual(before);
    await again.close();
  });
});

describe('KV history, bounded, many writes of one key per turn', () => {
  for (const kept of [1, 2, 3]) {
    it(`keeps exactly ${kept - 1} older version(s) across a restart, whatever was written and dropped within each turn`, async () => {
      const dir = tempDir();
      const clock = new ManualClock();
      const open = () => {
        const storage = DiskStorage.open({ dir });
        const kv = createKvSubsystem({ clock, profile: 'go', persistence: storage, kvVersionsKept: kept });
        storage.restore();
        return { storage, kv: kv.store };
      };
      let s = open();
      let n = 0;
      const writes = new Map<string, number>();
      const put = (key: string, value: string) => {
        s.kv.put(NS, utf8(key), utf8(value));
        writes.set(key, (writes.get(key) ?? 0) + 1);
      };
      for (const perTurn of [1, 5, 2, 7, 1]) {
        for (let i = 0; i < perTurn; i++) {
          put('k', `v${n++}`);
          put(`other${i}`, `o${n}`);
        }
        clock.advance(1);
        await nextTurn();
      }
      s.kv.delete(NS, utf8('other0'));
      writes.set('other0', writes.get('other0')! + 1);
      await nextTurn();
      const history = (kv: typeof s.kv) => kv.history(NS, utf8('k'))!.map((h) => [h.version, text(h.value)]);
      const before = history(s.kv);
      expect(before).toEqual(Array.from({ length: kept }, (_, i) => [BigInt(n - i), `v${n - 1 - i}`]));
      const others = [0, 1, 6].map((i) => s.kv.get(NS, utf8(`other${i}`)));
      await s.storage.close();
      s = open();
      expect(history(s.kv)).toEqual(before);
      // Stored: the index, each entry and the older versions it keeps; no version dropped within a turn.
      let stored = 1;
      for (const w of writes.values()) stored += 1 + Math.min(w - 1, kept - 1);
      expect(s.storage.stats.entitiesRestored).toBe(stored);
      expect([0, 1, 6].map((i) => s.kv.get(NS, utf8(`other${i}`)))).toEqual(others);
      expect(others[0]).toBeUndefined();
      await s.storage.close();
    });
  }
});

describe('KV in log formats 1-3 (entries as `kv`, older versions as `kv.old`, as sessions 1-4 wrote them)', () => {
  const MS = 1_700_000_000_000;
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  const v = (s: string) => new Uint8Array(Buffer.from(s));
  /** Key `h`: versions 1-4 as history of version 5; `ttl`: one version with a deadline; `dead`: a tombstone over 2 versions; `obj`: the object form. */
  function legacyBatches(format: 2 | 3): Uint8Array[] {
    const e = (key: string) => `default\u0000${key}`;
    const old = (key: string, version: number) => `${e(key)}\u0000${version.toString(16)}`;
    return [
      packValue([format, 'kv.index', '', 9n, 'kv', e('h'), [v('h1'), 1n, false, null, ns(MS + 1)], 'kv', e('ttl'), [v('t1'), 1n, false, MS + 60_000, ns(MS + 2)]]),
      packValue([format, 'kv', e('h'), [v('h5'), 5n, false, null, ns(MS + 5)], ...[1, 2, 3, 4].flatMap((i) => ['kv.old', old('h', i), [v(`h${i}`), ns(MS + i)]])]),
      packValue([format, 'kv', e('dead'), [v(''), 3n, true, null, ns(MS + 7)], 'kv.old', old('dead', 1), [v('d1'), ns(MS + 6)], 'kv.old', old('dead', 2), [v('d2'), ns(MS + 6)]]),
      packValue([format, 'kv', e('obj'), { value: v('o2'), version: 2n, deleted: false, expiresAtMs: null, timestampNs: ns(MS + 8) }, 'kv.old', old('obj', 1), [v('o1'), ns(MS + 8)]]),
    ];
  }
  const historyOf = (kv: ReturnType<typeof openStores>['kv'], key: string) => kv.history(NS, utf8(key))?.map((h) => [h.version, text(h.value), h.timestampNs]);
  /** Every table name and the kinds of value of the entities a data directory's files hold, after folding. */
  function tablesIn(dir: string): Set<string> {
    const storage = DiskStorage.open({ dir });
    const names = new Set<string>();
    for (const name of ['kv', 'kv.old', 'kv.version', 'kv.index']) storage.table({ name, save: () => undefined, load: () => void names.add(name) });
    storage.restore();
    void storage.close();
    return names;
  }

  for (const format of [2, 3] as const) {
    it(`format ${format}: loads every version, TTL deadline and tombstone, rewrites them as \`kv.version\` entities at start, and keeps them across restarts and compaction`, async () => {
      const dir = tempDir();
      writeFileSync(join(dir, logName(1)), Buffer.concat(legacyBatches(format).map((p) => frameRecord(p))));
      const clock = new ManualClock(MS + 10);
      const check = (s: ReturnType<typeof openStores>) => {
        expect(historyOf(s.kv, 'h')).toEqual([5, 4, 3, 2, 1].map((i) => [BigInt(i), `h${i}`, ns(MS + i)]));
        expect(s.kv.get(NS, utf8('ttl'))?.version).toBe(1n);
        expect(s.kv.ttlRemainingMs(NS, utf8('ttl'))).toBe(MS + 60_000 - clock.now());
        expect(s.kv.get(NS, utf8('dead'))).toBeUndefined();
        expect(s.kv.versionOf(NS, utf8('dead'))).toBe(3n);
        expect(historyOf(s.kv, 'dead')?.map(([version, value]) => [version, value])).toEqual([[3n, ''], [2n, 'd2'], [1n, 'd1']]);
        expect(historyOf(s.kv, 'obj')?.map(([version, value]) => [version, value])).toEqual([[2n, 'o2'], [1n, 'o1']]);
      };
      let s = openStores(dir, clock);
      check(s);
      await nextTurn(); // the rewrite is the first commit
      await s.close();
      expect(tablesIn(dir)).toEqual(new Set(['kv.index', 'kv.version']));
      s = openStores(dir, clock, { compactAfterBytes: 1 });
      check(s);
      // Written on: the next version keeps the whole history, the deadline still expires.
      expect(s.kv.put(NS, utf8('h'), utf8('h6'))).toBe(6n);
      expect(s.kv.put(NS, utf8('dead'), utf8('alive'))).toBe(4n);
      await nextTurn();
      await s.storage.compact();
      await s.close();
      s = openStores(dir, clock);
      expect(historyOf(s.kv, 'h')?.map(([version, value]) => [version, value])).toEqual([6, 5, 4, 3, 2, 1].map((i) => [BigInt(i), `h${i}`]));
      expect(text(s.kv.get(NS, utf8('dead'))?.value)).toBe('alive');
      expect(historyOf(s.kv, 'dead')?.map(([version, value]) => [version, value])).toEqual([[4n, 'alive'], [3n, ''], [2n, 'd2'], [1n, 'd1']]);
      clock.advance(60_000);
      expect(s.kv.get(NS, utf8('ttl'))).toBeUndefined();
      await s.close();
    });
  }

  it('a version that only knows format 3 finds no batch it can read in a format-4 log (the reader of format 3 refuses it)', async () => {
    const dir = tempDir();
    const s = openStores(dir, new ManualClock());
    s.kv.put(NS, utf8('k'), utf8('v'));
    await nextTurn();
    await s.close();
    const log = join(dir, readdirSync(dir).find((f) => f.startsWith('log-'))!);
    const formats: unknown[] = [];
    scanRecords(readFileSync(log), (payload) => formats.push((unpackValue(payload) as unknown[])[0]));
    // Format 3's reader took [2 | 3, ...] as flat batches and anything else as format 1, whose entries are arrays: 4 is neither.
    expect(formats).toEqual([4]);
    expect(Array.isArray(formats[0])).toBe(false);
  });
});

describe('KV in log format 4 (one `kv.version` entity per kept version)', () => {
  /** Every `kv.version` value the files of a directory hold, by entity key, in log order. */
  function versionRecords(dir: string): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    for (const f of readdirSync(dir).filter((n) => n.startsWith('log-')).sort()) {
      scanRecords(readFileSync(join(dir, f)), (payload) => {
        const items = unpackValue(payload) as unknown[];
        for (let i = 1; i < items.length; i += 3) if (items[i] === 'kv.version') out.push([items[i + 1] as string, items[i + 2]]);
        expect(items.includes('kv') || items.includes('kv.old')).toBe(false);
      });
    }
    return out;
  }

  it('a put logs its value once: the version it replaces is not written again, the one pushed out of the history is removed', async () => {
    const dir = tempDir();
    const s = openStores(dir, new ManualClock(), {}, { kvVersionsKept: 3 }); // two older versions kept
    for (let i = 1; i <= 4; i++) {
      s.kv.put(NS, utf8('k'), utf8(`v${i}`));
      await nextTurn();
    }
    await s.close();
    const records = versionRecords(dir);
    const key = (version: number) => `default\u0000k\u0000${version}`;
    const written = records.filter(([, value]) => value !== undefined).map(([k, value]) => [k, text((value as Uint8Array[])[0])]);
    expect(written).toEqual([1, 2, 3, 4].map((i) => [key(i), `v${i}`]));
    expect(records.filter(([, value]) => value === undefined).map(([k]) => k)).toEqual([key(1)]);
  });

  it('history, tombstones, TTL changes and versions dropped within one turn come back the same after a restart and after compaction', async () => {
    const dir = tempDir();
    const clock = new ManualClock(1_000);
    let s = openStores(dir, clock, { compactAfterBytes: 1 });
    for (let i = 1; i <= 70; i++) s.kv.put(NS, utf8('deep'), utf8(`d${i}`)); // more than 64 in one turn
    s.kv.put(NS, utf8('t'), utf8('t1'), { ttlSeconds: 100n });
    s.kv.put(NS, utf8('t'), utf8('t2'), { ttlSeconds: 50n });
    await nextTurn();
    s.kv.touch(NS, utf8('t'), 200n);
    s.kv.put(NS, utf8('gone'), utf8('g1'));
    s.kv.delete(NS, utf8('gone'));
    s.kv.put(NS, utf8('p'), utf8('p1'), { ttlSeconds: 10n });
    await nextTurn();
    s.kv.persist(NS, utf8('p'));
    for (let i = 71; i <= 75; i++) {
      s.kv.put(NS, utf8('deep'), utf8(`d${i}`));
      await nextTurn();
    }
    const state = (st: ReturnType<typeof openStores>) => ({
      deep: st.kv.history(NS, utf8('deep')),
      t: [st.kv.history(NS, utf8('t')), st.kv.ttlRemainingMs(NS, utf8('t'))],
      gone: [st.kv.history(NS, utf8('gone')), st.kv.get(NS, utf8('gone'))],
      p: [st.kv.get(NS, utf8('p')), st.kv.ttlRemainingMs(NS, utf8('p'))],
    });
    const before = state(s);
    expect(before.deep).toHaveLength(65);
    expect(before.deep![0].version).toBe(75n);
    expect(before.t[1]).toBe(200_000);
    expect(before.p[1]).toBeUndefined();
    await s.close();
    s = openStores(dir, clock);
    expect(state(s)).toEqual(before);
    await s.storage.compact();
    await s.close();
    expect(readdirSync(dir).some((f) => f.startsWith('snapshot-'))).toBe(true);
    s = openStores(dir, clock);
    expect(state(s)).toEqual(before);
    expect(s.storage.stats.entitiesRestored).toBe(1 + 65 + 2 + 2 + 1); // the index, then the versions kept of deep, t, gone, p
    await s.close();
  });
});

describe('log format', () => {
  /** Rewrites every record of a log segment or snapshot in format 1 ([table, key, packed value | null] tuples). */
  function toFormat1(path: string): void {
    const out: Buffer[] = [];
    scanRecords(readFileSync(path), (payload) => {
      const items = unpackValue(payload);
      if (!Array.isArray(items)) return void out.push(frameRecord(payload)); // the snapshot footer
      expect(items[0]).toBe(4);
      const tuples: unknown[] = [];
      for (let i = 1; i < items.length; i += 3) tuples.push([items[i], items[i + 1], items[i + 2] === undefined ? null : packValue(items[i + 2])]);
      out.push(frameRecord(packValue(tuples)));
    });
    writeFileSync(path, Buffer.concat(out));
  }

  /** What a restore hands each table (table → key → value), for the tables in `names`. */
  function restored(dir: string, names: readonly string[]): Record<string, Record<string, unknown>> {
    const storage = DiskStorage.open({ dir });
    const got: Record<string, Record<string, unknown>> = {};
    for (const name of names) {
      got[name] = {};
      storage.table({ name, save: () => undefined, load: (k, v) => void (got[name][k] = v) });
    }
    storage.restore();
    void storage.close();
    return got;
  }

  it('a data directory written in format 1 (snapshot and log, as main wrote them) loads the same state', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const s = openStores(dir, clock);
    for (let i = 0; i < 5; i++) s.kv.put(NS, utf8('h'), utf8(`v${i}`));
    s.queues.enqueue(NS, 'q', utf8('m1'));
    s.streams.append(NS, 's', [{ payload: utf8('r1'), headers: [] }] as never, 0);
    await nextTurn();
    await s.storage.compact();
    s.kv.put(NS, utf8('h'), utf8('after'));
    s.kv.put(NS, utf8('gone'), utf8('x'));
    s.kv.delete(NS, utf8('gone'));
    s.queues.enqueue(NS, 'q', utf8('m2'));
    s.queues.dequeue(NS, 'q', 1, 60_000);
    s.streams.append(NS, 's', [{ payload: utf8('r2'), headers: [] }] as never, 0);
    await nextTurn();
    await s.close();

    const files = readdirSync(dir).filter((f) => f.startsWith('log-') || f.startsWith('snapshot-'));
    expect(files.some((f) => f.startsWith('snapshot-'))).toBe(true);
    const names = new Set<string>();
    for (const f of files) {
      scanRecords(readFileSync(join(dir, f)), (payload) => {
        const items = unpackValue(payload);
        if (Array.isArray(items)) for (let i = 1; i < items.length; i += 3) names.add(items[i] as string);
      });
    }
    const now = restored(dir, [...names]);
    const old = tempDir();
    cpSync(dir, old, { recursive: true });
    for (const f of files) toFormat1(join(old, f));
    expect(readFileSync(join(old, files[0]))).not.toEqual(readFileSync(join(dir, files[0])));
    expect(restored(old, [...names])).toEqual(now);

    const again = openStores(old, new ManualClock(clock.now()));
    expect(again.kv.history(NS, utf8('h'))?.map((h) => text(h.value))).toEqual(['after', 'v4', 'v3', 'v2', 'v1', 'v0']);
    expect(again.kv.get(NS, utf8('gone'))).toBeUndefined();
    expect(again.queues.stats(NS, 'q')).toMatchObject({ enqueued: 2, ready: 1, leased: 1 });
    expect(again.streams.info(NS, 's').count).toBe(2n);
    // Written on: new batches in format 4 after the format-1 ones, all read back.
    again.kv.put(NS, utf8('h'), utf8('newest'));
    await nextTurn();
    await again.close();
    const last = openStores(old, new ManualClock(clock.now()));
    expect(last.kv.history(NS, utf8('h'))?.map((h) => text(h.value)).slice(0, 3)).toEqual(['newest', 'after', 'v4']);
    await last.close();
  });
});

describe('log format 2 (queue messages as objects, as session 3 wrote them)', () => {
  const STATES = ['ready', 'delayed', 'leased', 'dlq'];
  /** Rewrites every batch of a file in format 2, each stored queue message in its object form. */
  function toFormat2(path: string): void {
    const out: Buffer[] = [];
    scanRecords(readFileSync(path), (payload) => {
      const items = unpackValue(payload);
      if (!Array.isArray(items)) return void out.push(frameRecord(payload)); // the snapshot footer
      expect(items[0]).toBe(4);
      items[0] = 2;
      for (let i = 1; i < items.length; i += 3) {
        const v = items[i + 2] as unknown[] | undefined;
        if (items[i] !== 'queue.msg' || v === undefined) continue;
        expect(Array.isArray(v)).toBe(true);
        const seq = BigInt((JSON.parse(items[i + 1] as string) as string[])[2]);
        items[i + 2] =
          v.length === 3
            ? { seq, payload: v[0], priority: v[1], enqueuedAt: v[2], state: 'ready', attempts: 0, visibleAt: v[2], leaseMs: 0, leaseEnd: 0, dlqOrder: 0 }
            : { seq, payload: v[0], priority: v[1], enqueuedAt: v[2], state: STATES[v[3] as number], attempts: v[4], visibleAt: v[5], leaseMs: v[6], leaseEnd: v[7], dlqOrder: v[8] };
      }
      out.push(frameRecord(packValue(items)));
    });
    writeFileSync(path, Buffer.concat(out));
  }

  /** Every message of queue `q` and its state, attempts and payload. */
  const messagesOf = (s: ReturnType<typeof openStores>) =>
    [1n, 2n, 3n, 4n, 5n].map((seq) => [seq, s.queues.stateOf(NS, 'q', seq), s.queues.attemptsOf(NS, 'q', seq)]);

  it('loads the same queues (ready, delayed, leased with deadlines and attempts, DLQ), then writes on in format 4', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const s = openStores(dir, clock, { compactAfterBytes: 1 });
    s.queues.enqueue(NS, 'q', utf8('ready'), { priority: 3 });
    s.queues.enqueue(NS, 'q', utf8('delayed'), { delayMs: 60_000 });
    s.queues.enqueue(NS, 'q', utf8('to lease'));
    s.queues.enqueue(NS, 'q', utf8('to dlq'));
    s.queues.enqueue(NS, 'q', utf8('nacked'));
    await nextTurn();
    await s.storage.compact(); // a snapshot holds the messages as they were then
    s.queues.dequeue(NS, 'q', 3, 5_000); // seqs 3, 4, 5 (priority 3 leaves after them)
    s.queues.nack(NS, 'q', [5n]);
    s.queues.nack(NS, 'q', [4n], true);
    await nextTurn();
    const before = messagesOf(s);
    await s.close();
    expect(before.map(([, state]) => state)).toEqual(['ready', 'delayed', 'leased', 'dlq', 'ready']);

    const old = tempDir();
    cpSync(dir, old, { recursive: true });
    const files = readdirSync(old).filter((f) => f.startsWith('log-') || f.startsWith('snapshot-'));
    expect(files.some((f) => f.startsWith('snapshot-'))).toBe(true);
    for (const f of files) toFormat2(join(old, f));

    const again = openStores(old, new ManualClock(clock.now()));
    expect(messagesOf(again)).toEqual(before);
    expect(again.queues.stats(NS, 'q')).toMatchObject({ enqueued: 5, ready: 2, delayed: 1, leased: 1, dlqCurrent: 1 });
    // The lease deadline came back: it expires at its time, and the message is delivered again.
    again.queues.enqueue(NS, 'q', utf8('new')); // written in format 4 after the format-2 batches
    await nextTurn();
    await again.close();
    const last = openStores(old, new ManualClock(clock.now() + 5_001));
    expect(last.queues.stateOf(NS, 'q', 3n)).toBe('ready');
    expect(last.queues.attemptsOf(NS, 'q', 3n)).toBe(1);
    expect(last.queues.stateOf(NS, 'q', 6n)).toBe('ready');
    const got = last.queues.dequeue(NS, 'q', 10, 1000);
    expect(got.map((m) => text(m.payload)).sort()).toEqual(['nacked', 'new', 'ready', 'to lease'].sort());
    await last.close();
  });
});

describe('before-images', () => {
  /** A storage on `dir` with one table `t` of strings kept in `state`; `saved` lists the keys `save` was asked for. */
  const openStringTable = (dir: string, io: StorageIo) => {
    const storage = DiskStorage.open({ dir, io });
    const state = new Map<string, string>();
    const saved: string[] = [];
    const willChange = storage.table({
      name: 't',
      save: (k) => (saved.push(k), state.get(k)),
      load: (k, v) => void (v === undefined ? state.delete(k) : state.set(k, v as string)),
    });
    storage.restore();
    /** A new entity announced with its form, then made. */
    const create = (k: string, v: string) => {
      willChange(k, ABSENT, v);
      state.set(k, v);
    };
    /** An entity announced as removed for good (its before-image given), then removed. */
    const remove = (k: string) => {
      willChange(k, state.get(k), REMOVED);
      state.delete(k);
    };
    return { storage, state, saved, willChange, create, remove };
  };
  type StringTable = ReturnType<typeof openStringTable>;

  /**
   * The turn's commit fails (`io` failing): the state is `expected` (the turn rolled back), and the
   * same once the disk has room again and the directory is opened anew by `reopen`.
   */
  const expectRolledBackAcrossRestart = async (s: StringTable, io: { fail: boolean }, reopen: () => StringTable, expected: string[][]) => {
    const failure = await commitOutcome(s.storage);
    expect(failure).toBeInstanceOf(StorageWriteError);
    expect([...s.state].sort()).toEqual(expected);
    io.fail = false;
    await s.storage.close();
    const again = reopen();
    expect([...again.state].sort()).toEqual(expected);
    await again.storage.close();
  };

  it('a failed write loads back the before-image given (no save call), removes an entity announced as created, and saves the rest', async () => {
    const io = failingIo();
    const storage = DiskStorage.open({ dir: tempDir(), io });
    const state = new Map<string, string>([['old', 'o1'], ['plain', 'p1']]);
    const saved: string[] = [];
    const willChange = storage.table({
      name: 't',
      save: (k) => (saved.push(k), state.get(k)),
      load: (k, v) => void (v === undefined ? state.delete(k) : state.set(k, v as string)),
    });
    storage.restore();
    io.fail = true;
    willChange('new', ABSENT);
    state.set('new', 'n1');
    willChange('old', 'o1');
    state.set('old', 'o2');
    willChange('plain');
    state.set('plain', 'p2');
    // Only the first announcement of a turn keeps a before-image.
    willChange('new', 'ignored');
    expect(saved).toEqual(['plain']);
    const failure = await commitOutcome(storage);
    expect(failure).toBeInstanceOf(StorageWriteError);
    expect([...state]).toEqual([['old', 'o1'], ['plain', 'p1']]);
    await storage.close();
  });

  it('an entity created with its form is logged as given (no save call), a later change this turn after it; a rollback removes it whatever happened since', async () => {
    const io = failingIo();
    const dir = tempDir();
    const open = () => openStringTable(dir, io);
    const s = open();
    s.create('a', 'a1');
    s.create('b', 'b1');
    s.willChange('b', 'b1'); // changed after its creation, this turn
    s.state.set('b', 'b2');
    s.create('c', 'c1');
    s.willChange('c', 'c1');
    s.state.delete('c'); // removed again, this turn
    await nextTurn();
    expect(s.saved).toEqual(['b', 'c']);
    io.fail = true;
    s.create('d', 'd1');
    s.willChange('d', 'd1');
    s.state.set('d', 'd2');
    s.create('e', 'e1');
    s.willChange('a', 'a1');
    s.state.set('a', 'a2');
    await expectRolledBackAcrossRestart(s, io, open, [['a', 'a1'], ['b', 'b2']]);
  });

  it('an entity announced as removed (its before-image given) is logged removed with no save call, after its creation this turn; a rollback loads the first before-image back', async () => {
    const io = failingIo();
    const dir = tempDir();
    const open = () => openStringTable(dir, io);
    let s = open();
    for (const k of ['a', 'b', 'c', 'd']) s.create(k, `${k}1`);
    await nextTurn();
    s.remove('a');
    s.create('x', 'x1');
    s.remove('x'); // created and removed this turn: ends removed
    s.willChange('b', 'b1');
    s.state.set('b', 'b2');
    s.remove('b'); // changed, then removed this turn: the change's save finds it gone
    await nextTurn();
    expect(s.saved).toEqual(['b']);
    expect([...s.state].sort()).toEqual([['c', 'c1'], ['d', 'd1']]);
    await s.storage.close();
    s = open();
    expect([...s.state].sort()).toEqual([['c', 'c1'], ['d', 'd1']]);
    io.fail = true;
    s.willChange('c', 'c1');
    s.state.set('c', 'c2');
    s.remove('c');
    s.remove('d');
    s.create('y', 'y1');
    s.remove('y');
    await expectRolledBackAcrossRestart(s, io, open, [['c', 'c1'], ['d', 'd1']]);
  });

  it('keys given as prefix and id are logged as the whole key (the same log bytes), mix with whole keys within a turn, and roll back under the whole key', async () => {
    const io = failingIo();
    const dirs = [tempDir(), tempDir()];
    // The same changes, keys in parts in the first directory and whole in the second.
    const turns = (s: ReturnType<typeof openStringTable>, parts: boolean) => {
      const created = (prefix: string, id: bigint, v: string) => {
        if (parts) s.willChange(prefix, ABSENT, v, id);
        else s.willChange(entityKeyWithId(prefix, id), ABSENT, v);
        s.state.set(entityKeyWithId(prefix, id), v);
      };
      const removed = (prefix: string, id: bigint) => {
        const k = entityKeyWithId(prefix, id);
        if (parts) s.willChange(prefix, s.state.get(k), REMOVED, id);
        else s.willChange(k, s.state.get(k), REMOVED);
        s.state.delete(k);
      };
      return { created, removed };
    };
    for (const [i, dir] of dirs.entries()) {
      const s = openStringTable(dir, io);
      const { created, removed } = turns(s, i === 0);
      created('ns\u0000k', 1n, 'v1');
      created('ns\u0000k', 2n ** 70n + 5n, 'big');
      created('é', 255n, 'u');
      await nextTurn();
      created('ns\u0000k', 2n, 'v2');
      removed('ns\u0000k', 1n);
      s.willChange('ns\u0000k\u00002', 'v2'); // the whole key of an entity created in parts this turn: written after it
      s.state.set('ns\u0000k\u00002', 'v2b');
      created('ns\u0000k', 3n, 'v3');
      removed('ns\u0000k', 3n); // created and removed this turn: ends removed
      await nextTurn();
      await s.storage.close();
    }
    const logOf = (dir: string) => readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('log-'))!));
    expect(Buffer.compare(logOf(dirs[0]), logOf(dirs[1]))).toBe(0);
    const s = openStringTable(dirs[0], io);
    const expected = [['ns\u0000k\u00002', 'v2b'], [`ns\u0000k\u0000${(2n ** 70n + 5n).toString(16)}`, 'big'], ['é\u0000ff', 'u']].sort();
    expect([...s.state].sort()).toEqual(expected);
    io.fail = true;
    const { created, removed } = turns(s, true);
    created('ns\u0000k', 4n, 'v4');
    removed('ns\u0000k', 2n);
    removed('é', 255n);
    const failure = await commitOutcome(s.storage);
    expect(failure).toBeInstanceOf(StorageWriteError);
    expect([...s.state].sort()).toEqual(expected);
    io.fail = false;
    await s.storage.close();
  });
});

describe('forms given as the parts of a pair', () => {
  it('are logged as the pair (the same log bytes as the pair given whole), read back as it, and a rollback loads a removal\'s pair back', async () => {
    const io = failingIo();
    const open = (dir: string) => {
      const storage = DiskStorage.open({ dir, io });
      const state = new Map<string, unknown>();
      const willChange = storage.table({ name: 'p', save: (k) => state.get(k), load: (k, v) => void (v === undefined ? state.delete(k) : state.set(k, v)) });
      storage.restore();
      return { storage, state, willChange };
    };
    type Side = ReturnType<typeof open>;
    const created = (s: Side, parts: boolean, prefix: string, id: bigint, first: unknown, second: unknown) => {
      if (parts) s.willChange(prefix, ABSENT, first, id, second);
      else s.willChange(prefix, ABSENT, [first, second], id);
      s.state.set(entityKeyWithId(prefix, id), [first, second]);
    };
    const removed = (s: Side, parts: boolean, prefix: string, id: bigint) => {
      const k = entityKeyWithId(prefix, id);
      const [first, second] = s.state.get(k) as [unknown, unknown];
      if (parts) s.willChange(prefix, first, REMOVED, id, second);
      else s.willChange(prefix, [first, second], REMOVED, id);
      s.state.delete(k);
    };
    const dirs = [tempDir(), tempDir()];
    for (const [i, dir] of dirs.entries()) {
      const s = open(dir);
      const parts = i === 0;
      created(s, parts, 'ns\u0000a', 1n, utf8('one'), 10n ** 18n);
      created(s, parts, 'ns\u0000a', 2n, utf8('two'), 2n);
      created(s, parts, 'ns\u0000b', 7n, 'whole', null);
      s.willChange('ns\u0000c', ABSENT, ['given', 'whole'], 3n); // a form given whole, mixed in
      s.state.set('ns\u0000c\u00003', ['given', 'whole']);
      await nextTurn();
      created(s, parts, 'ns\u0000a', 3n, utf8('three'), 3n);
      removed(s, parts, 'ns\u0000a', 1n);
      created(s, parts, 'ns\u0000a', 4n, utf8('four'), 4n);
      removed(s, parts, 'ns\u0000a', 4n); // created and removed this turn: ends removed
      await nextTurn();
      await s.storage.close();
    }
    const logOf = (dir: string) => readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('log-'))!));
    expect(Buffer.compare(logOf(dirs[0]), logOf(dirs[1]))).toBe(0);
    const s = open(dirs[0]);
    const expected = [
      ['ns\u0000a\u00002', [utf8('two'), 2n]],
      ['ns\u0000a\u00003', [utf8('three'), 3n]],
      ['ns\u0000b\u00007', ['whole', null]],
      ['ns\u0000c\u00003', ['given', 'whole']],
    ];
    const sorted = () => [...s.state].sort(([a], [b]) => (a < b ? -1 : 1));
    expect(sorted()).toEqual(expected);
    io.fail = true;
    removed(s, true, 'ns\u0000a', 2n);
    removed(s, true, 'ns\u0000b', 7n);
    created(s, true, 'ns\u0000a', 5n, utf8('five'), 5n);
    expect(s.state.has('ns\u0000a\u00002')).toBe(false);
    const failure = await commitOutcome(s.storage);
    expect(failure).toBeInstanceOf(StorageWriteError);
    expect(sorted()).toEqual(expected);
    io.fail = false;
    await s.storage.close();
  });
});

describe('failed writes', () => {
  /** The entries of each batch of the directory's log segments, in order: [table, key, value]. */
  const batchesIn = (dir: string): Array<Array<[string, string, unknown]>> => {
    const out: Array<Array<[string, string, unknown]>> = [];
    for (const f of readdirSync(dir).filter((n) => n.startsWith('log-')).sort())
      scanRecords(readFileSync(join(dir, f)), (payload) => {
        const items = unpackValue(payload) as unknown[];
        const entries: Array<[string, string, unknown]> = [];
        for (let i = 1; i < items.length; i += 3) entries.push([items[i] as string, items[i + 1] as string, items[i + 2]]);
        out.push(entries);
      });
    return out;
  };

  it('every batch with writes logs the counters they moved (a stream\'s last id, the KV commit index) once, as they stand at its end, also after a failed turn', async () => {
    const dir = tempDir();
    const io = failingIo('ENOSPC');
    const clock = new ManualClock(1_000);
    const s = openStores(dir, clock, { io });
    const rec = [{ payload: utf8('r'), headers: [] }] as never;
    const turnOfWrites = () => {
      for (let i = 0; i < 3; i++) {
        s.streams.append(NS, 's', rec, 0);
        s.kv.put(NS, utf8(`k${i}`), utf8('v'));
      }
    };
    turnOfWrites();
    await nextTurn();
    io.fail = true;
    turnOfWrites();
    expect(await commitOutcome(s.storage)).toBeInstanceOf(StorageWriteError);
    io.fail = false;
    turnOfWrites();
    await nextTurn();
    clock.advance(1);
    turnOfWrites();
    await nextTurn();
    await s.close();
    const batches = batchesIn(dir).filter((b) => b.some(([t]) => t === 'stream.rec'));
    expect(batches).toHaveLength(3);
    let index = 0n;
    for (const batch of batches) {
      const metas = batch.filter(([t]) => t === 'stream.meta');
      expect(metas).toHaveLength(1);
      const lastRecord = batch.filter(([t]) => t === 'stream.rec').at(-1)![1];
      // The meta's last id is the batch's last record's (its key ends in the id's hex).
      const last = (metas[0][2] as { last: bigint }).last;
      expect(lastRecord.endsWith(last.toString(16).slice(-16))).toBe(true);
      const indexes = batch.filter(([t]) => t === 'kv.index');
      expect(indexes).toHaveLength(1);
      index += 3n;
      expect(indexes[0][2]).toBe(index);
    }
    const again = openStores(dir, new ManualClock(clock.now()));
    expect(again.streams.append(NS, 's', rec, 0)).toEqual({ timestampMs: 1_001n, sequence: 3n });
    await again.close();
  });

  it('a failed put on a key with a full history (a version dropped) leaves value and history as they were', async () => {
    const dir = tempDir();
    const io = failingIo('ENOSPC');
    const clock = new ManualClock();
    const s = openStores(dir, clock, { io });
    for (let i = 0; i < 70; i++) s.kv.put(NS, utf8('h'), utf8(`v${i}`));
    await nextTurn();
    const before = s.kv.history(NS, utf8('h'))!.map((h) => [h.version, text(h.value)]);
    expect(before).toHaveLength(65);
    io.fail = true;
    s.kv.put(NS, utf8('h'), utf8('lost'));
    s.kv.put(NS, utf8('h'), utf8('lost too'));
    await nextTurn();
    expect(s.kv.history(NS, utf8('h'))!.map((h) => [h.version, text(h.value)])).toEqual(before);
    io.fail = false;
    s.kv.put(NS, utf8('h'), utf8('v70'));
    await nextTurn();
    const after = s.kv.history(NS, utf8('h'))!.map((h) => [h.version, text(h.value)]);
    expect(after).toEqual([[71n, 'v70'], ...before.slice(0, 64)]);
    await s.close();
    const again = openStores(dir, new ManualClock(clock.now()));
    expect(again.kv.history(NS, utf8('h'))!.map((h) => [h.version, text(h.value)])).toEqual(after);
    await again.close();
  });

  it('a failed write over a key with a TTL, a tombstone or a TTL just changed makes the version before it current again exactly as it was', async () => {
    const dir = tempDir();
    const io = failingIo('ENOSPC');
    const clock = new ManualClock(5_000);
    const s = openStores(dir, clock, { io });
    s.kv.put(NS, utf8('ttl'), utf8('t1'), { ttlSeconds: 30n });
    s.kv.put(NS, utf8('dead'), utf8('d1'));
    s.kv.delete(NS, utf8('dead'));
    s.kv.put(NS, utf8('touched'), utf8('x1'), { ttlSeconds: 30n });
    await nextTurn();
    const state = () => ({
      ttl: [s.kv.get(NS, utf8('ttl')), s.kv.ttlRemainingMs(NS, utf8('ttl')), s.kv.history(NS, utf8('ttl'))],
      dead: [s.kv.get(NS, utf8('dead')), s.kv.versionOf(NS, utf8('dead')), s.kv.history(NS, utf8('dead'))],
      touched: [s.kv.get(NS, utf8('touched')), s.kv.ttlRemainingMs(NS, utf8('touched')), s.kv.history(NS, utf8('touched'))],
    });
    const before = state();
    expect(before.ttl[1]).toBe(30_000);
    io.fail = true;
    s.kv.put(NS, utf8('ttl'), utf8('t2'));
    s.kv.put(NS, utf8('dead'), utf8('alive'));
    s.kv.touch(NS, utf8('touched'), 0n);
    s.kv.put(NS, utf8('touched'), utf8('x2'));
    await nextTurn();
    expect(state()).toEqual(before);
    io.fail = false;
    await s.close();
    const again = openStores(dir, new ManualClock(clock.now()));
    expect(again.kv.ttlRemainingMs(NS, utf8('ttl'))).toBe(30_000);
    expect(again.kv.get(NS, utf8('dead'))).toBeUndefined();
    expect(again.kv.ttlRemainingMs(NS, utf8('touched'))).toBe(30_000);
    await again.close();
  });

  for (const partial of [0, 7]) {
    it(`a full disk (${partial ? 'after a partial write' : 'no byte written'}) fails the turn's writes, which are not applied; later writes work`, async () => {
      const dir = tempDir();
      const io = failingIo('ENOSPC', partial);
      const clock = new ManualClock();
      const s = openStores(dir, clock, { io });
      s.kv.put(NS, utf8('x'), utf8('one'));
      s.queues.enqueue(NS, 'q', utf8('m1'));
      await nextTurn();
      io.fail = true;
      s.kv.put(NS, utf8('x'), utf8('two'));
      s.kv.put(NS, utf8('y'), utf8('new'));
      s.queues.enqueue(NS, 'q', utf8('m2'));
      s.queues.dequeue(NS, 'q', 1, 1000);
      s.streams.append(NS, 's', [{ payload: utf8('r'), headers: [] }] as never, 0);
      const failure = await commitOutcome(s.storage);
      expect(failure).toBeInstanceOf(StorageWriteError);
      expect((failure as StorageWriteError).code).toBe('ENOSPC');
      expect((failure as Error).message).toMatch(/disk full.*not applied/);
      // Reads see the state before the failed turn.
      expect(s.kv.get(NS, utf8('x'))).toMatchObject({ version: 1n });
      expect(text(s.kv.get(NS, utf8('x'))?.value)).toBe('one');
      expect(s.kv.get(NS, utf8('y'))).toBeUndefined();
      expect(s.queues.stats(NS, 'q')).toMatchObject({ enqueued: 1, ready: 1, leased: 0, dequeued: 0 });
      expect(s.queues.stateOf(NS, 'q', 1n)).toBe('ready');
      expect(s.streams.exists(NS, 's')).toBe(false);
      // Space again: writes go on, seqs do not skip.
      io.fail = false;
      expect(s.queues.enqueue(NS, 'q', utf8('m2')).seq).toBe(2n);
      await nextTurn();
      await s.close();
      const again = openStores(dir, new ManualClock(clock.now()));
      expect(text(again.kv.get(NS, utf8('x'))?.value)).toBe('one');
      expect(again.queues.stats(NS, 'q')).toMatchObject({ enqueued: 2, ready: 2 });
      await again.close();
    });
  }
});

describe('a failed fsync (fsync always)', () => {
  it('fails the replies of every batch it and the next would cover, refuses later writes, and lets later replies (reads) go at once', async () => {
    // The real write; the fdatasyncs are held by the test and then failed with EIO.
    const syncs: Array<(err: NodeJS.ErrnoException | null) => void> = [];
    const io: StorageIo = { writeSync: failingIo().writeSync, fdatasync: (_fd, cb) => void syncs.push(cb) };
    const lines: string[] = [];
    const storage = DiskStorage.open({ dir: tempDir(), fsync: 'always', io, log: (l) => lines.push(l) });
    const state = new Map<string, string>();
    const willChange = storage.table({ name: 't', save: (k) => state.get(k), load: (k, v) => void (v === undefined ? state.delete(k) : state.set(k, v as string)) });
    storage.restore();
    const outcomes: unknown[] = [];
    willChange('a', ABSENT, '1');
    state.set('a', '1');
    storage.afterCommit((err) => outcomes.push(err ?? 'ok'));
    await nextTurn();
    expect(syncs).toHaveLength(1); // a's batch written, its fdatasync in flight
    willChange('b', ABSENT, '2');
    state.set('b', '2');
    storage.afterCommit((err) => outcomes.push(err ?? 'ok'));
    await nextTurn();
    expect(syncs).toHaveLength(1); // b's batch written, waiting for the next fdatasync
    expect(storage.pending).toBe(true);
    expect(outcomes).toEqual([]);
    syncs[0](Object.assign(new Error('EIO: simulated'), { code: 'EIO' }));
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes) expect(o).toBeInstanceOf(StorageWriteError);
    expect((outcomes[0] as StorageWriteError).message).toMatch(/fsync failed \(EIO\)/);
    expect(lines.some((l) => /fsync failed \(EIO\)/.test(l))).toBe(true);
    // Nothing is pending any more: a reply produced now (a read) is not held.
    expect(storage.pending).toBe(false);
    let released = false;
    storage.afterCommit(() => (released = true));
    expect(released).toBe(true);
    // A later write is refused with the same error.
    willChange('c', ABSENT, '3');
    state.set('c', '3');
    const later = await commitOutcome(storage);
    expect(later).toBeInstanceOf(StorageWriteError);
    expect(state.has('c')).toBe(false);
    expect(syncs).toHaveLength(1);
    await storage.close();
  });
});

describe('fdatasyncs on the event loop (fsync always)', () => {
  /** Storage whose background fdatasyncs the test holds and whose loop fdatasyncs it counts (both real). */
  function loopSyncStorage(failLoopSync = false) {
    const background: Array<(err: NodeJS.ErrnoException | null) => void> = [];
    const events: string[] = [];
    const io: StorageIo = {
      writeSync: failingIo().writeSync,
      fdatasync: (_fd, cb) => void background.push(cb),
      fdatasyncSync: (fd) => {
        events.push('loop sync');
        if (failLoopSync) throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
        fdatasyncSync(fd);
      },
    };
    const lines: string[] = [];
    const storage = DiskStorage.open({ dir: tempDir(), fsync: 'always', io, log: (l) => lines.push(l) });
    const state = new Map<string, string>();
    const willChange = storage.table({ name: 't', save: (k) => state.get(k), load: (k, v) => void (v === undefined ? state.delete(k) : state.set(k, v as string)) });
    storage.restore();
    let n = 0;
    /** A change and a reply waiting for it; the reply records itself in `events`. */
    const write = () => {
      const key = `k${n++}`;
      willChange(key, ABSENT, 'v');
      state.set(key, 'v');
      storage.afterCommit((err) => events.push(err ? `failed ${key}: ${err.message}` : `reply ${key}`));
    };
    return { storage, background, events, lines, write, state };
  }

  it('syncs on the loop while no batch is written during a background fdatasync, replies only after it, and probes in the background every 16th commit', async () => {
    const { storage, background, events, write } = loopSyncStorage();
    write();
    await nextTurn();
    // The first commit syncs in the background (nothing known yet); nothing overlaps it.
    expect(background).toHaveLength(1);
    expect(events).toEqual([]);
    background.shift()!(null);
    expect(events).toEqual(['reply k0']);
    events.length = 0;
    for (let i = 1; i <= 15; i++) {
      write();
      await nextTurn();
    }
    // Commits 1-15 synced on the loop, each reply after its own sync; none waits in the background.
    expect(background).toHaveLength(0);
    expect(events).toEqual(Array.from({ length: 15 }, (_, i) => ['loop sync', `reply k${i + 1}`]).flat());
    expect(storage.pending).toBe(false);
    events.length = 0;
    write();
    await nextTurn();
    expect(background).toHaveLength(1); // the 16th: a probe in the background
    expect(events).toEqual([]);
    expect(storage.pending).toBe(true);
    // Another batch written while it runs: work overlaps the fdatasyncs, so they stay in the background.
    write();
    await nextTurn();
    expect(events).toEqual([]);
    background.shift()!(null);
    expect(events).toEqual(['reply k16']);
    expect(background).toHaveLength(1); // k17's batch, in the background too
    write(); // overlapping that one as well
    await nextTurn();
    background.shift()!(null);
    expect(events).toEqual(['reply k16', 'reply k17']);
    expect(background).toHaveLength(1); // k18's, still in the background
    background.shift()!(null);
    expect(events).toEqual(['reply k16', 'reply k17', 'reply k18']);
    // Nothing overlapped k18's fdatasync: the next commit syncs on the loop again.
    write();
    await nextTurn();
    expect(background).toHaveLength(0);
    expect(events.slice(3)).toEqual(['loop sync', 'reply k19']);
    await storage.close();
  });

  it('a failed loop fdatasync fails the replies waiting for it, refuses later writes and leaves nothing pending', async () => {
    const { storage, background, events, lines, write, state } = loopSyncStorage(true);
    write();
    await nextTurn();
    background.shift()!(null);
    write();
    await nextTurn();
    expect(events).toEqual(['reply k0', 'loop sync', 'failed k1: storage fsync failed (EIO): the server refuses further writes']);
    expect(lines.some((l) => /fsync failed \(EIO\)/.test(l))).toBe(true);
    expect(storage.pending).toBe(false);
    write();
    await nextTurn();
    expect(events.at(-1)).toMatch(/^failed k2: storage fsync failed \(EIO\)/);
    expect(state.has('k2')).toBe(false); // rolled back
    await storage.close();
  });
});

describe('the data directory', () => {
  it('is locked by the server using it: a second storage on it is refused, naming the pid', async () => {
    const dir = tempDir();
    const first = DiskStorage.open({ dir });
    // Our own pid is in the lock; pretend another live process holds it.
    writeFileSync(join(dir, 'flo-rx.lock'), `${process.ppid}\n`);
    expect(() => DiskStorage.open({ dir })).toThrow(new RegExp(`in use by another flo-rx server \\(pid ${process.ppid}`));
    writeFileSync(join(dir, 'flo-rx.lock'), `${process.pid}\n`);
    await first.close();
    expect(readdirSync(dir)).not.toContain('flo-rx.lock');
  });

  it('takes over the lock of a process that is gone', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'flo-rx.lock'), '2147483646\n');
    const s = DiskStorage.open({ dir });
    expect(readFileSync(join(dir, 'flo-rx.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await s.close();
  });

  it('must exist and be a directory', () => {
    const dir = tempDir();
    expect(() => DiskStorage.open({ dir: join(dir, 'missing') })).toThrow(/data directory .*missing does not exist/);
    writeFileSync(join(dir, 'file'), '');
    expect(() => DiskStorage.open({ dir: join(dir, 'file') })).toThrow(/is not a directory/);
  });
});

describe('compaction', () => {
  it('folds the log into a snapshot in the background while writes go on, and start-up reads it back', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const lines: string[] = [];
    const s = openStores(dir, clock, { compactAfterBytes: 4096, log: (l) => lines.push(l) });
    const payload = new Uint8Array(100).fill(7);
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 10; i++) s.streams.append(NS, 'big', [{ payload, headers: [] }] as never, 0);
      s.kv.put(NS, utf8('counter'), utf8(String(round)));
      await nextTurn();
    }
    await s.storage.compact();
    expect(s.storage.stats.compactions).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.startsWith('storage: compacted'))).toBe(true);
    const files = readdirSync(dir).filter((f) => f !== 'flo-rx.lock');
    expect(files.filter((f) => f.startsWith('snapshot-'))).toHaveLength(1);
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(false);
    await s.close();
    // 400 records of 100 bytes: after compaction the directory holds at most 2x the payload.
    const total = files.reduce((n, f) => n + (f.startsWith('snapshot-') || f.startsWith('log-') ? statSync(join(dir, f)).size : 0), 0);
    expect(total).toBeLessThan(2 * 400 * 100);
    const again = openStores(dir, new ManualClock(clock.now()));
    expect(again.streams.info(NS, 'big').count).toBe(400n);
    expect(text(again.kv.get(NS, utf8('counter'))?.value)).toBe('39');
    await again.close();
  });
});
