/**
 * One multiplexed connection to a Flo server: request ids, reply routing, deadlines, write
 * coalescing, reconnect with backoff, and the connection state as an Observable.
 *
 * Life of a request: `request(spec)` returns a cold Observable; each subscription takes the next id,
 * encodes its frame, registers a `PendingRequest` (keyed by id) and queues the frame. The queue is
 * flushed in one `transport.send` per tick once a transport is open. The reply with that id
 * completes the subscription; a deadline timer, an unsubscribe, a lost socket or `close()` ends it
 * otherwise. A request whose subscriber left after its frame was sent stays known as "abandoned"
 * until its reply arrives (handed to `spec.onLateReply`) or the socket drops.
 *
 * Reconnecting is promise-based (`p-retry`) and stays at this edge: nothing above sees a promise.
 */
import { Observable, ReplaySubject, Subject, type Subscriber, type Unsubscribable } from 'rxjs';
import pRetry, { AbortError } from 'p-retry';
import {
  ClientClosedError,
  ConnectionLostError,
  HEADER_SIZE,
  InvalidArgumentError,
  MAX_FRAME_PAYLOAD,
  ProtocolError,
  ResponseFrameDecoder,
  Status,
  TimeoutError,
  concatBytes,
  encodeRequest,
  encodeRequestInto,
  fromUtf8,
  opcodeName,
  requestFrameSize,
  serverErrorFor,
  utf8,
  type RequestFrame,
  type ResponseFrame,
} from '../protocol/index.js';
import { Deadlines, type DeadlineItem, type DeadlineList } from './deadlines.js';
import type {
  ConnectionState,
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
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_ABANDONED = 65536;
/** setTimeout fires at once for delays above this. */
const MAX_TIMER_MS = 0x7fffffff;
/**
 * Request frames are encoded back to back into slabs of this size, so that a flush finds them
 * contiguous and sends one view without copying. A slab is never written again where a frame was
 * handed to the transport; a full one is simply left to the garbage collector.
 */
const SLAB_SIZE = 64 * 1024;
/** Larger frames get a buffer of their own. */
const SLAB_MAX_FRAME = 4096;

/** What a PendingRequest needs from its connection (keeps the connection's methods private). */
interface RequestOwner {
  abandon(entry: PendingRequest, timedOut: boolean): void;
}

/**
 * One subscription to `request(spec)`. It doubles as the subscription's teardown (`unsubscribe`)
 * and as its own node in the deadline list, so a request costs no closures or timers of its own.
 */
class PendingRequest implements Unsubscribable, DeadlineItem {
  /** The encoded frame is `frameBuf[frameStart, frameEnd)` until it is handed to the transport. */
  frameBuf: Uint8Array | undefined;
  frameStart: number;
  frameEnd: number;
  sent = false;
  /** Settled, timed out or unsubscribed: nothing more goes to the subscriber. */
  done = false;
  deadlinePrev: DeadlineItem | undefined = undefined;
  deadlineNext: DeadlineItem | undefined = undefined;
  deadlineList: DeadlineList | undefined = undefined;
  expiresAt = 0;

  constructor(
    readonly owner: RequestOwner,
    /** The request id (< 2^53: the wire carries it as u64). */
    readonly id: number,
    readonly spec: RequestSpec,
    public subscriber: Subscriber<ResponseFrame> | undefined,
    frameBuf: Uint8Array,
    frameStart: number,
    frameEnd: number,
    readonly deadlineMs: number,
  ) {
    this.frameBuf = frameBuf;
    this.frameStart = frameStart;
    this.frameEnd = frameEnd;
  }

  unsubscribe(): void {
    if (!this.done) this.owner.abandon(this, false);
  }
}

/** One opened transport; handlers compare links so that a stale socket's events are ignored. */
class Link {
  transport: Transport | undefined;
  closed = false;
  onClosed: (() => void) | undefined;
  constructor(readonly endpoint: string) {}
}

export class Connection implements RequestChannel {
  private readonly endpoints: readonly string[];
  private readonly transportFactory: TransportFactory;
  private readonly timeoutMs: number;
  private readonly reconnect: Required<ReconnectOptions> | false;
  private readonly maxPayload: number;
  private readonly maxAbandoned: number;
  private readonly onFrame: ConnectionOptions['onFrame'];

  private stateValue: ConnectionState = 'idle';
  private readonly stateSubject = new ReplaySubject<ConnectionState>(1);
  private readonly reconnectedSubject = new Subject<void>();
  readonly state$: Observable<ConnectionState> = this.stateSubject.asObservable();
  readonly reconnected$: Observable<void> = this.reconnectedSubject.asObservable();

  /** Ids are numbers (cheaper to route by than bigints); they would need 2^53 requests to run out. */
  private nextId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly abandoned = new Map<number, PendingRequest>();
  /** Where request frames are encoded (see SLAB_SIZE); `slabAt` is the first free byte. */
  private slab = new Uint8Array(0);
  private slabView = new DataView(this.slab.buffer);
  private slabAt = 0;
  private queue: PendingRequest[] = [];
  /** Entries in `queue` that were abandoned before being sent (skipped by flush). */
  private queueDead = 0;
  private flushScheduled = false;
  private readonly flushBound = () => this.flush();
  private readonly owner: RequestOwner = { abandon: (entry, timedOut) => this.abandon(entry, timedOut) };
  private readonly namespaces = new Map<string, Uint8Array>();
  private readonly deadlines = new Deadlines((item) => {
    const entry = item as PendingRequest;
    if (!entry.done) this.abandon(entry, true);
  });

  private link: Link | undefined;
  private transport: Transport | undefined;
  private decoder: ResponseFrameDecoder | undefined;
  /** Index into `endpoints` of the next attempt (the last good endpoint is tried first). */
  private cursor = 0;
  private establishing = false;
  private everConnected = false;
  /** The link a connection attempt opened and that is not installed yet (closed by `close()`). */
  private opening: Link | undefined;
  private readonly abort = new AbortController();
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  /** Set once the state is `closed`: every later request fails with it. */
  private terminalError: Error | undefined;
  private closePromise: Promise<void> | undefined;

  constructor(options: ConnectionOptions) {
    if (options.endpoints.length === 0) throw new TypeError('Connection needs at least one endpoint');
    this.endpoints = [...options.endpoints];
    this.transportFactory = options.transport;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const r = options.reconnect;
    this.reconnect =
      r === false
        ? false
        : {
            retries: r?.retries ?? Infinity,
            minTimeoutMs: r?.minTimeoutMs ?? 100,
            maxTimeoutMs: r?.maxTimeoutMs ?? 5000,
            factor: r?.factor ?? 2,
            randomize: r?.randomize ?? true,
          };
    this.maxPayload = options.maxPayload ?? MAX_FRAME_PAYLOAD;
    this.maxAbandoned = options.maxAbandoned ?? DEFAULT_MAX_ABANDONED;
    this.onFrame = options.onFrame;
    this.stateSubject.next('idle');
    if (options.lazy === false) this.connect().catch(() => undefined);
  }

  /** The current state (what `state$` last emitted). */
  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Requests sent and not answered yet, plus those queued to be sent. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Opens the connection now (it otherwise opens on first use). Resolves once connected; rejects
   * with `ConnectionLostError` if connecting gives up, `ClientClosedError` after `close()`.
   */
  connect(): Promise<void> {
    if (this.stateValue === 'connected') return Promise.resolve();
    if (this.terminalError) return Promise.reject(this.terminalError);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.stateValue === 'idle') this.startEstablish('connecting');
    });
  }

  request(spec: RequestSpec): Observable<ResponseFrame> {
    return new Observable<ResponseFrame>((subscriber) => this.start(spec, subscriber));
  }

  /**
   * Fails every pending request with `ClientClosedError`, closes the socket and ends in state
   * `closed` (final: later requests fail at once). Resolves when the socket is closed.
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    const err = new ClientClosedError('flo: client closed');
    this.abort.abort(err);
    const link = this.link;
    this.detach();
    const opening = this.opening;
    this.opening = undefined;
    if (opening && opening !== link) opening.transport?.close();
    this.terminate(err);
    this.closePromise =
      link && !link.closed
        ? new Promise<void>((resolve) => {
            link.onClosed = resolve;
            link.transport!.close();
          })
        : Promise.resolve();
    return this.closePromise;
  }

  // ---- requests -------------------------------------------------------------------------------

  private start(spec: RequestSpec, subscriber: Subscriber<ResponseFrame>): Unsubscribable | undefined {
    if (this.terminalError) {
      subscriber.error(this.terminalError);
      return undefined;
    }
    const id = this.nextId++;
    let buf: Uint8Array;
    let start: number;
    let end: number;
    try {
      const ns = this.namespaceBytes(spec.namespace);
      const size = requestFrameSize(ns, spec.body);
      if (size <= SLAB_MAX_FRAME) {
        if (!(size <= this.slab.length - this.slabAt)) {
          this.slab = new Uint8Array(SLAB_SIZE);
          this.slabView = new DataView(this.slab.buffer);
          this.slabAt = 0;
        }
        buf = this.slab;
        start = this.slabAt;
        end = encodeRequestInto(buf, this.slabView, start, id, spec.opcode, ns, spec.body);
      } else {
        buf = encodeRequest(BigInt(id), spec.opcode, ns, spec.body);
        start = 0;
        end = buf.length;
      }
    } catch (err) {
      subscriber.error(
        new InvalidArgumentError(`flo: cannot encode ${opcodeName(spec.opcode)}: ${(err as Error).message}`, { cause: err }),
      );
      return undefined;
    }
    if (end - start - HEADER_SIZE > this.maxPayload) {
      subscriber.error(
        new InvalidArgumentError(
          `flo: ${opcodeName(spec.opcode)} request of ${end - start - HEADER_SIZE} bytes exceeds the limit of ${this.maxPayload}`,
        ),
      );
      return undefined;
    }
    if (buf === this.slab) this.slabAt = end;
    const deadlineMs = (spec.timeoutMs ?? this.timeoutMs) + (spec.blockMs ?? 0);
    const entry = new PendingRequest(this.owner, id, spec, subscriber, buf, start, end, deadlineMs);
    this.pending.set(id, entry);
    this.queue.push(entry);
    if (deadlineMs < Infinity) this.deadlines.add(entry, Math.max(deadlineMs, 0));
    if (this.transport !== undefined) {
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // queueMicrotask rather than setImmediate: it exists in browsers too (this file is
        // universal), adds no event-loop turn of latency to a lone request, and still coalesces
        // everything issued in the current job - a synchronous burst of subscriptions, or all the
        // follow-up requests issued while one socket chunk full of replies is being routed.
        queueMicrotask(this.flushBound);
      }
    } else if (this.stateValue === 'idle') {
      this.startEstablish('connecting');
    }
    return entry;
  }

  private namespaceBytes(namespace: string): Uint8Array {
    let bytes = this.namespaces.get(namespace);
    if (bytes === undefined) {
      if (this.namespaces.size >= 256) this.namespaces.clear();
      bytes = utf8(namespace);
      this.namespaces.set(namespace, bytes);
    }
    return bytes;
  }

  /** Deadline passed (`timedOut`) or the subscriber unsubscribed. */
  private abandon(entry: PendingRequest, timedOut: boolean): void {
    entry.done = true;
    this.pending.delete(entry.id);
    if (entry.deadlineList !== undefined) entry.deadlineList.remove(entry);
    const subscriber = entry.subscriber;
    entry.subscriber = undefined;
    if (entry.sent) {
      // The reply is still due: remember the id so the reply is recognised as late.
      this.abandoned.set(entry.id, entry);
      if (this.abandoned.size > this.maxAbandoned) {
        const oldest = this.abandoned.keys().next().value;
        if (oldest !== undefined) this.abandoned.delete(oldest);
      }
    } else {
      // Never left: it will not be sent at all.
      entry.frameBuf = undefined;
      if (++this.queueDead > 1024 && this.queueDead * 2 > this.queue.length) {
        this.queue = this.queue.filter((e) => !e.done);
        this.queueDead = 0;
      }
    }
    if (timedOut && subscriber) {
      subscriber.error(
        new TimeoutError(`flo: ${opcodeName(entry.spec.opcode)} request timed out after ${entry.deadlineMs} ms`),
      );
    }
  }

  /**
   * Sends every queued frame in one `transport.send`. Frames encoded back to back (the usual case)
   * go out as one view of their slab, without copying; otherwise the contiguous runs go to
   * `transport.sendMany` if the transport has it, else are concatenated into one buffer.
   */
  private flush(): void {
    this.flushScheduled = false;
    const transport = this.transport;
    if (transport === undefined || this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    this.queueDead = 0;
    const onFrame = this.onFrame;
    let runs: Uint8Array[] | undefined;
    let runBuf: Uint8Array | undefined;
    let runStart = 0;
    let runEnd = 0;
    for (let i = 0; i < queue.length; i++) {
      const e = queue[i];
      if (e.done) continue;
      const buf = e.frameBuf!;
      e.sent = true;
      if (onFrame !== undefined) {
        this.reportFrame('out', {
          requestId: BigInt(e.id),
          opcode: e.spec.opcode,
          flags: 0,
          payload: buf.subarray(e.frameStart + HEADER_SIZE, e.frameEnd),
        });
      }
      e.frameBuf = undefined;
      if (buf === runBuf && e.frameStart === runEnd) {
        runEnd = e.frameEnd;
        continue;
      }
      if (runBuf !== undefined) (runs ??= []).push(runBuf.subarray(runStart, runEnd));
      runBuf = buf;
      runStart = e.frameStart;
      runEnd = e.frameEnd;
    }
    if (runBuf === undefined) return;
    const last = runStart === 0 && runEnd === runBuf.length ? runBuf : runBuf.subarray(runStart, runEnd);
    try {
      if (runs === undefined) {
        transport.send(last);
      } else {
        runs.push(last);
        if (transport.sendMany !== undefined) transport.sendMany(runs);
        else transport.send(concatBytes(runs));
      }
    } catch (err) {
      this.dropLink(this.link!, err as Error);
    }
  }

  // ---- replies --------------------------------------------------------------------------------

  private onData(link: Link, chunk: Uint8Array): void {
    if (link !== this.link) return;
    let frames;
    try {
      frames = this.decoder!.push(chunk);
    } catch (err) {
      // Bad magic / version / size: the byte stream cannot be re-framed.
      this.dropLink(link, err as Error);
      return;
    }
    for (let i = 0; i < frames.length; i++) {
      if (link !== this.link) return; // a reject frame (or a callback) dropped the link
      this.onReply(link, frames[i]);
    }
  }

  private onReply(link: Link, frame: ResponseFrame & { readonly checksumOk: boolean }): void {
    if (this.onFrame !== undefined) this.reportFrame('in', frame);
    // Our ids are below 2^53; a larger one read back as a number matches none of them.
    const id = Number(frame.requestId);
    const entry = this.pending.get(id);
    if (entry === undefined) {
      if (id === 0) {
        if (frame.status !== Status.OK) this.onReject(link, frame);
        return;
      }
      const late = this.abandoned.get(id);
      if (late !== undefined) {
        this.abandoned.delete(id);
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
    this.pending.delete(id);
    entry.done = true;
    if (entry.deadlineList !== undefined) entry.deadlineList.remove(entry);
    const subscriber = entry.subscriber!;
    entry.subscriber = undefined;
    if (!frame.checksumOk) {
      subscriber.error(new ProtocolError(`flo: reply to ${opcodeName(entry.spec.opcode)} request ${id} failed its checksum`));
      return;
    }
    subscriber.next(frame);
    subscriber.complete();
  }

  /** A reply with id 0: the server could not parse a frame of ours and is closing the connection. */
  private onReject(link: Link, frame: ResponseFrame): void {
    const error = serverErrorFor(frame.status, fromUtf8(frame.payload));
    this.failSent(error);
    this.dropLink(link, error);
  }

  private reportFrame(dir: FrameDirection, frame: RequestFrame | ResponseFrame): void {
    try {
      this.onFrame!(dir, frame);
    } catch (err) {
      reportLater(err);
    }
  }

  // ---- connection lifecycle -------------------------------------------------------------------

  private setState(state: ConnectionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.stateSubject.next(state);
  }

  private startEstablish(state: 'connecting' | 'reconnecting'): void {
    this.setState(state);
    if (this.establishing) return;
    this.establishing = true;
    this.establish().then(
      (link) => this.onEstablished(link),
      (err: unknown) => this.onEstablishFailed(err as Error),
    );
  }

  /** Tries the endpoints in turn (one per attempt) with exponential backoff and jitter. */
  private establish(): Promise<Link> {
    const attempt = async (): Promise<Link> => {
      const endpoint = this.endpoints[this.cursor % this.endpoints.length];
      try {
        return await this.open(endpoint);
      } catch (err) {
        this.cursor = (this.cursor + 1) % this.endpoints.length;
        if (this.abort.signal.aborted) throw new AbortError(this.abort.signal.reason as Error);
        throw err;
      }
    };
    const r = this.reconnect;
    const signal = this.abort.signal;
    if (r === false) {
      return pRetry(attempt, { retries: this.endpoints.length - 1, minTimeout: 0, signal });
    }
    return pRetry(attempt, {
      retries: r.retries,
      minTimeout: r.minTimeoutMs,
      maxTimeout: r.maxTimeoutMs,
      factor: r.factor,
      randomize: r.randomize,
      signal,
    });
  }

  /** Opens one transport, bounded by the connection timeout. */
  private open(endpoint: string): Promise<Link> {
    const link = new Link(endpoint);
    const handlers: TransportHandlers = {
      onData: (chunk) => this.onData(link, chunk),
      onClose: (error) => this.onTransportClose(link, error),
    };
    return new Promise<Link>((resolve, reject) => {
      let settled = false;
      const timer =
        this.timeoutMs < Infinity
          ? setTimeout(() => {
              settled = true;
              reject(new ConnectionLostError(`flo: connecting to ${endpoint} timed out after ${this.timeoutMs} ms`));
            }, Math.min(this.timeoutMs, MAX_TIMER_MS))
          : undefined;
      let opened: Promise<Transport>;
      try {
        opened = this.transportFactory(endpoint, handlers);
      } catch (err) {
        opened = Promise.reject(err);
      }
      opened.then(
        (transport) => {
          link.transport = transport;
          if (settled || this.abort.signal.aborted) {
            transport.close();
            if (!settled) reject(new AbortError('flo: client closed'));
            return;
          }
          settled = true;
          clearTimeout(timer);
          this.opening = link;
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

  private onEstablished(link: Link): void {
    this.establishing = false;
    if (this.opening === link) this.opening = undefined;
    if (this.terminalError) {
      link.transport!.close();
      return;
    }
    if (link.closed) {
      // Closed between opening and now: try again.
      this.startEstablish(this.everConnected ? 'reconnecting' : 'connecting');
      return;
    }
    this.link = link;
    this.transport = link.transport;
    this.decoder = new ResponseFrameDecoder({ maxPayload: this.maxPayload });
    const reconnected = this.everConnected;
    this.everConnected = true;
    this.flush(); // requests queued while (re)connecting
    if (this.link !== link) return;
    this.setState('connected');
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
    if (reconnected && this.link === link) this.reconnectedSubject.next();
  }

  private onEstablishFailed(err: Error): void {
    this.establishing = false;
    if (this.terminalError) return; // closed meanwhile
    this.terminate(
      new ConnectionLostError(`flo: could not connect to ${this.endpoints.join(', ')}: ${err.message}`, { cause: err }),
    );
  }

  private onTransportClose(link: Link, error: Error | undefined): void {
    link.closed = true;
    link.onClosed?.();
    if (link !== this.link) return;
    this.lost(link, error);
  }

  /** Drops the current socket on our initiative (protocol violation, send failure). */
  private dropLink(link: Link, cause: Error): void {
    if (link !== this.link) return;
    const transport = this.transport;
    this.detach();
    transport?.close();
    this.lost(link, cause);
  }

  private detach(): void {
    this.link = undefined;
    this.transport = undefined;
    this.decoder = undefined;
  }

  /** The socket is gone: fail what was in flight, then reconnect (or give up). */
  private lost(link: Link, cause: Error | undefined): void {
    this.detach();
    const error = new ConnectionLostError(
      `flo: connection to ${link.endpoint} lost${cause ? `: ${cause.message}` : ''}`,
      cause === undefined ? undefined : { cause },
    );
    if (this.terminalError) return;
    if (this.reconnect === false) {
      this.terminate(error);
      return;
    }
    this.setState('reconnecting');
    this.failSent(error);
    this.abandoned.clear();
    if (!this.terminalError && this.link === undefined) this.startEstablish('reconnecting');
  }

  /** Fails every request whose frame went out on the current socket. */
  private failSent(error: Error): void {
    for (const entry of this.pending.values()) {
      if (!entry.sent) continue;
      this.settleWithError(entry, error);
    }
  }

  private settleWithError(entry: PendingRequest, error: Error): void {
    this.pending.delete(entry.id);
    entry.done = true;
    entry.frameBuf = undefined;
    if (entry.deadlineList !== undefined) entry.deadlineList.remove(entry);
    const subscriber = entry.subscriber;
    entry.subscriber = undefined;
    subscriber?.error(error);
  }

  /** Final state: everything pending fails with `error`, and so will every later request. */
  private terminate(error: Error): void {
    this.terminalError = error;
    this.queue = [];
    this.queueDead = 0;
    this.abandoned.clear();
    for (const entry of this.pending.values()) this.settleWithError(entry, error);
    this.deadlines.clear();
    this.setState('closed');
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
    this.stateSubject.complete();
    this.reconnectedSubject.complete();
  }
}

/** Rethrows a user callback's error outside our call stack (as RxJS does for unhandled errors). */
function reportLater(err: unknown): void {
  setTimeout(() => {
    throw err;
  });
}
