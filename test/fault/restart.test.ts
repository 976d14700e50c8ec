// Server restarts under load: one client runs a stream tail, a consumer-group worker and a queue
// worker while a second client produces, and the embedded server is restarted (state kept, same
// port) three times in the middle. Nothing may error, stall, skip or be lost.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, from, lastValueFrom, mergeMap, of, tap, toArray, type Subscription } from 'rxjs';
import { ack, settle } from '../../src/operators/index.js';
import { formatStreamId } from '../../src/protocol/index.js';
import type { ConnectionState } from '../../src/connection/types.js';
import { startEmbedded, type Embedded } from '../support/embedded.js';
import { resilient, waitFor } from './support.js';

const N = 300;
/** Restart when the producer has this many items (stream append + enqueue) confirmed. */
const RESTART_AT = [75, 150, 225];
/** Short leases, so that a settle lost with its connection is redelivered quickly. */
const LEASE_MS = 2000;

interface Job {
  readonly i: number;
}

let emb: Embedded | undefined;
const subs: Subscription[] = [];

afterEach(async () => {
  for (const s of subs.splice(0)) s.unsubscribe();
  await emb?.close();
  emb = undefined;
});

/** Number of `from → to` transitions in a sequence of states. */
function transitions(states: readonly ConnectionState[], from: ConnectionState, to: ConnectionState): number {
  let n = 0;
  for (let k = 1; k < states.length; k++) if (states[k - 1] === from && states[k] === to) n++;
  return n;
}

