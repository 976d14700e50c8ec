/**
 * The Angular example (examples/angular), built ahead of time by the Angular CLI
 * (`npm run angular:build`), served as static files and clicked through in headless Chromium
 * against the embedded server: add, move, a second tab following, a server restart shown as
 * reconnecting then connected (with the stream reset it implies, the server keeping nothing).
 *
 * Needs examples/angular/dist/browser. Locally the test is skipped, with the reason, when that
 * build output is missing; in CI (`CI` set) it always runs (.ci/run builds the app first), so a
 * missing build fails loudly.
 *
 * Screenshots under test-output/browser/: angular-desktop.png, angular-390.png,
 * angular-reconnecting.png, angular-reset.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { connect, type FloClient } from '../../src/node.js';
import { startServer, type FloServer } from '../../src/server.js';
import { BOARD_STREAM, cardAdded, type BoardEvent } from '../../examples/event-sourced-ui/board.js';
import { browserSkipReason, launchChromium, type LaunchedBrowser } from './launch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outputDir = `${root}test-output/browser`;
const appDir = `${root}examples/angular/dist/browser`;
const WAIT_MS = 20_000;

function skipReason(): string | undefined {
  const browser = browserSkipReason();
  if (browser) return browser;
  if (existsSync(join(appDir, 'index.html')) || process.env.CI) return undefined;
  return 'Angular browser test skipped: examples/angular/dist/browser is missing (run: npm run angular:build)';
}
const skip = skipReason();
if (skip) console.warn(skip);

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** Serves the built app (unknown paths get index.html, as an SPA host would). */
async function serveApp(): Promise<{ url: string; close(): Promise<void> }> {
  const http: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(appDir, path === '/' ? 'index.html' : path);
    readFile(file.startsWith(appDir) ? file : join(appDir, 'index.html'))
      .catch(() => readFile(join(appDir, 'index.html')))
      .then(
        (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? TYPES['.html']!, 'cache-control': 'no-store' }).end(body),
        () => res.writeHead(500).end(),
      );
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((r) => {
        http.closeAllConnections();
        http.close(() => r());
      }),
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function boardEvents(flo: FloClient): Promise<BoardEvent[]> {
  const records = await firstValueFrom(flo.stream.read(BOARD_STREAM, { from: 'start' }).pipe(toArray()));
  return records.map((r) => r.data<BoardEvent>());
}

const card = (title: string, column?: string) => `#board section${column ? `[data-column="${column}"]` : ''} li[data-title="${title}"]`;

