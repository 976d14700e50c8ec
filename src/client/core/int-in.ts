/**
 * The integer-range check of the API objects' arguments (`n must be an integer from 1 to
 * 4294967295, got 0`), one definition for the queue, stream and KV checks that share its message.
 */
import { InvalidArgumentError } from '../../protocol/errors.js';

export function intIn(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}
