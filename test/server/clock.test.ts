import { describe, expect, it } from 'vitest';
import { BatchClock, ManualClock } from '../../src/server/clock.js';

describe('BatchClock', () => {
  it('answers the base clock when not pinned, and the time of its first read while pinned', () => {
    const base = new ManualClock(1_000);
    const clock = new BatchClock(base);
    expect(clock.now()).toBe(1_000);
    clock.pin();
    expect(clock.now()).toBe(1_000);
    base.advance(5);
    expect(clock.now()).toBe(1_000);
    clock.unpin();
    expect(clock.now()).toBe(1_005);
  });

  it('reads the base clock only when asked while pinned: once for the whole batch, never for a batch that does not ask', () => {
    let reads = 0;
    const clock = new BatchClock({ now: () => ++reads * 10, setTimer: () => ({ cancel() {} }) });
    clock.pin();
    clock.unpin();
    expect(reads).toBe(0);
    clock.pin();
    expect([clock.now(), clock.now(), clock.now()]).toEqual([10, 10, 10]);
    clock.unpin();
    expect(reads).toBe(1);
  });

  it('nests pins: the time stays pinned until the outermost unpin, and an extra unpin does no harm', () => {
    const base = new ManualClock(0);
    const clock = new BatchClock(base);
    clock.pin();
    expect(clock.now()).toBe(0);
    base.advance(1);
    clock.pin();
    expect(clock.now()).toBe(0);
    clock.unpin();
    base.advance(1);
    expect(clock.now()).toBe(0);
    clock.unpin();
    expect(clock.now()).toBe(2);
    clock.unpin();
    clock.pin();
    expect(clock.now()).toBe(2);
  });

  it("sets timers on the base clock", () => {
    const base = new ManualClock(0);
    const clock = new BatchClock(base);
    let fired = 0;
    const t = clock.setTimer(10, () => fired++);
    clock.setTimer(20, () => fired++).cancel();
    expect(base.pendingTimers).toBe(1);
    base.advance(10);
    expect(fired).toBe(1);
    t.cancel();
  });
});
