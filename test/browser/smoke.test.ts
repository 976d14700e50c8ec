/**
 * End to end in headless Chromium: a page served from localhost runs webSocketTransport (bundled
 * for the browser, so the browser's own WebSocket is used), sends request frames to a test `ws`
 * server, decodes the replies and shows them; the test reads them off the page and saves a
 * screenshot to test-output/browser/smoke.png.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type RawData } from 'ws';
import { FLO_WS_SUBPROTOCOL } from '../../src/connection/websocket.js';
import {
  decodeKvGet,
  decodeRequestBody,
  encodeKvGetReply,
  encodeResponseFrame,
  Op,
  RequestFrameDecoder,
  utf8,
} from '../../src/protocol/index.js';
import { bundleForBrowser } from './build.js';
import { browserSkipReason, launchChromium, type LaunchedBrowser } from './launch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outputDir = `${root}test-output/browser`;
const skipReason = browserSkipReason();
if (skipReason) console.warn(skipReason);

const PAGE = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>flo-rx WebSocket smoke test</title>
<style>
  body { font: 15px system-ui, sans-serif; margin: 24px; color: #1b1f24; }
  h1 { font-size: 20px; margin: 0 0 12px; }
  dt { font-weight: 600; margin-top: 10px; }
  pre { background: #f2f4f7; padding: 10px 12px; border-radius: 6px; margin: 4px 0; min-height: 1.2em; }
  #error { color: #b42318; }
</style>
</head>
<body>
<h1>flo-rx: webSocketTransport in the browser</h1>
<dl>
  <dt>status</dt><dd><pre id="status">loading</pre></dd>
  <dt>replies (kv_get over binary WebSocket messages)</dt><dd><pre id="result"></pre></dd>
  <dt>close</dt><dd><pre id="closed"></pre></dd>
  <dt>error</dt><dd><pre id="error"></pre></dd>
</dl>
<script type="module" src="/smoke.js"></script>
</body>
</html>
`;

interface Seen {
  protocol: string;
  token: string | null;
  path: string;
  messages: { binary: boolean; frames: number }[];
}

describe.skipIf(skipReason !== undefined)('browser smoke test (headless Chromium)', () => {
  let http: Server;
  let wss: WebSocketServer;
  let browser: LaunchedBrowser | undefined;
  let origin: string;
  const seen: Seen[] = [];
  const pageRequests: string[] = [];

  beforeAll(async () => {
    const bundle = await bundleForBrowser({ file: `${root}test/browser/page/smoke-entry.ts` }, { minify: false, external: ['ws'] });
    http = createServer((req, res) => {
      pageRequests.push(req.url ?? '');
      if (req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      } else if (req.url === '/smoke.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle.code);
      } else {
        res.writeHead(404).end();
      }
    });
    wss = new WebSocketServer({
      server: http,
      path: '/flo',
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(FLO_WS_SUBPROTOCOL) ? FLO_WS_SUBPROTOCOL : false),
    });
    wss.on('connection', (socket, req) => {
      const url = new URL(req.url ?? '/', 'ws://x');
      const entry: Seen = { protocol: socket.protocol, token: url.searchParams.get('token'), path: url.pathname, messages: [] };
      seen.push(entry);
      const decoder = new RequestFrameDecoder();
      socket.on('message', (data: RawData, binary: boolean) => {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        const frames = binary ? decoder.push(bytes) : [];
        entry.messages.push({ binary, frames: frames.length });
        const replies = frames.map((f) => {
          if (f.opcode !== Op.KvGet) return encodeResponseFrame(f.requestId, 2, utf8('unexpected opcode'));
          const req = decodeKvGet(decodeRequestBody(f.payload));
          const value = { greeting: 'hello', planet: 'world' }[new TextDecoder().decode(req.key)] ?? '?';
          return encodeResponseFrame(f.requestId, 0, encodeKvGetReply({ version: 40n + f.requestId, value: utf8(value) }));
        });
        // Both replies in one buffer, cut mid-frame into two messages: the page must reassemble.
        const all = Buffer.concat(replies);
        const cut = Math.floor(all.length / 2) + 3;
        socket.send(all.subarray(0, cut), { binary: true });
        socket.send(all.subarray(cut), { binary: true });
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const c of wss?.clients ?? []) c.terminate();
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  });

  it('round-trips request frames over the browser WebSocket', async () => {
    const page = browser!.page;
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));

    await page.goto(`${origin}/`);
    await page.waitForSelector('[data-done="true"]', { state: 'attached' });
    const error = await page.textContent('#error');
    expect(error).toBe('');
    await page.waitForFunction(() => document.getElementById('closed')?.textContent === 'closed');

    expect(await page.textContent('#result')).toBe(['#1 status=0 crc=ok v41 hello', '#2 status=0 crc=ok v42 world'].join('\n'));
    expect(await page.textContent('#status')).toBe('done');
    expect(await page.evaluate(() => typeof WebSocket)).toBe('function');

    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ protocol: 'flo-proto', token: 'browser-token', path: '/flo' });
    expect(seen[0].messages).toEqual([{ binary: true, frames: 2 }]);
    expect(consoleErrors).toEqual([]);
    expect(pageRequests).toEqual(['/', '/smoke.js']);

    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: `${outputDir}/smoke.png`, fullPage: true });
  }, 60_000);
});
