/**
 * Run ids shaped like the newest Flo server's: `prefix + lowercase hex of a u64` packing
 * [ms since 2024-01-01 : 42 bits][partition : 14 bits (0 here)][per-ms sequence : 8 bits].
 * When more than 256 ids are needed in one millisecond the generator borrows the next one, so ids
 * stay unique and increase.
 */
import type { Clock } from '../clock.js';

const EPOCH_2024 = Date.UTC(2024, 0, 1);

export class RunIdGenerator {
  private lastMs = -1;
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly prefix: string,
  ) {}

  next(): string {
    let ms = Math.max(0, this.clock.now() - EPOCH_2024);
    if (ms <= this.lastMs) {
      ms = this.lastMs;
      this.seq++;
      if (this.seq > 0xff) {
        ms++;
        this.seq = 0;
      }
    } else this.seq = 0;
    this.lastMs = ms;
    const v = (BigInt(ms) << 22n) | BigInt(this.seq);
    return `${this.prefix}${v.toString(16)}`;
  }
}
