/**
 * webSocketTransport in Node against a real `ws` WebSocketServer (test-local, not the embedded
 * server). No wall-clock assertions: every wait is on an event.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as WsWebSocket, WebSocketServer, type RawData, type WebSocket as ServerSocket } from 'ws';
import { Connection } from '../../src/connection/connection.js';
import type { TransportHandlers } from '../../src/connection/types.js';
import {
  FLO_WS_SUBPROTOCOL,
  webSocketTransport,
  webSocketUrl,
  type WebSocketConstructor,
  type WebSocketLike,
} from '../../src/connection/websocket.js';
import {
  decodeRequestBody,
  encodeRequest,
  encodeResponseFrame,
  Op,
  RequestFrameDecoder,
  ResponseFrameDecoder,
  type DecodedResponse,
  utf8,
} from '../../src/protocol/index.js';

// Type-level: the DOM's WebSocket class and ws's class both fit the injectable constructor type.
type DomFits = typeof WebSocket extends WebSocketConstructor ? true : false;
type WsFits = typeof WsWebSocket extends WebSocketConstructor ? true : false;
const domFits: DomFits = true;
const wsFits: WsFits = true;

const text = new TextDecoder();

interface Accepted {
  readonly socket: ServerSocket;
  readonly request: IncomingMessage;
  /** Binary flags of every message received, in order. */
  readonly messages: { bytes: Uint8Array; binary: boolean }[];
}

/**
 * A `ws` server that answers every request frame with an OK reply whose payload is `echo:<key>`.
 * `split` > 1 sends all replies to one message's frames as one buffer cut into that many messages.
 */
