/**
 * The server's only source of time. Every TTL, delay, lease and timeout goes through a `Clock`, so
 * tests swap in a `ManualClock` and advance time exactly instead of sleeping.
 */
import { setLongTimeout } from './timers.js';

/** A timer set on a `Clock`. */
export interface TimerHandle {
  /** Cancels the timer (no effect once it ran). */
  cancel(): void;
}

/** Where the server gets the time from. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds of this clock's time. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** The real clock (`Date.now`, `setTimeout`; timers do not keep the process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  // Long delays (TTLs, delayed runs) are chained so that no timer ever overflows.
  setTimer: (ms, fn) => setLongTimeout(ms, fn),
};

/**
 * A clock read at most once per batch of requests: while pinned (`pin()` … `unpin()`, around the
 * requests of one chunk read from a socket) `now()` answers the time read at its first call in the
 * batch, as Redis takes one time per command batch. At 256 requests per read that is one clock
 * read instead of one per write (a put's version timestamp, an append's record time, an enqueue's
 * time: `Date.now()` costs ~50-65 ns of a ~1.3 µs put); a batch that never asks (gets, pings)
 * reads nothing. Pins nest (a count); timers are the base clock's.
 */
export class BatchClock implements Clock {
  private depth = 0;
  /** Whether `pinned` holds this batch's time yet. */
  private read = false;
  private pinned = 0;

  constructor(private readonly base: Clock) {}

  now(): number {
    if (this.depth === 0) return this.base.now();
    if (!this.read) {
      this.pinned = this.base.now();
      this.read = true;
    }
    return this.pinned;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    return this.base.setTimer(ms, fn);
  }

  /** From now until the matching `unpin()`, `now()` answers one time: the first it reads. */
  pin(): void {
    if (this.depth++ === 0) this.read = false;
  }

  unpin(): void {
    if (this.depth > 0) this.depth--;
  }
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to; timers fire in due order during `advance`. */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: ManualTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Moves time forward by `ms`, firing each due timer at its own instant. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.current = target;
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}
