/**
 * The one argument parser of the `flo-rx` command. Each command declares its flags in a table
 * (name → `Flag`); `parseFlags` reads argv with `node:util`'s `parseArgs` and turns each value into
 * its type, and `helpOf` prints the same table, so the parser and `--help` never disagree.
 * Adding a flag is adding a row: `'data-dir': flag.string({ ... })`.
 */
import { parseArgs } from 'node:util';

/** One flag: `--name <value>` (string) or `--name` (boolean). */
export interface Flag<T> {
  readonly type: 'string' | 'boolean';
  /** One-letter alias (`-q`). */
  readonly short?: string;
  /** How a value is shown in help, e.g. `<n>`. */
  readonly placeholder?: string;
  readonly description: string;
  /** The value when the flag is absent. */
  readonly default: T;
  /** The default as help shows it (absent: help shows none). */
  readonly shownDefault?: string;
  /** Turns the text given into the value; throws a `UsageError` (its message names the problem). */
  readonly parse: (text: string, name: string) => T;
  /** Repeatable (`--name a --name b`): turns every text given, in order, into the value. */
  readonly parseAll?: (texts: readonly string[], name: string) => T;
}

export type Flags = Readonly<Record<string, Flag<unknown>>>;

/** The parsed values of a flag table, keyed by flag name. */
export type FlagValues<F extends Flags> = { readonly [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

/** A command: its name, what help says about it, and its flags. */
export interface CommandSpec<F extends Flags = Flags> {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Paragraphs shown under the usage line of the command's help. */
  readonly description?: string;
  readonly flags: F;
}

/** Bad command-line input: the CLI prints the message and the command's help and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type ParsedFlags<F extends Flags> =
  | { readonly kind: 'run'; readonly values: FlagValues<F> }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string };

/** Builders for common flag kinds. */
export const flag = {
  string<T = string>(spec: {
    description: string;
    default: T;
    placeholder?: string;
    short?: string;
    shownDefault?: string;
    parse?: (text: string, name: string) => T;
  }): Flag<T> {
    const parse = spec.parse ?? ((text: string, name: string) => nonEmpty(text, name) as unknown as T);
    return { type: 'string', placeholder: '<value>', shownDefault: spec.default === undefined ? undefined : String(spec.default), ...spec, parse };
  },
  boolean(description: string, short?: string): Flag<boolean> {
    return { type: 'boolean', description, default: false, ...(short ? { short } : {}), parse: () => true };
  },
  /** A repeatable string flag (`--name a --name b`): the texts in the order given; none given = `[]`. */
  list(spec: { description: string; placeholder?: string; parse?: (text: string, name: string) => string }): Flag<readonly string[]> {
    const one = spec.parse ?? nonEmpty;
    const parseAll = (texts: readonly string[], name: string) => texts.map((t) => one(t, name));
    return {
      type: 'string',
      description: `${spec.description} (repeatable)`,
      placeholder: spec.placeholder ?? '<value>',
      default: [],
      parse: (text, name) => parseAll([text], name),
      parseAll,
    };
  },
  /** A TCP port, 0 meaning any free port. */
  port(description: string, defaultPort: number): Flag<number> {
    return flag.string({ description: `${description} (0 = any free port)`, default: defaultPort, placeholder: '<n>', parse: (t, n) => integer(t, n, 0, 65535) });
  },
  /** An integer from `min` to `max`. */
  integer(description: string, defaultValue: number, min: number, max: number): Flag<number> {
    return flag.string({ description, default: defaultValue, placeholder: '<n>', parse: (t, n) => integer(t, n, min, max) });
  },
  /** One of a few words. */
  choice<const C extends string>(description: string, choices: readonly C[], defaultValue: C): Flag<C> {
    return flag.string({
      description,
      default: defaultValue,
      placeholder: `<${choices.join('|')}>`,
      parse: (text, name) => {
        if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${name} must be ${choices.join(' or ')}, got ${text}`);
        return text as C;
      },
    });
  },
} as const;

function nonEmpty(text: string, name: string): string {
  if (text.length === 0) throw new UsageError(`--${name} needs a value`);
  return text;
}

function integer(text: string, name: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} needs a number from ${min} to ${max}, got ${text || 'nothing'}`);
  return n;
}

/** Maps `parseArgs`' own errors (thrown with a `code`) to one short line naming the flag. */
function usageMessageOf(err: unknown, command: CommandSpec): string {
  const e = err as { code?: string; message?: string };
  const message = String(e?.message ?? err);
  const quoted = /'(-[^'\s,]+)(?:, (--[^'\s]+))?/.exec(message);
  const given = quoted?.[2] ?? quoted?.[1] ?? '';
  switch (e?.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option for ${command.name}: ${given}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument for ${command.name}: ${/'([^']*)'/.exec(message)?.[1] ?? ''}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(message) ? `${given} takes no value` : `${given} needs a value`;
    default:
      return message;
  }
}

/** Parses a command's arguments (everything after the command name). */
export function parseFlags<F extends Flags>(command: CommandSpec<F>, argv: readonly string[]): ParsedFlags<F> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(command.flags)) {
    options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.parseAll ? { multiple: true } : {}) };
  }
  let raw: Record<string, string | boolean | string[] | undefined>;
  try {
    raw = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as typeof raw;
  } catch (err) {
    if ((err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) return { kind: 'error', message: usageMessageOf(err, command) };
    throw err;
  }
  if (raw.help) return { kind: 'help' };
  const values: Record<string, unknown> = {};
  try {
    for (const [name, f] of Object.entries(command.flags)) {
      const given = raw[name];
      if (given === undefined) values[name] = f.default;
      else if (f.type === 'boolean') values[name] = true;
      else if (Array.isArray(given)) values[name] = f.parseAll ? f.parseAll(given, name) : f.parse(String(given[given.length - 1]), name);
      else values[name] = f.parse(String(given), name);
    }
  } catch (err) {
    if (err instanceof UsageError) return { kind: 'error', message: err.message };
    throw err;
  }
  return { kind: 'run', values: values as FlagValues<F> };
}

/** The rows of an option list, aligned. */
export function formatRows(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`.trimEnd()).join('\n');
}

/** The command's `--help` text, made from its flag table. */
export function helpOf(command: CommandSpec): string {
  const rows: Array<[string, string]> = Object.entries(command.flags).map(([name, f]) => [
    `${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ` ${f.placeholder ?? '<value>'}` : ''}`,
    `${f.description}${f.shownDefault !== undefined ? ` [default: ${f.shownDefault}]` : ''}`,
  ]);
  rows.push(['-h, --help', 'Show this help']);
  return [
    `Usage: flo-rx ${command.name} [options]`,
    '',
    command.summary,
    ...(command.description ? ['', command.description] : []),
    '',
    'Options:',
    formatRows(rows),
    '',
  ].join('\n');
}
