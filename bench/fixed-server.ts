/**
 * The baseline server of the benchmarks: answers every request frame with one fixed reply frame
 * (status OK, a fixed 16-byte payload) carrying the request's id, with as little work as possible:
 * a hand-rolled header scan, no CRC check of requests, one socket write per received chunk.
 */
import * as net from 'node:net';
import { HEADER_SIZE, encodeResponseFrame } from '../src/protocol/index.js';

export const FIXED_PAYLOAD = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x21, 0x21, 0x21]);

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

export function startFixedServer(port = 0, host = '127.0.0.1'): Promise<RunningServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      const replies: Uint8Array[] = [];
      let at = 0;
      while (buf.length - at >= HEADER_SIZE) {
        const length = buf.readUInt32LE(at + 4);
        if (buf.length - at < HEADER_SIZE + length) break;
        const id = buf.readBigUInt64LE(at + 8);
        replies.push(encodeResponseFrame(id, 0, FIXED_PAYLOAD));
        at += HEADER_SIZE + length;
      }
      if (at < buf.length) pending = Buffer.from(buf.subarray(at));
      if (replies.length === 1) socket.write(replies[0]);
      else if (replies.length > 1) socket.write(Buffer.concat(replies));
      buf = chunk; // release
    });
  });
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
