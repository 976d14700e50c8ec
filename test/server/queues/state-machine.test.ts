/**
 * Property test of the queue state machine, through the wire handlers: random sequences of
 * enqueue / dequeue / ack / nack / nack-to-DLQ / touch / DLQ requeue / clock advances, checked
 * after every step against a small reference model and against the invariant that every enqueued
 * message is in exactly one of ready (incl. delayed), leased, acked or DLQ: never lost, never in two.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Harness, seqsOf } from './helpers.js';

type State = 'ready' | 'delayed' | 'leased' | 'dlq' | 'acked';

interface ModelMsg {
  seq: bigint;
  priority: number;
  state: State;
  attempts: number;
  visibleAt: number;
  leaseMs: number;
  leaseEnd: number;
}

/** Small, so that dead-lettering by repeated failure happens often in short runs (default 5: see the second test). */
const MAX_ATTEMPTS = 2;
const DEFAULT_VIS = 30_000;

/** The queue lifecycle rules (header of src/server/queues/store.ts), written as plainly as possible. */
class Model {
  readonly msgs: ModelMsg[] = [];
  /** Order of arrival in the DLQ. */
  dlqOrder: bigint[] = [];

  constructor(private readonly now: () => number) {}

  private toDlq(m: ModelMsg) {
    m.state = 'dlq';
    this.dlqOrder.push(m.seq);
  }

  private fail(m: ModelMsg) {
    if (m.attempts >= MAX_ATTEMPTS) this.toDlq(m);
    else m.state = 'ready';
  }

  /** Applies what came due, in time order (the server does it at each instant). */
  refresh() {
    const now = this.now();
    for (const m of this.msgs) if (m.state === 'delayed' && m.visibleAt <= now) m.state = 'ready';
    const expired = this.msgs.filter((m) => m.state === 'leased' && m.leaseEnd <= now).sort((a, b) => a.leaseEnd - b.leaseEnd || Number(a.seq - b.seq));
    for (const m of expired) this.fail(m);
  }

  ready(): ModelMsg[] {
    return this.msgs.filter((m) => m.state === 'ready').sort((a, b) => a.priority - b.priority || Number(a.seq - b.seq));
  }

  get(seq: bigint) {
    return this.msgs.find((m) => m.seq === seq);
  }

  enqueue(priority: number, delay: number): void {
    this.refresh();
    const seq = BigInt(this.msgs.length + 1);
    this.msgs.push({ seq, priority, state: delay > 0 ? 'delayed' : 'ready', attempts: 0, visibleAt: this.now() + delay, leaseMs: 0, leaseEnd: 0 });
  }

  dequeue(count: number, vis: number): bigint[] {
    this.refresh();
    const got = this.ready().slice(0, count);
    for (const m of got) {
      m.state = 'leased';
      m.attempts++;
      m.leaseMs = vis || DEFAULT_VIS;
      m.leaseEnd = this.now() + m.leaseMs;
    }
    return got.map((m) => m.seq);
  }

  ack(seqs: bigint[]) {
    this.refresh();
    for (const s of seqs) {
      const m = this.get(s);
      if (m && (m.state === 'ready' || m.state === 'delayed' || m.state === 'leased')) m.state = 'acked';
    }
  }

  nack(seqs: bigint[], toDlq: boolean) {
    this.refresh();
    for (const s of seqs) {
      const m = this.get(s);
      if (!m || m.state !== 'leased') continue;
      if (toDlq) this.toDlq(m);
      else this.fail(m);
    }
  }

  touch(seqs: bigint[]) {
    this.refresh();
    for (const s of seqs) {
      const m = this.get(s);
      if (m && m.state === 'leased') m.leaseEnd = this.now() + m.leaseMs;
    }
  }

  requeue(seqs: bigint[]) {
    this.refresh();
    for (const s of seqs) {
      const m = this.get(s);
      if (!m || m.state !== 'dlq') continue;
      m.state = 'ready';
      m.attempts = 0;
      this.dlqOrder = this.dlqOrder.filter((x) => x !== s);
    }
  }
}

type Cmd =
  | { op: 'enqueue'; priority: number; delay: number }
  | { op: 'dequeue'; count: number; vis: number }
  | { op: 'ack' | 'nack' | 'nackDlq' | 'touch' | 'requeue'; picks: number[] }
  | { op: 'advance'; ms: number };

