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
  // Lines logged while starting (e.g. recovery cutting a torn log tail) are printed once it listens;
  // a failed start is reported once, by the CLI.
  let early: string[] | undefined = [];
  let server: FloServer;
  try {
    server = await startServer({ ...options, logger: (line) => (early ? early.push(line) : logLine(line)) });
  } catch (err) {
    if (isStorageStartError(err)) throw new CliError(err.message);
    throw listenFailure(err, values.host, values.port);
  }
  for (const line of early) logLine(line);
  early = undefined;
  for (const line of serveBanner(server, packageVersion())) logLine(line);
  stopOnSignals(() => server.close());
}
