// Property: for random sequences of KV, queue, stream and processing-job operations (with clock moves, turn
// boundaries and compactions in between), the state read back after a stop and a start on the same
// data directory (snapshot + replay) equals the state before the stop. Restarts happen in the middle of
// the sequence too, so that a change that was not announced shows up at the next one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/server/clock.js';
import { utf8 } from '../../../src/protocol/index.js';
import { parseProcessingDefinition } from '../../../src/server/processing/index.js';
import { nextTurn, openStores, tempDir, type Stores } from './fixtures.js';

const NS = 'p';
const KEYS = ['a', 'b', 'c'];
const QUEUES = ['q1', 'q2'];
const STREAM = 's';
const GROUPS = ['g1', 'g2'];
// Processing jobs read STREAM: one copies it to a stream and counts into KV, one aggregates per window.
const JOBS = [
  `kind: Processing\nname: copy\nsources:\n  - stream: { name: ${STREAM}, batch_size: 2, poll_interval_ms: 300 }\nsinks:\n  - stream: { name: out }\n  - kv: { key_prefix: "seen" }\n`,
  `kind: Processing\nname: agg\nsources:\n  - stream: { name: ${STREAM}, poll_interval_ms: 500 }\noperators:\n  - type: aggregate\n    function: count\nsinks:\n  - stream: { name: counts }\n`,
];

type Op =
  | { t: 'put'; k: number; v: number; ttl: number }
  | { t: 'del'; k: number }
  | { t: 'incr'; k: number }
  | { t: 'enqueue'; q: number; delay: number; prio: number; dedup: number }
  | { t: 'dequeue'; q: number; n: number; vis: number }
  | { t: 'ack'; q: number; seq: number }
  | { t: 'nack'; q: number; seq: number; dlq: boolean }
  | { t: 'requeue'; q: number; seq: number }
  | { t: 'append'; n: number }
  | { t: 'trim'; keep: number }
  | { t: 'gread'; g: number; n: number }
  | { t: 'gack'; g: number; pick: number }
  | { t: 'gnack'; g: number; pick: number; delay: number }
  | { t: 'psubmit'; j: number }
  | { t: 'pstop' | 'pcancel' | 'psavepoint'; pick: number }
  | { t: 'prestore'; pick: number; sp: number }
  | { t: 'prescale'; pick: number; n: number }
  | { t: 'advance'; ms: number }
  | { t: 'turn' }
  | { t: 'compact' }
  | { t: 'restart' };

const small = (max: number) => fc.integer({ min: 0, max });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('put' as const), k: small(2), v: small(99), ttl: fc.constantFrom(0, 0, 1, 5) }),
  fc.record({ t: fc.constant('del' as const), k: small(2) }),
  fc.record({ t: fc.constant('incr' as const), k: small(2) }),
  fc.record({ t: fc.constant('enqueue' as const), q: small(1), delay: fc.constantFrom(0, 0, 500), prio: small(2), dedup: small(3) }),
  fc.record({ t: fc.constant('dequeue' as const), q: small(1), n: fc.integer({ min: 1, max: 3 }), vis: fc.constantFrom(300, 1000) }),
  fc.record({ t: fc.constant('ack' as const), q: small(1), seq: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ t: fc.constant('nack' as const), q: small(1), seq: fc.integer({ min: 1, max: 12 }), dlq: fc.boolean() }),
  fc.record({ t: fc.constant('requeue' as const), q: small(1), seq: fc.integer({ min: 1, max: 12 }) }),
  { arbitrary: fc.record({ t: fc.constant('append' as const), n: fc.integer({ min: 1, max: 3 }) }), weight: 3 },
  fc.record({ t: fc.constant('trim' as const), keep: small(6) }),
  fc.record({ t: fc.constant('gread' as const), g: small(1), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ t: fc.constant('gack' as const), g: small(1), pick: small(5) }),
  fc.record({ t: fc.constant('gnack' as const), g: small(1), pick: small(5), delay: fc.constantFrom(0, 200) }),
  // Weighted up: a job must exist, records arrive and the clock move past a poll before a restart.
  { arbitrary: fc.record({ t: fc.constant('psubmit' as const), j: small(1) }), weight: 4 },
  fc.record({ t: fc.constantFrom('pstop' as const, 'pcancel' as const, 'psavepoint' as const), pick: small(3) }),
  fc.record({ t: fc.constant('prestore' as const), pick: small(3), sp: small(3) }),
  fc.record({ t: fc.constant('prescale' as const), pick: small(3), n: fc.integer({ min: 1, max: 4 }) }),
  { arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.constantFrom(100, 400, 1200, 6000) }), weight: 3 },
  fc.constant({ t: 'turn' as const }),
  fc.constant({ t: 'compact' as const }),
  fc.constant({ t: 'restart' as const }),
);

