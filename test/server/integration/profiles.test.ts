// The same requests against a 'go' and a 'flo' server: scan, history, dequeue, peek and DLQ-list
// replies come in each profile's layout (checked with hand-written parsers, independent of the
// codecs), and the client-side decoders read both to the same logical result.
import { afterEach, describe, expect, it } from 'vitest';
import {
  Op,
  decodeKvHistoryReply,
  decodeKvScanReply,
  decodeQueueDequeueReply,
  decodeQueueDlqListReply,
  decodeQueuePeekReply,
  encodeKvHistory,
  encodeKvPut,
  encodeKvScan,
  encodeQueueDequeue,
  encodeQueueDlqList,
  encodeQueueEnqueue,
  encodeQueueFail,
  encodeQueuePeek,
  fromUtf8,
  utf8,
  type QueueMessage,
} from '../../../src/protocol/index.js';
import { SocketClient, okBody, startIntegration, type Integration } from './harness.js';

const T0 = 1_767_225_600_000; // 2026-01-01

/** A strict little-endian reader: every parse must consume the payload exactly. */
class R {
  private o = 0;
  private readonly dv: DataView;
  constructor(private readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  u8() {
    return this.dv.getUint8(this.o++);
  }
  u16() {
    const v = this.dv.getUint16(this.o, true);
    this.o += 2;
    return v;
  }
  u32() {
    const v = this.dv.getUint32(this.o, true);
    this.o += 4;
    return v;
  }
  u64() {
    const v = this.dv.getBigUint64(this.o, true);
    this.o += 8;
    return v;
  }
  i64() {
    const v = this.dv.getBigInt64(this.o, true);
    this.o += 8;
    return v;
  }
  str(n: number) {
    if (this.o + n > this.b.length) throw new RangeError('past the end');
    const s = fromUtf8(this.b.subarray(this.o, this.o + n));
    this.o += n;
    return s;
  }
  done() {
    if (this.o !== this.b.length) throw new Error(`${this.b.length - this.o} byte(s) left over`);
  }
}

interface ScanPage {
  keys: string[];
  values: string[];
  hasMore: boolean;
  cursor: string;
}
function parseScan(p: Uint8Array, profile: 'go' | 'flo'): ScanPage {
  const r = new R(p);
  const page: ScanPage = { keys: [], values: [], hasMore: false, cursor: '' };
  const entries = () => {
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      page.keys.push(r.str(r.u16()));
      page.values.push(r.str(r.u32()));
    }
  };
  if (profile === 'go') {
    page.hasMore = r.u8() !== 0;
    page.cursor = r.str(r.u32());
    entries();
  } else {
    entries();
    page.hasMore = r.u8() !== 0;
    page.cursor = r.str(r.u16());
  }
  r.done();
  return page;
}

function parseHistory(p: Uint8Array, profile: 'go' | 'flo') {
  const r = new R(p);
  const n = r.u32();
  const out: Array<{ version: bigint; value: string; ts?: bigint }> = [];
  for (let i = 0; i < n; i++) {
    if (profile === 'go') {
      const version = r.u64();
      const ts = r.i64();
      out.push({ version, ts, value: r.str(r.u32()) });
    } else {
      const value = r.str(r.u32());
      out.push({ value, version: r.u64() });
    }
  }
  r.done();
  return out;
}

function parseMessages(p: Uint8Array, profile: 'go' | 'flo') {
  const r = new R(p);
  const n = r.u32();
  const out: Array<{ seq: bigint; payload: string; enqueuedAt?: bigint; deliveries?: number; priority?: number }> = [];
  for (let i = 0; i < n; i++) {
    const seq = r.u64();
    const payload = r.str(r.u32());
    if (profile === 'go') out.push({ seq, payload });
    else out.push({ seq, payload, enqueuedAt: r.i64(), deliveries: r.u32(), priority: r.u8() });
  }
  r.done();
  return out;
}

const logical = (ms: readonly QueueMessage[]) => ms.map((m) => ({ seq: m.seq, payload: fromUtf8(m.payload) }));

/** Runs the same script against one server; returns the raw reply payloads. */
async function script(c: SocketClient, it: Integration) {
  const req = async (op: number, body: Parameters<SocketClient['request']>[1]) => okBody(await c.request(op, body));
  // KV: five keys, then a scan two at a time, following the cursor
  for (let i = 1; i <= 5; i++) await req(Op.KvPut, encodeKvPut({ key: utf8(`user:${i}`), value: utf8(`v${i}`) }));
  const pages: Uint8Array[] = [];
  let cursor: Uint8Array | undefined;
  for (let guard = 0; guard < 10; guard++) {
    const p = await req(Op.KvScan, encodeKvScan({ prefix: utf8('user:'), limit: 2, ...(cursor ? { cursor } : {}) }));
    pages.push(p);
    const page = decodeKvScanReply(p);
    if (!page.hasMore) break;
    cursor = page.cursor;
  }
  // history: three versions of one key, one second apart
  for (const v of ['h1', 'h2', 'h3']) {
    await req(Op.KvPut, encodeKvPut({ key: utf8('hist'), value: utf8(v) }));
    it.clock.advance(1000);
  }
  const history = await req(Op.KvHistory, encodeKvHistory({ key: utf8('hist') }));
  // queue: a, b (priority 3), c; dequeue one (a), nack it to the DLQ; peek the rest; list the DLQ
  await req(Op.QueueEnqueue, encodeQueueEnqueue({ queue: 'jobs', payload: utf8('a') }));
  it.clock.advance(5);
  await req(Op.QueueEnqueue, encodeQueueEnqueue({ queue: 'jobs', payload: utf8('b'), priority: 3 }));
  await req(Op.QueueEnqueue, encodeQueueEnqueue({ queue: 'jobs', payload: utf8('c') }));
  const dequeued = await req(Op.QueueDequeue, encodeQueueDequeue({ queue: 'jobs', count: 1 }));
  await req(Op.QueueFail, encodeQueueFail({ queue: 'jobs', seqs: [1n], toDlq: true }));
  const peeked = await req(Op.QueuePeek, encodeQueuePeek({ queue: 'jobs', count: 10 }));
  const dlq = await req(Op.QueueDlqList, encodeQueueDlqList({ queue: 'jobs' }));
  return { pages, history, dequeued, peeked, dlq };
}

