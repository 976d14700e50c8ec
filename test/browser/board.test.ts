/**
 * The event-sourced board (examples/event-sourced-ui) in headless Chromium against the embedded
 * server, as a person would use it: the empty state, what Node appends showing up live in the board
 * and the event log (a malformed record marked, not applied), the page's own writes (read back
 * from Node), a second tab that replays the same events and follows, a server that goes away (the
 * page says so in words and holds writes back) and comes back empty on the same port (the page
 * says the stream was reset and rebuilds), and a page opened with no server at all (it names the URL).
 *
 * Screenshots under test-output/browser/: board-desktop.png, board-390.png, board-reconnecting.png,
 * board-reset.png, board-no-server.png.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { connect, type FloClient } from '../../src/node.js';
import { startServer, type FloServer } from '../../src/server.js';
import { BOARD_STREAM, cardAdded, cardMoved, type BoardEvent } from '../../examples/event-sourced-ui/board.js';
import { serveUi, type ServedUi } from '../../examples/event-sourced-ui/serve.js';
import { browserSkipReason, launchChromium, type LaunchedBrowser } from './launch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outputDir = `${root}test-output/browser`;
const skipReason = browserSkipReason();
if (skipReason) console.warn(skipReason);

/** Generous: a bound for the test's patience, not a performance assertion. */
const WAIT_MS = 20_000;
const DESKTOP = { width: 1280, height: 820 };
const PHONE = { width: 390, height: 844 };

/** Polls `probe` until it returns something other than undefined (or the wait runs out). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every event of the board stream, as Node reads it. */
async function boardEvents(flo: FloClient): Promise<BoardEvent[]> {
  const records = await firstValueFrom(flo.stream.read(BOARD_STREAM, { from: 'start' }).pipe(toArray()));
  return records.map((r) => r.data<BoardEvent>());
}

const append = (flo: FloClient, payload: unknown) => firstValueFrom(flo.stream.append(BOARD_STREAM, payload));

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const card = (title: string, column?: string) => `#board section${column ? `[data-column="${column}"]` : ''} li[data-title="${title}"]`;

