/**
 * Marble tests of `project()` against a fake client: replay then live, at-most-once application
 * across a simulated reconnect, ref-counted sharing, going stale and catching up after a lost
 * connection, snapshots, and resets (the stream gone, trimmed past the projection, or shorter).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { map, Observable, of, ReplaySubject, type Observable as Obs } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { ConnectionState } from '../../src/connection/types.js';
import { BadRequestError, ConnectionLostError, NotFoundError } from '../../src/protocol/errors.js';
import type { StreamId } from '../../src/protocol/options.js';
import { formatStreamId } from '../../src/protocol/stream.js';
import { Status } from '../../src/protocol/status.js';
import {
  project,
  projectionResets,
  SNAPSHOT_FORMAT,
  type ProjectionClient,
  type ProjectionRecord,
  type ProjectionState,
} from '../../src/projection/index.js';
import { loadProjectionCode, newScheduler } from '../helpers.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A record with id `<ms>-0` whose payload is the JSON `n`. */
function rec(ms: number, n = ms): ProjectionRecord {
  const payload = enc.encode(JSON.stringify(n));
  return { stream: 's', id: { timestampMs: BigInt(ms), sequence: 0n }, payload, headers: {}, data: <T>() => JSON.parse(dec.decode(payload)) as T };
}

/** Records for marble letters: a=1, b=2, ... */
const R: Record<string, ProjectionRecord> = Object.fromEntries('abcdefghij'.split('').map((c, i) => [c, rec(i + 1)]));

interface Call {
  op: 'read' | 'tail' | 'info';
  from: unknown;
  at: number;
}

interface Fake extends ProjectionClient {
  calls: Call[];
  puts: { key: string; value: string; at: number }[];
  state: ReplaySubject<ConnectionState>;
}

function fake(
  scheduler: TestScheduler,
  script: {
    read: (i: number) => Obs<ProjectionRecord>;
    tail: (i: number) => Obs<ProjectionRecord>;
    snapshot?: () => Obs<{ value: Uint8Array } | null>;
    /** Default: a stream holding ids 1-0 to 1000-0 (every check passes). */
    info?: (i: number) => Obs<Extent>;
  },
): Fake {
  const calls: Call[] = [];
  const puts: { key: string; value: string; at: number }[] = [];
  const state = new ReplaySubject<ConnectionState>(1);
  state.next('connected');
  const counted = (op: 'read' | 'tail', opts: { from?: unknown } | undefined, make: (i: number) => Obs<ProjectionRecord>) =>
    new Observable<ProjectionRecord>((s) => {
      const i = calls.filter((c) => c.op === op).length;
      calls.push({ op, from: fmt(opts?.from), at: scheduler.now() });
      return make(i).subscribe(s);
    });
  return {
    calls,
    puts,
    state,
    state$: state.asObservable(),
    stream: {
      read: (_s, opts) => counted('read', opts, script.read),
      tail: (_s, opts) => counted('tail', opts, script.tail),
      info: () =>
        new Observable<Extent>((sub) => {
          const i = calls.filter((c) => c.op === 'info').length;
          calls.push({ op: 'info', from: undefined, at: scheduler.now() });
          return (script.info ?? (() => of(extent(1, 1000, 1000))))(i).subscribe(sub);
        }),
    },
    kv: {
      get: () => (script.snapshot ? script.snapshot() : of(null)),
      put: (key, value) =>
        new Observable((s) => {
          puts.push({ key, value, at: scheduler.now() });
          s.next(1n);
          s.complete();
        }),
    },
  };
}

interface Extent {
  firstId: StreamId;
  lastId: StreamId;
  count: bigint;
}
const id = (ms: number): StreamId => ({ timestampMs: BigInt(ms), sequence: 0n });
/** What `stream.info` says: first and last ids `<ms>-0`, and the count (0 0 0: empty). */
const extent = (first: number, last: number, count: number): Extent => ({ firstId: id(first), lastId: id(last), count: BigInt(count) });

const fmt = (from: unknown): unknown =>
  from && typeof from === 'object' && 'timestampMs' in from ? formatStreamId(from as StreamId) : from;

