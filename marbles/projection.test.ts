/**
 * Marble tests of `project()` and `connectionStatus()` against a fake client: replay then live,
 * at-most-once application across a simulated reconnect, ref-counted sharing, retries after a lost
 * connection, snapshots.
 */
import { describe, expect, it } from 'vitest';
import { map, Observable, of, ReplaySubject, type Observable as Obs } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { ConnectionState } from '../src/connection/types.js';
import { BadRequestError, ConnectionLostError } from '../src/protocol/errors.js';
import type { StreamId } from '../src/protocol/options.js';
import { formatStreamId } from '../src/protocol/stream.js';
import { Status } from '../src/protocol/status.js';
import {
  connectionStatus,
  project,
  SNAPSHOT_FORMAT,
  type ProjectionClient,
  type ProjectionRecord,
  type ProjectionState,
} from '../src/projection/index.js';
import { newScheduler } from './helpers.js';

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
  op: 'read' | 'tail';
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
  script: { read: (i: number) => Obs<ProjectionRecord>; tail: (i: number) => Obs<ProjectionRecord>; snapshot?: () => Obs<{ value: Uint8Array } | null> },
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

const fmt = (from: unknown): unknown =>
  from && typeof from === 'object' && 'timestampMs' in from ? formatStreamId(from as StreamId) : from;

/** Sums the JSON numbers of the records. */
const sum = (state: number, r: ProjectionRecord): number => state + r.data<number>();

/** A compact view of a projection state for marbles: `sum/applied/lastId/status`. */
const view = (p: ProjectionState<number>): string =>
  `${p.state}/${p.applied}/${p.lastId ? formatStreamId(p.lastId) : '-'}/${p.status[0]}`;

describe('project()', () => {
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

  it('catches up with a read from its last id after the tail errors with a lost connection, without re-applying', () => {
    const s = newScheduler();
    s.run(({ cold, hot, expectObservable }) => {
      // Tail 0 dies with a lost connection at frame 5; the fake's state goes reconnecting → connected
      // at frame 12. Read 1 (from the last id, inclusive) re-delivers c, then d; tail 1 goes on.
      const flo = fake(s, {
        read: (i) => (i === 0 ? cold('-ab|', R) : cold('-cd|', R)),
        tail: (i) => (i === 0 ? cold('-c-#', R, new ConnectionLostError('lost')) : cold('-de', R)),
      });
      hot('-----r------c', { r: 'reconnecting', c: 'connected' } as Record<string, ConnectionState>).subscribe((st) => flo.state.next(st));
      const p$ = project(flo, 's', { reducer: sum, initial: 0, retryDelayMs: 2 }).pipe(map(view));
      expectObservable(p$, '^ 20ms !').toBe('xablc-------r-dL-e', {
        x: '0/0/-/r',
        a: '1/1/1-0/r',
        b: '3/2/2-0/r',
        l: '3/2/2-0/l',
        c: '6/3/3-0/l',
        r: '6/3/3-0/r',
        d: '10/4/4-0/r',
        L: '10/4/4-0/l',
        e: '15/5/5-0/l',
      });
      s.flush();
      expect(flo.calls).toEqual([
        { op: 'read', from: 'start', at: 0 },
        { op: 'tail', from: '2-0', at: 3 },
        { op: 'read', from: '3-0', at: 12 },
        { op: 'tail', from: '4-0', at: 15 },
      ]);
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
      expect(flo.calls.map((c) => [c.op, c.from])).toEqual([
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

  it('checks its arguments', () => {
    const s = newScheduler();
    const flo = fake(s, { read: () => of(), tail: () => of() });
    expect(() => project(flo, '', { reducer: sum, initial: 0 })).toThrow(/stream/);
    expect(() => project({ stream: flo.stream }, 's', { reducer: sum, initial: 0, snapshot: { key: 'k' } })).toThrow(/kv/);
    expect(() => project(flo, 's', { reducer: sum, initial: 0, snapshot: { key: 'k', everyN: 0 } })).toThrow(/everyN/);
  });
});

describe('connectionStatus()', () => {
  it('maps states to badge words and remembers the last error and the reconnects', () => {
    const s = newScheduler();
    s.run(({ hot, cold, expectObservable }) => {
      const states = hot<ConnectionState>('i-c-C---r--C-x', { i: 'idle', c: 'connecting', C: 'connected', r: 'reconnecting', x: 'closed' });
      const errors = cold('------e', { e: new Error('append failed') });
      const status$ = connectionStatus({ state$: states }, { errors, scheduler: s }).pipe(
        map((st) => `${st.state}|${st.label}|${st.online}|${st.lastError}|${st.reconnects}|${st.since}`),
      );
      expectObservable(status$).toBe('i-c-C-e-r--D-x', {
        i: 'idle|Not connected|false|null|0|0',
        c: 'connecting|Connecting…|false|null|0|2',
        C: 'connected|Connected|true|null|0|4',
        e: 'connected|Connected|true|append failed|0|4',
        r: 'reconnecting|Reconnecting…|false|connection lost|0|8',
        D: 'connected|Connected|true|connection lost|1|11',
        x: 'closed|Closed|false|connection lost|1|13',
      });
    });
  });
});
