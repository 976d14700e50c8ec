import { afterEach, describe, expect, it } from 'vitest';
import { concatBytes, encodeRequest, Status, utf8 } from '../../../src/protocol/index.js';
import { blockMs, BinaryClient, req, startTestServer, T, text, type TestServer } from './helpers.js';

let ts: TestServer | undefined;
const clients: BinaryClient[] = [];

async function setup(opts: Parameters<typeof startTestServer>[0] = {}) {
  ts = await startTestServer(opts);
  const c = await BinaryClient.open(ts.server.port);
  clients.push(c);
  return { ...ts, c };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ts?.server.close();
  ts = undefined;
});

describe('server basics', () => {
  it('reports its address and profile', async () => {
    const { server } = await setup({ profile: 'flo' });
    expect(server.port).toBeGreaterThan(0);
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`flo://127.0.0.1:${server.port}`);
    expect(server.wsUrl).toBe(`ws://127.0.0.1:${server.port}`);
    expect(server.profile).toBe('flo');
    expect(ts!.probe.env?.profile).toBe('flo');
    expect(ts!.probe.env?.clock).toBe(server.clock);
  });

  it('counts open connections', async () => {
    const { server, c } = await setup();
    await c.call(1, T.Echo);
    expect(server.connections).toBe(1);
    const d = await BinaryClient.open(server.port);
    clients.push(d);
    await d.call(1, T.Echo);
    expect(server.connections).toBe(2);
    d.close();
    await d.closed;
    // the server sees the close asynchronously; another round trip on c orders us after it
    while (server.connections !== 1) await c.call(2, T.Echo);
    expect(server.connections).toBe(1);
    expect(ts!.logs.some((l) => /conn #\d+ open binary 127\.0\.0\.1:\d+/.test(l))).toBe(true);
  });

  it('answers ping (0x000) with OK and an empty payload, even with an empty request payload', async () => {
    const { c } = await setup();
    const r = await c.call(7, 0x000, {}, '');
    expect(r).toMatchObject({ requestId: 7n, status: Status.OK, checksumOk: true });
    expect(r.payload.length).toBe(0);
    // a payload-less frame (length 0) is four empty sections
    const { encodeRequestFrame } = await import('../../../src/protocol/index.js');
    await c.write(encodeRequestFrame(8n, 0x000, new Uint8Array(0)));
    const [r2] = await c.next();
    expect(r2).toMatchObject({ requestId: 8n, status: Status.OK });
  });

  it('echoes pipelined requests, all in one write, each with its own id', async () => {
    const { c } = await setup();
    const n = 200;
    const frames = Array.from({ length: n }, (_, i) => req(1000 + i, T.Echo, { value: utf8(`v${i}`) }));
    await c.write(concatBytes(frames));
    const replies = await c.waitFor(n);
    expect(replies.map((r) => r.requestId)).toEqual(Array.from({ length: n }, (_, i) => BigInt(1000 + i)));
    expect(replies.map((r) => text(r.payload))).toEqual(Array.from({ length: n }, (_, i) => `v${i}`));
    expect(replies.every((r) => r.status === Status.OK && r.checksumOk)).toBe(true);
  });

  it('assembles a frame split across many writes (byte by byte)', async () => {
    const { c } = await setup();
    const value = new Uint8Array(300).map((_, i) => i & 0xff);
    const frame = concatBytes([req(1, T.Echo, { value }), req(2, T.Echo, { value: utf8('two') })]);
    for (let i = 0; i < frame.length; i++) await c.write(frame.subarray(i, i + 1));
    const [a, b] = await c.waitFor(2);
    expect(a.requestId).toBe(1n);
    expect(Array.from(a.payload)).toEqual(Array.from(value));
    expect(text(b.payload)).toBe('two');
  });

  it('assembles a large frame arriving in many chunks', async () => {
    const { c } = await setup();
    const value = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
    const frame = req(5, T.Echo, { value });
    for (let at = 0; at < frame.length; at += 10_007) await c.write(frame.subarray(at, at + 10_007));
    const [r] = await c.waitFor(1);
    expect(r.status).toBe(Status.OK);
    expect(r.payload.length).toBe(value.length);
    expect(r.payload[123_456]).toBe(value[123_456]);
  });

  it('answers in completion order: a parked request never delays later ones', async () => {
    const { c, clock, probe } = await setup();
    await c.write(req(1, T.Park, { key: utf8('k'), options: blockMs(60_000) }));
    await c.write(req(2, T.Echo, { value: utf8('fast') }));
    const [fast] = await c.waitFor(1);
    expect(fast.requestId).toBe(2n);
    expect(probe.waiters!.count('k')).toBe(1);
    // a wake on another connection releases it
    const d = await BinaryClient.open(ts!.server.port);
    clients.push(d);
    const w = await d.call(3, T.Wake, { key: utf8('k') });
    expect(w.status).toBe(Status.OK);
    const [, parked] = await c.waitFor(2);
    expect(parked).toMatchObject({ requestId: 1n, status: Status.OK });
    expect(text(parked.payload)).toBe('woken');
    expect(clock.pendingTimers).toBe(0);
  });

  it('times parked requests out on the server clock (ManualClock)', async () => {
    const { c, clock, probe } = await setup();
    await c.write(req(1, T.Park, { key: utf8('k'), options: blockMs(5_000) }));
    await c.call(2, T.Echo); // the park is now registered
    clock.advance(4_999);
    const still = await c.call(3, T.Echo);
    expect(still.requestId).toBe(3n);
    expect(c.replies.frames.map((f) => f.requestId)).toEqual([2n, 3n]);
    clock.advance(1);
    const [, , timedOut] = await c.waitFor(3);
    expect(timedOut).toMatchObject({ requestId: 1n, status: Status.NotFound });
    expect(timedOut.payload.length).toBe(0);
    expect(probe.timedOut).toBe(1);
  });

  it('answers an unknown opcode with BAD_REQUEST "unknown opcode 0x…" and keeps the connection', async () => {
    const { c } = await setup();
    const r = await c.call(9, 0x7ff);
    expect(r).toMatchObject({ requestId: 9n, status: Status.BadRequest });
    expect(text(r.payload)).toBe('unknown opcode 0x7ff');
    const r2 = await c.call(10, 0x0a);
    expect(text(r2.payload)).toBe('unknown opcode 0x00a');
    const r3 = await c.call(11, 0xffff);
    expect(text(r3.payload)).toBe('unknown opcode 0xffff');
    const after = await c.call(12, T.Echo, { value: utf8('still here') });
    expect(text(after.payload)).toBe('still here');
  });

  it('maps handler errors to statuses; the connection survives every one', async () => {
    const { c } = await setup();
    const cases: Array<[number, number, string]> = [
      [T.Conflict, Status.Conflict, 'version mismatch'],
      [T.BadRequest, Status.BadRequest, 'nope'],
      [T.Malformed, Status.BadRequest, 'truncated payload: count needs 4 byte(s)'],
      [T.Boom, Status.InternalError, 'boom'],
      [T.AsyncBoom, Status.InternalError, 'async boom'],
      [T.ThrowString, Status.InternalError, 'just a string'],
    ];
    let id = 1;
    for (const [op, status, message] of cases) {
      const r = await c.call(id, op);
      expect(r.requestId).toBe(BigInt(id));
      expect(r.status, `opcode 0x${op.toString(16)}`).toBe(status);
      expect(text(r.payload)).toBe(message);
      id++;
    }
    expect(text((await c.call(99, T.Echo, { value: utf8('ok') })).payload)).toBe('ok');
    expect(ts!.logs.filter((l) => l.includes('internal error')).length).toBe(3);
  });

  it("normalises '' to 'default' and refuses namespaces over 63 bytes (Flo's rule)", async () => {
    const { c } = await setup();
    expect(text((await c.call(1, T.Namespace, {}, '')).payload)).toBe('default');
    expect(text((await c.call(2, T.Namespace, {}, 'default')).payload)).toBe('default');
    expect(text((await c.call(3, T.Namespace, {}, 'tenant-a')).payload)).toBe('tenant-a');
    expect(text((await c.call(4, T.Namespace, {}, 'n'.repeat(63))).payload)).toBe('n'.repeat(63));
    const tooLong = await c.call(5, T.Namespace, {}, 'n'.repeat(64));
    expect(tooLong.status).toBe(Status.BadRequest);
    expect(text(tooLong.payload)).toBe('invalid namespace: 64 bytes (max 63)');
    expect(text((await c.call(6, T.Echo, { value: utf8('x') })).payload)).toBe('x');
  });

  it('tolerates the options section being absent or overrunning (Flo parse rules)', async () => {
    const { c } = await setup();
    const { encodeRequestFrame } = await import('../../../src/protocol/index.js');
    // ns "a", key "", value "hi", no options section at all
    const noOptions = new Uint8Array([1, 0, 0x61, 0, 0, 2, 0, 0, 0, 0x68, 0x69]);
    await c.write(encodeRequestFrame(1n, T.Echo, noOptions));
    // options length 9 with 1 byte present: read as empty; plus trailing bytes ignored elsewhere
    const overrun = new Uint8Array([1, 0, 0x61, 0, 0, 2, 0, 0, 0, 0x68, 0x69, 9, 0, 1]);
    await c.write(encodeRequestFrame(2n, T.Echo, overrun));
    const [a, b] = await c.waitFor(2);
    expect([a.status, text(a.payload)]).toEqual([Status.OK, 'hi']);
    expect([b.status, text(b.payload)]).toEqual([Status.OK, 'hi']);
  });

  it('close() aborts parked requests, drops their replies, closes sockets and subsystems', async () => {
    const { c, probe, server, clock } = await setup();
    await c.write(concatBytes([1, 2, 3].map((i) => req(i, T.Park, { key: utf8(`k${i}`), options: blockMs(60_000) }))));
    await c.call(4, T.Echo);
    expect(probe.waiters!.count()).toBe(3);
    await server.close();
    await c.closed;
    expect(probe.aborted).toBe(3);
    expect(probe.closed).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    // only the echo was answered
    expect(c.replies.frames.map((f) => f.requestId)).toEqual([4n]);
    expect(server.connections).toBe(0);
    await server.close(); // idempotent
  });

  it('drops the reply of a parked request whose connection closed, and keeps serving others', async () => {
    const { c, probe } = await setup();
    await c.write(req(1, T.Park, { key: utf8('gone'), options: blockMs(60_000) }));
    await c.call(2, T.Echo);
    c.close();
    await c.closed;
    const d = await BinaryClient.open(ts!.server.port);
    clients.push(d);
    while (probe.aborted === 0) await d.call(3, T.Echo);
    expect(probe.waiters!.count('gone')).toBe(0);
    expect(text((await d.call(4, T.Echo, { value: utf8('alive') })).payload)).toBe('alive');
  });

  it('answers OVERLOADED beyond the in-flight limit instead of buffering without bound', async () => {
    const { c } = await setup();
    const n = 4096 + 3;
    await c.write(concatBytes(Array.from({ length: n }, (_, i) => req(i + 1, T.Park, { key: utf8('many'), options: blockMs(60_000) }))));
    const replies = await c.waitFor(3);
    expect(replies.map((r) => r.status)).toEqual([Status.Overloaded, Status.Overloaded, Status.Overloaded]);
    expect(replies.map((r) => r.requestId)).toEqual([4097n, 4098n, 4099n]);
    // a request that does not park still runs (no deadlock): the wake on the same connection
    const wake = await c.call(1, T.Wake, { key: utf8('many') });
    expect(wake.status).toBe(Status.OK);
    await c.waitFor(3 + 4096 + 1);
    expect(c.replies.frames.filter((f) => f.status === Status.OK).length).toBe(4096 + 1);
  });

  it('uses request ids verbatim, including the largest u64', async () => {
    const { c } = await setup();
    await c.write(encodeRequest(0xffff_ffff_ffff_ffffn, T.Echo, 'x', {}));
    const [r] = await c.waitFor(1);
    expect(r.requestId).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('a peer that half-closes after sending still gets the replies already due', async () => {
    const { c } = await setup();
    c.socket.write(concatBytes([1, 2, 3].map((i) => req(i, T.Echo, { value: utf8(`h${i}`) }))));
    c.socket.end();
    await c.closed;
    expect(c.replies.frames.map((f) => text(f.payload))).toEqual(['h1', 'h2', 'h3']);
  });
});

describe('startServer options', () => {
  it('refuses two subsystems claiming one opcode', async () => {
    const { startServer } = await import('../../../src/server/server.js');
    const h = new Map([[0x7e0, () => ({ status: 0 })]]);
    await expect(startServer({ port: 0, subsystems: () => [{ handlers: h }, { handlers: h }] })).rejects.toThrow(
      'opcode 0x7e0 is registered by two subsystems',
    );
  });

  it('refuses invalid options', async () => {
    const { startServer } = await import('../../../src/server/server.js');
    await expect(startServer({ port: -1, subsystems: () => [] })).rejects.toThrow(RangeError);
    await expect(startServer({ port: 0, profile: 'zig' as 'go', subsystems: () => [] })).rejects.toThrow(RangeError);
  });

  it('lets a subsystem own ping', async () => {
    ts = await startTestServer({ subsystems: () => [{ handlers: new Map([[0x000, () => ({ status: 0, payload: utf8('pong') })]]) }] });
    const c = await BinaryClient.open(ts.server.port);
    clients.push(c);
    expect(text((await c.call(1, 0x000)).payload)).toBe('pong');
  });

  it('reports a port in use', async () => {
    ts = await startTestServer();
    const { startServer } = await import('../../../src/server/server.js');
    let closed = false;
    await expect(
      startServer({ port: ts.server.port, subsystems: () => [{ handlers: new Map(), close: () => void (closed = true) }] }),
    ).rejects.toThrow(/EADDRINUSE/);
    expect(closed).toBe(true);
  });
});
