import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines, type DeadlineItem } from '../../src/connection/deadlines.js';

function item(name: string): DeadlineItem & { name: string } {
  return { name, deadlinePrev_: undefined, deadlineNext_: undefined, deadlineList_: undefined, expiresAt_: 0 };
}

describe('Deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires items in order, each after its own length', () => {
    const expired: string[] = [];
    const d = new Deadlines((i) => expired.push((i as ReturnType<typeof item>).name));
    d.add(item('a100'), 100); // due at 100
    vi.advanceTimersByTime(30);
    d.add(item('b100'), 100); // due at 130
    d.add(item('c50'), 50); // due at 80
    vi.advanceTimersByTime(49); // t=79
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1); // t=80
    expect(expired).toEqual(['c50']);
    vi.advanceTimersByTime(19); // t=99
    expect(expired).toEqual(['c50']);
    vi.advanceTimersByTime(1); // t=100
    expect(expired).toEqual(['c50', 'a100']);
    vi.advanceTimersByTime(29); // t=129
    expect(expired).toEqual(['c50', 'a100']);
    vi.advanceTimersByTime(1); // t=130
    expect(expired).toEqual(['c50', 'a100', 'b100']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never expires a removed item, and re-arms for the next head', () => {
    const expired: string[] = [];
    const d = new Deadlines((i) => expired.push((i as ReturnType<typeof item>).name));
    const a = item('a');
    const b = item('b');
    const c = item('c');
    d.add(a, 100);
    vi.advanceTimersByTime(40);
    d.add(b, 100);
    d.add(c, 100);
    d.remove(a);
    d.remove(c);
    vi.advanceTimersByTime(60); // a's slot: nothing due
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(40); // b due at 140
    expect(expired).toEqual(['b']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('uses one timer per deadline length, and none once it fires with the list empty', () => {
    const d = new Deadlines(() => undefined);
    const items = Array.from({ length: 1000 }, (_, i) => item(String(i)));
    for (const i of items) d.add(i, 5000);
    expect(vi.getTimerCount()).toBe(1);
    for (const i of items) d.remove(i);
    // kept for the next request (one at a time would otherwise make a timer each), until it fires
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reuses the timer of an emptied list, and still expires what is added later on time', () => {
    const expired: string[] = [];
    const d = new Deadlines((i) => expired.push((i as ReturnType<typeof item>).name));
    for (let n = 0; n < 100; n++) {
      const x = item(`x${n}`);
      d.add(x, 100);
      vi.advanceTimersByTime(1);
      d.remove(x);
    }
    expect(vi.getTimerCount()).toBe(1); // t=100: one timer served all hundred
    const late = item('late');
    d.add(late, 100); // due at 200; the kept timer is due earlier and re-arms for it
    vi.advanceTimersByTime(99); // t=199
    expect(vi.getTimerCount()).toBe(1);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1); // t=200
    expect(expired).toEqual(['late']);
    vi.advanceTimersByTime(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not hold the process open while its list is empty', () => {
    vi.useRealTimers();
    const d = new Deadlines(() => undefined);
    const x = item('x');
    d.add(x, 60_000);
    const list = x.deadlineList_ as unknown as { timer_: NodeJS.Timeout };
    const timer = list.timer_;
    expect(timer.hasRef()).toBe(true);
    d.remove(x);
    expect(timer.hasRef()).toBe(false);
    d.add(item('y'), 60_000);
    expect(timer.hasRef()).toBe(true);
    d.clear();
  });

  it('lets an expiry callback arm new items of the same length', () => {
    const expired: string[] = [];
    let d: Deadlines;
    d = new Deadlines((i) => {
      const name = (i as ReturnType<typeof item>).name;
      expired.push(name);
      if (name === 'first') d.add(item('second'), 10);
    });
    d.add(item('first'), 10);
    vi.advanceTimersByTime(10);
    vi.advanceTimersByTime(10);
    expect(expired).toEqual(['first', 'second']);
  });

  it('still expires the next item on time when an expiry callback adds one of the same length (a retry)', () => {
    const expired: string[] = [];
    let d: Deadlines;
    d = new Deadlines((i) => {
      const name = (i as ReturnType<typeof item>).name;
      expired.push(name);
      // What `retry()` does on a TimeoutError: the same request again, at once, same timeout.
      if (name === 'a') d.add(item('a-again'), 100);
    });
    d.add(item('a'), 100); // due at 100
    vi.advanceTimersByTime(50);
    d.add(item('b'), 100); // due at 150
    vi.advanceTimersByTime(50); // t=100
    expect(expired).toEqual(['a']);
    vi.advanceTimersByTime(50); // t=150
    expect(expired).toEqual(['a', 'b']);
    vi.advanceTimersByTime(50); // t=200
    expect(expired).toEqual(['a', 'b', 'a-again']);
    d.clear();
  });

  it('clear() stops every timer without expiring anything', () => {
    const expired: unknown[] = [];
    const d = new Deadlines((i) => expired.push(i));
    d.add(item('a'), 10);
    d.add(item('b'), 20);
    d.clear();
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
