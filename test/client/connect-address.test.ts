import { describe, expect, it } from 'vitest';
import { connect as connectWs, InvalidArgumentError } from '../../src/index.js';
import { connect } from '../../src/node.js';

describe('connect() refuses bad addresses at once', () => {
  it.each(['host:notaport', 'localhost:', 'localhost:70000', '127.0.0.1:0', '[::1', ''])('flo-rx/node: %j', (address) => {
    expect(() => connect(address)).toThrow(InvalidArgumentError);
  });

  it('names the address and keeps the parser error as the cause', () => {
    let err: unknown;
    try {
      connect(['127.0.0.1:9000', 'host:notaport']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/^connect: invalid address 'host:notaport': /);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it.each(['ws://host:notaport', 'ftp://host:1', 'ws://'])('flo-rx (WebSocket): %j', (address) => {
    expect(() => connectWs(address)).toThrow(InvalidArgumentError);
  });

  it('accepts good addresses without connecting (lazy)', async () => {
    for (const c of [connect('127.0.0.1:1'), connect('[::1]:1'), connect('tcp://localhost:1'), connect('ws://127.0.0.1:1'), connectWs('localhost:1')]) await c.close();
  });
});
