/**
 * The client's frame CRC in Node (`flo-rx/node` hands it to the connection): Node's native
 * `zlib.crc32` for reply frames of 512 bytes and more (batched dequeue and group-read replies of
 * kilobytes), the pure CRC below that, as the embedded server does. Undefined where Node has no
 * `zlib.crc32` (before 20.15): the connection then keeps the pure one. Node only: the universal
 * entry never imports this file.
 */
import * as zlib from 'node:zlib';
import { hybridFrameCrc, nativeFrameCrc, type FrameCrc, type NativeCrc32 } from '../protocol/index.js';

const nativeCrc32 = (zlib as { crc32?: NativeCrc32 }).crc32;

/** The hybrid frame CRC on `zlib.crc32`, or undefined without it. */
export const nodeFrameCrc: FrameCrc | undefined = nativeCrc32 ? hybridFrameCrc(nativeFrameCrc(nativeCrc32)) : undefined;
