/**
 * The `flo-rx` command: `flo-rx serve` runs the embedded server in the foreground, `flo-rx demo`
 * runs the demo program, `flo-rx ui` (or `flo-rx demo --ui`) serves the event-sourced board page
 * next to an embedded server (from the source tree: `npm run ui`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startServer } from '../server.js';
import { parseArgs, USAGE, type ServeLimits } from './args.js';

const stamp = () => new Date().toISOString();
const info = (line: string) => console.log(`${stamp()} ${line}`);

async function serve(port: number, host: string, profile: 'go' | 'flo', limits: ServeLimits = {}): Promise<void> {
  const { jwksFile, allowOrigins, jwtSecret, insecure, maxMemoryBytes, maxConnections, idleTimeoutMs, handshakeTimeoutMs } = limits;
  const jwks = jwksFile === undefined ? undefined : (JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys: [] });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      port,
      host,
      profile,
      logger: info,
      ...(allowOrigins ? { allowOrigins } : {}),
      ...(jwtSecret !== undefined ? { jwtSecret } : {}),
      ...(jwks ? { jwks } : {}),
      ...(insecure ? { insecure } : {}),
      ...(maxMemoryBytes !== undefined ? { maxMemoryBytes } : {}),
      ...(maxConnections !== undefined ? { maxConnections } : {}),
      ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
      ...(handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs } : {}),
    });
  } catch (err) {
    // A configuration the server refuses (port in use, non-loopback without auth): one clear line.
    console.error(`flo-rx serve: ${(err as Error)?.message ?? String(err)}`);
    process.exit(2);
  }
  info(`flo-rx embedded server listening on ${server.url} (WebSocket ${server.wsUrl}, HTTP status http://${server.url.slice('flo://'.length)}/), profile ${server.profile}`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      info(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    info(`${signal}: shutting down`);
    server.close().then(
      () => {
        info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`error while stopping: ${(err as Error)?.message ?? String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function demo(args: readonly string[]): Promise<void> {
  // A literal specifier, so that tsup bundles the demo into dist/cli.js (loaded only when asked for).
  const { main: runDemo } = await import('../demo/main.js');
  const result = await runDemo(args);
  process.exitCode = result.exitCode;
  // The client and the server are closed; should anything still hold the event loop, exit anyway.
  setTimeout(() => process.exit(result.exitCode), 2000).unref();
}

const UI_USAGE = `Usage: flo-rx ui [options]    (also: flo-rx demo --ui [options])

Serves the event-sourced board (examples/event-sourced-ui) next to an embedded Flo server.

Options:
  --port <n>        HTTP port of the page (0 = any free port) [default: 8080]
  --flo-port <n>    Port of the embedded Flo server (0 = any free port) [default: 9000]
  --flo-url <url>   Use this Flo server (ws://host:port) instead of starting one
  --host <address>  Interface to bind [default: 127.0.0.1]
`;

interface UiArgs {
  port: number;
  floPort: number;
  floUrl?: string;
  host: string;
}

function parseUiArgs(args: readonly string[]): UiArgs | 'help' | string {
  const out: UiArgs = { port: 8080, floPort: 9000, host: '127.0.0.1' };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--ui') continue;
    if (arg === '-h' || arg === '--help') return 'help';
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const v = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : args[++i];
    const port = () => (v !== undefined && /^\d+$/.test(v) && Number(v) <= 65535 ? Number(v) : undefined);
    switch (name) {
      case '--port':
      case '--flo-port': {
        const n = port();
        if (n === undefined) return `${name} needs a number from 0 to 65535, got ${v ?? 'nothing'}`;
        if (name === '--port') out.port = n;
        else out.floPort = n;
        break;
      }
      case '--flo-url':
        if (!v) return '--flo-url needs a ws:// address';
        out.floUrl = v;
        break;
      case '--host':
        if (!v) return '--host needs an address';
        out.host = v;
        break;
      default:
        return `unknown option for ui: ${arg}`;
    }
  }
  return out;
}

async function ui(args: readonly string[]): Promise<void> {
  const parsed = parseUiArgs(args);
  if (parsed === 'help') {
    process.stdout.write(UI_USAGE);
    return;
  }
  if (typeof parsed === 'string') {
    console.error(`flo-rx: ${parsed}\n`);
    process.stderr.write(UI_USAGE);
    process.exit(2);
  }
  // A variable specifier: the example lives outside src/ (run from the source tree, e.g. `npm run ui`).
  const specifier = '../../examples/event-sourced-ui/serve.js';
  let mod: typeof import('../../examples/event-sourced-ui/serve.js');
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (err) {
    const code = (err as { code?: string })?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      console.error('flo-rx: the ui needs the source tree (examples/event-sourced-ui); run it with `npm run ui`');
      process.exit(1);
    }
    throw err;
  }
  const served = await mod.serveUi({
    port: parsed.port,
    host: parsed.host,
    ...(parsed.floUrl ? { floUrl: parsed.floUrl } : { floPort: parsed.floPort }),
  });
  info(`flo-rx board: open ${served.url}  (Flo server ${served.floUrl}${served.server ? ', embedded' : ''})`);
  const stop = (signal: NodeJS.Signals) => {
    info(`${signal}: shutting down`);
    served.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function version(): string {
  try {
    const require = createRequire(import.meta.url);
    for (const p of ['../../package.json', '../package.json']) {
      try {
        return (require(p) as { version: string }).version;
      } catch {
        // try the next layout (source tree or dist/)
      }
    }
  } catch {
    // fall through
  }
  return 'unknown';
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'ui' || (argv[0] === 'demo' && argv.includes('--ui'))) {
    await ui(argv.slice(1));
    return;
  }
  const cmd = parseArgs(argv);
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return;
    case 'version':
      console.log(version());
      return;
    case 'error':
      console.error(`flo-rx: ${cmd.message}\n`);
      process.stderr.write(USAGE);
      process.exit(2);
      return;
    case 'demo':
      await demo(cmd.args);
      return;
    case 'serve':
      await serve(cmd.port, cmd.host, cmd.profile, cmd);
      return;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`flo-rx: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