describe.skipIf(skip !== undefined)('Angular example (AOT build) in headless Chromium', () => {
  let server: FloServer;
  let port: number;
  let app: { url: string; close(): Promise<void> };
  let node: FloClient;
  let browser: LaunchedBrowser | undefined;
  let second: Page | undefined;
  let pageUrl: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(appDir, 'index.html'))) throw new Error('examples/angular/dist/browser is missing: run npm run angular:build');
    server = await startServer({ port: 0 });
    port = server.port;
    app = await serveApp();
    pageUrl = `${app.url}?flo=${encodeURIComponent(server.wsUrl)}`;
    node = connect(`127.0.0.1:${port}`, { timeoutMs: 5000, reconnect: { minTimeoutMs: 50, maxTimeoutMs: 500 } });
    browser = await launchChromium();
    browser.page.on('pageerror', (e) => pageErrors.push(e.message));
    // Angular reports errors it catches on the console; the browser's own "WebSocket connection
    // failed" lines while the server is down are expected.
    browser.page.on('console', (m) => (m.type() === 'error' && !/^WebSocket connection to .* failed/.test(m.text()) ? pageErrors.push(m.text()) : undefined));
    mkdirSync(outputDir, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await node?.close();
    await app?.close();
    await server?.close();
  });

  it('replays, adds and moves cards through the service, and shows them in the board and the event log', async () => {
    const page = browser!.page;
    await page.setViewportSize({ width: 1280, height: 820 });
    await firstValueFrom(node.stream.append(BOARD_STREAM, cardAdded('Replayed from the stream', 'doing', 'r1')));
    await page.goto(pageUrl);
    await page.waitForSelector('#badge[data-state="connected"]', { timeout: WAIT_MS });
    await page.waitForSelector('#status[data-status="live"][data-applied="1"]', { timeout: WAIT_MS });
    await page.waitForSelector(card('Replayed from the stream', 'doing'), { timeout: WAIT_MS });

    await page.fill('#title', 'Added in Angular');
    await page.click('#add');
    const added = await waitFor('the Angular card in the stream', async () =>
      (await boardEvents(node)).find((e): e is Extract<BoardEvent, { type: 'card-added' }> => e.type === 'card-added' && e.title === 'Added in Angular'),
    );
    await page.waitForSelector(card('Added in Angular', 'todo'), { timeout: WAIT_MS });
    await page.click(`${card('Added in Angular', 'todo')} button[data-to="doing"]`);
    await waitFor('the move in the stream', async () => (await boardEvents(node)).find((e) => e.type === 'card-moved' && e.cardId === added.cardId && e.to === 'doing'));
    await page.waitForSelector(card('Added in Angular', 'doing'), { timeout: WAIT_MS });
    await page.waitForSelector('#status[data-applied="3"]', { timeout: WAIT_MS });
    expect(await page.textContent('#status')).toBe('Live · 3 events folded');
    expect(await page.locator('#log li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-type')))).toEqual(['card-moved', 'card-added', 'card-added']);
    expect(await page.locator('#error').count()).toBe(0);
    await page.screenshot({ path: `${outputDir}/angular-desktop.png`, fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${outputDir}/angular-390.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 820 });
  }, 60_000);

  it('a second tab replays and follows', async () => {
    const page = browser!.page;
    second = await browser!.context.newPage();
    second.on('pageerror', (e) => pageErrors.push(e.message));
    await second.goto(pageUrl);
    await second.waitForSelector('#status[data-status="live"][data-applied="3"]', { timeout: WAIT_MS });
    await second.waitForSelector(card('Added in Angular', 'doing'), { timeout: WAIT_MS });

    await page.click(`${card('Added in Angular', 'doing')} button[data-to="done"]`);
    await second.waitForSelector(card('Added in Angular', 'done'), { timeout: WAIT_MS });
    await second.fill('#title', 'From the second tab');
    await second.click('#add');
    await page.waitForSelector(card('From the second tab', 'todo'), { timeout: WAIT_MS });
  }, 60_000);

  it('shows a server restart as reconnecting (writes held back), then connected, with the reset it implies', async () => {
    const page = browser!.page;
    await server.close();
    await page.waitForSelector('#badge[data-state="reconnecting"]', { timeout: WAIT_MS });
    await page.waitForSelector('#status[data-status="stale"]', { timeout: WAIT_MS });
    expect(await page.textContent('#status')).toContain(`Server unreachable at ${server.wsUrl}`);
    expect(await page.isDisabled('#add')).toBe(true);
    expect(await page.locator('#board li button.move:enabled').count()).toBe(0);
    expect(await page.locator('#board li').count()).toBe(3);
    await page.screenshot({ path: `${outputDir}/angular-reconnecting.png`, fullPage: true });

    server = await startServer({ port });
    await page.waitForSelector('#badge[data-state="connected"]', { timeout: WAIT_MS });
    await page.waitForSelector('#reset-notice[data-reason="missing"]', { timeout: WAIT_MS });
    await page.waitForSelector('#status[data-status="live"][data-applied="0"]', { timeout: WAIT_MS });
    expect(await page.locator('#board li').count()).toBe(0);
    expect(await page.isEnabled('#add')).toBe(true);
    await second!.waitForSelector('#reset-notice', { timeout: WAIT_MS });

    await page.fill('#title', 'After the restart');
    await page.click('#add');
    await page.waitForSelector(card('After the restart', 'todo'), { timeout: WAIT_MS });
    await second!.waitForSelector(card('After the restart', 'todo'), { timeout: WAIT_MS });
    await page.screenshot({ path: `${outputDir}/angular-reset.png`, fullPage: true });
    await page.click('#dismiss-reset');
    await page.waitForSelector('#reset-notice', { state: 'detached', timeout: WAIT_MS });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
