/**
 * Scenario (headless Chromium + embedded server + src/modular): a page bundled for the browser
 * (rxjs inside, no `ws`) uses `flo-rx/modular` over the browser's own WebSocket against the
 * embedded server: put, get, a missing key, incr, a typed error, delete, exists. A Node client then
 * reads what the page wrote. The page then does the same over `openFloDirect()` (one socket, no
 * reconnect loop).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { startServer, type FloServer } from '../../src/server.js';
import { connect } from '../../src/node.js';
import { bundleForBrowser } from '../browser/build.js';
import { browserSkipReason, launchChromium, type LaunchedBrowser } from '../browser/launch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const skipReason = browserSkipReason();
if (skipReason) console.warn(skipReason);

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>flo-rx/modular</title></head>
<body><pre id="out"></pre><script type="module" src="/page.js"></script></body></html>
`;

const SCRIPT = `
import { firstValueFrom } from 'rxjs';
import { openFlo, openFloDirect, kvDelete, kvExists, kvGet, kvIncr, kvPut } from './src/modular/index.ts';
import { NotFoundError, isNotFound } from './src/index.ts';

const out = document.getElementById('out');
const lines = [];
const flo = openFlo(new URL(location.href).searchParams.get('flo'), { namespace: 'browser' });
try {
  const { version } = await firstValueFrom(kvPut(flo, 'greeting', { text: 'hi' }));
  lines.push('put v' + version);
  const entry = await firstValueFrom(kvGet(flo, 'greeting'));
  lines.push('get ' + entry.data().text + ' v' + entry.version);
  lines.push('absent ' + (await firstValueFrom(kvGet(flo, 'absent'))));
  lines.push('incr ' + (await firstValueFrom(kvIncr(flo, 'visits', { delta: 5 }))));
  const err = await firstValueFrom(kvDelete(flo, 'missing', { ifMatch: 1 })).catch((e) => e);
  lines.push('delete-missing ' + err.name + ' ' + (err instanceof NotFoundError) + ' ' + isNotFound(err));
  await firstValueFrom(kvDelete(flo, 'greeting'));
  lines.push('exists ' + (await firstValueFrom(kvExists(flo, 'greeting'))));
} catch (e) {
  lines.push('error ' + e);
}
await flo.close();
const direct = openFloDirect(new URL(location.href).searchParams.get('flo'), { namespace: 'browser' });
try {
  lines.push('direct incr ' + (await firstValueFrom(kvIncr(direct, 'visits'))));
  lines.push('direct absent ' + (await firstValueFrom(kvGet(direct, 'absent'))));
  await firstValueFrom(kvPut(direct, 'direct', 'from-page'));
} catch (e) {
  lines.push('error ' + e);
}
await direct.close();
out.textContent = lines.join('\\n');
out.dataset.done = 'true';
`;

describe.skipIf(skipReason !== undefined)('flo-rx/modular in headless Chromium', () => {
  let server: FloServer;
  let http: Server;
  let origin: string;
  let browser: LaunchedBrowser | undefined;
  const requests: string[] = [];

  beforeAll(async () => {
    server = await startServer({ port: 0 });
    const bundle = await bundleForBrowser({ contents: SCRIPT, resolveDir: root }, { minify: true, external: ['ws'] });
    expect(bundle.nodeBuiltins).toEqual([]);
    http = createServer((req, res) => {
      requests.push(new URL(req.url ?? '/', 'http://x').pathname);
      if (req.url?.startsWith('/?') || req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      else if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle.code);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    await server?.close();
  });

  it('reads and writes keys over the browser WebSocket, with typed errors; Node sees what the page wrote', async () => {
    const page = browser!.page;
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${origin}/?flo=${encodeURIComponent(server.wsUrl)}`);
    await page.waitForSelector('#out[data-done="true"]', { state: 'attached', timeout: 20_000 });
    expect((await page.textContent('#out'))!.split('\n')).toEqual([
      'put v1',
      'get hi v1',
      'absent null',
      'incr 5',
      'delete-missing NotFoundError true true',
      'exists false',
      'direct incr 6',
      'direct absent null',
    ]);
    expect(pageErrors).toEqual([]);
    expect(requests).toEqual(['/', '/page.js']);

    const node = connect(`127.0.0.1:${server.port}`, { namespace: 'browser' });
    try {
      expect(await firstValueFrom(node.kv.incr('visits', { delta: 0 }))).toBe(6n);
      expect((await firstValueFrom(node.kv.get('direct')))?.text()).toBe('from-page');
      expect(await firstValueFrom(node.kv.get('greeting'))).toBeNull();
    } finally {
      await node.close();
    }
  }, 60_000);
});
