/**
 * One request, one typed result: the building block of every single-shot client call, and the
 * client's hottest path (`kv.get`, `kv.put`, settles). Owns the per-call state (`CallRun`: the
 * request in flight, the retry timer, the attempt count); reads the channel, the decoder and the
 * retry policy (`retry.ts`). Rules: cold (nothing is sent before subscribe, each subscription
 * sends again), cancellable (unsubscribing cancels the request or the retry wait), typed errors
 * (`serverErrorFor`), decoder failures as `ProtocolError`.
 */
import { asyncScheduler, Observable, type SchedulerLike, type Subscriber, type Unsubscribable } from 'rxjs';
import type { ReplySink, RequestChannel, RequestSpec } from '../../connection/types.js';
import type { FloEvent } from '../../observability/events.js';
import { describeError } from '../../codec/types.js';
import { fromUtf8 } from '../../protocol/bytes.js';
import { hexOpcode } from '../../protocol/client-opcodes.js';
import { ProtocolError, serverErrorFor } from '../../protocol/errors.js';
import type { ResponseFrame } from '../../protocol/index.js';
import { Status } from '../../protocol/status.js';
import { retryDelayMs, type RetryOptions } from './retry.js';

export interface CallOptions {
  /**
   * What a NOT_FOUND reply means: `'error'` (default) errors with `NotFoundError`; `'null'` emits
   * `null` (for reads such as `kv.get` whose "absent" is a value, not a failure).
   */
  readonly notFound?: 'null' | 'error';
}

/** The client's retry policy as a call applies it (`connect({ retry })`). */
export interface CallRetry {
  readonly policy: Required<RetryOptions>;
  /** Where each retry is reported (`retry` events). */
  readonly emit?: (event: FloEvent) => void;
  /** Scheduler of the backoff waits. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** What a call needs of its channel: `request`, and `submit` when the channel has the fast path. */
export type CallChannel = Pick<RequestChannel, 'request' | 'submit'>;

/**
 * One request, one typed result.
 *
 * Cold (the request is sent on subscribe, once per subscription). An OK reply's payload goes through
 * `decode` and the result is emitted once, then the Observable completes. A non-OK reply errors with
 * the typed error for its status (`serverErrorFor(status, payloadText, opcode)`), except NOT_FOUND
 * with `{ notFound: 'null' }`, which emits `null`. A `decode` that throws errors the Observable with
 * a `ProtocolError` (its own, or one wrapping what it threw, as `cause`). Channel errors (timeout,
 * lost connection, client closed) pass through untouched. With `retry`, failures the policy allows
 * (`mayRetry`) are sent again after a backoff, up to `policy.retries` times.
 */
export function call<T>(
  channel: CallChannel,
  spec: RequestSpec,
  decode: (payload: Uint8Array) => T,
  options: CallOptions & { readonly notFound: 'null' },
  retry?: CallRetry,
): Observable<T | null>;
export function call<T>(
  channel: CallChannel,
  spec: RequestSpec,
  decode: (payload: Uint8Array) => T,
  options?: CallOptions,
  retry?: CallRetry,
): Observable<T>;
export function call<T>(
  channel: CallChannel,
  spec: RequestSpec,
  decode: (payload: Uint8Array) => T,
  options?: CallOptions,
  retry?: CallRetry,
): Observable<T | null> {
  return lazyCall(channel, () => spec, decode, options?.notFound === 'null', retry);
}

/**
 * `call` whose spec is built on subscribe by `build` (so argument errors it throws arrive as the
 * Observable's error and nothing is sent before subscription). `notFoundNull`: NOT_FOUND emits
 * `null` instead of erroring.
 *
 * One `new Observable` per call rather than `defer` → `retry` → `map` over `channel.request`: those
 * are four subscribers per call, and the profile of `kv.get` at 256 in flight showed them as the
 * biggest part of the API layer's cost. `CallRun` is the one object that does their jobs here.
 */
export function lazyCall<T>(
  channel: CallChannel,
  build: () => RequestSpec,
  decode: (payload: Uint8Array) => T,
  notFoundNull: boolean,
  retry?: CallRetry,
): Observable<T | null> {
  return new Observable<T | null>((subscriber) => {
    let spec: RequestSpec;
    try {
      spec = build();
    } catch (e) {
      subscriber.error(e);
      return undefined;
    }
    const run = new CallRun(subscriber, channel, spec, decode, notFoundNull, retry);
    run.send();
    return run;
  });
}

/**
 * One subscription of a call: the reply sink of its current request (`next`/`error`/`complete`
 * from the channel) and its teardown (`unsubscribe`: cancels the request in flight or the retry wait).
 */
class CallRun<T> implements ReplySink, Unsubscribable {
  /** The request in flight, or the retry wait. */
  #pending: Unsubscribable | undefined = undefined;
  #attempts = 0;

