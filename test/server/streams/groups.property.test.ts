// Property: across random appends, group reads, acks, nacks and clock moves with two consumers,
// every appended record is always in exactly one state: undelivered, pending (one owner), acked,
// or dead (dropped after max_deliver deliveries). The server's pending list is checked against a
// model driven only by what the wire tells a client.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as P from '../../../src/protocol/index.js';
import { Op, streamIdToBigInt } from '../../../src/protocol/index.js';
import { append, groupRead, harness, pending } from './helpers.js';

const S = 's';
const G = 'g';
const MAX_DELIVER = 3;
const ACK_TIMEOUT = 1000;
const CONSUMERS = ['c1', 'c2'] as const;

type Cmd =
  | { t: 'append'; n: number }
  | { t: 'read'; c: number; count: number }
  | { t: 'ack'; c: number; picks: number[] }
  | { t: 'nack'; picks: number[]; delay: number | undefined }
  | { t: 'advance'; ms: number };

// Weighted so that records often go through several redeliveries and reach max_deliver.
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ t: fc.constant('append' as const), n: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('read' as const), c: fc.integer({ min: 0, max: 1 }), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ack' as const), c: fc.integer({ min: 0, max: 1 }), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 2 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('nack' as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      delay: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 2500 }) }) },
);

type State =
  | { kind: 'undelivered' }
  | { kind: 'pending'; owner: string; deliveries: number; dueAt: number }
  | { kind: 'acked' }
  | { kind: 'dead' };

/** One record delivered max_deliver times, then dropped. */
const maxDeliverExample: Cmd[] = [
  { t: 'append', n: 1 },
  ...Array.from({ length: MAX_DELIVER }, (): Cmd[] => [
    { t: 'read', c: 0, count: 1 },
    { t: 'advance', ms: ACK_TIMEOUT },
  ]).flat(),
  { t: 'read', c: 1, count: 1 },
];

describe('consumer-group accounting (property)', () => {
  it('every record is exactly one of undelivered, pending (one owner), acked or dead', () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 80, size: 'large' }), (cmds) => {
        const h = harness(Date.UTC(2026, 0, 1));
        h.now(Op.StreamGroupCreate, P.encodeStreamGroupCreate({ stream: S, group: G, ackTimeoutMs: ACK_TIMEOUT, maxDeliver: MAX_DELIVER }));
        const order: bigint[] = [];
        const model = new Map<bigint, State>();
        const pick = (picks: number[]) => picks.filter(() => order.length > 0).map((i) => P.streamIdFromBigInt(order[i % order.length]));

        for (const c of cmds) {
          const before = new Map(model);
          let delivered: bigint[] = [];
          switch (c.t) {
            case 'append':
              for (let i = 0; i < c.n; i++) {
                const k = streamIdToBigInt(append(h, S, `p${order.length}`));
                if (order.length) expect(k > order[order.length - 1]).toBe(true); // ids strictly increase
                order.push(k);
                model.set(k, { kind: 'undelivered' });
              }
              break;
            case 'read': {
              const consumer = CONSUMERS[c.c];
              const recs = groupRead(h, { stream: S, group: G, consumer, count: c.count });
              expect(recs.length).toBeLessThanOrEqual(c.count);
              delivered = recs.map((r) => streamIdToBigInt(r.id));
              expect(new Set(delivered).size).toBe(delivered.length);
              const fresh = delivered.filter((k) => before.get(k)?.kind === 'undelivered');
              // New records come after redeliveries, in id order, and are the oldest undelivered ones.
              const undeliveredBefore = order.filter((k) => before.get(k)?.kind === 'undelivered');
              expect(fresh).toEqual(undeliveredBefore.slice(0, fresh.length));
              expect(delivered.slice(delivered.length - fresh.length)).toEqual(fresh);
              for (const k of delivered) {
                const prev = before.get(k);
                expect(prev, `delivered an unknown id`).toBeDefined();
                expect(['undelivered', 'pending']).toContain(prev!.kind); // never acked or dead records
                const deliveries = prev!.kind === 'pending' ? prev!.deliveries + 1 : 1;
                expect(deliveries).toBeLessThanOrEqual(MAX_DELIVER);
                if (prev!.kind === 'pending') expect(prev!.dueAt).toBeLessThanOrEqual(h.clock.now()); // only due entries come back
                model.set(k, { kind: 'pending', owner: consumer, deliveries, dueAt: h.clock.now() + ACK_TIMEOUT });
              }
              break;
            }
            case 'ack': {
              const list = pick(c.picks);
              if (!list.length) break;
              h.now(Op.StreamGroupAck, P.encodeStreamGroupAck({ stream: S, group: G, consumer: CONSUMERS[c.c], ids: list }));
              for (const id of list) {
                const k = streamIdToBigInt(id);
                if (model.get(k)?.kind === 'pending') model.set(k, { kind: 'acked' });
              }
              break;
            }
            case 'nack': {
              const list = pick(c.picks);
              h.now(Op.StreamGroupNack, P.encodeStreamGroupNack({ stream: S, group: G, ids: list, redeliveryDelayMs: c.delay }));
              for (const id of list) {
                const st = model.get(streamIdToBigInt(id));
                if (st?.kind === 'pending') st.dueAt = h.clock.now() + (c.delay ?? 0);
              }
              break;
            }
            case 'advance':
              h.clock.advance(c.ms);
              break;
          }

          // Entries that left the pending list without an ack were dropped as dead: only after max_deliver.
          const server = pending(h, S, G);
          const serverIds = server.map((e) => streamIdToBigInt(e.id));
          expect(new Set(serverIds).size).toBe(serverIds.length); // one owner each
          for (const [k, st] of model) {
            if (st.kind === 'pending' && !serverIds.includes(k)) {
              expect(c.t).toBe('read');
              expect(delivered).not.toContain(k);
              expect(st.deliveries).toBe(MAX_DELIVER);
              model.set(k, { kind: 'dead' });
            }
          }
          // A read that came back short left nothing due behind.
          if (c.t === 'read' && delivered.length < c.count) {
            for (const st of model.values()) if (st.kind === 'pending') expect(st.dueAt).toBeGreaterThan(h.clock.now());
          }

          // The model's pending set is exactly the server's, with the same owner and delivery count.
          const modelPending = [...model]
            .filter(([, st]) => st.kind === 'pending')
            .map(([k, st]) => [k, (st as { owner: string }).owner, (st as { deliveries: number }).deliveries]);
          expect(server.map((e) => [streamIdToBigInt(e.id), e.consumer, e.deliveryCount])).toEqual(modelPending);

          // Every appended record is in exactly one state; dead ones are the server's dead ones.
          expect(model.size).toBe(order.length);
          const snap = h.sub.store.groupSnapshot('test', S, G)!;
          const dead = [...model].filter(([, st]) => st.kind === 'dead').map(([k]) => k);
          expect([...snap.dead].sort()).toEqual(dead.sort());
          const cursor = snap.cursor;
          for (const [k, st] of model) expect(st.kind === 'undelivered').toBe(k > cursor);
        }
      }),
      { numRuns: 150, examples: [[maxDeliverExample]] },
    );
  });
});