// Mostly small numbers (seqs that exist), sometimes one that does not.
const picks = fc.array(fc.oneof({ weight: 9, arbitrary: fc.nat({ max: 4 }) }, { weight: 1, arbitrary: fc.nat({ max: 60 }) }), { minLength: 1, maxLength: 4 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('enqueue' as const), priority: fc.integer({ min: 0, max: 3 }), delay: fc.constantFrom(0, 0, 0, 500, 20_000) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('dequeue' as const), count: fc.constantFrom(0, 1, 1, 2, 4), vis: fc.constantFrom(0, 1_000, 1_000, 5_000) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ack' as const), picks }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('nack' as const), picks }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('nackDlq' as const), picks }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('touch' as const), picks }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('requeue' as const), picks }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 499, 500, 1_000, 1_000, 4_999, 5_000, 30_000) }) },
);

async function run(cmds: Cmd[]): Promise<void> {
  const h = new Harness('prop', { maxAttempts: MAX_ATTEMPTS });
  const model = new Model(() => h.clock.now());
  const Q = 'q';
  // Picks may name seqs that never existed (ignored by the server).
  const pickSeqs = (p: number[]) => p.map((i) => BigInt(i + 1));

  for (const c of cmds) {
    switch (c.op) {
      case 'enqueue': {
        const seq = await h.enqueue(Q, `m${model.msgs.length + 1}`, { priority: c.priority, delayMs: c.delay ? BigInt(c.delay) : undefined });
        model.enqueue(c.priority, c.delay);
        expect(seq).toBe(BigInt(model.msgs.length));
        break;
      }
      case 'dequeue': {
        const got = seqsOf(await h.dequeue(Q, c.count, { visibilityTimeoutMs: c.vis }));
        expect(got).toEqual(model.dequeue(c.count, c.vis));
        break;
      }
      case 'ack':
        await h.ack(Q, pickSeqs(c.picks));
        model.ack(pickSeqs(c.picks));
        break;
      case 'nack':
      case 'nackDlq':
        await h.nack(Q, pickSeqs(c.picks), c.op === 'nackDlq');
        model.nack(pickSeqs(c.picks), c.op === 'nackDlq');
        break;
      case 'touch':
        await h.touch(Q, pickSeqs(c.picks));
        model.touch(pickSeqs(c.picks));
        break;
      case 'requeue':
        await h.dlqRequeue(Q, pickSeqs(c.picks));
        model.requeue(pickSeqs(c.picks));
        break;
      case 'advance':
        h.clock.advance(c.ms);
        break;
    }
    await check(h, model);
  }
}

async function check(h: Harness, model: Model): Promise<void> {
  model.refresh();
  const all = model.msgs.map((m) => m.seq);
  // What the server shows on the wire.
  const peeked = seqsOf(await h.peek('q', 100));
  const dlq = seqsOf(await h.dlqList('q', 1000));
  const stats = await h.stats('q');
  // Per message, the single state the store reports (undefined = acked).
  const states = new Map(all.map((s) => [s, h.store.stateOf('prop', 'q', s) ?? 'acked']));

  // 1. The store agrees with the model, message by message.
  for (const m of model.msgs) expect([m.seq, states.get(m.seq)]).toEqual([m.seq, m.state]);
  // 2. The wire views agree with those states and with the model's order.
  expect(peeked).toEqual(model.ready().map((m) => m.seq));
  expect(dlq).toEqual(model.dlqOrder);
  // 3. Exactly one state each: the wire views are disjoint, and with leased, delayed and acked
  //    they cover every enqueued message once.
  const leased = all.filter((s) => states.get(s) === 'leased');
  const delayed = all.filter((s) => states.get(s) === 'delayed');
  const acked = all.filter((s) => states.get(s) === 'acked');
  const union = [...peeked, ...delayed, ...leased, ...dlq, ...acked].sort((a, b) => Number(a - b));
  expect(union).toEqual(all);
  // 4. The counters add up.
  expect(stats.ready).toBe(BigInt(peeked.length));
  expect(stats.leased).toBe(BigInt(leased.length));
  expect(stats.dlqCurrent).toBe(BigInt(dlq.length));
  expect(stats.enqueued).toBe(BigInt(all.length));
  expect(stats.acked).toBe(BigInt(acked.length));
  // 5. Attempts follow the model (reset by requeue, one per delivery).
  for (const m of model.msgs) if (m.state !== 'acked') expect([m.seq, h.store.attemptsOf('prop', 'q', m.seq)]).toEqual([m.seq, m.attempts]);
}

describe('queue state machine (property)', () => {
  it('never loses a message and never holds one in two states', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 80 }), (cmds) => run(cmds)),
      { numRuns: 300 },
    );
  });

  it('a message that always fails reaches the DLQ after exactly 5 deliveries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), async (byExpiry) => {
        const h = new Harness('prop');
        const seq = await h.enqueue('q', 'x');
        for (const expire of byExpiry) {
          expect(h.store.stateOf('prop', 'q', seq)).toBe('ready');
          await h.dequeue('q', 1, { visibilityTimeoutMs: 100 });
          if (expire) h.clock.advance(100);
          else await h.nack('q', [seq]);
        }
        expect(h.store.stateOf('prop', 'q', seq)).toBe('dlq');
        expect(seqsOf(await h.dlqList('q'))).toEqual([seq]);
      }),
      { numRuns: 32 },
    );
  });
});
