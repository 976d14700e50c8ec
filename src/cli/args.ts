/** Argument parsing for the `flo-rx` command (kept apart from `main.ts` so it can be tested). */

export const USAGE = `Usage: flo-rx <command> [options]

Commands:
  serve      Run the embedded Flo-compatible server in the foreground
  demo       Run the demo program (--events N, --quiet; --ui: same as ui)
  ui         Serve the event-sourced board page next to an embedded server (from the source tree: npm run ui)
  help       Show this help

Options for serve:
  --port <n>          TCP port (binary protocol, WebSocket and HTTP status on one port; 0 = any free port) [default: 9000]
  --host <address>    Interface to bind [default: 127.0.0.1]
  --profile <go|flo>  Reply layouts: the Go SDK's (go) or the newest Flo server's (flo) [default: go]
  --data-dir <dir>    Keep the data in this (existing) directory; without it data lives in memory [env: FLO_DATA_DIR]
  --fsync <mode>      With --data-dir: always (fsync before each reply batch) or everysec [default: always]

Options:
  -h, --help          Show this help
  -v, --version       Print the version
`;

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'demo'; readonly args: readonly string[] }
  | {
      readonly kind: 'serve';
      readonly port: number;
      readonly host: string;
      readonly profile: 'go' | 'flo';
      readonly dataDir?: string;
      readonly fsync?: 'always' | 'everysec';
    }
  | { readonly kind: 'error'; readonly message: string };

export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') return { kind: 'help' };
  if (command === '-v' || command === '--version') return { kind: 'version' };
  if (command === 'demo') return { kind: 'demo', args: rest };
  if (command !== 'serve') return { kind: 'error', message: `unknown command: ${command}` };

  let port = 9000;
  let host = '127.0.0.1';
  let profile: 'go' | 'flo' = 'go';
  let dataDir: string | undefined = env.FLO_DATA_DIR || undefined;
  let fsync: 'always' | 'everysec' | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? rest[++i];
    switch (name) {
      case '--port': {
        const v = value();
        const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
        if (!Number.isInteger(n) || n < 0 || n > 65535) return { kind: 'error', message: `--port needs a number from 0 to 65535, got ${v ?? 'nothing'}` };
        port = n;
        break;
      }
      case '--host': {
        const v = value();
        if (!v) return { kind: 'error', message: '--host needs an address' };
        host = v;
        break;
      }
      case '--profile': {
        const v = value();
        if (v !== 'go' && v !== 'flo') return { kind: 'error', message: `--profile must be go or flo, got ${v ?? 'nothing'}` };
        profile = v;
        break;
      }
      case '--data-dir': {
        const v = value();
        if (!v) return { kind: 'error', message: '--data-dir needs a directory' };
        dataDir = v;
        break;
      }
      case '--fsync': {
        const v = value();
        if (v !== 'always' && v !== 'everysec') return { kind: 'error', message: `--fsync must be always or everysec, got ${v ?? 'nothing'}` };
        fsync = v;
        break;
      }
      default:
        return { kind: 'error', message: `unknown option for serve: ${arg}` };
    }
  }
  if (fsync !== undefined && dataDir === undefined) return { kind: 'error', message: '--fsync needs --data-dir (or FLO_DATA_DIR)' };
  return { kind: 'serve', port, host, profile, ...(dataDir !== undefined ? { dataDir } : {}), ...(fsync !== undefined ? { fsync } : {}) };
}