let servers: Integration[] = [];
let clients: SocketClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.server.close()));
  servers = [];
  clients = [];
});

async function run(profile: 'go' | 'flo', transport: 'tcp' | 'ws') {
  const it = await startIntegration({ profile, startMs: T0 });
  servers.push(it);
  const c = transport === 'tcp' ? await SocketClient.tcp(it.server.port) : await SocketClient.ws(it.server.wsUrl);
  clients.push(c);
  const out = await script(c, it);
  expect(it.internalErrors()).toEqual([]);
  return out;
}

describe.each([
  ['tcp', 'tcp'],
  ['flo over WebSocket', 'ws'],
] as const)('reply profiles (%s)', (_label, floTransport) => {
  it('scan, history, dequeue, peek and DLQ list: each profile its layout, one logical result', async () => {
    const go = await run('go', 'tcp');
    const flo = await run('flo', floTransport);

    // scan: layout A (go) vs layout B (flo); every page, every key once
    const goPages = go.pages.map((p) => parseScan(p, 'go'));
    const floPages = flo.pages.map((p) => parseScan(p, 'flo'));
    for (const pages of [goPages, floPages]) {
      expect(pages.flatMap((p) => p.keys)).toEqual(['user:1', 'user:2', 'user:3', 'user:4', 'user:5']);
      expect(pages.map((p) => p.hasMore)).toEqual([true, true, false]);
      expect(pages[0].cursor).not.toBe('');
    }
    // the layouts really differ (B is not A)
    expect(() => parseScan(go.pages[0], 'flo')).toThrow();
    expect(() => parseScan(flo.pages[0], 'go')).toThrow();
    const strip = (p: ReturnType<typeof decodeKvScanReply>) => ({ hasMore: p.hasMore, entries: p.entries.map((e) => [fromUtf8(e.key), fromUtf8(e.value)]) });
    expect(flo.pages.map((p) => strip(decodeKvScanReply(p)))).toEqual(go.pages.map((p) => strip(decodeKvScanReply(p))));

    // history: A (version, ts ns, value) vs C (value, version)
    const gh = parseHistory(go.history, 'go');
    const fh = parseHistory(flo.history, 'flo');
    expect(gh.map((h) => h.value)).toEqual(['h3', 'h2', 'h1']);
    expect(gh.map((h) => h.ts)).toEqual([2000n, 1000n, 0n].map((d) => (BigInt(T0) + d) * 1_000_000n));
    expect(fh).toEqual(gh.map(({ version, value }) => ({ value, version })));
    const dh = (p: Uint8Array) => decodeKvHistoryReply(p).map((e) => ({ version: e.version, value: fromUtf8(e.value) }));
    expect(dh(flo.history)).toEqual(dh(go.history));
    expect(decodeKvHistoryReply(go.history).map((e) => e.timestampNs)).toEqual(gh.map((h) => h.ts));

    // queue lists: short (go) vs extended with the 13-byte trailer (flo)
    expect(parseMessages(go.dequeued, 'go')).toEqual([{ seq: 1n, payload: 'a' }]);
    expect(parseMessages(flo.dequeued, 'flo')).toEqual([{ seq: 1n, payload: 'a', enqueuedAt: BigInt(T0 + 3000), deliveries: 1, priority: 0 }]);
    expect(parseMessages(go.peeked, 'go')).toEqual([
      { seq: 3n, payload: 'c' },
      { seq: 2n, payload: 'b' },
    ]);
    expect(parseMessages(flo.peeked, 'flo')).toEqual([
      { seq: 3n, payload: 'c', enqueuedAt: BigInt(T0 + 3005), deliveries: 0, priority: 0 },
      { seq: 2n, payload: 'b', enqueuedAt: BigInt(T0 + 3005), deliveries: 0, priority: 3 },
    ]);
    expect(parseMessages(go.dlq, 'go')).toEqual([{ seq: 1n, payload: 'a' }]);
    expect(parseMessages(flo.dlq, 'flo')).toEqual([{ seq: 1n, payload: 'a', enqueuedAt: BigInt(T0 + 3000), deliveries: 1, priority: 0 }]);

    expect(logical(decodeQueueDequeueReply(flo.dequeued).messages)).toEqual(logical(decodeQueueDequeueReply(go.dequeued).messages));
    expect(logical(decodeQueuePeekReply(flo.peeked).messages)).toEqual(logical(decodeQueuePeekReply(go.peeked).messages));
    expect(logical(decodeQueueDlqListReply(flo.dlq).messages)).toEqual(logical(decodeQueueDlqListReply(go.dlq).messages));
    // the decoders surface the extended fields only when the server sent them
    expect(decodeQueuePeekReply(go.peeked).messages[0].deliveryCount).toBeUndefined();
    expect(decodeQueuePeekReply(flo.peeked).messages[1].priority).toBe(3);
  });
});
