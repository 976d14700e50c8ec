/**
 * The commands of `flo-rx` and their flag tables. The parser and every `--help` are made from these
 * tables; a new flag is a new row (and, for serve, a line in `serverOptionsOf`).
 */
import { readFileSync } from 'node:fs';
import type { JwksDocument } from '../server/auth/jwt.js';
import type { StartServerOptions } from '../server/server.js';
import { MAX_TIMER_MS } from '../server/timers.js';
import type { FsyncMode } from '../server/storage/types.js';
import { DEMO_COMMAND } from '../demo/args.js';
import { flag, formatRows, UsageError, type CommandSpec, type FlagValues } from './flags.js';

export const SERVE_COMMAND = {
  name: 'serve',
  summary: 'Run the embedded Flo-compatible server in the foreground',
  description: `One port answers the binary protocol, WebSocket (subprotocol flo-proto) and an HTTP status page.
Stops cleanly on SIGINT or SIGTERM.`,
  flags: {
    port: flag.port('TCP port for the binary protocol, WebSocket and HTTP status', 9000),
    host: flag.string({ description: 'Interface to bind', default: '127.0.0.1', placeholder: '<address>' }),
    profile: flag.choice("Reply layouts: the Go SDK's (go) or the newest Flo server's (flo)", ['go', 'flo'], 'go'),
    'data-dir': dataDirFlag('Keep the data in this existing directory [env: FLO_DATA_DIR]; without it, data lives in memory'),
    fsync: flag.string<FsyncMode | undefined>({
      description: 'With a data directory: always (fsync before each batch of replies) or everysec',
      default: undefined,
      shownDefault: 'always',
      placeholder: '<always|everysec>',
      parse: (text, name) => {
        if (text !== 'always' && text !== 'everysec') throw new UsageError(`--${name} must be always or everysec, got ${text || 'nothing'}`);
        return text;
      },
    }),
    'allow-origin': flag.list({ description: 'Also let web pages from this origin use the WebSocket (https://host[:port]; * = any page)', placeholder: '<origin>' }),
    'jwt-secret': flag.string<string | undefined>({ description: 'Require a JWT signed with this HS256 secret on WebSocket connections', default: undefined, placeholder: '<secret>' }),
    jwks: flag.string<string | undefined>({ description: 'Require a JWT signed (RS256) by a key of this JWKS file on WebSocket connections', default: undefined, placeholder: '<file>' }),
    insecure: flag.boolean('Allow a non-loopback --host without WebSocket auth (prints a warning)'),
    'max-memory': flag.string<number | undefined>({
      description: 'Refuse writes (OVERLOADED) beyond this much memory: bytes, or with kb/mb/gb',
      default: undefined,
      shownDefault: 'no limit',
      placeholder: '<n|512mb>',
      parse: (text, name) => {
        const n = parseBytes(text);
        if (n === undefined) throw new UsageError(`--${name} needs a size such as 512mb, got ${text || 'nothing'}`);
        return n;
      },
    }),
    'max-connections': optionalInt('Most open sockets (handshakes included)', '10000', 1, Number.MAX_SAFE_INTEGER),
    'idle-timeout': optionalInt('Close connections that send nothing this long, in ms (0 = never)', '0', 0, MAX_TIMER_MS),
    'handshake-timeout': optionalInt('Time a new socket has to pick its protocol, in ms', '10000', 1, MAX_TIMER_MS),
  },
} as const satisfies CommandSpec;

/** An integer flag whose default belongs to the server: absent = `undefined` (help shows `shownDefault`). */
function optionalInt(description: string, shownDefault: string, min: number, max: number) {
  return flag.string<number | undefined>({
    description,
    default: undefined,
    shownDefault,
    placeholder: '<n>',
    parse: (text, name) => {
      const n = /^\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} needs a whole number from ${min} to ${max}, got ${text || 'nothing'}`);
      return n;
    },
  });
}

/** `512mb`, `2GB`, `64k`, `1048576` → bytes; undefined when malformed or not positive. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+)\s*(b|kb|k|mb|m|gb|g)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The public keys of a `--jwks` file; a `UsageError` when it cannot be read or is not a JWKS document. */
export function readJwks(file: string): JwksDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--jwks: cannot read ${file}: ${(err as Error)?.message ?? String(err)}`);
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw new UsageError(`--jwks: ${file} is not a JWKS document (an object with a "keys" array)`);
  }
  return doc as JwksDocument;
}

export type ServeValues = FlagValues<typeof SERVE_COMMAND.flags>;

/** A `--data-dir` flag; `FLO_DATA_DIR` stands in when it is not given (see `dataDirOf`). */
function dataDirFlag(description: string) {
  return flag.string<string | undefined>({ description, default: undefined, placeholder: '<dir>' });
}

