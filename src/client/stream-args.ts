/**
 * The argument checks of `flo.stream`, shared by `StreamApi` in `stream-api.ts` (which runs them
 * before the calls' code has loaded) and `stream.ts` (which runs them on every call), and the
 * default consumer id.
 */
import { InvalidArgumentError } from '../protocol/errors.js';
import { STREAM_MAX_READ_COUNT } from '../protocol/stream-common.js';
import { intIn } from './core/int-in.js';
import { requireName } from './core/require-name.js';

export { requireName };

export function checkCount(what: string, value: number | undefined, fallback: number): number {
  // A missing value takes the fallback, which is in range: the message names only given values.
  return intIn(what, value ?? fallback, 1, STREAM_MAX_READ_COUNT);
}

export function checkPositiveInt(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got ${value}`);
  return value;
}

export function toU64(what: string, v: number | bigint | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && !(Number.isSafeInteger(v) && v >= 0)) throw new InvalidArgumentError(`${what} must be a non-negative integer, got ${v}`);
  const b = BigInt(v);
  if (b < 0n) throw new InvalidArgumentError(`${what} must be non-negative, got ${v}`);
  return b;
}

/** `flo-rx-<12 hex>`, the default consumer id (the Go worker's is `<hostname>-<8 hex>`). */
export function newConsumerId(): string {
  const bytes = new Uint8Array(6);
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return `flo-rx-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}
