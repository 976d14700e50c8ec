/**
 * The commands of `flo-rx` and their flag tables. The parser and every `--help` are made from these
 * tables; a new flag is a new row (and, for serve, a line in `serverOptionsOf`).
 */
import type { StartServerOptions } from '../server/server.js';
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
  },
} as const satisfies CommandSpec;

export type ServeValues = FlagValues<typeof SERVE_COMMAND.flags>;

/** What `flo-rx serve` passes to `startServer` (besides the logger). */
export function serverOptionsOf(values: ServeValues): StartServerOptions {
  return { port: values.port, host: values.host, profile: values.profile };
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
