// The shared integer-range check: the message the queue, stream-read and KV-scan checks share.
import { describe, expect, it } from 'vitest';
import { intIn } from '../../../src/client/core/int-in.js';
import { InvalidArgumentError } from '../../../src/protocol/errors.js';

describe('intIn', () => {
  it('returns an integer inside [min, max], bounds included', () => {
    expect(intIn('n', 1, 1, 10)).toBe(1);
    expect(intIn('n', 10, 1, 10)).toBe(10);
    expect(intIn('priority', 0, 0, 255)).toBe(0);
  });

  it('throws InvalidArgumentError naming the argument, the range and the value', () => {
    for (const [value, shown] of [[0, '0'], [11, '11'], [1.5, '1.5'], [Number.NaN, 'NaN'], ['3', '3'], [undefined, 'undefined']] as const) {
      const attempt = () => intIn('pageSize', value as unknown as number, 1, 10);
      expect(attempt).toThrow(InvalidArgumentError);
      expect(attempt).toThrow(`pageSize must be an integer from 1 to 10, got ${shown}`);
    }
  });
});
