import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, parseBytes, parseCommandLine, SERVE_COMMAND, serverOptionsOf, UI_COMMAND, usage } from '../../src/cli/commands.js';
import { helpOf, parseFlags } from '../../src/cli/flags.js';
import { DEMO_COMMAND } from '../../src/demo/args.js';

describe('parseCommandLine', () => {
  it('picks the command and leaves its flags to it', () => {
    expect(parseCommandLine(['serve', '--port', '1'])).toEqual({ kind: 'run', command: SERVE_COMMAND, args: ['--port', '1'] });
    expect(parseCommandLine(['demo', '--events', '5'])).toEqual({ kind: 'run', command: DEMO_COMMAND, args: ['--events', '5'] });
    expect(parseCommandLine(['ui'])).toEqual({ kind: 'run', command: UI_COMMAND, args: [] });
  });

  it('treats `demo --ui` as `ui`', () => {
    expect(parseCommandLine(['demo', '--port', '0', '--ui'])).toEqual({ kind: 'run', command: UI_COMMAND, args: ['--port', '0'] });
  });

  it('answers help, version and errors', () => {
    expect(parseCommandLine([])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['help', 'serve'])).toEqual({ kind: 'help', command: SERVE_COMMAND });
    expect(parseCommandLine(['-v'])).toEqual({ kind: 'version' });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
    expect(parseCommandLine(['nope'])).toEqual({ kind: 'error', message: 'unknown command: nope' });
    expect(parseCommandLine(['--nope'])).toEqual({ kind: 'error', message: 'unknown option: --nope' });
    expect(parseCommandLine(['help', 'nope'])).toEqual({ kind: 'error', message: 'unknown command: nope' });
  });

  it('usage lists every command with its summary', () => {
    const text = usage();
    for (const c of COMMANDS) expect(text).toContain(`  ${c.name} `);
    for (const c of COMMANDS) expect(text).toContain(c.summary);
  });
});

describe('serve flags', () => {
  it('defaults to 127.0.0.1:9000 with the go profile', () => {
    const parsed = parseFlags(SERVE_COMMAND, []);
    expect(parsed).toEqual({ kind: 'run', values: { port: 9000, host: '127.0.0.1', profile: 'go', 'allow-origin': [], insecure: false } });
    if (parsed.kind === 'run') expect(serverOptionsOf(parsed.values)).toEqual({ port: 9000, host: '127.0.0.1', profile: 'go' });
  });

  it('reads port, host and profile', () => {
    expect(parseFlags(SERVE_COMMAND, ['--port=0', '--host', '0.0.0.0', '--profile', 'flo'])).toEqual({
      kind: 'run',
      values: { port: 0, host: '0.0.0.0', profile: 'flo', 'allow-origin': [], insecure: false },
    });
    expect(parseFlags(SERVE_COMMAND, ['--profile', 'zig'])).toEqual({ kind: 'error', message: '--profile must be go or flo, got zig' });
  });

  it('help shows each flag of the table', () => {
    const help = helpOf(SERVE_COMMAND);
    for (const name of Object.keys(SERVE_COMMAND.flags)) expect(help).toContain(`--${name} `);
  });
});

describe('ui flags', () => {
  it('reads ports and a Flo URL, refusing a URL that is not ws://', () => {
    expect(parseFlags(UI_COMMAND, ['--port', '0', '--flo-port', '0', '--flo-url', 'ws://127.0.0.1:9'])).toEqual({
      kind: 'run',
      values: { port: 0, 'flo-port': 0, 'flo-url': 'ws://127.0.0.1:9', host: '127.0.0.1' },
    });
    expect(parseFlags(UI_COMMAND, ['--flo-url', 'localhost:9000'])).toEqual({
      kind: 'error',
      message: '--flo-url needs a ws:// or wss:// address, got localhost:9000',
    });
  });
});