function quiet(fn: () => void): void {
  try {
    fn();
  } catch {
    // a refused operation (not found, conflict, bad request) changes nothing: fine here
  }
}

async function apply(s: Stores, clock: ManualClock, o: Op): Promise<void> {
  const key = (k: number) => utf8(KEYS[k]);
  switch (o.t) {
    case 'put':
      return quiet(() => void s.kv.put(NS, key(o.k), utf8(`v${o.v}`), o.ttl ? { ttlSeconds: BigInt(o.ttl) } : {}));
    case 'del':
      return quiet(() => s.kv.delete(NS, key(o.k)));
    case 'incr':
      return quiet(() => void s.kv.incr(NS, utf8(`n${o.k}`), 2n));
    case 'enqueue':
      return quiet(() => void s.queues.enqueue(NS, QUEUES[o.q], utf8(`m`), { delayMs: o.delay, priority: o.prio, ...(o.dedup ? { dedupKey: utf8(`d${o.dedup}`) } : {}) }));
    case 'dequeue':
      return quiet(() => void s.queues.dequeue(NS, QUEUES[o.q], o.n, o.vis));
    case 'ack':
      return quiet(() => void s.queues.ack(NS, QUEUES[o.q], [BigInt(o.seq)]));
    case 'nack':
      return quiet(() => void s.queues.nack(NS, QUEUES[o.q], [BigInt(o.seq)], o.dlq));
    case 'requeue':
      return quiet(() => void s.queues.dlqRequeue(NS, QUEUES[o.q], [BigInt(o.seq)]));
    case 'append':
      return quiet(() => void s.streams.append(NS, STREAM, Array.from({ length: o.n }, (_, i) => ({ payload: utf8(`r${i}`), headers: [['h', `${i}`]] as const })) as never, 0));
    case 'trim':
      return quiet(() => void s.streams.trim(NS, STREAM, { maxLen: BigInt(o.keep) }, false));
    case 'gread':
      return quiet(() => void s.streams.groupRead(NS, STREAM, GROUPS[o.g], `c${o.g}`, o.n));
    case 'gack':
    case 'gnack': {
      const snap = s.streams.groupSnapshot(NS, STREAM, GROUPS[o.g]);
      const entry = snap?.pending[o.pick % Math.max(1, snap.pending.length)];
      if (!entry) return;
      const id = { timestampMs: entry.key >> 64n, sequence: entry.key & 0xffffffffffffffffn };
      if (o.t === 'gack') return quiet(() => void s.streams.groupAck(NS, STREAM, GROUPS[o.g], [id]));
      return quiet(() => void s.streams.groupNack(NS, STREAM, GROUPS[o.g], [id], o.delay));
    }
    case 'psubmit':
      return quiet(() => void s.processing.submit(NS, JOBS[o.j], parseProcessingDefinition(JOBS[o.j], NS), clock.now()));
    case 'pstop':
    case 'pcancel':
    case 'psavepoint':
    case 'prestore':
    case 'prescale': {
      const jobs = s.processing.list(NS);
      const job = jobs[o.pick % Math.max(1, jobs.length)];
      if (!job) return;
      if (o.t === 'pstop') return quiet(() => s.processing.stop(job, clock.now()));
      if (o.t === 'pcancel') return quiet(() => s.processing.cancel(job, clock.now()));
      if (o.t === 'psavepoint') return quiet(() => void s.processing.savepoint(job, clock.now()));
      if (o.t === 'prescale') return quiet(() => s.processing.rescale(job, o.n));
      if (o.t !== 'prestore') return;
      const sps = s.processing.snapshot().savepoints.filter((sp) => sp.jobId === job.id);
      const sp = sps[o.sp % Math.max(1, sps.length)];
      return quiet(() => sp && s.processing.restoreFrom(job, sp));
    }
    case 'advance':
      clock.advance(o.ms);
      return;
    case 'turn':
      await nextTurn();
      return;
    case 'compact':
      await s.storage.compact();
      return;
    case 'restart':
      return; // done by the property itself
  }
}

