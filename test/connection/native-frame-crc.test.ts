/**
 * The Node client's reply CRC (`flo-rx/node` hands it to the connection): native `zlib.crc32` for
 * large frames, same values as the pure CRC; through a real socket, large and small replies pass
 * and a corrupted large reply fails its request alone, as with the pure CRC.
 */
import { describe, expect, it } from 'vitest';
import { nodeFrameCrc } from '../../src/connection/native-frame-crc.js';
import { ConnectionLostError, encodeResponseFrame, frameCrcAt, NATIVE_CRC_MIN_FRAME, ProtocolError, type FrameCrc } from '../../src/protocol/index.js';
import type { FakeServer } from '../support/fake-server.js';
import { rng } from '../support/rng.js';
import { outcome } from '../support/transport.js';
import { connection, fakeServerPerTest, get } from './helpers.js';

let server: FakeServer;
fakeServerPerTest((s) => (server = s), { handler: () => 'hang' });

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (next() * 256) | 0;
  return b;
}

/** `nodeFrameCrc`, recording the size of each frame it checks. */
function recorded(sizes: number[]): FrameCrc {
  return (bytes, start, end) => {
    sizes.push(end - start);
    return nodeFrameCrc!(bytes, start, end);
  };
}

describe('Node client frame CRC', () => {
  it('is native on this Node and equals the pure CRC around the switch-over', () => {
    expect(nodeFrameCrc).toBeTypeOf('function');
    const next = rng(21);
    const sizes = [32, 100, NATIVE_CRC_MIN_FRAME - 1, NATIVE_CRC_MIN_FRAME, NATIVE_CRC_MIN_FRAME + 1, 10_000, 70_000];
    for (let i = 0; i < 100; i++) sizes.push(32 + ((next() * 3000) | 0));
    for (const size of sizes) {
      const pad = (next() * 40) | 0;
      const bytes = randomBytes(next, pad + size + 3);
      expect(nodeFrameCrc!(bytes, pad, pad + size)).toBe(frameCrcAt(bytes, pad, pad + size));
    }
  });

  it('checks every reply through the connection: large and small pass, a corrupted large one fails alone', async () => {
    const sizes: number[] = [];
    const conn = connection([server.endpoint], { frameCrc: recorded(sizes) });
    const next = rng(5);
    const big = randomBytes(next, 8000);
    const corrupt = outcome(conn.request(get('corrupt')));
    const large = outcome(conn.request(get('large')));
    const small = outcome(conn.request(get('small')));
    const reqs = await server.waitForRequests(3);
    const bad = encodeResponseFrame(reqs[0].id, 0, big);
    bad[4000] ^= 0x10;
    reqs[0].conn.write(bad);
    reqs[1].reply(0, big);
    reqs[2].reply(0, new Uint8Array([1, 2, 3]));
    const c = await corrupt;
    expect(!c.ok && c.error).toBeInstanceOf(ProtocolError);
    expect(!c.ok && c.error).not.toBeInstanceOf(ConnectionLostError);
    const l = await large;
    expect(l.ok && l.value.payload).toEqual(big);
    const s = await small;
    expect(s.ok && [...s.value.payload]).toEqual([1, 2, 3]);
    expect(sizes).toEqual([32 + 8000, 32 + 8000, 32 + 3]);
    expect(conn.state).toBe('connected');
  });
});
