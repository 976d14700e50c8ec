/**
 * The Angular example's `provideFloClient()` (examples/angular/src/app/flo.providers.ts) in Node,
 * through Angular's own injector, with the app's installed packages (its @angular/core and its
 * packed flo-rx): outside a browser (server rendering) it provides `null` and opens no connection;
 * in a browser platform it connects, and the client is closed with its injector.
 *
 * The modules are loaded by path at run time so that the root type-check does not need the
 * example's node_modules. Needs `npm run angular:build` (or `npm run angular:app`) first: skipped
 * with that reason locally when the example is not installed; in CI it always runs.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type FloServer } from '../../src/server.js';

const app = fileURLToPath(new URL('../../examples/angular/', import.meta.url));
const installed = existsSync(`${app}node_modules/@angular/core/package.json`) && existsSync(`${app}node_modules/flo-rx/dist/index.js`);
const skip = installed || process.env.CI ? undefined : 'Angular provider test skipped: examples/angular is not installed (run: npm run angular:build)';
if (skip) console.warn(skip);

interface Core {
  createEnvironmentInjector(providers: unknown[], parent: unknown, name?: string): { get<T>(token: unknown): T; destroy(): void };
  Injector: { NULL: unknown };
  PLATFORM_ID: unknown;
}
interface Providers {
  provideFloClient(url: string, options?: object): unknown;
  FLO_CLIENT: unknown;
  FLO_URL: unknown;
}
interface Client {
  state$: { subscribe(f: (s: string) => void): { unsubscribe(): void } };
  stream: { info(stream: string): { subscribe(o: { next(v: { count: bigint }): void; error(e: unknown): void }): unknown } };
  close(): Promise<void>;
}

async function load(): Promise<{ core: Core; providers: Providers }> {
  // @angular/common's partially compiled classes need the JIT compiler in Node (the CLI links them
  // at build time). Both imports below resolve @angular/core from the example's node_modules: one
  // instance, one set of tokens.
  await import(/* @vite-ignore */ `${app}node_modules/@angular/compiler/fesm2022/compiler.mjs`);
  const providers = (await import(/* @vite-ignore */ `${app}src/app/flo.providers.ts`)) as Providers;
  const core = (await import(/* @vite-ignore */ `${app}node_modules/@angular/core/fesm2022/core.mjs`)) as Core;
  return { core, providers };
}

function states(client: Client): string[] {
  const seen: string[] = [];
  client.state$.subscribe((s) => seen.push(s)).unsubscribe();
  return seen;
}

describe.skipIf(skip !== undefined)('Angular provideFloClient()', () => {
  let server: FloServer;
  beforeAll(async () => {
    server = await startServer({ port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('provides null and opens no connection outside a browser (server rendering)', async () => {
    const { core, providers } = await load();
    let connections = 0;
    const listener = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(listener.address() as { port: number }).port}`;
    try {
      const injector = core.createEnvironmentInjector(
        [providers.provideFloClient(url), { provide: core.PLATFORM_ID, useValue: 'server' }],
        core.Injector.NULL,
        'ssr',
      );
      expect(injector.get(providers.FLO_CLIENT)).toBeNull();
      expect(injector.get(providers.FLO_URL)).toBe(url);
      await new Promise((r) => setTimeout(r, 100));
      expect(connections).toBe(0);
      injector.destroy();
    } finally {
      await new Promise<void>((r) => listener.close(() => r()));
    }
  });

  it('connects in a browser platform and closes the client with its injector', async () => {
    const { core, providers } = await load();
    const injector = core.createEnvironmentInjector(
      [providers.provideFloClient(server.wsUrl, { timeoutMs: 5000 }), { provide: core.PLATFORM_ID, useValue: 'browser' }],
      core.Injector.NULL,
      'browser',
    );
    const client = injector.get<Client>(providers.FLO_CLIENT);
    expect(client).not.toBeNull();
    // The client connects on its first request.
    const info = await new Promise<{ count: bigint }>((resolve, reject) => client.stream.info('board').subscribe({ next: resolve, error: reject }));
    expect(info.count).toBe(0n);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      const sub = client.state$.subscribe((s) => {
        if (s !== 'connected') return;
        clearTimeout(timer);
        queueMicrotask(() => sub.unsubscribe());
        resolve(true);
      });
    });
    expect(connected).toBe(true);
    expect(states(client)).toEqual(['connected']);
    injector.destroy();
    // close() is asynchronous: it ends up closed, by itself.
    for (let i = 0; i < 200 && states(client)[0] !== 'closed'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(states(client)).toEqual(['closed']);
  });
});
