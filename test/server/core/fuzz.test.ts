/**
 * Fuzz: thousands of random and mutated frames over real sockets. Whatever arrives, the server
 * answers with well-formed frames only, rejects with the exact reject frame as the last thing it
 * sends on a connection, never hits a connection-level internal error, and still serves a fresh
 * connection afterwards. Inputs come from fast-check with a fixed seed, so a failure reproduces.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  concatBytes,
  crc32Update,
  encodeRejectFrame,
  encodeRequest,
  OptionsBuilder,
  ResponseFrameDecoder,
  Status,
  toHex,
  utf8,
  type DecodedResponse,
} from '../../../src/protocol/index.js';
import { BinaryClient, startTestServer, T, text, WsClient, type TestServer } from './helpers.js';

const TOTAL_CHUNKS = 5_000;
const REJECT_HEX = toHex(encodeRejectFrame());
const OPCODES = [0x000, 0x100, 0x101, 0x7ff, T.Echo, T.Namespace, T.Park, T.Wake, T.Conflict, T.Boom, T.AsyncBoom, T.Malformed, T.Slow];

function fixCrc(frame: Uint8Array): Uint8Array {
  let c = crc32Update(0xffffffff, frame, 0, 16);
  c = crc32Update(c, frame, 20, frame.length);
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(16, (c ^ 0xffffffff) >>> 0, true);
  return frame;
}

const validFrame = fc
  .record({
    id: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
    opcode: fc.oneof(fc.constantFrom(...OPCODES), fc.integer({ min: 0, max: 0xffff })),
    ns: fc.oneof({ arbitrary: fc.constantFrom('', 'default', 'test'), weight: 3 }, fc.string({ maxLength: 10 }), fc.constant('n'.repeat(300))),
    key: fc.uint8Array({ maxLength: 24 }),
    value: fc.uint8Array({ maxLength: 200 }),
    blockMs: fc.option(fc.nat({ max: 10_000 })),
  })
  .map((f) =>
    encodeRequest(f.id, f.opcode, f.ns, {
      key: f.key,
      value: f.value,
      options: f.blockMs === null ? undefined : new OptionsBuilder().u32(0x17, f.blockMs).build(),
    }),
  );

type Mutation = (f: Uint8Array) => fc.Arbitrary<Uint8Array>;
const mutations: Mutation[] = [
  // flip one or more bytes anywhere (header or payload)
  (f) =>
    fc.array(fc.tuple(fc.nat(f.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }).map((flips) => {
      const m = f.slice();
      for (const [at, x] of flips) m[at] ^= x;
      return m;
    }),
  // truncate (the rest of the stream then lands inside this frame)
  (f) => fc.nat(f.length - 1).map((n) => f.slice(0, n)),
  // change the length field, with or without a matching CRC
  (f) =>
    fc.tuple(fc.oneof(fc.integer({ min: -8, max: 8 }), fc.nat()), fc.boolean()).map(([delta, crc]) => {
      const m = f.slice();
      const v = new DataView(m.buffer);
      v.setUint32(4, Math.max(0, Math.min(0xffffffff, v.getUint32(4, true) + delta)) >>> 0, true);
      return crc ? fixCrc(m) : m;
    }),
  // change a section length inside the payload and fix the CRC (inconsistent sections)
  (f) =>
    fc.tuple(fc.nat(Math.max(0, f.length - 33)), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
      const m = f.slice();
      if (m.length > 32) m[32 + at] ^= x;
      return fixCrc(m);
    }),
  // reserved / version / flags bytes
  (f) => fc.tuple(fc.integer({ min: 22, max: 31 }), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
    const m = f.slice();
    m[at] ^= x;
    return m;
  }),
];

const mutated = validFrame.chain((f) => fc.oneof(...mutations.map((m) => m(f))));
const chunk = fc.oneof(
  { arbitrary: validFrame, weight: 5 },
  { arbitrary: mutated, weight: 4 },
  { arbitrary: fc.uint8Array({ maxLength: 80 }), weight: 1 },
  // several frames in one write
  { arbitrary: fc.array(validFrame, { minLength: 2, maxLength: 5 }).map(concatBytes), weight: 1 },
);
/** A connection's worth of writes; sometimes it starts like HTTP. */
const session = fc.record({
  httpish: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  chunks: fc.array(chunk, { minLength: 1, maxLength: 40 }),
  splitWrites: fc.boolean(),
});

