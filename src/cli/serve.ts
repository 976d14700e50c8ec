/** `flo-rx serve`: the embedded server in the foreground. */
import { IN_MEMORY_NOTE, startServer, type FloServer } from '../server/server.js';
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
    `  storage   ${server.storage === IN_MEMORY_NOTE ? `${IN_MEMORY_NOTE} (use --data-dir DIR to keep it)` : server.storage}`,
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
  // Storage lines come through at once: recovery (a torn tail cut) happens before the listen.
  let listening = false;
  let server: FloServer;
  try {
    server = await startServer({ ...options, logger: (line) => (listening || line.startsWith('storage: ')) && logLine(line) });
  } catch (err) {
    if (isStorageStartError(err)) throw new CliError(err.message);
    throw listenFailure(err, values.host, values.port);
  }
  listening = true;
  for (const line of serveBanner(server, packageVersion())) logLine(line);
  stopOnSignals(() => server.close());
}
