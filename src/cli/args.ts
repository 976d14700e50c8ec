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
  --allow-origin <o>  Also let web pages from this origin use the WebSocket (repeatable; * = any page)
  --jwt-secret <s>    Require a JWT signed with this HS256 secret on WebSocket connections
  --jwks <file>       Require a JWT signed (RS256) by a key of this JWKS file on WebSocket connections
  --insecure          Allow a non-loopback --host without WebSocket auth (prints a warning)
  --max-memory <n>    Refuse writes (OVERLOADED) beyond this much memory (bytes, or with kb/mb/gb)
  --max-connections <n>  Most open sockets [default: 10000]
  --idle-timeout <ms> Close connections idle this long (0 = never) [default: 0]
  --handshake-timeout <ms>  Time a new socket has to pick its protocol [default: 10000]

Options:
  -h, --help          Show this help
  -v, --version       Print the version
`;

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'demo'; readonly args: readonly string[] }
  | ({ readonly kind: 'serve'; readonly port: number; readonly host: string; readonly profile: 'go' | 'flo' } & ServeLimits)
  | { readonly kind: 'error'; readonly message: string };

/** Security and limit options of `serve` (each present only when given). */
export interface ServeLimits {
  readonly allowOrigins?: readonly string[];
  readonly jwtSecret?: string;
  readonly jwksFile?: string;
  readonly insecure?: boolean;
  readonly maxMemoryBytes?: number;
  readonly maxConnections?: number;
  readonly idleTimeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
}

/** `512mb`, `2GB`, `1048576` → bytes; undefined when malformed. */
export function parseBytes(text: string | undefined): number | undefined {
  const m = text === undefined ? null : /^(\d+)\s*(b|kb|k|mb|m|gb|g)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function parseArgs(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') return { kind: 'help' };
  if (command === '-v' || command === '--version') return { kind: 'version' };
  if (command === 'demo') return { kind: 'demo', args: rest };
  if (command !== 'serve') return { kind: 'error', message: `unknown command: ${command}` };

  let port = 9000;
  let host = '127.0.0.1';
  let profile: 'go' | 'flo' = 'go';
  const limits: { -readonly [K in keyof ServeLimits]: ServeLimits[K] } = {};
  const allowOrigins: string[] = [];
  const count = (name: string, v: string | undefined, min: number): number | string => {
    const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
    return Number.isSafeInteger(n) && n >= min ? n : `${name} needs a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${v ?? 'nothing'}`;
  };
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
      case '--allow-origin': {
        const v = value();
        if (!v) return { kind: 'error', message: '--allow-origin needs an origin (https://host[:port]) or *' };
        allowOrigins.push(v);
        break;
      }
      case '--jwt-secret': {
        const v = value();
        if (!v) return { kind: 'error', message: '--jwt-secret needs a secret' };
        limits.jwtSecret = v;
        break;
      }
      case '--jwks': {
        const v = value();
        if (!v) return { kind: 'error', message: '--jwks needs a file' };
        limits.jwksFile = v;
        break;
      }
      case '--insecure':
        if (inline !== undefined) return { kind: 'error', message: '--insecure takes no value' };
        limits.insecure = true;
        break;
      case '--max-memory': {
        const v = value();
        const n = parseBytes(v);
        if (n === undefined) return { kind: 'error', message: `--max-memory needs a size such as 512mb, got ${v ?? 'nothing'}` };
        limits.maxMemoryBytes = n;
        break;
      }
      case '--max-connections':
      case '--idle-timeout':
      case '--handshake-timeout': {
        const n = count(name, value(), name === '--idle-timeout' ? 0 : 1);
        if (typeof n === 'string') return { kind: 'error', message: n };
        if (name === '--max-connections') limits.maxConnections = n;
        else if (name === '--idle-timeout') limits.idleTimeoutMs = n;
        else limits.handshakeTimeoutMs = n;
        break;
      }
      default:
        return { kind: 'error', message: `unknown option for serve: ${arg}` };
    }
  }
  if (allowOrigins.length > 0) limits.allowOrigins = allowOrigins;
  return { kind: 'serve', port, host, profile, ...limits };
}
