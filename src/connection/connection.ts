/**
 * One multiplexed connection to a Flo server: request ids, reply routing, deadlines, reconnect with
 * backoff, and the connection state as an Observable. The write path (slabs, one send per tick)
 * is `outbox.ts`; the books of pending and abandoned requests are `pending.ts`; deadlines are
 * `deadlines.ts`. The phase is one field (`Phase`, drawn below), changed only by `enter()`.
 *
 * Life of a request: `request(spec)` returns a cold Observable; each subscription takes the next id,
 * encodes its frame (outbox), registers a `PendingRequest` (keyed by id) and queues the frame. The
 * queue is flushed in one `transport.send` per tick once connected. The reply with that id
 * completes the subscription; a deadline timer, an unsubscribe, a lost socket or `close()` ends it
 * otherwise. A request whose subscriber left after its frame was sent stays known as "abandoned"
 * until its reply arrives (handed to `spec.onLateReply`) or the socket drops.
 *
 * Reconnecting is promise-based (`p-retry`) and stays at this edge: nothing above sees a promise.
 */
import { Observable, ReplaySubject, Subject, type Unsubscribable } from 'rxjs';
import pRetry, { AbortError } from 'p-retry';
import {
  ClientClosedError,
  ConnectionError,
  ConnectionLostError,
  HEADER_SIZE,
  InvalidArgumentError,
  MAX_FRAME_PAYLOAD,
  ProtocolError,
  ResponseFrameDecoder,
  Status,
  TimeoutError,
  fromUtf8,
  serverErrorFor,
  utf8,
  type FrameCrc,
  type RequestFrame,
  type ResponseFrame,
} from '../protocol/index.js';
// Names the requests in messages: only the opcodes the client sends (see `client-opcodes.ts`).
import { clientOpcodeName as opcodeName } from '../protocol/client-opcodes.js';
import { Deadlines, MAX_TIMER_MS } from './deadlines.js';
import { Outbox, type EncodedFrame } from './outbox.js';
import { PendingRequest, PendingTable, type RequestOwner } from './pending.js';
import { defaultTracing, type ClientTracing, type ConnectTraceContext, type RequestTraceContext, type TraceChannel } from './tracing.js';
import type {
  ConnectionEvent,
  ConnectionInfo,
  ConnectionState,
  ReplySink,
  RequestChannel,
  RequestSpec,
  Transport,
  TransportFactory,
  TransportHandlers,
} from './types.js';

/** Backoff between connection attempts (passed to `p-retry`). */
export interface ReconnectOptions {
  /** Attempts after the first failed one before giving up. Default `Infinity`. */
  readonly retries?: number;
  /** Wait before the first retry. Default 100 ms. */
  readonly minTimeoutMs?: number;
  /** Cap on the wait between attempts. Default 5000 ms. */
  readonly maxTimeoutMs?: number;
  /** Growth of the wait per attempt. Default 2. */
  readonly factor?: number;
  /** Multiplies each wait by a random factor in [1, 2) (jitter), so clients do not reconnect in step. Default true. */
  readonly randomize?: boolean;
}

export type FrameDirection = 'out' | 'in';

