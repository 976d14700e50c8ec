/**
 * Serves the event-sourced board: starts the embedded Flo server (or uses the one given), bundles
 * the page with esbuild (rxjs bundled in; `ws` left out: the browser has its own WebSocket) and
 * serves `index.html` and the bundle over `node:http`. Node only.
 *
 *   npm run ui                      # or: flo-rx ui [--port 8080] [--flo-port 9000] [--flo-url ws://…]
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { startServer, type FloServer } from '../../src/server.js';

export interface ServeUiOptions {
  /** HTTP port of the page; 0 (default) picks a free one. */
  readonly port?: number;
  /** Interface of both servers. Default 127.0.0.1. */
  readonly host?: string;
  /** Port of the embedded Flo server started for the page; 0 (default) picks a free one. */
  readonly floPort?: number;
  /** Use this Flo server (`ws://host:port`) instead of starting one. */
  readonly floUrl?: string;
  /** Minify the bundle. Default true. */
  readonly minify?: boolean;
  /** Receives the embedded server's log lines. */
  readonly logger?: (line: string) => void;
  /** Keep the embedded server's data in this directory (created if missing), so the board survives a restart. */
  readonly dataDir?: string;
}

export interface ServedUi {
  /** The page: `http://host:port/`. */
  readonly url: string;
  /** The Flo server the page connects to: `ws://host:port`. */
  readonly floUrl: string;
  /** The embedded server, when `serveUi` started it. */
  readonly server: FloServer | undefined;
  /** Bytes of the page's bundle (rxjs included). */
  readonly bundleBytes: number;
  /** Stops the HTTP server and the embedded server it started. */
  close(): Promise<void>;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** Bundles the page for browsers. */
export async function bundlePage(minify = true): Promise<string> {
  const result = await build({
    entryPoints: [`${here}main.ts`],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify,
    external: ['ws'],
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export async function serveUi(options: ServeUiOptions = {}): Promise<ServedUi> {
  const host = options.host ?? '127.0.0.1';
  const [template, bundle] = await Promise.all([readFile(`${here}index.html`, 'utf8'), bundlePage(options.minify ?? true)]);

  const server = options.floUrl
    ? undefined
    : await startServer({
        port: options.floPort ?? 0,
        host,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.dataDir !== undefined ? { dataDir: (mkdirSync(options.dataDir, { recursive: true }), options.dataDir) } : {}),
      });
  const floUrl = options.floUrl ?? server!.wsUrl;
  const html = template.replace('%FLO_URL%', escapeAttr(floUrl));

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    } else if (path === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(bundle);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (err) {
    await server?.close();
    throw err;
  }
  const port = (http.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostInUrl}:${port}/`,
    floUrl,
    server,
    bundleBytes: Buffer.byteLength(bundle),
    close() {
      closing ??= (async () => {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await server?.close();
      })();
      return closing;
    },
  };
}
