/**
 * The `flo-rx` command: `flo-rx serve` runs the embedded server in the foreground, `flo-rx demo`
 * runs the demo program.
 */
import { createRequire } from 'node:module';
import { startServer } from '../server.js';
import { parseArgs, USAGE } from './args.js';

const stamp = () => new Date().toISOString();
const info = (line: string) => console.log(`${stamp()} ${line}`);

async function serve(port: number, host: string, profile: 'go' | 'flo'): Promise<void> {
  const server = await startServer({ port, host, profile, logger: info });
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
  // A variable specifier: the demo may not exist yet, and neither tsc nor the bundler must need it.
  const specifier = '../demo/main.js';
  let mod: { main?: (args: readonly string[]) => unknown };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (err) {
    const code = (err as { code?: string })?.code;
    const message = (err as Error)?.message ?? '';
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes('demo')) {
      console.error('flo-rx: the demo is not built yet (src/demo/main.ts is missing)');
      process.exit(1);
    }
    throw err;
  }
  if (typeof mod.main === 'function') await mod.main(args);
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
      await serve(cmd.port, cmd.host, cmd.profile);
      return;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`flo-rx: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
