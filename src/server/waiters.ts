/**
 * Parked requests (long-polls). A handler that finds nothing parks under a key with a deadline;
 * a write that may satisfy it wakes the key; the handler then looks again. Parks end on wake,
 * deadline (on the server clock) or abort (connection closed).
 *
 * Parking is fair: `ParkingLimits` (one per server, shared by every subsystem) caps the requests
 * one connection may have parked, plus a high server-wide bound. A request that cannot park is
 * answered OVERLOADED at once, never with an early empty answer, so one client can never change
 * what another client's blocking reads return.
 */
import type { Clock, TimerHandle } from './clock.js';
import { overloaded } from './reply.js';

interface Parked {
  resolve(woken: boolean): void;
}

/** Default cap on the requests one connection may have parked at once. */
export const DEFAULT_MAX_PARKED_PER_CONNECTION = 256;
/** Default cap on the requests parked server-wide. */
export const DEFAULT_MAX_PARKED_TOTAL = 65_536;

/** Counts parked requests per connection and server-wide, and refuses parks beyond the caps. */
export class ParkingLimits {
  private readonly byOwner = new Map<number, number>();
  private total = 0;

  /**
   * @param perConnection most requests one connection may have parked at once
   * @param serverWide most requests parked on the whole server at once
   */
  constructor(
    readonly perConnection = DEFAULT_MAX_PARKED_PER_CONNECTION,
    readonly serverWide = DEFAULT_MAX_PARKED_TOTAL,
  ) {}

  /** Parked requests, of one connection or of all. */
  parked(owner?: number): number {
    return owner === undefined ? this.total : (this.byOwner.get(owner) ?? 0);
  }

  /** Takes a slot for `owner`, or throws OVERLOADED. Returns the release function. */
  acquire(owner: number): () => void {
    const mine = this.byOwner.get(owner) ?? 0;
    if (mine >= this.perConnection) {
      throw overloaded(`too many blocking requests parked on this connection (max ${this.perConnection})`);
    }
    if (this.total >= this.serverWide) throw overloaded(`too many blocking requests parked on the server (max ${this.serverWide})`);
    this.byOwner.set(owner, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byOwner.get(owner) ?? 1) - 1;
      if (left === 0) this.byOwner.delete(owner);
      else this.byOwner.set(owner, left);
    };
  }
}

/** Requests parked under keys; see the module comment. */
export class Waiters {
  private readonly byKey = new Map<string, Set<Parked>>();
  private parkedCount = 0;

  /**
   * @param limits shared caps on parked requests; each `Waiters` gets its own (default caps) when
   *   none is given.
   * @param maxParked most requests parked in this `Waiters` at once (beyond it: OVERLOADED).
   */
  constructor(
    private readonly clock: Clock,
    private readonly limits: ParkingLimits = new ParkingLimits(),
    private readonly maxParked = Infinity,
  ) {}

  /**
   * Resolves `true` when woken, `false` at the deadline or on abort. `deadlineMs` is an absolute
   * time on the server clock. `owner` is the connection id the parked request came on; when
   * given, the park counts against that connection's cap and throws OVERLOADED (a `ServerError`)
   * at once when a cap is reached.
   */
  park(key: string, deadlineMs: number, signal: AbortSignal, owner?: number): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    const remaining = deadlineMs - this.clock.now();
    if (remaining <= 0) return Promise.resolve(false);
    if (this.parkedCount >= this.maxParked) throw overloaded(`too many blocking requests parked (max ${this.maxParked})`);
    const release = owner === undefined ? undefined : this.limits.acquire(owner);
    return new Promise<boolean>((resolve) => {
      let timer: TimerHandle | undefined;
      const set = this.byKey.get(key) ?? new Set<Parked>();
      this.byKey.set(key, set);
      const done = (woken: boolean) => {
        timer?.cancel();
        release?.();
        if (set.delete(parked)) this.parkedCount--;
        signal.removeEventListener('abort', onAbort);
        if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key);
        resolve(woken);
      };
      const parked: Parked = { resolve: done };
      const onAbort = () => done(false);
      set.add(parked);
      this.parkedCount++;
      signal.addEventListener('abort', onAbort, { once: true });
      timer = this.clock.setTimer(remaining, () => done(false));
    });
  }

  /** Wakes every request parked under `key`. */
  wake(key: string): void {
    const set = this.byKey.get(key);
    if (!set) return;
    for (const p of [...set]) p.resolve(true);
  }

  /** Wakes one parked request (oldest first); returns whether there was one. */
  wakeOne(key: string): boolean {
    const set = this.byKey.get(key);
    if (!set) return false;
    const first = set.values().next().value;
    if (!first) return false;
    first.resolve(true);
    return true;
  }

  /** Requests waiting for `key`, or for any key. */
  count(key?: string): number {
    if (key !== undefined) return this.byKey.get(key)?.size ?? 0;
    return this.parkedCount;
  }

  /** Ends every park (as timed out). */
  clear(): void {
    for (const set of this.byKey.values()) for (const p of [...set]) p.resolve(false);
    this.byKey.clear();
  }
}