describe('server restart with state kept', () => {
  it('tail, group worker and queue worker carry on across 3 restarts: no gap, no duplicate in the tail, nothing lost', async () => {
    emb = await startEmbedded({ client: { reconnect: { minTimeoutMs: 20, maxTimeoutMs: 500 } } });
    const { server, client: consumer } = emb;
    const producer = emb.newClient();
    const port = server.port;

    // Group with short ack timeout and no delivery limit (nothing may be dropped as dead).
    await firstValueFrom(producer.stream.groupCreate('events', 'g', { ackTimeoutMs: LEASE_MS, maxDeliver: 0 }));
    await firstValueFrom(producer.stream.groupCreate('events', 'g2', { ackTimeoutMs: LEASE_MS, maxDeliver: 0 }));

    const consumerStates: ConnectionState[] = [];
    const producerStates: ConnectionState[] = [];
    subs.push(consumer.state$.subscribe((s) => consumerStates.push(s)));
    subs.push(producer.state$.subscribe((s) => producerStates.push(s)));

    const errors: unknown[] = [];
    const completions: string[] = [];
    const observer = (name: string) => ({
      error: (e: unknown) => errors.push(e),
      complete: () => completions.push(name),
    });

    // 1. tail from the start of the (empty) stream.
    const tailed: string[] = [];
    const tailedIndex: number[] = [];
    subs.push(
      consumer.stream.tail('events', { from: 'start', blockMs: 5000 }).subscribe({
        next: (rec) => {
          tailed.push(formatStreamId(rec.id));
          tailedIndex.push(rec.data<Job>().i);
        },
        ...observer('tail'),
      }),
    );

    // 2. consumer group through settle (acks on success; a failed ack is reported, not thrown).
    const groupHandled = new Map<number, number>(); // index → times handled
    const groupAcked = new Set<number>();
    let groupSettleErrors = 0;
    subs.push(
      consumer.stream
        .group('events', 'g', { consumer: 'c1', batch: 16, maxInFlight: 32, ackTimeoutMs: LEASE_MS, blockMs: 5000 })
        .pipe(
          settle(
            async (rec) => {
              await new Promise((resolve) => setImmediate(resolve));
              const i = rec.data<Job>().i;
              groupHandled.set(i, (groupHandled.get(i) ?? 0) + 1);
              return i;
            },
            { concurrency: 8 },
          ),
        )
        .subscribe({
          next: (r) => {
            if (r.outcome !== 'acked') errors.push(r.error);
            else if (r.settleError !== undefined) groupSettleErrors++;
            else groupAcked.add(r.result!);
          },
          ...observer('group'),
        }),
    );

    // 2b. the same through the plain ack() operator: an ack lost with its connection is sent again
    // once the connection is back (the client's settle resend policy), so the pipeline lives on.
    const ackAcked = new Set<number>();
    subs.push(
      consumer.stream
        .group('events', 'g2', { batch: 16, maxInFlight: 32, ackTimeoutMs: LEASE_MS, blockMs: 5000 })
        .pipe(
          mergeMap((rec) => of(rec), 8),
          ack(),
          tap((rec) => ackAcked.add(rec.data<Job>().i)),
        )
        .subscribe(observer('group via ack()')),
    );

    // 3. queue worker through settle.
    const queueHandled = new Map<number, number>();
    const queueAcked = new Set<number>();
    let queueSettleErrors = 0;
    subs.push(
      consumer.queue
        .messages('jobs', { batch: 16, maxInFlight: 32, visibilityTimeoutMs: LEASE_MS, blockMs: 5000 })
        .pipe(
          settle(
            async (msg) => {
              await new Promise((resolve) => setImmediate(resolve));
              const i = msg.data<Job>().i;
              queueHandled.set(i, (queueHandled.get(i) ?? 0) + 1);
              return i;
            },
            { concurrency: 8 },
          ),
        )
        .subscribe({
          next: (r) => {
            if (r.outcome !== 'acked') errors.push(r.error);
            else if (r.settleError !== undefined) queueSettleErrors++;
            else queueAcked.add(r.result!);
          },
          ...observer('queue'),
        }),
    );

    // Producer: 4 items in flight; each item is one append and one enqueue, retried while the
    // connection is down. Restarts are started (not awaited) as the confirmed count crosses the
    // thresholds, so the producer keeps sending through them.
    const counters = { retried: 0 };
    const appended = new Map<number, string>(); // index → id returned by append
    let confirmed = 0;
    const restarts: Array<Promise<{ tail: number; group: number; queue: number }>> = [];
    const produce = lastValueFrom(
      from(Array.from({ length: N }, (_, i) => i)).pipe(
        mergeMap(async (i) => {
          const id = await resilient(() => producer.stream.append('events', { i }), counters);
          appended.set(i, formatStreamId(id));
          await resilient(() => producer.queue.enqueue('jobs', { i }), counters);
          confirmed++;
          if (RESTART_AT.includes(confirmed)) {
            const chained = (restarts.at(-1) ?? Promise.resolve()).then(async () => {
              // Each restart hits connected clients: one that starts while they are still
              // reconnecting from the previous one would merge two outages into one.
              await waitFor(
                () => consumerStates.at(-1) === 'connected' && producerStates.at(-1) === 'connected',
                () => `both clients connected again (consumer ${consumerStates.at(-1)}, producer ${producerStates.at(-1)})`,
              );
              await server.restart();
              return { tail: tailed.length, group: groupAcked.size, queue: queueAcked.size };
            });
            restarts.push(chained);
          }
        }, 4),
        toArray(),
      ),
    );

    await produce;
    expect(restarts).toHaveLength(RESTART_AT.length);
    // Every restart came back, on the same port, and the consumers kept emitting after each one.
    for (const [k, restarted] of restarts.entries()) {
      const at = await restarted;
      await waitFor(
        () => tailed.length > at.tail && groupAcked.size > at.group && queueAcked.size > at.queue,
        () => `progress after restart #${k + 1} (at ${JSON.stringify(at)}; now tail ${tailed.length}, group ${groupAcked.size}, queue ${queueAcked.size}; errors ${errors.length})`,
      );
    }
    expect(server.port).toBe(port);

    // Everything produced is eventually consumed (a settle lost with its connection comes back after LEASE_MS).
    await waitFor(
      () => tailed.length >= appended.size && groupAcked.size === N && queueAcked.size === N,
      () => `the end (tail ${tailed.length}/${appended.size}, group acked ${groupAcked.size}/${N}, queue acked ${queueAcked.size}/${N}, errors ${errors.length})`,
    );

    // The whole stream as stored, read afresh: the tail saw exactly this, in this order.
    const stored = await lastValueFrom(consumer.stream.read('events', { pageSize: 1000 }).pipe(toArray()));
    const storedIds = stored.map((r) => formatStreamId(r.id));
    // Give the tail the time to emit anything extra (a duplicate would show up here).
    const tailGapCheck = await lastValueFrom(producer.stream.append('events', { i: -1 }));
    await waitFor(() => tailed.at(-1) === formatStreamId(tailGapCheck), () => `the tail to reach the sentinel (${tailed.length} emitted)`);
    expect(tailed.slice(0, -1)).toEqual(storedIds);
    expect(new Set(tailed).size).toBe(tailed.length);
    // Every id the producer was given is in the stream (a retried append may have added a second copy).
    const appendedIds = [...appended.values()];
    expect(appendedIds.every((id) => storedIds.includes(id))).toBe(true);
    const duplicateAppends = stored.length - N;
    const tailIndexes = new Set(tailedIndex.filter((i) => i >= 0));
    expect(tailIndexes.size).toBe(N);

    // Nothing lost: every index handled and acked; nothing left pending, leased or dead on the server.
    for (let i = 0; i < N; i++) {
      expect(groupAcked.has(i), `group index ${i}`).toBe(true);
      expect(queueAcked.has(i), `queue index ${i}`).toBe(true);
    }
    const info = await firstValueFrom(consumer.stream.groupInfo('events', 'g'));
    const stats = await firstValueFrom(consumer.queue.stats('jobs'));
    const dlq = await firstValueFrom(consumer.queue.dlq.stats('jobs'));
    expect({ pending: info.pendingCount, ready: stats.ready, leased: stats.leased, dlq: dlq.current }).toEqual({
      pending: 0n,
      ready: 0n,
      leased: 0n,
      dlq: 0n,
    });

    // The Observables never errored nor completed; handlers never failed.
    expect(errors).toEqual([]);
    expect(completions).toEqual([]);

    // Both clients saw each restart: connected → reconnecting → connected, three times.
    expect(transitions(consumerStates, 'connected', 'reconnecting')).toBe(RESTART_AT.length);
    expect(transitions(consumerStates, 'reconnecting', 'connected')).toBe(RESTART_AT.length);
    expect(consumerStates.at(-1)).toBe('connected');
    expect(transitions(producerStates, 'reconnecting', 'connected')).toBe(RESTART_AT.length);

    const dup = (m: Map<number, number>) => [...m.values()].reduce((a, n) => a + n - 1, 0);
    console.log(
      `[restart] ${RESTART_AT.length} restarts, N=${N}: producer retries ${counters.retried}, duplicate appends ${duplicateAppends}; ` +
        `tail ${tailed.length - 1} records, 0 gaps, 0 duplicates; ` +
        `group: ${dup(groupHandled)} redeliveries, ${groupSettleErrors} acks lost with a connection; ` +
        `group via ack(): no pipeline error; ` +
        `queue: ${dup(queueHandled)} redeliveries, ${queueSettleErrors} acks lost with a connection, ` +
        `${stats.enqueued} enqueued (dedup-free retries may add copies), ${stats.leasesExpired} leases expired`,
    );
  }, 90_000);
});
