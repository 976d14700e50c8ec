import { describe, expect, it } from 'vitest';
import { CliError, describeListenError, listenFailure } from '../../src/cli/errors.js';

const err = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

describe('describeListenError', () => {
  it.each([
    ['EADDRINUSE', '127.0.0.1', 9000, '127.0.0.1:9000 is already in use (EADDRINUSE)'],
    ['EADDRNOTAVAIL', '10.1.2.3', 9000, 'cannot listen on 10.1.2.3: this machine has no such address (EADDRNOTAVAIL); check --host'],
    ['ENOTFOUND', 'nosuchhost', 9000, 'cannot listen on nosuchhost: the host name does not resolve (ENOTFOUND); check --host'],
    ['EAI_AGAIN', 'nosuchhost', 9000, 'the host name does not resolve (EAI_AGAIN)'],
    ['EACCES', '::1', 80, 'no permission to listen on [::1]:80 (EACCES)'],
  ])('%s: one line saying what to change', (code, host, port, text) => {
    const line = describeListenError(err(code), host, port);
    expect(line).toContain(text);
    expect(line).not.toContain('\n');
  });

  it('leaves other errors alone (they are bugs, shown with their stack)', () => {
    const other = new Error('boom');
    expect(describeListenError(other, 'h', 1)).toBeUndefined();
    expect(listenFailure(other, 'h', 1)).toBe(other);
    const wrapped = listenFailure(err('EADDRINUSE'), 'h', 1);
    expect(wrapped).toBeInstanceOf(CliError);
    expect((wrapped as CliError).exitCode).toBe(1);
  });
});
