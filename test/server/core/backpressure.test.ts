import { describe, expect, it } from 'vitest';
import { concatBytes, encodeRequest, ResponseFrameDecoder, Status, utf8 } from '../../../src/protocol/index.js';
import { ServerConnection } from '../../../src/server/connection.js';
import { collectHandlers, Dispatcher } from '../../../src/server/dispatcher.js';
import { ok } from '../../../src/server/reply.js';
import type { EndReason, FrameTransport, TransportEvents } from '../../../src/server/transport.js';

/** A transport whose write buffer only empties when the test says so. */
class FakeTransport implements FrameTransport {
  readonly protocol = 'binary' as const;
  readonly remoteAddress = 'fake:1';
  events!: TransportEvents;
  written: Uint8Array[] = [];
  writes = 0;
  bufferedBytes = 0;
  paused = false;
  ended: EndReason | undefined;
  start(events: TransportEvents) {
    this.events = events;
  }
  send(bytes: Uint8Array) {
    this.writes++;
    // A copy: the connection writes over its output buffer once nothing is buffered.
    this.written.push(bytes.slice());
    this.bufferedBytes += bytes.length;
  }
  pauseReading() {
    this.paused = true;
  }
  resumeReading() {
    this.paused = false;
  }
  end(why: EndReason) {
    this.ended = why;
  }
  destroy() {}
  drainAll() {
    this.bufferedBytes = 0;
    this.events.drain();
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup() {
  const big = new Uint8Array(64 * 1024);
  const dispatcher = new Dispatcher(collectHandlers([{ handlers: new Map([[0x7e0, () => ok(big)]]) }]));
  const transport = new FakeTransport();
  const conn = new ServerConnection(transport, { id: 1, dispatcher, highWaterMark: 256 * 1024 });
  conn.start();
  return { transport, conn };
}

describe('ServerConnection backpressure', () => {
  it('pauses reading while the peer is slow to take replies, resumes on drain', async () => {
    const { transport, conn } = setup();
    conn.receive(concatBytes(Array.from({ length: 8 }, (_, i) => encodeRequest(BigInt(i + 1), 0x7e0, 'ns', {}))));
    await nextTurn();
    expect(transport.bufferedBytes).toBeGreaterThan(256 * 1024);
    expect(transport.paused).toBe(true);
    transport.drainAll();
    expect(transport.paused).toBe(false);
  });

  it('coalesces the replies of one turn into one write', async () => {
    const { transport, conn } = setup();
    conn.receive(concatBytes(Array.from({ length: 3 }, (_, i) => encodeRequest(BigInt(i + 1), 0x000, 'ns', {}))));
    conn.receive(encodeRequest(4n, 0x000, 'ns', {}));
    await nextTurn();
    expect(transport.writes).toBe(1);
    const frames = new ResponseFrameDecoder().push(concatBytes(transport.written));
    expect(frames.map((f) => [f.requestId, f.status])).toEqual([
      [1n, Status.OK],
      [2n, Status.OK],
      [3n, Status.OK],
      [4n, Status.OK],
    ]);
  });

  it("writes a turn's replies at once when the transport says its last chunk came, still in one write", async () => {
    const { transport, conn } = setup();
    conn.receive(concatBytes(Array.from({ length: 2 }, (_, i) => encodeRequest(BigInt(i + 1), 0x000, 'ns', {}))));
    expect(transport.writes).toBe(0); // more may come this turn
    conn.receive(encodeRequest(3n, 0x000, 'ns', {}), true);
    expect(transport.writes).toBe(1); // no setImmediate waited for
    await nextTurn();
    expect(transport.writes).toBe(1); // nothing left for the end of the turn
    conn.receive(encodeRequest(4n, 0x000, 'ns', {}), true);
    expect(transport.writes).toBe(2);
    const frames = new ResponseFrameDecoder().push(concatBytes(transport.written));
    expect(frames.map((f) => [f.requestId, f.status])).toEqual([
      [1n, Status.OK],
      [2n, Status.OK],
      [3n, Status.OK],
      [4n, Status.OK],
    ]);
  });

  it('writes pending replies, then the reject frame, then ends the transport', async () => {
    const { transport, conn } = setup();
    const bad = encodeRequest(9n, 0x000, 'ns', { value: utf8('x') });
    bad[bad.length - 1] ^= 1;
    conn.receive(concatBytes([encodeRequest(1n, 0x000, 'ns', {}), bad]));
    expect(transport.ended).toBe('reject');
    expect(conn.isOpen).toBe(false);
    const frames = new ResponseFrameDecoder().push(concatBytes(transport.written));
    expect(frames.map((f) => [f.requestId, f.status])).toEqual([
      [1n, Status.OK],
      [0n, Status.BadRequest],
    ]);
    expect(conn.signal.aborted).toBe(true);
  });
});