describe('serve storage flags', () => {
  const optionsOf = (argv: string[], env: Record<string, string | undefined> = {}) => {
    const parsed = parseFlags(SERVE_COMMAND, argv);
    if (parsed.kind !== 'run') throw new Error(`not parsed: ${JSON.stringify(parsed)}`);
    return serverOptionsOf(parsed.values, env);
  };

  it('reads --data-dir and --fsync, or FLO_DATA_DIR', () => {
    expect(optionsOf(['--data-dir', '/d', '--fsync', 'everysec'])).toMatchObject({ dataDir: '/d', fsync: 'everysec' });
    expect(optionsOf(['--data-dir=/d'])).toEqual({ port: 9000, host: '127.0.0.1', profile: 'go', dataDir: '/d' });
    expect(optionsOf([], { FLO_DATA_DIR: '/env' })).toMatchObject({ dataDir: '/env' });
    expect(optionsOf(['--data-dir', '/flag'], { FLO_DATA_DIR: '/env' })).toMatchObject({ dataDir: '/flag' });
    expect(optionsOf([], { FLO_DATA_DIR: '' })).not.toHaveProperty('dataDir');
  });

  it('refuses a bad fsync mode, --fsync without a directory and a bare --data-dir', () => {
    expect(parseFlags(SERVE_COMMAND, ['--data-dir', '/d', '--fsync', 'never'])).toEqual({ kind: 'error', message: '--fsync must be always or everysec, got never' });
    expect(() => optionsOf(['--fsync', 'always'])).toThrow('--fsync needs --data-dir (or FLO_DATA_DIR)');
    expect(parseFlags(SERVE_COMMAND, ['--data-dir']).kind).toBe('error');
  });
});

describe('serve security and limit flags', () => {
  const optionsOf = (argv: string[]) => {
    const parsed = parseFlags(SERVE_COMMAND, argv);
    if (parsed.kind !== 'run') throw new Error(`not parsed: ${JSON.stringify(parsed)}`);
    return serverOptionsOf(parsed.values, {});
  };

  it('reads each flag into its startServer option; --allow-origin repeats', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flo-rx-jwks-'));
    try {
      const jwks = { keys: [{ kty: 'RSA', n: 'abc', e: 'AQAB', kid: 'k1' }] };
      writeFileSync(join(dir, 'keys.json'), JSON.stringify(jwks));
      expect(
        optionsOf([
          '--allow-origin', 'https://a.example', '--allow-origin=https://b.example', '--jwt-secret', 's3cret', '--jwks', join(dir, 'keys.json'),
          '--insecure', '--max-memory', '512mb', '--max-connections', '100', '--idle-timeout', '0', '--handshake-timeout=5000',
        ]),
      ).toEqual({
        port: 9000, host: '127.0.0.1', profile: 'go',
        allowOrigins: ['https://a.example', 'https://b.example'], jwtSecret: 's3cret', jwks, insecure: true,
        maxMemoryBytes: 512 * 1024 * 1024, maxConnections: 100, idleTimeoutMs: 0, handshakeTimeoutMs: 5000,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves the server its defaults when the flags are absent', () => {
    expect(optionsOf([])).toEqual({ port: 9000, host: '127.0.0.1', profile: 'go' });
  });

  it('refuses bad values with one line naming the flag', () => {
    expect(parseFlags(SERVE_COMMAND, ['--max-memory', 'lots'])).toEqual({ kind: 'error', message: '--max-memory needs a size such as 512mb, got lots' });
    expect(parseFlags(SERVE_COMMAND, ['--max-connections', '0']).kind).toBe('error');
    expect(parseFlags(SERVE_COMMAND, ['--handshake-timeout', '0']).kind).toBe('error');
    expect(parseFlags(SERVE_COMMAND, ['--idle-timeout', String(2 ** 31)]).kind).toBe('error');
    expect(parseFlags(SERVE_COMMAND, ['--insecure=yes'])).toEqual({ kind: 'error', message: '--insecure takes no value' });
    expect(parseFlags(SERVE_COMMAND, ['--allow-origin']).kind).toBe('error');
    expect(() => optionsOf(['--jwks', '/nonexistent/keys.json'])).toThrow(/^--jwks: cannot read \/nonexistent\/keys\.json/);
  });

  it('parses sizes in bytes, kb, mb and gb', () => {
    expect(parseBytes('1048576')).toBe(1048576);
    expect(parseBytes('64k')).toBe(64 * 1024);
    expect(parseBytes('2GB')).toBe(2 * 1024 ** 3);
    expect(parseBytes('0')).toBeUndefined();
    expect(parseBytes('12 parsecs')).toBeUndefined();
  });
});
