/** Checks for the protocol's "write at an offset" reply writers. */
import { expect } from 'vitest';

/** Offsets the writers are tried at (odd ones included: nothing may assume alignment). */
export const OFFSETS = [0, 1, 3, 7, 13];

/**
 * A buffer filled with 0xee, the payload written at `offset`, then checked around it: the writer
 * returns `offset + size` and touches no byte outside. Returns the bytes written.
 */
export function writeAt(size: number, offset: number, write: (t: Uint8Array, v: DataView, at: number) => number): Uint8Array {
  const target = new Uint8Array(offset + size + 5).fill(0xee);
  const end = write(target, new DataView(target.buffer), offset);
  expect(end).toBe(offset + size);
  expect([...target.subarray(0, offset)].every((x) => x === 0xee)).toBe(true);
  expect([...target.subarray(end)].every((x) => x === 0xee)).toBe(true);
  return target.subarray(offset, end);
}
