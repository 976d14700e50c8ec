/**
 * One client connection, whatever carries it (TCP or WebSocket): frames in, replies out.
 *
 * - Requests are dispatched in arrival order and answered in completion order: a parked request
 *   never delays the ones behind it. Replies are encoded straight into the connection's output
 *   buffer (`ReplyOutbox`); those produced in the same turn of the event loop go out in one write
 *   (on setImmediate, or at once when the transport says the turn's last bytes came in).
 * - A frame that cannot be parsed (bad header, CRC mismatch, inconsistent sections) gets Flo's
 *   reject frame (id 0, status 3, `Invalid request`) after the replies already due, then the
 *   connection closes (flushing first). Nothing behind the bad frame is read.
 * - Every request's `signal` aborts when the connection closes or the server stops; replies of
 *   requests still parked then are dropped. When the peer half-closes (TCP FIN), replies already
 *   due are written before the connection closes.
 * - Memory stays bounded, checked per request: once the replies not yet taken by the peer (held
 *   for a commit, queued or unsent) pass the soft limit (`highWaterMark`), no further request is handled and reading
 *   pauses until they drain; past the hard limit (`hardLimit`, a reply burst from parked requests)
 *   the connection is closed with one log line, like NATS's slow-consumer cut-off. A partial frame
 *   must complete within `frameTimeoutMs`; with `idleTimeoutMs` a connection that sends nothing
 *   and has nothing in flight for that long is closed. A connection may hold at most `maxInFlight`
 *   parked requests: beyond that a request still runs (so a wake sent on the same connection still
 *   works), but one that would park has its signal aborted at once and, unless it still answers OK,
 *   is answered OVERLOADED.
 */
// Imported rather than the global: `globalThis.Buffer` is a lazy getter in Node, run on every read.
import { Buffer } from 'node:buffer';
import { setMaxListeners } from 'node:events';
import { decodeRequestBodyAt, encodeRejectFrame, HEADER_SIZE, Status, utf8, type RequestBody } from '../protocol/index.js';
import type { Answer, DispatchInput, Dispatcher } from './dispatcher.js';
import type { BatchClock } from './clock.js';
import type { CommitGate } from './storage/disk-storage.js';
import { FrameReader, type RequestFrameRef } from './framing.js';
import { ReplyOutbox } from './outbox.js';
import type { FrameTransport } from './transport.js';
import type { RequestAuthorizer } from './auth/jwt.js';

export interface ConnectionOptions {
  readonly id: number;
  readonly dispatcher: Dispatcher;
  readonly maxFramePayload?: number;
  /** Soft limit: stop handling requests and reading while this many reply bytes wait. Default 1 MiB. */
  readonly highWaterMark?: number;
  /** Hard limit: close the connection when this many reply bytes wait. Default 64 MiB. */
  readonly hardLimit?: number;
  /** A frame begun must be complete within this time, else the connection closes. Default 30 s; 0 = never. */
  readonly frameTimeoutMs?: number;
  /** Close a connection that sends nothing and has nothing in flight for this long. Default 0 = never. */
  readonly idleTimeoutMs?: number;
  /** Unanswered requests allowed per connection. Default 4096. */
  readonly maxInFlight?: number;
  readonly log?: (line: string) => void;
  /** With a data directory: replies wait until the changes made before them are committed. */
  readonly commitGate?: CommitGate;
  /** Decides each request before it runs: a reason refuses it with UNAUTHORIZED (authenticated WebSockets). */
  readonly authorize?: RequestAuthorizer;
  /** Decides each request before it runs: a reason refuses it with OVERLOADED (the memory limit). */
  readonly overloaded?: (opcode: number) => string | undefined;
  /** Called once when the connection is gone. */
  readonly onClose?: (conn: ServerConnection) => void;
  /** Pinned while the requests of one chunk are handled: they share one clock read (`BatchClock`). */
  readonly batchClock?: Pick<BatchClock, 'pin' | 'unpin'>;
}

type State = 'open' | 'closing' | 'closed';

