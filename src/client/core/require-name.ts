/**
 * The check of a name argument (`stream must be a non-empty string`), one definition for the
 * stream, queue, projection and client checks that share its message. Returns the name.
 */
import { InvalidArgumentError } from '../../protocol/errors.js';

export function requireName(what: string, name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(`${what} must be a non-empty string`);
  return name;
}
