/**
 * The event-sourced board (examples/event-sourced-ui) in headless Chromium against the embedded
 * server: the page replays and tails the `board` stream over its own WebSocket, shows what a Node
 * client appends, appends what its buttons say (read back from Node), and rides out a server
 * restart on the same port (badge: reconnecting, then connected again).
 *
 * The embedded server keeps everything in memory, so the restarted server starts empty: the page
 * keeps the board it had folded (its projection state lives in the page) and the test checks that
 * events appended after the restart show up on top of it and that the page's writes reach the new
 * server. Screenshots: test-output/browser/board.png, reconnecting.png, board-after-restart.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type FloClient } from '../../src/node.js';
import { startServer, type FloServer } from '../../src/server.js';
import { addCard, BOARD_STREAM, moveCard, type BoardEvent } from '../../examples/event-sourced-ui/board.js';
import { serveUi, type ServedUi } from '../../examples/event-sourced-ui/serve.js';
import { browserSkipReason, launchChromium, type LaunchedBrowser } from './launch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outputDir = `${root}test-output/browser`;
const skipReason = browserSkipReason();
if (skipReason) console.warn(skipReason);

/** Generous: a bound for the test's patience, not a performance assertion. */
const WAIT_MS = 20_000;

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

describe.skipIf(skipReason !== undefined)('event-sourced board in headless Chromium', () => {
  let server: FloServer;
  let port: number;
  let ui: ServedUi;
  let node: FloClient;
  let browser: LaunchedBrowser | undefined;
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

  const card = (title: string, column?: string) =>
    `#board section${column ? `[data-column="${column}"]` : ''} li[data-title="${title}"]`;

  it('replays, goes live, shows what Node appends and appends what its buttons say', async () => {
    const page = browser!.page;
    // Before the page exists: these come through the replay.
    await firstValueFrom(addCard(node, 'Write the docs', 'todo', 'docs'));
    await firstValueFrom(addCard(node, 'Ship it', 'doing', 'ship'));
    await firstValueFrom(moveCard(node, 'ship', 'done'));

    await page.goto(ui.url);
    await page.waitForSelector('#badge[data-state="connected"]', { timeout: WAIT_MS });
    await page.waitForSelector('#stats[data-status="live"]', { timeout: WAIT_MS });
    await page.waitForSelector(card('Write the docs', 'todo'), { timeout: WAIT_MS });
    await page.waitForSelector(card('Ship it', 'done'), { timeout: WAIT_MS });
    expect(await page.getAttribute('#stats', 'data-applied')).toBe('3');

    // Live: appended from Node while the page tails.
    await firstValueFrom(addCard(node, 'From Node, live', 'doing', 'live-1'));
    await page.waitForSelector(card('From Node, live', 'doing'), { timeout: WAIT_MS });

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

    // Each event applied once: 3 replayed + 1 live + add + move.
    await page.waitForSelector('#stats[data-applied="6"]', { timeout: WAIT_MS });
    expect(await page.locator('#board li').count()).toBe(4);
    expect(await page.textContent('#error')).toBe('');
    await page.screenshot({ path: `${outputDir}/board.png`, fullPage: true });
  }, 60_000);

  it('shows reconnecting while the server is down, then connected again, and keeps working', async () => {
    const page = browser!.page;
    await server.close();
    await page.waitForSelector('#badge[data-state="reconnecting"]', { timeout: WAIT_MS });
    expect(await page.textContent('#badge')).toBe('Reconnecting…');
    await page.screenshot({ path: `${outputDir}/reconnecting.png`, fullPage: true });

    server = await startServer({ port });
    await page.waitForSelector('#badge[data-state="connected"]', { timeout: WAIT_MS });

    // The new server is empty: the page keeps its folded board, and new events land on top of it.
    expect(await page.locator('#board li').count()).toBe(4);
    await firstValueFrom(addCard(node, 'After the restart', 'todo', 'after-1'));
    await page.waitForSelector(card('After the restart', 'todo'), { timeout: WAIT_MS });

    await page.fill('#title', 'Browser after restart');
    await page.click('#add');
    await waitFor('the browser card on the new server', async () =>
      (await boardEvents(node)).find((e) => e.type === 'card-added' && e.title === 'Browser after restart'),
    );
    await page.waitForSelector(card('Browser after restart', 'todo'), { timeout: WAIT_MS });
    await page.waitForSelector('#stats[data-applied="8"]', { timeout: WAIT_MS });
    expect(await page.locator('#board li').count()).toBe(6);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: `${outputDir}/board-after-restart.png`, fullPage: true });
  }, 60_000);
});
