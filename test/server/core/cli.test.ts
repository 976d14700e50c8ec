import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/args.js';

describe('flo-rx arguments', () => {
  it('defaults', () => {
    expect(parseArgs(['serve'])).toEqual({ kind: 'serve', port: 9000, host: '127.0.0.1', profile: 'go' });
  });
  it('options in both spellings', () => {
    expect(parseArgs(['serve', '--port', '0', '--host', '0.0.0.0', '--profile', 'flo'])).toEqual({
      kind: 'serve',
      port: 0,
      host: '0.0.0.0',
      profile: 'flo',
    });
    expect(parseArgs(['serve', '--port=9100', '--profile=go'])).toMatchObject({ port: 9100, profile: 'go' });
  });
  it('security and limit options', () => {
    expect(
      parseArgs([
        'serve', '--allow-origin', 'https://a.example', '--allow-origin=https://b.example', '--jwt-secret', 's3cret', '--jwks', 'keys.json',
        '--insecure', '--max-memory', '512mb', '--max-connections', '100', '--idle-timeout', '0', '--handshake-timeout=5000',
      ]),
    ).toEqual({
      kind: 'serve', port: 9000, host: '127.0.0.1', profile: 'go',
      allowOrigins: ['https://a.example', 'https://b.example'], jwtSecret: 's3cret', jwksFile: 'keys.json', insecure: true,
      maxMemoryBytes: 512 * 1024 * 1024, maxConnections: 100, idleTimeoutMs: 0, handshakeTimeoutMs: 5000,
    });
    expect(parseArgs(['serve', '--max-memory', 'lots']).kind).toBe('error');
    expect(parseArgs(['serve', '--max-connections', '0']).kind).toBe('error');
    expect(parseArgs(['serve', '--insecure=yes']).kind).toBe('error');
  });
  it('help, demo, errors', () => {
    expect(parseArgs([])).toEqual({ kind: 'help' });
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['serve', '-h'])).toEqual({ kind: 'help' });
    expect(parseArgs(['demo', 'x'])).toEqual({ kind: 'demo', args: ['x'] });
    expect(parseArgs(['nope']).kind).toBe('error');
    expect(parseArgs(['serve', '--port', '70000']).kind).toBe('error');
    expect(parseArgs(['serve', '--port']).kind).toBe('error');
    expect(parseArgs(['serve', '--profile', 'zig']).kind).toBe('error');
    expect(parseArgs(['serve', '--verbose']).kind).toBe('error');
  });
});

describe('flo-rx serve (a real process)', () => {
  it('refuses a non-loopback --host without auth or --insecure, with one clear line and exit code 2', async () => {
    const { execFile } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--host', '0.0.0.0', '--port', '0'], { cwd: root, timeout: 20_000 }, (error, _stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^flo-rx serve: refusing to listen on 0\.0\.0\.0 \(not a loopback address\) without authentication/);
  });
});