class TestWsServer {
  readonly accepted: Accepted[] = [];
  split = 1;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly wss: WebSocketServer,
    readonly port: number,
  ) {
    wss.on('connection', (socket, request) => {
      const entry: Accepted = { socket, request, messages: [] };
      this.accepted.push(entry);
      const decoder = new RequestFrameDecoder();
      socket.on('message', (data: RawData, binary: boolean) => {
        const bytes = toBytes(data);
        entry.messages.push({ bytes, binary });
        if (!binary) return;
        const replies = decoder.push(bytes).map((f) => {
          const body = decodeRequestBody(f.payload);
          return encodeResponseFrame(f.requestId, 0, utf8(`echo:${text.decode(body.key)}`));
        });
        const all = Buffer.concat(replies);
        const step = Math.ceil(all.length / this.split);
        for (let at = 0; at < all.length; at += step) socket.send(all.subarray(at, at + step), { binary: true });
        this.wake();
      });
      this.wake();
    });
  }

  static async start(options: { protocols?: 'flo' | 'none'; verify?: boolean } = {}): Promise<TestWsServer> {
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      perMessageDeflate: false,
      handleProtocols: (protocols) =>
        options.protocols === 'none' ? false : protocols.has(FLO_WS_SUBPROTOCOL) ? FLO_WS_SUBPROTOCOL : false,
      verifyClient: options.verify === false ? () => false : undefined,
    });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const server = new TestWsServer(wss, (wss.address() as net.AddressInfo).port);
    servers.push(server);
    return server;
  }

  get endpoint(): string {
    return `ws://127.0.0.1:${this.port}/flo`;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `predicate` holds (checked on every connection and message). */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

const servers: TestWsServer[] = [];

afterEach(async () => {
  vi.unstubAllGlobals();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Handlers that record chunks and decoded replies, and let a test wait for either, or for the close. */
function recorder() {
  const decoder = new ResponseFrameDecoder();
  const chunks: Uint8Array[] = [];
  const replies: DecodedResponse[] = [];
  const closes: (Error | undefined)[] = [];
  let wake: (() => void)[] = [];
  const notify = () => {
    const w = wake;
    wake = [];
    for (const f of w) f();
  };
  const handlers: TransportHandlers = {
    onData(chunk) {
      chunks.push(chunk);
      replies.push(...decoder.push(chunk));
      notify();
    },
    onClose(error) {
      closes.push(error);
      notify();
    },
  };
  const until = async (predicate: () => boolean) => {
    while (!predicate()) await new Promise<void>((resolve) => wake.push(resolve));
  };
  return { handlers, chunks, replies, closes, until };
}

/** One macrotask turn: lets any stray second `onClose` show up before we count. */
const settleTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const get = (id: bigint, key: string) => encodeRequest(id, Op.KvGet, 'default', { key: utf8(key) });

describe('webSocketUrl', () => {
  it('turns endpoints into WebSocket URLs', () => {
    expect(webSocketUrl('localhost').href).toBe('ws://localhost:9000/');
    expect(webSocketUrl('127.0.0.1:9100').href).toBe('ws://127.0.0.1:9100/');
    expect(webSocketUrl('[::1]:9100').href).toBe('ws://[::1]:9100/');
    expect(webSocketUrl('::1').href).toBe('ws://[::1]:9000/');
    expect(webSocketUrl('ws://flo.example/path?x=1').href).toBe('ws://flo.example/path?x=1');
    expect(webSocketUrl('wss://flo.example:8443/').href).toBe('wss://flo.example:8443/');
    expect(webSocketUrl('http://flo.example:9000/ws').href).toBe('ws://flo.example:9000/ws');
    expect(webSocketUrl('https://flo.example/ws').href).toBe('wss://flo.example/ws');
    expect(() => webSocketUrl('tcp://flo.example:9000')).toThrow(TypeError);
    expect(() => webSocketUrl('')).toThrow(TypeError);
  });

  it('adds the token as the `token` query parameter, replacing one already there', () => {
    expect(webSocketUrl('ws://h:1/p?a=1', 'se cr&t').search).toBe('?a=1&token=se+cr%26t');
    expect(webSocketUrl('ws://h:1/p?token=old', 'new').searchParams.getAll('token')).toEqual(['new']);
  });
});

describe('webSocketTransport', () => {
  it('type-checks with the DOM and ws WebSocket classes', () => {
    expect(domFits && wsFits).toBe(true);
  });

  it('negotiates the flo-proto subprotocol by default', async () => {
    const server = await TestWsServer.start();
    const rec = recorder();
    const t = await webSocketTransport()(server.endpoint, rec.handlers);
    await server.until(() => server.accepted.length === 1);
    const { socket, request } = server.accepted[0];
    expect(request.headers['sec-websocket-protocol']).toBe('flo-proto');
    expect(socket.protocol).toBe('flo-proto');
    expect(request.url).toBe('/flo');
    t.close();
    await rec.until(() => rec.closes.length > 0);
  });

  it('offers the given subprotocols, or none', async () => {
    const server = await TestWsServer.start();
    const rec = recorder();
    const t1 = await webSocketTransport({ protocols: ['other', 'flo-proto'] })(server.endpoint, rec.handlers);
    const t2 = await webSocketTransport({ protocols: [] })(server.endpoint, recorder().handlers);
    await server.until(() => server.accepted.length === 2);
    expect(server.accepted[0].request.headers['sec-websocket-protocol']?.split(/,\s*/)).toEqual(['other', 'flo-proto']);
    expect(server.accepted[1].request.headers['sec-websocket-protocol']).toBeUndefined();
    t1.close();
    t2.close();
  });

  it('sends each send() as one binary message and hands replies on as Uint8Array chunks', async () => {
    const server = await TestWsServer.start();
    server.split = 3; // the two replies arrive cut across three messages
    const rec = recorder();
    const t = await webSocketTransport()(server.endpoint, rec.handlers);
    const batch = new Uint8Array([...get(1n, 'a'), ...get(2n, 'bb')]);
    t.send(batch);
    await rec.until(() => rec.replies.length === 2);
    await server.until(() => server.accepted[0]?.messages.length === 1);
    const [msg] = server.accepted[0].messages;
    expect(msg.binary).toBe(true);
    expect([...msg.bytes]).toEqual([...batch]);
    expect(rec.chunks.length).toBe(3);
    for (const chunk of rec.chunks) expect(chunk.constructor).toBe(Uint8Array);
    expect(rec.replies.map((r) => [r.requestId, r.status, r.checksumOk, text.decode(r.payload)])).toEqual([
      [1n, 0, true, 'echo:a'],
      [2n, 0, true, 'echo:bb'],
    ]);
    // A later send is a message of its own.
    t.send(get(3n, 'c'));
    await rec.until(() => rec.replies.length === 3);
    expect(server.accepted[0].messages.length).toBe(2);
    t.close();
    await rec.until(() => rec.closes.length === 1);
  });

  it('delivers the auth token as the `token` query parameter, and keeps it out of errors', async () => {
    const server = await TestWsServer.start();
    const t = await webSocketTransport({ authToken: 's3cret/+=' })(server.endpoint, recorder().handlers);
    await server.until(() => server.accepted.length === 1);
    const url = new URL(server.accepted[0].request.url!, 'ws://x');
    expect(url.pathname).toBe('/flo');
    expect(url.searchParams.get('token')).toBe('s3cret/+=');
    t.close();

    const port = await deadPort();
    const err = await webSocketTransport({ authToken: 'hush' })(`127.0.0.1:${port}`, recorder().handlers).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).not.toContain('hush');
  });

  it('reports a close it asked for once, without an error, and drops sends after it', async () => {
    const server = await TestWsServer.start();
    const rec = recorder();
    const t = await webSocketTransport()(server.endpoint, rec.handlers);
    await server.until(() => server.accepted.length === 1);
    const serverClosed = new Promise<number>((resolve) => server.accepted[0].socket.once('close', resolve));
    t.close();
    t.close();
    expect(() => t.send(get(1n, 'late'))).not.toThrow();
    await rec.until(() => rec.closes.length === 1);
    expect(await serverClosed).toBe(1000);
    await settleTurn();
    expect(rec.closes).toEqual([undefined]);
    expect(server.accepted[0].messages).toEqual([]);
  });

  it('reports an orderly close by the server without an error', async () => {
    const server = await TestWsServer.start();
    const rec = recorder();
    await webSocketTransport()(server.endpoint, rec.handlers);
    await server.until(() => server.accepted.length === 1);
    server.accepted[0].socket.close(1000, 'bye');
    await rec.until(() => rec.closes.length === 1);
    await settleTurn();
    expect(rec.closes).toEqual([undefined]);
  });

  it('reports a close with a failure code as an error naming the code', async () => {
    const server = await TestWsServer.start();
    const rec = recorder();
    await webSocketTransport()(server.endpoint, rec.handlers);
    await server.until(() => server.accepted.length === 1);
    server.accepted[0].socket.close(4001, 'kicked');
    await rec.until(() => rec.closes.length === 1);
    expect(rec.closes[0]).toBeInstanceOf(Error);
    expect(rec.closes[0]!.message).toMatch(/code 4001, kicked/);
  });

  it('reports a dropped connection (no close frame) once, with an error', async () => {
    const server = await TestWsServer.start();
    const rec = recorder();
    await webSocketTransport()(server.endpoint, rec.handlers);
    await server.until(() => server.accepted.length === 1);
    server.accepted[0].socket.terminate();
    await rec.until(() => rec.closes.length === 1);
    await settleTurn();
    expect(rec.closes.length).toBe(1);
    expect(rec.closes[0]).toBeInstanceOf(Error);
    expect(rec.closes[0]!.message).toMatch(/1006/);
  });

  it('closes on a text message and reports it as an error', async () => {
    const server = await TestWsServer.start();
    const rec = recorder();
    await webSocketTransport()(server.endpoint, rec.handlers);
    await server.until(() => server.accepted.length === 1);
    const serverClosed = new Promise<number>((resolve) => server.accepted[0].socket.once('close', resolve));
    server.accepted[0].socket.send('hello', { binary: false });
    await rec.until(() => rec.closes.length === 1);
    expect(rec.closes[0]!.message).toMatch(/non-binary/);
    expect(await serverClosed).toBe(1003);
    expect(rec.chunks).toEqual([]);
  });

  it('rejects when nothing listens', async () => {
    const port = await deadPort();
    const rec = recorder();
    await expect(webSocketTransport()(`127.0.0.1:${port}`, rec.handlers)).rejects.toThrow(/WebSocket to ws:\/\/127\.0\.0\.1/);
    await settleTurn();
    expect(rec.closes).toEqual([]);
  });

  it('rejects when the server refuses the upgrade', async () => {
    const server = await TestWsServer.start({ verify: false });
    await expect(webSocketTransport()(server.endpoint, recorder().handlers)).rejects.toThrow(/401/);
  });

  it('rejects when the server selects no subprotocol', async () => {
    const server = await TestWsServer.start({ protocols: 'none' });
    await expect(webSocketTransport()(server.endpoint, recorder().handlers)).rejects.toThrow(/subprotocol/i);
  });

  it('rejects an unsupported endpoint scheme', async () => {
    await expect(webSocketTransport()('tcp://127.0.0.1:9000', recorder().handlers)).rejects.toThrow(TypeError);
  });

  it('uses the ws package, loaded lazily, where there is no global WebSocket (Node 20)', async () => {
    // Node 20 has no global WebSocket; on a newer Node, hide it so this path is still taken.
    vi.stubGlobal('WebSocket', undefined);
    const server = await TestWsServer.start();
    const rec = recorder();
    const t = await webSocketTransport()(server.endpoint, rec.handlers);
    t.send(get(9n, 'lazy'));
    await rec.until(() => rec.replies.length === 1);
    expect(text.decode(rec.replies[0].payload)).toBe('echo:lazy');
    t.close();
    // ...and the module itself never imports ws (or any node: module) statically.
    const source = readFileSync(new URL('../../src/connection/websocket.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^\s*import\s[^;]*from\s+['"](ws|node:[^'"]*)['"]/m);
    expect(source).toMatch(/import\('ws'\)/);
  });

  it('prefers globalThis.WebSocket (browsers, Node 22+) over ws', async () => {
    const urls: string[] = [];
    class GlobalWebSocket extends WsWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        urls.push(url);
      }
    }
    vi.stubGlobal('WebSocket', GlobalWebSocket);
    const server = await TestWsServer.start();
    const rec = recorder();
    const t = await webSocketTransport({ authToken: 't' })(server.endpoint, rec.handlers);
    expect(urls).toEqual([`${server.endpoint}?token=t`]);
    t.send(get(1n, 'g'));
    await rec.until(() => rec.replies.length === 1);
    t.close();
  });

  it('uses an injected constructor over any global', async () => {
    const made: { url: string; protocols: unknown }[] = [];
    class Injected extends WsWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        made.push({ url, protocols });
      }
    }
    vi.stubGlobal('WebSocket', function NotThisOne() {
      throw new Error('global WebSocket used');
    });
    const server = await TestWsServer.start();
    const rec = recorder();
    const t = await webSocketTransport({ WebSocket: Injected })(server.endpoint, rec.handlers);
    expect(made).toEqual([{ url: server.endpoint, protocols: ['flo-proto'] }]);
    t.send(get(5n, 'inj'));
    await rec.until(() => rec.replies.length === 1);
    expect(rec.replies[0].requestId).toBe(5n);
    t.close();
    await rec.until(() => rec.closes.length === 1);
  });

  it('refuses an injected socket that opens without an offered subprotocol', async () => {
    const closedWith: (number | undefined)[] = [];
    class NoProtocol extends EventTarget implements WebSocketLike {
      binaryType = 'blob';
      readyState = 0;
      protocol = '';
      constructor(_url: string, _protocols?: string | string[]) {
        super();
        queueMicrotask(() => {
          this.readyState = 1;
          this.dispatchEvent(new Event('open'));
        });
      }
      send(): void {}
      close(code?: number): void {
        closedWith.push(code);
      }
    }
    await expect(webSocketTransport({ WebSocket: NoProtocol })('ws://127.0.0.1:1/', recorder().handlers)).rejects.toThrow(
      /selected no offered subprotocol/,
    );
    expect(closedWith).toEqual([1002]);
  });

  it('sets binaryType to arraybuffer on the socket it opens', async () => {
    let seen: WebSocketLike | undefined;
    class Spy extends WsWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        seen = this;
      }
    }
    const server = await TestWsServer.start();
    const t = await webSocketTransport({ WebSocket: Spy })(server.endpoint, recorder().handlers);
    expect(seen?.binaryType).toBe('arraybuffer');
    t.close();
  });

  it('carries a Connection: requests and replies routed by id', async () => {
    const server = await TestWsServer.start();
    const conn = new Connection({ endpoints: [server.endpoint], transport: webSocketTransport(), reconnect: false, timeoutMs: 5000 });
    try {
      const [a, b] = await Promise.all([
        firstValueFrom(conn.request({ opcode: Op.KvGet, namespace: 'default', body: { key: utf8('one') } })),
        firstValueFrom(conn.request({ opcode: Op.KvGet, namespace: 'default', body: { key: utf8('two') } })),
      ]);
      expect(text.decode(a.payload)).toBe('echo:one');
      expect(text.decode(b.payload)).toBe('echo:two');
    } finally {
      await conn.close();
    }
  });
});
