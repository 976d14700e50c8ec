import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progressIndicator } from '../../src/demo/progress.js';

describe('demo progress indicator', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('rewrites one line on a TTY, cut to the terminal width, and clears it on unsubscribe', () => {
    const writes: string[] = [];
    let n = 0;
    const sub = progressIndicator({ write: (t) => writes.push(t), isTTY: true, columns: 30 }, () => `step ${++n} ${'x'.repeat(40)}`).subscribe();
    vi.advanceTimersByTime(250);
    sub.unsubscribe();
    expect(writes).toHaveLength(4); // at once, at 100 and 200 ms, then the clear
    expect(writes[0]).toBe(`\r\x1b[2Kstep 1 ${'x'.repeat(21)}…`);
    expect(writes[0]!.length - '\r\x1b[2K'.length).toBe(29);
    expect(writes[2]).toContain('step 3');
    expect(writes[3]).toBe('\r\x1b[2K');
    vi.advanceTimersByTime(1000);
    expect(writes).toHaveLength(4);
  });

  it('prints plain lines, one per period, when not a TTY', () => {
    const writes: string[] = [];
    const sub = progressIndicator({ write: (t) => writes.push(t) }, () => 'events 1/2', { plainEveryMs: 500 }).subscribe();
    vi.advanceTimersByTime(1200);
    sub.unsubscribe();
    expect(writes).toEqual(['progress: events 1/2\n', 'progress: events 1/2\n']);
  });
});