  readonly #subscriber: Subscriber<T | null>;
  readonly #channel: CallChannel;
  readonly #spec: RequestSpec;
  readonly #decode: (payload: Uint8Array) => T;
  readonly #notFoundNull: boolean;
  readonly #retry: CallRetry | undefined;

  constructor(
    subscriber: Subscriber<T | null>,
    channel: CallChannel,
    spec: RequestSpec,
    decode: (payload: Uint8Array) => T,
    notFoundNull: boolean,
    retry: CallRetry | undefined,
  ) {
    this.#subscriber = subscriber;
    this.#channel = channel;
    this.#spec = spec;
    this.#decode = decode;
    this.#notFoundNull = notFoundNull;
    this.#retry = retry;
  }

  send(): void {
    const channel = this.#channel;
    const attempt = this.#attempts;
    // A channel without `submit` gets an observer of its own: rxjs may call an observer's methods
    // on a copy of it (its deprecated `useDeprecatedNextContext`), which has none of these #fields.
    const request =
      channel.submit !== undefined
        ? channel.submit(this.#spec, this)
        : channel.request(this.#spec).subscribe({ next: (reply) => this.next(reply), error: (err: unknown) => this.error(err) });
    // A channel that failed at once may have started the retry wait already: keep that one.
    if (this.#attempts === attempt) this.#pending = request;
  }

  next(reply: ResponseFrame): void {
    const subscriber = this.#subscriber;
    if (reply.status !== Status.OK) {
      if (reply.status === Status.NotFound && this.#notFoundNull) {
        subscriber.next(null);
        subscriber.complete();
        return;
      }
      this.error(serverErrorFor(reply.status, fromUtf8(reply.payload), this.#spec.opcode));
      return;
    }
    let value: T;
    try {
      value = decodeReply(reply.payload, this.#decode, this.#spec.opcode);
    } catch (e) {
      this.error(e);
      return;
    }
    subscriber.next(value);
    subscriber.complete();
  }

  error(err: unknown): void {
    const retry = this.#retry;
    if (retry !== undefined && this.#attempts < retry.policy.retries && !this.#subscriber.closed) {
      const delayMs = retryDelayMs(this.#spec, retry.policy, err, this.#attempts + 1, retry.emit);
      if (delayMs !== undefined) {
        this.#attempts++;
        this.#pending = (retry.scheduler ?? asyncScheduler).schedule(() => this.send(), delayMs);
        return;
      }
    }
    this.#subscriber.error(err);
  }

  complete(): void {
    // The reply was handled by `next`.
  }

  unsubscribe(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.unsubscribe();
  }
}

/** Runs a reply decoder, turning anything it throws into a `ProtocolError`. */
export function decodeReply<T>(payload: Uint8Array, decode: (payload: Uint8Array) => T, opcode: number): T {
  try {
    return decode(payload);
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError(`flo: cannot decode the reply to opcode ${hexOpcode(opcode)}: ${describeError(e)}`, {
      cause: e,
    });
  }
}

/** A decoder for replies whose OK payload carries nothing the caller needs. */
export const ignorePayload = (): void => undefined;
