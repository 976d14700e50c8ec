/**
 * What every example does around its own flow: talk to `FLO_ADDR` when it is set, else to an
 * embedded server started in-process for the run; and run `main()` when executed as a program.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ConnectOptions, type FloClient } from '../src/node.js';
import { startServer, type StartServerOptions } from '../src/server.js';

export interface WithFloOptions {
  /** Receives the example's output lines (here: the one saying where the embedded server listens). */
  readonly log: (line: string) => void;
  /** Options of the embedded server (started on a free port when `FLO_ADDR` is not set). */
  readonly server?: Omit<StartServerOptions, 'port'>;
  /** What the line logged once the embedded server listens calls it. Default `embedded Flo server`. */
  readonly label?: string;
  /** Connection options. Default: a fresh namespace per run (a real server keeps old runs). */
  readonly connect?: ConnectOptions;
}

/**
 * Connects to `FLO_ADDR`, or to an embedded server started for the call (logging `<label> on
 * host:port`), runs `body` with the client, then closes the client and the embedded server.
 */
export async function withFlo<T>(options: WithFloOptions, body: (flo: FloClient) => Promise<T>): Promise<T> {
  const env = process.env.FLO_ADDR;
  const server = env ? undefined : await startServer({ ...options.server, port: 0 });
  const addr = server ? `${server.host}:${server.port}` : env!;
  if (server) options.log(`${options.label ?? 'embedded Flo server'} on ${addr}`);
  const flo = connect(addr, options.connect ?? { namespace: `example-${Date.now().toString(36)}` });
  try {
    return await body(flo);
  } finally {
    await flo.close();
    await server?.close();
  }
}

/** Runs `main()` when the module of `moduleUrl` (its `import.meta.url`) is the program; exits 0, or 1 on an error. */
export function runIfMain(moduleUrl: string, main: () => Promise<unknown>): void {
  if (process.argv[1] === undefined || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
