// The shared name check: the message the stream, queue, projection and client checks share.
import { describe, expect, it } from 'vitest';
import { requireName } from '../../../src/client/core/require-name.js';
import { InvalidArgumentError } from '../../../src/protocol/errors.js';

describe('requireName', () => {
  it('returns a non-empty string', () => {
    expect(requireName('stream', 'orders')).toBe('orders');
  });

  it('throws InvalidArgumentError for an empty string or a non-string', () => {
    for (const bad of ['', undefined, null, 42, {}]) {
      const attempt = () => requireName('queue name', bad as unknown as string);
      expect(attempt).toThrow(InvalidArgumentError);
      expect(attempt).toThrow('queue name must be a non-empty string');
    }
  });
});