describe.skipIf(skipReason !== undefined)('event-sourced board in headless Chromium', () => {
  let server: FloServer;
  let port: number;
  let ui: ServedUi;
  let node: FloClient;
  let browser: LaunchedBrowser | undefined;
  let second: Page | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await startServer({ port: 0 });
    port = server.port;
    ui = await serveUi({ floUrl: server.wsUrl, minify: false });
    // The page uses the default namespace; so does this client (TCP, reconnects quickly).
    node = connect(`127.0.0.1:${port}`, { timeoutMs: 5000, reconnect: { minTimeoutMs: 50, maxTimeoutMs: 500 } });
    browser = await launchChromium();
    browser.page.on('pageerror', (e) => pageErrors.push(e.message));
    mkdirSync(outputDir, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await node?.close();
    await ui?.close();
    await server?.close();
  });

  it('starts empty with hints, shows what Node appends in the board and the event log, and appends what its buttons say', async () => {
    const page = browser!.page;
    await page.setViewportSize(DESKTOP);
    await page.goto(ui.url);
    await page.waitForSelector('#badge[data-state="connected"]', { timeout: WAIT_MS });
    await page.waitForSelector('#status[data-status="live"]', { timeout: WAIT_MS });
    // The empty state says what to try.
    await page.waitForSelector('#empty:not([hidden])', { timeout: WAIT_MS });
    expect(await page.textContent('#empty')).toMatch(/second tab/);
    expect(await page.isEnabled('#add')).toBe(true);

    // Live from Node, including one record the board cannot understand.
    await append(node, cardAdded('Write the docs', 'todo', 'docs'));
    await append(node, cardAdded('Ship it', 'doing', 'ship'));
    await append(node, cardMoved('ship', 'done'));
    await append(node, { type: 'card-exploded', cardId: 'ship' });
    await page.waitForSelector(card('Write the docs', 'todo'), { timeout: WAIT_MS });
    await page.waitForSelector(card('Ship it', 'done'), { timeout: WAIT_MS });
    await page.waitForSelector('#status[data-applied="4"]', { timeout: WAIT_MS });
    expect(await page.isHidden('#empty')).toBe(true);
    expect(await page.textContent('#status')).toBe('Live · 4 events folded');

    // The event log, newest first: types, payloads, the malformed one marked and explained.
    const log = page.locator('#log li');
    expect(await log.count()).toBe(4);
    expect(await log.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-type')))).toEqual(['card-exploded', 'card-moved', 'card-added', 'card-added']);
    expect(await page.textContent('#log li.bad')).toMatch(/not applied: unknown event type "card-exploded"/);
    expect(await page.locator('#log li.bad').count()).toBe(1);
    expect(await log.nth(1).textContent()).toMatch(/{"cardId":"ship","to":"done"}/);
    expect(await page.textContent('#log-count')).toMatch(/1 not understood/);

    // The page's button appends; Node reads it back.
    await page.fill('#title', 'Added in the browser');
    await page.click('#add');
    const added = await waitFor('the browser card in the stream', async () =>
      (await boardEvents(node)).find((e): e is Extract<BoardEvent, { type: 'card-added' }> => e.type === 'card-added' && e.title === 'Added in the browser'),
    );
    expect(added.column).toBe('todo');
    await page.waitForSelector(card('Added in the browser', 'todo'), { timeout: WAIT_MS });

    // Move it right with its → button: a card-moved event, then the card in the next column.
    await page.click(`${card('Added in the browser', 'todo')} button[data-to="doing"]`);
    await waitFor('the move in the stream', async () =>
      (await boardEvents(node)).find((e) => e.type === 'card-moved' && e.cardId === added.cardId && e.to === 'doing'),
    );
    await page.waitForSelector(card('Added in the browser', 'doing'), { timeout: WAIT_MS });
    await page.waitForSelector('#status[data-applied="6"]', { timeout: WAIT_MS });
    expect(await page.locator('#board li').count()).toBe(3);
    expect(await page.isHidden('#error')).toBe(true);
    await page.screenshot({ path: `${outputDir}/board-desktop.png`, fullPage: true });

    // 390 px wide: one column of lanes, the header on one line, nothing wider than the screen.
    await page.setViewportSize(PHONE);
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      headerHeight: document.querySelector('header')!.getBoundingClientRect().height,
      h1Height: document.querySelector('h1')!.getBoundingClientRect().height,
      lanes: Array.from(document.querySelectorAll('#board section')).map((s) => Math.round(s.getBoundingClientRect().left)),
    }));
    expect(layout.scrollWidth).toBeLessThanOrEqual(PHONE.width);
    expect(layout.headerHeight).toBeLessThan(layout.h1Height * 4); // title + subtitle, not four wrapped lines
    expect(new Set(layout.lanes).size).toBe(1); // stacked
    await page.screenshot({ path: `${outputDir}/board-390.png`, fullPage: true });
    await page.setViewportSize(DESKTOP);
  }, 60_000);

  it('a second tab replays the same events and follows what the first one does', async () => {
    const page = browser!.page;
    second = await browser!.context.newPage();
    second.on('pageerror', (e) => pageErrors.push(e.message));
    await second.goto(ui.url);
    await second.waitForSelector('#status[data-status="live"][data-applied="6"]', { timeout: WAIT_MS });
    await second.waitForSelector(card('Added in the browser', 'doing'), { timeout: WAIT_MS });
    expect(await second.locator('#log li').count()).toBe(6);

    await page.fill('#title', 'From the first tab');
    await page.click('#add');
    await second.waitForSelector(card('From the first tab', 'todo'), { timeout: WAIT_MS });
    await second.click(`${card('From the first tab', 'todo')} button[data-to="doing"]`);
    await page.waitForSelector(card('From the first tab', 'doing'), { timeout: WAIT_MS });
    await page.waitForSelector('#status[data-applied="8"]', { timeout: WAIT_MS });
  }, 60_000);

  it('says the server is unreachable and holds writes back; when it comes back empty, says the stream was reset and rebuilds', async () => {
    const page = browser!.page;
    await server.close();
    await page.waitForSelector('#badge[data-state="reconnecting"]', { timeout: WAIT_MS });
    await page.waitForSelector('#status[data-status="stale"]', { timeout: WAIT_MS });
    expect(await page.textContent('#badge')).toBe('Reconnecting…');
    expect(await page.textContent('#status')).toBe(`Server unreachable at ${server.wsUrl}; retrying. Showing the last board seen (8 events).`);
    expect(await page.isDisabled('#add')).toBe(true);
    expect(await page.locator('#board li button.move:enabled').count()).toBe(0);
    // The last board seen stays on screen.
    expect(await page.locator('#board li').count()).toBe(4);
    await page.screenshot({ path: `${outputDir}/board-reconnecting.png`, fullPage: true });

    server = await startServer({ port });
    await page.waitForSelector('#badge[data-state="connected"]', { timeout: WAIT_MS });
    // Nothing was kept: the stream is gone, the page says so and shows the board as it is now.
    await page.waitForSelector('#reset-notice:not([hidden])[data-reason="missing"]', { timeout: WAIT_MS });
    expect(await page.textContent('#reset-notice')).toMatch(/board stream is gone from the server.*8 events shown before were dropped.*rebuilt/);
    await page.waitForSelector('#status[data-status="live"][data-applied="0"]', { timeout: WAIT_MS });
    expect(await page.locator('#board li').count()).toBe(0);
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.isEnabled('#add')).toBe(true);
    // The second tab noticed too.
    await second!.waitForSelector('#reset-notice:not([hidden])', { timeout: WAIT_MS });

    // New events land on the new server, and in both tabs.
    await page.fill('#title', 'After the restart');
    await page.click('#add');
    await waitFor('the card on the new server', async () => (await boardEvents(node)).find((e) => e.type === 'card-added' && e.title === 'After the restart'));
    await page.waitForSelector(card('After the restart', 'todo'), { timeout: WAIT_MS });
    await second!.waitForSelector(card('After the restart', 'todo'), { timeout: WAIT_MS });
    expect(await page.locator('#board li').count()).toBe(1);
    await page.screenshot({ path: `${outputDir}/board-reset.png`, fullPage: true });

    // The notice goes when dismissed.
    await page.click('#dismiss-reset');
    expect(await page.isHidden('#reset-notice')).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('names the server it is trying to reach when there is none', async () => {
    const nowhere = `ws://127.0.0.1:${await closedPort()}`;
    const page = await browser!.context.newPage();
    try {
      await page.setViewportSize(DESKTOP);
      await page.goto(`${ui.url}?flo=${encodeURIComponent(nowhere)}`);
      await waitFor('the URL in the status', async () => ((await page.textContent('#status'))?.includes(nowhere) ? true : undefined));
      expect(await page.isDisabled('#add')).toBe(true);
      expect(await page.getAttribute('#badge', 'data-state')).not.toBe('connected');
      await page.screenshot({ path: `${outputDir}/board-no-server.png`, fullPage: true });
    } finally {
      await page.close();
    }
  }, 60_000);
});
