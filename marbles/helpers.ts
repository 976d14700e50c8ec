/**
 * Shared fixtures for marble tests: a TestScheduler wired to vitest, a scriptable fake
 * RequestChannel, replies, and a recording Settler.
 */
import { expect } from 'vitest';
import { NEVER, Observable, ReplaySubject, Subject, of, type Observable as Obs } from 'rxjs';
import { FloClient } from '../src/client/client.js';
import { project } from '../src/projection/project.js';
import { TestScheduler } from 'rxjs/testing';
import type { ConnectionState, RequestChannel, RequestSpec } from '../src/connection/types.js';
import type { ResponseFrame } from '../src/protocol/index.js';
import { Status } from '../src/protocol/status.js';
import type { NackOptions, Settler, TouchOptions } from '../src/client/core/settler.js';

export function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const enc = new TextEncoder();

export function reply(status: number, payload: Uint8Array | string = new Uint8Array(0)): ResponseFrame {
  return { requestId: 1n, status, flags: 0, payload: typeof payload === 'string' ? enc.encode(payload) : payload };
}
export const ok = (payload: Uint8Array | string = new Uint8Array(0)): ResponseFrame => reply(Status.OK, payload);

export interface FakeChannel extends RequestChannel {
  /** Every request subscribed, with the virtual frame it was sent at. */
  readonly sent: { spec: RequestSpec; at: number }[];
  readonly stateSubject: ReplaySubject<ConnectionState>;
  readonly reconnectedSubject: Subject<void>;
}

/**
 * A RequestChannel whose `request(spec)` returns what `script(spec, index)` returns (typically a
 * cold observable from the test, so its subscription marbles show when the request started and
 * stopped). `state$` replays the current state (initially 'connected'); drive it and
 * `reconnected$` with hot observables via `drive`.
 */
export function fakeChannel(
  scheduler: TestScheduler,
  script: (spec: RequestSpec, index: number) => Obs<ResponseFrame>,
): FakeChannel {
  const sent: { spec: RequestSpec; at: number }[] = [];
  const stateSubject = new ReplaySubject<ConnectionState>(1);
  stateSubject.next('connected');
  const reconnectedSubject = new Subject<void>();
  return {
    sent,
    stateSubject,
    reconnectedSubject,
    state$: stateSubject.asObservable(),
    reconnected$: reconnectedSubject.asObservable(),
    request(spec) {
      return new Observable<ResponseFrame>((subscriber) => {
        const index = sent.length;
        sent.push({ spec, at: scheduler.now() });
        return script(spec, index).subscribe(subscriber);
      });
    },
  };
}

/** Feeds a hot marble of states and one of reconnections into a fake channel. */
export function drive(
  channel: FakeChannel,
  states?: Obs<ConnectionState>,
  reconnections?: Obs<unknown>,
): void {
  states?.subscribe((s) => channel.stateSubject.next(s));
  reconnections?.subscribe(() => channel.reconnectedSubject.next());
}

export interface SettleCall {
  op: 'ack' | 'nack' | 'touch';
  ids: unknown[];
  options?: NackOptions | TouchOptions;
  at: number;
}

/** A Settler that records each request and answers with `answer(op)` (default: done one frame later). */
export function recordingSettler<Id = number>(
  scheduler: TestScheduler,
  answer: (op: SettleCall['op'], ids: readonly Id[]) => Obs<unknown>,
  maxBatch?: number,
): Settler<Id> & { calls: SettleCall[] } {
  const calls: SettleCall[] = [];
  const record = (op: SettleCall['op'], ids: readonly Id[], options?: NackOptions | TouchOptions) =>
    new Observable<unknown>((subscriber) => {
      calls.push({ op, ids: [...ids], ...(options !== undefined ? { options } : {}), at: scheduler.now() });
      return answer(op, ids).subscribe(subscriber);
    });
  return {
    calls,
    ...(maxBatch !== undefined ? { maxBatch } : {}),
    ack: (ids) => record('ack', ids),
    nack: (ids, options) => record('nack', ids, options),
    touch: (ids, options) => record('touch', ids, options),
  };
}

/**
 * Loads, for real, the client code that otherwise loads at the first subscription (a dynamic
 * import: the rarer KV calls, the queue calls, the stream calls), which virtual time cannot wait
 * for. Call it in `beforeAll` of a marble test of those calls.
 */
export async function loadOnDemandCode(): Promise<void> {
  let sent = 0;
  const flo = new FloClient({ state$: of('connected' as const), reconnected$: NEVER, request: () => (sent++, NEVER) });
  const calls: Obs<unknown>[] = [flo.kv.history('warm-up'), flo.queue.stats('warm-up'), flo.stream.info('warm-up')];
  const subs = calls.map((o) => o.subscribe());
  for (let i = 0; i < 1000 && sent < subs.length; i++) await new Promise((r) => setTimeout(r, 1));
  for (const sub of subs) sub.unsubscribe();
  expect(sent).toBe(subs.length);
}

/**
 * Loads, for real, the fold of `project()` (it loads at the first subscription, with the stream
 * calls), which virtual time cannot wait for. Call it in `beforeAll` of a marble test of `project()`.
 */
export async function loadProjectionCode(): Promise<void> {
  const reads: string[] = [];
  const flo = { state$: NEVER, stream: { read: (s: string) => (reads.push(s), NEVER), tail: () => NEVER, info: () => NEVER } };
  const sub = project(flo, 'warm-up', { reducer: (n: number) => n, initial: 0 }).subscribe();
  await import('../src/client/on-demand-modules.js');
  for (let i = 0; i < 1000 && reads.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
  sub.unsubscribe();
  expect(reads).toEqual(['warm-up']);
}