/** The data directory: the flag, else a non-empty `FLO_DATA_DIR`, else none (in memory). */
export function dataDirOf(flagValue: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  return flagValue ?? (env.FLO_DATA_DIR || undefined);
}

/**
 * What `flo-rx serve` passes to `startServer` (besides the logger). Throws `UsageError` for
 * `--fsync` without a data directory and for a `--jwks` file that cannot be read.
 */
export function serverOptionsOf(values: ServeValues, env: Readonly<Record<string, string | undefined>> = process.env): StartServerOptions {
  const dataDir = dataDirOf(values['data-dir'], env);
  if (values.fsync !== undefined && dataDir === undefined) throw new UsageError('--fsync needs --data-dir (or FLO_DATA_DIR)');
  return {
    port: values.port,
    host: values.host,
    profile: values.profile,
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(values.fsync !== undefined ? { fsync: values.fsync } : {}),
    ...(values['allow-origin'].length > 0 ? { allowOrigins: values['allow-origin'] } : {}),
    ...(values['jwt-secret'] !== undefined ? { jwtSecret: values['jwt-secret'] } : {}),
    ...(values.jwks !== undefined ? { jwks: readJwks(values.jwks) } : {}),
    ...(values.insecure ? { insecure: true } : {}),
    ...(values['max-memory'] !== undefined ? { maxMemoryBytes: values['max-memory'] } : {}),
    ...(values['max-connections'] !== undefined ? { maxConnections: values['max-connections'] } : {}),
    ...(values['idle-timeout'] !== undefined ? { idleTimeoutMs: values['idle-timeout'] } : {}),
    ...(values['handshake-timeout'] !== undefined ? { handshakeTimeoutMs: values['handshake-timeout'] } : {}),
  };
}

export const UI_COMMAND = {
  name: 'ui',
  summary: 'Serve the event-sourced board page next to an embedded Flo server, and print its URL',
  description: 'Open the page in two tabs and move cards in one: the other follows.',
  flags: {
    port: flag.port('HTTP port of the page', 8080),
    'flo-port': flag.port('Port of the embedded Flo server', 9000),
    'flo-url': flag.string<string | undefined>({
      description: 'Use this Flo server (ws://host:port) instead of starting one',
      default: undefined,
      placeholder: '<url>',
      parse: (text, name) => {
        if (!/^wss?:\/\/[^/\s]+/i.test(text)) throw new UsageError(`--${name} needs a ws:// or wss:// address, got ${text || 'nothing'}`);
        return text;
      },
    }),
    host: flag.string({ description: 'Interface of the page and of the embedded server', default: '127.0.0.1', placeholder: '<address>' }),
    'data-dir': dataDirFlag("Keep the embedded server's data in this existing directory [env: FLO_DATA_DIR]; default: in memory"),
  },
} as const satisfies CommandSpec;

export type UiValues = FlagValues<typeof UI_COMMAND.flags>;

export const COMMANDS: readonly CommandSpec[] = [SERVE_COMMAND, DEMO_COMMAND, UI_COMMAND];

export type CommandLine =
  | { readonly kind: 'help'; readonly command?: CommandSpec }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly command: CommandSpec; readonly args: readonly string[] }
  | { readonly kind: 'error'; readonly message: string };

/** Picks the command; its flags are parsed by the command (`parseFlags`). */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') return { kind: 'help' };
  if (first === '-v' || first === '--version' || first === 'version') return { kind: 'version' };
  if (first === 'help') {
    if (rest.length === 0) return { kind: 'help' };
    const command = COMMANDS.find((c) => c.name === rest[0]);
    return command ? { kind: 'help', command } : { kind: 'error', message: `unknown command: ${rest[0]}` };
  }
  // `flo-rx demo --ui ...` is `flo-rx ui ...`.
  if (first === 'demo' && rest.includes('--ui')) return { kind: 'run', command: UI_COMMAND, args: rest.filter((a) => a !== '--ui') };
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) return { kind: 'error', message: first.startsWith('-') ? `unknown option: ${first}` : `unknown command: ${first}` };
  return { kind: 'run', command, args: rest };
}

/** `flo-rx --help`. */
export function usage(): string {
  return [
    'Usage: flo-rx <command> [options]',
    '',
    'Commands:',
    formatRows([...COMMANDS.map((c) => [c.name, c.summary] as const), ['help [command]', 'Show this help, or a command\'s options']]),
    '',
    'Options:',
    formatRows([
      ['-h, --help', 'Show this help'],
      ['-v, --version', 'Print the version'],
    ]),
    '',
    'Run `flo-rx <command> --help` for the options of a command.',
    '',
  ].join('\n');
}