export interface ConnectionOptions {
  /** Servers to try, in turn: each connection attempt takes the next one. At least one. */
  readonly endpoints: readonly string[];
  readonly transport: TransportFactory;
  /** Default per-request timeout; a request's deadline is this (or its own) plus its `blockMs`. Also bounds one connection attempt. Default 5000. */
  readonly timeoutMs?: number;
  /**
   * Backoff for (re)connecting, or `false`: then the first connection tries each endpoint once and a
   * lost connection is final (state `closed`). Default: the `ReconnectOptions` defaults.
   */
  readonly reconnect?: ReconnectOptions | false;
  /** Largest payload accepted in a reply and sent in a request. Default 100 MiB (Flo's limit). */
  readonly maxPayload?: number;
  /** Open the socket on first use (default) or at once (`false`). */
  readonly lazy?: boolean;
  /** Debug hook: sees every frame sent and received. Costs nothing when unset. */
  readonly onFrame?: (dir: FrameDirection, frame: RequestFrame | ResponseFrame) => void;
  /**
   * How many abandoned requests (subscriber gone, reply still due) are remembered for
   * `onLateReply`; beyond it the oldest are forgotten and their replies dropped. Default 65536.
   */
  readonly maxAbandoned?: number;
  /**
   * With reconnect on, `connect()` rejects with a `ConnectionError` (its `cause` the last attempt's
   * error) when not connected after this many ms, while attempts go on in the background. Default
   * 10 000. With `reconnect: false` it rejects once every endpoint failed.
   */
  readonly connectTimeoutMs?: number;
  /** Sees every connection event (attempts, failures, scheduled retries, drops). */
  readonly onEvent?: (event: ConnectionEvent) => void;
  /**
   * The diagnostics_channel TracingChannels to publish on, or `false` for none. Default: the
   * runtime's `flo-rx:request` / `flo-rx:connect` (none in browsers).
   */
  readonly tracing?: ClientTracing | false;
  /**
   * How reply frame CRCs are checked (same values as the pure one). Default: the protocol's pure
   * CRC; `flo-rx/node` passes Node's native `zlib.crc32` for large frames.
   *
   * @internal
   */
  readonly frameCrc?: FrameCrc | undefined;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_ABANDONED = 65536;
/** Where the flush microtask is queued from (see `start_`). */
const RESOLVED = Promise.resolve();

/** One opened transport; handlers compare links so that a stale socket's events are ignored. */
class Link {
  declare readonly endpoint: string;
  transport: Transport | undefined;
  closed = false;
  onClosed: (() => void) | undefined;
  constructor(endpoint: string) {
    this.endpoint = endpoint;
  }
}

/**
 * The connection's phase. `connecting`/`reconnecting` run one establish loop (`establish()`), and
 * hold the link it opened until `onEstablished` installs it (`close()` closes it meanwhile).
 *
 * ```
 * idle ──request/connect──▶ connecting ──opened──▶ connected ──socket lost──▶ reconnecting ──opened──▶ connected
 *                               │                      │                          │
 *                               └──gave up / close()───┴────close() / no reconnect┴──────▶ closed (final)
 * ```
 */
type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting' | 'reconnecting'; opening: Link | undefined }
  | { readonly kind: 'connected'; readonly link: Link; readonly transport: Transport; readonly decoder: ResponseFrameDecoder }
  | { readonly kind: 'closed'; readonly error: Error };

export class Connection implements RequestChannel {
  private declare readonly endpoints_: readonly string[];
  private declare readonly transportFactory_: TransportFactory;
  private declare readonly timeoutMs_: number;
  private declare readonly reconnect_: Required<ReconnectOptions> | false;
  private declare readonly maxPayload_: number;
  private declare readonly onFrame_: ConnectionOptions['onFrame'];
  private declare readonly onEvent_: ConnectionOptions['onEvent'];
  private declare readonly connectTimeoutMs_: number;
  private declare readonly frameCrc_: FrameCrc | undefined;
  private declare readonly requestTrace_: TraceChannel | undefined;
  private declare readonly connectTrace_: TraceChannel | undefined;

  private phase_: Phase = { kind: 'idle' };
  private readonly stateSubject_ = new ReplaySubject<ConnectionState>(1);
  private readonly reconnectedSubject_ = new Subject<void>();
  readonly state$: Observable<ConnectionState> = this.stateSubject_.asObservable();
  readonly reconnected$: Observable<void> = this.reconnectedSubject_.asObservable();
  private readonly infoSubject_ = new ReplaySubject<ConnectionInfo>(1);
  /** The state with the endpoint and the last error: replayed, then every change. */
  readonly info$: Observable<ConnectionInfo> = this.infoSubject_.asObservable();
  /** Endpoint of the current or last attempt. */
  private endpoint_: string | undefined;
  private lastError_: Error | undefined;
  private failedAttempts_ = 0;