/** Everything a client could observe of the stores (plus queue and group internals). */
function observe(s: Stores) {
  const kv = [...KEYS, 'n0', 'n1', 'n2'].map((k) => ({
    k,
    history: s.kv.history(NS, utf8(k)),
    ttl: s.kv.ttlRemainingMs(NS, utf8(k)),
  }));
  const queues = QUEUES.map((q) => ({
    stats: s.queues.stats(NS, q),
    states: Array.from({ length: 40 }, (_, i) => [s.queues.stateOf(NS, q, BigInt(i + 1)), s.queues.attemptsOf(NS, q, BigInt(i + 1))]),
    next: s.queues.peek(NS, q, 100).map((m) => m.seq),
    dlq: s.queues.dlqList(NS, q, 100).map((m) => [m.seq, m.deliveryCount]),
  }));
  const stream = {
    info: s.streams.info(NS, STREAM),
    records: s.streams.read(NS, STREAM, { from: 0n, count: 10_000 }).map((r) => [r.key, r.partition, Buffer.from(r.payload).toString(), r.headers]),
    groups: GROUPS.map((g) => s.streams.groupSnapshot(NS, STREAM, g)),
  };
  const { jobs, ...processing } = s.processing.snapshot();
  const outputs = ['out', 'counts'].map((name) => s.streams.read(NS, name, { from: 0n, count: 10_000 }).map((r) => [r.key, Buffer.from(r.payload).toString()]));
  const seen = s.kv.scan(NS, utf8('seen'), 1000, undefined, false).entries.map((e) => [Buffer.from(e.key).toString(), Buffer.from(e.value).toString()]);
  return { kv, queues, stream, processing: { ...processing, jobs: jobs.map(({ definition: _d, ...j }) => j) }, outputs, seen };
}

describe('snapshot + replay', () => {
  it('restores exactly the state before the stop', async () => {
    await fc.assert(
      // Each op may end its turn (a commit): a change not announced shows only when it is alone in its turn.
      fc.asyncProperty(fc.array(fc.tuple(op, fc.boolean()), { minLength: 1, maxLength: 60 }), fc.boolean(), async (ops, tinyCompaction) => {
        const dir = tempDir();
        const opts = tinyCompaction ? { compactAfterBytes: 256 } : {};
        let clock = new ManualClock();
        let stores = openStores(dir, clock, opts);
        const restart = async () => {
          const expected = observe(stores);
          await stores.close();
          clock = new ManualClock(clock.now());
          stores = openStores(dir, clock, opts);
          expect(observe(stores)).toEqual(expected);
        };
        try {
          for (const [o, endTurn] of ops) {
            if (o.t === 'restart') await restart();
            else await apply(stores, clock, o);
            if (endTurn) await nextTurn();
          }
          await restart();
        } finally {
          await stores.close();
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
