import { afterEach, describe, expect, it } from 'vitest';
import { concatBytes, encodeRequestFrame, fromHex, Status, toHex, utf8 } from '../../../src/protocol/index.js';
import { BinaryClient, req, startTestServer, T, text, type TestServer } from './helpers.js';

/** The exact bytes of Flo's reject frame (request id 0, `Invalid request`) for a malformed frame. */
const REJECT_HEX = '464c4f000f00000000000000000000007f1bb07c01030000' + '0000000000000000' + '496e76616c69642072657175657374';

let ts: TestServer | undefined;
const clients: BinaryClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ts?.server.close();
  ts = undefined;
});

async function open(opts: Parameters<typeof startTestServer>[0] = {}) {
  ts ??= await startTestServer(opts);
  const c = await BinaryClient.open(ts.server.port);
  clients.push(c);
  return c;
}

/** Sends `bytes`, waits for the server to close, returns everything it sent. */
async function sendAndCollect(bytes: Uint8Array | Uint8Array[], opts: Parameters<typeof startTestServer>[0] = {}) {
  const c = await open(opts);
  for (const b of Array.isArray(bytes) ? bytes : [bytes]) await c.write(b);
  await c.closed;
  return c.replies.bytes;
}

const valid = () => req(1, T.Echo, { value: utf8('hello') });
const mutate = (frame: Uint8Array, at: number, value: number) => {
  const copy = frame.slice();
  copy[at] = value;
  return copy;
};

describe('malformed frames: reject frame (id 0, status 3, "Invalid request"), then close', () => {
  it('matches the documented reject bytes', async () => {
    const { encodeRejectFrame } = await import('../../../src/protocol/index.js');
    expect(toHex(encodeRejectFrame())).toBe(REJECT_HEX);
  });

  it('bad magic', async () => {
    expect(toHex(await sendAndCollect(mutate(valid(), 0, 0x47)))).toBe(REJECT_HEX);
  });

  it('anything else of 4+ bytes is treated as binary and fails magic', async () => {
    expect(toHex(await sendAndCollect(utf8('*1\r\n$4\r\nPING\r\n' + 'x'.repeat(40))))).toBe(REJECT_HEX);
    expect(toHex(await sendAndCollect(new Uint8Array(32)))).toBe(REJECT_HEX);
  });

  it('a bad header is rejected as soon as 32 bytes are in, before its payload arrives', async () => {
    const frame = mutate(req(1, T.Echo, { value: new Uint8Array(1000) }), 0, 0);
    expect(toHex(await sendAndCollect(frame.subarray(0, 32)))).toBe(REJECT_HEX);
  });

  it('bad version', async () => {
    expect(toHex(await sendAndCollect(mutate(valid(), 22, 2)))).toBe(REJECT_HEX);
  });

  it('non-zero reserved bytes', async () => {
    for (const at of [24, 27, 31]) {
      expect(toHex(await sendAndCollect(mutate(valid(), at, 1)))).toBe(REJECT_HEX);
    }
  });

  it('bad CRC (payload byte flipped, and CRC field flipped)', async () => {
    const f = valid();
    expect(toHex(await sendAndCollect(mutate(f, f.length - 1, f[f.length - 1] ^ 0xff)))).toBe(REJECT_HEX);
    expect(toHex(await sendAndCollect(mutate(f, 16, f[16] ^ 0x01)))).toBe(REJECT_HEX);
  });

  it('bad CRC on frames long enough for the native CRC (header byte, payload byte, CRC field)', async () => {
    for (const size of [600, 5000]) {
      const f = req(1, T.Echo, { value: new Uint8Array(size).map((_, i) => i * 31) });
      for (const at of [9, 20 + 1, f.length - 1, 19]) {
        expect(toHex(await sendAndCollect(mutate(f, at, f[at] ^ 0x40)))).toBe(REJECT_HEX);
      }
    }
  });

  it('payload larger than maxFramePayload (checked from the header)', async () => {
    const big = req(1, T.Echo, { value: new Uint8Array(2000) });
    expect(toHex(await sendAndCollect(big.subarray(0, 40), { maxFramePayload: 1024 }))).toBe(REJECT_HEX);
  });

  it('payload whose sections overrun it (Flo would stall; we reject)', async () => {
    // namespace length 200 in a 12-byte payload, correct CRC
    const payload = fromHex('c8000000000000000000' + '0000');
    expect(toHex(await sendAndCollect(encodeRequestFrame(1n, T.Echo, payload)))).toBe(REJECT_HEX);
    // value length overruns
    const payload2 = fromHex('0000' + '0000' + 'ffffff00' + '0000');
    expect(toHex(await sendAndCollect(encodeRequestFrame(2n, T.Echo, payload2)))).toBe(REJECT_HEX);
    // a payload of 1 byte cannot even hold the namespace length
    expect(toHex(await sendAndCollect(encodeRequestFrame(3n, T.Echo, new Uint8Array([5]))))).toBe(REJECT_HEX);
  });

  it('valid frames before the bad one (same write) are answered first; bytes after it are ignored', async () => {
    const bytes = concatBytes([
      req(1, T.Echo, { value: utf8('a') }),
      req(2, T.Echo, { value: utf8('b') }),
      mutate(valid(), 0, 0x00),
      req(3, T.Echo, { value: utf8('c') }),
    ]);
    const c = await open();
    await c.write(bytes);
    await c.closed;
    const frames = c.replies.frames;
    expect(frames.map((f) => [f.requestId, f.status, text(f.payload)])).toEqual([
      [1n, Status.OK, 'a'],
      [2n, Status.OK, 'b'],
      [0n, Status.BadRequest, 'Invalid request'],
    ]);
    expect(toHex(c.replies.bytes).endsWith(REJECT_HEX)).toBe(true);
  });

  it('a split bad frame after good traffic', async () => {
    const c = await open();
    expect(text((await c.call(1, T.Echo, { value: utf8('ok') })).payload)).toBe('ok');
    const bad = mutate(valid(), 25, 9);
    for (let i = 0; i < bad.length; i++) {
      if (c.closedFlag) break;
      await c.write(bad.subarray(i, i + 1)).catch(() => {});
    }
    await c.closed;
    expect(c.replies.frames.map((f) => f.requestId)).toEqual([1n, 0n]);
    expect(ts!.logs.some((l) => l.includes('rejected frame'))).toBe(true);
  });

  it('the server keeps serving other connections after rejecting one', async () => {
    await sendAndCollect(mutate(valid(), 0, 0));
    const c = await open();
    expect(text((await c.call(1, T.Echo, { value: utf8('fine') })).payload)).toBe('fine');
  });

  it('a connection that closes with fewer than 4 bytes is simply dropped', async () => {
    const c = await open();
    await c.write(new Uint8Array([0x46, 0x4c]));
    c.socket.end();
    await c.closed;
    expect(c.replies.raw.length).toBe(0);
    const d = await open();
    expect((await d.call(1, 0x000)).status).toBe(Status.OK);
  });
});