  /** Ids are numbers (cheaper to route by than bigints); they would need 2^53 requests to run out. */
  private nextId_ = 1;
  private declare readonly pending_: PendingTable;
  private readonly outbox_ = new Outbox();
  private flushScheduled_ = false;
  private readonly flushBound_ = () => this.flush_();
  /**
   * Inside `onData_`: requests that the replies' subscribers start go out in one write when the
   * chunk is routed (`flushAfterRouting_`), not from a microtask: a lone request's next one then
   * leaves straight from the read callback.
   */
  private routing_ = false;
  private flushAfterRouting_ = false;
  private readonly reportOut_ = (frame: RequestFrame) => this.reportFrame_('out', frame);
  private readonly owner_: RequestOwner = { abandon: (entry, timedOut) => this.abandon_(entry, timedOut) };
  private readonly namespaces_ = new Map<string, Uint8Array>();
  private readonly deadlines_ = new Deadlines((item) => {
    const entry = item as PendingRequest;
    if (!entry.done) this.abandon_(entry, true);
  });

  /** Index into `endpoints` of the next attempt (the last good endpoint is tried first). */
  private cursor_ = 0;
  private everConnected_ = false;
  private readonly abort_ = new AbortController();
  private waiters_: Waiter[] = [];
  private closePromise_: Promise<void> | undefined;

  constructor(options: ConnectionOptions) {
    if (options.endpoints.length === 0) throw new TypeError('Connection needs at least one endpoint');
    this.endpoints_ = [...options.endpoints];
    this.transportFactory_ = options.transport;
    this.timeoutMs_ = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const r = options.reconnect;
    this.reconnect_ =
      r === false
        ? false
        : {
            retries: r?.retries ?? Infinity,
            minTimeoutMs: r?.minTimeoutMs ?? 100,
            maxTimeoutMs: r?.maxTimeoutMs ?? 5000,
            factor: r?.factor ?? 2,
            randomize: r?.randomize ?? true,
          };
    this.maxPayload_ = options.maxPayload ?? MAX_FRAME_PAYLOAD;
    this.pending_ = new PendingTable(options.maxAbandoned ?? DEFAULT_MAX_ABANDONED);
    this.onFrame_ = options.onFrame;
    this.onEvent_ = options.onEvent;
    this.connectTimeoutMs_ = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.frameCrc_ = options.frameCrc;
    const tracing = options.tracing === false ? undefined : (options.tracing ?? defaultTracing());
    this.requestTrace_ = tracing?.request;
    this.connectTrace_ = tracing?.connect;
    this.pending_.trace = this.requestTrace_;
    this.stateSubject_.next('idle');
    this.publishInfo_();
    if (options.lazy === false) this.connect().catch(() => undefined);
  }

  /** The current state (what `state$` last emitted). */
  get state(): ConnectionState {
    return this.phase_.kind;
  }

  /** The state with its endpoint and last error (what `info$` last emitted). */
  get info(): ConnectionInfo {
    return { state: this.phase_.kind, endpoint: this.endpoint_, failedAttempts: this.failedAttempts_, lastError: this.lastError_ };
  }

  /** Requests sent and not answered yet, plus those queued to be sent. */
  get pendingCount(): number {
    return this.pending_.size;
  }

