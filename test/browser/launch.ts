/**
 * Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core (no
 * browser download, ever). Each launch gets a fresh temporary profile, removed by `close()`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps trying (and
 * failing) to reach Google's services at every start.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Why browser tests are skipped, or `undefined` when they run. They are skipped only where Chromium
 * is missing outside CI; in CI (`CI` set) they always run, so a missing browser fails loudly
 * (`.ci/run` installs it; locally, `bash scripts/ensure-chromium.sh`).
 */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH) || process.env.CI) return undefined;
  return `browser tests skipped: ${CHROMIUM_PATH} is missing (run: bash scripts/ensure-chromium.sh)`;
}

export interface LaunchedBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Closes the browser and removes the temporary profile; safe to call twice. */
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'flo-rx-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 800, height: 480 },
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  let closed: Promise<void> | undefined;
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close() {
      closed ??= (async () => {
        try {
          await context.close();
        } finally {
          await rm(userDataDir, { recursive: true, force: true });
        }
      })();
      return closed;
    },
  };
}