const DEFAULT_HIGH_WATER = 1024 * 1024;
/** Default hard limit on reply bytes waiting for one connection. */
export const DEFAULT_HARD_LIMIT = 64 * 1024 * 1024;
/** Default time a begun frame has to complete. */
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_IN_FLIGHT = 4096;
/** Flo's reject frame, encoded once. */
const REJECT_FRAME = encodeRejectFrame();

/** A request as the dispatcher sees it; its 64-bit id is read from the frame only if asked for. */
class IncomingRequest implements DispatchInput {
  constructor(
    private readonly frame: RequestFrameRef,
    readonly opcode: number,
    readonly body: RequestBody,
    readonly signal: AbortSignal,
    readonly connectionId: number,
  ) {}

  get requestId(): bigint {
    return this.frame.requestId;
  }
}

export class ServerConnection {
  readonly id: number;
  private state: State = 'open';
  private readonly abort = new AbortController();
  private readonly reader: FrameReader;
  private readonly dispatcher: Dispatcher;
  private readonly highWaterMark: number;
  private readonly maxInFlight: number;
  private readonly log: (line: string) => void;
  private readonly hardLimit: number;
  private readonly frameTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  /** Replies encoded and not yet handed to the transport. */
  private readonly outbox = new ReplyOutbox();
  /** Replies waiting until the changes before them are durable (servers with a data directory). */
  private held = 0;
  /** Payload bytes of the held replies (they count against the flow-control limits too). */
  private heldBytes = 0;
  private releaseScheduled = false;
  private endPending = false;
  /** Frames received but not handled yet (the soft limit was reached while handling their chunk). */
  private backlog: RequestFrameRef[] = [];
  private backlogAt = 0;
  /** Set once the byte stream proved unparseable; answered after the backlog. */
  private readError: Error | undefined;
  private frameTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  private flushScheduled = false;
  /** Inside `receive` of a turn's last chunk: replies queued meanwhile are written at its end. */
  private receiving = false;
  private inFlight = 0;
  private paused = false;
  /**
   * The namespace of the last request, copied out of the bytes read (so it pins no read buffer):
   * requests that repeat it get this array as their namespace instead of a new view each.
   */
  private lastNamespace: Uint8Array | undefined;
  /**
   * While a batch of frames is handled, when the previous one's answer was ready (the dispatcher's
   * `lastAnsweredAt`): the next request's start for the metrics. Undefined at a batch's start.
   */
  private answeredAt: number | undefined;
  private resolveClosed!: () => void;
  /** Settles once the transport is gone. */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(
    readonly transport: FrameTransport,
    private readonly options: ConnectionOptions,
  ) {
    this.id = options.id;
    this.dispatcher = options.dispatcher;
    this.reader = new FrameReader(options.maxFramePayload);
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.hardLimit = options.hardLimit ?? DEFAULT_HARD_LIMIT;
    this.frameTimeoutMs = options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.log = options.log ?? (() => {});
    // Every parked request listens on this one signal.
    setMaxListeners(0, this.abort.signal);
  }

