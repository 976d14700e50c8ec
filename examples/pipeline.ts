/**
 * A pipeline, the flo-rx way: stream → consumer group → transform → queue → worker.
 *
 *   signups ──append──▶ stream "signups" ──group "welcomer"──▶ mergeMap(enqueue email, 4) ──▶ ack()
 *                                                                        │
 *                                   queue "emails" ◀─────────────────────┘
 *                                         └──messages()──▶ settle(send, { concurrency: 4 })
 *
 * Both stages are cold Observables over one connection, run side by side with `merge`. Neither
 * buffers: a leasing source (`stream.group`, `queue.messages`) holds at most `maxInFlight`
 * unsettled items and asks the server for more only as items are settled, and `mergeMap(fn, 4)`
 * (which `settle` is) works on at most 4 at once. So a slow stage slows the reads of its source,
 * and memory stays flat however many events are waiting on the server.
 *
 *   npx tsx examples/pipeline.ts                 # starts an embedded server in-process
 *   FLO_ADDR=localhost:9000 npx tsx examples/pipeline.ts
 */
import { concatMap, filter, firstValueFrom, from, ignoreElements, lastValueFrom, map, merge, mergeMap, take, timer, toArray } from 'rxjs';
import { ack, settle, type GroupRecord, type QueueMessage } from '../src/node.js';
import { runIfMain, withFlo } from './support.js';

interface Signup {
  readonly user: string;
  readonly plan: 'free' | 'pro';
}

interface Email {
  readonly to: string;
  readonly subject: string;
}

export interface ExampleResult {
  /** Signup events appended to the stream. */
  readonly appended: number;
  /** Recipients of the emails sent, in the order they were sent. */
  readonly sent: string[];
}

const USERS = ['ada', 'grace', 'linus', 'barbara', 'ken', 'margaret', 'dennis', 'frances', 'alan', 'radia', 'edsger', 'donald'];

export async function main(log: (line: string) => void = console.log): Promise<ExampleResult> {
  return withFlo({ log }, async (flo) => {
    // 1. Produce: one append per signup, in order (concatMap), each with headers.
    const signups: Signup[] = USERS.map((user, i) => ({ user, plan: i % 3 === 0 ? 'pro' : 'free' }));
    await lastValueFrom(
      from(signups).pipe(
        concatMap((s) => flo.stream.append('signups', s, { headers: { source: 'signup-form', plan: s.plan } })),
        toArray(),
      ),
    );
    log(`appended ${signups.length} signups to stream "signups"`);

    // 2. Transform: the group leases records (at most 4 unsettled); for each one, mergeMap runs at
    //    most 4 enqueues at once, then ack() settles the record. (An enqueue that fails errors this
    //    stage, and its record, not acked, is redelivered to the group: at-least-once. The dedup
    //    key makes the redelivered enqueue a no-op.)
    const welcomer$ = flo.stream.group('signups', 'welcomer', { consumer: 'welcomer-1', maxInFlight: 4, blockMs: 500 }).pipe(
      mergeMap((rec: GroupRecord) => {
        const signup = rec.data<Signup>();
        const email: Email = {
          to: signup.user,
          subject: signup.plan === 'pro' ? 'Welcome to Pro: your onboarding call' : 'Welcome aboard',
        };
        const priority = rec.headers['plan'] === 'pro' ? 0 : 10; // pro users' emails are dequeued first
        return flo.queue.enqueue('emails', email, { priority, dedupKey: `welcome:${signup.user}` }).pipe(map(() => rec));
      }, 4),
      ack(),
    );

    // 3. Work: the queue source leases at most 4 emails; settle() sends 4 at a time, acks each one
    //    sent, nacks (redelivers) any that throws. A slow `send` means fewer dequeues, not a bigger buffer.
    const send = async (msg: QueueMessage): Promise<string> => {
      const email = msg.data<Email>();
      await firstValueFrom(timer(5)); // "talk to the mail server"
      log(`  ✉ ${email.to.padEnd(9)} ${email.subject}`);
      return email.to;
    };
    const sent$ = flo.queue.messages('emails', { maxInFlight: 4, blockMs: 500 }).pipe(settle(send, { concurrency: 4 }));

    // Run both stages side by side until every signup got its email: `take` then unsubscribes
    // both (the group consumer leaves the group, the parked long-polls are cancelled).
    const sent = await lastValueFrom(
      merge(
        welcomer$.pipe(ignoreElements()),
        sent$.pipe(
          filter((r) => r.outcome === 'acked'),
          map((r) => r.result!),
        ),
      ).pipe(take(signups.length), toArray()),
    );
    log(`sent ${sent.length} welcome emails for ${signups.length} signups`);
    return { appended: signups.length, sent };
  });
}

runIfMain(import.meta.url, main);