/** Sums the JSON numbers of the records. */
const sum = (state: number, r: ProjectionRecord): number => state + r.data<number>();

/** A compact view of a projection state for marbles: `sum/applied/lastId/status`. */
const view = (p: ProjectionState<number>): string =>
  `${p.state}/${p.applied}/${p.lastId ? formatStreamId(p.lastId) : '-'}/${p.status[0]}`;

describe('project()', () => {
  beforeAll(loadProjectionCode); // the fold loads at the first subscription: load it before virtual time
  it('replays the stream, then goes live on a tail from after the last id', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold('-a-b|', R);
      const tail = cold('--c--d', R);
      const flo = fake(s, { read: () => read, tail: () => tail });
      const p$ = project(flo, 's', { reducer: sum, initial: 0 }).pipe(map(view));

      expectObservable(p$, '^ 20ms !').toBe('xa-bl-c--d', {
        x: '0/0/-/r',
        a: '1/1/1-0/r',
        b: '3/2/2-0/r',
        l: '3/2/2-0/l',
        c: '6/3/3-0/l',
        d: '10/4/4-0/l',
      });
      expectSubscriptions(read.subscriptions).toBe('^---!');
      expectSubscriptions(tail.subscriptions).toBe('----^ 16ms !');
      s.flush();
      expect(flo.calls).toEqual([
        { op: 'read', from: 'start', at: 0 },
        { op: 'tail', from: '2-0', at: 4 },
      ]);
    });
  });

  it('runs on a client without state$ (it is optional): replays, then tails', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const { state$: _unused, ...flo } = fake(s, { read: () => cold('-a|', R), tail: () => cold('--b', R) });
      expectObservable(project(flo, 's', { reducer: sum, initial: 0 }).pipe(map(view)), '^ 10ms !').toBe('xal-b', {
        x: '0/0/-/r',
        a: '1/1/1-0/r',
        l: '1/1/1-0/l',
        b: '3/2/2-0/l',
      });
    });
  });

  it('tails from the start when the replay found nothing, and from `from` when given', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const flo = fake(s, { read: () => cold('-|'), tail: () => cold('--a', R) });
      expectObservable(project(flo, 's', { reducer: sum, initial: 0 }).pipe(map(view)), '^ 9ms !').toBe('xl-a', {
        x: '0/0/-/r',
        l: '0/0/-/l',
        a: '1/1/1-0/l',
      });
      s.flush();
      expect(flo.calls.map((c) => c.from)).toEqual(['start', 'start']);

      const flo2 = fake(s, { read: () => cold('|'), tail: () => cold('-') });
      const from = { timestampMs: 7n, sequence: 0n };
      project(flo2, 's', { reducer: sum, initial: 0, from }).subscribe();
      s.flush();
      expect(flo2.calls.map((c) => c.from)).toEqual(['7-0', '7-0']);
    });
  });

  it('never applies a record twice: a tail re-emitting old ids after a reconnect is deduplicated', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      // The read ends with b (id 2); the tail repeats b (inclusive start), gives c, d, then after a
      // simulated reconnect re-delivers b, c, d again before e.
      const flo = fake(s, { read: () => cold('-ab|', R), tail: () => cold('-bcd--bcde', R) });
      const values: ProjectionState<number>[] = [];
      project(flo, 's', { reducer: sum, initial: 0 }).subscribe((v) => values.push(v));
      expectObservable(project(flo, 's', { reducer: sum, initial: 0 }).pipe(map(view)), '^ 15ms !').toBe('xabl-cd-----e', {
        x: '0/0/-/r',
        a: '1/1/1-0/r',
        b: '3/2/2-0/r',
        l: '3/2/2-0/l',
        c: '6/3/3-0/l',
        d: '10/4/4-0/l',
        e: '15/5/5-0/l',
      });
      s.flush();
      expect(values.at(-1)).toMatchObject({ state: 15, applied: 5 });
    });
  });

  it('goes stale when the connection is lost, then checks the stream and catches up from its last id, without re-applying', () => {
    const s = newScheduler();
    s.run(({ cold, hot, expectObservable }) => {
      // The fake's state goes reconnecting at frame 5 (tail 0 is dropped at once) and connected at
      // frame 12. Then: a stream check, read 1 from the last id (inclusive) re-delivers c, then d;
      // tail 1 goes on.
      const flo = fake(s, {
        read: (i) => (i === 0 ? cold('-ab|', R) : cold('-cd|', R)),
        tail: (i) => (i === 0 ? cold('-c-----f', R) : cold('-de', R)),
      });
      hot('-----r------c', { r: 'reconnecting', c: 'connected' } as Record<string, ConnectionState>).subscribe((st) => flo.state.next(st));
      const p$ = project(flo, 's', { reducer: sum, initial: 0, retryDelayMs: 2 }).pipe(map(view));
      expectObservable(p$, '^ 20ms !').toBe('xablcs------r-dL-e', {
        x: '0/0/-/r',
        a: '1/1/1-0/r',
        b: '3/2/2-0/r',
        l: '3/2/2-0/l',
        c: '6/3/3-0/l',
        s: '6/3/3-0/s',
        r: '6/3/3-0/r',
        d: '10/4/4-0/r',
        L: '10/4/4-0/l',
        e: '15/5/5-0/l',
      });
      s.flush();
      expect(flo.calls).toEqual([
        { op: 'read', from: 'start', at: 0 },
        { op: 'tail', from: '2-0', at: 3 },
        { op: 'info', from: undefined, at: 12 },
        { op: 'read', from: '3-0', at: 12 },
        { op: 'tail', from: '4-0', at: 15 },
      ]);
    });
  });

  it('goes stale on a retryable error of the tail and retries after the delay', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const flo = fake(s, {
        read: (i) => (i === 0 ? cold('-a|', R) : cold('-b|', R)),
        tail: (i) => (i === 0 ? cold('-#', R, new ConnectionLostError('lost')) : cold('-c', R)),
      });
      const p$ = project(flo, 's', { reducer: sum, initial: 0, retryDelayMs: 3 }).pipe(map(view));
      expectObservable(p$, '^ 12ms !').toBe('xals--rbLc', {
        x: '0/0/-/r',
        a: '1/1/1-0/r',
        l: '1/1/1-0/l',
        s: '1/1/1-0/s',
        r: '1/1/1-0/r',
        b: '3/2/2-0/r',
        L: '3/2/2-0/l',
        c: '6/3/3-0/l',
      });
    });
  });

  it('ends with a non-retryable error, and with an error thrown by the reducer', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const bad = new BadRequestError(Status.BadRequest, 'no such stream');
      const flo = fake(s, { read: () => cold('-a#', R, bad), tail: () => cold('-') });
      expectObservable(project(flo, 's', { reducer: sum, initial: 0 }).pipe(map(view))).toBe('xa#', { x: '0/0/-/r', a: '1/1/1-0/r' }, bad);

      const boom = new Error('reducer failed');
      const flo2 = fake(s, { read: () => cold('-ab|', R), tail: () => cold('-') });
      const reducer = (st: number, r: ProjectionRecord) => {
        if (r.data<number>() === 2) throw boom;
        return st + 1;
      };
      expectObservable(project(flo2, 's', { reducer, initial: 0 }).pipe(map(view))).toBe('xa#', { x: '0/0/-/r', a: '1/1/1-0/r' }, boom);
    });
  });

  it('is shared and ref-counted: one read and one tail for two subscribers; the last to leave stops it', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold('-a-b|', R);
      const tail = cold('--c', R);
      const flo = fake(s, { read: () => read, tail: () => tail });
      const p$ = project(flo, 's', { reducer: sum, initial: 0 }).pipe(map(view));
      const values = { x: '0/0/-/r', a: '1/1/1-0/r', b: '3/2/2-0/r', l: '3/2/2-0/l', c: '6/3/3-0/l' };

      expectObservable(p$, '^ 9ms !').toBe('xa-bl-c', values);
      // A late subscriber gets the latest state at once, then what follows.
      expectObservable(p$, '--^ 9ms !').toBe('--abl-c', values);
      // After everyone left (frame 12), a new subscriber starts a new run with a new read.
      expectObservable(p$, '-------------------- ^ 3ms !').toBe('-------------------- xa-b', values);
      expectSubscriptions(read.subscriptions).toBe(['^---!', '-------------------- ^---!']);
      expectSubscriptions(tail.subscriptions).toBe('----^-------!');
      s.flush();
      expect(flo.calls.map((c) => c.op)).toEqual(['read', 'tail', 'read']);
    });
  });

  it('starts from a KV snapshot and writes one every N records', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const stored = JSON.stringify({ format: SNAPSHOT_FORMAT, stream: 's', lastId: '2-0', applied: 2, state: 3 });
      const flo = fake(s, {
        snapshot: () => cold('-(v|)', { v: { value: enc.encode(stored) } }),
        // Read from the snapshot's id re-delivers b (skipped), then c.
        read: () => cold('bc|', R),
        tail: () => cold('-de', R),
      });
      const p$ = project(flo, 's', { reducer: sum, initial: 0, snapshot: { key: 'snap', everyN: 2 } }).pipe(map(view));
      expectObservable(p$, '^ 9ms !').toBe('-xclde', {
        x: '3/2/2-0/r',
        c: '6/3/3-0/r',
        l: '6/3/3-0/l',
        d: '10/4/4-0/l',
        e: '15/5/5-0/l',
      });
      s.flush();
      // The snapshot's last id is checked against the stream first.
      expect(flo.calls.map((c) => [c.op, c.from])).toEqual([
        ['info', undefined],
        ['read', '2-0'],
        ['tail', '3-0'],
      ]);
      expect(flo.puts.map((p) => ({ ...p, value: JSON.parse(p.value) }))).toEqual([
        { key: 'snap', at: 4, value: { format: SNAPSHOT_FORMAT, stream: 's', lastId: '4-0', applied: 4, state: 10 } },
      ]);
    });
  });

  it('ignores an unreadable snapshot (replays from the start) and reports it', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const errors: unknown[] = [];
      const other = JSON.stringify({ format: SNAPSHOT_FORMAT, stream: 'other', lastId: '9-0', applied: 9, state: 99 });
      const flo = fake(s, { snapshot: () => cold('(v|)', { v: { value: enc.encode(other) } }), read: () => cold('-a|', R), tail: () => cold('-') });
      const p$ = project(flo, 's', { reducer: sum, initial: 0, snapshot: { key: 'snap', onError: (e) => errors.push(e) } }).pipe(map(view));
      expectObservable(p$, '^ 5ms !').toBe('xal', { x: '0/0/-/r', a: '1/1/1-0/r', l: '1/1/1-0/l' });
      s.flush();
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toMatch(/stream "other"/);
    });
  });

  describe('reset', () => {
    /** `view` plus the latest reset: `reason#nth`, or `-`. */
    const withReset = (p: ProjectionState<number>): string => `${view(p)}/${p.reset ? `${p.reset.reason}#${p.reset.nth}` : '-'}`;

    /**
     * Live at 2-0 (sum 3), the connection drops at frame 5 and is back at frame 8, when `info`
     * says what the stream is now; read 1 is the stream as it is after that.
     */
    function restartScript(cold: (m: string, v?: Record<string, ProjectionRecord>) => Obs<ProjectionRecord>, info: Obs<Extent>, read1: string) {
      return {
        read: (i: number) => (i === 0 ? cold('-ab|', R) : cold(read1, R)),
        tail: () => cold('-'),
        info: () => info,
      };
    }
    const states = { r: 'reconnecting', c: 'connected' } as Record<string, ConnectionState>;

    /** Subscribes at once; each value as `[frame, withReset(value)]` (the frames of a group are easier to read this way). */
    function timeline(scheduler: TestScheduler, p$: Obs<ProjectionState<number>>, until: number): [number, string][] {
      const out: [number, string][] = [];
      const sub = p$.subscribe((v) => out.push([scheduler.now(), withReset(v)]));
      scheduler.schedule(() => sub.unsubscribe(), until);
      return out;
    }

    it('rebuilds from the start when the stream is gone after a reconnect (a server that came back empty)', () => {
      const s = newScheduler();
      s.run(({ cold, hot, expectObservable }) => {
        const flo = fake(s, restartScript(cold, of(extent(0, 0, 0)), '-g|'));
        hot('-----r--c', states).subscribe((st) => flo.state.next(st));
        const values: ProjectionState<number>[] = [];
        const p$ = project(flo, 's', { reducer: sum, initial: 0, retryDelayMs: 1 });
        p$.subscribe((v) => values.push(v));
        const seen = timeline(s, p$, 20);
        s.flush();
        expect(seen).toEqual([
          [0, '0/0/-/r/-'],
          [1, '1/1/1-0/r/-'],
          [2, '3/2/2-0/r/-'],
          [3, '3/2/2-0/l/-'],
          [5, '3/2/2-0/s/-'],
          [8, '3/2/2-0/r/-'],
          [8, '0/0/-/r/missing#1'],
          [9, '7/1/7-0/r/missing#1'],
          [10, '7/1/7-0/l/missing#1'],
        ]);
        expect(flo.calls.map((c) => [c.op, c.from, c.at])).toEqual([
          ['read', 'start', 0],
          ['tail', '2-0', 3],
          ['info', undefined, 8],
          ['read', 'start', 8],
          ['tail', '7-0', 10],
        ]);
        expect(values.at(-1)!.reset).toEqual({
          reason: 'missing',
          previousLastId: id(2),
          previousApplied: 2,
          stream: { firstId: null, lastId: null, count: 0 },
          nth: 1,
        });
      });
    });

    it('counts a NotFound reply to the check as a missing stream', () => {
      const s = newScheduler();
      s.run(({ cold, hot, expectObservable }) => {
        const flo = fake(s, restartScript(cold, cold('#', undefined, new NotFoundError(Status.NotFound, 'stream not found')), '-|'));
        hot('-----r--c', states).subscribe((st) => flo.state.next(st));
        const seen = timeline(s, project(flo, 's', { reducer: sum, initial: 0, retryDelayMs: 1 }), 20);
        s.flush();
        expect(seen.slice(4)).toEqual([
          [5, '3/2/2-0/s/-'],
          [8, '3/2/2-0/r/-'],
          [8, '0/0/-/r/missing#1'],
          [9, '0/0/-/l/missing#1'],
        ]);
      });
    });

    it('rebuilds when the stream is shorter than what was folded, or trimmed past it; and numbers the resets', () => {
      const s = newScheduler();
      s.run(({ cold, hot, expectObservable }) => {
        // First reconnect: the stream ends at 1-0 (before 2-0): shorter; rebuilt from a only.
        // Second reconnect: the stream starts at 5-0 (after 1-0): trimmed; rebuilt from e, f.
        const flo = fake(s, {
          read: (i) => [cold('-ab|', R), cold('-a|', R), cold('-ef|', R)][i]!,
          tail: () => cold('-'),
          info: (i) => of([extent(1, 1, 1), extent(5, 6, 2)][i]!),
        });
        hot('-----r--c---r-c', states).subscribe((st) => flo.state.next(st));
        const values: ProjectionState<number>[] = [];
        const p$ = project(flo, 's', { reducer: sum, initial: 0, retryDelayMs: 1 });
        p$.subscribe((v) => values.push(v));
        const seen = timeline(s, p$, 30);
        s.flush();
        expect(seen.slice(4)).toEqual([
          [5, '3/2/2-0/s/-'],
          [8, '3/2/2-0/r/-'],
          [8, '0/0/-/r/shorter#1'],
          [9, '1/1/1-0/r/shorter#1'],
          [10, '1/1/1-0/l/shorter#1'],
          [12, '1/1/1-0/s/shorter#1'],
          [14, '1/1/1-0/r/shorter#1'],
          [14, '0/0/-/r/trimmed#2'],
          [15, '5/1/5-0/r/trimmed#2'],
          [16, '11/2/6-0/r/trimmed#2'],
          [17, '11/2/6-0/l/trimmed#2'],
        ]);
        const resets = values.map((v) => v.reset).filter((r, i, all) => r && r !== all[i - 1]);
        expect(resets).toEqual([
          { reason: 'shorter', previousLastId: id(2), previousApplied: 2, stream: { firstId: id(1), lastId: id(1), count: 1 }, nth: 1 },
          { reason: 'trimmed', previousLastId: id(1), previousApplied: 1, stream: { firstId: id(5), lastId: id(6), count: 2 }, nth: 2 },
        ]);
      });
    });

    it('projectionResets() emits each new reset once', () => {
      const s = newScheduler();
      s.run(({ cold, hot, expectObservable }) => {
        const flo = fake(s, {
          read: (i) => [cold('-ab|', R), cold('-a|', R), cold('-ef|', R)][i]!,
          tail: () => cold('-'),
          info: (i) => of([extent(1, 1, 1), extent(5, 6, 2)][i]!),
        });
        hot('-----r--c---r-c', states).subscribe((st) => flo.state.next(st));
        const resets$ = project(flo, 's', { reducer: sum, initial: 0, retryDelayMs: 1 }).pipe(
          projectionResets(),
          map((r) => `${r.reason}#${r.nth}`),
        );
        expectObservable(resets$, '^ 20ms !').toBe('--------a-----b', { a: 'shorter#1', b: 'trimmed#2' });
      });
    });

    it('drops a snapshot whose records the stream no longer holds, and replays the stream as it is', () => {
      const s = newScheduler();
      s.run(({ cold, expectObservable }) => {
        const stored = JSON.stringify({ format: SNAPSHOT_FORMAT, stream: 's', lastId: '4-0', applied: 4, state: 10 });
        const flo = fake(s, {
          snapshot: () => cold('(v|)', { v: { value: enc.encode(stored) } }),
          info: () => cold('-(i|)', { i: extent(6, 7, 2) }),
          read: () => cold('-fg|', R),
          tail: () => cold('-'),
        });
        const p$ = project(flo, 's', { reducer: sum, initial: 0, snapshot: { key: 'snap' } }).pipe(map(withReset));
        expectObservable(p$, '^ 9ms !').toBe('xTfgl', {
          x: '10/4/4-0/r/-',
          T: '0/0/-/r/trimmed#1',
          f: '6/1/6-0/r/trimmed#1',
          g: '13/2/7-0/r/trimmed#1',
          l: '13/2/7-0/l/trimmed#1',
        });
        s.flush();
        expect(flo.calls.map((c) => [c.op, c.from])).toEqual([
          ['info', undefined],
          ['read', 'start'],
          ['tail', '7-0'],
        ]);
      });
    });

    it('keeps its state when the check finds the stream intact (the usual reconnect)', () => {
      const s = newScheduler();
      s.run(({ cold, hot, expectObservable }) => {
        const flo = fake(s, restartScript(cold, of(extent(1, 3, 3)), '-bc|'));
        hot('-----r--c', states).subscribe((st) => flo.state.next(st));
        const p$ = project(flo, 's', { reducer: sum, initial: 0, retryDelayMs: 1 }).pipe(map(withReset));
        expectObservable(p$, '^ 12ms !').toBe('xabl-s--r-cL', {
          x: '0/0/-/r/-',
          a: '1/1/1-0/r/-',
          b: '3/2/2-0/r/-',
          l: '3/2/2-0/l/-',
          s: '3/2/2-0/s/-',
          r: '3/2/2-0/r/-',
          c: '6/3/3-0/r/-',
          L: '6/3/3-0/l/-',
        });
      });
    });
  });

  it('checks its arguments', () => {
    const s = newScheduler();
    const flo = fake(s, { read: () => of(), tail: () => of() });
    expect(() => project(flo, '', { reducer: sum, initial: 0 })).toThrow(/stream/);
    expect(() => project({ stream: flo.stream }, 's', { reducer: sum, initial: 0, snapshot: { key: 'k' } })).toThrow(/kv/);
    expect(() => project(flo, 's', { reducer: sum, initial: 0, snapshot: { key: 'k', everyN: 0 } })).toThrow(/everyN/);
  });
});