  get protocol() {
    return this.transport.protocol;
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Requests dispatched and not yet answered. */
  get pending(): number {
    return this.inFlight;
  }

  /** Reply bytes held for a commit, queued or unsent (not yet taken by the peer). */
  get bufferedOut(): number {
    return this.heldBytes + this.outbox.pendingBytes + this.transport.bufferedBytes;
  }

  /** Bytes received and not yet handled: a partial frame plus frames held back by flow control. */
  get bufferedIn(): number {
    let n = this.reader.buffered;
    for (let i = this.backlogAt; i < this.backlog.length; i++) n += this.backlog[i].end - this.backlog[i].at;
    return n;
  }

  /** Aborted when the connection closes or the server stops. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Wires the transport up; `initial` holds bytes already read while sniffing the protocol. */
  start(initial?: Uint8Array): void {
    this.transport.start({
      data: (bytes, lastOfTurn) => this.safeReceive(bytes, lastOfTurn),
      drain: () => this.guarded(() => this.onDrain()),
      end: () => this.onPeerEnd(),
      close: () => this.onTransportClosed(),
    });
    if (initial && initial.length > 0) this.safeReceive(initial);
    if (this.state === 'open' && !this.paused) this.transport.resumeReading();
    if (this.idleTimeoutMs > 0) this.armIdle(this.idleTimeoutMs);
  }

  /**
   * Feeds bytes from the peer. `lastOfTurn`: the transport knows no more bytes come for this
   * connection in this turn of the event loop (a TCP read that did not fill its buffer), so the
   * replies produced now are the turn's and go out at once, without waiting for setImmediate.
   */
  receive(bytes: Uint8Array, lastOfTurn = false): void {
    if (this.state !== 'open') return;
    // Only the idle timeout reads it: no clock read per chunk without one.
    if (this.idleTimeoutMs > 0) this.lastActivity = Date.now();
    // The frames and their sections are views into the chunk. A socket's chunk is a Buffer, whose
    // `subarray` builds each view through Buffer's own constructor (~0.1 µs per request for the
    // five or six views a request takes); a plain Uint8Array over the same bytes makes them cheap.
    const { frames, error } = this.reader.push(bytes instanceof Buffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes);
    if (error) this.readError = error;
    if (frames.length > 0) {
      if (this.backlogAt < this.backlog.length) this.backlog.push(...frames);
      else {
        this.backlog = frames;
        this.backlogAt = 0;
      }
    }
    this.receiving = lastOfTurn;
    const clock = this.options.batchClock;
    clock?.pin();
    try {
      this.handleBacklog();
    } finally {
      this.receiving = false;
      clock?.unpin();
    }
    // The turn's replies so far go out now, in one write: waiting for setImmediate would only add
    // an event-loop phase (and an Immediate) to every lone request's round trip.
    if (lastOfTurn && this.state === 'open' && this.outbox.pendingBytes > 0) this.flush();
    this.watchPartialFrame();
  }

  /** Handles held frames one by one while the replies waiting stay under the soft limit. */
  private handleBacklog(): void {
    this.answeredAt = undefined;
    while (this.state === 'open' && this.backlogAt < this.backlog.length) {
      if (this.bufferedOut > this.highWaterMark) {
        this.pause();
        return;
      }
      const frame = this.backlog[this.backlogAt++];
      if (!this.handleFrame(frame)) return;
    }
    this.backlog = [];
    this.backlogAt = 0;
    if (this.readError && this.state === 'open') this.reject(this.readError.message);
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.transport.pauseReading();
    this.watchPartialFrame();
  }

  /** A begun frame must complete in time (not counted while we ourselves stopped reading). */
  private watchPartialFrame(): void {
    const waiting = this.state === 'open' && !this.paused && this.reader.buffered > 0 && this.frameTimeoutMs > 0;
    if (!waiting) {
      if (this.frameTimer) clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
      return;
    }
    if (this.frameTimer) return;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      if (this.state !== 'open' || this.paused || this.reader.buffered === 0) return;
      this.close(`frame not complete after ${this.frameTimeoutMs} ms (${this.reader.buffered} bytes received)`);
    }, this.frameTimeoutMs);
    this.frameTimer.unref();
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.state !== 'open') return;
      const quiet = Date.now() - this.lastActivity;
      if (this.inFlight > 0 || quiet < this.idleTimeoutMs) {
        this.armIdle(Math.max(1, this.idleTimeoutMs - (this.inFlight > 0 ? 0 : quiet)));
        return;
      }
      this.close(`idle for ${this.idleTimeoutMs} ms`);
    }, ms);
    this.idleTimer.unref();
  }

  /** Ends the connection for a server-side reason (one log line); unsent replies are dropped. */
  private close(reason: string): void {
    if (this.state !== 'open') return;
    this.log(`conn #${this.id} ${this.protocol} ${this.remoteAddress}: ${reason}, closing`);
    this.state = 'closing';
    this.abort.abort(new Error(reason));
    this.outbox.discard();
    this.transport.destroy();
  }

  /** `receive` guarded as `guarded` does, without a closure per chunk. */
  private safeReceive(bytes: Uint8Array, lastOfTurn?: boolean): void {
    try {
      this.receive(bytes, lastOfTurn);
    } catch (err) {
      this.failInternally(err);
    }
  }

  /**
   * Runs work that reaches the request path from outside `receive` (a socket drain, the turn's
   * flush, a commit's release: each may handle the backlog): a bug there must cost one
   * connection, never the server.
   */
  private guarded(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.failInternally(err);
    }
  }

  private failInternally(err: unknown): void {
    this.log(`conn #${this.id} ${this.protocol} ${this.remoteAddress}: internal error: ${(err as Error)?.stack ?? String(err)}`);
    this.state = 'closing';
    this.abort.abort(err);
    this.transport.destroy();
  }

  /** Server shutdown: aborts parked requests and closes the transport. */
  shutdown(): void {
    if (this.state === 'closed') return;
    this.abort.abort(new Error('server stopping'));
    if (this.state === 'open') {
      this.state = 'closing';
      this.flush();
      this.endAfterHeld('shutdown');
    }
  }

  /** Returns false when the frame was rejected (and the connection is closing). */
  private handleFrame(frame: RequestFrameRef): boolean {
    if (!frame.checksumOk) {
      this.reject(`checksum mismatch on request ${frame.requestId}`);
      return false;
    }
    let body: RequestBody;
    try {
      // Views into the bytes read (`Buffer#slice` never copied them either): a store copies what it
      // keeps beyond the request, so that it does not pin the socket's read buffer.
      body = decodeRequestBodyAt(frame.bytes, frame.at + HEADER_SIZE, frame.end, this.lastNamespace);
    } catch (err) {
      this.reject(`request ${frame.requestId}: ${(err as Error).message}`);
      return false;
    }
    if (body.namespace !== this.lastNamespace) this.lastNamespace = body.namespace.slice();
    const opcode = frame.opcode;
    const refusal = this.options.authorize?.(opcode, body);
    if (refusal !== undefined) {
      this.dispatcher.refused(opcode, Status.Unauthorized);
      this.queue(frame.idLow, frame.idHigh, { status: Status.Unauthorized, payload: utf8(refusal) });
      return true;
    }
    const full = this.options.overloaded?.(opcode);
    if (full !== undefined) {
      this.dispatcher.refused(opcode, Status.Overloaded);
      this.queue(frame.idLow, frame.idHigh, { status: Status.Overloaded, payload: utf8(full) });
      return true;
    }
    // At the in-flight limit a request still runs, but may not park: it gets its own signal, aborted
    // as soon as it turns out to be asynchronous. An OK answer (work done, items leased) still goes
    // out; a failure (typically the cut-short wait) is reported as OVERLOADED so the client backs off.
    const overLimit = this.inFlight >= this.maxInFlight ? new AbortController() : undefined;
    const request = new IncomingRequest(frame, opcode, body, overLimit?.signal ?? this.abort.signal, this.id);
    const answer = this.dispatcher.dispatch(request, this.answeredAt);
    if (answer instanceof Promise) {
      this.answeredAt = undefined;
      this.inFlight++;
      overLimit?.abort(new Error('too many requests in flight'));
      const idLow = frame.idLow;
      const idHigh = frame.idHigh;
      void answer.then((a) => {
        this.inFlight--;
        if (this.idleTimeoutMs > 0) this.lastActivity = Date.now();
        // A connection that closed meanwhile drops the reply.
        if (this.state !== 'open') return;
        this.queue(idLow, idHigh, overLimit && a.status !== Status.OK ? this.overloaded() : a);
      });
    } else {
      this.answeredAt = this.dispatcher.lastAnsweredAt;
      this.queue(frame.idLow, frame.idHigh, answer);
    }
    return true;
  }

  private overloaded(): Answer {
    return {
      status: Status.Overloaded,
      payload: utf8(`too many requests in flight on this connection (max ${this.maxInFlight})`),
    };
  }

  /** Queues the reply to the request whose id's u32 halves are `idLow`, `idHigh`. */
  private queue(idLow: number, idHigh: number, answer: Answer): void {
    const gate = this.options.commitGate;
    if (gate?.pending) {
      // Nothing leaves before the changes it may reveal are in the log (group commit).
      const size = answer.payload.byteLength;
      this.held++;
      this.heldBytes += size;
      gate.afterCommit((error) =>
        this.release(idLow, idHigh, error ? { status: Status.Unavailable, payload: utf8(error.message) } : answer, size),
      );
      return;
    }
    if (!this.push(idLow, idHigh, answer)) return;
    // While the turn's last chunk is being handled, `receive` writes the replies when it is done.
    if (!this.flushScheduled && !this.receiving) {
      this.flushScheduled = true;
      setImmediate(this.flushTurn);
    }
  }

  /** The end of the turn: the replies it produced go out in one write. */
  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    if (this.state === 'open') this.guarded(() => this.flush());
  };

  /** Ends the transport once replies waiting for a commit are out. */
  private endAfterHeld(reason: 'shutdown'): void {
    if (this.held === 0) this.transport.end(reason);
    else this.endPending = true;
  }

  /** Encodes a reply into the outbox; past the hard limit the connection is closed instead (returns false). */
  private push(idLow: number, idHigh: number, answer: Answer): boolean {
    this.outbox.appendReply(idLow, idHigh, answer.status, answer.payload);
    if (this.state === 'open' && this.bufferedOut > this.hardLimit) {
      this.close(`slow consumer: ${this.bufferedOut} reply bytes not taken (hard limit ${this.hardLimit})`);
      return false;
    }
    return true;
  }

  /** A held reply is durable (or its commit failed: then the error goes instead); flushed with the others released now. */
  private release(idLow: number, idHigh: number, answer: Answer, heldSize: number): void {
    this.held--;
    this.heldBytes -= heldSize;
    if (this.state === 'closed' || (this.state === 'closing' && !this.endPending)) return;
    if (!this.push(idLow, idHigh, answer)) return;
    if (this.releaseScheduled) return;
    this.releaseScheduled = true;
    queueMicrotask(() => {
      this.releaseScheduled = false;
      if (this.state === 'closed') return;
      this.guarded(() => this.flush());
      if (this.endPending && this.held === 0) {
        this.endPending = false;
        this.transport.end('shutdown');
      }
    });
  }

  private flush(): void {
    const bytes = this.outbox.take();
    if (bytes === undefined) return;
    this.transport.send(bytes);
    const buffered = this.transport.bufferedBytes;
    // The kernel took every byte: the outbox may write over them again.
    if (buffered === 0) this.outbox.recycle();
    if (buffered > this.highWaterMark) this.pause();
    else if (this.paused) this.onDrain(); // the kernel took it all: no 'drain' event will come
  }

  private onDrain(): void {
    if (this.transport.bufferedBytes === 0) this.outbox.recycle();
    if (!this.paused || this.state !== 'open' || this.bufferedOut > this.highWaterMark) return;
    this.paused = false;
    this.handleBacklog();
    if (this.paused || this.state !== 'open') return;
    this.transport.resumeReading();
    this.watchPartialFrame();
  }

  private reject(reason: string): void {
    if (this.state !== 'open') return;
    this.log(`conn #${this.id} ${this.protocol} ${this.remoteAddress}: rejected frame (${reason}), closing`);
    this.state = 'closing';
    this.abort.abort(new Error('connection closing'));
    this.outbox.appendFrame(REJECT_FRAME);
    this.flush();
    this.transport.end('reject');
  }

  /**
   * The peer sent everything it will send. Replies already due go out; requests still parked are
   * abandoned (as Flo closes a connection on EOF); then the connection closes.
   */
  private onPeerEnd(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.abort.abort(new Error('peer closed'));
    this.flush();
    this.endAfterHeld('shutdown');
  }

  private onTransportClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.frameTimer) clearTimeout(this.frameTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.outbox.discard();
    this.backlog = [];
    this.abort.abort(new Error('connection closed'));
    this.options.onClose?.(this);
    this.resolveClosed();
  }
}
