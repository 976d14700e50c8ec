/**
 * `flo-rx ui`: serves the event-sourced board page (prebuilt into `dist/ui/` by `npm run build`, so
 * it works from the installed package) over `node:http`, next to an embedded Flo server unless
 * `--flo-url` names one. `index.html` gets the Flo server's URL in place of `%FLO_URL%`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type FloServer } from '../server/server.js';
import { dataDirOf, type UiValues } from './commands.js';
import { isStorageStartError } from '../server/storage/index.js';
import { CliError, listenFailure } from './errors.js';
import { logLine, stopOnSignals } from './log.js';

/** Where the built page is: `dist/ui/` next to the built command, or the source tree's `dist/ui/`. */
function pageDir(): string | undefined {
  const candidates = ['./ui/', '../../dist/ui/'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The page's files, read once: path (`/app.js`) → body; `/` is index.html with the Flo URL filled in. */
async function loadPage(dir: string, floUrl: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dir)) {
    if (!CONTENT_TYPES[extname(name)]) continue;
    let body = await readFile(join(dir, name));
    if (name === 'index.html') body = Buffer.from(body.toString('utf8').replaceAll('%FLO_URL%', escapeAttr(floUrl)));
    files.set(`/${name}`, body);
  }
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}

function pageServer(files: Map<string, Buffer>): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const body = files.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (body) {
      const type = CONTENT_TYPES[extname(path)] ?? CONTENT_TYPES['.html']!;
      res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
}

function listen(http: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve((http.address() as AddressInfo).port);
    });
  });
}

export async function runUi(values: UiValues): Promise<void> {
  const dir = pageDir();
  if (!dir) throw new CliError('the board page is not built: run `npm run build` (or `npm run build:ui`) first');
  const host = values.host;
  let server: FloServer | undefined;
  if (values['flo-url'] === undefined) {
    try {
      const dataDir = dataDirOf(values['data-dir'], process.env);
      // The board's data directory is made on first use (serve, by contrast, wants an existing one).
      if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
      server = await startServer({ port: values['flo-port'], host, ...(dataDir !== undefined ? { dataDir } : {}) });
    } catch (err) {
      if (isStorageStartError(err)) throw new CliError(err.message);
      throw listenFailure(err, host, values['flo-port']);
    }
  }
  const floUrl = values['flo-url'] ?? server!.wsUrl;
  const http = pageServer(await loadPage(dir, floUrl));
  let port: number;
  try {
    port = await listen(http, values.port, host);
  } catch (err) {
    await server?.close();
    throw listenFailure(err, host, values.port);
  }
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  // Handlers first: a supervisor may send SIGTERM as soon as it reads the line below.
  stopOnSignals(async () => {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await server?.close();
  });
  logLine(`flo-rx board: open http://${hostInUrl}:${port}/  (Flo server ${floUrl}${server ? `, embedded, ${server.storage}` : ''})`);
}
