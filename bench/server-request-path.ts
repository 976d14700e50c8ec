/**
 * The embedded server's request path in process, without sockets: a `ServerConnection` over a
 * transport that takes every write at once, built as the server builds it (all subsystems, the
 * metrics observer), fed pre-encoded KV put or get frames one per chunk (1 in flight: each chunk
 * the turn's last, so its reply is written at once) or 256 per chunk. Prints the CPU ns per
 * request of this process (`process.cpuUsage`): what a request costs from the bytes read to the
 * reply bytes handed over, the part of the server's CPU that the kernel's socket work hides in
 * the end-to-end benches. `append` and `append256` send stream appends of one 100-byte record to
 * one stream (what `bench/durability.ts` appends), 1 or 256 per chunk.
 *
 * Env: BENCH_PATH_TREE=<dir> (the checkout whose `src/server` is measured; default this one),
 * BENCH_PATH_OPS (requests per measured run, default 400 000), BENCH_PATH_RUNS (default 5; the
 * median is printed), BENCH_PATH_KEYS (distinct KV keys, default 1 000; `bench/durability.ts` writes
 * 10 000), BENCH_PATH_WORK (`put,get,put256,get256` by default; also `append,append256`), BENCH_PATH_VERSIONS (KV
 * versions kept per key, default 65 as the server's), BENCH_PATH_FSYNC (`everysec` or `always`: a
 * data directory in a temp dir (no compaction), the connection's replies held for its commits; `off`: in memory
 * but run the same way, which is waiting one turn of the event loop after each chunk so that the
 * commit and the release of the held replies run, as in the server: compare `off` with `everysec`;
 * `gate`: replies held and released each turn by a gate without storage, the reply path's part).
 * Run: `npx tsx bench/server-request-path.ts`, or `node --cpu-prof --import tsx ...` to profile it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRequestPath, requestFrame } from './support/request-path.js';

const here = resolve(fileURLToPath(import.meta.url), '../..');
const tree = resolve(process.env.BENCH_PATH_TREE ?? here);
const OPS = Number(process.env.BENCH_PATH_OPS ?? 400_000);
const RUNS = Number(process.env.BENCH_PATH_RUNS ?? 5);
const WORK = (process.env.BENCH_PATH_WORK ?? 'put,get,put256,get256').split(',');
const KEYS = Number(process.env.BENCH_PATH_KEYS ?? 1_000);

const FSYNC = process.env.BENCH_PATH_FSYNC;
const dataDir = FSYNC === 'everysec' || FSYNC === 'always' ? mkdtempSync(join(tmpdir(), 'flo-rx-path-')) : undefined;
const storage = dataDir ? (await import(resolve(tree, 'src/server/storage/index.ts'))).DiskStorage.open({ dir: dataDir, fsync: FSYNC, compactAfterBytes: Number.MAX_SAFE_INTEGER }) : undefined;
let replyBytes = 0;
type Committed = (error?: Error) => void;
/**
 * `BENCH_PATH_FSYNC=gate`: the reply path's own cost of holding replies, without the storage: a
 * gate that has a commit pending from the start of each chunk to the next turn (as a turn that
 * wrote something), one list of callbacks per commit.
 */
class TurnGate {
  private list: Committed[] | undefined;
  get pending(): boolean {
    return this.list !== undefined;
  }
  get commitTicket(): object | undefined {
    return this.list;
  }
  afterCommit(callback: Committed): void {
    if (this.list) this.list.push(callback);
    else callback();
  }
  begin(): void {
    this.list ??= [];
  }
  commit(): void {
    const list = this.list ?? [];
    this.list = undefined;
    for (const cb of list) cb();
  }
}
const turnGate = FSYNC === 'gate' ? new TurnGate() : undefined;
const gate = storage ?? turnGate;
const { protocol, feed } = await loadRequestPath(tree, {
  kvVersionsKept: Number(process.env.BENCH_PATH_VERSIONS ?? 65),
  ...(storage ? { persistence: storage } : {}),
  ...(gate ? { commitGate: gate } : {}),
  onSend: (bytes) => {
    replyBytes += bytes.length;
  },
});

type Work = 'put' | 'get' | 'append';
const frameOf = (op: Work, i: number): Uint8Array => requestFrame(protocol, op, i, KEYS);
/** Chunks as a socket hands them over: Buffers, one frame each or `perChunk` frames each. */
function chunks(op: Work, perChunk: number): Buffer[] {
  const out: Buffer[] = [];
  // 1 000 chunks (every key, at one frame per chunk); with more keys, enough chunks to write each twice.
  const count = KEYS <= 1_000 ? KEYS : Math.ceil((KEYS * 2) / perChunk);
  for (let c = 0; c < count; c++) {
    const frames = Array.from({ length: perChunk }, (_, j) => frameOf(op, c * perChunk + j));
    out.push(Buffer.concat(frames));
  }
  return out;
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

async function run(list: Buffer[], perChunk: number): Promise<number> {
  const rounds = Math.ceil(OPS / perChunk);
  const t0 = process.cpuUsage();
  if (FSYNC === undefined) for (let i = 0; i < rounds; i++) feed(list[i % list.length]);
  else
    for (let i = 0; i < rounds; i++) {
      turnGate?.begin();
      feed(list[i % list.length]);
      await nextTurn();
      turnGate?.commit();
    }
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / (rounds * perChunk);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cases: Record<string, [Buffer[], number]> = {};
for (const w of WORK) {
  const perChunk = w.endsWith('256') ? 256 : 1;
  cases[w] = [chunks(w.startsWith('put') ? 'put' : w.startsWith('append') ? 'append' : 'get', perChunk), perChunk];
}
// Keys exist before any get; one warm-up pass of each case.
if (cases.put === undefined && WORK.some((w) => w.startsWith('get'))) await run(chunks('put', 1), 1);
for (const w of WORK) await run(...cases[w]);
const line: string[] = [];
for (const w of WORK) {
  const ns: number[] = [];
  for (let r = 0; r < RUNS; r++) ns.push(await run(...cases[w]));
  line.push(`${w} ${median(ns).toFixed(0)} ns (${ns.map((n) => n.toFixed(0)).join(' ')})`);
}
console.log(`${tree}${FSYNC ? ` (fsync ${FSYNC})` : ''}: ${line.join('; ')}; ${replyBytes} reply bytes`);
if (storage) {
  await storage.close();
  rmSync(dataDir!, { recursive: true, force: true });
}
