import { describe, expect, it } from 'vitest';
import { flag, helpOf, parseFlags, UsageError } from '../../src/cli/flags.js';

const TOOL = {
  name: 'tool',
  summary: 'A command for the test',
  flags: {
    port: flag.port('Port', 9000),
    mode: flag.choice('Mode', ['a', 'b'], 'a'),
    name: flag.string({ description: 'A name', default: 'x', placeholder: '<name>' }),
    url: flag.string<string | undefined>({
      description: 'A URL',
      default: undefined,
      parse: (t) => {
        if (!t.startsWith('ws://')) throw new UsageError('--url needs ws://');
        return t;
      },
    }),
    verbose: flag.boolean('Talk more', 'V'),
  },
} as const;

describe('parseFlags', () => {
  it('gives the defaults when no flag is given', () => {
    expect(parseFlags(TOOL, [])).toEqual({ kind: 'run', values: { port: 9000, mode: 'a', name: 'x', url: undefined, verbose: false } });
  });

  it('reads `--flag value`, `--flag=value` and short booleans, and converts values', () => {
    expect(parseFlags(TOOL, ['--port', '0', '--mode=b', '--name', 'n', '--url=ws://h:1', '-V'])).toEqual({
      kind: 'run',
      values: { port: 0, mode: 'b', name: 'n', url: 'ws://h:1', verbose: true },
    });
  });

  it('answers help for -h and --help anywhere', () => {
    expect(parseFlags(TOOL, ['-h'])).toEqual({ kind: 'help' });
    expect(parseFlags(TOOL, ['--port', '1', '--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--port', '70000'], '--port needs a number from 0 to 65535, got 70000'],
    [['--port', '-1'], '--port needs a value'],
    [['--port'], '--port needs a value'],
    [['--port', '--verbose'], '--port needs a value'],
    [['--mode', 'c'], '--mode must be a or b, got c'],
    [['--name='], '--name needs a value'],
    [['--url', 'http://x'], '--url needs ws://'],
    [['--verbose=yes'], '--verbose takes no value'],
    [['--nope'], 'unknown option for tool: --nope'],
    [['extra'], 'unexpected argument for tool: extra'],
  ])('refuses %j: %s', (argv, message) => {
    expect(parseFlags(TOOL, argv)).toEqual({ kind: 'error', message });
  });
});

describe('repeatable flags (flag.list)', () => {
  const LISTS = { name: 'lists', summary: 'Repeatable flags', flags: { tag: flag.list({ description: 'A tag', placeholder: '<tag>' }) } } as const;

  it('collects every value in the order given; none given is []', () => {
    expect(parseFlags(LISTS, ['--tag', 'a', '--tag=b', '--tag', 'c'])).toEqual({ kind: 'run', values: { tag: ['a', 'b', 'c'] } });
    expect(parseFlags(LISTS, [])).toEqual({ kind: 'run', values: { tag: [] } });
  });

  it('refuses an empty value and says in help that the flag repeats', () => {
    expect(parseFlags(LISTS, ['--tag', 'a', '--tag='])).toEqual({ kind: 'error', message: '--tag needs a value' });
    expect(helpOf(LISTS)).toMatch(/^ {6}--tag <tag> +A tag \(repeatable\)$/m);
  });
});

describe('helpOf', () => {
  it('lists every flag of the table with its placeholder and default, and --help', () => {
    const help = helpOf(TOOL);
    expect(help).toMatch(/^Usage: flo-rx tool \[options\]\n\nA command for the test\n/);
    expect(help).toMatch(/^ {6}--port <n> +Port \(0 = any free port\) \[default: 9000\]$/m);
    expect(help).toMatch(/^ {6}--mode <a\|b> +Mode \[default: a\]$/m);
    expect(help).toMatch(/^ {6}--name <name> +A name \[default: x\]$/m);
    expect(help).toMatch(/^ {6}--url <value> +A URL$/m);
    expect(help).toMatch(/^ {2}-V, --verbose +Talk more$/m);
    expect(help).toMatch(/^ {2}-h, --help +Show this help$/m);
  });
});