function checkReplies(bytes: Uint8Array, where: string): DecodedResponse[] {
  const frames = new ResponseFrameDecoder().push(bytes);
  expect(frames.reduce((n, f) => n + 32 + f.payload.length, 0), `${where}: whole frames only`).toBe(bytes.length);
  frames.forEach((f, i) => {
    expect(f.checksumOk, where).toBe(true);
    if (f.requestId === 0n) {
      // a request with id 0 may be valid; only a BAD_REQUEST 'Invalid request' must be the reject
      if (f.status === Status.BadRequest && text(f.payload) === 'Invalid request') {
        expect(i, `${where}: the reject frame is the last frame`).toBe(frames.length - 1);
      }
    }
  });
  return frames;
}

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ maxFramePayload: 64 * 1024 });
});
afterAll(async () => {
  await ts.server.close();
});

describe('fuzz', () => {
  it(`survives ${TOTAL_CHUNKS} random and mutated frames over TCP`, async () => {
    const all = fc.sample(session, { numRuns: 1_000, seed: 0x5eed });
    let sent = 0;
    let rejects = 0;
    let okReplies = 0;
    let answered = 0;
    let connections = 0;
    for (const s of all) {
      if (sent >= TOTAL_CHUNKS) break;
      const c = await BinaryClient.open(ts.server.port);
      connections++;
      if (s.httpish) await c.write(utf8('GET /' + String.fromCharCode(...s.chunks[0].subarray(0, 20)))).catch(() => {});
      for (const ch of s.chunks) {
        if (c.closedFlag || sent >= TOTAL_CHUNKS) break;
        sent++;
        if (s.splitWrites && ch.length > 2) {
          const mid = ch.length >> 1;
          await c.write(ch.subarray(0, mid)).catch(() => {});
          await c.write(ch.subarray(mid)).catch(() => {});
        } else {
          await c.write(ch).catch(() => {});
        }
      }
      if (s.httpish) {
        c.close();
        await c.closed;
        continue;
      }
      c.socket.end();
      await c.closed;
      const bytes = c.replies.bytes;
      const frames = checkReplies(bytes, `session ${connections}`);
      const last = frames.at(-1);
      if (last && toHex(bytes.subarray(bytes.length - 47)) === REJECT_HEX) rejects++;
      answered += frames.filter((f) => f.requestId !== 0n).length;
      okReplies += frames.filter((f) => f.status === Status.OK).length;
    }
    expect(sent).toBe(TOTAL_CHUNKS);
    // the mix really exercised both paths
    expect(rejects).toBeGreaterThan(50);
    expect(answered).toBeGreaterThan(1_000);
    expect(okReplies).toBeGreaterThan(100);
    // no connection-level failure (handler errors from the Boom ops are expected and logged per request)
    expect(ts.logs.filter((l) => /: internal error: /.test(l) && !/ opcode 0x/.test(l))).toEqual([]);
    expect(ts.logs.filter((l) => l.includes('connection setup failed'))).toEqual([]);

    // still healthy on a fresh connection
    const fresh = await BinaryClient.open(ts.server.port);
    const r = await fresh.call(1, T.Echo, { value: utf8('still alive') });
    expect([r.status, text(r.payload)]).toEqual([Status.OK, 'still alive']);
    fresh.close();
  });

  it('survives random and mutated frames over WebSocket', async () => {
    const all = fc.sample(fc.array(chunk, { minLength: 1, maxLength: 20 }), { numRuns: 60, seed: 0xbee });
    for (const msgs of all) {
      const c = await WsClient.open(ts.server.wsUrl);
      for (const m of msgs) {
        if (c.closedFlag) break;
        c.send(m);
      }
      if (!c.closedFlag) c.ws.close(1000);
      await c.closed;
      checkReplies(c.replies.bytes, 'websocket');
    }
    const fresh = await WsClient.open(ts.server.wsUrl);
    fresh.send(encodeRequest(1n, T.Echo, 'x', { value: utf8('ws alive') }));
    const [r] = await fresh.waitFor(1);
    expect(text(r.payload)).toBe('ws alive');
    fresh.close();
  });
});
