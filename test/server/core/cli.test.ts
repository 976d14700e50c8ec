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
  it('data directory and fsync mode (flag or FLO_DATA_DIR)', () => {
    expect(parseArgs(['serve', '--data-dir', '/d', '--fsync', 'everysec'])).toMatchObject({ kind: 'serve', dataDir: '/d', fsync: 'everysec' });
    expect(parseArgs(['serve', '--data-dir=/d'])).toEqual({ kind: 'serve', port: 9000, host: '127.0.0.1', profile: 'go', dataDir: '/d' });
    expect(parseArgs(['serve'], { FLO_DATA_DIR: '/env' })).toMatchObject({ dataDir: '/env' });
    expect(parseArgs(['serve', '--data-dir', '/flag'], { FLO_DATA_DIR: '/env' })).toMatchObject({ dataDir: '/flag' });
    expect(parseArgs(['serve'], { FLO_DATA_DIR: '' })).not.toHaveProperty('dataDir');
    expect(parseArgs(['serve', '--fsync', 'always'])).toEqual({ kind: 'error', message: '--fsync needs --data-dir (or FLO_DATA_DIR)' });
    expect(parseArgs(['serve', '--data-dir', '/d', '--fsync', 'never'])).toEqual({ kind: 'error', message: '--fsync must be always or everysec, got never' });
    expect(parseArgs(['serve', '--data-dir']).kind).toBe('error');
  });
});
