/**
 * The argument checks of `flo.stream`, shared by `StreamApi` in `stream-api.ts` (which runs them
 * before the calls' code has loaded) and `stream.ts` (which runs them on every call), and the
 * default consumer id.
 */
import { InvalidArgumentError } from '../protocol/errors.js';
import { STREAM_MAX_READ_COUNT } from '../protocol/stream-common.js';

export function requireName(what: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(`${what} must be a non-empty string`);
}

export function checkCount(what: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > STREAM_MAX_READ_COUNT) {
    throw new InvalidArgumentError(`${what} must be an integer from 1 to ${STREAM_MAX_READ_COUNT}, got ${String(value)}`);
  }
  return n;
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
