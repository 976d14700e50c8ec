/** One clear line for the errors a user of the `flo-rx` command can cause and fix. */

const formatAddress = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * Why a server could not listen on `host:port`, as one line saying what to change; undefined for
 * errors that are not about the address (those are bugs, shown with their stack).
 */
export function describeListenError(err: unknown, host: string, port: number): string | undefined {
  const code = (err as { code?: unknown })?.code;
  const at = formatAddress(host, port);
  switch (code) {
    case 'EADDRINUSE':
      return `${at} is already in use (EADDRINUSE): stop the other process or pick another --port (0 = any free port)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${host}: this machine has no such address (EADDRNOTAVAIL); check --host`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `cannot listen on ${host}: the host name does not resolve (${code}); check --host`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to listen on ${at} (${code}): use a port above 1023`;
    case 'EAFNOSUPPORT':
      return `cannot listen on ${host}: address family not supported here (${code}); check --host`;
    default:
      return undefined;
  }
}

/** An error the CLI reports as one line (no stack) before exiting with `exitCode`. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Rethrows a listen failure as a `CliError` when it is about the address. */
export function listenFailure(err: unknown, host: string, port: number): unknown {
  const line = describeListenError(err, host, port);
  return line === undefined ? err : new CliError(line);
}
