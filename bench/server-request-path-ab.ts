/**
 * `bench/server-request-path.ts` for two trees in one process, alternated: this tree's server
 * request path and another checkout's (`BENCH_AB_OTHER=<dir>`), each a `ServerConnection` over a
 * transport that takes every write at once, built as the server builds it (all subsystems, the
 * metrics observer), fed the same pre-encoded chunks of 256 frames (KV put, KV get, stream append
 * of a 100-byte value; `ping256`: pings, the shared path with an empty handler). Rounds alternate A B, B A, ...; prints each side's median CPU ns per
 * request and the median of the per-round differences (this tree minus the other), which a loaded
 * machine moves far less than runs minutes apart. Both sides share one heap, so one side's garbage
 * may be collected during the other's round: compare the difference, not the absolute figures.
 *
 * Env: BENCH_AB_OTHER (required), BENCH_AB_WORK (`get256,put256,append256` by default; without
 * `256`, e.g. `get,put`: one frame per chunk, the lone request's path),
 * BENCH_AB_KEYS (distinct KV keys, default 1 000; `bench/durability.ts` writes 10 000), BENCH_AB_ROUNDS (default 16), BENCH_AB_OPS (requests per round, default 102 400), BENCH_AB_CHECK=1
 * (a CRC of every reply byte on each side, compared at the end: are the replies byte-identical; costs
 * CPU; get and put replies only, as an append's reply carries the time).
 * Run: `BENCH_AB_OTHER=/path/to/other npx tsx bench/server-request-path-ab.ts`.
 */
import { resolve } from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { loadRequestPath, requestFrame, type RequestWork } from './support/request-path.js';

const here = resolve(fileURLToPath(import.meta.url), '../..');
const other = process.env.BENCH_AB_OTHER;
if (!other) throw new Error('BENCH_AB_OTHER=<dir of the other checkout> is required');
const WORK = (process.env.BENCH_AB_WORK ?? 'get256,put256,append256').split(',');
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 16);
const OPS = Number(process.env.BENCH_AB_OPS ?? 102_400);
const PER_CHUNK = 256;
/** Distinct keys the KV frames cycle through (`bench/durability.ts` uses 10 000). */
const KEYS = Number(process.env.BENCH_AB_KEYS ?? 1_000);
const CHECK = process.env.BENCH_AB_CHECK === '1';

interface Side {
  readonly name: string;
  feed(chunk: Buffer): void;
  replyBytes(): number;
  replyCrc(): number;
}

async function sideOf(tree: string, name: string): Promise<{ side: Side; protocol: Record<string, any> }> {
  let bytes = 0;
  let crc = 0;
  const { protocol, feed } = await loadRequestPath(tree, {
    onSend: (b) => {
      bytes += b.length;
      if (CHECK) crc = (zlib as unknown as { crc32(d: Uint8Array, v: number): number }).crc32(b, crc);
    },
  });
  return { side: { name, feed, replyBytes: () => bytes, replyCrc: () => crc }, protocol };
}

const a = await sideOf(here, 'this');
const b = await sideOf(resolve(other), 'other');
// The frames come from this tree's encoder, for both sides (same bytes).
const protocol = a.protocol;
type Work = RequestWork;
const frameOf = (op: Work, i: number): Uint8Array => requestFrame(protocol, op, i, KEYS);
function chunks(op: Work, perChunk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let c = 0; c < 16_384 / perChunk; c++) out.push(Buffer.concat(Array.from({ length: perChunk }, (_, j) => frameOf(op, c * perChunk + j))));
  return out;
}
function run(side: Side, list: Buffer[], perChunk: number): number {
  const rounds = Math.ceil(OPS / perChunk);
  const t0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) side.feed(list[i % list.length]);
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / (rounds * perChunk);
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const puts = chunks('put', PER_CHUNK);
for (const s of [a.side, b.side]) for (const list of puts) s.feed(list); // keys exist before any get
for (const w of WORK) {
  const perChunk = w.endsWith('256') ? PER_CHUNK : 1;
  const list = chunks(w.replace('256', '') as Work, perChunk);
  for (const s of [a.side, b.side]) run(s, list, perChunk); // warm-up
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      mine.push(run(a.side, list, perChunk));
      theirs.push(run(b.side, list, perChunk));
    } else {
      theirs.push(run(b.side, list, perChunk));
      mine.push(run(a.side, list, perChunk));
    }
  }
  const diffs = mine.map((m, i) => m - theirs[i]);
  console.log(
    `${w}: this ${median(mine).toFixed(0)} ns, other ${median(theirs).toFixed(0)} ns, median paired difference ${median(diffs).toFixed(0)} ns (${diffs.map((d) => d.toFixed(0)).join(' ')})`,
  );
}
if (a.side.replyBytes() !== b.side.replyBytes() || a.side.replyCrc() !== b.side.replyCrc()) {
  console.log(`replies differ: this ${a.side.replyBytes()} bytes (crc ${a.side.replyCrc()}), other ${b.side.replyBytes()} bytes (crc ${b.side.replyCrc()})`);
} else console.log(`reply bytes: ${a.side.replyBytes()} on each side${CHECK ? `, the same bytes (crc ${a.side.replyCrc()})` : ''}`);