  /**
   * Opens the connection now (it otherwise opens on first use). Resolves once connected. Rejects
   * with a `ConnectionError` (its `cause` the last attempt's error) after `connectTimeoutMs` while
   * attempts go on in the background; with `reconnect: false`, with `ConnectionLostError` once
   * every endpoint failed; with `ClientClosedError` after `close()`.
   */
  connect(): Promise<void> {
    const phase = this.phase_;
    if (phase.kind === 'connected') return Promise.resolve();
    if (phase.kind === 'closed') return Promise.reject(phase.error);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (this.reconnect_ !== false && this.connectTimeoutMs_ < Infinity) {
        waiter.timer = setTimeout(() => {
          const i = this.waiters_.indexOf(waiter);
          if (i >= 0) this.waiters_.splice(i, 1);
          reject(this.connectTimedOut_());
        }, Math.min(this.connectTimeoutMs_, MAX_TIMER_MS));
      }
      this.waiters_.push(waiter);
      if (phase.kind === 'idle') this.startEstablish_('connecting');
    });
  }

  private connectTimedOut_(): ConnectionError {
    const endpoint = this.endpoint_ ?? this.endpoints_[0];
    const why = this.lastError_ ? `: ${describeError(this.lastError_, endpoint)}` : '';
    return new ConnectionError(
      `flo: could not connect to ${endpoint} within ${this.connectTimeoutMs_} ms${why} (still retrying in the background)`,
      { cause: this.lastError_, endpoint },
    );
  }

  request(spec: RequestSpec): Observable<ResponseFrame> {
    return new Observable<ResponseFrame>((subscriber) => this.start_(spec, subscriber));
  }

  /** `request(spec).subscribe(sink)` without the Observable and its Subscriber (see `RequestChannel.submit`). */
  submit(spec: RequestSpec, sink: ReplySink): Unsubscribable | undefined {
    return this.start_(spec, sink);
  }

  /**
   * Fails every pending request with `ClientClosedError`, closes the socket and ends in state
   * `closed` (final: later requests fail at once). Resolves when the socket is closed.
   */
  close(): Promise<void> {
    if (this.closePromise_) return this.closePromise_;
    const err = new ClientClosedError('flo: client closed');
    this.abort_.abort(err);
    const phase = this.phase_;
    const link = phase.kind === 'connected' ? phase.link : undefined;
    const opening = phase.kind === 'connecting' || phase.kind === 'reconnecting' ? phase.opening : undefined;
    if (opening) opening.transport?.close();
    this.terminate_(err);
    this.closePromise_ =
      link && !link.closed
        ? new Promise<void>((resolve) => {
            link.onClosed = resolve;
            link.transport!.close();
          })
        : Promise.resolve();
    return this.closePromise_;
  }

  // ---- requests -------------------------------------------------------------------------------

  private start_(spec: RequestSpec, subscriber: ReplySink): Unsubscribable | undefined {
    const phase = this.phase_;
    if (phase.kind === 'closed') {
      subscriber.error(phase.error);
      return undefined;
    }
    const id = this.nextId_++;
    let frame: EncodedFrame;
    try {
      frame = this.outbox_.encode(id, spec.opcode, this.namespaceBytes_(spec.namespace), spec.body);
    } catch (err) {
      subscriber.error(
        new InvalidArgumentError(`flo: cannot encode ${opcodeName(spec.opcode)}: ${(err as Error).message}`, { cause: err }),
      );
      return undefined;
    }
    const { buf, start, end } = frame;
    if (end - start - HEADER_SIZE > this.maxPayload_) {
      subscriber.error(
        new InvalidArgumentError(
          `flo: ${opcodeName(spec.opcode)} request of ${end - start - HEADER_SIZE} bytes exceeds the limit of ${this.maxPayload_}`,
        ),
      );
      return undefined;
    }
    const deadlineMs = (spec.timeoutMs ?? this.timeoutMs_) + (spec.blockMs ?? 0);
    const entry = new PendingRequest(this.owner_, id, spec, subscriber, buf, start, end, deadlineMs);
    const trace = this.requestTrace_;
    if (trace !== undefined && trace.hasSubscribers) this.traceStart_(trace, entry, end - start);
    this.outbox_.commit(entry);
    this.pending_.add(entry);
    if (deadlineMs < Infinity) this.deadlines_.add(entry, Math.max(deadlineMs, 0));
    if (phase.kind === 'connected') {
      if (!this.flushScheduled_) {
        this.flushScheduled_ = true;
        // While a chunk of replies is routed, the requests their subscribers start are sent when
        // it is done (`onData_`). Otherwise a microtask rather than setImmediate: it adds no
        // event-loop turn of latency to a lone request and still coalesces everything issued in
        // the current job (a synchronous burst of subscriptions). A resolved promise's `then`
        // rather than `queueMicrotask`, which in Node makes an AsyncResource per call.
        if (this.routing_) this.flushAfterRouting_ = true;
        else RESOLVED.then(this.flushBound_);
      }
    } else if (phase.kind === 'idle') {
      this.startEstablish_('connecting');
    }
    if (entry.trace !== undefined) this.requestTrace_!.end.publish(entry.trace);
    return entry;
  }

  private traceStart_(trace: TraceChannel, entry: PendingRequest, bytesOut: number): void {
    const { spec } = entry;
    const key = spec.body.key;
    const ctx: RequestTraceContext = {
      operation: opcodeName(spec.opcode),
      opcode: spec.opcode,
      namespace: spec.namespace,
      key: key === undefined ? undefined : fromUtf8(key),
      requestId: entry.id,
      bytesOut,
    };
    if (this.phase_.kind === 'connected') ctx.endpoint = this.phase_.link.endpoint;
    entry.trace = ctx;
    trace.start.publish(ctx);
  }

  private namespaceBytes_(namespace: string): Uint8Array {
    let bytes = this.namespaces_.get(namespace);
    if (bytes === undefined) {
      if (this.namespaces_.size >= 256) this.namespaces_.clear();
      bytes = utf8(namespace);
      this.namespaces_.set(namespace, bytes);
    }
    return bytes;
  }

  /** Deadline passed (`timedOut`) or the subscriber unsubscribed. */
  private abandon_(entry: PendingRequest, timedOut: boolean): void {
    const subscriber = entry.finish();
    this.pending_.forget(entry);
    if (!entry.sent) {
      // Never left: it will not be sent at all.
      entry.frameBuf_ = undefined;
      this.outbox_.dropped();
    }
    if (timedOut) {
      const error = this.timeoutError_(entry);
      if (entry.trace !== undefined) traceFailed(this.requestTrace_!, entry.trace, error);
      subscriber?.error(error);
    } else if (entry.trace !== undefined) {
      entry.trace.cancelled = true;
      this.requestTrace_!.asyncEnd.publish(entry.trace);
    }
  }

  /** A request's TimeoutError; one never sent for want of a connection says why it was not. */
  private timeoutError_(entry: PendingRequest): TimeoutError {
    const what = `flo: ${opcodeName(entry.spec.opcode)} request timed out after ${entry.deadlineMs} ms`;
    if (entry.sent || this.phase_.kind === 'connected') return new TimeoutError(what);
    const endpoint = this.endpoint_ ?? this.endpoints_[0];
    const why = this.lastError_ ? describeError(this.lastError_, endpoint) : `still connecting to ${endpoint}`;
    return new TimeoutError(`${what}: not connected: ${why}`, { cause: this.lastError_ });
  }

  /** Sends every queued frame (see `Outbox.flush`); a failing send drops the socket. */
  private flush_(): void {
    this.flushScheduled_ = false;
    const phase = this.phase_;
    if (phase.kind !== 'connected') return;
    try {
      this.outbox_.flush(phase.transport, this.onFrame_ !== undefined ? this.reportOut_ : undefined);
    } catch (err) {
      this.dropLink_(phase.link, err as Error);
    }
  }

  // ---- replies --------------------------------------------------------------------------------

  private onData_(link: Link, chunk: Uint8Array): void {
    const phase = this.phase_;
    if (phase.kind !== 'connected' || phase.link !== link) return;
    let frames;
    try {
      frames = phase.decoder.push(chunk);
    } catch (err) {
      // Bad magic / version / size: the byte stream cannot be re-framed.
      this.dropLink_(link, err as Error);
      return;
    }
    // Nested only when a transport delivers from inside `send` (test fakes): the outermost call flushes.
    const outermost = !this.routing_;
    this.routing_ = true;
    try {
      for (let i = 0; i < frames.length; i++) {
        if (this.phase_ !== phase) return; // a reject frame (or a callback) dropped the link
        this.onReply_(link, frames[i]);
      }
    } finally {
      if (outermost) {
        this.routing_ = false;
        if (this.flushAfterRouting_) {
          this.flushAfterRouting_ = false;
          this.flush_();
        }
      }
    }
  }

  private onReply_(link: Link, frame: ResponseFrame & { readonly checksumOk: boolean }): void {
    if (this.onFrame_ !== undefined) this.reportFrame_('in', frame);
    // Our ids are below 2^53; a larger one read back as a number matches none of them.
    const id = Number(frame.requestId);
    const entry = this.pending_.take(id);
    if (entry === undefined) {
      if (id === 0) {
        if (frame.status !== Status.OK) this.onReject_(link, frame);
        return;
      }
      const late = this.pending_.takeLate_(id);
      if (late !== undefined) {
        const onLate = late.spec.onLateReply;
        if (onLate !== undefined && frame.checksumOk) {
          try {
            onLate(frame);
          } catch (err) {
            reportLater(err);
          }
        }
      }
      return;
    }
    const subscriber = entry.finish()!;
    const trace = entry.trace;
    if (!frame.checksumOk) {
      const error = new ProtocolError(`flo: reply to ${opcodeName(entry.spec.opcode)} request ${id} failed its checksum`);
      if (trace !== undefined) traceFailed(this.requestTrace_!, trace, error);
      subscriber.error(error);
      return;
    }
    if (trace !== undefined) {
      const channel = this.requestTrace_!;
      trace.status = frame.status;
      trace.bytesIn = frame.payload.length;
      if (frame.status !== Status.OK) {
        trace.error = serverErrorFor(frame.status, fromUtf8(frame.payload), entry.spec.opcode);
        channel.error.publish(trace);
      }
      channel.asyncStart.publish(trace);
      subscriber.next(frame);
      subscriber.complete();
      channel.asyncEnd.publish(trace);
      return;
    }
    subscriber.next(frame);
    subscriber.complete();
  }

  /** A reply with id 0: the server could not parse a frame of ours and is closing the connection. */
  private onReject_(link: Link, frame: ResponseFrame): void {
    const error = serverErrorFor(frame.status, fromUtf8(frame.payload));
    this.pending_.failSent_(error);
    this.dropLink_(link, error);
  }

  private reportFrame_(dir: FrameDirection, frame: RequestFrame | ResponseFrame): void {
    try {
      this.onFrame_!(dir, frame);
    } catch (err) {
      reportLater(err);
    }
  }

  // ---- connection lifecycle -------------------------------------------------------------------

  /** The one place the phase changes; emits `state$` and `info$` when the state does. */
  private enter_(phase: Phase): void {
    const was = this.phase_.kind;
    this.phase_ = phase;
    if (was !== phase.kind) {
      this.stateSubject_.next(phase.kind);
      this.publishInfo_();
    }
  }

  private publishInfo_(): void {
    this.infoSubject_.next(this.info);
  }

  private event_(event: ConnectionEvent): void {
    const onEvent = this.onEvent_;
    if (onEvent === undefined) return;
    try {
      onEvent(event);
    } catch (err) {
      reportLater(err);
    }
  }

  private startEstablish_(kind: 'connecting' | 'reconnecting'): void {
    this.enter_({ kind, opening: undefined });
    this.runEstablish_();
  }

  private runEstablish_(): void {
    this.establish_().then(
      (link) => this.onEstablished_(link),
      (err: unknown) => this.onEstablishFailed_(err as Error),
    );
  }

  /**
   * Tries the endpoints in turn (one per attempt) with exponential backoff and jitter. `p-retry`
   * runs the loop; the wait between attempts is ours (in `onFailedAttempt`, which p-retry awaits),
   * so that the `reconnect-scheduled` event can say how long it is.
   */
  private establish_(): Promise<Link> {
    let attemptNo = 0;
    const attempt = async (): Promise<Link> => {
      const endpoint = this.endpoints_[this.cursor_ % this.endpoints_.length];
      const n = ++attemptNo;
      this.endpoint_ = endpoint;
      this.event_({ type: 'connecting', endpoint, attempt: n });
      const trace = this.connectTrace_;
      const ctx: ConnectTraceContext | undefined = trace?.hasSubscribers ? { endpoint, attempt: n } : undefined;
      if (ctx) trace!.start.publish(ctx);
      try {
        const opening = this.open_(endpoint);
        if (ctx) trace!.end.publish(ctx);
        const link = await opening;
        if (ctx) {
          trace!.asyncStart.publish(ctx);
          trace!.asyncEnd.publish(ctx);
        }
        return link;
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        this.cursor_ = (this.cursor_ + 1) % this.endpoints_.length;
        if (ctx) traceFailed(trace!, ctx, err);
        if (this.abort_.signal.aborted) throw new AbortError(this.abort_.signal.reason as Error);
        this.failedAttempts_++;
        this.lastError_ = err;
        this.publishInfo_();
        this.event_({ type: 'connect-failed', endpoint, attempt: n, error: err });
        throw err;
      }
    };
    const r = this.reconnect_;
    const signal = this.abort_.signal;
    if (r === false) {
      return pRetry(attempt, { retries: this.endpoints_.length - 1, minTimeout: 0, signal });
    }
    return pRetry(attempt, {
      retries: r.retries,
      minTimeout: 0,
      randomize: false,
      signal,
      onFailedAttempt: ({ error, retriesLeft, retriesConsumed }) => {
        // p-retry gives up at once on a TypeError (a bad address): no wait, no event.
        if (retriesLeft <= 0 || signal.aborted || error instanceof TypeError) return undefined;
        const delayMs = backoffDelay(r, retriesConsumed);
        this.event_({ type: 'reconnect-scheduled', attempt: attemptNo + 1, delayMs, error });
        return sleep(delayMs, signal);
      },
    });
  }

  /** Opens one transport, bounded by the connection timeout. */
  private open_(endpoint: string): Promise<Link> {
    const link = new Link(endpoint);
    const handlers: TransportHandlers = {
      onData: (chunk) => this.onData_(link, chunk),
      onClose: (error) => this.onTransportClose_(link, error),
    };
    return new Promise<Link>((resolve, reject) => {
      let settled = false;
      const timer =
        this.timeoutMs_ < Infinity
          ? setTimeout(() => {
              settled = true;
              reject(new ConnectionLostError(`flo: connecting to ${endpoint} timed out after ${this.timeoutMs_} ms`));
            }, Math.min(this.timeoutMs_, MAX_TIMER_MS))
          : undefined;
      let opened: Promise<Transport>;
      try {
        opened = this.transportFactory_(endpoint, handlers);
      } catch (err) {
        opened = Promise.reject(err);
      }
      opened.then(
        (transport) => {
          link.transport = transport;
          if (settled || this.abort_.signal.aborted) {
            transport.close();
            if (!settled) reject(new AbortError('flo: client closed'));
            return;
          }
          settled = true;
          clearTimeout(timer);
          const phase = this.phase_;
          if (phase.kind === 'connecting' || phase.kind === 'reconnecting') phase.opening = link;
          resolve(link);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private onEstablished_(link: Link): void {
    const phase = this.phase_;
    if (phase.kind === 'closed') {
      link.transport!.close();
      return;
    }
    if (phase.kind === 'connecting' || phase.kind === 'reconnecting') phase.opening = undefined;
    if (link.closed) {
      // Closed between opening and now: try again.
      this.startEstablish_(this.everConnected_ ? 'reconnecting' : 'connecting');
      return;
    }
    const reconnected = this.everConnected_;
    this.everConnected_ = true;
    this.failedAttempts_ = 0;
    const connected: Phase = {
      kind: 'connected',
      link,
      transport: link.transport!,
      decoder: new ResponseFrameDecoder({ maxPayload: this.maxPayload_, frameCrc: this.frameCrc_ }),
    };
    this.enter_(connected);
    this.event_({ type: 'connected', endpoint: link.endpoint, reconnected });
    this.flush_(); // requests queued while (re)connecting
    if (this.phase_ !== connected) return;
    const waiters = this.waiters_;
    this.waiters_ = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve();
    }
    if (reconnected && this.phase_ === connected) this.reconnectedSubject_.next();
  }

  private onEstablishFailed_(err: Error): void {
    if (this.phase_.kind === 'closed') return; // closed meanwhile
    this.terminate_(
      new ConnectionLostError(`flo: could not connect to ${this.endpoints_.join(', ')}: ${err.message}`, {
        cause: err,
        endpoint: this.endpoint_,
      }),
    );
  }

  private onTransportClose_(link: Link, error: Error | undefined): void {
    link.closed = true;
    link.onClosed?.();
    const phase = this.phase_;
    if (phase.kind !== 'connected' || phase.link !== link) return;
    this.lost_(link, error);
  }

  /** Drops the current socket on our initiative (protocol violation, send failure). */
  private dropLink_(link: Link, cause: Error): void {
    const phase = this.phase_;
    if (phase.kind !== 'connected' || phase.link !== link) return;
    this.lost_(link, cause); // leaves the connected phase first, so the close below is ignored
    phase.transport.close();
  }

  /** The socket is gone: fail what was in flight, then reconnect (or give up). */
  private lost_(link: Link, cause: Error | undefined): void {
    const error = new ConnectionLostError(`flo: connection to ${link.endpoint} lost${cause ? `: ${cause.message}` : ''}`, {
      cause,
      endpoint: link.endpoint,
    });
    this.lastError_ = error;
    this.event_({ type: 'disconnected', endpoint: link.endpoint, error: cause });
    if (this.reconnect_ === false) {
      this.terminate_(error);
      return;
    }
    this.enter_({ kind: 'reconnecting', opening: undefined });
    this.pending_.failSent_(error);
    this.pending_.clearAbandoned_();
    // A subscriber may have closed the client meanwhile.
    if (this.phase_.kind === 'reconnecting') this.runEstablish_();
  }

  /** Final state: everything pending fails with `error`, and so will every later request. */
  private terminate_(error: Error): void {
    this.enter_({ kind: 'closed', error });
    this.outbox_.clear();
    this.pending_.clearAbandoned_();
    this.pending_.failAll_(error);
    this.deadlines_.clear();
    const waiters = this.waiters_;
    this.waiters_ = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.event_({ type: 'closed', error });
    this.stateSubject_.complete();
    this.reconnectedSubject_.complete();
    this.infoSubject_.complete();
  }
}

/** A `connect()` call waiting for the connection (bounded by `connectTimeoutMs`). */
interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** p-retry's backoff formula, with its jitter: the wait before retry number `retriesConsumed + 1`. */
function backoffDelay(r: Required<ReconnectOptions>, retriesConsumed: number): number {
  const random = r.randomize ? Math.random() + 1 : 1;
  return Math.min(Math.round(random * r.minTimeoutMs * r.factor ** retriesConsumed), r.maxTimeoutMs);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (ms <= 0) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.min(ms, MAX_TIMER_MS));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A socket error as a short phrase: `ECONNREFUSED 127.0.0.1:9`, naming the endpoint if the message does not. */
function describeError(err: Error, endpoint: string): string {
  const text = (err.message || err.name).replace(/^connect /, '');
  return text.includes(endpoint) ? text : `${text} (${endpoint})`;
}

/** Publishes a failure on a TracingChannel: error, then the end of the async part. */
function traceFailed(channel: TraceChannel, ctx: { error?: Error }, error: Error): void {
  ctx.error = error;
  channel.error.publish(ctx);
  channel.asyncStart.publish(ctx);
  channel.asyncEnd.publish(ctx);
}

/** Rethrows a user callback's error outside our call stack (as RxJS does for unhandled errors). */
function reportLater(err: unknown): void {
  setTimeout(() => {
    throw err;
  });
}
