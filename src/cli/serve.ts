/** `flo-rx serve`: the embedded server in the foreground. */
import { startServer, type FloServer } from '../server/server.js';
import { isStorageStartError } from '../server/storage/index.js';
import { UsageError } from './flags.js';
import { serverOptionsOf, type ServeValues } from './commands.js';
import { CliError, listenFailure } from './errors.js';
import { logLine, stopOnSignals } from './log.js';
import { packageVersion } from './version.js';

/** The banner printed once the server listens (one line per fact, so new facts are new lines). */
export function serveBanner(server: FloServer, version: string): string[] {
  const httpUrl = `http://${server.url.slice('flo://'.length)}/`;
  return [
    `flo-rx ${version}: embedded Flo server listening on ${server.url}`,
    `  WebSocket ${server.wsUrl}   HTTP status ${httpUrl}`,
    `  profile   ${server.profile}`,
    `  storage   ${server.storage}`,
  ];
}

export async function runServe(values: ServeValues): Promise<void> {
  let options: ReturnType<typeof serverOptionsOf>;
  try {
    options = serverOptionsOf(values);
  } catch (err) {
    throw err instanceof UsageError ? new CliError(err.message, 2) : err;
  }
  // The server's log lines start once it listens: a failed listen is reported once, by the CLI.
  // Lines logged while starting (a torn log tail cut, the --insecure warning) come just before the banner.
  let listening = false;
  const early: string[] = [];
  let server: FloServer;
  try {
    server = await startServer({ ...options, logger: (line) => (listening ? logLine(line) : early.push(line)) });
  } catch (err) {
    if (isStorageStartError(err)) throw new CliError(err.message);
    // A configuration the server refuses (e.g. a non-loopback --host without auth): one line, exit 2.
    if (err instanceof RangeError) throw new CliError(err.message, 2);
    throw listenFailure(err, values.host, values.port);
  }
  listening = true;
  // Handlers first: a supervisor may send SIGTERM as soon as it reads the banner.
  stopOnSignals(() => server.close());
  for (const line of early) logLine(line);
  for (const line of serveBanner(server, packageVersion())) logLine(line);
}
